"""Minting KFP tokens: EKS bearer token and TokenRequest against a local Kubernetes API stub."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from components.shared.errors import InputError, KfopsError
from kfops import auth


class _KubeApi(BaseHTTPRequestHandler):
    """Answers POST /api/v1/namespaces/NS/serviceaccounts/NAME/token like the API server."""

    allowed = ("team-ml", "kfops-ci")
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        parts = self.path.strip("/").split("/")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if not str(self.headers.get("Authorization", "")).startswith("Bearer k8s-aws-v1."):
            return self._send(401, {"kind": "Status", "code": 401})
        if (parts[3], parts[5]) != self.allowed:
            return self._send(403, {"kind": "Status", "code": 403})
        if body["spec"].get("expirationSeconds", 0) < 600:
            return self._send(422, {"kind": "Status", "code": 422})
        self._send(
            201,
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": body["spec"],
                "status": {"token": "minted-token", "expirationTimestamp": "2026-11-22T07:00:00Z"},
            },
        )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def kube_api() -> Iterator[str]:
    _KubeApi.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KubeApi)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_eks_token_is_a_presigned_get_caller_identity_bound_to_the_cluster(aws_env: dict[str, str]) -> None:
    token = auth.eks_token("ml-dev")
    assert token.startswith("k8s-aws-v1.")
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    query = parse_qs(urlparse(url).query)
    assert query["Action"] == ["GetCallerIdentity"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0]
    assert query["X-Amz-Expires"] == ["60"]


def test_the_eks_token_signs_the_cluster_name_itself(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header's value travels only inside the signature: at one instant, the same
    cluster gives the same token and another cluster another one (a token minted for
    one cluster is refused by the next)."""
    import datetime as dt

    import botocore.auth

    instant = dt.datetime(2026, 1, 2, 3, 4, 5)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: instant)
    token = auth.eks_token("ml-dev")
    assert auth.eks_token("ml-dev") == token
    assert auth.eks_token("ml-prod") != token


def test_token_request_asks_for_the_kfp_audience_and_ten_minutes(kube_api: str) -> None:
    token = auth.request_token(kube_api, "", "k8s-aws-v1.abc", "team-ml", "kfops-ci")
    assert token == "minted-token"
    (call,) = _KubeApi.seen
    assert call["path"] == "/api/v1/namespaces/team-ml/serviceaccounts/kfops-ci/token"
    assert call["auth"] == "Bearer k8s-aws-v1.abc"
    assert call["body"]["spec"] == {"audiences": ["pipelines.kubeflow.org"], "expirationSeconds": 600}


def test_another_service_account_is_refused_with_what_to_check(kube_api: str) -> None:
    with pytest.raises(KfopsError, match=r"refused a token for team-ml/admin \(403\).*kfops-deployers"):
        auth.request_token(kube_api, "", "k8s-aws-v1.abc", "team-ml", "admin")


def test_unreachable_kubernetes_api_is_a_clear_error() -> None:
    with pytest.raises(KfopsError, match="cannot reach the Kubernetes API"):
        auth.request_token("http://127.0.0.1:9", "", "k8s-aws-v1.abc", "team-ml", "kfops-ci")


def test_mint_uses_the_described_cluster_endpoint(
    kube_api: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "describe_cluster", lambda name: {"endpoint": kube_api, "name": name})
    assert auth.mint_kfp_token("ml-dev", "team-ml/kfops-ci") == "minted-token"
    assert _KubeApi.seen[0]["auth"].startswith("Bearer k8s-aws-v1.")


def test_describe_cluster_against_moto_names_a_missing_cluster(aws_env: dict[str, str]) -> None:
    with pytest.raises(KfopsError, match="cannot describe EKS cluster 'nope'"):
        auth.describe_cluster("nope")


@pytest.mark.parametrize("value", ["kfops-ci", "/kfops-ci", "team-ml/", "a/b/c"])
def test_service_account_must_be_namespace_slash_name(value: str) -> None:
    with pytest.raises(InputError, match="NAMESPACE/NAME"):
        auth.parse_service_account(value)


def test_a_bearer_token_kubernetes_rejects_is_named_as_refused(kube_api: str) -> None:
    # 401 (the EKS token itself refused) is the access-entry problem as much as 403.
    with pytest.raises(KfopsError, match=r"refused a token for team-ml/kfops-ci \(401\).*kfops-deployers"):
        auth.request_token(kube_api, "", "not-an-eks-token", "team-ml", "kfops-ci")


def test_another_refusal_names_its_status(kube_api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "EXPIRATION_SECONDS", 60)  # the stub answers 422 below ten minutes
    with pytest.raises(KfopsError, match=r"TokenRequest for team-ml/kfops-ci failed: HTTP 422$"):
        auth.request_token(kube_api, "", "k8s-aws-v1.abc", "team-ml", "kfops-ci")


def test_the_cluster_ca_is_what_the_client_trusts_and_is_removed_afterwards(
    kube_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubernetes import client as k8s

    trusted: list[bytes | None] = []
    real = k8s.ApiClient

    def spying(configuration: Any, *args: Any, **kwargs: Any) -> Any:
        path = configuration.ssl_ca_cert
        trusted.append(None if path is None else open(path, "rb").read())  # noqa: SIM115
        spying.path = path  # type: ignore[attr-defined]
        return real(configuration, *args, **kwargs)

    monkeypatch.setattr(k8s, "ApiClient", spying)
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    auth.request_token(kube_api, base64.b64encode(pem).decode(), "k8s-aws-v1.abc", "team-ml", "kfops-ci")
    assert trusted == [pem]
    assert not os.path.exists(spying.path)  # type: ignore[attr-defined]
    auth.request_token(kube_api, "", "k8s-aws-v1.abc", "team-ml", "kfops-ci")
    assert trusted == [pem, None]  # no CA given: the system's


def test_the_token_request_is_sent_once_within_the_deadline() -> None:
    """No retries by urllib3 (3 by default): the network deadline alone bounds the call."""
    import socket

    accepted = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def close_each() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)
            connection.close()  # no answer at all

    threading.Thread(target=close_each, daemon=True).start()
    port = listener.getsockname()[1]
    with pytest.raises(KfopsError, match="cannot reach the Kubernetes API"):
        auth.request_token(f"http://127.0.0.1:{port}", "", "k8s-aws-v1.abc", "team-ml", "kfops-ci")
    listener.close()
    assert len(accepted) == 1


def test_describe_cluster_names_the_error_code(aws_env: dict[str, str]) -> None:
    with pytest.raises(KfopsError, match=r"cannot describe EKS cluster 'nope': ResourceNotFoundException$"):
        auth.describe_cluster("nope")


def test_describe_cluster_without_an_endpoint_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(KfopsError, match=r"^cannot connect to EKS at http://127\.0\.0\.1:9$"):
        auth.describe_cluster("ml-dev")
