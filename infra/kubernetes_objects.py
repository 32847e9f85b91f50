"""The one definition of every Kubernetes object kfops needs (plain dicts, no Pulumi).

Pulumi applies these with the stack's computed values (``infra/kubernetes.py``);
``kfops manifests render`` writes the same objects, with example values, as the
kustomize ``base/`` and overlays under ``manifests/`` for review and for the kind
cluster, and a test fails if those files are stale.

Targets Kubeflow 1.10/1.11 (KFP 2.x multi-user, Istio with the m2m token path,
the admission-webhook PodDefault CRD) and KServe 0.14+.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.shared.names import (
    CI_SERVICE_ACCOUNT,
    DEPLOYERS_GROUP,
    KSERVE_SERVICE_ACCOUNT,
    LABELS,
    PIPELINE_SERVICE_ACCOUNT,
    PIPELINES_AUDIENCE,
    TOKEN_DIR,
    TOKEN_PATH,
    TOKEN_PATH_ENV,
    TOKEN_POD_LABEL,
)

Obj = dict[str, Any]

LAUNCHER_CONFIG = "kfp-launcher"  # created by KFP's profile controller, patched by kfops
KFP_EDIT_CLUSTER_ROLE = "kubeflow-pipelines-edit"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
DROP_INVALID_HEADERS = "routing.http.drop_invalid_header_fields.enabled=true"


def _meta(name: str, namespace: str | None = None, annotations: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name, "labels": dict(LABELS)}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = annotations
    return meta


@dataclass(frozen=True)
class ProfileValues:
    """Values of one profile namespace's objects.

    Attributes:
        namespace: The Kubeflow profile namespace.
        pipeline_root: ``s3://bucket/pipelines`` (or the kind cluster's store).
        ci_service_account: ServiceAccount CI mints KFP tokens for.
        kserve_service_account: ServiceAccount KServe loads models with.
        region: AWS region (KServe's S3 settings).
        pipeline_role_arn: IRSA role of ``default-editor`` ("" on kind).
        kserve_role_arn: IRSA role of KServe's ServiceAccount ("" on kind).
        s3_endpoint: S3 endpoint KServe and the launcher use.
        s3_disable_ssl: Plain HTTP to the store (only the kind cluster's in-cluster MinIO).
        s3_credentials_secret: Secret with keys for the store ("" = credentials from the pod, IRSA).
    """

    namespace: str
    pipeline_root: str
    ci_service_account: str = CI_SERVICE_ACCOUNT
    kserve_service_account: str = KSERVE_SERVICE_ACCOUNT
    region: str = "eu-west-1"
    pipeline_role_arn: str = ""
    kserve_role_arn: str = ""
    s3_endpoint: str = "s3.amazonaws.com"
    s3_disable_ssl: bool = False
    s3_credentials_secret: str = ""


def _irsa(role_arn: str) -> dict[str, str]:
    return {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {}


def pod_default(values: ProfileValues) -> Obj:
    """PodDefault ``access-ml-pipeline``: pods labelled with it get a KFP API token."""
    return {
        "apiVersion": "kubeflow.org/v1alpha1",
        "kind": "PodDefault",
        "metadata": _meta(TOKEN_POD_LABEL[0], values.namespace),
        "spec": {
            "desc": "Allow access to Kubeflow Pipelines",
            # The label the monitoring pipeline's trigger task carries (one definition).
            "selector": {"matchLabels": dict([TOKEN_POD_LABEL])},
            "env": [{"name": TOKEN_PATH_ENV, "value": TOKEN_PATH}],
            "volumes": [
                {
                    "name": "volume-kf-pipeline-token",
                    "projected": {
                        "sources": [
                            {
                                "serviceAccountToken": {
                                    "path": "token",
                                    "expirationSeconds": 7200,
                                    "audience": PIPELINES_AUDIENCE,
                                }
                            }
                        ]
                    },
                }
            ],
            "volumeMounts": [{"mountPath": TOKEN_DIR, "name": "volume-kf-pipeline-token", "readOnly": True}],
        },
    }


def launcher_config(values: ProfileValues) -> Obj:
    """``kfp-launcher``: this namespace's pipeline root, S3 credentials from the pod (IRSA).

    On EKS, KFP's profile controller creates this ConfigMap and kfops patches these two keys
    into it (``infra/kubernetes.py``); the kind overlay applies it whole.
    """
    credentials: dict[str, Any] = {"fromEnv": True}
    if values.s3_credentials_secret:
        credentials = {
            "fromEnv": False,
            "secretRef": {
                "secretName": values.s3_credentials_secret,
                "accessKeyKey": "accesskey",
                "secretKeyKey": "secretkey",
            },
        }
    providers = {
        "s3": {
            "default": {
                "endpoint": values.s3_endpoint,
                "region": values.region,
                "disableSSL": values.s3_disable_ssl,
                "credentials": credentials,
            }
        }
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(LAUNCHER_CONFIG, values.namespace),
        "data": {
            "defaultPipelineRoot": values.pipeline_root,
            "providers": json.dumps(providers, sort_keys=True),
        },
    }


def pipeline_service_account(values: ProfileValues) -> Obj:
    """``default-editor`` (created by Kubeflow) with the IRSA annotation kfops adds."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(PIPELINE_SERVICE_ACCOUNT, values.namespace, _irsa(values.pipeline_role_arn)),
    }


def _kserve_s3(values: ProfileValues) -> dict[str, str]:
    return {
        "serving.kserve.io/s3-endpoint": values.s3_endpoint,
        "serving.kserve.io/s3-usehttps": "0" if values.s3_disable_ssl else "1",
        "serving.kserve.io/s3-region": values.region,
        "serving.kserve.io/s3-useanoncredential": "false",
    }


def kserve_s3_secret(values: ProfileValues) -> Obj:
    """The S3 settings KServe's storage initializer reads from a Secret's annotations.

    It holds no keys: credentials come from the ServiceAccount's IRSA role. KServe
    versions that read these annotations from the ServiceAccount itself find them there too.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(f"{values.kserve_service_account}-s3", values.namespace, _kserve_s3(values)),
        "type": "Opaque",
    }


def kserve_service_account(values: ProfileValues) -> Obj:
    """KServe's ServiceAccount: IRSA role (read-only ``models/``) and S3 settings, no keys."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(
            values.kserve_service_account,
            values.namespace,
            {**_irsa(values.kserve_role_arn), **_kserve_s3(values)},
        ),
        "secrets": [{"name": f"{values.kserve_service_account}-s3"}],
        "automountServiceAccountToken": False,
    }


def ci_service_account(values: ProfileValues) -> Obj:
    """The ServiceAccount whose short-lived tokens CI presents to the KFP API."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(values.ci_service_account, values.namespace),
        "automountServiceAccountToken": False,
    }


def ci_pipelines_binding(values: ProfileValues) -> Obj:
    """The CI ServiceAccount may edit pipelines in this namespace only."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(f"{values.ci_service_account}-pipelines-edit", values.namespace),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": KFP_EDIT_CLUSTER_ROLE,
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": values.ci_service_account, "namespace": values.namespace}
        ],
    }


def token_minter_role(values: ProfileValues) -> Obj:
    """May create tokens for the CI ServiceAccount, and nothing else."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(f"{values.ci_service_account}-token-minter", values.namespace),
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["serviceaccounts/token"],
                "resourceNames": [values.ci_service_account],
                "verbs": ["create"],
            }
        ],
    }


def token_minter_binding(values: ProfileValues, group: str = DEPLOYERS_GROUP) -> Obj:
    """Gives the token-minter Role to the deploy identity's Kubernetes group."""
    name = f"{values.ci_service_account}-token-minter"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(name, values.namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }


def profile_objects(values: ProfileValues, *, aws: bool) -> list[Obj]:
    """Every object of one profile namespace (IRSA and KServe objects only on AWS)."""
    objects = [
        pod_default(values),
        launcher_config(values),
        ci_service_account(values),
        ci_pipelines_binding(values),
        token_minter_role(values),
        token_minter_binding(values),
    ]
    if aws:
        objects += [
            pipeline_service_account(values),
            kserve_s3_secret(values),
            kserve_service_account(values),
        ]
    return objects


@dataclass(frozen=True)
class EdgeValues:
    """Values of the cluster-wide edge objects.

    Attributes:
        hostname: Public name of Kubeflow.
        certificate_arn: ACM certificate.
        allowed_cidrs: Inbound CIDRs.
        scheme: ``internal`` or ``internet-facing``.
        waf_acl_arn: Optional WAFv2 web ACL ("" for none).
        issuer_url: The EKS cluster's OIDC issuer URL (``https://...``).
    """

    hostname: str
    certificate_arn: str
    allowed_cidrs: tuple[str, ...]
    scheme: str
    waf_acl_arn: str
    issuer_url: str


def ingress(values: EdgeValues) -> Obj:
    """ALB in front of ``istio-ingressgateway``: HTTPS only, HTTP redirected, CIDR-restricted."""
    annotations = {
        "alb.ingress.kubernetes.io/scheme": values.scheme,
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/certificate-arn": values.certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
        "alb.ingress.kubernetes.io/inbound-cidrs": ",".join(values.allowed_cidrs),
        "alb.ingress.kubernetes.io/load-balancer-attributes": DROP_INVALID_HEADERS,
        "alb.ingress.kubernetes.io/healthcheck-port": "15021",
        "alb.ingress.kubernetes.io/healthcheck-path": "/healthz/ready",
        "alb.ingress.kubernetes.io/healthcheck-protocol": "HTTP",
    }
    if values.waf_acl_arn:
        annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] = values.waf_acl_arn
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta("kfops-kubeflow", "istio-system", annotations),
        "spec": {
            "ingressClassName": "alb",
            "rules": [
                {
                    "host": values.hostname,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": "istio-ingressgateway", "port": {"number": 80}}
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }


def machine_token_authentication(values: EdgeValues) -> Obj:
    """Istio trusts ServiceAccount tokens of this cluster for the KFP audience.

    The token's ``sub`` (``system:serviceaccount:NS:NAME``) becomes the
    ``kubeflow-userid`` header, replacing anything the client sent, and KFP
    authorizes it with SubjectAccessReview against the RoleBinding above.
    ``kubeflow-groups`` is written from the ``groups`` claim as upstream does
    (kubeflow/manifests ``common/oauth2-proxy/components/istio-m2m/requestauthentication.yaml``):
    ServiceAccount tokens carry no ``groups`` claim, and the mapping is there so that a
    ``kubeflow-groups`` header sent along with a valid token is overwritten rather than
    trusted (upstream's stated reason: impersonation through a forged groups header).

    This only authenticates tokens; requests without one are refused by Kubeflow's
    ``istio-ingressgateway-require-jwt`` DENY policy, which the runbook's preflight checks.
    """
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "RequestAuthentication",
        "metadata": _meta("kfops-machine-tokens", "istio-system"),
        "spec": {
            "selector": {"matchLabels": {"app": "istio-ingressgateway"}},
            "jwtRules": [
                {
                    "issuer": values.issuer_url,
                    "jwksUri": f"{values.issuer_url}/keys",
                    "audiences": [PIPELINES_AUDIENCE],
                    "forwardOriginalToken": True,
                    "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}],
                    "outputClaimToHeaders": [
                        {"header": "kubeflow-userid", "claim": "sub"},
                        # as upstream: a client's kubeflow-groups header is not passed on as is
                        {"header": "kubeflow-groups", "claim": "groups"},
                    ],
                }
            ],
        },
    }


def edge_objects(values: EdgeValues) -> list[Obj]:
    """The cluster-wide objects (AWS only)."""
    return [ingress(values), machine_token_authentication(values)]
