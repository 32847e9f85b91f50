"""``kfops run --isolated``: each task runs with only what its image holds.

A plain ``kfops run`` runs every task in the project's own ``.venv``, so a task whose
image lacks a package or a file still passes. In isolated mode each task runs

- with a Python environment built only from its image's locked requirements
  (``uv pip install --require-hashes --no-deps -r components/<c>/requirements.txt``,
  as the Dockerfile installs them), and
- with a tree holding only the files its image copies (``components/images.py``) as
  the one entry of ``PYTHONPATH`` (``/app`` in the image),

both cached under ``.kfops/images/<component>-<content hash>-py<version>/`` (or
``$KFOPS_IMAGE_ENVS``), so an environment is built once per content hash.

How a task reaches its environment: kfp.local's ``SubprocessRunner`` replaces the
``python3`` of each task command with an interpreter; here that is a generated shim
which reads the task's ``--function_to_execute`` and starts the interpreter of that
function's image (known from the compiled pipeline: each executor names its image).
The shim starts ``isolation_guard.py`` first, which refuses to run the task when
anything outside the image environment (the project's ``.venv``, the repository, the
base interpreter's site-packages, the working directory) is on ``sys.path``, and fails
the task at exit when a module was loaded from outside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.images import COMPONENTS_DIR, component_names, content_hash, image, image_inputs
from components.shared.errors import InputError, KfopsError
from kfops.images.lock import uv_executable

#: Overrides where the image environments are cached (default: ``<KFOPS_HOME>/images``).
ENVS_ENV = "KFOPS_IMAGE_ENVS"
#: Exit code of a task refused by the guard (something outside its image was importable).
GUARD_EXIT = 97
GUARD = Path(__file__).with_name("isolation_guard.py")
_READY = "ready"


@dataclass(frozen=True)
class ImageEnv:
    """One image's local stand-in.

    Attributes:
        component: Component (image) name.
        root: ``<envs>/<component>-<hash>-py<version>``: ``venv/`` and ``app/`` (the image's ``/app``).
    """

    component: str
    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def app(self) -> Path:
        return self.root / "app"


def envs_dir(home: Path) -> Path:
    """Where image environments are cached."""
    return Path(os.environ.get(ENVS_ENV) or home / "images").expanduser().resolve()


def env_key(component: str) -> str:
    """Cache key: component, content hash (files and locked requirements), Python version."""
    version = "".join(map(str, sys.version_info[:3]))
    return f"{component}-{content_hash(component).removeprefix('c-')}-py{version}"


def ensure_env(component: str, envs: Path) -> tuple[ImageEnv, bool]:
    """The component's image environment, built unless cached.

    Returns:
        The environment and whether it was built now.

    Raises:
        KfopsError: uv failed to build it.
    """
    env = ImageEnv(component, envs / env_key(component))
    if (env.root / _READY).is_file():
        return env, False
    envs.mkdir(parents=True, exist_ok=True)
    with open(envs / f".{env.root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent run builds it once
        if (env.root / _READY).is_file():
            return env, False
        shutil.rmtree(env.root, ignore_errors=True)  # a half-built one from an interrupted run
        env.root.mkdir(parents=True)
        _uv_run("venv", "--quiet", "--python", sys.executable, str(env.venv))
        requirements = COMPONENTS_DIR / component / "requirements.txt"
        _uv_run(
            "pip",
            "install",
            "--quiet",
            "--python",
            str(env.python),
            "--require-hashes",
            "--no-deps",
            "-r",
            str(requirements),
        )
        for source in image_inputs(component):
            target = env.app / "components" / source.relative_to(COMPONENTS_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        (env.root / _READY).write_text(f"{image(component)}\n")
    prune_stale(component, envs, keep=env.root)
    return env, True


#: Environments of other content hashes kept per component (e.g. for switching branches).
KEPT_STALE = 1


def prune_stale(component: str, envs: Path, keep: Path) -> list[Path]:
    """Remove a component's environments of older content hashes beyond the newest `KEPT_STALE`."""
    others = sorted(
        (p for p in envs.glob(f"{component}-*-py*") if p.is_dir() and p != keep and p.name.count("-") == 2),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    removed = others[KEPT_STALE:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _uv_run(*args: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    environment["UV_PYTHON_DOWNLOADS"] = "never"
    try:
        subprocess.run(
            [uv_executable(), *args], check=True, capture_output=True, text=True, timeout=900, env=environment
        )
    except subprocess.CalledProcessError as exc:
        raise KfopsError(
            f"building an image environment failed: uv {args[0]}: {exc.stderr.strip()}"
        ) from None


def task_images(component_or_pipeline: Any) -> dict[str, str]:
    """Task function name -> component image, from the compiled spec's executors.

    Raises:
        InputError: A task runs in an image that is no component image, or one function
            name runs in two images.
    """
    from google.protobuf import json_format

    spec = json_format.MessageToDict(component_or_pipeline.pipeline_spec.deployment_spec)
    by_image = {image(name): name for name in component_names()}
    found: dict[str, str] = {}
    for executor in spec.get("executors", {}).values():
        container = executor.get("container")
        if not container:
            continue  # an importer: runs in the launcher, not in an image
        args = container.get("args", [])
        if "--function_to_execute" not in args:
            raise InputError(
                f"a task in image {container.get('image')} is not a lightweight Python component"
            )
        function = args[args.index("--function_to_execute") + 1]
        component = by_image.get(container.get("image", ""))
        if component is None:
            raise InputError(
                f"task function {function} runs in {container.get('image')}, not a component image"
            )
        if found.setdefault(function, component) != component:
            raise InputError(f"task function {function} runs in two images ({found[function]}, {component})")
    return found


@dataclass
class Prepared:
    """What `prepare` did: the environments per task function and how long building took."""

    envs: dict[str, ImageEnv]
    built: list[str]
    seconds: float


def prepare(component_or_pipeline: Any, home: Path) -> Prepared:
    """Build (or find cached) the environment of every image the pipeline's tasks run in."""
    started = time.monotonic()
    functions = task_images(component_or_pipeline)
    envs_root = envs_dir(home)
    by_component: dict[str, ImageEnv] = {}
    built = []
    for component in sorted(set(functions.values())):
        by_component[component], fresh = ensure_env(component, envs_root)
        if fresh:
            built.append(component)
    return Prepared({f: by_component[c] for f, c in functions.items()}, built, time.monotonic() - started)


def write_shim(envs: dict[str, ImageEnv], directory: Path) -> Path:
    """A ``python3`` stand-in that starts each task function in its image environment."""
    cases = "\n".join(
        f"  {shlex.quote(function)}) env={shlex.quote(str(env.root))} ;;"
        for function, env in sorted(envs.items())
    )
    forbidden = os.pathsep.join(str(p) for p in {Path(sys.prefix).resolve(), COMPONENTS_DIR.parent.resolve()})
    guard = directory / GUARD.name
    shutil.copy2(GUARD, guard)
    shim = directory / "python3"
    shim.write_text(
        "#!/bin/sh\n"
        "# kfops run --isolated: start each task in its image's environment (generated per run).\n"
        'function=""\nprevious=""\n'
        'for argument in "$@"; do\n'
        '  if [ "$previous" = "--function_to_execute" ]; then function="$argument"; fi\n'
        '  previous="$argument"\n'
        "done\n"
        'case "$function" in\n'
        f"{cases}\n"
        "  *) echo \"kfops --isolated: no image is known for task function '$function'\" >&2; "
        f"exit {GUARD_EXIT} ;;\n"
        "esac\n"
        # bytecode is written into the cached environment on first import (the images
        # have theirs compiled at build time), so only the first use pays for compiling
        "unset PYTHONHOME PYTHONSTARTUP VIRTUAL_ENV PYTHONSAFEPATH PYTHONDONTWRITEBYTECODE\n"
        'export KFOPS_IMAGE_ENV="$env" PYTHONPATH="$env/app" PYTHONNOUSERSITE=1 '
        'PATH="$env/venv/bin:$PATH"\n'
        f"export KFOPS_FORBIDDEN_PATHS={shlex.quote(forbidden)}\n"
        f'exec "$env/venv/bin/python" -P -s {shlex.quote(str(guard))} "$@"\n'
    )
    shim.chmod(0o755)
    return shim


@contextlib.contextmanager
def isolated_tasks(envs: dict[str, ImageEnv]) -> Iterator[Path]:
    """While active, kfp.local's SubprocessRunner starts every task through the shim."""
    from kfp.local import subprocess_task_handler as handler

    with tempfile.TemporaryDirectory(prefix="kfops-isolated-") as directory:
        shim = write_shim(envs, Path(directory))
        if any(c.isspace() for c in str(shim)):
            raise InputError(f"the isolated runner's shim path has whitespace: {shim} (set TMPDIR)")
        original = handler.replace_python_executable

        def through_shim(full_command: list[str], new_executable: str) -> list[str]:
            return original(full_command, str(shim))

        handler.replace_python_executable = through_shim  # type: ignore[assignment]
        try:
            yield shim
        finally:
            handler.replace_python_executable = original  # type: ignore[assignment]
