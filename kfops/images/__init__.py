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

from components.images import COMPONENTS_DIR

#: The repository root: where uv, git and docker run.
REPO = COMPONENTS_DIR.parent
