from __future__ import annotations

import dataclasses
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.errors import ParamsError
from simkit.simulate import (
    BudgetPlan,
    CompetitionFactor,
    DeliveryModel,
    simulate,
    simulate_paths,
    summarise,
)
from simkit.simulate.summary import QUANTILES, partition_scenarios, quantile_summary

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


def test_scenarios_partition_the_paths_with_representative_paths(paths):
    result = summarise(paths, outcome="conversions")
    totals = paths.totals()
    conv = totals["conversions"]
    names = [s.name for s in result.scenarios]
    assert names == ["pessimistic", "realistic", "optimistic"]
    assert sum(s.probability for s in result.scenarios) == 1.0
    assert sum(s.n_paths for s in result.scenarios) == paths.n_paths
    pess, real, opt = result.scenarios
    assert pess.probability == pytest.approx(0.2, abs=0.01)
    assert real.probability == pytest.approx(0.6, abs=0.01)
    assert opt.probability == pytest.approx(0.2, abs=0.01)
    assert pess.value < real.value < opt.value
    for s in result.scenarios:
        inside = (
            (conv < s.high)
            if s.low is None
            else (conv > s.low)
            if s.high is None
            else ((conv >= s.low) & (conv <= s.high))
        )
        assert inside.sum() == s.n_paths
        mean = {m: totals[m][inside].mean() for m in ("spend", "conversions", "revenue")}
        assert s.mean_totals["conversions"] == pytest.approx(mean["conversions"])
        assert s.mean_totals["cpa"] == pytest.approx(mean["spend"] / mean["conversions"])
        assert s.mean_totals["roas"] == pytest.approx(mean["revenue"] / mean["spend"])
        # the representative path is inside the block and nearest its conditional median
        assert inside[s.path_index]
        assert abs(conv[s.path_index] - s.median) == pytest.approx(
            np.abs(conv[inside] - s.median).min()
        )
        assert s.daily["conversions"].sum() == pytest.approx(s.totals["conversions"])
        assert s.totals["cpa"] == pytest.approx(s.totals["spend"] / s.totals["conversions"])


def _hand_totals(conversions, spend=None, revenue=None):
    conversions = np.asarray(conversions, dtype=float)
    spend = np.full(conversions.size, 10.0) if spend is None else np.asarray(spend, float)
    revenue = 2 * spend if revenue is None else np.asarray(revenue, float)
    out = {
        "spend": spend,
        "impressions": 100 * spend,
        "clicks": spend,
        "conversions": conversions,
        "revenue": revenue,
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cpa"] = spend / conversions
        out["roas"] = revenue / spend
    return out


def test_scenarios_exact_on_hand_built_paths():
    # ten paths; conversions 0..9 in a shuffled order, spend rising with the index
    conv = [5, 0, 9, 3, 7, 1, 8, 2, 6, 4]
    spend = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    pess, real, opt = partition_scenarios(_hand_totals(conv, spend), "conversions")
    # p20 cut: the 3rd smallest (2); p80 cut: the 8th smallest (7)
    assert (pess.low, pess.high, real.low, real.high, opt.low, opt.high) == (
        None,
        2.0,
        2.0,
        7.0,
        7.0,
        None,
    )
    assert [pess.n_paths, real.n_paths, opt.n_paths] == [2, 6, 2]
    assert [pess.probability, real.probability, opt.probability] == [0.2, 0.6, 0.2]
    # pessimistic: conversions 0 (index 1, spend 11) and 1 (index 5, spend 15)
    assert pess.mean_totals["conversions"] == 0.5
    assert pess.mean_totals["spend"] == 13.0
    assert pess.mean_totals["cpa"] == 26.0  # 13 / 0.5: a ratio of the mean totals
    assert pess.mean_totals["roas"] == 2.0
    assert pess.value == 0.5
    assert pess.median == 0.0 and pess.path_index == 1  # lower median of {0, 1}
    # realistic: conversions 2..7 at indices 7, 3, 9, 0, 8, 4
    assert real.mean_totals["conversions"] == 4.5
    assert real.mean_totals["spend"] == pytest.approx((17 + 13 + 19 + 10 + 18 + 14) / 6)
    assert real.median == 4.0 and real.path_index == 9
    assert real.totals["conversions"] == 4.0 and real.totals["spend"] == 19.0
    assert opt.mean_totals["conversions"] == 8.5
    assert opt.median == 8.0 and opt.path_index == 6
    assert opt.probability_of == "conversions > 7"
    assert pess.probability_of == "conversions < 2"


def test_scenarios_ties_at_a_cut_stay_together_and_still_sum_to_one():
    conv = [0, 0, 0, 0, 0, 0, 1, 2, 3, 4]  # 60% of the paths tie at the p20 value
    pess, real, opt = partition_scenarios(_hand_totals(conv), "conversions")
    assert pess.n_paths == 0 and pess.probability == 0.0 and pess.path_index == -1
    assert np.isnan(pess.mean_totals["conversions"])
    assert np.isnan(pess.median) and np.isnan(pess.value)
    assert real.n_paths == 8 and opt.n_paths == 2  # p80 cut: the 8th smallest (2)
    assert pess.probability + real.probability + opt.probability == 1.0
    all_equal = partition_scenarios(_hand_totals([3.0] * 7), "conversions")
    assert [s.n_paths for s in all_equal] == [0, 7, 0]


def test_scenario_cuts_are_configurable_and_checked():
    conv = np.arange(100.0)
    pess, real, opt = partition_scenarios(_hand_totals(conv), "conversions", cuts=(0.1, 0.95))
    assert [pess.n_paths, real.n_paths, opt.n_paths] == [10, 85, 5]
    # with few paths and close cuts, the realistic block still holds a path
    few = partition_scenarios(_hand_totals([5.0, 1.0, 3.0]), "conversions", cuts=(0.25, 0.375))
    assert [s.n_paths for s in few] == [1, 1, 1] and few[1].median == 3.0
    assert (pess.quantile_high, opt.quantile_low) == (0.1, 0.95)
    for bad in ((0.8, 0.2), (0.0, 0.5), (0.5, 1.0), (0.3, 0.3), (0.2,), "ab", (0.1, float("nan"))):
        with pytest.raises(ParamsError, match="field 'scenario_cuts': scenario cut points"):
            partition_scenarios(_hand_totals(conv), "conversions", cuts=bad)


def test_roas_scenarios_rank_zero_spend_paths_worst():
    spend = np.array([0.0, 10, 10, 10, 10, 10, 10, 10, 10, 10])
    revenue = np.array([5.0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    pess, real, opt = partition_scenarios(
        _hand_totals(np.ones(10), spend, revenue), "roas", cuts=(0.2, 0.8)
    )
    assert [pess.n_paths, real.n_paths, opt.n_paths] == [2, 6, 2]
    assert pess.path_index in (0, 1)
    assert pess.mean_totals["roas"] == pytest.approx((5 + 10) / 2 / 5)
    assert opt.mean_totals["revenue"] == (80 + 90) / 2  # the zero-spend path is not best
    assert np.isnan(pess.median)  # its lower median is the path without a ROAS
    assert pess.value <= real.value <= opt.value


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    low=st.floats(0.01, 0.49),
    width=st.floats(0.01, 0.5),
    discrete=st.booleans(),
)
def test_scenarios_partition_property(seed, n, low, width, discrete):
    rng = np.random.default_rng(seed)
    conv = rng.poisson(3.0, n).astype(float) if discrete else rng.gamma(2.0, 50.0, n)
    spend = rng.uniform(50, 150, n)
    totals = _hand_totals(conv, spend, spend * rng.uniform(0.5, 3.0, n))
    cuts = (low, min(low + width, 0.99))
    scenarios = partition_scenarios(totals, "conversions", cuts=cuts)
    assert sum(s.n_paths for s in scenarios) == n
    assert sum(s.probability for s in scenarios) == pytest.approx(1.0, abs=1e-12)
    pess, real, opt = scenarios
    # cut points respected: every path lies in the block its outcome says
    assert np.all(conv[conv < pess.high] < real.low)
    assert np.sum(conv < pess.high) == pess.n_paths
    assert np.sum(conv > opt.low) == opt.n_paths
    assert np.sum((conv >= real.low) & (conv <= real.high)) == real.n_paths
    # at most the cut's share of the paths lie strictly beyond each cut
    assert pess.probability <= round(cuts[0] * n) / n
    assert opt.probability <= (n - round(cuts[1] * n)) / n
    means = [s.mean_totals["conversions"] for s in scenarios if s.n_paths]
    assert all(a <= b for a, b in zip(means, means[1:], strict=False))
    assert real.n_paths > 0


@pytest.mark.parametrize("outcome", ["revenue", "roas"])
def test_other_outcomes(paths, outcome):
    plan_value = float(np.median(paths.totals()[outcome]))
    result = summarise(paths, outcome=outcome, plan_value=plan_value)
    assert result.scenarios[0].outcome == outcome
    assert_bands_count_the_paths(result, paths.totals()[outcome], plan_value)


def assert_bands_count_the_paths(result, outcome_totals: np.ndarray, plan_value: float) -> None:
    """Each band's probability recounted from the paths (+-10% of the plan; a path with no
    outcome, such as a ROAS with no spend, is below plan)."""
    low, high = 0.9 * plan_value, 1.1 * plan_value
    below, on, above = result.bands
    assert (below.name, below.high) == ("below_plan", pytest.approx(low))
    assert (on.name, on.low, on.high) == ("on_plan", pytest.approx(low), pytest.approx(high))
    assert (above.name, above.low) == ("above_plan", pytest.approx(high))
    assert below.probability == np.mean(~(outcome_totals >= low))
    assert on.probability == pytest.approx(
        np.mean((outcome_totals >= low) & (outcome_totals <= high)), abs=1e-12
    )
    assert above.probability == np.mean(outcome_totals > high)
    assert {f"p_{b.name}": b.probability for b in result.bands}.items() <= (
        result.probabilities.items()
    )


def test_goal_probabilities(paths):
    t = paths.totals()
    result = summarise(
        paths, target_cpa=float(np.median(t["cpa"])), target_roas=1e9, goal_conversions=0.0
    )
    p = result.probabilities
    assert p["p_cpa_le_target"] == pytest.approx(0.5, abs=0.02)
    assert p["p_roas_ge_target"] == 0.0
    assert p["p_conversions_ge_goal"] == 1.0
    # paced evenly, no path reaches the 20,000 total, so none runs out
    assert t["spend"].max() < 20000.0 and p["p_budget_exhausted"] == 0.0


def test_budget_exhaustion_counts_paths_that_hit_the_total_before_the_last_day():
    tight = simulate_paths(
        make_forecast(),
        BudgetPlan(daily=np.full(28, 714.29), total=19000.0),
        2000,
        np.random.default_rng(1),
    )
    cumulative = np.cumsum(tight.spend.astype(float), axis=0)
    ran_out = (cumulative[:-1] >= 19000.0 * (1 - 1e-5)).any(axis=0)
    p = summarise(tight).probabilities["p_budget_exhausted"]
    assert 0.5 < p < 0.95  # the total binds on some paths only
    assert p == pytest.approx(np.mean(ran_out), abs=0.002)  # float32 sums: a path or two


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
def test_bands_are_counts_of_paths(plan_value, seed):
    fc = make_forecast(horizon_days=7)
    plan = BudgetPlan.from_daily(500.0, 7)
    result = simulate(fc, plan, 200, np.random.default_rng(seed), plan_value=plan_value)
    paths = simulate_paths(fc, plan, 200, np.random.default_rng(seed))  # the same paths
    assert_bands_count_the_paths(result, paths.totals()["conversions"], plan_value)


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


def _as_json(value):
    """What the JSON of a value must be: numbers as numbers, non-finite ones as ``null``,
    dates as ISO strings, arrays and tuples as lists, frames as records (days as dates)."""
    if isinstance(value, pd.DataFrame):
        frame = value.copy()
        if "date" in frame:
            frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
        return [_as_json(row) for row in frame.to_dict(orient="records")]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return [_as_json(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()
    assert value is None or isinstance(value, str), type(value)
    return value


def test_json_carries_every_field_with_non_finite_numbers_as_null():
    # a small campaign: many paths convert nothing (an infinite CPA), and a total below
    # the daily budgets runs out on most paths (a median exhaustion date in the budget)
    delivery = DeliveryModel(0.9, 0.05)
    paths = simulate_paths(
        make_forecast(spend=20.0, cvr=0.002),
        BudgetPlan(daily=np.full(28, 20.0), total=420.0),
        400,
        np.random.default_rng(3),
        delivery=delivery,
        factors=[CompetitionFactor(inflation=0.1, start=date(2026, 3, 9))],
    )
    result = summarise(
        paths,
        plan_value=3.0,
        plan_source="goal",
        target_cpa=50.0,
        target_roas=2.0,
        goal_conversions=2.0,
        as_of=date(2026, 3, 1),
        seed=3,
        extra={"note": "hand-made", "weights": np.array([0.5, np.inf])},
    )
    assert np.isinf(result.totals["cpa"]["p95"])  # the case under test: non-finite values
    back = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    expected = {
        "campaign_id": "C1",
        "as_of": "2026-03-01",
        "start": "2026-03-02",
        "end": "2026-03-29",
        "horizon_days": 28,
        "paths": 400,
        "seed": 3,
        "outcome": "conversions",
        "plan_value": 3.0,
        "plan_source": "goal",
        "targets": {"target_cpa": 50.0, "target_roas": 2.0, "goal_conversions": 2.0},
        "budget": _as_json(result.budget),
        "factors": [
            {"kind": "competition", "inflation": 0.1, "inflation_sd": 0.0, "start": "2026-03-09"}
        ],
        "totals": _as_json(result.totals),
        "scenarios": [
            {f.name: _as_json(getattr(s, f.name)) for f in dataclasses.fields(s)}
            for s in result.scenarios
        ],
        "bands": [
            {f.name: _as_json(getattr(b, f.name)) for f in dataclasses.fields(b)}
            for b in result.bands
        ],
        "probabilities": _as_json(result.probabilities),
        "daily": _as_json(result.daily),
        "note": "hand-made",
        "weights": [0.5, None],
    }
    assert back == expected
    budget = back["budget"]
    assert (budget["kind"], budget["total"], budget["daily"]) == (
        paths.plan.kind,
        420.0,
        [20.0] * 28,
    )
    assert {k: budget[k] for k in delivery.to_dict()} == delivery.to_dict()
    assert budget["median_exhaustion_date"].startswith("2026-03-")
    assert [s["n_paths"] for s in back["scenarios"]] == [s.n_paths for s in result.scenarios]
    assert sum(s["n_paths"] for s in back["scenarios"]) == 400


def _reference_quantiles(values, ratio):
    """NumPy's quantiles: linear interpolation for counts, the inverse CDF for ratios with
    0/0 ranked as infinite; means over the finite ratios."""
    values = np.asarray(values, dtype=np.float64)
    if not ratio:
        return values.mean(axis=-1), np.quantile(values, list(QUANTILES.values()), axis=-1)
    values = np.where(np.isnan(values), np.inf, values)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):  # no finite value: the mean is nan
        mean = np.where(finite, values, 0).sum(axis=-1) / finite.sum(axis=-1)
    return mean, np.quantile(values, list(QUANTILES.values()), axis=-1, method="inverted_cdf")


@pytest.mark.parametrize("n", [1, 2, 7, 20, 101])
def test_quantile_summary_is_numpys_quantiles_along_the_axis(n):
    rng = np.random.default_rng(n)
    counts = rng.poisson(30.0, (3, n)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):  # inf and nan among the ratios
        ratios = rng.poisson(2.0, (3, n)) * 5.0 / rng.poisson(2.0, (3, n))
    for values, ratio in ((counts, False), (ratios, True)):
        for axis in (1, 0):
            data = values if axis == 1 else values.T
            got = quantile_summary(data, axis=axis, ratio=ratio)
            mean, quantiles = _reference_quantiles(values, ratio)
            assert np.allclose(got["mean"], mean, equal_nan=True)
            for name, expected in zip(QUANTILES, quantiles, strict=True):
                assert np.array_equal(got[name], expected), (name, ratio, axis)
    assert quantile_summary(counts[0])["p50"] == np.median(counts[0])  # counts by default


def test_ratio_summary_of_no_finite_value_is_infinite_without_warnings():
    s = quantile_summary(np.array([np.inf, np.nan, np.inf]), ratio=True)
    assert np.isnan(s["mean"]) and all(s[q] == np.inf for q in QUANTILES)


def test_daily_and_total_summaries_are_the_quantiles_of_the_paths(paths):
    result = summarise(paths)
    totals = paths.totals()
    for metric, ratio in (("conversions", False), ("spend", False), ("cpa", True), ("ctr", True)):
        mean, quantiles = _reference_quantiles(totals[metric], ratio)
        assert result.totals[metric]["mean"] == pytest.approx(mean, rel=1e-12)
        assert [result.totals[metric][q] for q in QUANTILES] == pytest.approx(quantiles, rel=1e-12)
        daily = result.daily[result.daily["metric"] == metric]
        mean, quantiles = _reference_quantiles(paths.metric(metric), ratio)
        assert np.allclose(daily["mean"], mean)
        assert np.array_equal(daily[list(QUANTILES)].to_numpy(), quantiles.T.astype(np.float64))


def test_bands_and_goal_probabilities_include_their_boundaries(paths):
    totals = paths.totals()
    conv = totals["conversions"]
    # conversion totals are whole numbers: 855 and 1,045 (plan 950 -+ 10%) are hit
    assert (conv == 950 * 0.9).any() and (conv == 950 * 1.1).any()
    result = summarise(
        paths,
        plan_value=950.0,
        target_cpa=float(totals["cpa"][0]),
        target_roas=float(totals["roas"][0]),
        goal_conversions=float(conv[0]),
    )
    assert_bands_count_the_paths(result, conv, 950.0)
    p = result.probabilities
    assert p["p_cpa_le_target"] == np.mean(totals["cpa"] <= totals["cpa"][0])
    assert p["p_roas_ge_target"] == np.mean(totals["roas"] >= totals["roas"][0])
    assert p["p_conversions_ge_goal"] == np.mean(conv >= conv[0])


def test_a_path_without_spend_is_below_any_roas_plan(paths):
    spend, revenue = paths.spend.copy(), paths.revenue.copy()
    spend[:, :300] = 0.0
    revenue[:, :300] = 0.0
    idle = dataclasses.replace(paths, spend=spend, revenue=revenue)
    roas = idle.totals()["roas"]
    assert np.isnan(roas[:300]).all()
    plan_value = float(np.median(roas[300:]))
    result = summarise(idle, outcome="roas", plan_value=plan_value)
    assert_bands_count_the_paths(result, roas, plan_value)
    assert result.bands[0].probability >= 0.1


def test_summarise_uses_the_scenario_cuts_it_is_given(paths):
    pess, real, opt = summarise(paths, scenario_cuts=(0.1, 0.7)).scenarios
    assert (pess.quantile_high, opt.quantile_low) == (0.1, 0.7)
    assert pess.probability == pytest.approx(0.1, abs=0.01)
    assert opt.probability == pytest.approx(0.3, abs=0.01)


def test_scenarios_with_few_paths_and_odd_blocks():
    # one path: always realistic; two paths with the low cut at 0.5: one below it
    one = partition_scenarios(_hand_totals([4.0]), cuts=(0.6, 0.9))  # conversions by default
    assert [s.n_paths for s in one] == [0, 1, 0] and one[1].median == 4.0
    two = partition_scenarios(_hand_totals([3.0, 1.0]), "conversions", cuts=(0.5, 0.9))
    assert [s.n_paths for s in two] == [1, 1, 0] and two[0].path_index == 1
    # with 2 paths, round(0.2 x 2) = 0 paths lie below the low cut
    assert [s.n_paths for s in partition_scenarios(_hand_totals([3.0, 1.0]))] == [0, 2, 0]
    # odd blocks: the median is the middle path
    pess, real, opt = partition_scenarios(_hand_totals(np.arange(10.0)), cuts=(0.3, 0.9))
    assert (pess.n_paths, pess.median, pess.path_index) == (3, 1.0, 1)
    assert (real.n_paths, real.median, real.path_index) == (6, 5.0, 5)
    assert (pess.quantile_low, real.quantile_low, real.quantile_high, opt.quantile_high) == (
        0.0,
        0.3,
        0.9,
        1.0,
    )
    assert real.probability_of == "3 <= conversions <= 8"


def test_scenario_ratios_of_zero_denominators_and_path_ratios():
    # the two worst paths convert nothing: with no spend their CPA is 0/0 (nan), with a
    # spend x/0 (inf)
    conv = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    spend = [0, 0, 10, 10, 10, 10, 10, 10, 10, 10]
    pess, real, _ = partition_scenarios(_hand_totals(conv, spend), "conversions")
    assert pess.n_paths == 2 and np.isnan(pess.mean_totals["cpa"])
    assert np.isnan(pess.mean_totals["ctr"])  # no impressions either
    pess = partition_scenarios(_hand_totals(conv), "conversions")[0]
    assert pess.n_paths == 2 and pess.mean_totals["cpa"] == np.inf
    # the representative path's own ratios, from its counts
    i = real.path_index
    assert real.totals["ctr"] == pytest.approx(spend[i] / (100 * spend[i]))
    assert real.totals["cvr"] == pytest.approx(conv[i] / spend[i])
    assert real.totals["cpm"] == pytest.approx(1000 * spend[i] / (100 * spend[i]))


def test_scenarios_need_the_count_totals():
    with pytest.raises(ParamsError, match=r"field 'totals'.*lack \['spend'"):
        partition_scenarios({"conversions": np.arange(5.0)}, "conversions")
