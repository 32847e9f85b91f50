"""``kfops notify-failures``: post newly failed pipeline runs to a webhook."""

from __future__ import annotations

import argparse
from pathlib import Path

from components.shared.errors import InputError
from kfops.commands import Subcommands
from kfops.commands.common import kfp_token
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``notify-failures``."""
    failures = commands.add_parser(
        "notify-failures",
        help="post newly failed pipeline runs to a webhook (once each; watermark in the store)",
    )
    failures.add_argument("--host", required=True)
    failures.add_argument("--namespace", default="")
    failures.add_argument("--token-file", type=Path)
    failures.add_argument("--token-from-eks", metavar="CLUSTER")
    failures.add_argument("--service-account", metavar="NS/NAME")
    failures.add_argument("--webhook-url", default="", help="default: $KFOPS_WEBHOOK_URL (keep it a secret)")
    failures.add_argument("--store", help="store for the watermark (default: .kfops/store or $KFOPS_STORE)")
    failures.set_defaults(handler=notify_failures_command)


def notify_failures_command(args: argparse.Namespace, settings: Settings) -> int:
    """Notify each newly failed run once; exit 1 while some notification is still pending."""
    import os

    from kfops.failures import notify_failures

    webhook = args.webhook_url or os.environ.get("KFOPS_WEBHOOK_URL", "")
    if not webhook:
        raise InputError("no webhook: pass --webhook-url or set KFOPS_WEBHOOK_URL")
    outcome = notify_failures(
        args.host, kfp_token(args), webhook, args.store or settings.store, namespace=args.namespace
    )
    print(f"{len(outcome['notified'])} failed run(s) notified; {len(outcome['pending'])} pending")
    return 1 if outcome["pending"] else 0
