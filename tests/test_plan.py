"""`kfops plan`: images, pipeline versions vs the last deploy, schedule changes, gate verdict."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from kfops.compile import compile_pipelines
from kfops.deploy import version_name
from kfops.plan import MARKER, make_plan, render_markdown

NIGHTLY = {"name": "nightly", "pipeline": "training", "cron": "0 0 2 * * *"}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with a committed schedules.yaml, as the working directory."""
    (tmp_path / "schedules.yaml").write_text(yaml.safe_dump({"schedules": [NIGHTLY]}))
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base"],
    ):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _store_with_deploy(tmp_path: Path, labels: list[str]) -> str:
    store = tmp_path / "store"
    (store / "metrics" / "deploys").mkdir(parents=True)
    (store / "metrics" / "deploys" / "20261122T000000000000Z.json").write_text(
        json.dumps({"time": "2026-11-22T00:00:00+00:00", "uploaded": labels, "unchanged": []})
    )
    return str(store)


def _plan(repo: Path, store: str | None, gate: Path | None = None) -> dict[str, object]:
    return make_plan(
        since="HEAD",
        pipelines_dir=repo / "build",
        store=store,
        schedules=Path("schedules.yaml"),
        gate_report=gate,
    )


def _training_status(plan: dict[str, object]) -> str:
    return next(str(p["status"]) for p in plan["pipelines"] if p["pipeline"] == "training")  # type: ignore[attr-defined]


def test_pipeline_status_compares_with_the_last_deploy(repo: Path) -> None:
    training = next(p for p in compile_pipelines(repo / "probe") if p.stem == "training")
    current = version_name("training", training.read_bytes())
    unchanged = _plan(repo, _store_with_deploy(repo / "a", [f"training@{current}"]))
    assert _training_status(unchanged) == "unchanged"
    changed = _plan(repo, _store_with_deploy(repo / "b", ["training@training-000000000000"]))
    assert _training_status(changed) == "new version"
    assert _training_status(_plan(repo, None)) == "unknown (no deploy record)"


def test_schedule_changes_against_the_base_ref(repo: Path) -> None:
    weekly = {"name": "weekly", "pipeline": "training", "cron": "0 0 3 * * 1"}
    (repo / "schedules.yaml").write_text(
        yaml.safe_dump({"schedules": [{**NIGHTLY, "cron": "0 30 2 * * *"}, weekly]})
    )
    changes = {s["name"]: s["change"] for s in _plan(repo, None)["schedules"]}  # type: ignore[attr-defined]
    assert changes == {"nightly": "replace", "weekly": "create"}
    (repo / "schedules.yaml").write_text(yaml.safe_dump({"schedules": []}))
    assert _plan(repo, None)["schedules"] == [{"name": "nightly", "change": "delete"}]


def test_a_new_pipeline_version_replaces_its_schedules(repo: Path) -> None:
    plan = _plan(repo, _store_with_deploy(repo / "a", ["training@training-000000000000"]))
    assert plan["schedules"] == [{"name": "nightly", "change": "replace"}]


def test_markdown_carries_the_marker_and_the_gate_verdict(repo: Path) -> None:
    gate = repo / "gate.json"
    gate.write_text(
        json.dumps(
            {
                "verdict": "fail",
                "metrics": [
                    {
                        "metric": "accuracy",
                        "failed": True,
                        "decision": {"baseline": 0.9, "candidate": 0.8, "delta": -0.1, "p_value": 0.001},
                    }
                ],
            }
        )
    )
    text = render_markdown(_plan(repo, None, gate))
    assert text.startswith(MARKER)
    assert "**Performance gate:** fail" in text and "0.9000 → 0.8000" in text and "**regression**" in text
    assert "| training |" in text and "**Images to build" in text
