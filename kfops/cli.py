"""The ``kfops`` command: every step of the workflow, runnable on a laptop or in CI.

Exit codes: 0 success, 1 failure, 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import sys

from components.shared.cli import exit_process, run_cli
from kfops import __version__
from kfops.commands import (
    champion,
    data,
    demo,
    deploy,
    images,
    manifests,
    metrics,
    notify_failures,
    plan,
    rollback,
    run,
    serve,
)
from kfops.commands import compile as compile_
from kfops.gate import command as gate_and_baseline
from kfops.settings import Settings

# The module docstring is also ``kfops --help``'s description. Each subcommand lives in its
# own module (kfops/commands/, and kfops/gate/command.py for gate and baseline), whose
# add_parsers() registers its parsers and their handlers; this module only assembles them
# and owns what is the same for every command: the settings, the error contract (run_cli:
# one ``error:`` line, exit 2 for bad input) and a reader that closes stdout early.

#: The module of every subcommand, in the order ``kfops --help`` lists them.
COMMAND_MODULES = (
    demo,
    run,
    champion,
    compile_,
    metrics,
    data,
    gate_and_baseline,
    deploy,
    notify_failures,
    rollback,
    plan,
    serve,
    manifests,
    images,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="kfops", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kfops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parsers(commands)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    """Run the parsed subcommand: the ``handler`` its module set, with the environment's settings."""
    settings = Settings.from_env()
    return args.handler(args, settings)


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


def entry_point() -> None:
    """The ``kfops`` executable: `main`, then the process ends with its exit code.

    Through `exit_process`, so pyarrow's native teardown cannot turn a decided exit code
    into an abort (apache/arrow#34314). Tests call `main` instead.
    """
    exit_process(main())


if __name__ == "__main__":
    entry_point()
