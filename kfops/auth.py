"""Short-lived KFP API tokens minted from ambient AWS credentials (no stored secret).

Chain: AWS credentials (GitHub OIDC in CI) → an EKS bearer token (a presigned STS
``GetCallerIdentity`` URL, as ``aws eks get-token`` makes) → the Kubernetes
TokenRequest API for one ServiceAccount (audience ``pipelines.kubeflow.org``,
10 minutes: Kubernetes refuses less than 600 s) → ``Authorization: Bearer`` to KFP.
"""

from __future__ import annotations

import base64
import os
import tempfile
from typing import Any

from components.shared.errors import InputError, KfopsError
from components.shared.names import DEPLOYERS_GROUP, PIPELINES_AUDIENCE

EXPIRATION_SECONDS = 600  # the Kubernetes minimum
EKS_TOKEN_TTL = 60


def parse_service_account(value: str) -> tuple[str, str]:
    """``NAMESPACE/NAME`` → ``(namespace, name)``."""
    namespace, _, name = value.partition("/")
    if not namespace or not name or "/" in name:
        raise InputError(f"--service-account must be NAMESPACE/NAME, got {value!r}")
    return namespace, name


def eks_token(cluster: str, session: Any = None) -> str:
    """An EKS bearer token for the ambient AWS identity (what ``aws eks get-token`` prints)."""
    import boto3
    from botocore.signers import RequestSigner

    session = session or boto3.session.Session()
    sts = session.client("sts")
    signer = RequestSigner(
        sts.meta.service_model.service_id,
        sts.meta.region_name,
        "sts",
        "v4",
        session.get_credentials(),
        session.events,
    )
    url = signer.generate_presigned_url(
        {
            "method": "GET",
            "url": f"{sts.meta.endpoint_url}/?Action=GetCallerIdentity&Version=2011-06-15",
            "body": {},
            "headers": {"x-k8s-aws-id": cluster},
            "context": {},
        },
        region_name=sts.meta.region_name,
        expires_in=EKS_TOKEN_TTL,
        operation_name="",
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def mint_kfp_token(cluster: str, service_account: str) -> str:
    """A 10-minute KFP token for ``NAMESPACE/NAME`` on EKS cluster ``cluster``.

    Raises:
        InputError: Bad ``--service-account``.
        KfopsError: The cluster cannot be described or the TokenRequest is refused.
    """
    namespace, name = parse_service_account(service_account)
    described = describe_cluster(cluster)
    ca = (described.get("certificateAuthority") or {}).get("data", "")
    return request_token(described["endpoint"], ca, eks_token(cluster), namespace, name)


def describe_cluster(cluster: str) -> dict[str, Any]:
    """``eks:DescribeCluster`` with timeouts and bounded retries."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from components.shared.deadline import aws_failure, botocore_config

    eks = boto3.client("eks", config=botocore_config())
    try:
        return dict(eks.describe_cluster(name=cluster)["cluster"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise KfopsError(f"cannot describe EKS cluster {cluster!r}: {code or 'refused'}") from None
    except BotoCoreError as exc:
        reason = aws_failure("EKS", eks.meta.endpoint_url, exc)
        raise KfopsError(reason or f"cannot describe EKS cluster {cluster!r}: {type(exc).__name__}") from None


def request_token(endpoint: str, ca_data: str, bearer: str, namespace: str, name: str) -> str:
    """TokenRequest for ``namespace/name`` (audience KFP, 600 s) against a Kubernetes API.

    One attempt within the network deadline (``KFOPS_NETWORK_TIMEOUT``): a silent API
    fails in time, naming its host; the bearer token is never part of a message.
    """
    from kubernetes import client as k8s

    from components.shared.deadline import Deadline, host_of, is_timeout

    deadline = Deadline(f"the Kubernetes API at {host_of(endpoint)}")
    configuration = k8s.Configuration()
    configuration.host = endpoint
    configuration.api_key = {"authorization": bearer}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    configuration.retries = False  # one attempt: the deadline bounds it (urllib3 would retry 3 times)
    ca_file = None
    try:
        if ca_data:
            with tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False) as handle:
                handle.write(base64.b64decode(ca_data))
            ca_file = handle.name
            configuration.ssl_ca_cert = ca_file
        api = k8s.CoreV1Api(k8s.ApiClient(configuration))
        request = k8s.AuthenticationV1TokenRequest(
            spec=k8s.V1TokenRequestSpec(audiences=[PIPELINES_AUDIENCE], expiration_seconds=EXPIRATION_SECONDS)
        )
        try:
            response = api.create_namespaced_service_account_token(
                name, namespace, request, _request_timeout=deadline.timeout()
            )
        except k8s.ApiException as exc:
            if exc.status in (401, 403):
                raise KfopsError(
                    f"Kubernetes refused a token for {namespace}/{name} ({exc.status}): check the EKS access "
                    f"entry of this AWS role (group {DEPLOYERS_GROUP}) and the token-minter RoleBinding"
                ) from None
            raise KfopsError(f"TokenRequest for {namespace}/{name} failed: HTTP {exc.status}") from None
        except KfopsError:
            raise
        except Exception as exc:  # urllib3 connection errors and timeouts
            if is_timeout(exc):
                raise deadline.timed_out() from None
            raise KfopsError(
                f"cannot reach the Kubernetes API at {host_of(endpoint)}: {type(exc).__name__}"
            ) from None
    finally:
        if ca_file:
            os.unlink(ca_file)
    return str(response.status.token)
