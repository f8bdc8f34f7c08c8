from __future__ import annotations

import numpy as np
import pytest

from simkit.simulate import BudgetPlan, CompetitionFactor, simulate_pair, simulate_paths, what_if

from .conftest import make_forecast


def test_identical_pivot_gives_zero_delta():
    fc = make_forecast()
    plan = BudgetPlan.from_daily(800.0, 28)
    base, pivot = simulate_pair(fc, 500, np.random.default_rng(1), baseline_plan=plan)
    assert np.array_equal(base.conversions, pivot.conversions)


def test_common_random_numbers_make_the_delta_tight():
    fc = make_forecast(scale=0.15)
    plan = BudgetPlan.from_daily(800.0, 28)
    pivot = plan.scaled(1.2)
    result = what_if(fc, 3000, np.random.default_rng(2), baseline_plan=plan, pivot_plan=pivot)
    d = result.delta["conversions"]
    crn_width = d["p90"] - d["p10"]
    independent = (
        simulate_paths(fc, pivot, 3000, np.random.default_rng(3)).totals()["conversions"]
        - simulate_paths(fc, plan, 3000, np.random.default_rng(4)).totals()["conversions"]
    )
    indep_width = np.quantile(independent, 0.9) - np.quantile(independent, 0.1)
    assert crn_width < 0.3 * indep_width
    assert d["mean"] == pytest.approx(np.mean(independent), rel=0.15)
    assert result.probabilities["p_outcome_improves"] > 0.95


def test_factor_what_if_shares_draws_and_moves_cpm():
    fc = make_forecast()
    plan = BudgetPlan.from_daily(800.0, 28)
    weak = CompetitionFactor(inflation=0.1, inflation_sd=0.05)
    strong = CompetitionFactor(inflation=0.3, inflation_sd=0.05)
    base, pivot = simulate_pair(
        fc,
        1000,
        np.random.default_rng(5),
        baseline_plan=plan,
        baseline_factors=[weak],
        pivot_factors=[strong],
    )
    ratio = pivot.totals()["cpm"] / base.totals()["cpm"]
    assert np.all(ratio > 1.0)
    assert np.median(ratio) == pytest.approx(1.3 / 1.1, rel=0.02)
    assert np.array_equal(base.spend, pivot.spend)


def test_what_if_to_dict_roundtrips():
    import json

    fc = make_forecast(horizon_days=7)
    plan = BudgetPlan.from_daily(800.0, 7)
    result = what_if(
        fc, 300, np.random.default_rng(1), baseline_plan=plan, pivot_plan=plan.scaled(0.5)
    )
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["delta"]["spend"]["p50"] < 0
