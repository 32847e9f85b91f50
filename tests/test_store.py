"""The store abstraction: local directory and S3 (a real moto server over HTTP)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from components.shared.errors import InputError, ObjectExistsError, StoreError
from components.shared.store import LocalStore, S3Store, open_store, read_uri, write_uri
from tests.conftest import REPO, bound_by_file_modes


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


def test_local_missing_root_and_unwritable_root_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        LocalStore(tmp_path / "missing").check_writable()
    with pytest.raises(StoreError, match="does not exist"):
        LocalStore(tmp_path / "missing").write("x", b"1")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # In a child process bound by the mode bits, also as root (CI runs as root).
        checked = subprocess.run(
            bound_by_file_modes([sys.executable, "-c", CHECK_WRITABLE, str(locked)]),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert checked.returncode == 3, checked.stdout + checked.stderr
        assert checked.stdout.strip() == f"StoreError: store {locked} is not writable: Permission denied"
        assert list(locked.iterdir()) == []  # the probe left nothing behind
    finally:
        locked.chmod(0o700)


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
