"""The stack's settings, read once from Pulumi config into a frozen, validated object.

Every key lives in the ``kfops`` namespace (``pulumi config set kfops:clusterName
ml-prod``); the region is the AWS provider's ``aws:region``. A missing or invalid
value fails with one message naming the key and what is expected.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from components.shared.names import CI_SERVICE_ACCOUNT, KSERVE_SERVICE_ACCOUNT

NAMESPACE = "kfops"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_HOSTNAME = re.compile(r"^(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d\Z")
_ACM_ARN = re.compile(r"^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}\Z")
_WAF_ARN = re.compile(r"^arn:aws[\w-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w-]+/[0-9a-f-]{36}\Z")
_KMS_ARN = re.compile(r"^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}\Z")
_OIDC_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com\Z")
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}\Z")
_REF_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,255}\Z")
_CLUSTER = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}\Z")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_KMS_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}\Z")
# Path segments of lowercase letters, digits, '.', '_', '-' (no leading/trailing '/', no '..').
_STORE_PREFIX = re.compile(r"^(?!.*\.\.)[a-z0-9][a-z0-9._-]{0,62}(/[a-z0-9][a-z0-9._-]{0,62}){0,7}\Z")
# Stack names carry no '-': `role/kfops-<stack>-*` then matches this stack's roles only (a stack
# `dev-eu` would otherwise fall under dev's `kfops-dev-*`).
_STACK = re.compile(r"^[a-z][a-z0-9]{0,11}\Z")
_PROJECT = re.compile(r"^[A-Za-z0-9_.-]{1,100}\Z")
#: IAM role names are at most 64 characters.
ROLE_NAME_LIMIT = 64
#: The longest role-name suffix the program creates, per profile namespace.
_NAMESPACE_ROLE_KINDS = ("pipelines", "kserve")

SCHEMES = ("internal", "internet-facing")
WORLD = ("0.0.0.0/0", "::/0")


def role_prefix(stack: str) -> str:
    """What every IAM role of ``stack`` is named after: ``kfops-<stack>`` (``kfops-dev-...``)."""
    return f"kfops-{stack}"


class ConfigError(ValueError):
    """A stack setting is missing or invalid (the message names the key)."""


class ConfigSource(Protocol):
    """What is read from Pulumi config (``pulumi.Config`` satisfies it)."""

    def get(self, key: str) -> str | None: ...

    def get_object(self, key: str) -> Any: ...


@dataclass(frozen=True)
class InfraConfig:
    """Everything the program needs to know about the stack.

    Attributes:
        stack: The Pulumi stack's name: every IAM role is ``kfops-<stack>-...``, and the
            infrastructure roles are scoped to this stack's roles and state.
        project: The Pulumi project's name (``Pulumi.yaml``; the state's key prefix).
        region: AWS region (``aws:region``).
        cluster_name: Existing EKS cluster running Kubeflow.
        profile_namespaces: Kubeflow profile namespaces of the ML teams.
        hostname: DNS name of the Kubeflow/KFP endpoint.
        certificate_arn: ACM certificate for ``hostname``.
        allowed_cidrs: Source CIDRs allowed to reach the load balancer.
        load_balancer_scheme: ``internal`` or ``internet-facing``.
        waf_acl_arn: Optional WAFv2 web ACL for the load balancer.
        github_repository: ``org/repo`` allowed to assume the CI roles.
        deploy_environment: GitHub environment allowed to deploy (every deploy job runs in one,
            so its OIDC ``sub`` is ``repo:ORG/REPO:environment:NAME``, never a branch).
        github_oidc_provider_arn: Reuse an existing GitHub OIDC provider ("" creates one).
        kms_key_arn: Encrypt the bucket with this KMS key ("" means AES256).
        pull_request_roles: Create the roles pull requests assume (``github-pull-requests``,
            ``infra-preview``); only the stack PR workflows use needs them (default true).
        store_prefix: The stores' root in the bucket ("" for the bucket root, else e.g.
            ``ml`` for ``s3://<bucket>/ml``); each profile namespace's store is
            ``<store_prefix>/<namespace>`` and every role's S3 access is scoped to one of them.
        ci_namespace: The profile namespace CI deploys to and gates in (``KFOPS_NAMESPACE``):
            the deploy and pull-request roles reach its store only.
        ecr_owner: This stack creates and manages the ECR repositories, the one registry every
            stack of the account uses (exactly one stack per account sets it).
        push_images: This stack's deploy role pushes images (the stack ``main.yml`` builds for);
            otherwise it only reads which images exist.
        noncurrent_version_days: Days before noncurrent object versions expire.
        abort_multipart_days: Days before incomplete multipart uploads are aborted.
        untagged_image_days: Days before untagged images expire.
        kserve_service_account: ServiceAccount (in each profile namespace) KServe loads models with.
        ci_service_account: ServiceAccount CI mints KFP tokens for (in each profile namespace).
        infra_environment: GitHub environment allowed to run ``pulumi up`` on this stack
            (default ``infra-<stack>``: ``infra-dev``, ``infra-prod``).
        pulumi_state_bucket: S3 bucket of the Pulumi state ("" means ``kfops-pulumi-state-<account id>``).
        pulumi_secrets_key_alias: KMS alias of the stack's secrets provider
            (default ``alias/kfops-pulumi-<stack>``, as in ``Pulumi.<stack>.yaml``).
    """

    stack: str
    project: str
    region: str
    cluster_name: str
    profile_namespaces: tuple[str, ...]
    hostname: str
    certificate_arn: str
    allowed_cidrs: tuple[str, ...]
    load_balancer_scheme: str
    waf_acl_arn: str
    github_repository: str
    deploy_environment: str
    github_oidc_provider_arn: str
    kms_key_arn: str
    store_prefix: str
    ci_namespace: str
    ecr_owner: bool
    push_images: bool
    pull_request_roles: bool
    noncurrent_version_days: int
    abort_multipart_days: int
    untagged_image_days: int
    kserve_service_account: str
    ci_service_account: str
    infra_environment: str
    pulumi_state_bucket: str
    pulumi_secrets_key_alias: str

    @property
    def role_prefix(self) -> str:
        """Every IAM role of this stack is named ``<role_prefix>-...`` (``kfops-dev-...``)."""
        return role_prefix(self.stack)

    def namespace_store(self, namespace: str) -> str:
        """The key prefix of one profile namespace's store (``ml/team-ml``, or ``team-ml``)."""
        return f"{self.store_prefix}/{namespace}" if self.store_prefix else namespace

    @property
    def deploy_subject(self) -> str:
        """The GitHub OIDC ``sub`` allowed to deploy: jobs of one environment."""
        return f"repo:{self.github_repository}:environment:{self.deploy_environment}"

    @property
    def pull_request_subject(self) -> str:
        """The GitHub OIDC ``sub`` of this repository's pull-request workflows."""
        return f"repo:{self.github_repository}:pull_request"

    @property
    def infra_apply_subject(self) -> str:
        """The GitHub OIDC ``sub`` allowed to run ``pulumi up`` (jobs of one environment)."""
        return f"repo:{self.github_repository}:environment:{self.infra_environment}"


def _text(
    source: ConfigSource, key: str, pattern: re.Pattern[str] | None, expected: str, default: str | None = None
) -> str:
    value = source.get(key)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"{NAMESPACE}:{key} is required: {expected}")
        return default
    if pattern is not None and not pattern.match(value):
        raise ConfigError(f"{NAMESPACE}:{key} = {value!r} is invalid: expected {expected}")
    return value


def _int(source: ConfigSource, key: str, default: int, low: int, high: int) -> int:
    raw = source.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{NAMESPACE}:{key} = {raw!r} is invalid: expected a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{NAMESPACE}:{key} = {value} is invalid: expected {low}..{high}")
    return value


def _bool(source: ConfigSource, key: str, default: bool) -> bool:
    raw = (source.get(key) or str(default)).lower()
    if raw not in ("true", "false"):
        raise ConfigError(f"{NAMESPACE}:{key} = {raw!r} is invalid: expected true or false")
    return raw == "true"


def _list(source: ConfigSource, key: str, check: Callable[[str], bool], expected: str) -> tuple[str, ...]:
    value = source.get_object(key)
    if not value:
        raise ConfigError(f"{NAMESPACE}:{key} is required: a non-empty list of {expected}")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{NAMESPACE}:{key} is invalid: expected a list of {expected}")
    for item in value:
        if not check(item):
            raise ConfigError(f"{NAMESPACE}:{key} has {item!r}: expected {expected}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{NAMESPACE}:{key} lists a value twice")
    return tuple(value)


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


def load_config(
    source: ConfigSource, region: str | None, stack: str = "dev", project: str = "kfops"
) -> InfraConfig:
    """Read and validate every setting.

    Args:
        source: Pulumi config of the ``kfops`` namespace.
        region: The ``aws:region`` setting.
        stack: The Pulumi stack's name (``pulumi.get_stack()``); it is part of every role's
            name and names the defaults of ``infraEnvironment`` and ``pulumiSecretsKeyAlias``.
        project: The Pulumi project's name (``pulumi.get_project()``).

    Raises:
        ConfigError: A missing or invalid value, naming the key.
    """
    if not _STACK.match(stack):
        raise ConfigError(
            f"the stack name {stack!r} is invalid: expected 1-12 lowercase letters and digits, starting "
            f"with a letter (it is part of every role name; no '-', so one stack's `kfops-<stack>-*` "
            f"never covers another's)"
        )
    if not _PROJECT.match(project):
        raise ConfigError(f"the project name {project!r} is invalid")
    if not region or not _REGION.match(region):
        raise ConfigError(f"aws:region = {region!r} is invalid: expected a region such as eu-west-1")
    cidrs = _list(source, "allowedCidrs", _is_cidr, "CIDR blocks such as 10.0.0.0/16")
    world_open = (source.get("allowWorldOpen") or "false").lower()
    if world_open not in ("true", "false"):
        raise ConfigError(f"{NAMESPACE}:allowWorldOpen = {world_open!r} is invalid: expected true or false")
    if any(c in WORLD for c in cidrs) and world_open != "true":
        raise ConfigError(
            f"{NAMESPACE}:allowedCidrs opens the load balancer to the world; set "
            f"{NAMESPACE}:allowWorldOpen = true to make that choice explicit"
        )
    scheme = _text(source, "loadBalancerScheme", None, "internal or internet-facing", "internal")
    if scheme not in SCHEMES:
        raise ConfigError(
            f"{NAMESPACE}:loadBalancerScheme = {scheme!r} is invalid: expected {' or '.join(SCHEMES)}"
        )
    namespaces = _list(
        source,
        "profileNamespaces",
        lambda v: bool(_DNS_LABEL.match(v)),
        "Kubernetes namespace names (DNS labels)",
    )
    reserved = [n for n in namespaces if n in ("kube-system", "kubeflow", "istio-system", "default")]
    if reserved:
        raise ConfigError(
            f"{NAMESPACE}:profileNamespaces has {reserved[0]!r}: expected a Kubeflow profile namespace"
        )
    # Deploys are trusted from one GitHub environment (default "main", which
    # .github/workflows/main.yml uses). A branch cannot be trusted instead: a job that names an
    # environment (every deploy job does) gets the subject repo:ORG/REPO:environment:NAME, so a
    # ref:refs/heads/BRANCH subject would never match. Limit the environment to the branch.
    if source.get("deployBranch") not in (None, ""):
        raise ConfigError(
            f"{NAMESPACE}:deployBranch is not supported: deploy jobs run in a GitHub environment; "
            f"set {NAMESPACE}:deployEnvironment and limit that environment to the branch"
        )
    environment = _text(source, "deployEnvironment", _REF_NAME, "a GitHub environment name", "main")
    # `pulumi up` is trusted from its own environment (default infra-<stack>), never from the
    # one that deploys pipelines: a job of main.yml must not be able to change IAM.
    infra_environment = _text(
        source, "infraEnvironment", _REF_NAME, "a GitHub environment name", f"infra-{stack}"
    )
    if infra_environment == environment:
        raise ConfigError(
            f"{NAMESPACE}:infraEnvironment = {infra_environment!r} is invalid: expected an environment "
            f"other than the deploy environment"
        )
    # Tagged images are pruned by what no deployed or rollback-target version references (a
    # kfops follow-up), never by count: a count rule could expire the image prod runs.
    if source.get("imageRetentionCount") not in (None, ""):
        raise ConfigError(
            f"{NAMESPACE}:imageRetentionCount is not supported: the ECR lifecycle expires untagged images "
            f"only (a tagged image may be what a deployed version runs); remove the setting"
        )
    ci_namespace = _text(source, "ciNamespace", _DNS_LABEL, "one of kfops:profileNamespaces", namespaces[0])
    if ci_namespace not in namespaces:
        raise ConfigError(
            f"{NAMESPACE}:ciNamespace = {ci_namespace!r} is invalid: "
            f"expected one of {NAMESPACE}:profileNamespaces"
        )
    for namespace in namespaces:
        for kind in _NAMESPACE_ROLE_KINDS:
            role = f"{role_prefix(stack)}-{kind}-{namespace}"
            if len(role) > ROLE_NAME_LIMIT:
                raise ConfigError(
                    f"{NAMESPACE}:profileNamespaces has {namespace!r}: the role name {role!r} is longer "
                    f"than {ROLE_NAME_LIMIT} characters (shorten the namespace or the stack name)"
                )
    return InfraConfig(
        stack=stack,
        project=project,
        region=region,
        cluster_name=_text(source, "clusterName", _CLUSTER, "the EKS cluster name"),
        profile_namespaces=namespaces,
        hostname=_text(source, "hostname", _HOSTNAME, "a DNS name such as kubeflow.example.com"),
        certificate_arn=_text(source, "certificateArn", _ACM_ARN, "an ACM certificate ARN"),
        allowed_cidrs=cidrs,
        load_balancer_scheme=scheme,
        waf_acl_arn=_text(source, "wafAclArn", _WAF_ARN, "a regional WAFv2 web ACL ARN", ""),
        github_repository=_text(source, "githubRepository", _REPOSITORY, "org/repo"),
        deploy_environment=environment,
        github_oidc_provider_arn=_text(
            source,
            "githubOidcProviderArn",
            _OIDC_ARN,
            "the ARN of the token.actions.githubusercontent.com provider",
            "",
        ),
        kms_key_arn=_text(source, "kmsKeyArn", _KMS_ARN, "a KMS key ARN", ""),
        pull_request_roles=_bool(source, "pullRequestRoles", True),
        ci_namespace=ci_namespace,
        ecr_owner=_bool(source, "ecrOwner", True),
        push_images=_bool(source, "pushImages", True),
        store_prefix=_text(
            source, "storePrefix", _STORE_PREFIX, "a key prefix such as ml or teams/ml (no leading '/')", ""
        ),
        noncurrent_version_days=_int(source, "noncurrentVersionDays", 90, 1, 3650),
        abort_multipart_days=_int(source, "abortMultipartDays", 7, 1, 365),
        untagged_image_days=_int(source, "untaggedImageDays", 7, 1, 365),
        kserve_service_account=_text(
            source, "kserveServiceAccount", _DNS_LABEL, "a ServiceAccount name", KSERVE_SERVICE_ACCOUNT
        ),
        ci_service_account=_text(
            source, "ciServiceAccount", _DNS_LABEL, "a ServiceAccount name", CI_SERVICE_ACCOUNT
        ),
        infra_environment=infra_environment,
        pulumi_state_bucket=_text(source, "pulumiStateBucket", _BUCKET, "an S3 bucket name", ""),
        pulumi_secrets_key_alias=_text(
            source,
            "pulumiSecretsKeyAlias",
            _KMS_ALIAS,
            "a KMS alias such as alias/kfops-pulumi-dev",
            f"alias/kfops-pulumi-{stack}",
        ),
    )
