"""One deadline per network operation: connect, read and retries together end within it.

Every command that talks to a network service (an HTTPS source, S3, ECR, STS, EKS, the
Kubernetes API) fails within ``KFOPS_NETWORK_TIMEOUT`` seconds (default 60) when the
service accepts the connection and never answers, naming the host and "timed out".
The KFP client applies it through its own retry policy (`components.kfp_api.client.configured_policy`).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any
from urllib.parse import urlparse

from components.shared.errors import InputError, KfopsError

DEADLINE_ENV = "KFOPS_NETWORK_TIMEOUT"
DEFAULT_DEADLINE = 60.0
#: Longest connect attempt (a silent TCP peer must leave time for a retry).
CONNECT_SECONDS = 5.0
#: Attempts per AWS API call (botocore's standard mode backs off up to 1 + 2 s between them).
AWS_ATTEMPTS = 3
_AWS_BACKOFF_BUDGET = 3.0


def network_deadline() -> float:
    """Seconds one network operation may take (``KFOPS_NETWORK_TIMEOUT``, default 60).

    Raises:
        InputError: Not a number from 1 to 3600.
    """
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{DEADLINE_ENV} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or not 1 <= value <= 3600:
        raise InputError(f"{DEADLINE_ENV} must be between 1 and 3600 seconds, got {raw!r}")
    return value


def host_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: never its path, query or credentials (they may be secret)."""
    parsed = urlparse(url if "://" in url else f"https://{url}")
    host = parsed.hostname or "?"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}"


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a connect or read timeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, TimeoutError) or "Timeout" in name or "timed out" in str(current):
            return True
        current = getattr(current, "reason", None) or current.__cause__ or current.__context__
        if not isinstance(current, BaseException):
            current = None
    return False


class Deadline:
    """The time left for one network operation, shared by its attempts.

    Args:
        what: The service in words, with its host (e.g. ``the Kubernetes API at https://...``).
        seconds: The budget (default: `network_deadline`).
    """

    def __init__(self, what: str, seconds: float | None = None) -> None:
        self.what = what
        self.seconds = network_deadline() if seconds is None else seconds
        self._end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - time.monotonic())

    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds for the next attempt, within what is left.

        Raises:
            KfopsError: Nothing is left.
        """
        left = self.remaining()
        if left < 0.05:
            raise self.timed_out()
        return min(CONNECT_SECONDS, left), left

    def timed_out(self) -> KfopsError:
        """The error of a service that did not answer in time."""
        return KfopsError(f"{self.what} timed out: no answer within {self.seconds:g} s ({DEADLINE_ENV})")

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` if that leaves time for another attempt; ``False`` when it would not."""
        if self.remaining() <= seconds + 1.0:
            return False
        time.sleep(seconds)
        return True


def botocore_config(**extra: Any) -> Any:
    """A botocore ``Config`` whose attempts, with their timeouts and backoff, end within the deadline.

    Per attempt: connect at most 5 s, each read at most what the budget leaves for it;
    three attempts (standard-mode backoff between them).
    """
    from botocore.config import Config

    total = network_deadline()
    connect = min(CONNECT_SECONDS, total / 12)
    read = max(0.5, (total - _AWS_BACKOFF_BUDGET) / AWS_ATTEMPTS - connect)
    return Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"total_max_attempts": AWS_ATTEMPTS, "mode": "standard"},
        **extra,
    )


def aws_failure(service: str, endpoint: str, exc: BaseException) -> str | None:
    """A one-line reason for an AWS call that timed out or found no endpoint (else ``None``)."""
    if is_timeout(exc):
        seconds = network_deadline()
        return f"{service} at {host_of(endpoint)} timed out: no answer within {seconds:g} s ({DEADLINE_ENV})"
    if type(exc).__name__ in ("EndpointConnectionError", "ConnectionClosedError", "ProxyConnectionError"):
        return f"cannot connect to {service} at {host_of(endpoint)}"
    return None
