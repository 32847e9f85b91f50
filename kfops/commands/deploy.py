"""``kfops deploy``: upload compiled pipelines as content-addressed versions."""

from __future__ import annotations

import argparse
from pathlib import Path

from kfops.commands import Subcommands
from kfops.commands.common import DEFAULT_PIPELINES_DIR, DEFAULT_SCHEDULES, kfp_token
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``deploy``."""
    deploy = commands.add_parser("deploy", help="upload compiled pipelines as content-addressed versions")
    deploy.add_argument(
        "--host", required=True, help="KFP API URL, e.g. https://kubeflow.example.com/pipeline"
    )
    deploy.add_argument("--namespace", default="", help="Kubeflow profile namespace (multi-user)")
    deploy.add_argument(
        "--token-file", type=Path, help="bearer token file (default: $KF_PIPELINES_SA_TOKEN_PATH)"
    )
    deploy.add_argument(
        "--token-from-eks",
        metavar="CLUSTER",
        help="mint a 10-minute token via TokenRequest with the ambient AWS credentials",
    )
    deploy.add_argument(
        "--service-account", metavar="NS/NAME", help="with --token-from-eks, e.g. team-ml/kfops-ci"
    )
    deploy.add_argument("--pipelines-dir", type=Path, default=DEFAULT_PIPELINES_DIR)
    deploy.add_argument(
        "--schedules",
        type=Path,
        default=None,
        help="recurring runs to reconcile (default: schedules.yaml if present)",
    )
    deploy.add_argument("--store", help="store for the audit record (default: .kfops/store or $KFOPS_STORE)")
    deploy.add_argument("--dry-run", action="store_true", help="say what would be uploaded, upload nothing")
    deploy.set_defaults(handler=deploy_command)


def deploy_command(args: argparse.Namespace, settings: Settings) -> int:
    """Compile, upload what changed, reconcile the schedules and print what was (or would be) done."""
    import os

    from kfops.compile import compile_pipelines
    from kfops.deploy import deploy
    from kfops.gitinfo import current_commit

    token = kfp_token(args)
    compile_pipelines(args.pipelines_dir)  # deploy exactly what these sources compile to
    result = deploy(
        args.host,
        token,
        args.pipelines_dir,
        namespace=args.namespace,
        store="" if args.dry_run else (args.store or settings.store),
        commit=current_commit(),
        actor=os.environ.get("GITHUB_ACTOR") or os.environ.get("USER", ""),
        dry_run=args.dry_run,
        schedules_file=args.schedules or (DEFAULT_SCHEDULES if DEFAULT_SCHEDULES.is_file() else None),
    )
    verb = "would upload" if args.dry_run else "uploaded"
    prefix = "would be " if args.dry_run else ""
    for label in result.uploaded:
        print(f"{verb:<13} {label}")
    for label in result.unchanged:
        print(f"{'unchanged':<13} {label}")
    for change, names in result.schedules.items():
        for name in names:
            print(f"schedule {name}: {prefix if change != 'unchanged' else ''}{change}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    changed = sum(len(v) for k, v in result.schedules.items() if k != "unchanged")
    print(
        f"{len(result.uploaded)} {verb}, {len(result.unchanged)} unchanged; "
        f"{changed} schedule change(s){' (dry run: nothing was changed)' if args.dry_run else ''}"
        + (f"; audit record {result.audit_uri}" if result.audit_uri else "")
    )
    return 0
