"""The subcommands of ``kfops``, one module each.

Every module has ``add_parsers(commands)``, which adds its subcommand (and its actions)
to the root parser's subcommands and sets, on each parser a user can end on, the
``handler`` that runs it: ``handler(args, settings) -> exit code``. ``kfops.cli``
lists the modules, reads the settings and turns errors into exit codes, for all of
them at once; a handler imports what it needs when it runs, so ``kfops --help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import TypeAlias

#: What ``add_parsers`` receives: the root parser's ``add_subparsers()``.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
