"""``python -m kfops`` is the same as the ``kfops`` command."""

from kfops.cli import entry_point

entry_point()
