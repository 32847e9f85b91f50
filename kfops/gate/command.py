"""The ``kfops gate`` and ``kfops baseline`` commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from components.shared.errors import InputError, one_line
from components.shared.store import open_store
from kfops.files import output_dir, write_atomically
from kfops.gate.baseline import list_baselines, promote
from kfops.gate.config import GateConfig, load_config
from kfops.gate.report import GateOutcome, comment_body, render_markdown, write_reports
from kfops.gate.run import publish_github, run_gate
from kfops.settings import Settings

DEFAULT_REPORT_DIR = Path("build/gate")


def add_parsers(commands: Any) -> None:
    """Register ``gate`` and ``baseline`` on the ``kfops`` subcommand parser."""
    gate = commands.add_parser("gate", help="fail when the candidate's accuracy really regresses")
    what = gate.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--candidate",
        help="predictions file (evaluation record, or CSV/Parquet with y_true,y_pred), "
        "a run record (JSON of `kfops metrics show RUN`) or a run id/name",
    )
    what.add_argument("--run", metavar="PIPELINE", help="run this pipeline locally and gate its result")
    gate.add_argument(
        "--baseline",
        help="a branch (default: main), or as --candidate: predictions file, run record or run id/name",
    )
    gate.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="with --run")
    gate.add_argument("--config", type=Path, help="TOML gate settings (default: [tool.kfops.gate])")
    gate.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR)
    gate.add_argument("--store", help="store root (default: .kfops/store or $KFOPS_STORE)")
    gate.add_argument(
        "--baseline-store",
        help="store holding the baselines, only read (default: --store): a PR runs locally "
        "and reads main's baseline from S3 with a read-only role",
    )
    gate.add_argument(
        "--github",
        action="store_true",
        help="write $GITHUB_STEP_SUMMARY and print a PR comment body with a hidden marker",
    )
    gate.set_defaults(handler=gate_command)

    baseline = commands.add_parser("baseline", help="branch baselines of the performance gate")
    actions = baseline.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    promote_cmd = actions.add_parser("promote", help="make a run the branch's baseline")
    which = promote_cmd.add_mutually_exclusive_group()
    which.add_argument("--run", help="run id or name (default: the pipeline's latest record)")
    which.add_argument(
        "--from-report", type=Path, help="the gate.json of `kfops gate --run`: promote its candidate"
    )
    show = actions.add_parser("show", help="print the branch's baselines")
    for sub in (promote_cmd, show):
        sub.add_argument("--pipeline", default=None, help="default: [tool.kfops.gate] pipeline or training")
        sub.add_argument("--branch", default=None, help="default: [tool.kfops.gate] baseline_branch or main")
        sub.add_argument("--store", help="store root (default: .kfops/store or $KFOPS_STORE)")
        sub.set_defaults(handler=baseline_command)


def print_outcome(outcome: GateOutcome, report_dir: Path, github: bool) -> None:
    """Write the reports and print the verdict (or, with ``github``, the PR comment body)."""
    paths = write_reports(outcome, report_dir)
    markdown = render_markdown(outcome)
    if github:
        publish_github(markdown)
        body = comment_body(outcome, markdown)
        write_atomically(report_dir / "comment.md", body.encode())
        print(body)
    else:
        print(markdown.rstrip())
    print(f"reports: {paths['markdown']}  {paths['json']}  {paths['png']}", file=sys.stderr)


def gate_command(args: argparse.Namespace, settings: Settings) -> int:
    """``kfops gate``: exit 0 pass, 1 regression, 2 error."""
    config = load_config(args.config)
    output_dir(args.report_dir, "report directory", create=False)  # before any work, not after a pipeline run
    store = args.store or settings.store
    candidate_info: dict[str, Any] = {}
    if args.run:
        record = _run_for_candidate(args.run, args.param, settings, args.store)
        candidate_uri = record["evaluation_uri"]
        candidate_info = {
            k: record.get(k) for k in ("run_id", "run_name", "git_ref", "git_commit", "model_version")
        }
        store = record.get("store", store)
    else:
        if args.param:
            raise InputError("--param only applies with --run")
        candidate_uri = args.candidate
    outcome = run_gate(
        baseline_spec=args.baseline or config.baseline_branch,
        candidate_uri=candidate_uri,
        config=config,
        store=args.baseline_store or store,
        candidate_info=candidate_info,
    )
    print_outcome(outcome, args.report_dir, args.github)
    return outcome.exit_code


def _run_for_candidate(
    pipeline: str, pairs: list[str], settings: Settings, store: str | None
) -> dict[str, Any]:
    from kfops.local_run import parse_record, run_pipeline
    from kfops.report import run_summary

    result = run_pipeline(pipeline, pairs, settings=settings, store=store)
    record = parse_record(result.output)
    if not record.get("evaluation_uri"):
        raise InputError(f"pipeline {pipeline!r} produced no evaluation record to gate")
    print(run_summary(pipeline, result.seconds, record, str(result.log_path), result.tasks))
    print()
    return {**record, "store": result.store}


def _rule_defaults(args: argparse.Namespace) -> tuple[GateConfig, str, str]:
    config = load_config(None)
    return config, args.pipeline or config.pipeline, args.branch or config.baseline_branch


def _candidate_run(report: Path) -> str:
    """The run id of the candidate a gate report was made for (it must have passed)."""
    try:
        verdict = json.loads(report.read_text())
    except OSError as exc:
        raise InputError(f"cannot read gate report {report}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"gate report {report} is not JSON: {one_line(exc)}") from None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("candidate", {}), dict):
        raise InputError(f"gate report {report} is not a report of `kfops gate` (expected a JSON object)")
    if verdict.get("exit_code") != 0:
        raise InputError(f"gate report {report} is a failing verdict; refusing to promote its candidate")
    run = (verdict.get("candidate") or {}).get("run_id")
    if not run:
        raise InputError(f"gate report {report} names no candidate run (was it made with --run?)")
    return str(run)


def baseline_command(args: argparse.Namespace, settings: Settings) -> int:
    """``kfops baseline promote|show``."""
    from components.metrics_store.io import list_records, show_record

    _, pipeline, branch = _rule_defaults(args)
    store = args.store or settings.store
    open_store(store).check_readable()  # a mistyped store is no "no baseline"
    if args.baseline_command == "show":
        pointers = list_baselines(store, pipeline, branch)
        if not pointers:
            print(f"no baseline for pipeline '{pipeline}' on branch '{branch}'")
        else:
            print(json.dumps(pointers, indent=2, sort_keys=True))
        return 0
    if args.from_report:
        run = _candidate_run(args.from_report)
        record = show_record(store, run, pipeline)
    elif args.run:
        record = show_record(store, args.run, pipeline)
    else:
        records = list_records(store, pipeline)
        if not records:
            raise InputError(f"no run records of pipeline '{pipeline}' in {store} to promote")
        record = records[-1]
    actor = os.environ.get("GITHUB_ACTOR") or os.environ.get("USER", "")
    pointer = promote(store, pipeline, branch, record, actor=actor)
    metrics = pointer["metrics"]
    headline = next((m for m in ("accuracy", "rmse") if m in metrics), "accuracy")
    print(
        f"baseline of '{branch}' for {pipeline} is now run {pointer['run_name'] or pointer['run_id']} "
        f"({headline} {metrics.get(headline, float('nan')):.4f}, "
        f"evaluation set {pointer['test_fingerprint'][:19]}...)"
    )
    return 0
