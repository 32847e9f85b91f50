"""``kfops serve MODEL[:VERSION]``: serve a stored model version with KServe."""

from __future__ import annotations

import argparse
import sys

from kfops.commands import Subcommands
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``serve``."""
    serve = commands.add_parser("serve", help="serve a stored model version with KServe (InferenceService)")
    serve.add_argument("model", metavar="MODEL[:VERSION]", help="model name; no :VERSION serves the champion")
    serve.add_argument("--namespace", default="", help="profile namespace (default: kubeconfig context's)")
    serve.add_argument("--store", help="store with the model (default: .kfops/store or $KFOPS_STORE)")
    serve.add_argument("--name", default="", help="InferenceService name (default: the model name)")
    serve.add_argument("--context", default="", help="kubeconfig context (default: current; else in-cluster)")
    serve.add_argument(
        "--service-account",
        default=None,
        help="ServiceAccount with the read-only IRSA role (default: infra's kserveServiceAccount default)",
    )
    serve.add_argument(
        "--runtime-version",
        default="",
        help="KServe sklearn server image tag (pick one whose scikit-learn matches the model's)",
    )
    serve.add_argument("--dry-run", action="store_true", help="print the InferenceService; write nothing")
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Create or replace the InferenceService (``--dry-run``: print it) and say what was done."""
    import os

    from kfops import kserve
    from kfops.serve import serve

    result = serve(
        args.model,
        store_uri=args.store or settings.store,
        namespace=args.namespace,
        name=args.name,
        context=args.context,
        dry_run=args.dry_run,
        service_account=args.service_account or kserve.SERVICE_ACCOUNT,
        runtime_version=args.runtime_version,
        actor=os.environ.get("GITHUB_ACTOR") or os.environ.get("USER", ""),
    )
    meta, obj = result.metadata, result.obj
    sklearn = meta.get("sklearn_version") or "unknown"
    if not args.runtime_version:
        print(
            f"note: the model was trained with scikit-learn {sklearn}; KServe's sklearn server must "
            "load it with the same version (choose its image tag with --runtime-version)",
            file=sys.stderr,
        )
    if args.dry_run:
        if not obj["spec"]["predictor"]["model"]["storageUri"].startswith("s3://"):
            print(
                "note: storageUri is a local path, which KServe cannot load; serve from an S3 store",
                file=sys.stderr,
            )
        print(result.yaml, end="")
        return 0
    target = f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"
    print(
        f"{result.action} InferenceService {target}: model {meta['model_name']} version {meta['version']} "
        f"({result.resolved_from}), {obj['spec']['predictor']['model']['storageUri']}"
    )
    print(f"hand-off record {result.handoff_uri}")
    return 0
