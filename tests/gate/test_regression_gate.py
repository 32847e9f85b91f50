"""The gate on regressors: paired RMSE, MAE and R² tests, plain prediction files, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from components.shared.errors import InputError
from components.shared.gate_stats.paired import PairedTest
from components.shared.gate_stats.regression import mae_test, r2_test, rmse_test
from kfops.gate import decide
from tests.conftest import run_kfops


def predictions(n: int, ratio: float, seed: int, rho: float = 0.5) -> tuple[np.ndarray, ...]:
    """The benchmark's generator: y ~ N(0, 1), predictions y + e with corr(e_b, e_c) = rho."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n)
    e_b = rng.standard_normal(n)
    e_c = rho * e_b + math.sqrt(1 - rho**2) * rng.standard_normal(n)
    return y, y + e_b, y + ratio * e_c


def test_rmse_values_interval_and_p_value_follow_the_delta_method() -> None:
    y, base, cand = predictions(500, 1.2, seed=1)
    d = decide(y, base, cand, metric="rmse", alpha=0.05)
    sq_b, sq_c = (base - y) ** 2, (cand - y) ** 2
    rmse_b, rmse_c = math.sqrt(sq_b.mean()), math.sqrt(sq_c.mean())
    assert (d.baseline, d.candidate) == pytest.approx((rmse_b, rmse_c))
    assert d.delta == pytest.approx(rmse_c - rmse_b)
    influence = (sq_c - sq_c.mean()) / (2 * rmse_c) - (sq_b - sq_b.mean()) / (2 * rmse_b)
    se = influence.std(ddof=1) / math.sqrt(500)
    assert d.p_value == pytest.approx(st.norm.sf(d.delta / se))
    assert d.ci == pytest.approx((d.delta - 1.6448536 * se, d.delta + 1.6448536 * se))
    assert d.mde == pytest.approx((1.6448536 + 0.8416212) * se)
    assert not d.higher_is_better and d.regressed  # 20% worse on 500 examples is shown


def test_mae_is_the_paired_test_of_absolute_errors() -> None:
    y, base, cand = predictions(400, 1.0, seed=2)
    d = decide(y, base, cand, metric="mae", tolerance=0.01)
    diff = np.abs(cand - y) - np.abs(base - y)
    t = (diff.mean() - 0.01) / (diff.std(ddof=1) / math.sqrt(400))
    assert d.p_value == pytest.approx(st.norm.sf(t))
    assert d.delta == pytest.approx(diff.mean())


def test_r2_moves_opposite_to_mse_on_a_shared_target() -> None:
    y, base, cand = predictions(300, 1.1, seed=3)
    d = decide(y, base, cand, metric="r2")
    spread = ((y - y.mean()) ** 2).mean()
    assert d.baseline == pytest.approx(1 - ((base - y) ** 2).mean() / spread)
    assert d.delta == pytest.approx(-(((cand - y) ** 2).mean() - ((base - y) ** 2).mean()) / spread)
    assert d.higher_is_better


@pytest.mark.parametrize("metric", ["rmse", "mae", "r2"])
def test_identical_predictions_never_regress_and_a_much_worse_model_always_does(metric: str) -> None:
    y, base, _ = predictions(200, 1.0, seed=4)
    same = decide(y, base, base.copy(), metric=metric)
    assert not same.regressed and same.delta == 0.0 and same.p_value == 1.0 and math.isnan(same.mde)
    _, _, much_worse = predictions(200, 2.0, seed=4)
    assert decide(y, base, much_worse, metric=metric).regressed
    better = decide(y, much_worse, base, metric=metric)
    assert not better.regressed and better.p_value > 0.99


def test_a_worsening_within_the_tolerance_passes() -> None:
    y, base, cand = predictions(20_000, 1.02, seed=5)
    observed = decide(y, base, cand, metric="rmse")
    assert observed.regressed  # 2% worse on 20,000 examples is shown ...
    assert not decide(y, base, cand, metric="rmse", tolerance=0.05).regressed  # ... but within 0.05


def test_perfect_models_are_compared_without_dividing_by_zero() -> None:
    y = np.linspace(0, 1, 50)
    assert not decide(y, y, y.copy(), metric="rmse").regressed
    assert decide(y, y, y + np.r_[np.zeros(40), np.ones(10)], metric="rmse").regressed


def test_a_perfect_baseline_keeps_the_candidates_variation() -> None:
    # A perfect model contributes no influence (not 0/0): the interval is the candidate's alone.
    y = np.linspace(0, 1, 50)
    cand = y + np.r_[np.zeros(40), np.ones(10)]
    d = rmse_test(y, y, cand, tolerance=0.0, alpha=0.05)
    sq = (cand - y) ** 2
    se = ((sq - sq.mean()) / (2 * math.sqrt(sq.mean()))).std(ddof=1) / math.sqrt(50)
    assert d.ci == pytest.approx((d.delta - 1.6448536 * se, d.delta + 1.6448536 * se))
    assert d.p_value == pytest.approx(st.norm.sf(d.delta / se))


def test_r2_interval_is_the_squared_error_differences_over_the_spread() -> None:
    y, base, cand = predictions(300, 1.1, seed=3)
    d = decide(y, base, cand, metric="r2")
    spread = ((y - y.mean()) ** 2).mean()
    se = ((cand - y) ** 2 - (base - y) ** 2).std(ddof=1) / math.sqrt(300) / spread
    assert d.ci == pytest.approx((d.delta - 1.6448536 * se, d.delta + 1.6448536 * se))
    assert d.p_value == pytest.approx(st.norm.cdf(d.delta / se))


def test_r2_of_a_constant_target_is_zero_for_both_with_no_spread_to_test() -> None:
    y = np.full(40, 3.0)
    d = r2_test(y, y + 0.5, y - 2.0, tolerance=0.0, alpha=0.05)
    assert (d.baseline, d.candidate, d.delta) == (0.0, 0.0, 0.0)
    assert d.ci == (0.0, 0.0) and d.p_value == 1.0 and math.isnan(d.mde)


@pytest.mark.parametrize("test", [rmse_test, mae_test, r2_test])
def test_one_example_has_no_variation_and_two_do(test: Callable[..., PairedTest]) -> None:
    y, base, cand = np.array([0.0, 1.0]), np.array([0.5, 1.0]), np.array([1.0, 3.0])
    one = test(y[:1], base[:1], cand[:1], tolerance=0.0, alpha=0.05)
    assert one.ci == (one.delta, one.delta) and math.isnan(one.mde)  # a standard error of 0, not NaN
    two = test(y, base, cand, tolerance=0.0, alpha=0.05)
    assert two.ci[1] - two.ci[0] > 0 and math.isfinite(two.mde)


@pytest.mark.parametrize(
    ("pred", "message"),
    [(["a"] * 3, "must be numbers"), ([1.0, float("nan"), 2.0], "missing or infinite")],
)
def test_regression_metrics_need_numbers(pred: list[object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        decide([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], pred, metric="rmse")


# --- kfops gate on prediction files -----------------------------------------------------------------


def write(path: Path, y: np.ndarray, pred: np.ndarray) -> str:
    pd.DataFrame({"id": range(len(y)), "y_true": y, "y_pred": pred}).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    root = tmp_path_factory.mktemp("regression-gate")
    y, base, cand = predictions(800, 1.5, seed=6)
    files = {
        "base": write(root / "base.csv", y, base),
        "cand": write(root / "cand.csv", y, cand),
        "classes": write(root / "classes.csv", (y > 0).astype(int), (base > 0).astype(int)),
    }
    scenarios = {
        "worse": ["--baseline", files["base"], "--candidate", files["cand"]],
        "same": ["--baseline", files["base"], "--candidate", files["base"]],
        "mixed": ["--baseline", files["classes"], "--candidate", files["cand"]],
    }

    def run(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        report = root / f"report-{name}"
        result = run_kfops(
            "gate", *scenarios[name], "--report-dir", str(report), env={"KFOPS_HOME": str(root)}, cwd=root
        )
        return result, report

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(scenarios, pool.map(run, scenarios), strict=True))


def test_cli_gates_rmse_of_regression_predictions(cli: dict) -> None:
    result, report = cli["worse"]
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = json.loads((report / "gate.json").read_text())
    assert [m["metric"] for m in verdict["metrics"]] == ["rmse", "mae", "r2"]  # no classification metric
    assert verdict["metrics"][0]["gated"] and verdict["metrics"][0]["failed"]
    assert verdict["per_class_recall"] == {}
    assert "a true rise of" in result.stdout  # RMSE: lower is better


def test_cli_passes_the_same_regression_predictions(cli: dict) -> None:
    result, _ = cli["same"]
    assert result.returncode == 0 and "✅ PASS" in result.stdout, result.stdout + result.stderr


def test_cli_refuses_to_compare_a_classifier_with_a_regressor(cli: dict) -> None:
    result, _ = cli["mixed"]
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: evaluation sets differ"), result.stderr


def test_a_classifier_record_and_a_regressor_record_are_not_compared() -> None:
    from kfops.gate.config import parse_config
    from kfops.gate.records import Predictions
    from kfops.gate.run import compare

    y = np.array([0.0, 1.0, 2.0])
    base = Predictions("b", y, y, None, [], task="classification")
    cand = Predictions("c", y, y, None, [], task="regression")
    with pytest.raises(InputError, match="baseline is a classification model and the candidate a regression"):
        compare(base, cand, parse_config({}, "defaults"))
    assert [m.rule.name for m in compare(cand, cand, parse_config({}, "defaults"))] == ["rmse", "mae", "r2"]
