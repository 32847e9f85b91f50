"""How every KFP API call is made: a timeout, bounded retries with backoff, status as data.

The policy in one place:

- Every request has a ``(connect, read)`` timeout; ``kfp_server_api`` sets none.
- Reads (GET) and calls that converge on their own (delete, enable, disable) are retried
  on a connection error, a timeout or a 5xx, with exponential backoff, within a total
  deadline per call.
- A create is never retried blindly: after a lost response or a 409 the caller looks
  for what it asked for and either finds it (the first attempt did commit) or tries
  again (see :meth:`Calls.create`).
- Redirects are not followed: Kubeflow's gateway answers a request without a valid
  session with a redirect to its login page, which must read as "not authorized", not
  as an HTML page to parse.
- Errors carry the HTTP status (``None`` for a transport failure); nothing here looks
  at message text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from components.shared.errors import KfopsError, one_line

T = TypeVar("T")


class ApiError(KfopsError):
    """The KFP API refused a request or stayed unreachable.

    Attributes:
        status: The HTTP status, or ``None`` when no answer came (connection error, timeout).
    """

    exit_code = 1

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ApiError):
    """The gateway or the API server did not accept the credentials (401, 403, a login redirect)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts and retries of one call.

    Attributes:
        connect_timeout: Seconds to open a connection.
        read_timeout: Seconds to wait for an answer.
        attempts: Most attempts of a retriable call.
        backoff: Seconds before the second attempt; doubles each time.
        deadline: Seconds a call may take in all, retries included; no attempt starts
            that could not finish within it.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    attempts: int = 4
    backoff: float = 0.5
    deadline: float = 60.0

    @property
    def timeout(self) -> tuple[float, float]:
        """The ``(connect, read)`` pair the generated client takes as ``_request_timeout``."""
        return (self.connect_timeout, self.read_timeout)


TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


def is_transient(error: ApiError) -> bool:
    """No answer, or an answer that says "try again later"."""
    return error.status is None or error.status in TRANSIENT_STATUSES


class Calls:
    """Makes calls of the generated ``kfp_server_api`` under one :class:`RetryPolicy`."""

    def __init__(
        self,
        host: str,
        namespace: str,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.namespace = namespace
        self.policy = policy
        self._sleep = sleep
        self._clock = clock

    def once(self, what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One attempt of ``call``, its failure turned into :class:`ApiError`."""
        import urllib3
        from kfp_server_api.exceptions import ApiException

        try:
            return call(*args, _request_timeout=self.policy.timeout, **kwargs)
        except ApiException as exc:
            raise self._refusal(what, exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ApiError(f"cannot {what}: no answer from {self.host} ({self._transport(exc)})") from None

    def retried(self, what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call``, retried on transient failures with backoff, within the deadline.

        Only for calls that may safely run twice (reads, deletes, enable/disable).
        """
        started = self._clock()
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return self.once(what, call, *args, **kwargs)
            except ApiError as exc:
                if not is_transient(exc) or not self._may_retry(attempt, started, delay):
                    raise self._final(exc, attempt) from None
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def create(self, what: str, send: Callable[[], T], find: Callable[[], T | None]) -> tuple[T, bool]:
        """Create something exactly once, also when a response is lost.

        ``send`` makes the create request; ``find`` looks up what it creates (by its
        unique name) and returns it or ``None``. After a lost response, a 5xx or a
        409, ``find`` decides: found means an earlier attempt committed.

        Returns:
            ``(the created or found object, True if this call created it)``.
        """
        started = self._clock()
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return send(), True
            except ApiError as exc:
                if exc.status != 409 and not is_transient(exc):
                    raise
                found = find()  # its own reads are retried
                if found is not None:
                    # A 409 to the first attempt: it was there before. Otherwise an
                    # attempt of ours committed and its answer was lost.
                    return found, not (exc.status == 409 and attempt == 1)
                if exc.status == 409 or not self._may_retry(attempt, started, delay):
                    raise self._final(exc, attempt) from None
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _transport(self, exc: BaseException) -> str:
        """A short name for a transport failure (urllib3 wraps the cause in MaxRetryError)."""
        import urllib3

        cause = getattr(exc, "reason", None) or exc
        # (before NewConnectionError, from which urllib3 derives it)
        if isinstance(cause, urllib3.exceptions.NameResolutionError):
            return "host name not found"
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            return "connection refused or host unreachable"
        # (checked after NewConnectionError, which urllib3 derives from it)
        if isinstance(cause, urllib3.exceptions.ConnectTimeoutError):
            return f"connection timed out after {self.policy.connect_timeout:g} s"
        if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
            return f"timed out: no response within {self.policy.read_timeout:g} s"
        if isinstance(cause, urllib3.exceptions.SSLError):
            return f"TLS failed: {one_line(cause)[:120]}"
        if isinstance(cause, urllib3.exceptions.ProtocolError):
            return "connection closed before a response"
        return type(cause).__name__

    def _may_retry(self, attempt: int, started: float, delay: float) -> bool:
        # Another attempt only if it could end within the deadline: the wait before it, then
        # a connect and a read that may each take their whole timeout.
        budget = self.policy.deadline - (self._clock() - started)
        worst_next = delay + self.policy.connect_timeout + self.policy.read_timeout
        return attempt < self.policy.attempts and budget >= worst_next

    def _final(self, error: ApiError, attempt: int) -> ApiError:
        if attempt == 1 or not is_transient(error):
            return error
        return type(error)(f"{error} (after {attempt} attempts)", error.status)

    def _refusal(self, what: str, exc: Any) -> ApiError:
        status = int(exc.status) if exc.status else None
        body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else str(exc.body or "")
        if status in (301, 302, 303, 307, 308):
            # the page without its query (which may carry state or a token)
            page = ((exc.headers or {}).get("Location") or "").split("?")[0] or "a page it did not name"
            return AuthError(
                f"cannot {what}: {self.host} redirected to {page} (a login page): "
                "the gateway did not accept the token",
                status,
            )
        if status in (401, 403):
            return AuthError(
                f"cannot {what}: HTTP {status} from {self.host}: the token was refused; check that it "
                "is unexpired, has audience pipelines.kubeflow.org, and that its identity may edit "
                f"pipelines in namespace {self.namespace or '(none given)'}",
                status,
            )
        reason = one_line(_message(body) or exc.reason or "")[:300]
        return ApiError(f"cannot {what}: HTTP {status}: {reason}", status)


def _message(body: str) -> str:
    """The error message of a KFP error body (gRPC-gateway or upload server shape), else the body."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error_message") or data.get("error") or body)
    return body
