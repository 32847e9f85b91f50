"""Shared fixtures for the component tests: the io chain and pickle inspection."""

from __future__ import annotations

import pickletools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import joblib
import joblib.numpy_pickle
import pytest

from components.evaluate.io import run_evaluate
from components.ingest.io import run_ingest
from components.preprocess.io import run_preprocess
from components.split.io import run_split
from components.train.io import run_train

#: Top-level modules a served model may reference: what KServe's sklearn image has.
#: ``joblib`` is there because joblib's own file format wraps numpy arrays in
#: ``joblib.numpy_pickle.NumpyArrayWrapper``.
ALLOWED_ROOTS = {"sklearn", "numpy", "scipy", "joblib", "builtins", "copyreg", "_codecs"}

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
_GET_OPS = {"BINGET", "LONG_BINGET", "GET"}
_PUT_OPS = {"BINPUT", "LONG_BINPUT", "PUT"}


def pickle_globals(data: bytes) -> set[tuple[str, str]]:
    """``(module, name)`` of every global a plain pickle stream references.

    ``GLOBAL`` carries both in its argument; ``STACK_GLOBAL`` takes them from the
    two values pushed just before it (string literals or memo gets of strings).
    """
    found: set[tuple[str, str]] = set()
    memo: dict[Any, Any] = {}
    pushed: list[Any] = []  # the value each pushing opcode left on top (None: not a string)
    for op, arg, _ in pickletools.genops(data):
        if op.name in _STRING_OPS:
            pushed.append(arg)
        elif op.name in _GET_OPS:
            pushed.append(memo.get(arg))
        elif op.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif op.name in _PUT_OPS:
            memo[arg] = pushed[-1] if pushed else None
        elif op.name == "GLOBAL":
            module, name = str(arg).split(" ", 1)
            found.add((module, name))
            pushed.append(None)
        elif op.name == "STACK_GLOBAL":
            module, name = pushed[-2], pushed[-1]
            assert isinstance(module, str) and isinstance(name, str), (module, name)
            found.add((module, name))
            pushed.append(None)
        elif op.name not in ("PROTO", "FRAME", "STOP"):
            pushed.append(None)
    return found


def joblib_globals(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, set[tuple[str, str]]]:
    """Load a joblib file and return the object and every global its unpickling resolved.

    A joblib file is not one pickle stream (array bytes are written between
    pickle opcodes), so ``pickletools.genops`` stops at the first array; the
    unpickler's ``find_class`` sees every global, wherever it is in the file.
    """
    seen: set[tuple[str, str]] = set()
    original = joblib.numpy_pickle.NumpyUnpickler.find_class

    def recording_find_class(self: Any, module: str, name: str) -> Any:
        seen.add((module, name))
        return original(self, module, name)

    with monkeypatch.context() as patch:
        patch.setattr(joblib.numpy_pickle.NumpyUnpickler, "find_class", recording_find_class)
        obj = joblib.load(path)
    return obj, seen


def disallowed(globals_: set[tuple[str, str]]) -> list[str]:
    """The referenced globals whose top-level module is not in `ALLOWED_ROOTS`."""
    return sorted(f"{m}.{n}" for m, n in globals_ if m.split(".")[0] not in ALLOWED_ROOTS)


def run_chain(
    base: Path,
    *,
    source: str = "builtin://breast_cancer",
    label: str = "target",
    categorical: str = "",
    steps: str = "drop_duplicates,drop_constant,impute_median,clip_outliers,standard_scale",
    estimator: str = "logistic_regression",
    hyperparameters: str = "{}",
    seed: int = 42,
) -> dict[str, Path]:
    """Run ingest -> split -> preprocess -> train -> evaluate under ``base``; return the paths."""
    paths = {
        "dataset": base / "dataset.parquet",
        "schema": base / "schema.json",
        "train": base / "train.parquet",
        "test": base / "test.parquet",
        "split_info": base / "split.json",
        "prepared": base / "prepared.parquet",
        "preprocessor": base / "preprocessor",
        "model": base / "model",
        "evaluation": base / "evaluation.parquet",
    }
    run_ingest(source, label, categorical, str(paths["dataset"]), str(paths["schema"]))
    run_split(
        str(paths["dataset"]), str(paths["train"]), str(paths["test"]), str(paths["split_info"]), seed=seed
    )
    run_preprocess(steps, str(paths["train"]), str(paths["prepared"]), str(paths["preprocessor"]))
    run_train(
        str(paths["prepared"]),
        str(paths["preprocessor"]),
        str(paths["model"]),
        estimator=estimator,
        hyperparameters=hyperparameters,
        seed=seed,
    )
    run_evaluate(str(paths["model"]), str(paths["test"]), str(paths["evaluation"]))
    return paths


@pytest.fixture(scope="session")
def chain() -> Callable[..., dict[str, Path]]:
    """The `run_chain` helper, as a fixture (conftest modules are not imported by tests)."""
    return run_chain


@pytest.fixture(scope="session")
def pickle_tools() -> SimpleNamespace:
    """Pickle inspection helpers: ``pickle_globals``, ``joblib_globals``, ``disallowed``."""
    return SimpleNamespace(
        pickle_globals=pickle_globals, joblib_globals=joblib_globals, disallowed=disallowed
    )
