"""``python -m kfops`` is the same as the ``kfops`` command."""

from kfops.cli import main

raise SystemExit(main())
