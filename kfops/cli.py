"""The ``kfops`` command: every step of the workflow, runnable on a laptop or in CI.

Exit codes: 0 success, 1 failure, 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.shared.cli import run_cli
from components.shared.errors import InputError
from kfops import __version__
from kfops.settings import Settings

DEMO_PIPELINE = "training"
DEFAULT_SCHEDULES = Path("schedules.yaml")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="kfops", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kfops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="train a model on the bundled dataset locally, then gate it against main's baseline"
    )
    demo.add_argument("--store", help="store root (default: .kfops/store or $KFOPS_STORE)")
    demo.add_argument(
        "--loop",
        action="store_true",
        help="continuous training instead: drifting windows, monitoring, retraining, champion (fresh store)",
    )

    run = commands.add_parser("run", help="run a pipeline locally with kfp.local")
    run.add_argument("pipeline", help="pipeline name, e.g. training")
    run.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="pipeline parameter (repeatable)"
    )
    run.add_argument("--store", help="store root (default: .kfops/store or $KFOPS_STORE)")
    run.add_argument("-v", "--verbose", action="store_true", help="stream every task's output")
    run.add_argument(
        "--runner",
        choices=["subprocess", "isolated", "docker"],
        default="subprocess",
        help="subprocess: every task in this environment (default); isolated: each task with only "
        "what its image holds (locked requirements, copied files); docker: the images themselves",
    )
    run.add_argument(
        "--isolated",
        dest="runner",
        action="store_const",
        const="isolated",
        help="short for --runner isolated",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="monitoring: say which retraining would start, start none"
    )
    run.add_argument(
        "--promote",
        action="store_true",
        help="training: let the new model replace the champion if it does not regress "
        "(default: challenge and report only; same as --param promote=true)",
    )

    champion = commands.add_parser("champion", help="the champion model version of a model name")
    champion_cmd = champion.add_subparsers(dest="champion_command", required=True, metavar="ACTION")
    for action, text in (
        ("show", "the current champion (JSON)"),
        ("history", "every promotion and rollback (JSON)"),
        ("rollback", "make an earlier version champion again"),
        ("promote", "make MODEL:VERSION champion by hand (recorded)"),
    ):
        sub = champion_cmd.add_parser(action, help=text)
        sub.add_argument("model", help="MODEL:VERSION" if action == "promote" else "model name")
        sub.add_argument("--store", help="store root (default: .kfops/store or $KFOPS_STORE)")
        if action == "rollback":
            sub.add_argument("--to", default="", help="version (default: the previous champion)")

    comp = commands.add_parser("compile", help="compile every pipeline to YAML")
    comp.add_argument("--output-dir", type=Path, default=Path("build/pipelines"))

    metrics = commands.add_parser("metrics", help="read the metrics store")
    metrics_cmd = metrics.add_subparsers(dest="metrics_command", required=True, metavar="ACTION")
    listing = metrics_cmd.add_parser("list", help="one line per run record")
    show = metrics_cmd.add_parser("show", help="one run record as JSON")
    show.add_argument("run", help="run id or run name (or a unique prefix)")
    for sub in (listing, show):
        sub.add_argument("--store", help="store root (default: .kfops/store or $KFOPS_STORE)")
        sub.add_argument("--pipeline", help="only this pipeline's records")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    data = commands.add_parser("data", help="datasets")
    data_cmd = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    synth = data_cmd.add_parser("synth", help="write a synthetic dataset for large-scale runs")
    synth.add_argument("--rows", type=int, required=True)
    synth.add_argument("--features", type=int, default=20)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--output", required=True, help=".csv or .parquet path or s3:// URI")

    from kfops.gate.command import add_parsers

    add_parsers(commands)

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
    deploy.add_argument("--pipelines-dir", type=Path, default=Path("build/pipelines"))
    deploy.add_argument(
        "--schedules",
        type=Path,
        default=None,
        help="recurring runs to reconcile (default: schedules.yaml if present)",
    )
    deploy.add_argument("--store", help="store for the audit record (default: .kfops/store or $KFOPS_STORE)")
    deploy.add_argument("--dry-run", action="store_true", help="say what would be uploaded, upload nothing")

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

    rollback = commands.add_parser("rollback", help="point a pipeline's schedules at an earlier version")
    rollback.add_argument("pipeline")
    rollback.add_argument("--to", default="", help="version name (default: the one before the current)")
    rollback.add_argument("--host", required=True)
    rollback.add_argument("--namespace", default="")
    rollback.add_argument("--token-file", type=Path)
    rollback.add_argument("--token-from-eks", metavar="CLUSTER")
    rollback.add_argument("--service-account", metavar="NS/NAME")
    rollback.add_argument("--schedules", type=Path, default=DEFAULT_SCHEDULES)
    rollback.add_argument("--keep", type=int, default=10, help="versions kept (unused older ones are pruned)")

    plan_cmd = commands.add_parser("plan", help="what merging this branch would do (Markdown or JSON)")
    plan_cmd.add_argument("--since", help="base git ref (e.g. origin/main)")
    plan_cmd.add_argument("--store", help="store with the deploy audit records (read only)")
    plan_cmd.add_argument("--gate-report", type=Path, help="gate.json of `kfops gate` to include")
    plan_cmd.add_argument("--pipelines-dir", type=Path, default=Path("build/pipelines"))
    plan_cmd.add_argument("--schedules", type=Path, default=DEFAULT_SCHEDULES)
    plan_cmd.add_argument("--json", action="store_true")

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

    manifests = commands.add_parser("manifests", help="Kubernetes objects under manifests/")
    manifests_cmd = manifests.add_subparsers(dest="manifests_command", required=True, metavar="ACTION")
    render = manifests_cmd.add_parser("render", help="write manifests/ from infra/kubernetes_objects.py")
    render.add_argument("--check", action="store_true", help="exit 1 if a rendered file is stale")
    manifests_cmd.add_parser("validate", help="validate every overlay against Kubernetes and CRD schemas")

    images = commands.add_parser("images", help="component images")
    images_cmd = images.add_subparsers(dest="images_command", required=True, metavar="ACTION")
    images_cmd.add_parser("list", help="component -> image reference")
    ref = images_cmd.add_parser("ref", help="the image reference of one component")
    ref.add_argument("component")
    plan = images_cmd.add_parser("plan", help="which images must be built (content hash, ECR)")
    plan.add_argument("--since", help="only images whose inputs changed since this git ref")
    plan.add_argument("--json", action="store_true")
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
    lock = images_cmd.add_parser("lock", help="export each image's pinned requirements from uv.lock")
    lock.add_argument("--check", action="store_true", help="exit 1 if a requirements file is stale")
    dockerfiles = images_cmd.add_parser(
        "dockerfiles", help="write each image's Dockerfile from its declaration (components/images.py)"
    )
    dockerfiles.add_argument("--check", action="store_true", help="exit 1 if a Dockerfile is stale")
    images_cmd.add_parser(
        "check", help="exit 1 if a task reaches a module, file or package its image lacks (static)"
    )
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from kfops.local_run import parse_record, run_pipeline
    from kfops.report import run_summary

    if args.pipeline == "monitoring":
        from kfops.continuous import run_monitoring_locally

        run_monitoring_locally(
            args.param,
            settings,
            store=args.store,
            verbose=args.verbose,
            dry_run=args.dry_run,
            runner=args.runner,
        )
        return 0
    if args.dry_run:
        raise InputError("--dry-run applies to the monitoring pipeline only")
    pairs = list(args.param)
    if args.promote:
        if args.pipeline != "training":
            raise InputError("--promote applies to the training pipeline only")
        if any(p.partition("=")[0].strip() == "promote" for p in pairs):
            raise InputError("give promotion either as --promote or as --param promote=..., not both")
        pairs.append("promote=true")
    result = run_pipeline(
        args.pipeline,
        pairs,
        settings=settings,
        store=args.store,
        verbose=args.verbose,
        runner=args.runner,
    )
    if args.pipeline == "inference" and isinstance(result.output, str):
        from components.shared.tables import read_parquet_metadata
        from kfops.report import inference_summary

        facts = read_parquet_metadata(result.output)
        print(inference_summary(result.seconds, facts, result.output, str(result.log_path), result.tasks))
        return 0
    record = parse_record(result.output)
    print(run_summary(args.pipeline, result.seconds, record, str(result.log_path), result.tasks))
    if record.get("model_version"):
        from kfops.continuous import challenge_summary

        print(challenge_summary(result.store, str(record["model_name"]), str(record["model_version"])))
    return 0


def _readable(store: str) -> str:
    """``store`` if it exists: a mistyped store must not read as an empty one."""
    from components.shared.store import open_store

    open_store(store).check_readable()
    return store


def _champion(args: argparse.Namespace, settings: Settings) -> int:
    from kfops import continuous

    store = _readable(args.store or settings.store)
    if args.champion_command == "show":
        continuous.print_json(continuous.show_champion(store, args.model))
    elif args.champion_command == "history":
        continuous.print_json(continuous.champion_history(store, args.model))
    else:
        if args.champion_command == "promote":
            record = continuous.promote(store, args.model)
        else:
            record = continuous.rollback(store, args.model, args.to)
        print(f"champion of {record['model_name']} is now {record['version']} ({record['reason']})")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
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


def _metrics(args: argparse.Namespace, settings: Settings) -> int:
    from components.metrics_store.io import list_records, show_record
    from kfops.report import records_table

    store = _readable(args.store or settings.store)
    if args.metrics_command == "show":
        print(json.dumps(show_record(store, args.run, args.pipeline), indent=2, sort_keys=True))
    else:
        records = list_records(store, args.pipeline)
        print(json.dumps(records, indent=2, sort_keys=True) if args.json else records_table(records))
    return 0


def _images(args: argparse.Namespace) -> int:
    from components.images import component_names, image

    if args.images_command == "plan":
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
    if args.images_command == "build":
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
    if args.images_command == "lock":
        from kfops.images.lock import lock_images

        return _report_generated(lock_images(check=args.check), args.check, "requirements.txt", "lock")
    if args.images_command == "check":
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
    if args.images_command == "dockerfiles":
        from kfops.images.dockerfiles import write_dockerfiles

        return _report_generated(write_dockerfiles(check=args.check), args.check, "Dockerfile", "dockerfiles")
    if args.images_command == "ref":
        try:
            print(image(args.component))
        except KeyError as exc:
            from components.shared.errors import InputError

            raise InputError(str(exc.args[0])) from None
    else:
        for name in component_names():
            print(f"{name:<16} {image(name)}")
    return 0


def _report_generated(changed: list[str], check: bool, kind: str, command: str) -> int:
    """Report ``images lock`` / ``images dockerfiles``: exit 1 when ``--check`` finds stale files."""
    if check and changed:
        print(f"stale {kind} (run `kfops images {command}`): {', '.join(changed)}", file=sys.stderr)
        return 1
    print(f"{'stale' if check else 'updated'}: {', '.join(changed) or 'none'}")
    return 0


def _token(args: argparse.Namespace) -> str:
    """The bearer token: minted on EKS, or read from a file / $KF_PIPELINES_SA_TOKEN_PATH."""
    from kfops.kfp_session import read_token

    if args.token_from_eks:
        from kfops.auth import mint_kfp_token

        if args.token_file or not args.service_account:
            raise InputError("--token-from-eks needs --service-account NS/NAME and no --token-file")
        return mint_kfp_token(args.token_from_eks, args.service_account)
    return read_token(args.token_file)


def _notify_failures(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from kfops.failures import notify_failures

    webhook = args.webhook_url or os.environ.get("KFOPS_WEBHOOK_URL", "")
    if not webhook:
        raise InputError("no webhook: pass --webhook-url or set KFOPS_WEBHOOK_URL")
    outcome = notify_failures(
        args.host, _token(args), webhook, args.store or settings.store, namespace=args.namespace
    )
    print(f"{len(outcome['notified'])} failed run(s) notified; {len(outcome['pending'])} pending")
    return 1 if outcome["pending"] else 0


def _deploy(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from kfops.compile import compile_pipelines
    from kfops.deploy import deploy
    from kfops.gitinfo import current_commit

    token = _token(args)
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


def _serve(args: argparse.Namespace, settings: Settings) -> int:
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


def _manifests(args: argparse.Namespace) -> int:
    from kfops import manifests

    if args.manifests_command == "render":
        stale = manifests.write(check=args.check)
        if args.check and stale:
            print(
                f"stale files under manifests/ (run `kfops manifests render`): {', '.join(stale)}",
                file=sys.stderr,
            )
            return 1
        print(f"{'stale' if args.check else 'written'}: {', '.join(stale) or 'none'}")
        return 0
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


def dispatch(args: argparse.Namespace) -> int:
    """Run the parsed subcommand."""
    settings = Settings.from_env()
    if args.command == "demo":
        return _demo(args, settings)
    if args.command == "run":
        return _run(args, settings)
    if args.command == "champion":
        return _champion(args, settings)
    if args.command == "notify-failures":
        return _notify_failures(args, settings)
    if args.command == "gate":
        from kfops.gate.command import gate_command

        return gate_command(args, settings)
    if args.command == "baseline":
        from kfops.gate.command import baseline_command

        return baseline_command(args, settings)
    if args.command == "compile":
        from kfops.compile import compile_pipelines

        for path in compile_pipelines(args.output_dir):
            print(path)
        return 0
    if args.command == "metrics":
        return _metrics(args, settings)
    if args.command == "manifests":
        return _manifests(args)
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "deploy":
        return _deploy(args, settings)
    if args.command == "plan":
        from kfops.plan import make_plan, render_markdown

        plan = make_plan(
            since=args.since,
            pipelines_dir=args.pipelines_dir,
            store=args.store,
            schedules=args.schedules,
            gate_report=args.gate_report,
        )
        print(json.dumps(plan, indent=2, default=str) if args.json else render_markdown(plan), end="")
        return 0
    if args.command == "rollback":
        from kfops.rollback import rollback

        outcome = rollback(
            args.host,
            _token(args),
            args.pipeline,
            args.schedules,
            to=args.to,
            namespace=args.namespace,
            keep=args.keep,
        )
        print(f"{args.pipeline}: schedules moved from {outcome['from']} to {outcome['to']}")
        for version in outcome["pruned"]:
            print(f"pruned {version}")
        for warning in outcome["warnings"]:
            print(f"warning: {warning}")
        return 0
    if args.command == "data":
        from components.ingest.io import write_synthetic

        print(write_synthetic(args.rows, args.output, args.features, args.seed))
        return 0
    return _images(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kfops`` command.

    A reader that stops early (``kfops champion history NAME | head``) ends the command
    quietly with exit 0: no ``BrokenPipeError`` traceback, for every command.
    """
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:  # --help, --version, usage errors: flush here, where a closed pipe is caught
            sys.stdout.flush()
            raise
        code = run_cli(lambda: dispatch(args))
        sys.stdout.flush()  # a closed pipe shows here rather than at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
