"""Names that infra/, kfops/ and components/ must agree on, each defined once, here.

The Pulumi program (``infra/``) creates and annotates what the CLI (``kfops``) and the
component images later name: ServiceAccounts, labels, repositories, store prefixes. A
name spelled in two places drifts apart silently (a KServe ServiceAccount with the IRSA
role but a different name in the InferenceService), so every such name lives here and
the others import it (``tests/test_code_shape.py`` fails on a second spelling).

Plain constants that import nothing of the project: every image copies
``components/shared``, and importing this costs the Pulumi program and the CLI nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

#: The project's name where it marks what it made: label values, the marker key in the
#: JSON description of recurring runs and pipeline versions, the default KFP experiment.
PROJECT = "kfops"

# --- Kubernetes ---------------------------------------------------------------------------

#: Labels on every Kubernetes object kfops creates (``infra/kubernetes_objects.py``,
#: the InferenceServices of ``kfops serve``).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF_LABEL = "app.kubernetes.io/part-of"
LABELS = MappingProxyType({MANAGED_BY_LABEL: PROJECT, PART_OF_LABEL: PROJECT})

#: What Kubeflow runs pipeline pods as in each profile namespace (infra gives it an IRSA role).
PIPELINE_SERVICE_ACCOUNT = "default-editor"
#: The ServiceAccount KServe's storage initializer loads models with: infra annotates it with
#: the read-only IRSA role, ``kfops serve`` names it in ``spec.predictor.serviceAccountName``.
KSERVE_SERVICE_ACCOUNT = "kserve-models"
#: The ServiceAccount CI mints short-lived KFP tokens for (``--token-from-eks``), per namespace.
CI_SERVICE_ACCOUNT = "kfops-ci"
#: The Kubernetes group the EKS access entry maps the deploy role to (it may mint CI tokens).
DEPLOYERS_GROUP = "kfops-deployers"

# --- the KFP API ----------------------------------------------------------------------------

#: Audience of the ServiceAccount tokens the KFP API accepts (Istio's m2m path).
PIPELINES_AUDIENCE = "pipelines.kubeflow.org"
#: Where Kubeflow's PodDefault mounts the KFP token in a pod, and the variable naming the file.
TOKEN_DIR = "/var/run/secrets/kubeflow/pipelines"
TOKEN_PATH = f"{TOKEN_DIR}/token"
TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
#: The pod label the kfops PodDefault selects to mount that token (the retrain trigger carries it).
TOKEN_POD_LABEL = ("access-ml-pipeline", "true")
#: Display-name prefix of the recurring runs ``kfops deploy`` manages (the retrain trigger reads
#: which version they run); their JSON description also carries ``{PROJECT: true}``.
MANAGED_PREFIX = "kfops:"
#: The KFP experiment scheduled and triggered runs go to unless ``schedules.yaml`` names one.
DEFAULT_EXPERIMENT = PROJECT

# --- AWS ------------------------------------------------------------------------------------

#: ECR repository names of the component images (``kfops-<component>``); infra scopes the
#: registry roles to ``repository/kfops-*``.
IMAGE_PREFIX = "kfops-"


# --- the store ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Top-level prefixes of a store root (infra scopes every role's S3 access to them)."""

    data: str = "data"
    models: str = "models"
    metrics: str = "metrics"
    predictions: str = "predictions"
    pipelines: str = "pipelines"


LAYOUT = Layout()
