"""Stack config: read once, validated, and every bad value named by its key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, load_config
from tests.infra.mocks import REPO, run_program, stack_config


class Source:
    """A stand-in for pulumi.Config("kfops") over a stack file's values."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = {k.removeprefix("kfops:"): v for k, v in values.items() if k.startswith("kfops:")}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def get_object(self, key: str) -> Any:
        raw = self.values.get(key)
        return None if raw is None else json.loads(raw)


def _load(**changes: str | None) -> Any:
    return _load_as("dev", **changes)


def _load_as(stack: str, **changes: str | None) -> Any:
    values = stack_config("dev")
    region = values["aws:region"]
    for key, value in changes.items():
        if key == "region":
            region = value or ""
        elif value is None:
            values.pop(f"kfops:{key}", None)
        else:
            values[f"kfops:{key}"] = value
    return load_config(Source(values), region, stack)


def test_the_committed_stacks_are_valid() -> None:
    for stack in ("dev", "prod"):
        values = stack_config(stack)
        config = load_config(Source(values), values["aws:region"])
        assert config.cluster_name == values["kfops:clusterName"]
    assert _load().deploy_subject == "repo:example-org/kfops:environment:main"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clusterName": None}, "kfops:clusterName is required"),
        ({"allowedCidrs": '["10.0.0.0/33"]'}, "kfops:allowedCidrs has '10.0.0.0/33'"),
        ({"allowedCidrs": '["10.0.0.1/16"]'}, "kfops:allowedCidrs has '10.0.0.1/16'"),
        ({"allowedCidrs": None}, "kfops:allowedCidrs is required"),
        ({"allowedCidrs": '["0.0.0.0/0"]'}, "kfops:allowWorldOpen = true"),
        ({"certificateArn": "arn:aws:acm:eu-west-1:123:certificate/x"}, "kfops:certificateArn"),
        ({"profileNamespaces": '["Team_A"]'}, "kfops:profileNamespaces has 'Team_A'"),
        ({"profileNamespaces": '["kubeflow"]'}, "kfops:profileNamespaces has 'kubeflow'"),
        ({"profileNamespaces": '["a", "a"]'}, "kfops:profileNamespaces lists a value twice"),
        ({"loadBalancerScheme": "public"}, "kfops:loadBalancerScheme"),
        ({"githubRepository": "not a repo"}, "kfops:githubRepository"),
        ({"deployBranch": "main"}, "kfops:deployBranch is not supported"),
        ({"deployBranch": "main", "deployEnvironment": None}, "kfops:deployBranch is not supported"),
        ({"noncurrentVersionDays": "soon"}, "kfops:noncurrentVersionDays"),
        ({"imageRetentionCount": "30"}, "kfops:imageRetentionCount is not supported"),
        ({"ecrOwner": "yes"}, "kfops:ecrOwner = 'yes' is invalid"),
        ({"pushImages": "no"}, "kfops:pushImages = 'no' is invalid"),
        ({"ciNamespace": "team-x"}, "kfops:ciNamespace = 'team-x' is invalid"),
        ({"profileNamespaces": json.dumps(["t" * 50])}, "longer than 64 characters"),
        ({"wafAclArn": "arn:aws:wafv2:eu-west-1:123456789012:global/webacl/x/y"}, "kfops:wafAclArn"),
        ({"region": "Europe"}, "aws:region"),
        ({"infraEnvironment": "main"}, "kfops:infraEnvironment = 'main' is invalid"),
        ({"infraEnvironment": "infra dev"}, "kfops:infraEnvironment"),
        ({"pulumiStateBucket": "Pulumi_State"}, "kfops:pulumiStateBucket"),
        ({"pulumiSecretsKeyAlias": "kfops-pulumi-dev"}, "kfops:pulumiSecretsKeyAlias"),
        ({"storePrefix": "/ml"}, "kfops:storePrefix = '/ml' is invalid"),
        ({"storePrefix": "ml/"}, "kfops:storePrefix = 'ml/' is invalid"),
        ({"storePrefix": "ml/../x"}, "kfops:storePrefix"),
        ({"storePrefix": "ML"}, "kfops:storePrefix"),
        ({"pullRequestRoles": "no"}, "kfops:pullRequestRoles = 'no' is invalid"),
    ],
)
def test_invalid_value_names_the_key(changes: dict[str, str | None], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("*", r"\*")):
        _load(**changes)


@pytest.mark.parametrize("stack", ["dev-eu", "Dev", "1dev", "a" * 13, ""])
def test_stack_names_that_would_share_a_role_prefix_are_refused(stack: str) -> None:
    """`role/kfops-dev-*` would cover a stack `dev-eu`'s roles: stack names carry no '-'."""
    with pytest.raises(ConfigError, match="the stack name"):
        _load_as(stack)


def test_registry_ownership_pushing_and_ci_namespace() -> None:
    dev, prod = stack_config("dev"), stack_config("prod")
    dev_config = load_config(Source(dev), dev["aws:region"], "dev")
    prod_config = load_config(Source(prod), prod["aws:region"], "prod")
    assert (dev_config.ecr_owner, dev_config.push_images) == (False, True)
    assert (prod_config.ecr_owner, prod_config.push_images) == (True, False)
    assert _load(ecrOwner=None).ecr_owner is True  # one stack alone owns its registry
    assert prod_config.ci_namespace == "team-fraud" and prod_config.role_prefix == "kfops-prod"
    assert prod_config.namespace_store("team-risk") == "team-risk"  # no storePrefix: bucket root
    assert dev_config.namespace_store("team-ml") == "ml/team-ml"


def test_store_prefix_and_pull_request_roles() -> None:
    assert _load().store_prefix == "ml" and _load(storePrefix=None).store_prefix == ""  # default: bucket root
    assert _load().pull_request_roles is True
    config = _load(storePrefix="teams/ml", pullRequestRoles="false")
    assert config.store_prefix == "teams/ml" and config.pull_request_roles is False


def test_infra_settings_default_from_the_stack_name() -> None:
    for stack in ("dev", "prod"):
        values = stack_config(stack)
        config = load_config(Source(values), values["aws:region"], stack)
        assert config.infra_environment == f"infra-{stack}"
        assert config.infra_apply_subject == f"repo:example-org/kfops:environment:infra-{stack}"
        assert config.pulumi_secrets_key_alias == f"alias/kfops-pulumi-{stack}"
        assert f"awskms://{config.pulumi_secrets_key_alias}?" in (REPO / f"Pulumi.{stack}.yaml").read_text()
        assert config.pulumi_state_bucket == ""  # kfops-pulumi-state-<account id>, resolved in identity
    config = _load(infraEnvironment="infra-staging", pulumiStateBucket="acme-kfops-pulumi-state")
    assert config.infra_apply_subject == "repo:example-org/kfops:environment:infra-staging"
    assert config.pulumi_state_bucket == "acme-kfops-pulumi-state"


def test_the_deploy_subject_is_always_an_environment() -> None:
    """Jobs with `environment:` get an environment subject; a branch subject could never match."""
    assert _load(deployEnvironment=None).deploy_subject == "repo:example-org/kfops:environment:main"
    assert _load(deployEnvironment="staging").deploy_subject == "repo:example-org/kfops:environment:staging"
    assert not hasattr(_load(), "deploy_branch")


def test_the_program_stops_with_the_named_key() -> None:
    import pulumi

    values = stack_config("dev")
    values.pop("kfops:clusterName")
    with pytest.raises(pulumi.RunError, match="kfops:clusterName is required"):
        run_program(values)
