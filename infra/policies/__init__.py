"""IAM policy documents, as plain dicts built from plain strings (no Pulumi, easy to lint).

Each permission policy is as narrow as its job: object actions on named prefixes
of one bucket, ``ListBucket`` limited to those prefixes, ECR actions on this
project's repositories. The one wildcard resource is ``ecr:GetAuthorizationToken``,
which AWS only accepts on ``*``. The infrastructure roles (``pulumi preview`` and
``pulumi up`` from CI) follow the same rule with name-prefix ARNs; ``infra_apply`` is
admin-like by nature (it writes IAM policies) and says so.

One module per kind of principal, re-exported here as the one API the program uses
(``policies.deploy(...)``):

* ``workloads``: the pods' IRSA roles (pipeline tasks, KServe);
* ``ci``: the GitHub Actions roles that run kfops (deploy, pull requests);
* ``infra_roles``: the roles that run Pulumi (preview, up) and the Pulumi state they reach;
* ``resources``: policies on resources (bucket, store key) and role trust;
* ``store`` and ``documents``: the statements and document shape the others share.
"""

from __future__ import annotations

from infra.policies.ci import ECR_PUSH_ACTIONS, deploy, pull_request_checks
from infra.policies.documents import Policy
from infra.policies.infra_roles import (
    ARTIFACT_BUCKET_ACTIONS,
    OIDC_PROVIDER_ACTIONS,
    PULUMI_META_KEY,
    PULUMI_STATE_PREFIX,
    REPOSITORY_ACTIONS,
    ROLE_ACTIONS,
    InfraScope,
    infra_apply,
    infra_preview,
    pulumi_state_keys,
)
from infra.policies.resources import deny_insecure_transport, store_key_policy_statement, web_identity_trust
from infra.policies.store import StoreAccess
from infra.policies.workloads import PIPELINE_PREFIXES, kserve_models, pipeline_pods

__all__ = [
    "ARTIFACT_BUCKET_ACTIONS",
    "ECR_PUSH_ACTIONS",
    "OIDC_PROVIDER_ACTIONS",
    "PIPELINE_PREFIXES",
    "PULUMI_META_KEY",
    "PULUMI_STATE_PREFIX",
    "REPOSITORY_ACTIONS",
    "ROLE_ACTIONS",
    "InfraScope",
    "Policy",
    "StoreAccess",
    "deny_insecure_transport",
    "deploy",
    "infra_apply",
    "infra_preview",
    "kserve_models",
    "pipeline_pods",
    "pull_request_checks",
    "pulumi_state_keys",
    "store_key_policy_statement",
    "web_identity_trust",
]
