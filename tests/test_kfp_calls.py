"""How every KFP API call is made (components/kfp_api/calls.py), without a server.

The calls are stubs of the generated client's operations that return or raise what
``kfp_server_api`` raises: ``ApiException(http_resp=...)`` built from a real
``urllib3.HTTPResponse`` for an answer that is not 2xx (kfp_server_api/rest.py), and
the urllib3 errors that a request with kfops' retry settings (no retries, no redirects:
``KfpApi.__init__``) really raises against a refused port, a silent listener, a peer
that hangs up or does not speak TLS. Time is a fake clock that sleeping advances, so
backoff and deadlines are checked to the second.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import urllib3
from kfp_server_api.exceptions import ApiException
from kfp_server_api.rest import RESTResponse

from components.kfp_api.calls import ApiError, AuthError, Calls, RetryPolicy, is_transient
from components.shared.deadline import CONNECT_SECONDS, DEFAULT_DEADLINE
from components.shared.errors import EXIT_INPUT, KfopsError

HOST = "https://kf.example.com/pipeline"
NS = "team-ml"
FAST = RetryPolicy(connect_timeout=1.0, read_timeout=2.0, attempts=4, backoff=0.5, deadline=60.0)


class FakeTime:
    """A monotonic clock (not starting at 0) that ``sleep`` and slow calls advance."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Operation:
    """A generated-client operation: each call takes ``takes`` seconds, then gives the next outcome
    (an exception is raised, anything else returned)."""

    def __init__(self, time: FakeTime, outcomes: list[Any], takes: float = 0.0) -> None:
        self.time = time
        self.outcomes = list(outcomes)
        self.takes = takes
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        self.time.now += self.takes
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def answer(
    status: int, body: bytes = b"", reason: str = "", headers: dict[str, str] | None = None
) -> ApiException:
    """What the generated client raises for a non-2xx answer (rest.py: ``ApiException(http_resp=r)``)."""
    response = urllib3.HTTPResponse(body=body, status=status, reason=reason, headers=headers or {})
    return ApiException(http_resp=RESTResponse(response))


def unavailable() -> ApiException:
    return answer(
        503, b'{"error":"upstream connect error","code":14,"message":"unavailable"}', "Service Unavailable"
    )


def grpc_body(message: str, code: int = 3) -> bytes:
    """A gRPC-gateway error body, as the KFP API server writes it."""
    return json.dumps({"error": message, "code": code, "message": message, "details": []}).encode()


def calls_with(time: FakeTime, policy: RetryPolicy = FAST, namespace: str = NS) -> Calls:
    return Calls(HOST, namespace, policy, sleep=time.sleep, clock=time.clock)


def refusal(exc: BaseException, policy: RetryPolicy = FAST, namespace: str = NS) -> ApiError:
    """The error one attempt of a call that raises ``exc`` becomes."""
    with pytest.raises(ApiError) as caught:
        calls_with(FakeTime(), policy, namespace).once("get thing", Operation(FakeTime(), [exc]))
    return caught.value


# -- real urllib3 failures, with the retry settings of KfpApi ---------------------------------------

RETRIES = urllib3.Retry(total=0, redirect=0, raise_on_redirect=False, raise_on_status=False)


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


@pytest.fixture(scope="module")
def transport() -> Iterator[Callable[..., urllib3.exceptions.HTTPError]]:
    """``transport(kind, method)``: the error urllib3 raises for a request to a peer that refuses the
    connection, accepts it and stays silent, hangs up at once, or hangs up in a TLS handshake."""
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        refused = probe.getsockname()[1]
    silent, hanging_up = _listener(), _listener()

    def hang_up() -> None:
        while True:
            try:
                conn, _ = hanging_up.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    ports = {"refused": refused, "silent": silent.getsockname()[1], "hang-up": hanging_up.getsockname()[1]}
    pool = urllib3.PoolManager(retries=RETRIES)

    def failure(kind: str, method: str = "GET") -> urllib3.exceptions.HTTPError:
        scheme, port = ("https", ports["hang-up"]) if kind == "tls" else ("http", ports[kind])
        try:
            url = f"{scheme}://127.0.0.1:{port}/apis/v2beta1/healthz"
            body = b"x" if method == "POST" else None
            pool.request(method, url, body=body, timeout=urllib3.Timeout(connect=1.0, read=0.05))
        except urllib3.exceptions.HTTPError as exc:
            return exc
        raise AssertionError(f"{kind}: answered")

    yield failure
    silent.close()
    hanging_up.close()


def gave_up(reason: Exception | None) -> urllib3.exceptions.MaxRetryError:
    """How urllib3 raises a failed request under ``Retry(total=0)`` (``Retry.increment``)."""
    pool = urllib3.HTTPSConnectionPool("kf.example.com")
    return urllib3.exceptions.MaxRetryError(pool, "/pipeline/apis/v2beta1/healthz", reason)


def connect_timeout() -> urllib3.exceptions.MaxRetryError:
    """urllib3's error for a connect that timed out (``_new_conn`` in connection.py)."""
    return gave_up(
        urllib3.exceptions.ConnectTimeoutError(
            None, "Connection to kf.example.com timed out. (connect timeout=1.0)"
        )
    )


# -- the policy -------------------------------------------------------------------------------------


def test_the_default_policy_keeps_the_project_network_deadline() -> None:
    """README: every KFP API call ends within one deadline, 60 s by default; a connect attempt
    is bounded like every other connect (components/shared/deadline.py); a silent server's
    read takes at most half the deadline."""
    policy = RetryPolicy()
    assert policy.deadline == DEFAULT_DEADLINE
    assert policy.connect_timeout == CONNECT_SECONDS
    assert policy.read_timeout == policy.deadline / 2
    assert policy.timeout == (policy.connect_timeout, policy.read_timeout)


def test_with_the_default_policy_a_persistent_503_is_asked_four_times_waiting_longer_each_time() -> None:
    time = FakeTime()
    operation = Operation(time, [unavailable() for _ in range(4)])
    with pytest.raises(ApiError, match=r"HTTP 503: unavailable \(after 4 attempts\)$"):
        calls_with(time, RetryPolicy()).retried("list pipelines", operation)
    assert len(operation.calls) == 4 and time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("deadline", [None, 4.0, 60.0, 100.0])
def test_a_silent_server_is_given_up_on_within_the_deadline(
    transport: Callable[..., urllib3.exceptions.HTTPError],
    monkeypatch: pytest.MonkeyPatch,
    deadline: float | None,
) -> None:
    """Each attempt waits the whole read timeout it is given; no attempt starts that could end
    after the deadline (the default 60 s, or KFOPS_NETWORK_TIMEOUT), so the call ends within it."""
    from components.kfp_api.client import configured_policy

    if deadline is None:
        monkeypatch.delenv("KFOPS_NETWORK_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("KFOPS_NETWORK_TIMEOUT", str(deadline))
    policy = configured_policy()
    time = FakeTime()
    started = time.now

    def silent(*args: Any, _request_timeout: tuple[float, float], **kwargs: Any) -> None:
        time.now += _request_timeout[1]
        raise transport("silent")

    with pytest.raises(ApiError, match=r"no answer from .* \(timed out: no response within \d+(\.\d+)? s\)"):
        calls_with(time, policy).retried("list pipelines", silent)
    assert time.now - started <= policy.deadline
    # ... and it retries as long as the next wait and a whole attempt still fit (or attempts last)
    attempts = 1 + len(time.sleeps)
    next_wait = policy.backoff * 2 ** (attempts - 1)
    elapsed = time.now - started
    assert attempts == policy.attempts or elapsed + next_wait + sum(policy.timeout) > policy.deadline


def test_a_policy_cannot_be_changed_in_place() -> None:
    """Every client without a policy of its own shares the default one (client.DEFAULT_POLICY)."""
    policy = RetryPolicy()
    for field in dataclasses.fields(policy):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(policy, field.name, 100)
    assert policy == RetryPolicy() and hash(policy) == hash(RetryPolicy())


def test_the_sleep_and_the_clock_are_given_by_name_only() -> None:
    """Both are functions of numbers: given by position, one could silently stand in for the other."""
    time = FakeTime()
    with pytest.raises(TypeError):
        Calls(HOST, NS, FAST, *[time.sleep, time.clock])
    assert Calls(HOST, NS, FAST, sleep=time.sleep, clock=time.clock).policy is FAST


def test_only_no_answer_and_try_again_later_statuses_are_transient() -> None:
    for status in (None, 429, 500, 502, 503, 504):
        assert is_transient(ApiError("x", status)), status
    for status in (200, 301, 302, 400, 401, 403, 404, 409, 428, 430, 499, 501, 505):
        assert not is_transient(ApiError("x", status)), status


def test_an_api_error_exits_1_unlike_bad_input() -> None:
    for error in (ApiError("refused", 400), AuthError("no", 401)):
        assert isinstance(error, KfopsError) and error.exit_code == 1 != EXIT_INPUT
    assert ApiError("no answer").status is None and AuthError("no", 403).status == 403


# -- one attempt ------------------------------------------------------------------------------------


def test_one_attempt_passes_the_arguments_with_the_policy_timeout_and_returns_the_answer() -> None:
    time = FakeTime()
    operation = Operation(time, ["the page"])
    result = calls_with(time).once("list versions", operation, "pipeline-1", page_size=100)
    assert result == "the page"
    assert operation.calls == [(("pipeline-1",), {"page_size": 100, "_request_timeout": (1.0, 2.0)})]


def test_a_refusal_carries_the_status_and_the_server_message_not_the_exception_chain() -> None:
    error = refusal(answer(404, grpc_body("pipeline version not found", 5), "Not Found"))
    assert type(error) is ApiError and error.status == 404
    assert str(error) == "cannot get thing: HTTP 404: pipeline version not found"
    assert error.__cause__ is None and error.__suppress_context__


def test_the_message_is_read_from_the_grpc_gateway_or_upload_server_body_else_the_body_itself() -> None:
    bodies = {
        json.dumps({"error": "e", "code": 3, "message": "the message"}): "the message",
        json.dumps(
            {"error_message": "the upload message", "error_details": "d", "error": "e"}
        ): "the upload message",
        json.dumps({"error": "only an error"}): "only an error",
        json.dumps({"code": 3}): '{"code": 3}',
        json.dumps({"message": "", "error": "an empty message is skipped"}): "an empty message is skipped",
        json.dumps(["a", "list"]): '["a", "list"]',
        "upstream request timeout": "upstream request timeout",
    }
    for body, expected in bodies.items():
        assert (
            str(refusal(answer(400, body.encode(), "Bad Request")))
            == f"cannot get thing: HTTP 400: {expected}"
        )


def test_without_a_body_the_reason_phrase_is_the_message() -> None:
    assert str(refusal(answer(502, b"", "Bad Gateway"))) == "cannot get thing: HTTP 502: Bad Gateway"
    assert str(refusal(answer(500, b"", ""))) == "cannot get thing: HTTP 500: "


def test_a_body_that_is_not_utf8_or_spans_lines_is_shown_on_one_line() -> None:
    error = refusal(answer(500, b"<html>\n  <body>bad \xff gateway</body>\n</html>", "Internal Server Error"))
    assert str(error) == "cannot get thing: HTTP 500: <html> <body>bad \ufffd gateway</body> </html>"


def test_a_long_server_message_is_cut_to_300_characters() -> None:
    kept = "k" * 300
    assert str(refusal(answer(400, grpc_body(kept)))).endswith(f": HTTP 400: {kept}")
    cut = str(refusal(answer(400, grpc_body("c" * 301))))
    assert cut.endswith(": HTTP 400: " + "c" * 300)


def test_a_request_the_client_could_not_send_is_a_refusal_without_a_status() -> None:
    """rest.py raises ``ApiException(status=0, reason=...)`` (no answer, no body) for an SSL error it
    catches itself or a request it cannot encode."""
    error = refusal(ApiException(status=0, reason="SSLError\ncertificate verify failed"))
    assert error.status is None and is_transient(error)
    assert str(error) == "cannot get thing: HTTP None: SSLError certificate verify failed"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_the_gateway_login_page_not_an_answer(status: int) -> None:
    location = "https://kf.example.com/oauth2/start?rd=%2Fpipeline%2Fapis"
    error = refusal(answer(status, b"<a href>Found</a>", "Found", {"Location": location}))
    assert type(error) is AuthError and error.status == status and not is_transient(error)
    assert str(error) == (
        f"cannot get thing: {HOST} redirected to https://kf.example.com/oauth2/start (a login page): "
        "the gateway did not accept the token"
    )


def test_a_redirect_without_a_location_still_reads_as_a_login_page() -> None:
    error = refusal(answer(302, b"", "Found"))
    assert type(error) is AuthError and error.status == 302
    assert str(error) == (
        f"cannot get thing: {HOST} redirected to a page it did not name (a login page): "
        "the gateway did not accept the token"
    )


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_names_what_to_check_and_the_namespace(status: int) -> None:
    error = refusal(answer(status, grpc_body("Jwt is expired", 16), "Unauthorized"))
    assert type(error) is AuthError and error.status == status
    assert str(error).startswith(f"cannot get thing: HTTP {status} from {HOST}: the token was refused;")
    assert "audience pipelines.kubeflow.org" in str(error) and str(error).endswith(f"in namespace {NS}")
    assert str(refusal(answer(status), namespace="")).endswith("in namespace (none given)")


def test_a_refused_connection_is_no_answer(transport: Callable[..., urllib3.exceptions.HTTPError]) -> None:
    for method in ("GET", "POST"):
        error = refusal(transport("refused", method))
        assert type(error) is ApiError and error.status is None and is_transient(error)
        assert (
            str(error) == f"cannot get thing: no answer from {HOST} (connection refused or host unreachable)"
        )
        assert error.__cause__ is None and error.__suppress_context__


def test_a_host_name_that_does_not_resolve_is_named_so() -> None:
    """As urllib3's HTTPConnection raises it when getaddrinfo fails (connection.py, _new_conn),
    wrapped in MaxRetryError by a pool that does not retry."""
    import socket

    from urllib3.connection import HTTPConnection

    connection = HTTPConnection("kfp.example.invalid", 80)
    lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    failure = urllib3.exceptions.NameResolutionError("kfp.example.invalid", connection, lookup)
    for exc in (failure, urllib3.exceptions.MaxRetryError(None, "/apis/v2beta1/healthz", failure)):  # type: ignore[arg-type]
        error = refusal(exc)
        assert str(error) == f"cannot get thing: no answer from {HOST} (host name not found)"
        assert is_transient(error)


def test_a_connect_timeout_names_the_connect_limit() -> None:
    policy = RetryPolicy(connect_timeout=2.5, read_timeout=7.0)
    error = refusal(connect_timeout(), policy)
    assert error.status is None
    assert str(error) == f"cannot get thing: no answer from {HOST} (connection timed out after 2.5 s)"


def test_a_silent_server_is_named_timed_out_with_the_read_limit(
    transport: Callable[..., urllib3.exceptions.HTTPError],
) -> None:
    """A GET's read timeout comes wrapped in MaxRetryError, a POST's bare (urllib3 never re-sends it)."""
    policy = RetryPolicy(connect_timeout=2.5, read_timeout=7.0)
    for method in ("GET", "POST"):
        error = refusal(transport("silent", method), policy)
        assert error.status is None
        assert str(error) == f"cannot get thing: no answer from {HOST} (timed out: no response within 7 s)"


def test_a_peer_that_hangs_up_is_a_connection_closed_before_a_response(
    transport: Callable[..., urllib3.exceptions.HTTPError],
) -> None:
    for method in ("GET", "POST"):
        error = refusal(transport("hang-up", method))
        assert error.status is None
        assert str(error) == f"cannot get thing: no answer from {HOST} (connection closed before a response)"


def test_a_failed_tls_handshake_is_named_with_its_cause_on_one_short_line(
    transport: Callable[..., urllib3.exceptions.HTTPError],
) -> None:
    failure = transport("tls")
    error = refusal(failure)
    detail = (
        str(error).removeprefix(f"cannot get thing: no answer from {HOST} (TLS failed: ").removesuffix(")")
    )
    assert error.status is None and detail != str(error)
    assert (
        "EOF" in detail
        and "\n" not in detail
        and detail == str(getattr(failure, "reason", ""))[: len(detail)]
    )
    long = gave_up(urllib3.exceptions.SSLError("x" * 200))
    assert str(refusal(long)).endswith(f"(TLS failed: {'x' * 120})")
    exact = gave_up(urllib3.exceptions.SSLError("y" * 120))
    assert str(refusal(exact)).endswith(f"(TLS failed: {'y' * 120})")


def test_any_other_transport_failure_is_named_by_its_type() -> None:
    assert str(refusal(ConnectionResetError(104, "reset"))).endswith("(ConnectionResetError)")
    empty = gave_up(None)
    assert str(refusal(empty)).endswith(f"no answer from {HOST} (MaxRetryError)")


def test_an_error_that_is_not_the_clients_is_not_hidden() -> None:
    with pytest.raises(TypeError, match="a bug"):
        calls_with(FakeTime()).once("get thing", Operation(FakeTime(), [TypeError("a bug")]))


# -- retried calls ----------------------------------------------------------------------------------


def test_a_read_that_fails_transiently_is_retried_after_a_backoff_and_its_answer_returned(
    transport: Callable[..., urllib3.exceptions.HTTPError],
) -> None:
    time = FakeTime()
    operation = Operation(time, [unavailable(), transport("refused"), answer(429), "listed"])
    assert calls_with(time).retried("list pipelines", operation, "p", page_size=1) == "listed"
    assert time.sleeps == [0.5, 1.0, 2.0]
    assert all(call == (("p",), {"page_size": 1, "_request_timeout": (1.0, 2.0)}) for call in operation.calls)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, ApiError), (404, ApiError), (409, ApiError), (401, AuthError), (302, AuthError)],
)
def test_a_refusal_that_is_not_transient_is_raised_at_once_as_it_came(
    status: int, kind: type[ApiError]
) -> None:
    time = FakeTime()
    operation = Operation(time, [answer(status, grpc_body("no"), headers={"Location": "/login"})])
    with pytest.raises(kind) as caught:
        calls_with(time).retried("get thing", operation)
    assert type(caught.value) is kind and caught.value.status == status
    assert "attempts" not in str(caught.value) and len(operation.calls) == 1 and time.sleeps == []


def test_a_refusal_after_retries_is_raised_as_it_came_without_a_count() -> None:
    time = FakeTime()
    operation = Operation(time, [unavailable(), answer(404, grpc_body("gone"))])
    with pytest.raises(ApiError) as caught:
        calls_with(time).retried("get thing", operation)
    assert str(caught.value) == "cannot get thing: HTTP 404: gone" and caught.value.status == 404
    assert time.sleeps == [0.5]


def test_the_last_transient_failure_says_how_many_attempts_were_made() -> None:
    time = FakeTime()
    operation = Operation(time, [unavailable() for _ in range(3)])
    with pytest.raises(ApiError) as caught:
        calls_with(time, RetryPolicy(1.0, 2.0, attempts=3, backoff=0.25, deadline=60.0)).retried(
            "get thing", operation
        )
    assert type(caught.value) is ApiError and caught.value.status == 503
    assert str(caught.value) == "cannot get thing: HTTP 503: unavailable (after 3 attempts)"
    assert time.sleeps == [0.25, 0.5]


def test_with_one_attempt_allowed_nothing_is_retried_or_counted() -> None:
    time = FakeTime()
    operation = Operation(time, [unavailable()])
    with pytest.raises(ApiError, match=r"HTTP 503: unavailable$"):
        calls_with(time, RetryPolicy(1.0, 2.0, attempts=1, backoff=0.5, deadline=60.0)).retried(
            "get", operation
        )
    assert len(operation.calls) == 1 and time.sleeps == []


# The deadline: a retry starts only if the budget left covers the wait and a whole attempt
# (connect + read), so no call outlasts its deadline.
EXACT = RetryPolicy(connect_timeout=1.0, read_timeout=2.0, attempts=4, backoff=1.0, deadline=20.0)


@pytest.mark.parametrize(("first_takes", "attempts"), [(16.0, 2), (16.5, 1)])
def test_a_retry_starts_only_if_the_wait_and_a_whole_attempt_fit_in_the_deadline(
    first_takes: float, attempts: int
) -> None:
    """After 16 s, 4 s are left: exactly the 1 s wait + 1 s connect + 2 s read; after 16.5 s not."""
    time = FakeTime()
    operation = Operation(time, [unavailable(), "answer"], takes=first_takes)
    if attempts == 2:
        assert calls_with(time, EXACT).retried("get", operation) == "answer"
        assert time.sleeps == [1.0]
    else:
        with pytest.raises(ApiError, match=r"HTTP 503: unavailable$"):  # one attempt: no count
            calls_with(time, EXACT).retried("get", operation)
        assert time.sleeps == []
    assert len(operation.calls) == attempts


def test_the_wait_grows_and_so_does_the_time_a_retry_needs() -> None:
    """Attempts take 4 s: after the 1st a 1 s wait + 3 s fits the 16 s left, after the 3rd
    (4 + 1 + 4 + 2 + 4 = 15 s used) a 4 s wait + 3 s does not fit the 5 s left."""
    time = FakeTime()
    operation = Operation(time, [unavailable() for _ in range(4)], takes=4.0)
    with pytest.raises(ApiError, match=r"\(after 3 attempts\)$"):
        calls_with(time, EXACT).retried("get", operation)
    assert time.sleeps == [1.0, 2.0]


# -- creates ----------------------------------------------------------------------------------------


class Create:
    """A create through :meth:`Calls.create`: ``send`` is one attempt of an upload operation,
    ``find`` a lookup of what it creates by its unique name."""

    def __init__(self, sent: list[Any], found: list[Any], policy: RetryPolicy = FAST) -> None:
        self.time = FakeTime()
        self.calls = calls_with(self.time, policy)
        self.upload = Operation(self.time, sent)
        self.lookup = Operation(self.time, found)

    def run(self) -> tuple[Any, bool]:
        return self.calls.create(
            "upload version v1",
            lambda: self.calls.once("upload version v1", self.upload, "training.yaml", name="v1"),
            self.lookup,
        )


def test_a_create_that_is_answered_is_sent_once_and_not_looked_up() -> None:
    create = Create(["version v1"], [])
    assert create.run() == ("version v1", True)
    assert len(create.upload.calls) == 1 and create.lookup.calls == [] and create.time.sleeps == []


@pytest.mark.parametrize(
    ("status", "kind"), [(400, ApiError), (404, ApiError), (401, AuthError), (403, AuthError)]
)
def test_a_create_refused_for_good_is_raised_at_once_without_a_lookup(
    status: int, kind: type[ApiError]
) -> None:
    create = Create([answer(status, grpc_body("invalid spec"))], [])
    with pytest.raises(kind) as caught:
        create.run()
    assert type(caught.value) is kind and caught.value.status == status
    assert len(create.upload.calls) == 1 and create.lookup.calls == []


def test_a_409_to_the_first_attempt_finds_what_was_there_before() -> None:
    create = Create([answer(409, grpc_body("already exists", 6), "Conflict")], ["existing v1"])
    assert create.run() == ("existing v1", False)
    assert len(create.upload.calls) == 1 and len(create.lookup.calls) == 1 and create.time.sleeps == []


def test_a_409_that_nothing_explains_is_raised_at_once() -> None:
    create = Create([answer(409, grpc_body("name taken by another pipeline", 6), "Conflict")], [None])
    with pytest.raises(ApiError) as caught:
        create.run()
    assert caught.value.status == 409 and str(caught.value) == (
        "cannot upload version v1: HTTP 409: name taken by another pipeline"
    )
    assert len(create.upload.calls) == 1 and create.time.sleeps == []


@pytest.mark.parametrize("lost", ["hang-up", "silent", "503"])
def test_a_lost_answer_whose_create_committed_is_found_not_sent_again(
    transport: Callable[..., urllib3.exceptions.HTTPError], lost: str
) -> None:
    failure = unavailable() if lost == "503" else transport(lost, "POST")
    create = Create([failure], ["committed v1"])
    assert create.run() == ("committed v1", True)  # the lost attempt was this call's
    assert len(create.upload.calls) == 1 and len(create.lookup.calls) == 1 and create.time.sleeps == []


def test_a_lost_answer_whose_create_did_not_commit_is_sent_again_after_a_backoff(
    transport: Callable[..., urllib3.exceptions.HTTPError],
) -> None:
    create = Create([transport("refused", "POST"), unavailable(), "version v1"], [None, None])
    assert create.run() == ("version v1", True)
    assert len(create.upload.calls) == 3 and len(create.lookup.calls) == 2
    assert create.time.sleeps == [0.5, 1.0]


def test_a_409_to_a_later_attempt_is_an_earlier_attempt_of_this_call_that_committed() -> None:
    create = Create([unavailable(), answer(409, grpc_body("already exists", 6))], [None, "ours v1"])
    assert create.run() == ("ours v1", True)
    assert create.time.sleeps == [0.5]


def test_a_409_to_a_later_attempt_that_nothing_explains_is_raised_as_it_came() -> None:
    create = Create([unavailable(), answer(409, grpc_body("taken", 6))], [None, None])
    with pytest.raises(ApiError) as caught:
        create.run()
    assert caught.value.status == 409 and str(caught.value) == "cannot upload version v1: HTTP 409: taken"
    assert len(create.upload.calls) == 2 and create.time.sleeps == [0.5]


def test_a_create_that_never_gets_through_stops_after_the_attempts_saying_how_many() -> None:
    create = Create([unavailable() for _ in range(4)], [None] * 4)
    with pytest.raises(ApiError) as caught:
        create.run()
    assert type(caught.value) is ApiError and caught.value.status == 503
    assert str(caught.value) == "cannot upload version v1: HTTP 503: unavailable (after 4 attempts)"
    assert len(create.upload.calls) == 4 and len(create.lookup.calls) == 4
    assert create.time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(("first_takes", "attempts"), [(16.0, 2), (16.5, 1)])
def test_a_create_is_sent_again_only_within_the_deadline(first_takes: float, attempts: int) -> None:
    create = Create([unavailable(), "version v1"], [None], EXACT)
    create.upload.takes = first_takes
    if attempts == 2:
        assert create.run() == ("version v1", True)
    else:
        with pytest.raises(ApiError, match=r"HTTP 503: unavailable$"):
            create.run()
    assert len(create.upload.calls) == attempts and len(create.lookup.calls) == 1
