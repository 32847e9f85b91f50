"""``kfops plan``: what merging this branch would do, as Markdown for the PR (or JSON).

Images to build (content hash vs the base ref), pipeline versions to upload (vs the
last deploy's audit record in the store), recurring runs to create, replace or
delete (``schedules.yaml`` vs the base ref, plus schedules whose pipeline gets a new
version), and the performance gate's verdict when its report is given.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from components.shared.errors import InputError, one_line
from components.shared.names import LAYOUT
from components.shared.store import open_store
from kfops.deploy import DEPLOYS, version_name

MARKER = "<!-- kfops-plan -->"


def last_deploy(store_uri: str) -> dict[str, Any] | None:
    """The newest deploy audit record in the store, if any."""
    store = open_store(store_uri)
    keys = [k for k in store.list(f"{LAYOUT.metrics}/{DEPLOYS}") if k.endswith(".json")]
    return json.loads(store.read(keys[-1])) if keys else None


def _schedules_at(ref: str | None, path: Path) -> dict[str, dict[str, Any]]:
    if ref is None:
        text = path.read_text() if path.is_file() else ""
    else:
        shown = subprocess.run(
            ["git", "show", f"{ref}:{path.as_posix()}"], capture_output=True, text=True, timeout=60
        )
        text = shown.stdout if shown.returncode == 0 else ""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:  # the base ref's file: this branch's own file was checked first
        return {}
    items = data.get("schedules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return {}
    return {str(s["name"]): s for s in items if isinstance(s, dict) and "name" in s}


def make_plan(
    *,
    since: str | None,
    pipelines_dir: Path,
    store: str | None,
    schedules: Path,
    gate_report: Path | None,
) -> dict[str, Any]:
    """Collect the plan (see the module docstring)."""
    from kfops.compile import compile_pipelines
    from kfops.images.plan import plan_images
    from kfops.registry import pipeline_names
    from kfops.schedules import load_schedules

    if schedules.exists():  # this branch's file is checked as `kfops deploy` checks it
        load_schedules(schedules, set(pipeline_names()))
    images = [p.__dict__ for p in plan_images(since)]
    deployed: dict[str, str] = {}
    record = last_deploy(store) if store else None
    for label in (record or {}).get("uploaded", []) + (record or {}).get("unchanged", []):
        pipeline, _, version = label.partition("@")
        deployed[pipeline] = version
    pipelines = []
    for path in compile_pipelines(pipelines_dir):
        version = version_name(path.stem, path.read_bytes())
        known = deployed.get(path.stem)
        status = (
            "unknown (no deploy record)"
            if record is None
            else ("unchanged" if known == version else "new version")
        )
        pipelines.append({"pipeline": path.stem, "version": version, "deployed": known, "status": status})
    new_versions = {p["pipeline"] for p in pipelines if p["status"] == "new version"}
    before, after = _schedules_at(since, schedules), _schedules_at(None, schedules)
    schedule_changes = (
        [{"name": n, "change": "create"} for n in sorted(set(after) - set(before))]
        + [{"name": n, "change": "delete"} for n in sorted(set(before) - set(after))]
        + [
            {"name": n, "change": "replace"}
            for n in sorted(set(after) & set(before))
            if after[n] != before[n] or after[n].get("pipeline") in new_versions
        ]
    )
    gate = None
    if gate_report is not None:
        try:
            gate = json.loads(gate_report.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read gate report {gate_report}: {one_line(exc)}") from None
        if not isinstance(gate, dict) or not isinstance(gate.get("verdict"), str):
            raise InputError(f"gate report {gate_report} is not a report of `kfops gate` (no verdict)")
    return {
        "images": images,
        "pipelines": pipelines,
        "schedules": schedule_changes,
        "gate": gate,
        "since": since,
        "last_deploy": (record or {}).get("time"),
    }


def _numbers(data: dict[str, Any], *keys: str) -> bool:
    return all(isinstance(data.get(k), int | float) and not isinstance(data.get(k), bool) for k in keys)


def render_markdown(plan: dict[str, Any]) -> str:
    """The plan as a PR comment (with a hidden marker for in-place updates)."""
    builds = [i for i in plan["images"] if i["build"]]
    lines = [MARKER, "## kfops plan: what merging this would do", ""]
    lines.append(
        f"**Images to build ({len(builds)}):** "
        + (", ".join(f"`{i['component']}`" for i in builds) or "none")
    )
    lines += ["", "| pipeline | version | status |", "| --- | --- | --- |"]
    lines += [f"| {p['pipeline']} | `{p['version']}` | {p['status']} |" for p in plan["pipelines"]]
    lines.append("")
    if plan["schedules"]:
        lines.append(
            "**Recurring runs:** " + ", ".join(f"{s['change']} `{s['name']}`" for s in plan["schedules"])
        )
    else:
        lines.append("**Recurring runs:** no change")
    gate = plan.get("gate")
    if gate:
        lines += ["", f"**Performance gate:** {gate['verdict']}"]
        metrics = gate.get("metrics")
        for metric in metrics if isinstance(metrics, list) else []:
            decision = metric.get("decision") if isinstance(metric, dict) else None
            if isinstance(decision, dict) and _numbers(decision, "baseline", "candidate", "delta", "p_value"):
                lines.append(
                    f"- {metric.get('metric')}: {decision['baseline']:.4f} → {decision['candidate']:.4f} "
                    f"(Δ {decision['delta']:+.4f}, p {decision['p_value']:.3g})"
                    + (" — **regression**" if metric.get("failed") else "")
                )
    return "\n".join(lines) + "\n"
