"""``kfops champion show|history|rollback|promote``: the champion version of a model name."""

from __future__ import annotations

import argparse
from typing import Any

from kfops.commands import Subcommands
from kfops.commands.common import STORE_HELP, readable_store
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``champion`` and its actions."""
    champion = commands.add_parser("champion", help="the champion model version of a model name")
    champion_cmd = champion.add_subparsers(dest="champion_command", required=True, metavar="ACTION")
    for action, text, handler in (
        ("show", "the current champion (JSON)", champion_show),
        ("history", "every promotion and rollback (JSON)", champion_history),
        ("rollback", "make an earlier version champion again", champion_rollback),
        ("promote", "make MODEL:VERSION champion by hand (recorded)", champion_promote),
    ):
        sub = champion_cmd.add_parser(action, help=text)
        sub.add_argument("model", help="MODEL:VERSION" if action == "promote" else "model name")
        sub.add_argument("--store", help=STORE_HELP)
        if action == "rollback":
            sub.add_argument("--to", default="", help="version (default: the previous champion)")
        sub.set_defaults(handler=handler)


def champion_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print the model's current champion record as JSON."""
    from kfops import continuous

    store = readable_store(args.store or settings.store)
    continuous.print_json(continuous.show_champion(store, args.model))
    return 0


def champion_history(args: argparse.Namespace, settings: Settings) -> int:
    """Print every promotion and rollback of the model as JSON."""
    from kfops import continuous

    store = readable_store(args.store or settings.store)
    continuous.print_json(continuous.champion_history(store, args.model))
    return 0


def champion_rollback(args: argparse.Namespace, settings: Settings) -> int:
    """Make an earlier version (``--to``, default: the previous champion) champion again."""
    from kfops import continuous

    store = readable_store(args.store or settings.store)
    _print_champion(continuous.rollback(store, args.model, args.to))
    return 0


def champion_promote(args: argparse.Namespace, settings: Settings) -> int:
    """Make ``MODEL:VERSION`` champion by hand (the promotion is recorded)."""
    from kfops import continuous

    store = readable_store(args.store or settings.store)
    _print_champion(continuous.promote(store, args.model))
    return 0


def _print_champion(record: dict[str, Any]) -> None:
    print(f"champion of {record['model_name']} is now {record['version']} ({record['reason']})")
