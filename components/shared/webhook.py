"""Webhook notifications (e.g. a Slack incoming webhook): best effort, never blocking the work.

A webhook URL is a credential (a Slack incoming webhook's path is its secret), so it comes
from a secret (``KFOPS_WEBHOOK_URL``: an Actions secret for ``watch.yml``, the Kubernetes
Secret ``kfops-webhook`` for the monitoring pipeline's trigger task), never from parameters
in git, and nothing here prints or logs more of it than scheme, host and port: GitHub masks
a secret only where it appears whole, so a printed path would leak it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

WEBHOOK_TIMEOUT = (3.0, 10.0)  # connect, read
WEBHOOK_ENV = "KFOPS_WEBHOOK_URL"


def where(url: str) -> str:
    """What may be printed of a webhook URL: ``scheme://host[:port]`` (never user, path or query)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an invalid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "an invalid URL"
    return f"{parts.scheme}://{host}{port}"


@contextmanager
def _quiet_urllib3() -> Iterator[None]:
    """urllib3 logs each retry with the request's path: silence it for the call."""
    logger = logging.getLogger("urllib3")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def notify(url: str, payload: dict[str, Any]) -> bool:
    """POST ``payload`` to a webhook (bounded retries, timeouts); a failure only warns.

    An empty ``url`` means the one in ``$KFOPS_WEBHOOK_URL``, if set. Warnings name the
    webhook by scheme and host and the failure by its kind or HTTP status, never more.
    """
    url = url or os.environ.get(WEBHOOK_ENV, "")
    if not url:
        return False
    import urllib3

    retry = urllib3.Retry(
        total=3, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None
    )
    try:
        with _quiet_urllib3():
            response = urllib3.request(
                "POST",
                url,
                body=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json"},
                retries=retry,
                timeout=urllib3.Timeout(connect=WEBHOOK_TIMEOUT[0], read=WEBHOOK_TIMEOUT[1]),
                redirect=False,
            )
    except Exception as exc:  # best effort; the exception's text may hold the URL: never print it
        reason = getattr(exc, "reason", None)
        kind = type(exc).__name__ + (f" ({type(reason).__name__})" if reason is not None else "")
        print(f"warning: webhook not notified: {kind} ({where(url)})", file=sys.stderr)
        return False
    if response.status >= 300:
        print(f"warning: webhook answered HTTP {response.status} ({where(url)})", file=sys.stderr)
        return False
    return True
