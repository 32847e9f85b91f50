"""``kfops images dockerfiles``: each image's Dockerfile, generated from its declaration."""

from __future__ import annotations

from components.images import copied_paths
from kfops.images import sync_component_files
from kfops.images.lock import dependency_group

#: The base image of every component image (Python as on the project's .venv: 3.11).
BASE_IMAGE = "python:3.11.14-slim-bookworm"
#: The user the tasks run as (no root in a pod; files a task writes belong to it).
IMAGE_UID = 10001

_DOCKERFILE = """\
# Image of the `{name}` component. GENERATED from components/images.py by
# `kfops images dockerfiles`; do not edit (a test fails while this file is stale).
# Build from the repository root:
#   docker build -f components/{name}/Dockerfile -t "$(kfops images ref {name})" .
# Pinned, hash-checked dependencies come from components/{name}/requirements.txt
# (group {group} of pyproject.toml, exported from uv.lock by `kfops images lock`);
# the task command is `python3 -m kfp.dsl.executor_main`.
FROM {base}

ENV PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PYTHONPATH=/app

WORKDIR /app

COPY components/{name}/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-deps --require-hashes -r /tmp/requirements.txt \\
    && rm /tmp/requirements.txt \\
    && useradd --uid {uid} --no-create-home --shell /usr/sbin/nologin kfops

{copies}
RUN python -m compileall -q components

USER {uid}
# A batch task, not a service: there is nothing to health-check.
HEALTHCHECK NONE
"""


def render_dockerfile(component: str) -> str:
    """The Dockerfile of a component's image, from its declaration in ``components/images.py``."""
    copies = "\n".join(f"COPY components/{p} components/{p}" for p in copied_paths(component))
    return _DOCKERFILE.format(
        name=component, group=dependency_group(component), base=BASE_IMAGE, uid=IMAGE_UID, copies=copies
    )


def write_dockerfiles(check: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) every component's generated Dockerfile.

    Returns:
        The components whose Dockerfile was (or, with ``check``, would be) changed.
    """
    return sync_component_files("Dockerfile", render_dockerfile, check)
