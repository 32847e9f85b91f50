"""The token and the checked connection every kfops command that talks to KFP starts with."""

from __future__ import annotations

import os
from pathlib import Path

from components.kfp_api import KfpApi, Server
from components.shared.errors import InputError
from components.shared.names import TOKEN_PATH_ENV


def read_token(token_file: Path | None) -> str:
    """The bearer token from ``--token-file`` or ``$KF_PIPELINES_SA_TOKEN_PATH``.

    Raises:
        InputError: No token source, or an unreadable, empty or malformed file.
    """
    path = token_file or (Path(os.environ[TOKEN_PATH_ENV]) if os.environ.get(TOKEN_PATH_ENV) else None)
    if path is None:
        raise InputError(f"no token: give --token-file, set {TOKEN_PATH_ENV}, or use --token-from-eks")
    try:
        token = path.read_bytes().decode("ascii").strip()
    except OSError as exc:
        raise InputError(f"cannot read token file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"token file {path} is not a token (it has non-ASCII bytes)") from None
    if not token:
        raise InputError(f"token file {path} is empty")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise InputError(f"token file {path} is not a token (it has whitespace or control characters inside)")
    return token


def connect(host: str, token: str, namespace: str) -> tuple[KfpApi, Server]:
    """A client of the KFP API at ``host``, after an authorized, read-only preflight.

    Raises:
        InputError: ``host`` is not an http(s) URL.
        ApiError: See :meth:`components.kfp_api.KfpApi.preflight`.
    """
    from urllib.parse import urlparse

    parsed = urlparse(host)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InputError(
            f"--host {host!r} is not an http(s) URL (e.g. https://kubeflow.example.com/pipeline)"
        )
    api = KfpApi(host, token, namespace)
    return api, api.preflight()
