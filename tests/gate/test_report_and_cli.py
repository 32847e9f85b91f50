"""Gate reports (Markdown, JSON, PNG, PR comment) and the `kfops gate` / `kfops baseline` commands."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kfops.gate import decide
from kfops.gate.config import MetricRule
from kfops.gate.report import (
    GateOutcome,
    MetricOutcome,
    comment_body,
    render_json,
    render_markdown,
    write_reports,
)
from tests.conftest import run_kfops

MARKER = "<!-- kfops-gate:training -->"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def strict_json(text: str) -> object:
    """Parse JSON rejecting NaN/Infinity, which are not JSON."""

    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def labelled(n: int, accuracy_b: float, accuracy_c: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = np.where(rng.random(n) < accuracy_b, y, 1 - y)
    cand = np.where(rng.random(n) < accuracy_c, y, 1 - y)
    return y, base, cand


def outcome_of(
    n: int, accuracy_b: float, accuracy_c: float, *, tolerance: float = 0.0, seed: int = 0
) -> GateOutcome:
    """A GateOutcome from real decisions: accuracy gated, macro-F1 and log loss reported."""
    y, base, cand = labelled(n, accuracy_b, accuracy_c, seed)
    score_b = np.where(base == 1, 0.8, 0.2)
    score_c = np.where(cand == 1, 0.7, 0.3)
    metrics = [
        MetricOutcome(
            MetricRule("accuracy", True, tolerance, 0.05, "higher"),
            decide(y, base, cand, tolerance=tolerance),
        ),
        MetricOutcome(
            MetricRule("macro_f1", False, 0.0, 0.05, "higher"), decide(y, base, cand, metric="macro_f1")
        ),
        MetricOutcome(
            MetricRule("log_loss", False, 0.0, 0.05, "lower"),
            decide(y, base, cand, metric="log_loss", baseline_score=score_b, candidate_score=score_c),
        ),
        MetricOutcome(MetricRule("roc_auc", False, 0.0, 0.05, "higher"), None, "binary labels only"),
    ]
    verdict = "fail" if any(m.failed for m in metrics) else "pass"
    return GateOutcome(
        "training",
        verdict,
        {"source": "base.csv"},
        {"source": "cand.csv", "label": "run `r2`"},
        n,
        "sha256:" + "ab" * 32,
        metrics,
        per_class={"0": {"baseline": 0.9, "candidate": 0.6}, "1": {"baseline": 0.8, "candidate": 0.85}},
    )


def row_of(markdown: str, metric: str) -> str:
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {metric} (")]
    assert len(rows) == 1, markdown
    return rows[0]


# --- Markdown -----------------------------------------------------------------------------


def test_markdown_has_a_row_per_metric_with_values() -> None:
    outcome = outcome_of(2000, 0.9, 0.8)
    markdown = render_markdown(outcome)
    for item in outcome.metrics:
        row = row_of(markdown, item.rule.name)
        d = item.decision
        if d is None:
            assert "n/a: binary labels only" in row
            continue
        assert (
            f"| {d.baseline:.4f} | {d.candidate:.4f} | {d.delta:+.4f} ({d.ci[0]:+.4f}, {d.ci[1]:+.4f}) |"
            in row
        )
        assert f"| {d.mde:.4f} |" in row
    assert "| accuracy (gated, tolerance 0) |" in markdown
    assert "| macro_f1 (reported) |" in markdown
    assert "❌ regression" in row_of(markdown, "accuracy")
    assert "⚠️ worse (not gated)" in row_of(markdown, "macro_f1")
    assert "90% CI" in markdown  # 1 - 2 alpha


def test_markdown_shows_verdict_n_and_sources() -> None:
    failing = render_markdown(outcome_of(2000, 0.9, 0.8))
    assert failing.startswith("## kfops performance gate — `training`: ❌ FAIL")
    assert "n = 2,000 examples, fingerprint `sha256:abababababab…`" in failing
    assert "- **Baseline:** base.csv" in failing and "- **Candidate:** run `r2`" in failing
    passing = outcome_of(2000, 0.85, 0.85, seed=1)
    assert passing.verdict == "pass"
    text = render_markdown(passing)
    assert "✅ PASS" in text and "FAIL" not in text
    assert "✅ no regression shown" in row_of(text, "accuracy")


def test_markdown_states_the_minimum_detectable_drop_of_gated_metrics() -> None:
    outcome = outcome_of(2000, 0.9, 0.8)
    accuracy = outcome.metrics[0].decision
    assert accuracy is not None
    sentence = (
        f"- accuracy: {accuracy.method}; with n = 2,000, a true drop of {accuracy.mde:.4f} "
        "is detected with 80% power at α = 0.05."
    )
    assert sentence in render_markdown(outcome)
    assert "- macro_f1:" not in render_markdown(outcome)  # reported only


def test_markdown_says_the_set_is_too_small_when_mde_exceeds_twice_the_tolerance() -> None:
    outcome = outcome_of(100, 0.9, 0.9, tolerance=0.01)
    d = outcome.metrics[0].decision
    assert d is not None and d.mde > 2 * d.tolerance
    markdown = render_markdown(outcome)
    assert (
        f"The evaluation set (n = 100) is too small to detect accuracy drops near the tolerance of 0.01: "
        f"only drops of {d.mde:.4f} or more are caught with 80% power." in markdown
    )


@pytest.mark.parametrize(("n", "tolerance"), [(100, 0.0), (20000, 0.05)])
def test_markdown_has_no_too_small_sentence_otherwise(n: int, tolerance: float) -> None:
    outcome = outcome_of(n, 0.9, 0.9, tolerance=tolerance)
    d = outcome.metrics[0].decision
    assert d is not None and (tolerance == 0 or d.mde <= 2 * tolerance)
    assert "too small" not in render_markdown(outcome)


@pytest.mark.parametrize(("mde", "too_small"), [(0.0199, False), (0.02, False), (0.0201, True), (0.05, True)])
def test_too_small_sentence_threshold_is_twice_the_tolerance(mde: float, too_small: bool) -> None:
    outcome = outcome_of(1000, 0.9, 0.9, tolerance=0.01)
    real = outcome.metrics[0].decision
    assert real is not None
    outcome.metrics[0] = MetricOutcome(outcome.metrics[0].rule, dataclasses.replace(real, mde=mde))
    assert ("too small" in render_markdown(outcome)) is too_small


def test_markdown_never_prints_nan_for_an_unknown_detectable_drop() -> None:
    # A gated metric whose MDE is unknown (NaN: identical predictions) must read "n/a", not "nan".
    y, base, _ = labelled(500, 0.8, 0.8, seed=3)
    d = decide(y, base, base, metric="macro_f1")
    assert math.isnan(d.mde)
    outcome = GateOutcome(
        "training",
        "pass",
        {"source": "a.csv"},
        {"source": "a.csv"},
        500,
        None,
        [MetricOutcome(MetricRule("macro_f1", True, 0.0, 0.05, "higher"), d)],
    )
    markdown = render_markdown(outcome)
    assert "| n/a |" in row_of(markdown, "macro_f1")
    assert "nan" not in markdown.lower()


def test_no_baseline_markdown_carries_the_warning() -> None:
    outcome = GateOutcome(
        "training",
        "no-baseline",
        {"label": "none on 'main'"},
        {"source": "c.csv"},
        10,
        None,
        warnings=["No baseline"],
    )
    markdown = render_markdown(outcome)
    assert "⚠️ PASS (no baseline)" in markdown and "> ⚠️ No baseline" in markdown
    assert outcome.exit_code == 0
    outcome.verdict = "fail"
    assert outcome.exit_code == 1


# --- JSON, comment, files -----------------------------------------------------------------


def test_json_has_verdict_exit_code_and_decisions() -> None:
    outcome = outcome_of(2000, 0.9, 0.8)
    data = strict_json(json.dumps(render_json(outcome)))
    assert isinstance(data, dict)
    assert data["verdict"] == "fail" and data["exit_code"] == 1
    assert data["n"] == 2000 and data["pipeline"] == "training"
    by_name = {m["metric"]: m for m in data["metrics"]}
    assert list(by_name) == ["accuracy", "macro_f1", "log_loss", "roc_auc"]
    accuracy = by_name["accuracy"]
    assert accuracy["gated"] is True and accuracy["failed"] is True
    d = outcome.metrics[0].decision
    assert d is not None
    assert accuracy["decision"]["delta"] == d.delta and accuracy["decision"]["p_value"] == d.p_value
    assert accuracy["decision"]["ci"] == list(d.ci) and accuracy["decision"]["regressed"] is True
    assert by_name["macro_f1"]["failed"] is False and by_name["macro_f1"]["decision"]["regressed"] is True
    assert "decision" not in by_name["roc_auc"] and by_name["roc_auc"]["note"] == "binary labels only"
    assert data["per_class_recall"]["0"] == {"baseline": 0.9, "candidate": 0.6}


def test_json_mde_is_null_when_unknown() -> None:
    y, base, _ = labelled(300, 0.8, 0.8, seed=4)
    scores = np.where(base == 1, 0.8, 0.2)
    d = decide(y, base, base, metric="log_loss", baseline_score=scores, candidate_score=scores)
    assert math.isnan(d.mde)
    outcome = GateOutcome(
        "training",
        "pass",
        {},
        {},
        300,
        None,
        [MetricOutcome(MetricRule("log_loss", False, 0, 0.05, "lower"), d)],
    )
    data = strict_json(json.dumps(render_json(outcome)))
    assert data["metrics"][0]["decision"]["mde"] is None  # type: ignore[index]


def test_comment_body_starts_with_hidden_marker() -> None:
    outcome = outcome_of(500, 0.9, 0.9)
    markdown = render_markdown(outcome)
    body = comment_body(outcome, markdown)
    assert body.startswith(MARKER + "\n")
    assert body == MARKER + "\n" + markdown


def test_write_reports_writes_markdown_json_png_atomically(tmp_path: Path) -> None:
    outcome = outcome_of(1000, 0.9, 0.8)
    report_dir = tmp_path / "nested" / "reports"
    paths = write_reports(outcome, report_dir)
    assert paths == {
        "markdown": report_dir / "gate.md",
        "json": report_dir / "gate.json",
        "png": report_dir / "gate.png",
    }
    assert (report_dir / "gate.md").read_text() == render_markdown(outcome)
    assert strict_json((report_dir / "gate.json").read_text()) == strict_json(
        json.dumps(render_json(outcome))
    )
    assert (report_dir / "gate.png").read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in report_dir.iterdir()) == ["gate.json", "gate.md", "gate.png"]
    write_reports(outcome, report_dir)  # overwriting leaves no temporary files either
    assert not [p for p in report_dir.iterdir() if p.name.startswith(".tmp-")]


def test_three_class_run_reports_a_macro_roc_auc_not_n_a(tmp_path: Path) -> None:
    from kfops.gate.config import parse_config
    from kfops.gate.run import run_gate

    rng = np.random.default_rng(31)
    n, classes = 600, ["a", "b", "c"]
    y = rng.integers(0, 3, n)
    shared = rng.normal(0, 1, (n, 3))
    paths = {}
    for name, signal in (("base", 1.0), ("cand", 0.4)):
        logits = signal * np.eye(3)[y] + shared + rng.normal(0, 0.7, (n, 3))
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        frame = pd.DataFrame({"id": np.arange(n), "y_true": np.array(classes)[y]})
        frame["y_pred"] = np.array(classes)[proba.argmax(axis=1)]
        for j, label in enumerate(classes):
            frame[f"score_{label}"] = proba[:, j]
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    outcome = run_gate(
        baseline_spec=str(paths["base"]),
        candidate_uri=str(paths["cand"]),
        config=parse_config({}, "defaults"),
        store=str(tmp_path / "store"),
        candidate_info={"label": "candidate"},
    )
    row = row_of(render_markdown(outcome), "roc_auc")
    assert "n/a" not in row and "–" not in row
    decision = next(m.decision for m in outcome.metrics if m.rule.name == "roc_auc")
    assert decision is not None and decision.regressed  # reported (not gated by default), flagged worse
    assert "⚠️ worse (not gated)" in row and f"{decision.baseline:.4f}" in row


# --- the command line ---------------------------------------------------------------------


def write_predictions(path: Path, y: np.ndarray, pred: np.ndarray) -> str:
    scores = np.where(pred == 1, 0.75, 0.25)
    frame = pd.DataFrame(
        {"id": np.arange(len(y)), "y_true": y, "y_pred": pred, "score_0": 1 - scores, "score_1": scores}
    )
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Every CLI scenario, run as subprocesses in parallel (each ~1.5 s of imports)."""
    root = tmp_path_factory.mktemp("gate-cli")
    y, base, cand = labelled(400, 0.92, 0.6, seed=5)
    base_csv = write_predictions(root / "base.csv", y, base)
    cand_csv = write_predictions(root / "cand.csv", y, cand)
    y[17] = 0
    other = y.copy()
    other[17] = 1
    other_csv = write_predictions(root / "other.csv", other, base)
    empty_store = root / "empty-store"
    empty_store.mkdir()
    (root / "fail.toml").write_text('on_missing_baseline = "fail"\n')
    summary = root / "summary.md"
    summary.write_text("")
    env = {"KFOPS_HOME": str(root / "home"), "GITHUB_STEP_SUMMARY": ""}
    store = ["--store", str(empty_store)]
    scenarios: dict[str, tuple[list[str], dict[str, str]]] = {
        "worse": (["--baseline", base_csv, "--candidate", cand_csv], {}),
        # the same file as both, with --github (one subprocess checks both behaviours)
        "same": (
            ["--baseline", base_csv, "--candidate", base_csv, "--github"],
            {"GITHUB_STEP_SUMMARY": str(summary)},
        ),
        "differ": (["--baseline", base_csv, "--candidate", other_csv], {}),
        "missing": (["--baseline", base_csv, "--candidate", str(root / "nope.csv")], {}),
        "no-baseline": (["--baseline", "main", "--candidate", cand_csv], {}),
        "no-baseline-fail": (
            ["--baseline", "main", "--candidate", cand_csv, "--config", str(root / "fail.toml")],
            {},
        ),
        "param": (["--baseline", base_csv, "--candidate", cand_csv, "--param", "seed=1"], {}),
    }

    def run(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        report_dir = root / f"report-{name}"
        if name == "show":
            return run_kfops("baseline", "show", *store, env=env, cwd=root, timeout=120), report_dir
        args, extra = scenarios[name]
        result = run_kfops(
            "gate",
            *args,
            *store,
            "--report-dir",
            str(report_dir),
            env={**env, **extra},
            cwd=root,
            timeout=120,
        )
        return result, report_dir

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip([*scenarios, "show"], pool.map(run, [*scenarios, "show"]), strict=True))
    results["summary"] = (subprocess.CompletedProcess([], 0, summary.read_text(), ""), summary)
    return results


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def test_cli_much_worse_candidate_exits_1_and_writes_three_reports(cli: dict) -> None:
    result, report_dir = cli["worse"]
    assert result.returncode == 1, output(result)
    assert "❌ FAIL" in result.stdout and "❌ regression" in result.stdout
    assert sorted(p.name for p in report_dir.iterdir()) == ["gate.json", "gate.md", "gate.png"]
    verdict = strict_json((report_dir / "gate.json").read_text())
    assert verdict["verdict"] == "fail" and verdict["exit_code"] == 1  # type: ignore[index]
    assert (report_dir / "gate.png").read_bytes()[:8] == PNG_MAGIC
    assert (report_dir / "gate.md").read_text().rstrip() == result.stdout.rstrip()


def test_cli_same_file_as_both_passes(cli: dict) -> None:
    result, report_dir = cli["same"]
    assert result.returncode == 0, output(result)
    assert "✅ PASS" in result.stdout and "FAIL" not in result.stdout
    data = strict_json((report_dir / "gate.json").read_text())
    assert data["verdict"] == "pass" and data["exit_code"] == 0  # type: ignore[index]
    accuracy = data["metrics"][0]["decision"]  # type: ignore[index]
    assert accuracy["delta"] == 0.0 and accuracy["regressed"] is False


def test_cli_different_true_labels_exit_2_with_one_error_line(cli: dict) -> None:
    result, report_dir = cli["differ"]
    assert result.returncode == 2, output(result)
    assert result.stderr.splitlines() == [
        "error: evaluation sets differ: example 17 has y_true '0' in the baseline and '1' in the candidate"
    ]
    assert "Traceback" not in result.stderr + result.stdout
    assert not report_dir.exists()


def test_cli_missing_candidate_file_exits_2(cli: dict) -> None:
    result, _ = cli["missing"]
    assert result.returncode == 2, output(result)
    assert result.stderr.startswith("error: cannot read predictions") and "nope.csv" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_cli_github_writes_step_summary_and_prints_marked_comment(cli: dict) -> None:
    result, report_dir = cli["same"]  # run with --github
    assert result.stdout.startswith(MARKER + "\n")
    markdown = (report_dir / "gate.md").read_text()
    summary, _ = cli["summary"]
    assert summary.stdout == markdown
    assert markdown.startswith("## kfops performance gate")
    assert result.stdout.rstrip() == (MARKER + "\n" + markdown).rstrip()
    assert (report_dir / "comment.md").read_text() == MARKER + "\n" + markdown


def test_cli_branch_baseline_missing_passes_with_warning(cli: dict) -> None:
    result, report_dir = cli["no-baseline"]
    assert result.returncode == 0, output(result)
    assert "No baseline for pipeline 'training' on branch 'main'" in result.stdout
    assert "PASS (no baseline)" in result.stdout
    assert strict_json((report_dir / "gate.json").read_text())["verdict"] == "no-baseline"  # type: ignore[index]


def test_cli_branch_baseline_missing_fails_when_configured(cli: dict) -> None:
    result, report_dir = cli["no-baseline-fail"]
    assert result.returncode == 1, output(result)
    assert "❌ FAIL" in result.stdout and "PASS" not in result.stdout
    assert "No baseline for pipeline 'training' on branch 'main'" in result.stdout
    assert "the gate fails (on_missing_baseline)" in result.stdout
    data = strict_json((report_dir / "gate.json").read_text())
    assert data["exit_code"] == 1 and data["metrics"] == []  # type: ignore[index]


def test_cli_param_without_run_exits_2(cli: dict) -> None:
    result, report_dir = cli["param"]
    assert result.returncode == 2, output(result)
    assert result.stderr.strip() == "error: --param only applies with --run"
    assert not report_dir.exists()


def test_cli_baseline_show_on_empty_store_says_no_baseline(cli: dict) -> None:
    result, _ = cli["show"]
    assert result.returncode == 0, output(result)
    assert result.stdout.strip() == "no baseline for pipeline 'training' on branch 'main'"
