"""AWS access proven request by request (issue 13).

Each flow runs for real against the session's moto server, signed with an access key
that names the role it runs as in AWS; the server logs every request. Those requests
become IAM requests (tests/iam/access.py) and a policy simulator evaluates them against
the exact policies the Pulumi program produces under mocks, for the dev stack (store
under ``ml/``, SSE-S3) and the prod stack (store at the bucket root, SSE-KMS):

* pipeline pods (``kfops-pipelines-<ns>``): ``kfops run`` training (with the champion
  task), inference and monitoring, the store on S3;
* KServe (``kfops-kserve-<ns>``): the storage initializer's download of a model version;
* ``main.yml``'s promote job (``kfops-github-deploy``): ``kfops gate --run training
  --store S3``, ``kfops baseline promote``, ``kfops images plan``;
* ``gate.yml`` (``kfops-github-pull-requests``): ``kfops gate --baseline-store S3``
  (read only) and ``kfops images plan``.

Every recorded request must be allowed; a list of must-deny requests must be denied;
the report goes to stdout and build/iam-access.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.images import component_names, repository
from infra import policies
from tests.conftest import KFOPS, REPO, RequestLog
from tests.iam import access
from tests.iam.access import Call, Case, IamRequest, StackView, Verdict
from tests.infra.mocks import ACCOUNT, Registered, run_program, stack_config

REGION = "eu-west-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
RECORDED_PREFIX = "ml"  # the flows' store: s3://<bucket>/ml, as the README shows
#: Access key per role: the moto log tells from the SigV4 credential who sent what.
KEYS = {
    "admin": "AKIAKFOPSTESTADMIN",
    "pipelines": "AKIAKFOPSPIPELINES",
    "kserve": "AKIAKFOPSKSERVE",
    "deploy": "AKIAKFOPSDEPLOY",
    "pull-requests": "AKIAKFOPSPULLREQUESTS",
}
REPORT = REPO / "build" / "iam-access.md"
ALLOWED = "Allowed"


def role_name(kind: str, namespace: str) -> str:
    return {
        "pipelines": f"kfops-pipelines-{namespace}",
        "kserve": f"kfops-kserve-{namespace}",
        "deploy": "kfops-github-deploy",
        "pull-requests": "kfops-github-pull-requests",
    }[kind]


class Stack:
    """What the Pulumi program produced for one stack under mocks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.config = stack_config(name)
        mocks, self.exports = run_program(self.config, name)
        resources = mocks.resources
        self.resources = resources
        bucket = self._one(resources, "aws:s3/bucket:Bucket")
        self.bucket_policy = json.loads(
            self._one(resources, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
        )
        self.policies = {
            r.name.removesuffix("-policy"): json.loads(r.inputs["policy"])
            for r in resources
            if r.type == "aws:iam/rolePolicy:RolePolicy"
        }
        self.role_arns = {r.name: r.outputs["arn"] for r in resources if r.type == "aws:iam/role:Role"}
        self.namespace = json.loads(self.config["kfops:profileNamespaces"])[0]
        self.view = StackView(
            ACCOUNT,
            self.config["aws:region"],
            bucket.outputs["bucket"],
            self.config.get("kfops:storePrefix", ""),
            self.config.get("kfops:kmsKeyArn", ""),
        )
        self.key_policy = {
            "Version": "2012-10-17",
            "Statement": [policies.store_key_policy_statement(ACCOUNT, self.view.region)],
        }

    def has(self, kind: str) -> bool:
        """Whether this stack has the role (prod has no pull-request roles)."""
        return role_name(kind, self.namespace) in self.policies

    @staticmethod
    def _one(resources: list[Registered], type_: str) -> Registered:
        (found,) = [r for r in resources if r.type == type_]
        return found

    def case(self, kind: str, request: IamRequest, key_policy: dict[str, Any] | None = None) -> Case:
        role = role_name(kind, self.namespace)
        if request.action.startswith("s3:"):
            resource_policy: dict[str, Any] | None = self.bucket_policy
        elif request.action.startswith("kms:"):
            resource_policy = key_policy or self.key_policy
        else:
            resource_policy = None
        return Case(role, self.role_arns[role], request, self.policies[role], resource_policy, ACCOUNT)


# ---------------------------------------------------------------------------- recording


def _env(endpoint: str, kind: str, home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE")
    }
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=KEYS[kind],
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        KFOPS_HOME=str(home),
    )
    env.pop("KFOPS_STORE", None)
    return env


def _kfops(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*KFOPS, *args], capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
    assert result.returncode == 0, f"kfops {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def _client(endpoint: str, service: str, kind: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id=KEYS[kind],
        aws_secret_access_key="testing",
        region_name=REGION,
    )


def _kserve_storage_initializer(endpoint: str, bucket: str, path: str, target: Path) -> None:
    """The S3 calls of KServe's storage initializer for ``s3://bucket/path``.

    As kserve/kserve python/storage/kserve_storage/kserve_storage.py ``_download_s3``
    makes them: ``Bucket.objects.filter(Prefix=path)`` (ListObjects), then
    ``Bucket.download_file(key, target)`` (HeadObject + GetObject) for each object.
    """
    import boto3

    s3 = boto3.resource(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["kserve"],
        aws_secret_access_key="testing",
        region_name=REGION,
    )
    found = 0
    for obj in s3.Bucket(bucket).objects.filter(Prefix=path):
        if obj.key.endswith("/") or obj.size == 0:
            continue
        s3.Bucket(bucket).download_file(obj.key, str(target / obj.key.rsplit("/", 1)[-1]))
        found += 1
    assert found, f"no model under s3://{bucket}/{path}"


class Recording:
    """The flows' logged requests, per role kind."""

    def __init__(self) -> None:
        self.entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.flows: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, flow: str, log: RequestLog, mark: int) -> None:
        new = [e for e in log.since(mark) if e["access_key"] == KEYS[kind]]
        assert new, f"flow {flow!r} made no AWS request"
        self.entries[kind].extend(new)
        self.flows[kind].append(f"{flow} ({len(new)} requests)")


@pytest.fixture(scope="module")
def recording(
    moto_endpoint: str, aws_request_log: RequestLog, tmp_path_factory: pytest.TempPathFactory
) -> Recording:
    bucket = "kfops-artifacts-iam-access"
    store = f"s3://{bucket}/{RECORDED_PREFIX}"
    home = tmp_path_factory.mktemp("iam-home")
    s3_admin = _client(moto_endpoint, "s3", "admin")
    with contextlib.suppress(s3_admin.exceptions.BucketAlreadyOwnedByYou):
        s3_admin.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    ecr_admin = _client(moto_endpoint, "ecr", "admin")
    for name in component_names():
        with contextlib.suppress(ecr_admin.exceptions.RepositoryNotFoundException):
            ecr_admin.delete_repository(repositoryName=repository(name), force=True)
        ecr_admin.create_repository(repositoryName=repository(name))
    rec = Recording()

    def flow(kind: str, name: str, *args: str, **extra_env: str) -> str:
        mark = aws_request_log.mark()
        out = _kfops({**_env(moto_endpoint, kind, home), **extra_env}, *args)
        rec.add(kind, name, aws_request_log, mark)
        return out

    # main.yml's promote job, with the deploy role: gate a training run on the S3 store,
    # promote it to main's baseline, and plan the images.
    report = home / "gate-main"
    flow(
        "deploy",
        "kfops gate --run training --store S3",
        "gate",
        "--run",
        "training",
        "--baseline",
        "main",
        "--store",
        store,
        "--report-dir",
        str(report),
    )
    flow(
        "deploy",
        "kfops baseline promote",
        "baseline",
        "promote",
        "--branch",
        "main",
        "--from-report",
        str(report / "gate.json"),
        "--store",
        store,
    )
    flow("deploy", "kfops images plan", "images", "plan", "--json", KFOPS_IMAGE_REGISTRY=REGISTRY)

    # In-cluster pipeline tasks (default-editor's role): training (a second model, so the
    # champion task compares), inference with the champion, monitoring a labeled window.
    flow("pipelines", "kfops run training (tasks + champion)", "run", "training", "--store", store)
    flow("pipelines", "kfops run inference", "run", "inference", "--store", store)
    flow("pipelines", "kfops run monitoring", "run", "monitoring", "--store", store)

    # KServe loads the champion's version directory, as `kfops serve` points it there.
    champion = json.loads(
        s3_admin.get_object(Bucket=bucket, Key=f"{RECORDED_PREFIX}/models/breast-cancer/champion.json")[
            "Body"
        ].read()
    )
    mark = aws_request_log.mark()
    with tempfile.TemporaryDirectory() as target:
        _kserve_storage_initializer(
            moto_endpoint,
            bucket,
            f"{RECORDED_PREFIX}/models/breast-cancer/{champion['version']}/",
            Path(target),
        )
    rec.add("kserve", "storage initializer download of the champion", aws_request_log, mark)

    # gate.yml on a same-repository PR: the candidate is local, main's baseline is read
    # from S3 with the read-only role; then the image plan.
    pointer = json.loads((report / "gate.json").read_text())
    evaluation = str((pointer.get("candidate") or {}).get("evaluation_uri") or "")
    if not evaluation.startswith("s3://"):
        evaluation = _latest_evaluation(s3_admin, bucket)
    local = home / "candidate.parquet"
    local.write_bytes(_read_uri(s3_admin, evaluation))
    flow(
        "pull-requests",
        "kfops gate --baseline-store S3 (read only)",
        "gate",
        "--candidate",
        str(local),
        "--baseline",
        "main",
        "--baseline-store",
        store,
        "--report-dir",
        str(home / "gate-pr"),
    )
    flow("pull-requests", "kfops images plan", "images", "plan", "--json", KFOPS_IMAGE_REGISTRY=REGISTRY)
    return rec


def _latest_evaluation(s3: Any, bucket: str) -> str:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{RECORDED_PREFIX}/metrics/training/evaluations/")
    return f"s3://{bucket}/" + sorted(o["Key"] for o in listed["Contents"])[-1]


def _read_uri(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# ---------------------------------------------------------------------------- evaluation


@pytest.fixture(scope="session")
def simulator() -> None:
    reason = access.node_missing()
    if reason:
        pytest.skip(reason)
    access.install()


@pytest.fixture(scope="module")
def stacks() -> dict[str, Stack]:
    return {name: Stack(name) for name in ("dev", "prod")}


def must_deny(stack: Stack) -> list[tuple[str, IamRequest, str]]:
    """(role kind, request, why) that must not be allowed in ``stack``."""
    view = stack.view
    tls = (("aws:SecureTransport", "true"),)
    plain = (("aws:SecureTransport", "false"),)
    model = view.object_arn(view.key("models/breast-cancer/v1/model.joblib"))
    pointer = view.object_arn(view.key("metrics/training/baselines/main/sha256-0.json"))
    other = "other-team" if not view.store_prefix else f"{view.store_prefix}-other"
    cases = [
        ("pipelines", IamRequest("s3:GetObject", model, plain, "GetObject"), "no TLS (bucket policy)"),
        ("pipelines", IamRequest("s3:PutObject", model, plain, "PutObject"), "no TLS (bucket policy)"),
        (
            "pipelines",
            IamRequest(
                "s3:ListBucket",
                view.bucket_arn,
                (*plain, ("s3:prefix", view.key("models/"))),
                "ListObjectsV2",
            ),
            "no TLS (bucket policy)",
        ),
        ("pull-requests", IamRequest("s3:GetObject", pointer, plain, "GetObject"), "no TLS (bucket policy)"),
        ("pull-requests", IamRequest("s3:PutObject", pointer, tls, "PutObject"), "PR role writes a baseline"),
        ("pull-requests", IamRequest("s3:PutObject", model, tls, "PutObject"), "PR role writes a model"),
        ("pull-requests", IamRequest("s3:GetObject", model, tls, "GetObject"), "PR role reads a model"),
        ("kserve", IamRequest("s3:PutObject", model, tls, "PutObject"), "KServe writes a model"),
        ("kserve", IamRequest("s3:GetObject", pointer, tls, "GetObject"), "KServe reads metrics"),
        (
            "deploy",
            IamRequest("s3:PutObject", view.object_arn(view.key("data/x.csv")), tls, "PutObject"),
            "deploy role writes data/",
        ),
        (
            "pipelines",
            IamRequest("s3:GetObject", view.object_arn(f"{other}/models/m/v/model.joblib"), tls, "GetObject"),
            "another prefix",
        ),
        (
            "pipelines",
            IamRequest("s3:PutObject", view.object_arn(f"{other}/metrics/x.json"), tls, "PutObject"),
            "another prefix",
        ),
        (
            "pipelines",
            IamRequest("s3:ListBucket", view.bucket_arn, (*tls, ("s3:prefix", f"{other}/")), "ListObjectsV2"),
            "another prefix",
        ),
        ("pipelines", IamRequest("s3:DeleteObject", model, tls, "DeleteObject"), "deleting a model version"),
    ]
    for kind in ("pipelines", "kserve", "deploy", "pull-requests"):
        cases.append(
            (
                kind,
                IamRequest("s3:ListBucket", view.bucket_arn, tls, "HeadBucket"),
                "HeadBucket (ListBucket without s3:prefix)",
            )
        )
    if view.kms_key_arn:
        direct = IamRequest(
            "kms:Decrypt", view.kms_key_arn, (*tls, ("kms:CallerAccount", ACCOUNT)), "Decrypt"
        )
        cases += [
            ("pipelines", direct, "the KMS key used directly, not through S3"),
            ("kserve", view.kms("kms:GenerateDataKey", "PutObject"), "KServe encrypts with the key"),
            ("pull-requests", view.kms("kms:GenerateDataKey", "PutObject"), "PR role encrypts with the key"),
        ]
    return cases


class Evaluation:
    """Every verdict of one simulator batch, per stack."""

    def __init__(self) -> None:
        self.allowed_list: dict[str, list[Verdict]] = {}
        self.deny_list: dict[str, list[tuple[Verdict, str]]] = {}
        self.key_policy_control: dict[str, list[Verdict]] = {}
        self.flows: dict[str, list[str]] = {}
        self.buckets: dict[str, str] = {}
        #: dev's roles making every recorded request against prod's bucket, key and repositories
        self.cross_stack: list[Verdict] = []


def evaluate(stacks: dict[str, Stack], recording: Recording) -> Evaluation:
    cases: list[Case] = []
    spans: list[tuple[str, str, int, int, list[str]]] = []  # (stack, part, start, end, notes)
    for name, stack in stacks.items():
        start = len(cases)
        for kind, entries in recording.entries.items():
            if not stack.has(kind):
                continue
            found = access.calls(entries, RECORDED_PREFIX)
            assert {c.bucket for c in found if c.service == "s3"} <= {"kfops-artifacts-iam-access"}
            cases += [stack.case(kind, r) for r in access.iam_requests(found, stack.view)]
        spans.append((name, "allowed", start, len(cases), []))
        start = len(cases)
        notes = []
        for kind, request, why in must_deny(stack):
            if stack.has(kind):
                cases.append(stack.case(kind, request))
                notes.append(why)
        spans.append((name, "deny", start, len(cases), notes))
        if stack.view.kms_key_arn:
            # Negative control for the key policy: without the runbook's statement (a key
            # policy that only names an administrator), the roles' IAM statements do nothing.
            start = len(cases)
            admin_only = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "KeyAdmins",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/key-admin"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
            for kind, action in (("pipelines", "kms:GenerateDataKey"), ("kserve", "kms:Decrypt")):
                cases.append(stack.case(kind, stack.view.kms(action, "PutObject"), key_policy=admin_only))
            spans.append((name, "key-policy-control", start, len(cases), []))
    # Stacks side by side in one account: each dev role's recorded requests, aimed at prod's
    # ARNs (prod's bucket, store prefix and key; prod's bucket and key policies).
    dev, prod = stacks["dev"], stacks["prod"]
    start = len(cases)
    for kind, entries in recording.entries.items():
        if not dev.has(kind):
            continue
        role = role_name(kind, dev.namespace)
        for request in access.iam_requests(access.calls(entries, RECORDED_PREFIX), prod.view):
            template = prod.case("deploy", request)  # prod's resource policy for this request
            cases.append(
                Case(
                    role, dev.role_arns[role], request, dev.policies[role], template.resource_policy, ACCOUNT
                )
            )
    spans.append(("dev", "cross-stack", start, len(cases), []))
    verdicts = access.simulate(cases)
    result = Evaluation()
    result.buckets = {name: stack.view.bucket for name, stack in stacks.items()}
    for name, part, start, end, notes in spans:
        chunk = verdicts[start:end]
        if part == "allowed":
            result.allowed_list[name] = chunk
        elif part == "deny":
            result.deny_list[name] = list(zip(chunk, notes, strict=True))
        elif part == "cross-stack":
            result.cross_stack = chunk
        else:
            result.key_policy_control[name] = chunk
    result.flows = {k: v for k, v in recording.flows.items()}
    return result


def render_report(evaluation: Evaluation, stacks: dict[str, Stack]) -> str:
    lines = ["# AWS access, request by request", ""]
    lines.append(
        "Generated by tests/iam/test_access.py: each flow's requests to a moto server, mapped to IAM"
    )
    lines.append("requests and evaluated with @cloud-copilot/iam-simulate against the policies the Pulumi")
    lines.append("program produces under mocks. `{id}` stands for run-specific key segments.")
    lines.append("")
    lines.append("## Flows")
    for kind, flows in evaluation.flows.items():
        lines.append(f"- {kind}: " + "; ".join(flows))
    for name, verdicts in evaluation.allowed_list.items():
        view = stacks[name].view
        lines += [
            "",
            f"## Stack {name} (store s3://{view.bucket}/{view.store_prefix}, "
            f"{'SSE-KMS' if view.kms_key_arn else 'SSE-S3'})",
            "",
        ]
        by_role: dict[str, Counter[tuple[str, str, str, str, str]]] = defaultdict(Counter)
        for v in verdicts:
            context = ", ".join(f"{k}={val}" for k, val in v.request.context if k != "aws:SecureTransport")
            resource = access.pattern(v.request.resource)
            by_role[v.role][(v.request.action, resource, context, v.request.operation, v.result)] += 1
        for role, counter in by_role.items():
            allowed = sum(n for (*_, r), n in counter.items() if r == ALLOWED)
            total = sum(counter.values())
            lines += [
                f"### {role}: {allowed}/{total} distinct requests allowed",
                "",
                "| action | resource | context | operation | verdict | distinct |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            for (action, resource, context, operation, result), n in sorted(counter.items()):
                lines.append(f"| {action} | `{resource}` | {context} | {operation} | {result} | {n} |")
            lines.append("")
        lines += [
            f"### must be denied ({name})",
            "",
            "| role | action | resource | why | verdict |",
            "| --- | --- | --- | --- | --- |",
        ]
        for v, why in evaluation.deny_list[name]:
            lines.append(f"| {v.role} | {v.request.action} | `{v.request.resource}` | {why} | {v.result} |")
        for v in evaluation.key_policy_control.get(name, []):
            lines.append(
                f"| {v.role} | {v.request.action} | `{v.request.resource}` | key policy without the "
                f"runbook statement | {v.result} |"
            )
    lines += ["", "## Dev roles on prod's ARNs (one account, both stacks)", ""]
    lines.append("ECR repositories still have fixed names (`kfops-<component>`): the same ARNs in both")
    lines.append("stacks, so the ECR rows below are not a separation (open: per-stack or shared registry).")
    lines.append("")
    lines += ["| role | action | resource | verdict | distinct |", "| --- | --- | --- | --- | --- |"]
    cross: Counter[tuple[str, str, str, str]] = Counter(
        (v.role, v.request.action, access.pattern(v.request.resource), v.result)
        for v in evaluation.cross_stack
    )
    for (role, action, resource, result), n in sorted(cross.items()):
        lines.append(f"| {role} | {action} | `{resource}` | {result} | {n} |")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def evaluation(simulator: None, stacks: dict[str, Stack], recording: Recording) -> Iterator[Evaluation]:
    result = evaluate(stacks, recording)
    text = render_report(result, stacks)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text)
    print("\n" + text)
    yield result


def _problems(verdicts: list[Verdict]) -> list[str]:
    return [
        f"{v.role} {v.request.operation}: {v.request.action} {v.request.resource} {dict(v.request.context)}: "
        f"{v.result} {v.errors or ''}".rstrip()
        for v in verdicts
        if v.result != ALLOWED
    ]


# ---------------------------------------------------------------------------- tests


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_recorded_request_is_allowed_for_its_role(evaluation: Evaluation, stack: str) -> None:
    verdicts = evaluation.allowed_list[stack]
    roles = {v.role.split("-team-")[0] for v in verdicts}
    expected = {"kfops-pipelines", "kfops-kserve", "kfops-github-deploy"}
    # the pull-request role exists only in the stack PR workflows use (dev)
    assert roles == (expected | {"kfops-github-pull-requests"} if stack == "dev" else expected)
    assert _problems(verdicts) == []


def test_the_flows_made_the_requests_the_issue_names(evaluation: Evaluation) -> None:
    """The recording covers what was denied before: the store probe, prefixed keys, ECR."""
    dev = evaluation.allowed_list["dev"]
    lists = [v for v in dev if v.request.action == "s3:ListBucket" and v.role.startswith("kfops-pipelines")]
    prefixes = {dict(v.request.context).get("s3:prefix") for v in lists}
    assert "ml/models/" in prefixes and "ml/metrics/" in prefixes  # the writability probes
    assert all(p and p.startswith("ml/") for p in prefixes)
    writes = {v.request.resource for v in dev if v.request.action == "s3:PutObject"}
    bucket = evaluation.buckets["dev"]
    assert writes and all(w.startswith(f"arn:aws:s3:::{bucket}/ml/") for w in writes)
    ecr = {(v.role, v.request.action) for v in dev if v.request.action.startswith("ecr:")}
    assert ("kfops-github-deploy", "ecr:DescribeImages") in ecr
    assert ("kfops-github-pull-requests", "ecr:DescribeImages") in ecr
    pr = {v.request.action for v in dev if v.role == "kfops-github-pull-requests"}
    assert pr <= {"s3:ListBucket", "s3:GetObject", "ecr:DescribeImages"}


def test_with_a_kms_key_pipelines_and_kserve_use_it_through_s3(evaluation: Evaluation) -> None:
    prod = evaluation.allowed_list["prod"]
    kms = {(v.role.split("-team-")[0], v.request.action) for v in prod if v.request.action.startswith("kms:")}
    assert {
        ("kfops-pipelines", "kms:GenerateDataKey"),
        ("kfops-pipelines", "kms:Decrypt"),
        ("kfops-kserve", "kms:Decrypt"),
    } <= kms
    for v in prod:
        if v.request.action.startswith("kms:"):
            assert dict(v.request.context)["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    # without the key-policy statement of docs/runbook.md the same requests are denied
    controls = evaluation.key_policy_control["prod"]
    assert controls and all(v.result != ALLOWED for v in controls)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_must_deny_requests_are_denied(evaluation: Evaluation, stack: str) -> None:
    allowed = [
        f"{v.role} {v.request.action} {v.request.resource} ({why})"
        for v, why in evaluation.deny_list[stack]
        if v.result == ALLOWED
    ]
    assert allowed == []
    no_tls = [v for v, why in evaluation.deny_list[stack] if why.startswith("no TLS")]
    assert no_tls and all(v.result == "ExplicitlyDenied" for v in no_tls)


def test_dev_roles_are_denied_on_prod_bucket_and_key(evaluation: Evaluation) -> None:
    """Both example stacks in one account: no dev data role reaches prod's store or key.

    ECR is left out: repository names are fixed (``kfops-<component>``), so both stacks would
    name the same repositories (see the report and the changelog: still open).
    """
    s3_kms = [v for v in evaluation.cross_stack if not v.request.action.startswith("ecr:")]
    assert s3_kms and {v.request.action.split(":")[0] for v in s3_kms} == {"s3", "kms"}
    assert [f"{v.role} {v.request.action} {v.request.resource}" for v in s3_kms if v.result == ALLOWED] == []


def test_the_runbook_shows_the_key_policy_statement() -> None:
    statement = policies.store_key_policy_statement(ACCOUNT, REGION)
    assert json.dumps(statement, indent=2) in (REPO / "docs" / "runbook.md").read_text()


def test_reintroducing_head_bucket_makes_the_access_check_fail(
    simulator: None,
    stacks: dict[str, Stack],
    moto_endpoint: str,
    aws_request_log: RequestLog,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Negative control: the old probe (HeadBucket), recorded and evaluated as above, is denied."""
    from components.shared import store as store_module

    def head_bucket_probe(self: store_module.S3Store, area: str = "metrics") -> None:
        self.client.head_bucket(Bucket=self.bucket)

    monkeypatch.setattr(store_module.S3Store, "check_writable", head_bucket_probe)
    client = _client(moto_endpoint, "s3", "pipelines")
    bucket = "kfops-artifacts-iam-access"
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        _client(moto_endpoint, "s3", "admin").create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    mark = aws_request_log.mark()
    store_module.S3Store(bucket, RECORDED_PREFIX, client=client).check_writable("models")
    entries = [e for e in aws_request_log.since(mark) if e["access_key"] == KEYS["pipelines"]]
    found = access.calls(entries, RECORDED_PREFIX)
    assert [c.operation for c in found] == ["HeadBucket"]
    stack = stacks["dev"]
    verdicts = access.simulate([stack.case("pipelines", r) for r in access.iam_requests(found, stack.view)])
    problems = _problems(verdicts)
    with capsys.disabled():
        print("\nHeadBucket negative control:", *problems, sep="\n  ")
    assert problems and "s3:ListBucket" in problems[0] and "ImplicitlyDenied" in problems[0]
    REPORT.parent.mkdir(exist_ok=True)
    with REPORT.open("a") as report:
        report.write(
            "\n## Negative control: the old HeadBucket probe\n\n"
            + "\n".join(f"- {p}" for p in problems)
            + "\n"
        )


def test_an_unmapped_request_fails_instead_of_passing() -> None:
    entry = {"service": "s3", "method": "GET", "path": "/b/k", "query": "acl", "headers": {}}
    with pytest.raises(access.UnmappedRequest, match="acl"):
        access.calls([entry])
    with pytest.raises(access.UnmappedRequest, match="sts"):
        access.calls([{"service": "sts", "method": "POST", "path": "/", "query": "", "headers": {}}])
    assert access.calls(
        [{**entry, "query": "list-type=2&prefix=ml%2Fmodels%2F&max-keys=1", "path": "/b"}], "ml"
    ) == [Call("s3", "ListObjectsV2", "b", "", (("prefix", "models/"), ("max-keys", "1")), True)]
