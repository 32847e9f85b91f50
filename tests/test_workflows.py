"""GitHub Actions workflows: SHA-pinned actions, read-only defaults, zizmor-clean."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, run_checkov

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_every_action_is_pinned_to_a_commit_sha() -> None:
    assert WORKFLOWS
    for path in WORKFLOWS:
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref}"


def test_no_default_permissions_and_every_job_declares_its_own() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow.get("permissions") == {}, path.name
        for name, job in workflow["jobs"].items():
            assert job.get("permissions", {}).get("contents") == "read", f"{path.name}:{name}"
            assert "write-all" not in str(job.get("permissions")), f"{path.name}:{name}"


def test_checkout_never_persists_credentials_and_no_pull_request_target() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert "pull_request_target" not in workflow.get(True, workflow.get("on", {})), path.name
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "actions/checkout@" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False, path.name


def test_checkov_finds_nothing_in_the_workflows() -> None:
    result = run_checkov(REPO / ".github", "github_actions")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_zizmor_offline_finds_nothing() -> None:
    result = _zizmor()
    assert result.returncode == 0, result.stdout + result.stderr


def _shell_scripts() -> list[Path]:
    """Every script under scripts/ whose first line names a POSIX shell or bash."""
    return sorted(
        path
        for path in (REPO / "scripts").iterdir()
        if path.is_file() and re.match(r"#!\S*(?:/env )?\s*(?:ba)?sh\b", path.read_text(errors="replace"))
    )


def _zizmor(*args: str) -> subprocess.CompletedProcess[str]:
    zizmor = shutil.which("zizmor") or str(Path(sys.prefix) / "bin" / "zizmor")
    return subprocess.run(
        [zizmor, "--offline", *args, str(REPO / ".github" / "workflows")],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_zizmor_auditor_persona_finds_nothing_and_the_only_ignore_is_documented() -> None:
    """The strictest persona: every audit, every confidence. README "Security" justifies the ignore."""
    result = _zizmor("--persona=auditor", "--format=json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert json.loads(result.stdout) == []
    ignores = [
        (path.name, line.strip())
        for path in WORKFLOWS
        for line in path.read_text().splitlines()
        if "zizmor: ignore" in line
    ]
    assert len(ignores) == 1 and ignores[0][0] == "pr-comment.yml", ignores
    assert ignores[0][1].startswith("workflow_run:") and "ignore[dangerous-triggers]" in ignores[0][1]
    assert "dangerous-triggers" in (REPO / "README.md").read_text()


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow.get(True, workflow.get("on"))
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str) else on)}


def _checkout(job: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in job["steps"] if "actions/checkout@" in s.get("uses", ""))


def test_no_job_fetches_after_a_checkout_without_credentials() -> None:
    """`git fetch` after persist-credentials: false fails on a private repository: check out the history."""
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            runs = "\n".join(step.get("run", "") for step in job["steps"])
            assert not re.search(r"\bgit\s+(fetch|pull|clone)\b", runs), f"{path.name}:{name}"
            if re.search(r"--since\s+\"?origin/|check-release-tag|merge-base", runs):
                assert _checkout(job)["with"].get("fetch-depth") == 0, f"{path.name}:{name}"


DEPLOY_RUNNER = "${{ fromJSON(vars.KFOPS_DEPLOY_RUNNER || '\"ubuntu-24.04\"') }}"


def test_jobs_that_call_the_kfp_api_run_on_the_configurable_runner_and_no_other_does() -> None:
    """KFOPS_DEPLOY_RUNNER picks a runner that reaches an internal KFP endpoint (docs/runbook.md).

    Only jobs of trusted events (push to main, tags, schedule) may use it: a pull request's
    code must never run on a self-hosted runner.
    """
    seen = 0
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        triggers = set(_on(workflow))
        for name, job in workflow["jobs"].items():
            if "KFOPS_KFP_URL" in yaml.safe_dump(job):
                assert job["runs-on"] == DEPLOY_RUNNER, f"{path.name}:{name}"
                assert job.get("environment"), f"{path.name}:{name}"
                assert triggers <= {"push", "schedule", "workflow_dispatch"}, f"{path.name}: {triggers}"
                seen += 1
            else:
                assert job["runs-on"] == "ubuntu-24.04", f"{path.name}:{name}"
    assert seen == 3  # main.yml deploy, release.yml production, watch.yml


def test_jobs_that_assume_a_deploy_or_infra_role_run_in_an_environment() -> None:
    """The roles trust `repo:ORG/REPO:environment:NAME` (infra/config.py): no branch subject exists."""
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job["steps"]:
                role = step.get("with", {}).get("role-to-assume", "")
                if "APPLY_ROLE_ARN" in role:
                    assert job.get("environment"), f"{path.name}:{name}"
    assert (
        "deployBranch" not in (REPO / "Pulumi.dev.yaml").read_text() + (REPO / "Pulumi.prod.yaml").read_text()
    )


def test_shell_scripts_pass_shellcheck() -> None:
    assert REPO / "scripts" / "bootstrap" in _shell_scripts()
    scripts = [REPO / ".ci" / "run", *_shell_scripts()]
    shellcheck = shutil.which("shellcheck") or str(Path(sys.prefix) / "bin" / "shellcheck")
    result = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_jobs_that_use_oidc_ask_for_id_token_only_where_needed() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        workflow = yaml.safe_load(text)
        for name, job in workflow["jobs"].items():
            uses_aws = "configure-aws-credentials" in yaml.safe_dump(job)
            wants_token = job.get("permissions", {}).get("id-token") == "write"
            assert uses_aws == wants_token, f"{path.name}:{name}"


# Schema validation, offline: SchemaStore's schemas vendored in tests/schemas/ (see its README).

SCHEMAS = REPO / "tests" / "schemas"
DEPENDABOT = REPO / ".github" / "dependabot.yml"


class _GithubYamlLoader(yaml.SafeLoader):
    """YAML as GitHub reads it: only ``true``/``false`` are booleans (YAML 1.2).

    PyYAML follows YAML 1.1, where ``on``, ``off``, ``yes`` and ``no`` are booleans too, so
    ``yaml.safe_load`` turns a workflow's ``on:`` key into ``True``.
    """


_GithubYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_GithubYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _load_as_github(text: str) -> Any:
    return yaml.load(text, Loader=_GithubYamlLoader)  # a SafeLoader subclass: safe


def _no_network(uri: str) -> Any:
    raise AssertionError(f"the schema refers outside itself ({uri}); vendor that schema too")


def _validator(name: str) -> Any:
    """The validator class the schema's ``$schema`` declares, resolving ``$ref`` only inside it."""
    from jsonschema.validators import validator_for
    from referencing import Registry

    schema = json.loads((SCHEMAS / name).read_text())
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=Registry(retrieve=_no_network))  # type: ignore[call-arg]


def _errors(validator: Any, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def test_the_vendored_schemas_are_draft_7_with_local_refs_only() -> None:
    from jsonschema import Draft7Validator

    for name in ("github-workflow.json", "dependabot-2.0.json"):
        text = (SCHEMAS / name).read_text()
        assert json.loads(text)["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert type(_validator(name)) is Draft7Validator
        assert re.findall(r'"\$ref":\s*"([^"#][^"]*)"', text) == [], name


def test_on_is_a_key_not_a_boolean() -> None:
    text = "on:\n  push:\njobs: {}\nflag: yes\nother: true\n"
    assert True in yaml.safe_load(text)  # what plain PyYAML does with `on:`
    assert _load_as_github(text) == {"on": {"push": None}, "jobs": {}, "flag": "yes", "other": True}


def test_every_workflow_matches_the_github_workflow_schema() -> None:
    validator = _validator("github-workflow.json")
    for path in WORKFLOWS:
        assert _errors(validator, _load_as_github(path.read_text())) == [], path.name


def test_dependabot_config_matches_its_schema() -> None:
    assert _errors(_validator("dependabot-2.0.json"), _load_as_github(DEPENDABOT.read_text())) == []


def test_the_schemas_reject_broken_files() -> None:
    """Negative controls: the validation above can fail, and for the right reason."""
    workflow = _validator("github-workflow.json")
    good = _load_as_github((REPO / ".github" / "workflows" / "ci.yml").read_text())
    assert _errors(workflow, good) == []

    typo = json.loads(json.dumps(good))
    typo["jobs"]["test"]["runs-onn"] = typo["jobs"]["test"].pop("runs-on")
    assert any("runs-onn" in e for e in _errors(workflow, typo)), _errors(workflow, typo)

    no_runner = json.loads(json.dumps(good))
    del no_runner["jobs"]["test"]["runs-on"]
    assert _errors(workflow, no_runner)

    bad_permission = json.loads(json.dumps(good))
    bad_permission["jobs"]["test"]["permissions"]["contents"] = "admin"
    assert _errors(workflow, bad_permission)

    # Without the YAML 1.2 loader, `on:` becomes True and the file is (rightly) rejected.
    assert _errors(workflow, yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text()))

    dependabot = _validator("dependabot-2.0.json")
    config = _load_as_github(DEPENDABOT.read_text())
    config["updates"][0]["package-ecosystem"] = "github-action"
    assert _errors(dependabot, config)
    del config["updates"][0]["package-ecosystem"]
    config["updates"][0]["schedule"]["interval"] = "hourly"
    assert len(_errors(dependabot, config)) >= 1


def test_the_pulumi_cli_matches_the_locked_sdk() -> None:
    locked = re.search(
        r'\[\[package\]\]\nname = "pulumi"\nversion = "([^"]+)"', (REPO / "uv.lock").read_text()
    )
    pinned = set(
        re.findall(r"pulumi-version:\s*(\S+)", (REPO / ".github" / "workflows" / "infra.yml").read_text())
    )
    assert locked and pinned == {locked.group(1)}
