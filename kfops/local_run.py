"""``kfops run``: run a pipeline on this machine with ``kfp.local`` (no cluster)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.shared.errors import ERROR_FILE_ENV, InputError, KfopsError, StoreError
from components.shared.store import LocalStore, open_store
from kfops.estimators import check_training_args
from kfops.gitinfo import current_commit, current_ref
from kfops.params import check_values, parse_params, pipeline_parameters
from kfops.progress import TaskProgress
from kfops.registry import load_pipeline
from kfops.settings import Settings


class PipelineFailed(KfopsError):
    """A task failed; the message says which and why.

    The exit code is the failing task's (2 for bad input), or 1 if it gave none.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RunResult:
    """What a local run produced.

    Attributes:
        pipeline: Pipeline name.
        output: The pipeline's return value (for `training`, the run record).
        seconds: Wall time.
        log_path: Full log of the run.
        store: Store URI used.
        tasks: Wall time of each task, in the order they finished.
    """

    pipeline: str
    output: Any
    seconds: float
    log_path: Path
    store: str
    tasks: dict[str, float] = field(default_factory=dict)


def prepare_store(store: str, *, create: bool) -> str:
    """Check that the store exists and is writable (creating the default one).

    Raises:
        StoreError: The store is missing or unwritable.
    """
    backend = open_store(store)
    if create and isinstance(backend, LocalStore):
        try:
            backend.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store {backend.root}: {exc.strerror}") from None
    backend.check_writable()
    return backend.uri


def run_pipeline(
    name: str,
    pairs: list[str],
    *,
    settings: Settings,
    store: str | None = None,
    verbose: bool = False,
    runner: str = "subprocess",
) -> RunResult:
    """Run pipeline ``name`` locally, each task in its own process, as on a cluster.

    Args:
        name: Pipeline name.
        pairs: ``KEY=VALUE`` parameter overrides.
        settings: Local settings (default store, runs directory).
        store: Store URI (default: ``settings.store``).
        verbose: Stream every task's output instead of one line per task.
        runner: ``subprocess`` (every task in this environment), ``isolated`` (each task
            with only what its image holds, see ``kfops/isolated.py``) or ``docker`` (the
            images themselves, see ``kfops/docker_run.py``).

    Returns:
        The run's result.

    Raises:
        InputError: Bad parameters.
        StoreError: Unusable store.
        PipelineFailed: A task failed (with that task's one-line reason when it gave one).
    """
    from kfp import local

    if runner not in RUNNERS:
        raise InputError(f"unknown runner {runner!r}; known: {', '.join(RUNNERS)}")
    pipeline = load_pipeline(name)
    declared = pipeline_parameters(pipeline)
    args = check_values(name, parse_params(pairs, declared))
    check_training_args(args)
    if "store" in args and store:
        raise InputError("give the store either as --store or as --param store=..., not both")
    chosen = args.pop("store", None) or store or settings.store
    args["store"] = prepare_store(chosen, create=chosen == settings.store and settings.store_is_default)
    if "git_commit" in declared:
        args.setdefault("git_commit", current_commit())
    if "git_ref" in declared:
        args.setdefault("git_ref", current_ref())

    try:
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the runs directory {settings.runs_dir}: {exc.strerror}") from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = settings.runs_dir / f"{name}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}.log"  # one per run
    total = len(pipeline.pipeline_spec.root.dag.tasks)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if runner == "docker":
            from kfops import docker_run

            pipeline_root, local_runner, error_file = docker_run.prepare(pipeline, settings, args["store"])
            stack.callback(Path(error_file).unlink, missing_ok=True)
            print(
                f"Running pipeline '{name}' locally (kfp.local, each task in its image, Docker)", flush=True
            )
        else:
            pipeline_root, local_runner = str(settings.runs_dir), local.SubprocessRunner(use_venv=False)
            fd, error_file = tempfile.mkstemp(prefix="kfops-errors-", suffix=".txt")
            os.close(fd)
            stack.callback(Path(error_file).unlink, missing_ok=True)
            if runner == "isolated":
                from kfops import isolated

                prepared = isolated.prepare(pipeline, settings.runs_dir.parent)
                stack.enter_context(isolated.isolated_tasks(prepared.envs))
                built = f"built {', '.join(prepared.built)}" if prepared.built else "all cached"
                print(
                    f"Running pipeline '{name}' locally (kfp.local, each task with only its image's "
                    f"environment: {len(set(prepared.envs.values()))} image(s), {built}, "
                    f"{prepared.seconds:.1f} s)",
                    flush=True,
                )
            else:
                print(f"Running pipeline '{name}' locally (kfp.local, one process per task)", flush=True)
        output, tasks = _run_tasks(
            pipeline, args, local_runner, pipeline_root, error_file, log_path, total, verbose
        )
    return RunResult(name, output, time.monotonic() - started, log_path, args["store"], tasks)


#: How tasks run locally (``kfops run --runner``).
RUNNERS = ("subprocess", "isolated", "docker")


def _run_tasks(
    pipeline: Any,
    args: dict[str, Any],
    local_runner: Any,
    pipeline_root: str,
    error_file: str,
    log_path: Path,
    total: int,
    verbose: bool,
) -> tuple[Any, dict[str, float]]:
    """Run the pipeline's tasks; the pipeline's output and each task's wall time."""
    from kfp import local

    local.init(runner=local_runner, pipeline_root=pipeline_root)
    with (
        open(log_path, "w", encoding="utf-8") as log,
        _env(ERROR_FILE_ENV, error_file),
        warnings.catch_warnings(),
    ):
        # Expected locally: resource requests and images only apply on a cluster,
        # and the tasks run the images' code from this environment on purpose.
        warnings.filterwarnings("ignore", message=".*no effect in the current local runner")
        warnings.filterwarnings("ignore", message=".*custom or non-Python base image")
        progress = TaskProgress(sys.stdout, log, total, verbose)
        with contextlib.redirect_stdout(progress):
            try:
                task = pipeline(**args)
            except RuntimeError as exc:
                progress.flush()
                raise _failure(exc, error_file, log_path) from None
            finally:
                progress.write("\n")
                progress.close()  # stops the elapsed-time ticker
    return getattr(task, "output", None), dict(progress.seconds)


def _failure(exc: RuntimeError, error_file: str, log_path: Path) -> PipelineFailed:
    """The first reason a task reported, else KFP's own message and where the log is."""
    reasons = Path(error_file).read_text(encoding="utf-8").strip().splitlines()
    if reasons:
        code, _, message = reasons[0].partition("\t")
        return PipelineFailed(message, int(code) if code.isdigit() else 1)
    cause = _last_error_line(log_path)
    message = _ANSI.sub("", " ".join(str(exc).split()))
    return PipelineFailed(f"{message}{f': {cause}' if cause else ''} (full log: {log_path})")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR_LINE = re.compile(r"^(?:kfops isolated: .+|[\w.]+(?:Error|Exception): .+)$")


def _last_error_line(log_path: Path) -> str:
    """The last exception line a task printed (e.g. ``ModuleNotFoundError: ...``), if any."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    found = [line.strip() for line in lines if _ERROR_LINE.match(line.strip())]
    return found[-1] if found else ""


@contextlib.contextmanager
def _env(key: str, value: str):  # type: ignore[no-untyped-def]
    previous = os.environ.get(key)
    os.environ[key] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous


def parse_record(output: Any) -> dict[str, Any]:
    """The run record returned by the training pipeline (a JSON string)."""
    if isinstance(output, str):
        try:
            value = json.loads(output)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}
