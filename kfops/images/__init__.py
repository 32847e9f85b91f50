"""The component images, one module per job (each behind a ``kfops images`` action).

- ``lock``: each image's pinned requirements, exported from ``uv.lock``.
- ``dockerfiles``: each image's Dockerfile, generated from its declaration.
- ``plan``: which images a merge must build (content hash, changed inputs, registry).
- ``ecr``: whether an image exists in ECR (also checked before a deploy).
- ``build``: the ``docker buildx build`` commands, run one or several at once.
- ``imports``, ``reach`` and ``check``: what each task reaches, statically, against
  what its image holds.
"""

from __future__ import annotations

from collections.abc import Callable

from components.images import COMPONENTS_DIR, component_names
from kfops.files import write_atomically

#: The repository root: where uv, git and docker run.
REPO = COMPONENTS_DIR.parent


def sync_component_files(file_name: str, render: Callable[[str], str], check: bool) -> list[str]:
    """Write (or, with ``check``, only compare) one generated file in every component's folder.

    Args:
        file_name: The file's name inside ``components/<name>/``.
        render: The file's expected text for a component.
        check: Compare only; write nothing.

    Returns:
        The components whose file was (or, with ``check``, would be) changed.
    """
    changed = []
    for name in component_names():
        path = COMPONENTS_DIR / name / file_name
        text = render(name)
        if path.is_file() and path.read_text() == text:
            continue
        changed.append(name)
        if not check:
            write_atomically(path, text.encode())
    return changed
