from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.simulate import BudgetPlan, simulate, simulate_paths, summarise
from simkit.simulate.summary import QUANTILES, quantile_summary

from .conftest import make_forecast


@pytest.fixture(scope="module")
def paths():
    fc = make_forecast()
    return simulate_paths(fc, BudgetPlan.from_total(20000.0, 28), 3000, np.random.default_rng(9))


def test_daily_quantiles_are_monotone_and_cover_all_metrics(paths):
    result = summarise(paths)
    daily = result.daily
    assert set(daily["metric"]) >= {
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "revenue",
        "ctr",
        "cpc",
        "cpa",
        "roas",
    }
    q = daily[list(QUANTILES)].to_numpy()
    assert np.all(np.diff(q, axis=1) >= -1e-9)
    assert len(daily) == 28 * daily["metric"].nunique()


def test_scenarios_are_real_paths_at_the_quantiles(paths):
    result = summarise(paths, outcome="conversions")
    totals = paths.totals()["conversions"]
    names = [s.name for s in result.scenarios]
    assert names == ["pessimistic", "realistic", "optimistic"]
    values = [s.value for s in result.scenarios]
    assert values[0] <= values[1] <= values[2]
    for s in result.scenarios:
        assert totals[s.path_index] == pytest.approx(
            s.value, abs=np.abs(totals - s.value).min() + 1e-9
        )
        assert s.daily["conversions"].sum() == pytest.approx(s.totals["conversions"])
        assert s.totals["cpa"] == pytest.approx(s.totals["spend"] / s.totals["conversions"])
    assert result.scenarios[0].probability == pytest.approx(0.10, abs=0.01)
    assert result.scenarios[2].probability == pytest.approx(0.10, abs=0.01)


@pytest.mark.parametrize("outcome", ["revenue", "roas"])
def test_other_outcomes(paths, outcome):
    result = summarise(paths, outcome=outcome, plan_value=float(np.median(paths.totals()[outcome])))
    assert result.scenarios[0].outcome == outcome
    assert sum(b.probability for b in result.bands) == pytest.approx(1.0)


def test_goal_probabilities(paths):
    t = paths.totals()
    result = summarise(
        paths, target_cpa=float(np.median(t["cpa"])), target_roas=1e9, goal_conversions=0.0
    )
    p = result.probabilities
    assert p["p_cpa_le_target"] == pytest.approx(0.5, abs=0.02)
    assert p["p_roas_ge_target"] == 0.0
    assert p["p_conversions_ge_goal"] == 1.0
    assert 0.0 <= p["p_budget_exhausted"] <= 1.0


def test_json_is_strict_and_has_the_issue_keys(paths):
    payload = summarise(paths, plan_value=1.0, seed=9).to_dict()
    text = json.dumps(payload, allow_nan=False)
    back = json.loads(text)
    for key in (
        "campaign_id",
        "as_of",
        "horizon_days",
        "paths",
        "seed",
        "daily",
        "totals",
        "scenarios",
        "probabilities",
    ):
        assert key in back
    assert {"date", "metric", "p10", "p50", "p90", "mean"} <= set(back["daily"][0])
    for metric in ("spend", "impressions", "clicks", "conversions", "revenue", "cpa", "roas"):
        assert {"p10", "p50", "p90", "mean"} <= set(back["totals"][metric])
    assert {"name", "probability", "totals"} <= set(back["scenarios"][0])


@settings(max_examples=25, deadline=None)
@given(
    plan_value=st.floats(1.0, 5000.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_bands_sum_to_one(plan_value, seed):
    fc = make_forecast(horizon_days=7)
    result = simulate(
        fc, BudgetPlan.from_daily(500.0, 7), 200, np.random.default_rng(seed), plan_value=plan_value
    )
    probs = [b.probability for b in result.bands]
    assert all(0 <= p <= 1 for p in probs)
    assert sum(probs) == pytest.approx(1.0)
    assert sum(result.probabilities[f"p_{b.name}"] for b in result.bands) == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50))
def test_quantile_summary_monotone(values):
    s = quantile_summary(np.array(values))
    q = [s[k] for k in QUANTILES]
    assert all(b >= a - 1e-6 * max(1, abs(a)) for a, b in zip(q, q[1:], strict=False))


def test_ratio_quantiles_tolerate_zero_denominators():
    s = quantile_summary(np.array([1.0, 2.0, np.inf, np.nan]), ratio=True)
    assert s["p5"] == 1.0
    assert s["mean"] == pytest.approx(1.5)
