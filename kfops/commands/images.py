"""``kfops images list|ref|plan|build|lock|dockerfiles|check``: the component images."""

from __future__ import annotations

import argparse
import json
import sys

from components.shared.errors import InputError
from kfops.commands import Subcommands
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``images`` and its actions."""
    images = commands.add_parser("images", help="component images")
    images_cmd = images.add_subparsers(dest="images_command", required=True, metavar="ACTION")
    images_cmd.add_parser("list", help="component -> image reference").set_defaults(handler=images_list)
    ref = images_cmd.add_parser("ref", help="the image reference of one component")
    ref.add_argument("component")
    ref.set_defaults(handler=images_ref)
    plan = images_cmd.add_parser("plan", help="which images must be built (content hash, ECR)")
    plan.add_argument("--since", help="only images whose inputs changed since this git ref")
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(handler=images_plan)
    build = images_cmd.add_parser("build", help="build (and push) only the images the plan marks")
    build.add_argument("--since", help="only images whose inputs changed since this git ref")
    build.add_argument("--push", action="store_true", help="push to the registry (main only)")
    build.add_argument("--cache", choices=["gha"], help="buildx cache backend (GitHub Actions)")
    build.add_argument("--dry-run", action="store_true", help="print the docker commands only")
    build.add_argument(
        "--pipelines",
        help="only the images these pipelines run in (comma-separated, e.g. training,monitoring)",
    )
    build.add_argument("--jobs", type=int, default=1, help="builds at once (default 1)")
    build.set_defaults(handler=images_build)
    lock = images_cmd.add_parser("lock", help="export each image's pinned requirements from uv.lock")
    lock.add_argument("--check", action="store_true", help="exit 1 if a requirements file is stale")
    lock.set_defaults(handler=images_lock)
    dockerfiles = images_cmd.add_parser(
        "dockerfiles", help="write each image's Dockerfile from its declaration (components/images.py)"
    )
    dockerfiles.add_argument("--check", action="store_true", help="exit 1 if a Dockerfile is stale")
    dockerfiles.set_defaults(handler=images_dockerfiles)
    images_cmd.add_parser(
        "check", help="exit 1 if a task reaches a module, file or package its image lacks (static)"
    ).set_defaults(handler=images_check)


def images_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print each component and its image reference."""
    from components.images import component_names, image

    for name in component_names():
        print(f"{name:<16} {image(name)}")
    return 0


def images_ref(args: argparse.Namespace, settings: Settings) -> int:
    """Print the image reference of one component (an unknown one is bad input)."""
    from components.images import image

    try:
        print(image(args.component))
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    return 0


def images_plan(args: argparse.Namespace, settings: Settings) -> int:
    """Print which images must be built and why (``--json``: as JSON)."""
    from dataclasses import asdict

    from kfops.images.plan import plan_images

    plans = plan_images(args.since)
    if args.json:
        print(json.dumps([asdict(p) for p in plans], indent=2))
    else:
        for p in plans:
            print(f"{'build' if p.build else 'skip':<6} {p.component:<14} {p.image:<60} {p.reason}")
        print(f"{sum(p.build for p in plans)} image(s) to build")
    return 0


def images_build(args: argparse.Namespace, settings: Settings) -> int:
    """Build (and push) the images the plan marks; print each docker command."""
    import shlex

    from kfops.images.build import build_images
    from kfops.images.plan import only_for_pipelines, plan_images

    plans = plan_images(args.since)
    if args.pipelines:
        plans = only_for_pipelines(plans, [p for p in args.pipelines.split(",") if p])
    commands = build_images(plans, push=args.push, cache=args.cache, dry_run=args.dry_run, jobs=args.jobs)
    for command in commands:
        print(shlex.join(command))
    print(f"{len(commands)} image(s) {'to build' if args.dry_run else 'built'}")
    return 0


def images_lock(args: argparse.Namespace, settings: Settings) -> int:
    """Export each image's requirements from ``uv.lock`` (``--check``: exit 1 if one is stale)."""
    from kfops.images.lock import lock_images

    return _report_generated(lock_images(check=args.check), args.check, "requirements.txt", "lock")


def images_dockerfiles(args: argparse.Namespace, settings: Settings) -> int:
    """Write each image's Dockerfile (``--check``: exit 1 if one is stale)."""
    from kfops.images.dockerfiles import write_dockerfiles

    return _report_generated(write_dockerfiles(check=args.check), args.check, "Dockerfile", "dockerfiles")


def images_check(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 1, naming each problem on stderr, if a task reaches what its image lacks."""
    from kfops.images.check import check_images

    found = {name: problems for name, problems in check_images().items() if problems}
    for name, problems in found.items():
        for problem in problems:
            print(f"{name}: {problem}", file=sys.stderr)
    print(
        f"{len(found)} image(s) lack what their task reaches"
        if found
        else "every image holds what its task reaches"
    )
    return 1 if found else 0


def _report_generated(changed: list[str], check: bool, kind: str, command: str) -> int:
    """Report ``images lock`` / ``images dockerfiles``: exit 1 when ``--check`` finds stale files."""
    if check and changed:
        print(f"stale {kind} (run `kfops images {command}`): {', '.join(changed)}", file=sys.stderr)
        return 1
    print(f"{'stale' if check else 'updated'}: {', '.join(changed) or 'none'}")
    return 0
