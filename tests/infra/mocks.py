"""Run the Pulumi program under mocks and collect every resource it registers."""

from __future__ import annotations

import hashlib
import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


@dataclass
class Registered:
    """One resource as the program registered it (inputs are camelCase, as the engine sees them)."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    provider: str = ""  # the explicit provider's reference (``urn::id``), "" for the default one


class Mocks(pulumi.runtime.Mocks):
    """Answers resource registrations and the invokes the program makes."""

    def __init__(self, stack: str = "test") -> None:
        self.resources: list[Registered] = []
        # bucket_prefix gets a unique suffix from the provider: one per stack here
        self.suffix = hashlib.sha256(stack.encode()).hexdigest()[:10]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        name = args.name
        if args.typ == "aws:s3/bucket:Bucket":
            outputs.update(bucket=f"{args.inputs.get('bucketPrefix', name)}{self.suffix}", arn="")
            outputs["arn"] = f"arn:aws:s3:::{outputs['bucket']}"
        elif args.typ == "aws:ecr/repository:Repository":
            outputs.update(
                arn=f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/{args.inputs['name']}",
                repositoryUrl=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{args.inputs['name']}",
            )
        elif args.typ == "aws:iam/role:Role":
            physical = args.inputs.get("name") or name  # the program names every role
            outputs.update(arn=f"arn:aws:iam::{ACCOUNT}:role/{physical}", name=physical)
        elif args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            outputs.update(arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com")
        self.resources.append(Registered(args.typ, name, dict(args.inputs), outputs, args.provider or ""))
        return f"{name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]] | dict[str, Any]:
        if args.token == "aws:eks/getCluster:getCluster":
            return {
                "arn": f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/{args.args['name']}",
                "name": args.args["name"],
                "identities": [{"oidcs": [{"issuer": f"https://{ISSUER}"}]}],
                "endpoint": "https://EXAMPLE.gr7.eu-west-1.eks.amazonaws.com",
                "certificateAuthorities": [{"data": "Q0EK"}],
            }
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/admin",
                "userId": "AIDA",
                "id": ACCOUNT,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        raise NotImplementedError(f"unexpected invoke {args.token}")


def stack_config(stack: str) -> dict[str, str]:
    """A committed stack file's config, as the engine passes it (objects as JSON text)."""
    data = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def run_program(config: dict[str, str], stack: str = "test") -> tuple[Mocks, dict[str, Any]]:
    """Run ``infra/__main__.py`` as ``stack`` under mocks with ``config``; return mocks and exports."""
    mocks = Mocks(stack)
    pulumi.runtime.set_mocks(mocks, project="kfops", stack=stack, preview=False)
    pulumi.runtime.set_all_config(config)
    exports: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        captured: dict[str, Any] = {}
        original = pulumi.export
        pulumi.export = lambda name, value: captured.__setitem__(name, value)  # type: ignore[assignment]
        try:
            runpy.run_path(str(REPO / "infra" / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = original  # type: ignore[assignment]
        return pulumi.Output.from_input(captured).apply(exports.update)

    run()
    return mocks, exports
