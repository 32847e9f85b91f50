"""What each task can import, checked against what its image holds (statically).

Starting from a component's entry point (the body of its KFP wrapper function in
``components/<name>/component.py``, which is all that runs in the pod, plus the
preamble kfp puts before it), every module of ``components`` it reaches is followed,
and every import in a reached module counts: at module level, inside a function (the
project imports heavy packages lazily), ``importlib.import_module("...")`` with a
literal, and ``importlib.resources.files("pkg") / "name"`` (package data, e.g. the
bundled datasets). Imports under ``if TYPE_CHECKING:`` and optional imports inside
``try: ... except ImportError`` are not needed at run time and are skipped.

Each reached module of ``components`` must be a file the image copies
(``components/images.py``), each package-data path must be copied, and each
third-party module must come from a distribution in the image's locked requirements
(``components/<name>/requirements.txt``); the distribution of a module is read from
the installed metadata (``importlib.metadata.packages_distributions``). Files of
``components/shared`` that the task never reaches do not count, so a shared helper
needing a package does not force it into every image.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from components.images import COMPONENTS_DIR, image_inputs
from kfops.images.imports import Use, absolute_module, uses_in
from kfops.images.lock import locked_distributions, normalize

#: What kfp's lightweight-component command puts before the wrapper's source.
KFP_PREAMBLE = "import kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n"


@dataclass
class Reach:
    """The result of following one component's entry point."""

    modules: dict[str, str] = field(default_factory=dict)  # components.* module -> file (relative)
    uses: list[Use] = field(default_factory=list)
    data: set[str] = field(default_factory=set)  # package-data paths read (relative)
    problems: list[str] = field(default_factory=list)

    def unused(self, declared: Iterable[str]) -> list[str]:
        """Declared extra paths that nothing reached lies in (they only widen the image and its hash)."""
        reached = [*self.modules.values(), *self.data]
        return [
            entry for entry in declared if not any(r == entry or r.startswith(entry + "/") for r in reached)
        ]


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class _Module:
    """A parsed module of ``components``: its top-level definitions and import bindings."""

    name: str
    relative: str
    is_package: bool
    tree: ast.Module
    defs: dict[str, ast.AST] = field(default_factory=dict)
    bindings: dict[str, str] = field(default_factory=dict)  # local name -> module or module:symbol

    def top_level(self) -> list[ast.AST]:
        """What runs when the module is imported: everything but the bodies of its definitions."""
        nodes: list[ast.AST] = []
        for statement in self.tree.body:
            if isinstance(statement, _DEFS):
                nodes.extend(statement.decorator_list)
                if isinstance(statement, ast.ClassDef):
                    nodes.extend(statement.bases)
                else:
                    nodes.extend(d for d in [*statement.args.defaults, *statement.args.kw_defaults] if d)
            else:
                nodes.append(statement)
        return nodes


def entry_point(component: str, root: Path = COMPONENTS_DIR) -> tuple[ast.Module, str]:
    """The code that runs in the pod: kfp's preamble and the wrapper function's source."""
    path = root / component / "component.py"
    source = path.read_text()
    tree = ast.parse(source)
    functions = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and any("component" in ast.unparse(d) for d in n.decorator_list)
    ]
    if len(functions) != 1:
        raise ValueError(f"{path}: expected one @dsl.component function, found {len(functions)}")
    body = ast.get_source_segment(source, functions[0]) or ""
    # decorators are not part of the segment: kfp copies the bare function, too
    return ast.parse(KFP_PREAMBLE + body), f"components/{component}/component.py"


def _module_file(module: str, root: Path) -> tuple[Path, bool] | None:
    parts = module.split(".")[1:]
    base = root.joinpath(*parts) if parts else root
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    if base.with_suffix(".py").is_file() and parts:
        return base.with_suffix(".py"), False
    if base.is_dir():
        return None  # a namespace package: no file to import
    raise FileNotFoundError(module)


def follow(
    component: str,
    *,
    root: Path = COMPONENTS_DIR,
    files: Iterable[str] | None = None,
    distributions: set[str] | None = None,
    module_distributions: dict[str, list[str]] | None = None,
) -> Reach:
    """Follow ``component``'s entry point; report what its image lacks.

    Reachability is by symbol: importing a module runs its top level (whose imports
    count); a function or class of it counts only when reached (imported by name,
    referenced from reached code of the same module, or as ``module.attribute``).

    Args:
        component: Component name.
        root: The ``components`` folder.
        files: Paths (relative to ``root``) the image holds (default: its declared inputs).
        distributions: Distributions the image installs (default: its requirements.txt).
        module_distributions: Top-level module -> distributions (default: this environment's).
    """
    held = (
        set(files)
        if files is not None
        else {p.relative_to(root).as_posix() for p in image_inputs(component, root)}
    )
    installed = distributions if distributions is not None else locked_distributions(component, root)
    owners = (
        module_distributions
        if module_distributions is not None
        else importlib.metadata.packages_distributions()
    )
    reach = Reach()
    parsed: dict[str, _Module | None] = {}
    third_party: dict[str, str] = {}
    done: set[tuple[str, str]] = set()
    queue: list[tuple[str, str, str]] = []  # (module, symbol or "", where)

    def load(name: str, where: str) -> _Module | None:
        """Parse a module of ``components`` (and check it is in the image) once."""
        if name in parsed:
            return parsed[name]
        parsed[name] = None
        try:
            found = _module_file(name, root)
        except FileNotFoundError:
            reach.problems.append(f"{where}: imports {name}, which does not exist")
            return None
        if found is None:
            return None  # a namespace package: nothing to run
        path, is_package = found
        relative = path.relative_to(root).as_posix()
        reach.modules[name] = relative
        if relative not in held:
            reach.problems.append(
                f"{where}: imports {name} ({root.name}/{relative}), which the image does not copy"
            )
            return None
        info = _Module(name, relative, is_package, ast.parse(path.read_text()))
        for statement in info.tree.body:
            if isinstance(statement, _DEFS):
                info.defs[statement.name] = statement
            elif isinstance(statement, ast.ImportFrom):
                base = absolute_module(statement, name, is_package)
                for alias in statement.names:
                    info.bindings[alias.asname or alias.name] = f"{base}:{alias.name}"
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname:
                        info.bindings[alias.asname] = alias.name
        parsed[name] = info
        return info

    def reach_module(name: str, symbol: str, where: str) -> None:
        """``name`` (a components module) is imported, and ``symbol`` of it is reached."""
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
            queue.append((".".join(parts[:i]), "", where))
        if symbol:
            queue.append((name, symbol, where))

    def reach_name(target: str, where: str) -> None:
        """A binding ``module:symbol`` or ``module``: a submodule, or a symbol of the module."""
        module, _, symbol = target.partition(":")
        if module.split(".")[0] != root.name:
            return
        if symbol and _is_module(f"{module}.{symbol}", root):
            reach_module(f"{module}.{symbol}", "", where)
        else:
            reach_module(module, symbol, where)

    def scan(nodes: list[ast.AST], module: str, where: str, is_package: bool, info: _Module | None) -> None:
        for use in uses_in(nodes, module, where, is_package):
            reach.uses.append(use)
            top = use.name.split(".")[0]
            if top != root.name:
                if use.kind == "data":
                    reach.problems.append(
                        f"{use.where}: reads package data of {use.name}, outside components"
                    )
                elif use.kind != "maybe":
                    third_party.setdefault(top, use.where)
                continue
            if use.kind == "maybe":
                parent, _, symbol = use.name.rpartition(".")
                reach_name(f"{parent}:{symbol}", use.where)
            elif use.kind == "data":
                reach_module(use.name, "", use.where)
                if use.data:
                    folder = Path(*use.name.split(".")[1:], use.data).as_posix()
                    reach.data.add(folder)
                    if not any(f == folder or f.startswith(folder + "/") for f in held):
                        reach.problems.append(
                            f"{use.where}: reads {use.name}/{use.data} ({root.name}/{folder}), "
                            "which the image does not copy"
                        )
            else:
                reach_module(use.name, "", use.where)
        if info is None:
            return
        for node in nodes:  # names of this module's definitions and imports that the code refers to
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id in info.defs:
                    queue.append((info.name, sub.id, where))
                elif isinstance(sub, ast.Name) and sub.id in info.bindings:
                    reach_name(info.bindings[sub.id], where)
                elif (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and ":" not in info.bindings.get(sub.value.id, ":")
                ):
                    reach_name(f"{info.bindings[sub.value.id]}:{sub.attr}", where)

    tree, where = entry_point(component, root)
    scan([tree], f"{root.name}.{component}.component", where, False, None)
    while queue:
        name, symbol, where = queue.pop(0)
        if (name, symbol) in done:
            continue
        done.add((name, symbol))
        info = load(name, where)
        if info is None:
            continue
        origin = f"{root.name}/{info.relative}"
        if not symbol:
            scan(info.top_level(), name, origin, info.is_package, info)
        elif symbol in info.defs:
            scan([info.defs[symbol]], name, origin, info.is_package, info)
        elif symbol in info.bindings:  # re-exported
            reach_name(info.bindings[symbol], origin)
    for top, first in sorted(third_party.items()):
        if top in sys.stdlib_module_names:
            continue
        providers = {normalize(d) for d in owners.get(top, [])}
        if not providers:
            reach.problems.append(f"{first}: imports {top}, which no installed distribution provides")
        elif not providers & installed:
            reach.problems.append(
                f"{first}: imports {top} (from {', '.join(sorted(providers))}), "
                "which the image does not install"
            )
    return reach


def _is_module(name: str, root: Path) -> bool:
    try:
        return _module_file(name, root) is not None or (root.joinpath(*name.split(".")[1:])).is_dir()
    except FileNotFoundError:
        return False
