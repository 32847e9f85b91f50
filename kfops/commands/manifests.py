"""``kfops manifests render|validate``: the Kubernetes objects under ``manifests/``."""

from __future__ import annotations

import argparse
import sys

from kfops.commands import Subcommands
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``manifests`` and its actions."""
    manifests = commands.add_parser("manifests", help="Kubernetes objects under manifests/")
    manifests_cmd = manifests.add_subparsers(dest="manifests_command", required=True, metavar="ACTION")
    render = manifests_cmd.add_parser("render", help="write manifests/ from infra/kubernetes_objects.py")
    render.add_argument("--check", action="store_true", help="exit 1 if a rendered file is stale")
    render.set_defaults(handler=manifests_render)
    validate = manifests_cmd.add_parser(
        "validate", help="validate every overlay against Kubernetes and CRD schemas"
    )
    validate.set_defaults(handler=manifests_validate)


def manifests_render(args: argparse.Namespace, settings: Settings) -> int:
    """Write ``manifests/`` (``--check``: exit 1 if a file is stale, writing nothing)."""
    from kfops import manifests

    stale = manifests.write(check=args.check)
    if args.check and stale:
        print(
            f"stale files under manifests/ (run `kfops manifests render`): {', '.join(stale)}",
            file=sys.stderr,
        )
        return 1
    print(f"{'stale' if args.check else 'written'}: {', '.join(stale) or 'none'}")
    return 0


def manifests_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Validate every object of the overlays; exit 1 with each problem on stderr."""
    from kfops import manifests

    problems = [
        p
        for overlay in ("aws", "kind")
        for o in manifests.overlay_objects(overlay)
        for p in manifests.validate_object(o)
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s) in overlays aws, kind")
    return 1 if problems else 0
