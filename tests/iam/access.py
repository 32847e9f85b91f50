"""Recorded AWS requests -> IAM requests -> verdicts of a real policy simulator.

Three steps, each a stand-in derived from AWS's own documentation:

1. `calls`: each HTTP request the moto server logged (tests/conftest.py `RequestLog`)
   becomes an API operation, by the REST routes of S3's API reference (method, path,
   sub-resource query) and the ``X-Amz-Target`` header of JSON-protocol services (ECR).
   A request this module cannot name raises: new traffic must be mapped before it passes.
2. `iam_requests`: each operation becomes the IAM requests AWS authorizes it as, per the
   Service Authorization Reference and each API page's "Permissions" section:
   * ``HeadBucket`` -> ``s3:ListBucket`` on the bucket, with no ``s3:prefix``
     (S3 API reference, HeadBucket: "you must have permissions to perform the
     s3:ListBucket action");
   * ``ListObjects``/``ListObjectsV2`` -> ``s3:ListBucket`` with ``s3:prefix`` = the
     ``prefix`` parameter (absent when not sent), ``s3:delimiter``, ``s3:max-keys``;
   * ``HeadObject``/``GetObject`` -> ``s3:GetObject`` on the object (HeadObject: "you must
     have the s3:GetObject permission"); when the key is missing, S3 answers 404 only to a
     caller with ``s3:ListBucket`` on the bucket and 403 otherwise (same pages), evaluated
     without an ``s3:prefix``: a missing key costs an extra ``s3:ListBucket`` request;
   * ``PutObject``, ``CreateMultipartUpload``, ``UploadPart``, ``CompleteMultipartUpload``
     -> ``s3:PutObject``; ``AbortMultipartUpload`` -> ``s3:AbortMultipartUpload``;
     ``CopyObject`` -> ``s3:PutObject`` on the target and ``s3:GetObject`` on the source;
   * with SSE-KMS on the bucket, S3 calls KMS as the caller ("Using server-side encryption
     with AWS KMS keys", S3 user guide): ``kms:GenerateDataKey`` to write a new object,
     ``kms:Decrypt`` to read one (and to complete a multipart upload), with
     ``kms:ViaService = s3.<region>.amazonaws.com`` and ``kms:CallerAccount``;
   * ECR JSON operations -> ``ecr:<Operation>`` on ``repository/<repositoryName>``
     (``GetAuthorizationToken`` on ``*``).
   Every request carries ``aws:SecureTransport = true``: outside tests, boto3 reaches S3
   and ECR over HTTPS (their endpoints' default); the moto server is plain HTTP only
   because it is a local test double.
3. `Simulator`: one ``node`` process evaluates a whole batch with
   ``@cloud-copilot/iam-simulate`` (pinned in tests/iam/package-lock.json, installed by
   ``npm ci`` into the git-ignored tests/iam/node_modules; test-only, AGPL-3.0).

Keys are kept relative to the store root the flow used, so one recording is evaluated
against each stack's own bucket, store prefix and KMS key (`StackView.render`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

HERE = Path(__file__).resolve().parent
SIMULATE = HERE / "simulate.mjs"
NODE_MODULES = HERE / "node_modules"
_STAMP = NODE_MODULES / ".kfops-lock-sha256"

#: Query parameters of S3 list/get requests that are arguments, not sub-resources.
_S3_ARGUMENTS = {
    "prefix",
    "delimiter",
    "max-keys",
    "marker",
    "encoding-type",
    "list-type",
    "continuation-token",
    "fetch-owner",
    "start-after",
    "versionId",
    "partNumber",
    "x-id",
}
_ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921."


class UnmappedRequest(AssertionError):
    """A logged request that this module cannot name (map it before trusting a verdict)."""


@dataclass(frozen=True)
class Call:
    """One API operation as a flow made it.

    Attributes:
        service: ``s3`` or ``ecr``.
        operation: The API operation (``ListObjectsV2``, ``PutObject``, ``DescribeImages``...).
        bucket: S3 bucket ("" for other services).
        key: Object key relative to the flow's store root, or the full key when outside it.
        params: Operation arguments that become context keys (``prefix`` relative like ``key``),
            ECR's ``repositoryName``, a copy source.
        inside_store: Whether ``key``/``prefix`` were under the flow's store root.
        status: The HTTP status the (moto) server answered.
    """

    service: str
    operation: str
    bucket: str = ""
    key: str = ""
    params: tuple[tuple[str, str], ...] = ()
    inside_store: bool = True
    status: int = 200

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)


def _relative(value: str, store_prefix: str) -> tuple[str, bool]:
    if not store_prefix:
        return value, True
    if value == store_prefix or value.startswith(store_prefix + "/"):
        return value[len(store_prefix) :].lstrip("/"), True
    return value, False


def _s3_operation(method: str, has_key: bool, query: dict[str, list[str]], headers: dict[str, str]) -> str:
    sub = {k for k in query if k not in _S3_ARGUMENTS and not k.startswith("response-")}
    if not has_key:
        if method == "HEAD" and not sub:
            return "HeadBucket"
        if method == "GET" and not sub:
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        if method == "GET" and sub == {"versions"}:
            return "ListObjectVersions"
        if method == "GET" and sub == {"location"}:
            return "GetBucketLocation"
        if method == "GET" and sub == {"uploads"}:
            return "ListMultipartUploads"
        if method == "PUT" and not sub:
            return "CreateBucket"
    else:
        if method == "GET" and not sub:
            return "GetObject"
        if method == "HEAD" and not sub:
            return "HeadObject"
        if method == "PUT" and sub == {"uploadId"}:
            return "UploadPart"
        if method == "PUT" and not sub:
            return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
        if method == "POST" and sub == {"uploads"}:
            return "CreateMultipartUpload"
        if method == "POST" and sub == {"uploadId"}:
            return "CompleteMultipartUpload"
        if method == "DELETE" and sub == {"uploadId"}:
            return "AbortMultipartUpload"
        if method == "DELETE" and not sub:
            return "DeleteObject"
    raise UnmappedRequest(f"S3 {method} {'object' if has_key else 'bucket'} request with {sorted(sub)}")


def calls(entries: Iterable[dict[str, Any]], store_prefix: str = "") -> list[Call]:
    """Name each logged request (path-style S3 addressing, as boto3 uses for an IP endpoint)."""
    found: list[Call] = []
    for entry in entries:
        service = entry.get("service", "")
        if service == "s3":
            bucket, _, raw_key = entry["path"].lstrip("/").partition("/")
            key = unquote(raw_key)
            query = parse_qs(entry["query"], keep_blank_values=True)
            operation = _s3_operation(entry["method"], bool(key), query, entry["headers"])
            params: list[tuple[str, str]] = []
            inside = True
            if key:
                key, inside = _relative(key, store_prefix)
            for name in ("prefix", "delimiter", "max-keys"):
                if name in query:
                    value = query[name][0]
                    if name == "prefix":
                        value, inside = _relative(value, store_prefix)
                    params.append((name, value))
            if "x-amz-copy-source" in entry["headers"]:
                params.append(("copy-source", unquote(entry["headers"]["x-amz-copy-source"])))
            found.append(Call("s3", operation, bucket, key, tuple(params), inside, entry.get("status", 200)))
        elif service == "ecr":
            target = entry["headers"].get("x-amz-target", "")
            if not target.startswith(_ECR_TARGET):
                raise UnmappedRequest(f"ECR request without a known X-Amz-Target: {target!r}")
            body = json.loads(entry.get("body") or "{}")
            params = (("repositoryName", body["repositoryName"]),) if "repositoryName" in body else ()
            found.append(Call("ecr", target.removeprefix(_ECR_TARGET), params=params))
        else:
            raise UnmappedRequest(f"request to service {service!r}: {entry['method']} {entry['path']}")
    return found


@dataclass(frozen=True)
class IamRequest:
    """One request as IAM evaluates it."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    operation: str = ""

    def simulation_request(self, principal: str, account: str) -> dict[str, Any]:
        return {
            "principal": principal,
            "action": self.action,
            "resource": {"resource": self.resource, "accountId": account},
            "contextVariables": dict(self.context),
        }


@dataclass(frozen=True)
class StackView:
    """One stack's names, to render recorded calls as that stack's IAM requests.

    Attributes:
        account: Account id.
        region: Region of the bucket and the repositories.
        bucket: The artifact bucket's name.
        store_prefix: The store's root in it ("" for the bucket root).
        kms_key_arn: The bucket's KMS key ("" for SSE-S3).
    """

    account: str
    region: str
    bucket: str
    store_prefix: str = ""
    kms_key_arn: str = ""

    def key(self, relative: str, inside: bool = True) -> str:
        if not inside or not self.store_prefix:
            return relative
        return f"{self.store_prefix}/{relative}" if relative else f"{self.store_prefix}/"

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def object_arn(self, key: str) -> str:
        return f"{self.bucket_arn}/{key}"

    def kms(self, action: str, operation: str) -> IamRequest:
        return IamRequest(
            action,
            self.kms_key_arn,
            (
                ("kms:ViaService", f"s3.{self.region}.amazonaws.com"),
                ("kms:CallerAccount", self.account),
                ("aws:SecureTransport", "true"),
            ),
            operation,
        )

    def render(self, call: Call) -> list[IamRequest]:
        """The IAM requests AWS makes of ``call`` in this stack (see the module docstring)."""
        tls = (("aws:SecureTransport", "true"),)
        op = call.operation
        if call.service == "ecr":
            name = call.param("repositoryName")
            resource = (
                "*"
                if op == "GetAuthorizationToken"
                else f"arn:aws:ecr:{self.region}:{self.account}:repository/{name}"
            )
            if resource != "*" and name is None:
                raise UnmappedRequest(f"ECR {op} without a repositoryName")
            return [IamRequest(f"ecr:{op}", resource, tls, op)]
        key = self.key(call.key, call.inside_store)
        bucket_level = {
            "HeadBucket": "s3:ListBucket",
            "ListObjects": "s3:ListBucket",
            "ListObjectsV2": "s3:ListBucket",
            "ListObjectVersions": "s3:ListBucketVersions",
            "GetBucketLocation": "s3:GetBucketLocation",
            "ListMultipartUploads": "s3:ListBucketMultipartUploads",
            "CreateBucket": "s3:CreateBucket",
        }
        if op in bucket_level:
            context = list(tls)
            if op in ("ListObjects", "ListObjectsV2"):
                prefix = call.param("prefix")
                if prefix is not None:
                    context.append(("s3:prefix", self.key(prefix, call.inside_store) if prefix else ""))
                for name in ("delimiter", "max-keys"):
                    if call.param(name) is not None:
                        context.append((f"s3:{name}", str(call.param(name))))
            return [IamRequest(bucket_level[op], self.bucket_arn, tuple(context), op)]
        target = self.object_arn(key)
        kms_write = self.kms("kms:GenerateDataKey", op) if self.kms_key_arn else None
        kms_read = self.kms("kms:Decrypt", op) if self.kms_key_arn else None
        object_level: dict[str, list[IamRequest | None]] = {
            "GetObject": [IamRequest("s3:GetObject", target, tls, op), kms_read],
            "HeadObject": [IamRequest("s3:GetObject", target, tls, op)],
            "PutObject": [IamRequest("s3:PutObject", target, tls, op), kms_write],
            "CreateMultipartUpload": [IamRequest("s3:PutObject", target, tls, op), kms_write],
            "UploadPart": [IamRequest("s3:PutObject", target, tls, op), kms_write],
            "CompleteMultipartUpload": [IamRequest("s3:PutObject", target, tls, op), kms_read],
            "AbortMultipartUpload": [IamRequest("s3:AbortMultipartUpload", target, tls, op)],
            "DeleteObject": [IamRequest("s3:DeleteObject", target, tls, op)],
        }
        if op == "CopyObject":
            source = str(call.param("copy-source")).lstrip("/")
            return [
                IamRequest("s3:PutObject", target, tls, op),
                IamRequest("s3:GetObject", f"arn:aws:s3:::{source}", tls, op),
                *([kms_write, kms_read] if self.kms_key_arn else []),
            ]
        if op not in object_level:
            raise UnmappedRequest(f"no IAM mapping for S3 {op}")
        found = [r for r in object_level[op] if r is not None]
        if op in ("GetObject", "HeadObject") and call.status == 404:
            # the caller sees "no such key" only with ListBucket, which S3 checks without s3:prefix
            found = [r for r in found if r.action != "kms:Decrypt"]
            found.append(IamRequest("s3:ListBucket", self.bucket_arn, tls, f"{op} of a missing key"))
        return found


def iam_requests(found: Iterable[Call], stack: StackView) -> list[IamRequest]:
    """Every IAM request of ``found`` in ``stack``, distinct, in first-seen order."""
    seen: dict[IamRequest, None] = {}
    for call in found:
        for request in stack.render(call):
            seen.setdefault(request, None)
    return list(seen)


_ID_SEGMENT = re.compile(r"\d")


def pattern(resource: str) -> str:
    """A resource with run-specific path segments (anything with a digit) shown as ``{id}``."""
    if not resource.startswith("arn:aws:s3:::") or "/" not in resource:
        return resource
    head, _, path = resource.partition("/")
    parts = []
    for segment in path.split("/"):
        if _ID_SEGMENT.search(segment):
            suffix = Path(segment).suffix if re.fullmatch(r"\.[a-z]+", Path(segment).suffix or "") else ""
            segment = "{id}" + suffix
        parts.append(segment)
    return head + "/" + "/".join(parts)


@dataclass
class Verdict:
    """A request, the role it was evaluated for, and the simulator's answer."""

    role: str
    request: IamRequest
    result: str
    errors: Any = None


@dataclass
class Case:
    """A request to evaluate for one principal, with the policies that apply."""

    role: str
    principal: str
    request: IamRequest
    identity_policy: dict[str, Any]
    resource_policy: dict[str, Any] | None = None
    account: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def simulation(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "request": self.request.simulation_request(self.principal, self.account),
            "identityPolicies": [{"name": f"{self.role}-policy", "policy": self.identity_policy}],
        }
        if self.resource_policy is not None:
            body["resourcePolicy"] = self.resource_policy
        return body


def _lock_digest() -> str:
    return hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()


def node_missing() -> str | None:
    """Why the simulator cannot run here, or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return "node and npm are needed to evaluate IAM requests (tests/iam/package.json); install Node 20+"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < 20:
        return f"Node 20+ is needed to evaluate IAM requests; found {version or 'no version'}"
    return None


def install() -> None:
    """``npm ci`` the pinned simulator into tests/iam/node_modules unless the lock is unchanged."""
    digest = _lock_digest()
    if _STAMP.is_file() and _STAMP.read_text().strip() == digest:
        return
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm ci in {HERE} failed: {result.stderr.strip()[-2000:]}")
    _STAMP.write_text(digest + "\n")


def simulate(cases: list[Case]) -> list[Verdict]:
    """Evaluate every case in one node process."""
    if not cases:
        return []
    result = subprocess.run(
        ["node", str(SIMULATE)],
        input=json.dumps([c.simulation() for c in cases]),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the IAM simulator failed: {result.stderr.strip()[-2000:]}")
    answers = json.loads(result.stdout)
    assert len(answers) == len(cases)
    return [Verdict(c.role, c.request, a["result"], a["errors"]) for c, a in zip(cases, answers, strict=True)]
