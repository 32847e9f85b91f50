"""Mutation testing of the modules that carry the project's promises (cosmic-ray).

``make mutation`` (or ``.venv/bin/python benchmarks/mutation/run.py``) does, for each
module of ``modules.toml``:

1. a copy of the committed tree (``git archive HEAD``) under ``build/mutation/``; the
   copy is first on ``PYTHONPATH`` for everything the tests start, so CLI tests and
   kfp.local task processes import the mutant too, and the checkout is never touched;
2. a cosmic-ray session (``init``, the operator filter, ``baseline``, ``exec``): each
   mutant is written into the copy in place and the module's tests are run with ``-x``;
   ``KFOPS_IAM_RECORDING`` names ``build/mutation/iam-recording.json``, so the AWS requests
   of tests/iam/test_access.py's flows (about 40 s, independent of ``infra/``) are recorded
   by the first run (the baseline) and reused by every mutant while kfops/, components/
   and pipelines/ are unchanged;
3. ``docs/mutation.md``: the score per module and every surviving mutant, with the
   reason from ``survivors.toml`` when it has one (matched by module, operator and the
   mutated line's text, so explanations survive unrelated edits).

Sessions are kept between runs (``build/mutation/sessions``) and resumed; a module whose
source, tests or settings changed is started afresh. ``--faults`` instead applies the
hand-made faults of ``faults.toml`` one at a time and requires each to fail its tests.

Usage: ``run.py [--modules PATH ...] [--jobs N] [--faults] [--report-only]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = REPO / "build" / "mutation"
SESSIONS = WORK / "sessions"
REPORT = REPO / "docs" / "mutation.md"
#: tests/iam/test_access.py's recorded flows (about 40 s), kept while their sources are unchanged
IAM_RECORDING = WORK / "iam-recording.json"
PYTHON = sys.executable
BIN = Path(sys.executable).parent  # cosmic-ray's commands, installed beside this interpreter
TARGET = 0.90


@dataclass(frozen=True)
class Module:
    """A module to mutate and the pytest arguments that test it."""

    path: str
    tests: tuple[str, ...]

    @property
    def slug(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")


def load_settings() -> tuple[list[Module], list[str]]:
    """Modules and excluded operators from ``modules.toml``."""
    data = tomllib.loads((HERE / "modules.toml").read_text())
    modules = [Module(m["path"], tuple(m["tests"])) for m in data["module"]]
    return modules, list(data["operators"]["exclude"])


def test_command(tests: tuple[str, ...]) -> str:
    """The command cosmic-ray runs per mutant (random order off: the same tests each time; one
    process, not the two xdist workers of addopts)."""
    args = [PYTHON, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider", "-p", "no:randomly"]
    args += ["-n", "0"]
    return " ".join(_quote(a) for a in (*args, *tests))


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:=+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def copy_tree(target: Path) -> Path:
    """A fresh copy of the committed tree at ``target`` (no caches, no untracked files)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def environment(tree: Path) -> dict[str, str]:
    """The copy first on the import path of every process the tests start; no stale bytecode;
    tests/iam/test_access.py's AWS requests recorded once and reused (``IAM_RECORDING``)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    return {**env, "KFOPS_IAM_RECORDING": str(IAM_RECORDING)}


def fingerprint(module: Module, excluded: list[str]) -> str:
    """What a session's results depend on: the module, its tests' files and the settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps([module.path, module.tests, excluded]).encode())  # not the interpreter's path
    for part in [module.path, *[t.split("::")[0] for t in module.tests if t.startswith("tests/")]]:
        path = REPO / part
        files = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
        for file in files:
            digest.update(file.read_bytes())
    digest.update((REPO / "tests" / "conftest.py").read_bytes())
    return digest.hexdigest()


def run_module(module: Module, excluded: list[str], slot: int) -> str:
    """Run (or resume) one module's session; returns a one-line summary."""
    SESSIONS.mkdir(parents=True, exist_ok=True)
    session, config, meta = (SESSIONS / f"{module.slug}.{ext}" for ext in ("sqlite", "toml", "json"))
    stamp = fingerprint(module, excluded)
    known = json.loads(meta.read_text()).get("fingerprint") if meta.exists() else None
    fresh = not (session.exists() and known == stamp)
    tree = copy_tree(WORK / f"tree-{os.getpid()}-{slot}")  # never another run's copy
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module.path)}\n"
        "timeout = 300.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(test_command(module.tests))}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(excluded)}\n"
    )
    env = environment(tree)
    cosmic_ray = [str(BIN / "cosmic-ray")]
    started = time.monotonic()
    if fresh:
        session.unlink(missing_ok=True)
        subprocess.run([*cosmic_ray, "init", str(config), str(session)], cwd=tree, env=env, check=True)
        subprocess.run(
            [str(BIN / "cr-filter-operators"), str(session), str(config)],
            cwd=tree,
            env=env,
            check=True,
        )
        baseline = subprocess.run(
            [*cosmic_ray, "baseline", str(config)], cwd=tree, env=env, capture_output=True, text=True
        )
        if baseline.returncode != 0:
            output = baseline.stdout + baseline.stderr
            raise SystemExit(f"{module.path}: its tests fail without a mutant:\n{output}")
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
        facts = {"fingerprint": stamp, "module": module.path, "tests": module.tests, "commit": commit.strip()}
        meta.write_text(json.dumps(facts))
    subprocess.run([*cosmic_ray, "exec", str(config), str(session)], cwd=tree, env=env, check=True)
    shutil.rmtree(tree, ignore_errors=True)
    summary = module_results(module)
    seconds = time.monotonic() - started
    return f"{module.path}: {summary['killed']}/{summary['total']} killed in {seconds:.0f} s"


def module_results(module: Module) -> dict:
    """Counts and survivors of a module's session (empty when it has none)."""
    from cosmic_ray.work_db import WorkDB, use_db

    session = SESSIONS / f"{module.slug}.sqlite"
    result = {"total": 0, "killed": 0, "survived": [], "pending": 0, "skipped": 0, "incompetent": 0}
    if not session.exists():
        return result
    lines = (REPO / module.path).read_text().splitlines()
    with use_db(str(session), WorkDB.Mode.open) as db:
        result["pending"] = sum(1 for _ in db.pending_work_items)
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == "skipped":
                result["skipped"] += 1
                continue
            result["total"] += 1
            if outcome.test_outcome == "killed":
                result["killed"] += 1
            elif outcome.test_outcome == "incompetent":
                result["incompetent"] += 1
            else:
                mutation = item.mutations[0]
                line = mutation.start_pos[0]
                result["survived"].append(
                    {
                        "operator": mutation.operator_name,
                        "line": line,
                        "text": lines[line - 1].strip() if line <= len(lines) else "",
                        "diff": outcome.diff or "",
                    }
                )
    return result


def explanations() -> list[dict[str, str]]:
    """Reasons for survivors, from ``survivors.toml``."""
    path = HERE / "survivors.toml"
    return tomllib.loads(path.read_text()).get("survivor", []) if path.exists() else []


def _reason(module: Module, survivor: dict, reasons: list[dict[str, str]]) -> str | None:
    for entry in reasons:
        if (
            entry["module"] == module.path
            and re.fullmatch(entry.get("operator", ".*"), survivor["operator"])
            and entry["text"] == survivor["text"]
        ):
            return entry["reason"]
    return None


def is_current(module: Module, excluded: list[str]) -> bool:
    """Whether a module's session was made from its present code, tests and settings."""
    meta = SESSIONS / f"{module.slug}.json"
    return meta.exists() and json.loads(meta.read_text()).get("fingerprint") == fingerprint(module, excluded)


def unused_explanations(
    module: Module, survived: list[dict], reasons: list[dict[str, str]]
) -> list[dict[str, str]]:
    """The module's explanations that match none of its survivors: the mutant they excused is
    killed now, and a left-over reason could excuse a later, different survivor of that line."""
    return [
        entry
        for entry in reasons
        if entry["module"] == module.path and not any(_reason(module, s, [entry]) for s in survived)
    ]


def write_report(modules: list[Module]) -> int:
    """Write ``docs/mutation.md``; return how many modules miss the target, leave survivors
    unexplained or keep explanations of mutants that no longer survive."""
    reasons = explanations()
    rows, details, unused, problems = [], [], [], 0
    for module in modules:
        r = module_results(module)
        if not r["total"]:
            rows.append(f"| `{module.path}` | not run yet | | | | |")
            problems += 1
            continue
        explained = [s for s in r["survived"] if _reason(module, s, reasons)]
        score = r["killed"] / r["total"]
        complete = "" if not r["pending"] else f" ({r['pending']} not run yet)"
        current = is_current(module, load_settings()[1])
        complete += "" if current else " (stale: the module or its tests changed since)"
        # Only a finished, current session shows which explanations are left over.
        left_over = (
            unused_explanations(module, r["survived"], reasons) if current and not r["pending"] else []
        )
        unused += [f"- `{module.path}`, {e.get('operator', '.*')}: `{e['text']}`" for e in left_over]
        ok = score >= TARGET and len(explained) == len(r["survived"]) and not r["pending"] and current
        ok = ok and not left_over
        problems += not ok
        flag = "" if ok else "**below target, unexplained or an explanation left over**"
        rows.append(
            f"| `{module.path}` | {r['total']}{complete} | {r['killed']} | {len(r['survived'])} "
            f"| {len(explained)} | {score:.1%} {flag} |"
        )
        for s in r["survived"]:
            reason = _reason(module, s, reasons) or "**not explained yet**"
            details.append(
                f"- `{module.path}` line {s['line']}, {s['operator'].removeprefix('core/')}: "
                f"`{s['text']}`  \n  {reason}"
            )
    text = [
        "# Mutation testing",
        "",
        "Generated by `make mutation` (`benchmarks/mutation/run.py`, cosmic-ray); do not edit by hand.",
        "Each mutant is one small change to a module; it is *killed* when the module's tests",
        "(`benchmarks/mutation/modules.toml`) fail. Target: at least 90% killed per module, and",
        "every survivor explained in `benchmarks/mutation/survivors.toml`.",
        "Operators left out, and why: `benchmarks/mutation/modules.toml`.",
        "",
        "| module | mutants | killed | survived | explained | score |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "## Surviving mutants",
        "",
        *(details or ["None."]),
        "",
    ]
    if unused:
        text += ["## Explanations that match no survivor (remove them from survivors.toml)", "", *unused, ""]
    faults = WORK / "faults.json"
    if faults.exists():
        text += ["## Hand-made faults (`make mutation-faults`)", "", "| fault | outcome |", "|---|---|"]
        text += [f"| {f['name']} | {f['outcome']} |" for f in json.loads(faults.read_text())]
        text.append("")
    REPORT.write_text("\n".join(text))
    print(f"wrote {REPORT.relative_to(REPO)}")
    return problems


def run_faults() -> int:
    """Apply each hand-made fault alone (in a copy) and require its tests to fail."""
    faults = tomllib.loads((HERE / "faults.toml").read_text())["fault"]
    tree = copy_tree(WORK / f"tree-{os.getpid()}-faults")
    env, results, survived = environment(tree), [], 0
    for fault in faults:
        path = tree / fault["file"]
        original = path.read_text()
        if original.count(fault["old"]) != 1:
            raise SystemExit(f"fault {fault['name']!r}: its text is not found once in {fault['file']}")
        path.write_text(original.replace(fault["old"], fault["new"]))
        try:
            command = [PYTHON, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
            command += ["-n", "0"]  # one process, not addopts' two xdist workers
            outcome = subprocess.run([*command, *fault["tests"]], cwd=tree, env=env, capture_output=True)
        finally:
            path.write_text(original)
        killed = outcome.returncode != 0
        survived += not killed
        results.append({"name": fault["name"], "outcome": "killed" if killed else "**survived**"})
        print(f"{'killed  ' if killed else 'SURVIVED'} {fault['name']}", flush=True)
    shutil.rmtree(tree, ignore_errors=True)
    (WORK / "faults.json").write_text(json.dumps(results, indent=2))
    return survived


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modules", nargs="*", help="module paths (default: all of modules.toml)")
    parser.add_argument("--jobs", type=int, default=1, help="modules mutated at once (each in its own copy)")
    parser.add_argument("--faults", action="store_true", help="only the hand-made faults of faults.toml")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite docs/mutation.md from the sessions"
    )
    args = parser.parse_args()
    modules, excluded = load_settings()
    if args.modules:
        unknown = set(args.modules) - {m.path for m in modules}
        if unknown:
            print(f"error: not in modules.toml: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
    WORK.mkdir(parents=True, exist_ok=True)
    if args.faults:
        survived = run_faults()
        write_report(modules)
        return 1 if survived else 0
    if not args.report_only:
        chosen = [m for m in modules if not args.modules or m.path in args.modules]
        slots: queue.Queue[int] = queue.Queue()
        for slot in range(max(1, args.jobs)):
            slots.put(slot)

        def in_a_free_copy(module: Module) -> str:
            slot = slots.get()  # one module per copy at a time
            try:
                return run_module(module, excluded, slot)
            finally:
                slots.put(slot)

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for summary in pool.map(in_a_free_copy, chosen):
                print(summary, flush=True)
    return 1 if write_report(modules) else 0


if __name__ == "__main__":
    sys.exit(main())
