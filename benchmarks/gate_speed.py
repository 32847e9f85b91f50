"""Benchmark: wall time and peak memory of `kfops gate` on two 1,000,000-row prediction files.

Generates (not timed) a baseline and a candidate prediction file for a binary
task, with columns ``id, y_true, y_pred, score_0, score_1``: realistic
probabilities (logistic scores sharing a latent signal, so the two models'
errors are correlated), the candidate slightly worse. The candidate's rows are
written in shuffled ``id`` order (the gate sorts by ``id``). Both are written as
Parquet and as CSV. A TOML config gates all four metrics (accuracy, macro_f1,
roc_auc, log_loss), so every one is computed.

* end to end: ``python -m kfops gate --baseline A --candidate B --report-dir DIR
  --config CFG`` in a fresh process, as a user or CI runs it (interpreter start,
  imports, loading, deciding, writing gate.md/json/png). Wall time is measured
  around the process; its peak RSS and CPU time come from ``os.wait4`` for that
  one child. Targets: <= 5 s wall, <= 1 GB peak RSS. The exit code is 0 (pass)
  or 1 (regression): either is a successful run.
* breakdown: the same steps called in one fresh process and timed with
  ``time.perf_counter``: imports, loading each file, the id/label check, each
  metric's decision (through ``kfops.gate.run.compare``, as ``run_gate`` calls
  it), per-class recall, writing the reports.

* ratio: the end-to-end wall time divided by the wall time of a process that only
  loads the two files (``python -c "import pandas; pandas.read_parquet(A);
  pandas.read_parquet(B)"``, ``read_csv(engine="pyarrow")`` for CSV), the two kinds
  of process run alternately in this one run, so the figure holds on a slower or
  busier machine. Target: <= 4x (about 6x when the issue was filed). The reference
  is a plain pandas read, not the gate's own loader: timing the gate's loader made
  every speed-up of loading (it sorts and checks ids) look like a slow-down.

``--profile`` adds the top functions by cumulative time (cProfile) of the
in-process run on the Parquet files. The machine may be noisy: use ``--repeat``
for the median of several runs.

Usage: ``.venv/bin/python benchmarks/gate_speed.py [--rows 1000000] [--repeat 3] [--profile]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PYTHON = sys.executable
WALL_TARGET_S = 5.0
RATIO_TARGET = 4.0  # gate wall time / loading the two files
RSS_TARGET_MB = 1024.0

CONFIG = """\
[gate]
alpha = 0.05

[gate.metrics.accuracy]
gate = true
tolerance = 0.0

[gate.metrics.macro_f1]
gate = true
tolerance = 0.0

[gate.metrics.roc_auc]
gate = true
tolerance = 0.0

[gate.metrics.log_loss]
gate = true
tolerance = 0.0
"""

BREAKDOWN = """
import json, resource, sys, time
from dataclasses import replace
from pathlib import Path
timings = {}
start = time.perf_counter()
from kfops.gate.config import load_config
from kfops.gate.records import check_same_examples, load_predictions
from kfops.gate.report import GateOutcome, write_reports
from kfops.gate.run import compare, per_class_recall
timings["import kfops.gate (numpy, pandas, scipy)"] = time.perf_counter() - start
baseline_path, candidate_path, config_path, report_dir = sys.argv[1:5]

def step(name, fn):
    t = time.perf_counter()
    value = fn()
    timings[name] = time.perf_counter() - t
    return value

config = step("load config", lambda: load_config(Path(config_path)))
candidate = step("load candidate", lambda: load_predictions(candidate_path))
baseline = step("load baseline", lambda: load_predictions(baseline_path))
step("check same examples (ids, y_true)", lambda: check_same_examples(baseline, candidate))
metrics = []
for rule in config.metrics:
    one = replace(config, metrics=(rule,))
    metrics += step(f"decide {rule.name}", lambda: compare(baseline, candidate, one))
per_class = step("per-class recall", lambda: per_class_recall(baseline, candidate))
verdict = "fail" if any(m.failed for m in metrics) else "pass"
outcome = GateOutcome(config.pipeline, verdict, {"label": "baseline"}, {"label": "candidate"},
                      candidate.n, None, metrics, per_class=per_class)
step("write reports (md, json, png incl. matplotlib)", lambda: write_reports(outcome, Path(report_dir)))
timings["total"] = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"timings": timings, "peak_mb": peak_mb, "verdict": verdict}))
"""

PROFILE = """
import cProfile, pstats, sys
from pathlib import Path
profiler = cProfile.Profile()
profiler.enable()
from kfops.gate.config import load_config
from kfops.gate.report import write_reports
from kfops.gate.run import run_gate
config = load_config(Path(sys.argv[3]))
outcome = run_gate(baseline_spec=sys.argv[1], candidate_uri=sys.argv[2], config=config, store=sys.argv[4])
write_reports(outcome, Path(sys.argv[4]))
profiler.disable()
stats = pstats.Stats(profiler)
stats.sort_stats("cumulative").print_stats(r"kfops|components|pandas|numpy|scipy|pyarrow|matplotlib", 30)
stats.sort_stats("tottime").print_stats(15)
"""


def make_predictions(rows: int, seed: int, work: Path) -> dict[str, tuple[Path, Path]]:
    """Write baseline and candidate predictions as Parquet and CSV; return {format: (baseline, candidate)}."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(rows)
    y_true = (rng.random(rows) < 1.0 / (1.0 + np.exp(-3.0 * signal))).astype(np.int64)
    shared = rng.standard_normal(rows)  # what both models get wrong the same way

    def model(noise: float) -> pd.DataFrame:
        logit = 3.0 * signal + 0.8 * shared + noise * rng.standard_normal(rows)
        p1 = 1.0 / (1.0 + np.exp(-logit))
        return pd.DataFrame(
            {
                "id": np.arange(rows, dtype=np.int64),
                "y_true": y_true,
                "y_pred": (p1 >= 0.5).astype(np.int64),
                "score_0": 1.0 - p1,
                "score_1": p1,
            }
        )

    baseline = model(0.6)
    candidate = model(0.7).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    files: dict[str, tuple[Path, Path]] = {}
    for fmt in ("parquet", "csv"):
        paths = (work / f"baseline.{fmt}", work / f"candidate.{fmt}")
        for frame, path in zip((baseline, candidate), paths, strict=True):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if fmt == "parquet":
                pq.write_table(table, path, compression="zstd")
            else:
                pcsv.write_csv(table, path)
        files[fmt] = paths
    return files


def run_gate_process(baseline: Path, candidate: Path, config: Path, work: Path) -> tuple[float, float, float]:
    """(wall s, peak RSS MB, CPU s) of one ``python -m kfops gate`` process."""
    report_dir = work / "reports-cli"
    out, err = work / "gate.stdout", work / "gate.stderr"
    command = [
        PYTHON,
        "-m",
        "kfops",
        "gate",
        "--baseline",
        str(baseline),
        "--candidate",
        str(candidate),
        "--report-dir",
        str(report_dir),
        "--config",
        str(config),
    ]
    env = {**os.environ, "KFOPS_HOME": str(work / "home"), "MPLBACKEND": "Agg"}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=work, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"kfops gate failed ({code}):\n{out.read_text()}\n{err.read_text()}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


LOADER = """
import sys
import pandas as pd
read = pd.read_parquet if sys.argv[1].endswith(".parquet") else (lambda p: pd.read_csv(p, engine="pyarrow"))
for path in sys.argv[1:3]:
    read(path)
"""


def load_process(baseline: Path, candidate: Path, work: Path) -> float:
    """Wall seconds of a fresh process that only loads the two files with pandas."""
    start = time.perf_counter()
    subprocess.run([PYTHON, "-c", LOADER, str(baseline), str(candidate)], check=True, cwd=work)
    return time.perf_counter() - start


def breakdown(baseline: Path, candidate: Path, config: Path, work: Path) -> dict:
    result = subprocess.run(
        [PYTHON, "-c", BREAKDOWN, str(baseline), str(candidate), str(config), str(work / "reports-inproc")],
        capture_output=True,
        text=True,
        cwd=work,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    if result.returncode != 0:
        raise SystemExit(f"breakdown failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per prediction file")
    parser.add_argument("--repeat", type=int, default=3, help="gate runs per format (median)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated predictions")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the Parquet run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kfops-gate-bench-") as tmp:
        work = Path(tmp)
        files = make_predictions(args.rows, args.seed, work)
        config = work / "gate.toml"
        config.write_text(CONFIG)
        sizes = {fmt: sum(p.stat().st_size for p in paths) / 2**20 for fmt, paths in files.items()}

        results, breakdowns, load_walls = {}, {}, {}
        for fmt, (baseline, candidate) in files.items():
            runs, loads = [], []
            for _ in range(args.repeat):  # alternately, so both see the same machine
                runs.append(run_gate_process(baseline, candidate, config, work))
                loads.append(load_process(baseline, candidate, work))
            results[fmt] = tuple(statistics.median(r[i] for r in runs) for i in range(3))
            load_walls[fmt] = statistics.median(loads)
            parts = [breakdown(baseline, candidate, config, work) for _ in range(args.repeat)]
            breakdowns[fmt] = {
                "timings": {
                    k: statistics.median(p["timings"][k] for p in parts) for k in parts[0]["timings"]
                },
                "peak_mb": statistics.median(p["peak_mb"] for p in parts),
            }
        gate_json = json.loads((work / "reports-cli" / "gate.json").read_text())  # of the last (CSV) run
        profile = ""
        if args.profile:
            baseline, candidate = files["parquet"]
            profile = subprocess.run(
                [PYTHON, "-c", PROFILE, str(baseline), str(candidate), str(config), str(work / "profile")],
                capture_output=True,
                text=True,
                check=True,
                cwd=work,
                env={**os.environ, "MPLBACKEND": "Agg"},
            ).stdout

    print(f"kfops gate on two {args.rows:,}-row prediction files, 4 metrics gated (median of {args.repeat})")
    targets = f"{'target':>7} {'':4}"
    print(f"{'input':<9} {'size MB':>8} {'wall s':>7} {targets} {'peak MB':>8} {targets} {'cpu s':>6}")
    for fmt, (wall, peak, cpu) in results.items():
        print(
            f"{fmt:<9} {sizes[fmt]:8.1f} {wall:7.2f} {'<= 5':>7} {verdict(wall, WALL_TARGET_S):4} "
            f"{peak:8.0f} {'<= 1024':>7} {verdict(peak, RSS_TARGET_MB):4} {cpu:6.2f}"
        )
    print()
    print(f"in-process breakdown (fresh processes, median of {args.repeat}, seconds)")
    steps = list(breakdowns["parquet"]["timings"])
    print(f"{'step':<48} {'parquet':>8} {'csv':>8}")
    for name in steps:
        print(f"{name:<48} " + " ".join(f"{breakdowns[fmt]['timings'][name]:8.2f}" for fmt in files))
    print(f"{'peak RSS MB':<48} " + " ".join(f"{breakdowns[fmt]['peak_mb']:8.0f}" for fmt in files))
    print()
    print("gate wall time / wall time of a process that only loads the two files with pandas (same run)")
    for fmt in files:
        ratio = results[fmt][0] / load_walls[fmt]
        print(
            f"  {fmt:<9} gate {results[fmt][0]:5.2f} s / load {load_walls[fmt]:5.2f} s = {ratio:4.1f}x"
            f"  target <= {RATIO_TARGET:g}x {verdict(ratio, RATIO_TARGET)}"
        )
    print()
    print(f"gate verdict: {gate_json['verdict']}")
    for item in gate_json["metrics"]:
        d = item["decision"]
        print(
            f"  {item['metric']:<9} baseline {d['baseline']:.4f} candidate {d['candidate']:.4f} "
            f"delta {d['delta']:+.4f} p {d['p_value']:.3g}"
        )
    if profile:
        print()
        print(profile)


if __name__ == "__main__":
    main()
