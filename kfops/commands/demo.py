"""``kfops demo``: train on the bundled dataset locally, then gate against main's baseline."""

from __future__ import annotations

import argparse

from kfops.commands import Subcommands
from kfops.commands.common import STORE_HELP
from kfops.settings import Settings

DEMO_PIPELINE = "training"


def add_parsers(commands: Subcommands) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo", help="train a model on the bundled dataset locally, then gate it against main's baseline"
    )
    demo.add_argument("--store", help=STORE_HELP)
    demo.add_argument(
        "--loop",
        action="store_true",
        help="continuous training instead: drifting windows, monitoring, retraining, champion (fresh store)",
    )
    demo.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    """Train on the bundled data, gate against main's baseline; seed the baseline once."""
    if args.loop:
        from kfops.continuous import loop_demo

        return loop_demo(settings, args.store)
    from kfops.gate.baseline import promote
    from kfops.gate.command import DEFAULT_REPORT_DIR, _run_for_candidate, print_outcome
    from kfops.gate.config import load_config
    from kfops.gate.run import run_gate

    config = load_config(None)
    print(
        "Demo: this run may replace the champion (as `kfops run training --promote`; "
        "a plain `kfops run training` only reports the challenge)"
    )
    record = _run_for_candidate(DEMO_PIPELINE, ["promote=true"], settings, args.store)
    outcome = run_gate(
        baseline_spec=config.baseline_branch,
        candidate_uri=record["evaluation_uri"],
        config=config,
        store=record["store"],
        candidate_info={k: record.get(k) for k in ("run_id", "run_name", "git_ref")},
    )
    print_outcome(outcome, DEFAULT_REPORT_DIR, github=False)
    if outcome.verdict == "no-baseline":
        promote(record["store"], DEMO_PIPELINE, config.baseline_branch, record, actor="kfops demo")
        print(
            f"\nDemo: promoted this run as the '{config.baseline_branch}' baseline (what the main "
            "workflow's `kfops baseline promote` does after a merge);\n"
            "run the demo again for a paired comparison."
        )
    return outcome.exit_code
