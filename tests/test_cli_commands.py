"""The shape of the ``kfops`` command: one module per subcommand, a handler on every parser.

``kfops.cli`` only assembles the modules of ``COMMAND_MODULES`` and runs the handler
argparse selected; these tests walk the parser tree so that a new command, or action,
without a handler (or registered outside its own module) fails here, not in a user's hands.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from components.shared.errors import InputError
from kfops import cli
from kfops.settings import Settings

#: Every subcommand, in the order ``kfops --help`` lists them, and its actions (if any).
EXPECTED = {
    "demo": [],
    "run": [],
    "champion": ["show", "history", "rollback", "promote"],
    "compile": [],
    "metrics": ["list", "show"],
    "data": ["synth"],
    "gate": [],
    "baseline": ["promote", "show"],
    "deploy": [],
    "notify-failures": [],
    "rollback": [],
    "plan": [],
    "serve": [],
    "manifests": ["render", "validate"],
    "images": ["list", "ref", "plan", "build", "lock", "dockerfiles", "check"],
}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers directly under ``parser`` (none for a parser a user ends on)."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) <= 1
    return dict(actions[0].choices) if actions else {}


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser a command line can end on, with its path (``("images", "build")``)."""
    children = _subcommands(parser)
    if not children:
        yield path, parser
    for name, child in children.items():
        yield from _leaves(child, (*path, name))


def test_the_commands_and_their_actions_are_exactly_the_expected_ones() -> None:
    tree = {name: list(_subcommands(sub)) for name, sub in _subcommands(cli.build_parser()).items()}
    assert list(tree) == list(EXPECTED)  # order too: it is the order of `kfops --help`
    assert tree == EXPECTED


def test_every_parser_a_command_line_ends_on_has_its_own_handler() -> None:
    leaves = list(_leaves(cli.build_parser()))
    assert len(leaves) == sum(len(actions) or 1 for actions in EXPECTED.values())
    for path, parser in leaves:
        # Its own default, not one inherited from the parent command: each action says what it runs.
        handler = parser._defaults.get("handler")
        assert callable(handler), f"kfops {' '.join(path)} has no handler"


def test_each_module_registers_its_own_commands_with_its_own_handlers() -> None:
    seen: list[str] = []
    for module in cli.COMMAND_MODULES:
        root = argparse.ArgumentParser(prog="kfops")
        module.add_parsers(root.add_subparsers())
        commands = _subcommands(root)
        assert commands, f"{module.__name__} registers no command"
        seen.extend(commands)
        for name, parser in commands.items():
            for path, leaf in _leaves(parser, (name,)):
                handler = leaf._defaults["handler"]
                assert handler.__module__ == module.__name__, f"kfops {' '.join(path)}: {handler}"
    assert seen == list(EXPECTED)


def test_only_the_parsers_a_command_line_ends_on_carry_a_handler() -> None:
    """A handler on a command with actions would run for an action that forgot its own."""
    parser = cli.build_parser()
    assert "handler" not in parser._defaults
    stack = list(_subcommands(parser).values())
    while stack:
        current = stack.pop()
        children = _subcommands(current)
        if children:
            assert "handler" not in current._defaults, current.prog
            stack.extend(children.values())


@pytest.mark.parametrize(
    ("argv", "handler"),
    [
        (["demo"], "kfops.commands.demo.demo_command"),
        (["run", "training"], "kfops.commands.run.run_command"),
        (["champion", "rollback", "m"], "kfops.commands.champion.champion_rollback"),
        (["compile"], "kfops.commands.compile.compile_command"),
        (["metrics", "show", "r"], "kfops.commands.metrics.metrics_show"),
        (["data", "synth", "--rows", "1", "--output", "x.csv"], "kfops.commands.data.data_synth"),
        (["gate", "--run", "training"], "kfops.gate.command.gate_command"),
        (["baseline", "show"], "kfops.gate.command.baseline_command"),
        (["deploy", "--host", "h"], "kfops.commands.deploy.deploy_command"),
        (["notify-failures", "--host", "h"], "kfops.commands.notify_failures.notify_failures_command"),
        (["rollback", "p", "--host", "h"], "kfops.commands.rollback.rollback_command"),
        (["plan"], "kfops.commands.plan.plan_command"),
        (["serve", "m"], "kfops.commands.serve.serve_command"),
        (["manifests", "validate"], "kfops.commands.manifests.manifests_validate"),
        (["images", "build", "--dry-run"], "kfops.commands.images.images_build"),
    ],
)
def test_a_command_line_selects_its_handler(argv: list[str], handler: str) -> None:
    selected = cli.build_parser().parse_args(argv).handler
    assert f"{selected.__module__}.{selected.__qualname__}" == handler


def test_main_runs_the_selected_handler_with_the_settings_and_returns_its_exit_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[tuple[argparse.Namespace, Settings]] = []

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        received.append((args, settings))
        return 1

    monkeypatch.setattr(cli, "build_parser", _parser_with(handler))
    monkeypatch.setenv("KFOPS_STORE", "s3://bucket/prefix")
    assert cli.main(["probe", "--flag"]) == 1
    ((args, settings),) = received
    assert args.flag and settings.store == "s3://bucket/prefix"


def test_main_turns_a_handler_input_error_into_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        raise InputError("bad\ninput")

    monkeypatch.setattr(cli, "build_parser", _parser_with(handler))
    assert cli.main(["probe"]) == 2
    assert capsys.readouterr().err == "error: bad input\n"


def _parser_with(handler: object) -> object:
    """A ``build_parser`` whose one command, ``probe [--flag]``, runs ``handler``."""

    def build() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="kfops")
        probe = parser.add_subparsers(required=True).add_parser("probe")
        probe.add_argument("--flag", action="store_true")
        probe.set_defaults(handler=handler)
        return parser

    return build


def test_the_process_entry_keeps_the_exit_code_runs_atexit_and_flushes() -> None:
    """exit_process skips only native teardown (where pyarrow may abort, apache/arrow#34314)."""
    import subprocess
    import sys

    code = (
        "import atexit, pyarrow.parquet\n"
        "from components.shared.cli import exit_process\n"
        "atexit.register(lambda: print(' atexit ran', end=''))\n"
        "print('unflushed output', end='')\n"
        "exit_process(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, "unflushed output atexit ran", "")


def test_the_kfops_executable_and_python_m_kfops_use_the_process_entry() -> None:
    import tomllib

    from tests.conftest import REPO

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kfops"] == "kfops.cli:entry_point"
    assert "entry_point()" in (REPO / "kfops" / "__main__.py").read_text()


def test_every_component_cli_ends_through_the_process_entry() -> None:
    """A component CLI run on a laptop loads pyarrow as `kfops` does, so it ends the same way."""
    import ast

    from tests.conftest import REPO

    entries = sorted((REPO / "components").glob("*/__main__.py"))
    assert len(entries) == 11
    for entry in entries:
        tree = ast.parse(entry.read_text())
        guard = next(n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test))
        assert [ast.unparse(s) for s in guard.body] == ["exit_process(run_cli(main))"], entry


def test_a_component_cli_keeps_its_exit_code_and_its_one_line_error() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.split",
            "--dataset",
            "missing.parquet",
            "--train",
            "t",
            "--test",
            "t",
            "--info",
            "i",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
