"""The whole Pulumi program under mocks, with the committed stack configs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.images import component_names, repository
from tests.infra.mocks import ACCOUNT, ISSUER, Registered, run_program, stack_config

GITHUB = "token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def dev() -> tuple[list[Registered], dict[str, Any]]:
    mocks, exports = run_program(stack_config("dev"), "dev")
    return mocks.resources, exports


@pytest.fixture(scope="module")
def prod() -> tuple[list[Registered], dict[str, Any]]:
    mocks, exports = run_program(stack_config("prod"), "prod")
    return mocks.resources, exports


def of_type(resources: list[Registered], type_: str) -> list[Registered]:
    return [r for r in resources if r.type == type_]


def one(resources: list[Registered], type_: str) -> Registered:
    found = of_type(resources, type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_no_deprecated_v2_bucket_resources(dev: tuple[list[Registered], dict[str, Any]]) -> None:
    types = {r.type for r in dev[0]}
    assert "aws:s3/bucket:Bucket" in types
    assert not [t for t in types if t.startswith("aws:s3/") and "V2" in t]


def test_bucket_is_versioned_private_owner_enforced_and_retained(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    resources = dev[0]
    assert one(resources, "aws:s3/bucket:Bucket").inputs.get("forceDestroy") in (None, False)
    versioning = one(resources, "aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    block = one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[key] is True, key
    ownership = one(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_encryption_is_aes256_by_default_and_kms_when_configured(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    kind = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    default = one(dev[0], kind).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "AES256"}
    kms = one(prod[0], kind).inputs["rules"][0]
    assert kms["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert (
        kms["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == stack_config("prod")["kfops:kmsKeyArn"]
    )
    assert kms["bucketKeyEnabled"] is True


def test_bucket_policy_denies_every_request_without_tls(dev: tuple[list[Registered], dict[str, Any]]) -> None:
    resources = dev[0]
    bucket = one(resources, "aws:s3/bucket:Bucket")
    policy = json.loads(one(resources, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert sorted(statement["Resource"]) == sorted([bucket.outputs["arn"], bucket.outputs["arn"] + "/*"])
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_expires_noncurrent_versions_and_aborts_stale_uploads(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    kind = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    for (resources, _), days in ((dev, 30), (prod, 180)):
        rules = {r["id"]: r for r in one(resources, kind).inputs["rules"]}
        assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] == days
        assert (
            rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"][
                "daysAfterInitiation"
            ]
            == 7
        )
        assert all(r["status"] == "Enabled" for r in rules.values())


def test_one_registry_owned_by_one_stack_immutable_and_scanned(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    """prod (kfops:ecrOwner) creates the repositories; dev names the same ones and creates none."""
    assert of_type(dev[0], "aws:ecr/repository:Repository") == []
    repositories = of_type(prod[0], "aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repositories) == sorted(repository(c) for c in component_names())
    for repo in repositories:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"  # no exclusion filter: no tag ever moves
        assert "imageTagMutabilityExclusionFilters" not in repo.inputs
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert dev[1]["imageRegistry"] == prod[1]["imageRegistry"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"


def test_ecr_lifecycle_expires_untagged_images_only(
    prod: tuple[list[Registered], dict[str, Any]],
) -> None:
    """A tagged image may be what a deployed or rollback-target version runs: never by age or count."""
    policies = of_type(prod[0], "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(policies) == len(component_names())
    for policy in policies:
        (rule,) = json.loads(policy.inputs["policy"])["rules"]
        assert rule["selection"]["tagStatus"] == "untagged" and rule["selection"]["countNumber"] == 7
        assert rule["action"] == {"type": "expire"}


def _roles(resources: list[Registered]) -> dict[str, dict[str, Any]]:
    return {r.name: json.loads(r.inputs["assumeRolePolicy"]) for r in of_type(resources, "aws:iam/role:Role")}


def _condition(trust: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity" and statement["Effect"] == "Allow"
    assert list(statement["Condition"]) == ["StringEquals"]  # exact matches only, no StringLike
    return statement["Principal"]["Federated"], statement["Condition"]["StringEquals"]


def test_irsa_roles_trust_one_service_account_with_sub_and_aud(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    roles = _roles(dev[0])
    expected = {
        "kfops-pipelines-team-ml": "system:serviceaccount:team-ml:default-editor",
        "kfops-kserve-team-ml": "system:serviceaccount:team-ml:kserve-models",
    }
    for name, subject in expected.items():
        federated, condition = _condition(roles[name])
        assert federated == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
        assert condition == {f"{ISSUER}:sub": subject, f"{ISSUER}:aud": "sts.amazonaws.com"}


def test_github_roles_trust_exactly_this_repository_environment_or_pull_requests(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    for (resources, _), environment in ((dev, "main"), (prod, "production")):
        roles = _roles(resources)
        federated, deploy = _condition(roles["kfops-github-deploy"])
        assert federated.endswith(f":oidc-provider/{GITHUB}")
        assert deploy == {
            f"{GITHUB}:aud": "sts.amazonaws.com",
            f"{GITHUB}:sub": f"repo:example-org/kfops:environment:{environment}",
        }
    _, checks = _condition(_roles(dev[0])["kfops-github-pull-requests"])
    assert checks == {
        f"{GITHUB}:aud": "sts.amazonaws.com",
        f"{GITHUB}:sub": "repo:example-org/kfops:pull_request",
    }


def test_pull_request_trusted_roles_exist_only_in_stacks_that_use_them(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    """gate.yml and infra.yml's preview use the dev stack's roles; prod sets pullRequestRoles false."""

    def pr_trusted(resources: list[Registered]) -> set[str]:
        return {
            name
            for name, trust in _roles(resources).items()
            if "pull_request" in json.dumps(trust["Statement"][0]["Condition"])
        }

    assert pr_trusted(dev[0]) == {"kfops-github-pull-requests", "kfops-infra-preview"}
    assert pr_trusted(prod[0]) == set()
    assert "pullRequestRoleArn" not in prod[1] and "infraPreviewRoleArn" not in prod[1]
    previews = [r for r in of_type(prod[0], "aws:eks/accessEntry:AccessEntry") if "preview" in r.name]
    assert previews == []


def test_github_oidc_provider_is_created_or_reused(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    """One provider per account: prod (the reviewed stack) creates it, dev reuses it by ARN."""
    provider = one(prod[0], "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["url"] == f"https://{GITHUB}" and provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert of_type(dev[0], "aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    federated = json.loads(
        next(r for r in dev[0] if r.name == "kfops-github-deploy").inputs["assumeRolePolicy"]
    )
    assert (
        federated["Statement"][0]["Principal"]["Federated"]
        == stack_config("dev")["kfops:githubOidcProviderArn"]
    )


def _permissions(resources: list[Registered]) -> dict[str, dict[str, Any]]:
    return {
        r.name.removesuffix("-policy"): json.loads(r.inputs["policy"])
        for r in of_type(resources, "aws:iam/rolePolicy:RolePolicy")
    }


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return policy["Statement"]


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_action_and_star_resource_only_for_ecr_login(
    prod: tuple[list[Registered], dict[str, Any]],
) -> None:
    for role, policy in _permissions(prod[0]).items():
        for statement in _statements(policy):
            actions = _as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], (role, actions)
            if "*" in _as_list(statement["Resource"]):
                assert actions == ["ecr:GetAuthorizationToken"], role


def test_pipeline_pods_reach_only_the_store_prefixes_of_this_bucket(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    bucket = one(dev[0], "aws:s3/bucket:Bucket").outputs["arn"]
    policy = _permissions(dev[0])["kfops-pipelines-team-ml"]
    objects = next(s for s in _statements(policy) if s["Sid"] == "ReadWritePipelineObjects")
    assert sorted(objects["Resource"]) == sorted(
        f"{bucket}/ml/team-ml/{p}/*" for p in ("pipelines", "data", "models", "metrics", "predictions")
    )
    assert sorted(objects["Action"]) == ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    listing = next(s for s in _statements(policy) if s["Sid"] == "ListPipelinePrefixes")
    assert listing["Resource"] == bucket and "s3:prefix" in listing["Condition"]["StringLike"]


def test_kserve_reads_models_only(dev: tuple[list[Registered], dict[str, Any]]) -> None:
    bucket = one(dev[0], "aws:s3/bucket:Bucket").outputs["arn"]
    policy = _permissions(dev[0])["kfops-kserve-team-ml"]
    read = next(s for s in _statements(policy) if s["Sid"] == "ReadModels")
    assert read["Action"] == "s3:GetObject" and read["Resource"] == [f"{bucket}/ml/team-ml/models/*"]
    assert {a for s in _statements(policy) for a in _as_list(s["Action"])} == {
        "s3:GetObject",
        "s3:ListBucket",
    }


def test_deploy_role_pushes_only_project_repositories_and_describes_only_this_cluster(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    policy = _permissions(dev[0])["kfops-github-deploy"]
    push = next(s for s in _statements(policy) if s["Sid"] == "PushComponentImages")
    assert sorted(push["Resource"]) == sorted(
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/{repository(c)}" for c in component_names()
    )
    cluster = next(s for s in _statements(policy) if s["Sid"] == "FindCluster")
    assert cluster == {
        "Sid": "FindCluster",
        "Effect": "Allow",
        "Action": "eks:DescribeCluster",
        "Resource": f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/ml-dev",
    }


def test_pull_request_role_cannot_write(dev: tuple[list[Registered], dict[str, Any]]) -> None:
    policy = _permissions(dev[0])["kfops-github-pull-requests"]
    actions = {a for s in _statements(policy) for a in _as_list(s["Action"])}
    assert actions == {"s3:GetObject", "s3:ListBucket", "ecr:DescribeImages"}


def _accepted_finding(role: str, issue: str, detail: str) -> bool:
    """The parliament findings that are understood and accepted (each says why)."""
    if role.startswith("kfops-infra-") and issue == "UNKNOWN_CONDITION_FOR_ACTION":
        # parliament's action table predates kms:ResourceAliases, which AWS documents for
        # kms:Decrypt: it picks the stack's secrets key by its alias
        return detail == "Unknown condition kms:ResourceAliases for action kms:Decrypt"
    if role == "kfops-infra-apply" and issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION":
        # `pulumi up` applies the artifact bucket's policy, so it could grant itself object
        # access: inherent to the role that manages that policy (docs/runbook.md says so)
        return " on arn:aws:s3:::kfops-artifacts-" in detail
    return False


def test_every_permission_policy_passes_parliament(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    from parliament import analyze_policy_string

    for resources, _ in (dev, prod):
        for role, policy in _permissions(resources).items():
            findings = analyze_policy_string(json.dumps(policy)).findings
            unexpected = [
                (f.issue, f.detail) for f in findings if not _accepted_finding(role, f.issue, f.detail)
            ]
            assert unexpected == [], role


def test_parliament_would_flag_a_broad_policy() -> None:
    """Negative control: the linter used above does report problems."""
    from parliament import analyze_policy_string

    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"}],
    }
    assert analyze_policy_string(json.dumps(broad)).findings


def test_exports_give_ci_what_it_needs(dev: tuple[list[Registered], dict[str, Any]]) -> None:
    exports = dev[1]
    # kfops:storePrefix, then the namespace: CI's (kfops:ciNamespace, default the first) is KFOPS_STORE
    assert exports["storeUri"] == f"s3://{exports['bucket']}/ml/team-ml"
    assert exports["storeUris"] == {"team-ml": f"s3://{exports['bucket']}/ml/team-ml"}
    assert exports["pipelineRoots"] == {"team-ml": f"s3://{exports['bucket']}/ml/team-ml/pipelines"}
    assert exports["imageRegistry"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
    assert exports["deployRoleArn"].endswith(":role/kfops-dev-github-deploy")
    assert exports["pullRequestRoleArn"].endswith(":role/kfops-dev-github-pull-requests")
    assert exports["infraPreviewRoleArn"].endswith(":role/kfops-dev-infra-preview")
    assert exports["infraApplyRoleArn"].endswith(":role/kfops-dev-infra-apply")
    assert set(exports["pipelineRoleArns"]) == {"team-ml"} and set(exports["kserveRoleArns"]) == {"team-ml"}


# The infrastructure roles (.github/workflows/infra.yml): `pulumi preview` on pull requests,
# `pulumi up` from the jobs of one environment per stack.

INFRA_ROLES = ("kfops-infra-preview", "kfops-infra-apply")


def test_infra_roles_trust_this_repository_pull_requests_or_one_infra_environment(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    federated, preview = _condition(_roles(dev[0])["kfops-infra-preview"])  # only dev has it
    assert federated.endswith(f":oidc-provider/{GITHUB}")
    assert preview == {
        f"{GITHUB}:aud": "sts.amazonaws.com",
        f"{GITHUB}:sub": "repo:example-org/kfops:pull_request",
    }
    for (resources, _), stack in ((dev, "dev"), (prod, "prod")):
        roles = _roles(resources)
        federated, apply = _condition(roles["kfops-infra-apply"])
        assert federated.endswith(f":oidc-provider/{GITHUB}")
        assert apply == {
            f"{GITHUB}:aud": "sts.amazonaws.com",
            f"{GITHUB}:sub": f"repo:example-org/kfops:environment:infra-{stack}",
        }


def test_infra_apply_trusts_no_pull_request_branch_or_deploy_environment(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    for (resources, _), deploy_environment in ((dev, "main"), (prod, "production")):
        (statement,) = _roles(resources)["kfops-infra-apply"]["Statement"]
        subjects = _as_list(statement["Condition"]["StringEquals"][f"{GITHUB}:sub"])
        assert len(subjects) == 1 and subjects[0].startswith("repo:example-org/kfops:environment:infra-")
        assert not subjects[0].endswith(f":environment:{deploy_environment}")
        assert "*" not in subjects[0] and "StringLike" not in statement["Condition"]


def test_infra_preview_role_only_reads_the_state_and_finds_the_cluster(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    statements = {s["Sid"]: s for s in _statements(_permissions(dev[0])["kfops-infra-preview"])}
    actions = {a for s in statements.values() for a in _as_list(s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "eks:DescribeCluster"}
    state = f"arn:aws:s3:::kfops-pulumi-state-{ACCOUNT}"  # the default name: per account
    assert statements["ListPulumiState"]["Resource"] == state
    assert sorted(statements["PulumiStateObjects"]["Resource"]) == sorted(
        [
            f"{state}/.pulumi/stacks/kfops/dev.json*",  # pulumi/pulumi pkg/backend/diy/store.go
            f"{state}/.pulumi/history/kfops/dev/*",
            f"{state}/.pulumi/backups/kfops/dev/*",
            f"{state}/.pulumi/journal/kfops/dev/*",
            f"{state}/.pulumi/locks/organization/kfops/dev/*",  # lock.go
        ]
    )
    assert statements["ReadPulumiBackendVersion"]["Resource"] == f"{state}/.pulumi/meta.yaml"
    secrets = statements["DecryptStackSecrets"]
    assert secrets["Resource"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"
    assert secrets["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/kfops-pulumi-dev"}
    }
    assert statements["FindCluster"]["Resource"] == f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/ml-dev"


def test_infra_state_bucket_and_secrets_key_can_be_named(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    config = stack_config("dev") | {
        "kfops:pulumiStateBucket": "acme-kfops-pulumi-state",
        "kfops:pulumiSecretsKeyAlias": "alias/acme-pulumi",
    }
    mocks, _ = run_program(config, "dev")
    for role in INFRA_ROLES:
        statements = {s["Sid"]: s for s in _statements(_permissions(mocks.resources)[role])}
        assert statements["ListPulumiState"]["Resource"] == "arn:aws:s3:::acme-kfops-pulumi-state"
        condition = statements["DecryptStackSecrets"]["Condition"]["ForAnyValue:StringEquals"]
        assert condition == {"kms:ResourceAliases": "alias/acme-pulumi"}


def test_infra_apply_role_touches_only_this_project(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    for (resources, _), cluster, stack in ((dev, "ml-dev", "dev"), (prod, "ml-prod", "prod")):
        bucket = one(resources, "aws:s3/bucket:Bucket").outputs["arn"]
        statements = {s["Sid"]: s for s in _statements(_permissions(resources)["kfops-infra-apply"])}
        actions = [a for s in statements.values() for a in _as_list(s["Action"])]
        assert "iam:PassRole" not in actions and not [a for a in actions if a.startswith("iam:Attach")]
        assert statements["ManageArtifactBucket"]["Resource"] == bucket  # the one bucket, by ARN
        object_actions = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
        assert not object_actions & set(statements["ManageArtifactBucket"]["Action"])  # no data access
        if stack == "prod":  # the registry's owner (kfops:ecrOwner); dev may not touch it
            assert statements["ManageComponentRepositories"]["Resource"] == (
                f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/kfops-*"
            )
        else:
            assert not [a for a in actions if a.startswith("ecr:")]
        roles = f"arn:aws:iam::{ACCOUNT}:role/kfops-{stack}-*"  # this stack's roles only
        assert statements["ManageProjectRoles"]["Resource"] == roles
        iam = [s for s in statements.values() if any(a.startswith("iam:") for a in _as_list(s["Action"]))]
        assert {s["Resource"] for s in iam} <= {roles, f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"}
        create = statements["CreateAccessEntriesForProjectRoles"]
        assert create["Resource"] == f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/{cluster}"
        assert create["Condition"] == {"ArnLike": {"eks:principalArn": roles}}
        entries = f"arn:aws:eks:eu-west-1:{ACCOUNT}:access-entry/{cluster}/role/{ACCOUNT}/kfops-{stack}-*"
        assert statements["ManageProjectAccessEntries"]["Resource"] == entries
        associate = statements["AssociateKnownAccessPolicies"]
        assert associate["Resource"] == entries
        assert sorted(associate["Condition"]["ArnEquals"]["eks:policyArn"]) == [
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        ]
        for statement in statements.values():
            assert "*" not in _as_list(statement["Resource"]), statement["Sid"]


def test_infra_apply_manages_the_oidc_provider_and_kms_key_only_when_this_stack_owns_them(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    dev_sids = {s["Sid"] for s in _statements(_permissions(dev[0])["kfops-infra-apply"])}
    prod_statements = {s["Sid"]: s for s in _statements(_permissions(prod[0])["kfops-infra-apply"])}
    assert "ManageGithubOidcProvider" in prod_statements and "ManageGithubOidcProvider" not in dev_sids
    assert not {"GrantEncryptionKeyToAws", "UseEncryptionKey"} & dev_sids
    key = stack_config("prod")["kfops:kmsKeyArn"]
    grant = prod_statements["GrantEncryptionKeyToAws"]
    assert grant["Resource"] == key and grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert prod_statements["UseEncryptionKey"]["Resource"] == key


def test_with_a_kms_key_and_no_registry_the_read_only_roles_only_decrypt() -> None:
    """dev's settings with an SSE-KMS bucket: the pull-request role may decrypt through S3 but
    not make data keys (which writing takes), and infra-apply gets no grant on the key, which
    only the stack that owns the registry needs (ECR encrypts its repositories with it)."""
    key = "arn:aws:kms:eu-west-1:123456789012:key/55555555-5555-5555-5555-555555555555"
    mocks, _ = run_program({**stack_config("dev"), "kfops:kmsKeyArn": key}, "dev")
    roles = _permissions(mocks.resources)

    def kms(role: str) -> list[dict[str, Any]]:
        return [s for s in _statements(roles[role]) if "kms:" in json.dumps(s["Action"])]

    via_s3 = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert kms("kfops-github-pull-requests") == [
        {
            "Sid": "ReadStoreKeyThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key,
            "Condition": via_s3,
        }
    ]
    deploy = kms("kfops-github-deploy")
    assert [(s["Action"], s["Resource"]) for s in deploy] == [(["kms:Decrypt", "kms:GenerateDataKey"], key)]
    assert [s["Sid"] for s in kms("kfops-infra-apply")] == [
        "DecryptStackSecrets"
    ]  # the state's, not the bucket's
    assert key not in json.dumps(roles["kfops-infra-apply"])


def test_every_role_session_lasts_at_most_an_hour(dev: tuple[list[Registered], dict[str, Any]]) -> None:
    """Credentials of every role expire after an hour, AWS's shortest maximum (a CI job or a pod
    refreshes them; a leaked session is short-lived)."""
    durations = {r.name: r.inputs.get("maxSessionDuration") for r in of_type(dev[0], "aws:iam/role:Role")}
    assert durations and set(durations.values()) == {3600}, durations


def test_shared_account_resources_outlive_the_stack_that_owns_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """prod creates what every stack of the account uses, the GitHub OIDC provider and the ECR
    repositories: the engine is told to retain them on delete; a stack's own roles are not."""
    from pulumi.runtime.mocks import MockMonitor

    retained: dict[str, list[bool]] = {}
    register = MockMonitor.RegisterResource

    def noting_retain(self: MockMonitor, request: Any) -> Any:
        retained.setdefault(request.type, []).append(request.retainOnDelete)
        return register(self, request)

    monkeypatch.setattr(MockMonitor, "RegisterResource", noting_retain)
    run_program(stack_config("prod"), "prod")
    assert retained["aws:iam/openIdConnectProvider:OpenIdConnectProvider"] == [True]
    assert retained["aws:ecr/repository:Repository"] and all(retained["aws:ecr/repository:Repository"])
    assert not any(retained["aws:iam/role:Role"])


def test_the_identity_component_outputs_the_roles_its_stack_has(monkeypatch: pytest.MonkeyPatch) -> None:
    """The component's outputs (``pulumi stack --show-urns``) name the pull-request and preview
    roles where they exist (dev) and not where they do not (prod)."""
    from infra.identity import Identity

    outputs: list[dict[str, Any]] = []
    monkeypatch.setattr(Identity, "register_outputs", lambda self, values: outputs.append(values))
    for stack in ("dev", "prod"):
        run_program(stack_config(stack), stack)
    dev, prod = (set(o) for o in outputs)
    assert dev == {"deployRoleArn", "pullRequestRoleArn", "infraPreviewRoleArn", "infraApplyRoleArn"}
    assert prod == {"deployRoleArn", "infraApplyRoleArn"}


def test_infra_roles_reach_the_cluster_as_viewer_and_admin(
    dev: tuple[list[Registered], dict[str, Any]],
) -> None:
    entries = {
        r.inputs["principalArn"]: r.inputs
        for r in of_type(dev[0], "aws:eks/accessEntry:AccessEntry")
        if "kfops-dev-infra-" in r.inputs["principalArn"]
    }
    associations = {
        r.inputs["principalArn"]: r.inputs
        for r in of_type(dev[0], "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    expected = {
        "kfops-infra-preview": "AmazonEKSViewPolicy",
        "kfops-infra-apply": "AmazonEKSClusterAdminPolicy",
    }
    arns = {role: f"arn:aws:iam::{ACCOUNT}:role/{role.replace('kfops-', 'kfops-dev-')}" for role in expected}
    assert set(entries) == set(associations) == set(arns.values())
    for role, policy in expected.items():
        arn = arns[role]
        assert entries[arn]["clusterName"] == "ml-dev" and entries[arn]["type"] == "STANDARD"
        assert "kubernetesGroups" not in entries[arn]
        assert associations[arn]["policyArn"] == f"arn:aws:eks::aws:cluster-access-policy/{policy}"
        assert associations[arn]["accessScope"] == {"type": "cluster"}


# Stacks side by side: dev and prod in one account (the examples name the same account).


def _physical_names(resources: list[Registered]) -> dict[str, set[str]]:
    """Account-wide names each stack would create (the kinds AWS refuses twice)."""
    names: dict[str, set[str]] = {
        "iam role": {r.outputs["name"] for r in of_type(resources, "aws:iam/role:Role")},
        "ecr repository": {r.inputs["name"] for r in of_type(resources, "aws:ecr/repository:Repository")},
        "s3 bucket": {r.outputs["bucket"] for r in of_type(resources, "aws:s3/bucket:Bucket")},
        "oidc provider": {
            r.inputs["url"] for r in of_type(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        },
        "eks access entry": {
            f"{r.inputs['clusterName']}/{r.inputs['principalArn']}"
            for r in of_type(resources, "aws:eks/accessEntry:AccessEntry")
        },
    }
    return names


def test_dev_and_prod_in_one_account_create_no_name_twice(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    dev_names, prod_names = _physical_names(dev[0]), _physical_names(prod[0])
    assert {kind: dev_names[kind] & prod_names[kind] for kind in dev_names} == {k: set() for k in dev_names}
    assert all(n.startswith("kfops-dev-") for n in dev_names["iam role"])
    assert all(n.startswith("kfops-prod-") for n in prod_names["iam role"])
    # the account-wide ones exist exactly once: the registry and the GitHub provider are prod's
    assert len(dev_names["ecr repository"] | prod_names["ecr repository"]) == len(component_names())
    assert len(dev_names["oidc provider"] | prod_names["oidc provider"]) == 1


def test_the_negative_control_finds_the_old_collision() -> None:
    """With both stacks owning the registry (the old behaviour), the check above reports it."""
    dev_config = stack_config("dev") | {"kfops:ecrOwner": "true"}
    dev_mocks, _ = run_program(dev_config, "dev")
    prod_mocks, _ = run_program(stack_config("prod"), "prod")
    clash = (
        _physical_names(dev_mocks.resources)["ecr repository"]
        & _physical_names(prod_mocks.resources)["ecr repository"]
    )
    assert clash == {repository(c) for c in component_names()}


def test_only_the_pushing_stack_writes_images_and_prod_only_reads(
    dev: tuple[list[Registered], dict[str, Any]], prod: tuple[list[Registered], dict[str, Any]]
) -> None:
    """dev's main.yml builds and pushes; prod deploys those same tags and can only see them."""
    repositories = sorted(
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/{repository(c)}" for c in component_names()
    )
    dev_ecr = [s for s in _statements(_permissions(dev[0])["kfops-github-deploy"]) if "ecr:" in json.dumps(s)]
    push = next(s for s in dev_ecr if s["Sid"] == "PushComponentImages")
    assert sorted(push["Resource"]) == repositories
    assert not {"ecr:BatchDeleteImage", "ecr:DeleteRepository", "ecr:PutImageTagMutability"} & set(
        push["Action"]
    )
    prod_ecr = [
        s for s in _statements(_permissions(prod[0])["kfops-github-deploy"]) if "ecr:" in json.dumps(s)
    ]
    assert [(s["Action"], sorted(s["Resource"])) for s in prod_ecr] == [("ecr:DescribeImages", repositories)]


def test_each_team_role_reaches_only_its_own_store(prod: tuple[list[Registered], dict[str, Any]]) -> None:
    bucket = one(prod[0], "aws:s3/bucket:Bucket").outputs["arn"]
    permissions = _permissions(prod[0])
    for team in ("team-fraud", "team-risk"):
        for role in (f"kfops-pipelines-{team}", f"kfops-kserve-{team}"):
            for statement in _statements(permissions[role]):
                resources = _as_list(statement["Resource"])
                if statement["Action"] == "s3:ListBucket":
                    prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
                    assert all(p.startswith(f"{team}/") for p in prefixes), (role, prefixes)
                elif any(r.startswith(bucket) for r in resources):
                    assert all(r.startswith(f"{bucket}/{team}/") for r in resources), (role, resources)
    # CI (kfops:ciNamespace, default the first namespace) gates and promotes in one team's store
    deploy = json.dumps(permissions["kfops-github-deploy"])
    assert f"{bucket}/team-fraud/metrics/*" in deploy and "team-risk" not in deploy


@pytest.mark.parametrize(
    "name",
    [
        "infra.policies.infra_roles.InfraScope",
        "infra.policies.store.StoreAccess",
        "infra.identity.IdentityArgs",
    ],
)
def test_settings_the_infra_components_share_cannot_be_changed_by_one_of_them(name: str) -> None:
    """Config is read once and handed to several components: none may alter what the others see."""
    import dataclasses
    import importlib

    module, _, cls_name = name.rpartition(".")
    cls = getattr(importlib.import_module(module), cls_name)
    instance = object.__new__(cls)  # frozen or not is a property of the class, not of the values
    field = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, field, "changed")


@pytest.mark.parametrize(
    ("name", "flag"),
    [("infra.policies.ci.deploy", "push"), ("infra.policies.store.store_key_statements", "write")],
)
def test_a_policy_builders_flag_is_passed_by_name_only(name: str, flag: str) -> None:
    """A bare True or False in a policy builder's call says nothing about what it grants."""
    import importlib
    import inspect

    module, _, function = name.rpartition(".")
    parameters = inspect.signature(getattr(importlib.import_module(module), function)).parameters.values()
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == [flag]
    assert all(p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
