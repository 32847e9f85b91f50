"""The store abstraction: local directory and S3 (a real moto server over HTTP)."""

from __future__ import annotations

import inspect
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from components.shared.errors import InputError, ObjectExistsError, StoreError
from components.shared.store import LocalStore, S3Store, open_store, read_uri, split_uri, write_uri
from tests.conftest import REPO, RequestLog, bound_by_file_modes


def test_open_store_chooses_backend_by_uri(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path}"), LocalStore)
    s3 = open_store("s3://bucket/some/prefix")
    assert isinstance(s3, S3Store) and s3.bucket == "bucket" and s3.prefix == "some/prefix"
    with pytest.raises(InputError, match="unsupported store URI"):
        open_store("gs://bucket")
    with pytest.raises(InputError, match="no store"):
        open_store("  ")


def test_local_write_read_list_and_no_temp_files_left(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    uri = store.write("models/m/1/model.joblib", b"abc")
    assert Path(uri).read_bytes() == b"abc"
    assert store.read("models/m/1/model.joblib") == b"abc"
    assert store.exists("models/m/1/model.joblib") and not store.exists("models/m/2/x")
    assert store.list("models") == ["models/m/1/model.joblib"]
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []


def test_local_no_overwrite_refuses_and_keeps_bytes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write("a/b.json", b"first", overwrite=False)
    with pytest.raises(ObjectExistsError, match="refusing to overwrite"):
        store.write("a/b.json", b"second", overwrite=False)
    assert store.read("a/b.json") == b"first"
    store.write("a/b.json", b"third")  # overwrite=True replaces atomically
    assert store.read("a/b.json") == b"third"


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A directory its owner may read but not write (mode 0500), made writable again after."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    yield folder
    folder.chmod(0o700)


def run_bound_by_file_modes(script: str, path: Path) -> subprocess.CompletedProcess[str]:
    """``python -c script path`` in a child process bound by the mode bits, also as root
    (CI runs as root)."""
    command = bound_by_file_modes([sys.executable, "-c", script, str(path)])
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)


def test_local_missing_root_and_unwritable_root_are_store_errors(tmp_path: Path, locked: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        LocalStore(tmp_path / "missing").check_writable()
    with pytest.raises(StoreError, match="does not exist"):
        LocalStore(tmp_path / "missing").write("x", b"1")
    checked = run_bound_by_file_modes(CHECK_WRITABLE, locked)
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert checked.stdout.strip() == f"StoreError: store {locked} is not writable: Permission denied"
    assert list(locked.iterdir()) == []  # the probe left nothing behind


#: Run as ``python -c CHECK_WRITABLE ROOT``: exit 3 and print the StoreError, exit 0 if writable.
CHECK_WRITABLE = """
import sys
from components.shared.errors import StoreError
from components.shared.store import LocalStore
try:
    LocalStore(sys.argv[1]).check_writable()
except StoreError as exc:
    print(f"StoreError: {exc}")
    sys.exit(3)
"""


def test_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="invalid store key"):
        LocalStore(tmp_path).write("../escape", b"x")


def test_s3_roundtrip_list_exists_over_http(s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}/team")
    uri = store.write("metrics/training/runs/1.json", b"{}")
    assert uri == f"s3://{s3_bucket}/team/metrics/training/runs/1.json"
    store.write("models/m/v1/model.joblib", b"m")
    assert store.read("metrics/training/runs/1.json") == b"{}"
    assert store.exists("models/m/v1/model.joblib")
    assert not store.exists("models/m/v2/model.joblib")
    assert store.list("models") == ["models/m/v1/model.joblib"]
    assert store.list("") == ["metrics/training/runs/1.json", "models/m/v1/model.joblib"]
    assert read_uri(uri) == b"{}"


def test_s3_conditional_write_never_overwrites(s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}")
    store.write("models/m/v1/model.joblib", b"original", overwrite=False)
    with pytest.raises(ObjectExistsError, match="refusing to overwrite"):
        store.write("models/m/v1/model.joblib", b"replacement", overwrite=False)
    assert store.read("models/m/v1/model.joblib") == b"original"


def test_s3_missing_bucket_and_missing_key_are_clear(aws_env: dict[str, str]) -> None:
    store = open_store("s3://no-such-bucket-kfops")
    with pytest.raises(StoreError, match="does not exist"):
        store.check_writable()
    with pytest.raises(StoreError):
        store.read("x")


def test_s3_missing_key_names_the_uri(s3_bucket: str) -> None:
    with pytest.raises(StoreError, match=f"s3://{s3_bucket}/nope"):
        open_store(f"s3://{s3_bucket}").read("nope")


def test_write_uri_local_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.bin"
    write_uri(str(target), b"1")
    assert target.read_bytes() == b"1"


def test_local_store_root_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    blocker = tmp_path / "store"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="not a directory"):
        LocalStore(blocker).check_writable()


def test_local_read_of_a_missing_key_says_no_object(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        LocalStore(tmp_path).read("metrics/none.json")
    assert str(caught.value) == f"no object 'metrics/none.json' in store {tmp_path}"


def test_local_read_of_a_directory_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "models" / "m").mkdir(parents=True)
    with pytest.raises(StoreError) as caught:
        LocalStore(tmp_path).read("models/m")
    assert str(caught.value) == f"cannot read {tmp_path}/models/m: Is a directory"


def test_local_list_returns_the_keys_under_the_prefix_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write("models/m/1/model.joblib", b"m")
    store.write("metrics/run.json", b"{}")
    assert store.list("models") == ["models/m/1/model.joblib"]
    assert store.list("/models/") == ["models/m/1/model.joblib"]
    assert store.list("") == ["metrics/run.json", "models/m/1/model.joblib"]
    assert store.list("data") == []


def test_local_write_under_a_file_is_a_store_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write("models", b"a file where a directory should be")
    with pytest.raises(StoreError) as caught:
        store.write("models/m/1/model.joblib", b"m")
    assert str(caught.value) == f"cannot write to store {tmp_path}: Not a directory"


def test_local_objects_are_readable_by_everyone_and_writable_by_the_owner(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    replaced = Path(store.write("a/replaced.json", b"1"))
    created = Path(store.write("a/created.json", b"1", overwrite=False))
    assert stat.S_IMODE(replaced.stat().st_mode) == 0o644
    assert stat.S_IMODE(created.stat().st_mode) == 0o644


def test_local_check_readable_accepts_a_directory_and_rejects_a_file_or_nothing(tmp_path: Path) -> None:
    LocalStore(tmp_path).check_readable()
    LocalStore(tmp_path).check_readable("models")
    with pytest.raises(StoreError) as missing:
        LocalStore(tmp_path / "missing").check_readable()
    assert str(missing.value) == f"store root {tmp_path / 'missing'} does not exist"
    (tmp_path / "file").write_text("not a store")
    with pytest.raises(StoreError) as file:
        LocalStore(tmp_path / "file").check_readable()
    assert str(file.value) == f"store root {tmp_path / 'file'} is not a directory"


@pytest.mark.parametrize("write", [LocalStore.write, S3Store.write, write_uri], ids=lambda f: f.__qualname__)
def test_overwrite_is_passed_by_name_only(write: Callable[..., str]) -> None:
    """A bare `False` in a call would not say that it refuses to replace an object; the key
    and the data stay positional-or-keyword (callers may name them)."""
    parameters = inspect.signature(write).parameters.values()
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == ["overwrite"]
    assert all(p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)


def test_open_store_rejects_any_other_scheme() -> None:
    for uri in ("sftp://host/store", "https://example.com/store", "gs://bucket/store"):
        with pytest.raises(InputError, match="unsupported store URI"):
            open_store(uri)


@pytest.mark.parametrize("drive", ["c", "z"])
def test_a_one_letter_scheme_is_a_drive_so_the_uri_is_a_local_path(
    drive: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``c:store`` is a path (on POSIX a relative one), not a URI with the scheme ``c``."""
    monkeypatch.chdir(tmp_path)
    store = open_store(f"{drive}:store")
    assert isinstance(store, LocalStore) and store.uri == str(tmp_path / f"{drive}:store")
    assert write_uri(f"{drive}:out/x.bin", b"1") == str(tmp_path / f"{drive}:out" / "x.bin")
    assert read_uri(f"{drive}:out/x.bin") == b"1"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == [f"{drive}:out", f"{drive}:out/x.bin"]


def test_write_uri_and_read_uri_take_a_file_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert write_uri(f"file://{tmp_path}/out/x.bin", b"1") == str(tmp_path / "out" / "x.bin")
    assert read_uri(f"file://{tmp_path}/out/x.bin") == b"1"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["out", "out/x.bin"]


def test_a_local_path_is_taken_as_written_even_with_url_characters(tmp_path: Path) -> None:
    """``#`` and ``?`` are a URL's fragment and query, but ordinary characters of a file name."""
    for name in ("run#2.json", "what?.json"):
        assert write_uri(str(tmp_path / name), name.encode()) == str(tmp_path / name)
        assert read_uri(str(tmp_path / name)) == name.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run#2.json", "what?.json"]


def test_write_uri_creates_missing_parents_and_accepts_existing_ones(tmp_path: Path) -> None:
    write_uri(str(tmp_path / "a" / "b" / "c.bin"), b"new dirs")
    write_uri(str(tmp_path / "a" / "b" / "d.bin"), b"existing dir")
    assert (tmp_path / "a" / "b" / "c.bin").read_bytes() == b"new dirs"
    assert (tmp_path / "a" / "b" / "d.bin").read_bytes() == b"existing dir"


def test_write_uri_replaces_unless_told_not_to(tmp_path: Path) -> None:
    target = str(tmp_path / "x.bin")
    write_uri(target, b"first")
    write_uri(target, b"second")
    assert read_uri(target) == b"second"
    with pytest.raises(ObjectExistsError):
        write_uri(target, b"third", overwrite=False)
    assert read_uri(target) == b"second"


def test_write_uri_under_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "report").write_text("a file")
    with pytest.raises(StoreError) as caught:
        write_uri(str(tmp_path / "report" / "sub" / "x.bin"), b"1")
    assert str(caught.value) == (
        f"cannot write {tmp_path}/report/sub/x.bin: {tmp_path}/report is a file, not a directory"
    )


def test_write_uri_to_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(StoreError, match="is a directory, not a file"):
        write_uri(str(tmp_path / "out"), b"1")


def test_write_uri_into_an_unwritable_directory_is_a_store_error(locked: Path) -> None:
    target = locked / "sub" / "x.bin"
    written = run_bound_by_file_modes(WRITE_URI, target)
    assert written.returncode == 3, written.stdout + written.stderr
    expected = f"StoreError: cannot create {locked}/sub for {target}: Permission denied"
    assert written.stdout.strip() == expected


#: Run as ``python -c WRITE_URI PATH``: exit 3 and print the StoreError, exit 0 if written.
WRITE_URI = """
import sys
from components.shared.errors import StoreError
from components.shared.store import write_uri
try:
    write_uri(sys.argv[1], b"1")
except StoreError as exc:
    print(f"StoreError: {exc}")
    sys.exit(3)
"""


def test_s3_write_uri_and_read_uri_roundtrip(s3_bucket: str) -> None:
    uri = f"s3://{s3_bucket}/team/models/m/v1/model.joblib"
    assert write_uri(uri, b"m") == uri
    assert read_uri(uri) == b"m"
    with pytest.raises(InputError, match="names a bucket, not an object"):
        split_uri(f"s3://{s3_bucket}/")


def test_s3_write_replaces_unless_told_not_to(s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}")
    store.write("a.json", b"first")
    store.write("a.json", b"second")
    assert store.read("a.json") == b"second"


def test_s3_a_prefix_of_a_key_is_not_an_object(s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}")
    store.write("models/m/v1/model.joblib", b"m")
    assert not store.exists("models/m")
    assert not store.exists("models/m/v1/model")
    assert store.exists("models/m/v1/model.joblib")


def test_s3_list_of_everything_stays_under_the_store_prefix(s3_bucket: str) -> None:
    open_store(f"s3://{s3_bucket}/other").write("x.json", b"1")
    open_store(f"s3://{s3_bucket}/team").write("a/b.json", b"1")
    assert open_store(f"s3://{s3_bucket}/team").list("") == ["a/b.json"]
    assert open_store(f"s3://{s3_bucket}").list("") == ["other/x.json", "team/a/b.json"]


def test_s3_exists_and_the_probes_list_one_key_under_the_key_or_area(
    s3_bucket: str, aws_request_log: RequestLog
) -> None:
    """The listing is scoped to the key or the area (what the kfops roles may list) and asks for one key."""
    store = open_store(f"s3://{s3_bucket}/team")
    mark = aws_request_log.mark()
    store.exists("models/m/v1/model.joblib")
    store.check_writable("models")
    store.check_readable("metrics")
    requests = aws_request_log.since(mark)
    assert [(r["method"], r["path"]) for r in requests] == [("GET", f"/{s3_bucket}")] * 3
    queries = [parse_qs(r["query"]) for r in requests]
    assert [(q["list-type"], q["prefix"], q["max-keys"]) for q in queries] == [
        (["2"], ["team/models/m/v1/model.joblib"], ["1"]),
        (["2"], ["team/models/"], ["1"]),
        (["2"], ["team/metrics/"], ["1"]),
    ]


def test_s3_every_call_on_a_missing_bucket_says_so(aws_env: dict[str, str]) -> None:
    store = open_store("s3://no-such-bucket-kfops/team")
    calls: list[Callable[[], object]] = [
        store.check_writable,
        store.check_readable,
        lambda: store.read("x"),
        lambda: store.exists("x"),
        lambda: store.list("models"),
        lambda: store.list(""),
        lambda: store.write("x", b"1"),
    ]
    for call in calls:
        with pytest.raises(StoreError) as caught:
            call()
        assert str(caught.value) == "bucket 'no-such-bucket-kfops' does not exist"


def test_s3_an_archived_object_names_the_reason(s3_bucket: str) -> None:
    import boto3

    boto3.client("s3").put_object(Bucket=s3_bucket, Key="cold.json", Body=b"{}", StorageClass="GLACIER")
    with pytest.raises(StoreError) as caught:
        open_store(f"s3://{s3_bucket}").read("cold.json")
    assert str(caught.value) == f"cannot read s3://{s3_bucket}/cold.json: InvalidObjectState"


def test_s3_access_denied_names_the_object_and_the_code(aws_env: dict[str, str]) -> None:
    """S3's answer to a role without the permission (botocore's Stubber plays S3 here)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("s3")
    store = S3Store("bucket", "team", client=client)
    with Stubber(client) as s3:
        for operation in ("get_object", "list_objects_v2", "list_objects_v2"):
            s3.add_client_error(operation, "AccessDenied", "Access Denied", http_status_code=403)
        with pytest.raises(StoreError) as read:
            store.read("models/m.joblib")
        with pytest.raises(StoreError) as listed:
            store.list("models")
        with pytest.raises(StoreError) as probed:
            store.check_writable("models")
        s3.assert_no_pending_responses()
    assert str(read.value) == "cannot read s3://bucket/team/models/m.joblib: AccessDenied"
    assert str(listed.value) == "cannot list s3://bucket/team/models: AccessDenied"
    assert str(probed.value) == "store s3://bucket/team is not reachable: AccessDenied"


def test_s3_a_refused_listing_of_the_whole_store_names_the_store(aws_env: dict[str, str]) -> None:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("s3")
    for prefix, uri in (("team", "s3://bucket/team"), ("", "s3://bucket")):
        store = S3Store("bucket", prefix, client=client)
        with Stubber(client) as s3:
            s3.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", http_status_code=403)
            with pytest.raises(StoreError) as listed:
                store.list("")
        assert str(listed.value) == f"cannot list {uri}: AccessDenied"


def test_s3_a_bucket_name_s3_cannot_take_is_a_store_error(aws_env: dict[str, str]) -> None:
    store = open_store("s3://no such bucket/team")
    reason = 'Parameter validation failed:\nInvalid bucket name "no such bucket": Bucket name must match'
    calls = {
        "cannot read s3://no such bucket/team/x: ": lambda: store.read("x"),
        "cannot check s3://no such bucket/team/x: ": lambda: store.exists("x"),
        "cannot list s3://no such bucket/team/models: ": lambda: store.list("models"),
        "store s3://no such bucket/team is not reachable: ": store.check_writable,
    }
    for message, call in calls.items():
        with pytest.raises(StoreError) as caught:
            call()
        assert str(caught.value).startswith(message + reason)


def test_s3_an_endpoint_that_refuses_connections_is_named(aws_env: dict[str, str]) -> None:
    import boto3
    from botocore.config import Config

    with socket.socket() as sock:  # a port that was just free: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, config=Config(retries={"total_max_attempts": 1}))
    store = S3Store("bucket", client=client)
    with pytest.raises(StoreError) as read:
        store.read("x")
    with pytest.raises(StoreError) as probed:
        store.check_writable()
    assert str(read.value) == f"cannot read s3://bucket/x: cannot connect to S3 at {endpoint}"
    assert str(probed.value) == f"store s3://bucket is not reachable: cannot connect to S3 at {endpoint}"
