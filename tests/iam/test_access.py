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
  --param promote=true --store S3``, ``kfops baseline promote``, ``kfops images plan``;
* ``gate.yml`` (``kfops-github-pull-requests``): ``kfops gate --baseline-store S3``
  (read only) and ``kfops images plan``.

Every recorded request must be allowed; a list of must-deny requests must be denied;
the report goes to stdout and build/iam-access.md.
"""

from __future__ import annotations

import contextlib
import hashlib
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
from infra import identity, policies
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
#: Roles that exist per profile namespace and reach only that namespace's store.
TEAM_KINDS = ("pipelines", "kserve")
#: What owning (or wrecking) a registry takes: no dev role may do any of it to prod's registry.
ECR_OWNER_ACTIONS = (
    *policies.REPOSITORY_ACTIONS,
    "ecr:BatchDeleteImage",
    "ecr:SetRepositoryPolicy",
    "ecr:DeleteRepositoryPolicy",
)
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/44444444-4444-4444-4444-444444444444"  # prod's, by alias


def role_name(kind: str, namespace: str) -> str:
    """The role's logical name in the program (its AWS name is ``kfops-<stack>-...``)."""
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
        self.namespaces: list[str] = json.loads(self.config["kfops:profileNamespaces"])
        self.namespace = self.namespaces[0]  # CI's namespace (kfops:ciNamespace's default)
        prefix = self.config.get("kfops:storePrefix", "")
        #: each team's store: <storePrefix>/<namespace>, in the same bucket with the same key
        self.views = {
            ns: StackView(
                ACCOUNT,
                self.config["aws:region"],
                bucket.outputs["bucket"],
                f"{prefix}/{ns}" if prefix else ns,
                self.config.get("kfops:kmsKeyArn", ""),
            )
            for ns in self.namespaces
        }
        self.view = self.views[self.namespace]
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

    def case(
        self,
        kind: str,
        request: IamRequest,
        key_policy: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> Case:
        role = role_name(kind, namespace or self.namespace)
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


# The flows take about 40 s, too slow to repeat for each mutant of infra/ (benchmarks/mutation).
# What they send depends only on the code that sends it, never on infra/'s policies, so with
# KFOPS_IAM_RECORDING naming a JSON file a recording is kept there and reused while these
# files are unchanged. The one import of infra/ in them (`kfops manifests`, not among the
# flows) reads infra/kubernetes_objects.py, which is in the list too.
RECORDING_SOURCES = (
    *("kfops", "components", "pipelines", "infra/__init__.py", "infra/kubernetes_objects.py"),
    *("tests/conftest.py", "tests/iam/test_access.py", "uv.lock"),  # the server, the flows
)


def recording_digest() -> str:
    """sha256 of the paths and bytes of every file the recorded requests depend on."""
    digest = hashlib.sha256()
    for source in RECORDING_SOURCES:
        path = REPO / source
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" not in file.parts:
                digest.update(f"{file.relative_to(REPO)}\0".encode() + file.read_bytes() + b"\0")
    return digest.hexdigest()


def cached_recording(path: Path, digest: str) -> Recording | None:
    """The recording kept at ``path``, if it was made from the present sources."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("digest") != digest:
        return None
    rec = Recording()
    rec.entries.update(data["entries"])
    rec.flows.update(data["flows"])
    return rec


def keep_recording(path: Path, digest: str, rec: Recording) -> None:
    """Write the recording atomically: a concurrent reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as out:
        json.dump({"digest": digest, "entries": rec.entries, "flows": rec.flows}, out)
    os.replace(out.name, path)


@pytest.fixture(scope="module")
def recording(
    moto_endpoint: str, aws_request_log: RequestLog, tmp_path_factory: pytest.TempPathFactory
) -> Recording:
    cache = os.environ.get("KFOPS_IAM_RECORDING")
    if not cache:
        return record(moto_endpoint, aws_request_log, tmp_path_factory)
    digest = recording_digest()
    rec = cached_recording(Path(cache), digest)
    if rec is None:
        rec = record(moto_endpoint, aws_request_log, tmp_path_factory)
        keep_recording(Path(cache), digest, rec)
    return rec


def record(
    moto_endpoint: str, aws_request_log: RequestLog, tmp_path_factory: pytest.TempPathFactory
) -> Recording:
    """Run the flows against moto and collect each role's requests."""
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
        "kfops gate --run training --param promote=true --store S3",
        "gate",
        "--run",
        "training",
        "--param",
        "promote=true",
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
    flow(
        "pipelines",
        "kfops run training --promote (tasks + champion)",
        "run",
        "training",
        "--promote",
        "--store",
        store,
    )
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


def _permissive_key_policy() -> dict[str, Any]:
    """AWS's default key policy: IAM policies decide everything (so a denial is the role's)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def prod_targets(
    prod: Stack,
) -> dict[str, list[tuple[str, tuple[tuple[str, Any], ...], dict[str, Any] | None]]]:
    """Prod's resources (and the shared ones prod owns), by kind: (ARN, context, resource policy)."""
    tls: tuple[tuple[str, Any], ...] = (("aws:SecureTransport", "true"),)
    state = f"arn:aws:s3:::kfops-pulumi-state-{ACCOUNT}"  # the state bucket both stacks use
    state_keys = [
        ".pulumi/stacks/kfops/prod.json",
        ".pulumi/stacks/kfops/prod.json.bak",
        ".pulumi/history/kfops/prod/prod-1700000000.history.json",
        ".pulumi/backups/kfops/prod/prod.1700000000.json",
        ".pulumi/journal/kfops/prod/1.json",
        ".pulumi/locks/organization/kfops/prod/0b1c.json",
    ]
    objects = [
        (view.object_arn(view.key(f"{area}/probe/object.json")), tls, prod.bucket_policy)
        for view in prod.views.values()
        for area in policies.PIPELINE_PREFIXES
    ] + [(f"{state}/{key}", tls, None) for key in state_keys]
    lists = [
        (view.bucket_arn, (*tls, ("s3:prefix", view.key(f"{area}/"))), prod.bucket_policy)
        for view in prod.views.values()
        for area in policies.PIPELINE_PREFIXES
    ]
    via_s3 = (("kms:ViaService", f"s3.{REGION}.amazonaws.com"), ("kms:CallerAccount", ACCOUNT))
    key_policy = _permissive_key_policy()
    keys = [
        (prod.view.kms_key_arn, (*tls, *via_s3, ("kms:GrantIsForAWSResource", "true")), key_policy),
        (
            SECRETS_KEY,
            (
                *tls,
                ("kms:ResourceAliases", ("alias/kfops-pulumi-prod",)),
                ("kms:GrantIsForAWSResource", "true"),
            ),
            key_policy,
        ),
    ]
    provider = next(
        r.outputs["arn"]
        for r in prod.resources
        if r.type == "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
    )
    roles = sorted(prod.role_arns.values())
    cluster = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{prod.config['kfops:clusterName']}"
    entry = f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry"
    entries = [
        f"{entry}/{cluster_name}/role/{ACCOUNT}/{arn.rsplit('/', 1)[1]}/0a1b"
        for arn in roles
        if arn.endswith(("-infra-apply", "-github-deploy"))
        # prod's cluster, and the same names on dev's cluster (one cluster for both stacks)
        for cluster_name in (prod.config["kfops:clusterName"], "ml-dev")
    ]
    admin = f"arn:aws:eks::aws:cluster-access-policy/{identity.CLUSTER_ADMIN_POLICY}"
    return {
        "s3-object": objects,
        "s3-bucket": lists,
        "kms": keys,
        "ecr": [
            (f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repository(c)}", tls, None)
            for c in component_names()
        ],
        "iam-role": [(arn, tls, None) for arn in roles],
        "iam-oidc": [(provider, tls, None)],
        "eks-cluster": [(cluster, (*tls, ("eks:principalArn", roles[0])), None)],
        "eks-entry": [(arn, (*tls, ("eks:policyArn", admin)), None) for arn in entries],
    }


def _target_kind(action: str) -> str | None:
    service, name = action.split(":", 1)
    if service == "s3":
        return "s3-object" if name.endswith("Object") or name == "AbortMultipartUpload" else "s3-bucket"
    if service == "iam":
        return "iam-oidc" if "OpenIDConnectProvider" in name else "iam-role"
    if service == "eks":
        return "eks-cluster" if name in ("DescribeCluster", "CreateAccessEntry") else "eks-entry"
    if service == "ecr":
        return None if name == "GetAuthorizationToken" else "ecr"  # "*": no resource of anyone's
    return service


def every_dev_action_on_prod(dev: Stack, prod: Stack) -> list[Case]:
    """Every action in each dev role's policy, on every prod resource of its kind; and, for every
    dev role, what owning prod's registry and OIDC provider takes (none of it is in any dev policy).
    """
    targets = prod_targets(prod)
    cases = []
    for role, policy in dev.policies.items():
        actions = {a for statement in policy["Statement"] for a in _as_list(statement["Action"])}
        actions |= set(ECR_OWNER_ACTIONS) | set(policies.OIDC_PROVIDER_ACTIONS)
        for action in sorted(actions):
            kind = _target_kind(action)
            for arn, context, resource_policy in targets.get(kind or "", []):
                request = IamRequest(action, arn, context, "policy action")
                cases.append(Case(role, dev.role_arns[role], request, policy, resource_policy, ACCOUNT))
    return cases


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def shared_by_design(verdict: Verdict) -> bool:
    """The one thing dev may do to what prod owns: main.yml (dev's deploy role) pushes new image
    tags into the shared registry, and gate.yml (dev's pull-request role) sees which exist. Tags
    are immutable, so neither overwrites what prod runs; deleting is in no dev policy."""
    repository_arn = verdict.request.resource.startswith(f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/")
    if verdict.role == "kfops-github-deploy":
        return repository_arn and verdict.request.action in policies.ECR_PUSH_ACTIONS
    if verdict.role == "kfops-github-pull-requests":
        return repository_arn and verdict.request.action == "ecr:DescribeImages"
    return False


class Evaluation:
    """Every verdict of one simulator batch, per stack."""

    def __init__(self) -> None:
        self.allowed_list: dict[str, list[Verdict]] = {}
        self.deny_list: dict[str, list[tuple[Verdict, str]]] = {}
        self.key_policy_control: dict[str, list[Verdict]] = {}
        self.flows: dict[str, list[str]] = {}
        self.buckets: dict[str, str] = {}
        #: dev's roles making every recorded request, and every action of their policies, on prod's
        #: resources and on the registry and OIDC provider prod owns
        self.cross_stack: list[Verdict] = []
        #: each team's roles making the recorded S3 requests in another team's store
        self.other_team: dict[str, list[Verdict]] = {}


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
            # a team's roles in that team's store; CI's roles in CI's namespace's store
            for namespace in stack.namespaces if kind in TEAM_KINDS else [stack.namespace]:
                view = stack.views[namespace]
                cases += [stack.case(kind, r, namespace=namespace) for r in access.iam_requests(found, view)]
        spans.append((name, "allowed", start, len(cases), []))
        # Teams: each team's roles making every recorded S3 request in another team's store.
        # (KMS is left out: the teams share the bucket and its key, and S3 refuses first.)
        start = len(cases)
        for kind in TEAM_KINDS:
            found = access.calls(recording.entries[kind], RECORDED_PREFIX)
            for own in stack.namespaces:
                for other in (ns for ns in stack.namespaces if ns != own):
                    cases += [
                        stack.case(kind, r, namespace=own)
                        for r in access.iam_requests(found, stack.views[other])
                        if r.action.startswith("s3:")
                    ]
        spans.append((name, "other-team", start, len(cases), []))
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
    cases += every_dev_action_on_prod(dev, prod)
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
        elif part == "other-team":
            result.other_team[name] = chunk
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
    for name, verdicts in evaluation.other_team.items():
        if not verdicts:
            continue
        lines += ["", f"## One team's roles in another team's store ({name})", ""]
        lines += ["| role | action | resource | verdict | distinct |", "| --- | --- | --- | --- | --- |"]
        teams: Counter[tuple[str, str, str, str]] = Counter(
            (v.role, v.request.action, access.pattern(v.request.resource), v.result) for v in verdicts
        )
        for (role, action, resource, result), n in sorted(teams.items()):
            lines.append(f"| {role} | {action} | `{resource}` | {result} | {n} |")
    lines += ["", "## Dev roles on prod's resources (one account, both stacks)", ""]
    lines.append("Each dev role's recorded requests aimed at prod's store, and every action of its policy")
    lines.append(
        "on every prod resource of that kind (roles, state files, bucket, keys, access entries), plus"
    )
    lines.append("what owning the registry and the GitHub OIDC provider (both prod's) takes. The registry is")
    lines.append(
        "shared: dev's deploy role pushes new tags (immutable: nothing prod runs is overwritten) and"
    )
    lines.append("dev's pull-request role sees which exist; those rows say `shared by design`.")
    lines.append("")
    summary: Counter[tuple[str, str]] = Counter(
        (v.role, "shared by design" if shared_by_design(v) else v.result) for v in evaluation.cross_stack
    )
    lines += ["| dev role | verdict | requests |", "| --- | --- | --- |"]
    for (role, result), n in sorted(summary.items()):
        lines.append(f"| {role} | {result} | {n} |")
    lines += ["", "| role | action | resource | verdict | distinct |", "| --- | --- | --- | --- | --- |"]
    cross: Counter[tuple[str, str, str, str]] = Counter(
        (
            v.role,
            v.request.action,
            access.pattern(v.request.resource),
            "shared by design" if shared_by_design(v) else v.result,
        )
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
    # the writability probes, in team-ml's store (<storePrefix>/<namespace>)
    assert "ml/team-ml/models/" in prefixes and "ml/team-ml/metrics/" in prefixes
    assert all(p and p.startswith("ml/team-ml/") for p in prefixes)
    writes = {v.request.resource for v in dev if v.request.action == "s3:PutObject"}
    bucket = evaluation.buckets["dev"]
    assert writes and all(w.startswith(f"arn:aws:s3:::{bucket}/ml/team-ml/") for w in writes)
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


def test_no_dev_role_can_act_on_prod(evaluation: Evaluation) -> None:
    """Both example stacks in one account: every dev role, every action it has (and what owning
    prod's registry and OIDC provider takes) on prod's resources, is denied by the simulator.
    The only allowed rows are the shared registry's pushes and reads (``shared_by_design``)."""
    cross = evaluation.cross_stack
    allowed = [
        f"{v.role} {v.request.action} {v.request.resource}"
        for v in cross
        if v.result == ALLOWED and not shared_by_design(v)
    ]
    assert allowed == []
    errors = [f"{v.role} {v.request.action}: {v.errors}" for v in cross if v.result == "Error"]
    assert errors == []  # a denial must be an evaluation, not an unknown action or resource
    covered = {(v.role, v.request.action.split(":")[0]) for v in cross}
    dev_roles = {
        "kfops-pipelines-team-ml",
        "kfops-kserve-team-ml",
        "kfops-github-deploy",
        "kfops-github-pull-requests",
        "kfops-infra-preview",
        "kfops-infra-apply",
    }
    assert {role for role, _ in covered} == dev_roles
    assert {(role, "ecr") for role in dev_roles} <= covered  # the registry, skipped before
    assert {
        ("kfops-infra-apply", "iam"),
        ("kfops-infra-apply", "eks"),
        ("kfops-infra-apply", "s3"),
    } <= covered
    # what wrecking the registry takes is denied to every dev role, on every repository
    owner = [v for v in cross if v.request.action in ECR_OWNER_ACTIONS]
    assert len(owner) == len(dev_roles) * len(ECR_OWNER_ACTIONS) * len(component_names())
    assert all(v.result != ALLOWED for v in owner)
    # prod's state files and roles, which dev's infra-apply scopes covered before
    state = [v for v in cross if "/.pulumi/" in v.request.resource and v.role == "kfops-infra-apply"]
    assert state and all(v.result != ALLOWED for v in state)
    # the design's one exception is really exercised: dev's main.yml pushes into prod's registry
    assert any(shared_by_design(v) and v.result == ALLOWED for v in cross)


def test_one_team_is_denied_in_another_teams_store(evaluation: Evaluation) -> None:
    """prod has two teams: each team's pipeline and KServe roles, making every recorded S3 request
    in the other team's store, are denied (and allowed in their own: the allowed list above)."""
    verdicts = evaluation.other_team["prod"]
    assert {v.role for v in verdicts} == {
        "kfops-pipelines-team-fraud",
        "kfops-pipelines-team-risk",
        "kfops-kserve-team-fraud",
        "kfops-kserve-team-risk",
    }
    assert [
        f"{v.role} {v.request.action} {v.request.resource}" for v in verdicts if v.result == ALLOWED
    ] == []
    own = {v.role for v in evaluation.allowed_list["prod"] if v.result == ALLOWED}
    assert {"kfops-pipelines-team-risk", "kfops-kserve-team-risk"} <= own
    assert evaluation.other_team["dev"] == []  # one team: nothing to cross


def test_the_old_stack_wide_scopes_would_fail_the_dev_on_prod_check(
    simulator: None, stacks: dict[str, Stack]
) -> None:
    """Negative control: dev's infra-apply with the scopes it had before (`role/kfops-*`,
    `.pulumi/*`), evaluated the same way, is allowed on prod's roles and state."""
    dev, prod = stacks["dev"], stacks["prod"]
    old = json.loads(
        json.dumps(dev.policies["kfops-infra-apply"]).replace("role/kfops-dev-*", "role/kfops-*")
    )
    for statement in old["Statement"]:
        if statement["Sid"] == "PulumiStateObjects":
            statement["Resource"] = f"arn:aws:s3:::kfops-pulumi-state-{ACCOUNT}/.pulumi/*"
    cases = [
        Case(
            "kfops-infra-apply",
            dev.role_arns["kfops-infra-apply"],
            c.request,
            old,
            c.resource_policy,
            ACCOUNT,
        )
        for c in every_dev_action_on_prod(dev, prod)
        if c.role == "kfops-infra-apply"
    ]
    allowed = {v.request.action for v in access.simulate(cases) if v.result == ALLOWED}
    assert {"iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "s3:PutObject", "s3:GetObject"} <= allowed


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
