"""Start a task in an image environment, only if nothing outside the image can be imported.

Run by the shim of ``kfops run --isolated`` with the image environment's interpreter
(``-P -s``: neither the working directory nor the user's site-packages on ``sys.path``)
as ``python -P -s isolation_guard.py -m kfp.dsl.executor_main ARGS``. It imports only
the standard library: it runs before (and outside) the image's own code.

- Before the task: every ``sys.path`` entry must lie in the image's venv, its ``/app``
  tree or the interpreter's standard library (not a site-packages of the base
  interpreter); the interpreter's prefix must be the image's venv.
- After the task: every loaded module must come from those places (or the task's own
  ephemeral component file), so a task that reaches outside at run time fails too.

A refusal prints ``kfops isolated: ...`` and exits 97.
"""

import atexit
import os
import runpy
import sys
import sysconfig

EXIT = 97


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _refuse(message: str) -> None:
    print(f"kfops isolated: {message}", file=sys.stderr, flush=True)
    os._exit(EXIT)


def main() -> None:
    env = os.path.realpath(os.environ["KFOPS_IMAGE_ENV"])
    venv = os.path.join(env, "venv")
    app = os.path.join(env, "app")
    stdlib = sorted(
        {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
        | {
            os.path.realpath(
                os.path.join(sys.base_prefix, "lib", f"python{sys.version_info[0]}{sys.version_info[1]}.zip")
            )
        }
    )
    forbidden = [
        os.path.realpath(p) for p in os.environ.get("KFOPS_FORBIDDEN_PATHS", "").split(os.pathsep) if p
    ]

    def allowed(path: str) -> bool:
        real = os.path.realpath(path or os.getcwd())
        if _under(real, [venv, app]):
            return True
        parts = real.split(os.sep)
        return _under(real, stdlib) and "site-packages" not in parts and "dist-packages" not in parts

    if os.path.realpath(sys.prefix) != os.path.realpath(venv):
        _refuse(f"sys.prefix is {sys.prefix}, not the image environment {venv}")
    outside = [p for p in sys.path if not allowed(p)]
    if outside:
        named = [
            p + (" (the project's own environment)" if _under(os.path.realpath(p or "."), forbidden) else "")
            for p in outside
        ]
        _refuse(f"sys.path reaches outside the image: {', '.join(named)}")
    if sys.argv[1:3] != ["-m", "kfp.dsl.executor_main"]:
        _refuse(f"expected -m kfp.dsl.executor_main, got {sys.argv[1:3]}")
    arguments = sys.argv[3:]
    own = ""
    if "--component_module_path" in arguments:
        own = os.path.dirname(os.path.realpath(arguments[arguments.index("--component_module_path") + 1]))

    def check_modules() -> None:
        files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
        strays = sorted(
            f"{name} ({path})"
            for name, path in files.items()
            if isinstance(path, str)
            and not allowed(path)
            and not (own and _under(os.path.realpath(path), [own]))
            and os.path.realpath(path) != os.path.realpath(__file__)
        )
        if strays:
            _refuse(f"the task loaded modules from outside its image: {', '.join(strays[:5])}")

    atexit.register(check_modules)
    sys.argv = ["-m", *arguments]  # as `python -m kfp.dsl.executor_main ARGS` sees them
    runpy.run_module("kfp.dsl.executor_main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
