"""Issue 17, measured through the CLI: every bad input and fault is one ``error:`` line, the right
exit code, no traceback, nothing stored changed, and every network fault within the deadline.

Each row runs ``python -m kfops`` in a subprocess. Rows that fail before the first task
need no pipeline run; the few that need a task (data problems) fail in ``ingest``.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_kfops, tree_digest

#: Network deadline the fault rows run with (seconds); a failure must come within it + 10 s.
DEADLINE = 3
SECRET = "kfops-SECRET-4f9c2b7e"


@pytest.fixture(scope="module")
def silent_server() -> Iterator[str]:
    """``host:port`` of a TCP server that accepts every connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


def _rows(n: int = 40) -> str:
    return "".join(f"{i},{(i * 7) % 5},{i % 2}\n" for i in range(n))


def _write(path: Path, data: str | bytes) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def _schedules(tmp: Path, **fields: object) -> str:
    entry = {"name": "nightly", "pipeline": "training", "cron": "0 0 3 * * *", **fields}
    return _write(tmp / "schedules.yaml", yaml.safe_dump({"schedules": [entry]}))


Args = Callable[[Path, Path], list[str]]

#: case -> (arguments given (tmp dir, store), text the one error line contains).
#: Every example of issue 17, plus the families around them. None of them runs a task.
UP_FRONT: dict[str, tuple[Args, str]] = {
    # --- pipeline parameters (kfops run) ---
    "test_size=nan": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "test_size=nan"],
        "finite",
    ),
    "test_size=inf": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "test_size=inf"],
        "finite",
    ),
    "test_size=1": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "test_size=1"],
        "test_size must be between 0 and 1",
    ),
    "seed=-1": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "seed=-1"],
        "seed must be in 0..",
    ),
    "seed too large": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "seed=99999999999"],
        "seed must be in 0..",
    ),
    "model name with a trailing newline": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "model_name=abc\n"],
        "invalid model name 'abc\\n'",
    ),
    "model name with capitals": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "model_name=ABC"],
        "invalid model name 'ABC'",
    ),
    "mistyped parameter sotre": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "sotre=x"],
        "unknown parameter 'sotre'",
    ),
    "stratify=maybe": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "stratify=maybe"],
        "expected true or false",
    ),
    "champion_rules tolerance 1.5": (
        lambda t, s: [
            "run",
            "training",
            "--store",
            str(s),
            "--param",
            'champion_rules=[{"metric": "accuracy", "tolerance": 1.5}]',
        ],
        "tolerance must be >= 0 and < 1 for accuracy",
    ),
    "champion_rules not JSON": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "champion_rules={"],
        "champion rules are not JSON",
    ),
    "unsupported source scheme": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "source=ftp://host/x.csv"],
        "unsupported data source scheme 'ftp'",
    ),
    "empty label column": (
        lambda t, s: ["run", "training", "--store", str(s), "--param", "label_column= "],
        "label_column must name a column",
    ),
    "monitoring kfp_host not a URL": (
        lambda t, s: ["run", "monitoring", "--store", str(s), "--param", "kfp_host=not a url"],
        "kfp_host: 'not a url' is not an http(s) URL",
    ),
    "monitoring training_parameters with an unknown key": (
        lambda t, s: ["run", "monitoring", "--store", str(s), "--param", 'training_parameters={"sotre": 1}'],
        "training_parameters: unknown parameter 'sotre'",
    ),
    "monitoring training_parameters with a string boolean": (
        lambda t, s: [
            "run",
            "monitoring",
            "--store",
            str(s),
            "--param",
            'training_parameters={"stratify": "false"}',
        ],
        "stratify: expected true or false (a boolean)",
    ),
    "monitoring windows_below > window_count": (
        lambda t, s: ["run", "monitoring", "--store", str(s), "--param", "windows_below=5"],
        "need 1 <= windows_below <= window_count",
    ),
    "monitoring threshold nan": (
        lambda t, s: ["run", "monitoring", "--store", str(s), "--param", "threshold=nan"],
        "finite",
    ),
    "inference model version with a path": (
        lambda t, s: ["run", "inference", "--store", str(s), "--param", "model=abc:../x"],
        "invalid model version '../x'",
    ),
    # --- the gate and baselines ---
    "gate --config DIR": (
        lambda t, s: ["gate", "--candidate", "x.csv", "--config", str(t)],
        "is a directory",
    ),
    "gate tolerance = 1.5": (
        lambda t, s: [
            "gate",
            "--candidate",
            "x.csv",
            "--config",
            _write(t / "gate.toml", "[metrics.accuracy]\ntolerance = 1.5\n"),
        ],
        "tolerance must be >= 0 and < 1 for accuracy",
    ),
    "gate tolerance = nan": (
        lambda t, s: [
            "gate",
            "--candidate",
            "x.csv",
            "--config",
            _write(t / "gate.toml", "[metrics.log_loss]\ngate = true\ntolerance = nan\n"),
        ],
        "tolerance must be finite",
    ),
    "gate --report-dir on an existing file": (
        lambda t, s: ["gate", "--candidate", "x.csv", "--report-dir", _write(t / "file", "x")],
        "exists and is not a directory",
    ),
    "gate with NaN predictions": (
        lambda t, s: [
            "gate",
            "--report-dir",
            str(t / "r"),
            "--candidate",
            _write(t / "c.csv", "y_true,y_pred\n0,0\n1,\n1,1\n0,0\n"),
            "--baseline",
            _write(t / "b.csv", "y_true,y_pred\n0,0\n1,1\n1,1\n0,0\n"),
        ],
        "y_pred has 1 missing value(s)",
    ),
    "gate with NaN scores": (
        lambda t, s: [
            "gate",
            "--report-dir",
            str(t / "r"),
            "--candidate",
            _write(t / "c.csv", "y_true,y_pred,score_0,score_1\n0,0,nan,0.1\n1,1,0.1,0.9\n"),
            "--baseline",
            _write(t / "b.csv", "y_true,y_pred,score_0,score_1\n0,0,0.9,0.1\n1,1,0.1,0.9\n"),
        ],
        "score columns must be probabilities",
    ),
    "gate with a mistyped --baseline-store": (
        lambda t, s: [
            "gate",
            "--report-dir",
            str(t / "r"),
            "--baseline-store",
            str(t / "no-such-store"),
            "--candidate",
            next(str(p) for p in (s / "metrics/training/evaluations").iterdir()),
        ],
        "does not exist",
    ),
    "baseline promote --from-report a JSON list": (
        lambda t, s: [
            "baseline",
            "promote",
            "--store",
            str(s),
            "--from-report",
            _write(t / "g.json", "[1, 2]"),
        ],
        "is not a report of `kfops gate`",
    ),
    "baseline promote --from-report gzip bytes": (
        lambda t, s: [
            "baseline",
            "promote",
            "--store",
            str(s),
            "--from-report",
            _write(t / "g.json", gzip.compress(b"{}")),
        ],
        "is not JSON",
    ),
    "baseline show on a missing store": (
        lambda t, s: ["baseline", "show", "--store", str(t / "nope")],
        "does not exist",
    ),
    "metrics list on a missing store": (
        lambda t, s: ["metrics", "list", "--store", str(t / "nope")],
        "does not exist",
    ),
    # --- schedules (plan checks them as deploy does) ---
    "plan --schedules with a YAML error": (
        lambda t, s: ["plan", "--schedules", _write(t / "s.yaml", "schedules:\n  - name: [x\n")],
        "is not valid YAML",
    ),
    "schedule cron 'a b c d e f'": (
        lambda t, s: ["plan", "--schedules", _schedules(t, cron="a b c d e f")],
        "is not a valid cron expression",
    ),
    "schedule cron with five fields": (
        lambda t, s: ["plan", "--schedules", _schedules(t, cron="0 3 * * *")],
        "must have 6 fields",
    ),
    "schedule enabled: 'false'": (
        lambda t, s: ["plan", "--schedules", _schedules(t, enabled="false")],
        "enabled must be true or false (a boolean)",
    ),
    "schedule max_concurrency: -5": (
        lambda t, s: ["plan", "--schedules", _schedules(t, max_concurrency=-5)],
        "max_concurrency must be an integer from 1 to 10",
    ),
    "schedule max_concurrency: 'abc'": (
        lambda t, s: ["plan", "--schedules", _schedules(t, max_concurrency="abc")],
        "max_concurrency must be an integer from 1 to 10",
    ),
    "schedule parameter sotre": (
        lambda t, s: ["plan", "--schedules", _schedules(t, parameters={"sotre": "s3://b"})],
        "unknown parameter 'sotre' of pipeline 'training'",
    ),
    "schedule parameter of the wrong type": (
        lambda t, s: ["plan", "--schedules", _schedules(t, parameters={"seed": "7"})],
        "seed: expected an integer",
    ),
    "schedule name with a trailing newline": (
        lambda t, s: ["plan", "--schedules", _schedules(t, name="nightly\n")],
        "name 'nightly\\n' must be",
    ),
    # --- files and environment ---
    "data synth --output under a file": (
        lambda t, s: [
            "data",
            "synth",
            "--rows",
            "100",
            "--output",
            str(Path(_write(t / "f", "x")) / "d.csv"),
        ],
        "is a file, not a directory",
    ),
    "data synth --seed -1": (
        lambda t, s: ["data", "synth", "--rows", "100", "--seed", "-1", "--output", str(t / "d.csv")],
        "--seed must be >= 0",
    ),
    "deploy --host 'not a url'": (
        lambda t, s: ["deploy", "--host", "not a url", "--token-file", _write(t / "tok", "abc"), "--dry-run"],
        "is not an http(s) URL",
    ),
}


def _check_one_error_line(result: object, expected: str) -> str:
    output = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in output, output
    assert "\x1b[" not in output, "colour codes on a non-TTY"
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr  # type: ignore[attr-defined]
    assert expected in errors[0], errors[0]
    assert "np.int64" not in errors[0] and "np.float64" not in errors[0]
    return errors[0]


@pytest.mark.parametrize("case", sorted(UP_FRONT))
def test_bad_input_before_any_work_is_one_line_exit_2(
    case: str, champion_store: Path, tmp_path: Path
) -> None:
    make_args, expected = UP_FRONT[case]
    before = tree_digest(champion_store)
    args = make_args(tmp_path, champion_store)
    started = time.monotonic()
    result = run_kfops(*args, env={"KFOPS_HOME": str(tmp_path / "home")}, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    _check_one_error_line(result, expected)
    assert "Running pipeline" not in result.stdout, "checked only after work had started"
    assert time.monotonic() - started < 30
    assert tree_digest(champion_store) == before


def test_kfops_home_pointing_at_a_file(tmp_path: Path) -> None:
    home = Path(_write(tmp_path / "home", "a file"))
    result = run_kfops("metrics", "list", env={"KFOPS_HOME": str(home), "KFOPS_STORE": ""})
    assert result.returncode == 2
    _check_one_error_line(result, "KFOPS_HOME")
    assert home.read_text() == "a file"


#: Data problems found by the first task: named, exit 2, nothing stored.
DATA: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "infinity in a feature": (
        lambda t: ("a,b,target\n" + _rows().replace("5,0,1", "inf,0,1", 1)).encode(),
        "feature 'a' has an infinite value in row 6",
    ),
    "Latin-1 file": (lambda t: ("a,b\xe9,target\n" + _rows()).encode("latin-1"), "is not UTF-8 text"),
    "empty column name": (lambda t: ("a,,target\n" + _rows()).encode(), "column 2 has no name"),
    "gzip bytes": (lambda t: gzip.compress(("a,b,target\n" + _rows()).encode()), "is gzip-compressed"),
    "binary content": (lambda t: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 4, "holds binary data"),
    "every feature constant": (
        lambda t: ("a,b,target\n" + "".join(f"7,5,{i % 2}\n" for i in range(40))).encode(),
        "every numeric feature is constant in the training rows (a, b)",
    ),
    "single-class label shows a plain value": (
        lambda t: ("a,b,target\n" + "".join(f"{i},{i % 3},1\n" for i in range(40))).encode(),
        "has a single class (1)",
    ),
}


@pytest.mark.parametrize("case", sorted(DATA))
def test_data_problems_are_named_by_the_task(case: str, champion_store: Path, tmp_path: Path) -> None:
    make_data, expected = DATA[case]
    source = tmp_path / "data.csv"
    source.write_bytes(make_data(tmp_path))
    before = tree_digest(champion_store)
    result = run_kfops(
        "run",
        "training",
        "--store",
        str(champion_store),
        "--param",
        f"source={source}",
        env={"KFOPS_HOME": str(tmp_path / "home")},
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    line = _check_one_error_line(result, expected)
    assert "Inner task failed" not in line and "\\x1f" not in line
    assert tree_digest(champion_store) == before


def test_a_corrupt_champion_record_fails_before_a_version_is_stored(
    champion_store: Path, tmp_path: Path
) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(champion_store, store)
    history = store / "models/breast-cancer/champion-history"
    (history / "00000099.json").write_text("[1]")
    before = tree_digest(store)
    result = run_kfops("run", "training", "--store", str(store), env={"KFOPS_HOME": str(tmp_path / "home")})
    assert result.returncode == 2, result.stdout + result.stderr
    _check_one_error_line(result, "malformed champion record")
    assert tree_digest(store) == before  # no model version, evaluation or run record left behind


def _timed(*args: str, env: dict[str, str]) -> tuple[object, float]:
    started = time.monotonic()
    result = run_kfops(*args, env={"KFOPS_NETWORK_TIMEOUT": str(DEADLINE), **env}, timeout=DEADLINE + 60)
    return result, time.monotonic() - started


def test_a_silent_https_source_fails_within_the_deadline_without_its_query(
    silent_server: str, champion_store: Path, tmp_path: Path
) -> None:
    before = tree_digest(champion_store)
    result, seconds = _timed(
        "run",
        "training",
        "--store",
        str(champion_store),
        "--param",
        f"source=https://{silent_server}/data.csv?X-Amz-Signature={SECRET}",
        env={"KFOPS_HOME": str(tmp_path)},
    )
    assert result.returncode == 2  # type: ignore[attr-defined]
    _check_one_error_line(result, f"https://{silent_server}/data.csv timed out")
    assert SECRET not in result.stdout + result.stderr  # type: ignore[attr-defined]
    assert SECRET not in "".join(p.read_text(errors="replace") for p in (tmp_path / "runs").glob("*.log"))
    assert seconds < DEADLINE + 10 + 5  # + the first task's start-up
    assert tree_digest(champion_store) == before


def test_a_silent_s3_endpoint_fails_within_the_deadline(silent_server: str, tmp_path: Path) -> None:
    aws = {
        "AWS_ENDPOINT_URL": f"http://{silent_server}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "KFOPS_HOME": str(tmp_path),
    }
    result, seconds = _timed("metrics", "list", "--store", "s3://kfops-bucket/ml", env=aws)
    assert result.returncode == 2  # type: ignore[attr-defined]
    _check_one_error_line(result, f"S3 at http://{silent_server} timed out")
    assert SECRET not in result.stdout + result.stderr  # type: ignore[attr-defined]
    assert seconds < DEADLINE + 10


def test_a_silent_eks_endpoint_fails_within_the_deadline(silent_server: str, tmp_path: Path) -> None:
    aws = {
        "AWS_ENDPOINT_URL": f"http://{silent_server}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result, seconds = _timed(
        "deploy",
        "--host",
        f"http://{silent_server}",
        "--token-from-eks",
        "c",
        "--service-account",
        "a/b",
        "--dry-run",
        env=aws,
    )
    assert result.returncode == 1  # type: ignore[attr-defined]
    _check_one_error_line(result, f"EKS at http://{silent_server} timed out")
    assert SECRET not in result.stdout + result.stderr  # type: ignore[attr-defined]
    assert seconds < DEADLINE + 10


def test_a_silent_kubernetes_api_fails_serve_within_the_deadline(
    silent_server: str, tmp_path: Path, s3_bucket: str, aws_env: dict[str, str]
) -> None:
    from tests.test_serve import _kubeconfig, add_version

    store = f"s3://{s3_bucket}"
    add_version(tmp_path, store, "20260101-000000-aaaaaaaa", champion=True)
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", f"http://{silent_server}")
    result, seconds = _timed(
        "serve",
        "cancer",
        "--store",
        store,
        "--namespace",
        "team-ml",
        env={**aws_env, "KUBECONFIG": str(kubeconfig), "KUBERNETES_SERVICE_HOST": ""},
    )
    assert result.returncode == 1, result.stderr  # type: ignore[attr-defined]
    _check_one_error_line(result, f"the Kubernetes API at http://{silent_server} timed out")
    assert "t0ken" not in result.stdout + result.stderr  # type: ignore[attr-defined]
    assert seconds < DEADLINE + 10


def test_a_token_with_an_embedded_newline_is_refused_without_echoing_it(tmp_path: Path) -> None:
    token = _write(tmp_path / "token", f"{SECRET}\n{SECRET}")
    result = run_kfops("deploy", "--host", "http://127.0.0.1:9", "--token-file", token, "--dry-run")
    assert result.returncode == 2, result.stderr
    _check_one_error_line(result, "token")
    assert SECRET not in result.stdout + result.stderr


def test_bad_network_deadline_setting_is_an_input_error(tmp_path: Path) -> None:
    result = run_kfops(
        "metrics",
        "list",
        "--store",
        "s3://b/x",
        env={"KFOPS_NETWORK_TIMEOUT": "soon", "KFOPS_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    _check_one_error_line(result, "KFOPS_NETWORK_TIMEOUT must be a number of seconds")


def test_temporary_names_are_unique_per_process_and_call(tmp_path: Path) -> None:
    from kfops.files import temp_name

    target = tmp_path / "training.yaml"
    names = {temp_name(target) for _ in range(100)}
    assert len(names) == 100
    assert all(n.suffix == ".yaml" and n.name.startswith(".tmp-") for n in names)
