from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.errors import ParamsError
from simkit.pivots import optimize_budget, water_fill
from simkit.pivots.optimize import portfolio_draws


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 1e4), st.floats(0.0, 1e4), st.floats(0.05, 0.95), st.floats(0.1, 1e3)
        ),
        min_size=1,
        max_size=12,
    ),
    st.floats(0.0, 1.0),
)
def test_water_fill_never_exceeds_the_total_and_equalises_marginals(items, share):
    grids, margs = [], []
    for lo, width, a, k in items:
        g = np.linspace(lo, lo + width, 513)
        grids.append(g)
        margs.append(k * a * np.maximum(g, 1e-9) ** (a - 1))  # d/dx of k x^a: concave
    lower = sum(g[0] for g in grids)
    upper = sum(g[-1] for g in grids)
    total = lower + share * (upper - lower)
    x, lam = water_fill(grids, margs, total)
    assert math.fsum(x) <= total
    assert sum(x.tolist()) <= total and float(np.sum(x)) <= total
    for xi, g in zip(x, grids, strict=True):
        # bounds hold up to 1e-11 relative: when the total equals the lower bounds up to
        # rounding, the total wins
        assert g[0] * (1 - 1e-11) - 1e-12 <= xi <= g[-1] * (1 + 1e-11) + 1e-12
    if share < 1.0 and upper - lower > 1e-6:
        assert math.fsum(x) >= total - 1e-6 * max(total, 1.0)


def test_water_fill_matches_a_brute_force_optimum():
    rng = np.random.default_rng(0)
    k = rng.uniform(1, 5, 3)
    a = rng.uniform(0.3, 0.8, 3)
    grids = [np.linspace(10, 200, 2001) for _ in range(3)]
    margs = [k[i] * a[i] * grids[i] ** (a[i] - 1) for i in range(3)]
    x, _ = water_fill(grids, margs, 300.0)
    value = float(np.sum(k * x**a))
    x0, x1 = np.meshgrid(np.linspace(10, 200, 400), np.linspace(10, 200, 400))
    x2 = 300.0 - x0 - x1
    ok = (x2 >= 10) & (x2 <= 200)
    brute = k[0] * x0 ** a[0] + k[1] * x1 ** a[1] + k[2] * np.where(ok, x2, 10.0) ** a[2]
    best = float(brute[ok].max())
    assert value >= best - 1e-6 * best


@settings(max_examples=10, deadline=None)
@given(st.floats(0.6, 1.4), st.floats(0.05, 1.0), st.sampled_from(["conversions", "revenue"]))
def test_allocation_respects_total_and_bounds(portfolio, factor, max_change, objective):
    today = sum(portfolio.today.values())
    total = today * factor
    lower_sum = sum(v * (1 - max_change) for v in portfolio.today.values())
    if total < lower_sum:
        with pytest.raises(ParamsError, match="below the sum of the lower bounds"):
            optimize_budget(portfolio, total_budget=total, max_change=max_change)
        return
    res = optimize_budget(portfolio, total_budget=total, max_change=max_change, objective=objective)
    assert sum(res.allocation.values()) <= total
    for k in portfolio.keys:
        assert res.lower[k] - 1e-9 <= res.allocation[k] <= res.upper[k] + 1e-9
        assert res.upper[k] <= portfolio.today[k] * (1 + max_change) + 1e-9
    # never worse than the status quo in expectation under the fitted curves
    a = portfolio_draws(portfolio, res.allocation)[objective].mean()
    s = portfolio_draws(portfolio, res.status_quo)[objective].mean()
    assert a >= s - 1e-9 * abs(s)


def test_result_explains_itself(portfolio):
    res = optimize_budget(portfolio)
    mcpa = [res.marginal[k]["marginal_cpa"] for k in portfolio.keys]
    interior = [
        res.marginal[k]["marginal_cpa"]
        for k in portfolio.keys
        if res.lower[k] + 1e-6 < res.allocation[k] < res.upper[k] - 1e-6
    ]
    if len(interior) >= 2:  # interior campaigns share one marginal CPA
        assert max(interior) / min(interior) < 1.02
    assert all(m > 0 for m in mcpa)
    assert 0.0 <= res.gain["p_gain_positive"] <= 1.0
    q = res.gain["conversions"]
    assert q["p10"] <= q["p50"] <= q["p90"]
    assert res.gain["conversions"]["mean"] >= 0


def test_targets_cap_budgets(portfolio):
    free = optimize_budget(portfolio)
    key = max(free.allocation, key=lambda k: free.allocation[k] / portfolio.today[k])
    s = portfolio.delivery[key] * portfolio.today[key]
    cpa_today = s / float(portfolio.curves[key].expected(s))
    capped = optimize_budget(portfolio, target_cpa={key: cpa_today})
    assert capped.allocation[key] <= portfolio.today[key] * 1.01
    assert any(key in n for n in capped.notes)
    assert capped.marginal[key]["average_cpa"] <= cpa_today * 1.01


def test_min_spend_raises_lower_bounds(portfolio):
    k = portfolio.keys[0]
    res = optimize_budget(portfolio, min_spend={k: portfolio.today[k] * 0.99})
    assert res.allocation[k] >= portfolio.today[k] * 0.99 - 1e-9


def test_profit_can_leave_budget_unspent(portfolio):
    huge = replace(portfolio, rpc_draws={k: v * 1e-3 for k, v in portfolio.rpc_draws.items()})
    res = optimize_budget(huge, objective="profit")
    # revenue per conversion too small to pay for spend: everything at its lower bound
    for k in huge.keys:
        assert res.allocation[k] == pytest.approx(res.lower[k], rel=1e-6)
    assert sum(res.allocation.values()) < res.total_budget


def test_falls_back_to_status_quo_when_optimum_is_not_better(portfolio):
    res = optimize_budget(portfolio, max_change=0.0)
    assert res.allocation == pytest.approx(res.status_quo)
    assert res.gain["conversions"]["p50"] == pytest.approx(0.0, abs=1e-9)


def test_bad_parameters(portfolio):
    with pytest.raises(ParamsError, match="objective"):
        optimize_budget(portfolio, objective="conversion")  # type: ignore[arg-type]
    with pytest.raises(ParamsError, match="total"):
        optimize_budget(portfolio, total_budget=1.0)
    with pytest.raises(ParamsError, match="total budget -5.0 must be positive"):
        optimize_budget(portfolio, total_budget=-5.0)


def test_targets_the_status_quo_breaks_do_not_trigger_the_fallback(portfolio):
    strict = {k: 1e-6 for k in portfolio.keys}  # no campaign can reach this CPA
    res = optimize_budget(portfolio, target_cpa=strict)
    assert not res.fell_back
    for k in portfolio.keys:
        assert res.allocation[k] == pytest.approx(res.lower[k])
    assert any("status quo breaks" in n for n in res.notes)


def test_overpacing_campaigns_count_at_delivered_spend(portfolio):
    k = portfolio.keys[0]
    over = replace(portfolio, delivery={**portfolio.delivery, k: 1.4})
    res = optimize_budget(over)
    spend = sum(over.delivery[j] * res.allocation[j] for j in over.keys)
    assert spend <= res.total_budget
    assert sum(res.allocation.values()) <= res.total_budget
    assert any(k in n and "delivers" in n for n in res.notes)


def _power_items(
    bounds: list[tuple[float, float]], k: list[float], a: list[float]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    grids = [np.linspace(lo, hi, 2001) for lo, hi in bounds]
    margs = [
        ki * ai * np.maximum(g, 1e-9) ** (ai - 1) for g, ki, ai in zip(grids, k, a, strict=True)
    ]
    return grids, margs


def test_water_fill_equalises_the_marginals_of_items_inside_their_bounds():
    # an interior optimum (found by the mutation check: a fill that reads the marginals in
    # the wrong order gave 145 / 5 here, with unequal marginals, and passed every other test)
    k, a = [5.0, 1.0, 2.0], [0.5, 0.7, 0.4]
    grids, margs = _power_items([(0, 50), (20, 400), (5, 100)], k, a)
    x, lam = water_fill(grids, margs, 200.0)
    assert math.fsum(x) == pytest.approx(200.0, rel=1e-9)
    assert x[0] == pytest.approx(50.0)  # its marginal stays above the cut: at its upper bound
    inside = [1, 2]
    marginal = [k[i] * a[i] * x[i] ** (a[i] - 1) for i in inside]
    # closed form for the two inside: k a x^(a-1) = lam, so x = (lam / (k a))^(1/(a-1))
    assert marginal == pytest.approx([lam, lam], rel=1e-3)
    expected = [(lam / (k[i] * a[i])) ** (1 / (a[i] - 1)) for i in inside]
    assert [x[i] for i in inside] == pytest.approx(expected, rel=1e-3)


def test_water_fill_refuses_lower_bounds_above_the_total():
    grids, margs = _power_items([(10, 50), (20, 60)], [1.0, 1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="the lower bounds exceed the total"):
        water_fill(grids, margs, 29.0)
    x, _ = water_fill(grids, margs, 30.0)  # exactly the lower bounds: allowed
    assert math.fsum(x) <= 30.0
    assert x == pytest.approx([10.0, 20.0], rel=1e-9)
