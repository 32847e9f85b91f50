"""Every import and package-data read in Python source, as the reach check counts them.

See ``kfops.images.reach`` for what counts and what is skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Use:
    """Something a reached module needs: a module, or package data (``kind == "data"``)."""

    name: str
    where: str  # "components/x/y.py:12"
    kind: str = "module"
    data: str = ""  # for kind "data": the path under the package


def _optional(handlers: list[ast.ExceptHandler]) -> bool:
    names = set()
    for handler in handlers:
        if handler.type is None:
            return True
        for node in ast.walk(handler.type):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
    return bool(names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_call_to(node: ast.Call, name: str) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == name) or (
        isinstance(func, ast.Name) and func.id == name
    )


def uses_in(nodes: Iterable[ast.AST], module: str, where: str, is_package: bool = False) -> list[Use]:
    """Every import (and package-data read) in ``nodes``, as seen from ``module``."""
    found: list[Use] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Try) and _optional(node.handlers):
            for part in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(part)
            return
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found.extend(Use(alias.name, line) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = absolute_module(node, module, is_package)
            if base != "__future__":
                found.append(Use(base, line))
                # `from pkg import name` may import the submodule pkg.name, or reach pkg's symbol name
                found.extend(Use(f"{base}.{a.name}", line, kind="maybe") for a in node.names if a.name != "*")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.left, ast.Call):
            call = node.left
            if _is_call_to(call, "files") and call.args and _literal(call.args[0]) and _literal(node.right):
                found.append(
                    Use(_literal(call.args[0]) or "", line, kind="data", data=_literal(node.right) or "")
                )
                for inner in ast.iter_child_nodes(call):
                    visit(inner)
                return
        elif isinstance(node, ast.Call) and node.args and _literal(node.args[0]):
            if _is_call_to(node, "files"):
                found.append(Use(_literal(node.args[0]) or "", line, kind="data"))
            elif _is_call_to(node, "import_module"):
                found.append(Use(_literal(node.args[0]) or "", line))
        for inner in ast.iter_child_nodes(node):
            visit(inner)

    for start in nodes:
        visit(start)
    return found


def absolute_module(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module name of ``from ... import`` in ``module`` (resolves relative imports)."""
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([base] if base else [])])
    return base
