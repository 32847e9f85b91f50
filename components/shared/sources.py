"""Fetching input data from a local path, ``file://``, ``s3://`` or ``https://`` URI."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from components.shared.errors import InputError, KfopsError, one_line
from components.shared.store import read_uri

#: Datasets shipped inside the ``ingest`` package, addressable on any machine or
#: image as ``builtin://<name>`` (nothing is downloaded at run time).
BUILTIN_SCHEME = "builtin"
#: ``builtin://breast_cancer_drift?window=N``: window N of the bundled data, drifting from N = 3.
DRIFTING_DATASET = "breast_cancer_drift"

HTTP_RETRIES = 4
HTTP_BACKOFF_SECONDS = 0.5  # waits 0.5, 1, 2, 4 s between tries


def fetch_source(uri: str) -> bytes:
    """Return the bytes behind a data-source URI.

    Args:
        uri: A local path, ``file://``, ``s3://``, ``https://`` or ``builtin://`` URI.

    Raises:
        InputError: The source is missing, unreadable or uses an unknown scheme.
    """
    uri = uri.strip()
    if not uri:
        raise InputError("no data source given")
    parsed = urlparse(uri)
    if parsed.scheme == BUILTIN_SCHEME:
        name = parsed.netloc + parsed.path
        if name == DRIFTING_DATASET:
            return _drifting_window(parsed.query)
        if parsed.query:
            raise InputError(f"builtin dataset {name!r} takes no query ({parsed.query!r})")
        return _builtin(name)
    if parsed.scheme in ("http", "https"):
        if parsed.scheme == "http":
            raise InputError(f"refusing plain-http source {_without_query(uri)!r}; use https://")
        return _https(uri)
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme == "file" else uri).expanduser()
        if not path.is_file():
            raise InputError(f"data source {uri} does not exist or is not a file")
    if parsed.scheme in ("", "file", "s3"):
        try:
            return read_uri(uri)
        except KfopsError as exc:
            raise InputError(f"cannot read data source {uri}: {exc}") from None
    raise InputError(f"unsupported data source scheme {parsed.scheme!r} in {uri!r}")


def _builtin(name: str) -> bytes:
    files = resources.files("components.ingest") / "data"
    path = files / f"{name}.csv"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".csv") for p in files.iterdir() if p.name.endswith(".csv"))
        raise InputError(f"unknown builtin dataset {name!r}; known: {', '.join(known)}")
    return path.read_bytes()


def _drifting_window(query: str) -> bytes:
    """A labeled window of the bundled data whose inputs drift from window 3 on."""
    import io

    import pandas as pd

    from components.shared.drifting import drifted_window

    try:
        (window,) = parse_qs(query, strict_parsing=True)["window"]
        number = int(window)
    except (KeyError, ValueError):
        raise InputError(
            f"builtin://{DRIFTING_DATASET} needs ?window=<integer >= 0>, got {query!r}"
        ) from None
    if number < 0:
        raise InputError(f"window must be >= 0, got {number}")
    frame = pd.read_csv(io.BytesIO(_builtin("breast_cancer")))
    return drifted_window(frame, "target", number).to_csv(index=False).encode()


def _https(uri: str) -> bytes:
    """GET ``uri``; connect, reads and retries (with backoff) end within the network deadline.

    Messages name the host and path only: a presigned URL's query is a credential.
    """
    import urllib3

    from components.shared.deadline import Deadline, host_of, is_timeout

    shown = _without_query(uri)
    deadline = Deadline(f"download of {shown}")
    pool = urllib3.PoolManager(retries=False)
    wait = HTTP_BACKOFF_SECONDS
    for attempt in range(1, HTTP_RETRIES + 2):
        connect, read = deadline.timeout()
        try:
            response = pool.request(
                "GET", uri, timeout=urllib3.Timeout(connect=connect, read=read, total=deadline.remaining())
            )
        except urllib3.exceptions.HTTPError as exc:
            if is_timeout(exc) and deadline.remaining() < 1.0:
                raise InputError(one_line(deadline.timed_out())) from None
            failure = "timed out" if is_timeout(exc) else type(exc).__name__
        else:
            if response.status == 200:
                return bytes(response.data)
            if response.status not in (429, 500, 502, 503, 504):
                raise InputError(f"cannot download {shown}: HTTP {response.status}")
            failure = f"HTTP {response.status}"
        if attempt > HTTP_RETRIES or not deadline.sleep(wait):
            break
        wait *= 2
    raise InputError(f"cannot download {shown}: {host_of(uri)} {failure} ({attempt} attempt(s))")


def _without_query(uri: str) -> str:
    parsed = urlparse(uri)
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def source_name(uri: str) -> str:
    """The file name part of a source URI (used to pick the CSV or Parquet reader)."""
    parsed = urlparse(uri)
    if parsed.scheme == BUILTIN_SCHEME:
        return f"{parsed.netloc}{parsed.path}.csv"
    return (parsed.path or uri).rsplit("/", 1)[-1] or uri
