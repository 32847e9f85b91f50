"""One object-store abstraction with two backends chosen by URI.

* a local directory (the embedded default, e.g. ``.kfops/store``), and
* S3 (``s3://bucket/prefix``) through boto3.

Both give the same guarantees: no reader ever sees a half-written object (local:
write a temporary file, then rename or link it into place; S3: a single-request
put is atomic) and ``overwrite=False`` never replaces an existing object (local:
``os.link`` fails if the target exists; S3: ``PutObject`` with ``IfNoneMatch="*"``).

Layout under a store root (one source of truth: ``components.shared.names.LAYOUT``): ``data/``,
``models/``, ``metrics/``, ``predictions/``; on a cluster KFP's own artifacts go
under ``pipelines/``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from components.shared.errors import InputError, ObjectExistsError, StoreError
from components.shared.names import LAYOUT

# boto3 is imported only when an S3 store is used: it costs ~0.3 s per task.
S3Client = Any


class Store(Protocol):
    """What every backend offers. Keys are ``/``-separated and relative to the root."""

    uri: str

    def read(self, key: str) -> bytes:
        """Return an object's bytes; `StoreError` if it is missing."""
        ...

    def write(self, key: str, data: bytes, *, overwrite: bool = True) -> str:
        """Write an object atomically and return its URI."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object exists."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""
        ...

    def uri_for(self, key: str) -> str:
        """The URI of ``key`` in this store."""
        ...

    def check_writable(self, area: str = LAYOUT.metrics) -> None:
        """Fail with `StoreError` unless the store exists and this caller may use ``area``.

        ``area`` is the top-level prefix the caller is about to write (``models``,
        ``metrics``, ...): on S3 the probe is scoped to it, as the callers' IAM roles are.
        """
        ...

    def check_readable(self, area: str = LAYOUT.metrics) -> None:
        """Fail with `StoreError` unless the store exists and ``area`` can be listed."""
        ...


def _clean_key(key: str) -> str:
    parts = [p for p in key.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise InputError(f"invalid store key {key!r}")
    return "/".join(parts)


class LocalStore:
    """A store in a local directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _clean_key(key)

    def uri_for(self, key: str) -> str:
        return str(self._path(key))

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"no object {key!r} in store {self.uri}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix.strip("/") if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def write(self, key: str, data: bytes, *, overwrite: bool = True) -> str:
        path = self._path(key)
        if not self.root.is_dir():
            raise StoreError(f"store root {self.root} does not exist")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError as exc:
            raise StoreError(f"cannot write to store {self.uri}: {exc.strerror}") from None
        tmp = Path(tmp_name)
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; stored objects are shared reads
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # atomic create-if-absent
                except FileExistsError:
                    raise ObjectExistsError(f"{path} already exists; refusing to overwrite it") from None
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return str(path)

    def check_readable(self, area: str = LAYOUT.metrics) -> None:
        """The store exists (a reader of a mistyped store must not see "nothing stored")."""
        del area
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"store root {self.root} is not a directory")
        if not self.root.is_dir():
            raise StoreError(f"store root {self.root} does not exist")

    def check_writable(self, area: str = LAYOUT.metrics) -> None:
        del area  # a local directory is writable as a whole or not at all
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"store root {self.root} is not a directory")
        if not self.root.is_dir():
            raise StoreError(f"store root {self.root} does not exist")
        probe = self.root / f".tmp-probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"store {self.root} is not writable: {exc.strerror}") from None


def s3_client() -> S3Client:
    """A boto3 S3 client whose every call ends within the network deadline.

    Timeouts and bounded retries with backoff come from
    `components.shared.deadline.botocore_config` (``KFOPS_NETWORK_TIMEOUT``, default
    60 s). The endpoint follows ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3`` (boto3 reads
    them), which is how tests point it at a local moto server.
    """
    import boto3

    from components.shared.deadline import botocore_config

    return boto3.client("s3", config=botocore_config())


class S3Store:
    """A store under ``s3://bucket/prefix``."""

    def __init__(self, bucket: str, prefix: str = "", client: S3Client | None = None) -> None:
        if not bucket:
            raise InputError("an s3:// URI needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client = client

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def _key(self, key: str) -> str:
        key = _clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _fail(self, action: str, key: str, exc: Exception) -> StoreError:
        from botocore.exceptions import ClientError

        where = self.uri_for(key) if key.strip("/") else self.uri  # a listing of everything: the store
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                return StoreError(f"no object {where}")
            if code == "NoSuchBucket":
                return StoreError(f"bucket {self.bucket!r} does not exist")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return ObjectExistsError(f"{where} already exists; refusing to overwrite it")
            return StoreError(f"cannot {action} {where}: {code or exc}")
        return StoreError(f"cannot {action} {where}: {self._network(exc)}")

    def _network(self, exc: Exception) -> str:
        """A transport failure in a few words: which endpoint, and whether it timed out."""
        from components.shared.deadline import aws_failure

        endpoint = (
            getattr(getattr(self.client, "meta", None), "endpoint_url", "") or "https://s3.amazonaws.com"
        )
        return aws_failure("S3", endpoint, exc) or str(exc) or type(exc).__name__

    def read(self, key: str) -> bytes:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            return body.read()
        except Exception as exc:
            raise self._fail("read", key, exc) from None

    def exists(self, key: str) -> bool:
        """A one-key listing from ``key`` on (the key itself sorts first if it exists).

        Not ``HeadObject``: for a missing key S3 answers 404 only to a caller that may
        ``s3:ListBucket`` without an ``s3:prefix`` and 403 to the kfops roles, whose listing
        is scoped to the store's prefixes; a listing with ``Prefix=<key>`` is within them.
        """
        full = self._key(key)
        try:
            listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=full, MaxKeys=1)
        except Exception as exc:
            raise self._fail("check", key, exc) from None
        return any(obj["Key"] == full for obj in listed.get("Contents", []))

    def list(self, prefix: str) -> list[str]:
        full = self._key(prefix) + "/" if prefix.strip("/") else (f"{self.prefix}/" if self.prefix else "")
        strip = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(obj["Key"][len(strip) :] for obj in page.get("Contents", []))
        except Exception as exc:
            raise self._fail("list", prefix, exc) from None
        return sorted(keys)

    def write(self, key: str, data: bytes, *, overwrite: bool = True) -> str:
        extra = {} if overwrite else {"IfNoneMatch": "*"}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        except Exception as exc:
            raise self._fail("write", key, exc) from None
        return self.uri_for(key)

    def check_readable(self, area: str = LAYOUT.metrics) -> None:
        """The bucket exists and the area can be listed (the same one-key listing as below)."""
        self.check_writable(area)

    def check_writable(self, area: str = LAYOUT.metrics) -> None:
        """Probe with a one-key listing of ``<prefix>/<area>/`` (no write, no object left).

        Not ``HeadBucket``: S3 authorizes it as ``s3:ListBucket`` without an ``s3:prefix``,
        which every kfops role is denied (their listing is conditioned on the store's
        prefixes, infra/policies/); a listing under the area is what the roles grant.
        A missing bucket answers ``NoSuchBucket`` to both.
        """
        prefix = self._key(area) + "/"
        try:
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        except Exception as exc:
            from botocore.exceptions import ClientError

            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in (
                "404",
                "NoSuchBucket",
                "NotFound",
            ):
                raise StoreError(f"bucket {self.bucket!r} does not exist") from None
            if isinstance(exc, ClientError):
                code = exc.response.get("Error", {}).get("Code", "")
                raise StoreError(f"store {self.uri} is not reachable: {code or exc}") from None
            raise StoreError(f"store {self.uri} is not reachable: {self._network(exc)}") from None


def open_store(uri: str) -> Store:
    """Open the store named by ``uri``: ``s3://bucket[/prefix]``, ``file://`` or a path."""
    uri = uri.strip()
    if not uri:
        raise InputError("no store given (a local directory or s3://bucket/prefix)")
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return S3Store(parsed.netloc, parsed.path)
    if parsed.scheme == "file":
        return LocalStore(parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter: a Windows drive
        raise InputError(f"unsupported store URI {uri!r} (use a local path or s3://bucket/prefix)")
    return LocalStore(uri)


def split_uri(uri: str) -> tuple[Store, str]:
    """Split an object URI (path, ``file://`` or ``s3://``) into a store and a key."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        key = parsed.path.lstrip("/")
        if not key:
            raise InputError(f"{uri!r} names a bucket, not an object")
        return S3Store(parsed.netloc), key
    path = Path(parsed.path if parsed.scheme == "file" else uri).expanduser().resolve()
    return LocalStore(path.parent), path.name


def read_uri(uri: str) -> bytes:
    """Read an object from a local path, ``file://`` or ``s3://`` URI."""
    store, key = split_uri(uri)
    return store.read(key)


def write_uri(uri: str, data: bytes, *, overwrite: bool = True) -> str:
    """Write an object atomically to a local path, ``file://`` or ``s3://`` URI."""
    store, key = split_uri(uri)
    check_output_location(uri)
    if isinstance(store, LocalStore):
        try:
            store.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {store.root} for {uri}: {exc.strerror or exc}") from None
    return store.write(key, data, overwrite=overwrite)


def check_output_location(uri: str) -> None:
    """Fail early when a local output path cannot be a file (a parent is a file, or it is a directory).

    Raises:
        StoreError: The path is a directory, or one of its parents is a file.
    """
    store, key = split_uri(uri)
    if not isinstance(store, LocalStore):
        return
    path = store.root / key
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StoreError(f"cannot write {path}: {parent} is a file, not a directory")
            break
