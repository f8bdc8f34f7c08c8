from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.errors import ParamsError
from simkit.pivots import optimize_budget, water_fill
from simkit.pivots.curves import ResponseCurve
from simkit.pivots.optimize import _cap, portfolio_draws
from simkit.pivots.portfolio import Portfolio


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


# --- hand-made portfolios with closed-form curves (issue 23: the optimiser's surviving
# mutants).  Exponential saturation, f(s) = L (1 - exp(-s/K)) / (1 - exp(-s_ref/K)), with the
# weekday effects at 0, so the response, its marginal and the optimum have closed forms.


def _exp_curve(key: str, levels: list[float], k: float, s_ref: float) -> ResponseCurve:
    """One draw per entry of ``levels`` (the response at ``s_ref``), half-saturation ``k``."""
    params = np.zeros(9)  # theta0, log K/s_ref, 6 weekday effects, log alpha
    params[1] = math.log(k / s_ref)
    draws = np.repeat(params[None, :], len(levels), axis=0)
    draws[:, 0] = np.log(levels)
    params[0] = math.log(float(np.mean(levels)))
    return ResponseCurve(
        key=key,
        metric="conversions",
        family="exp_saturation",
        carryover=0.0,
        s_ref=s_ref,
        params=params,
        cov=np.zeros((9, 9)),
        draws=draws,
        dispersion_inflation=1.0,
        residual_rho=0.0,
        qaic=0.0,
        n_days=100,
        spend_min=0.5 * s_ref,
        spend_max=2.0 * s_ref,
    )


def _f(levels, k, s_ref, s):
    """Closed form per draw, ``(n_draws, len(s))``."""
    s = np.atleast_1d(np.asarray(s, dtype=float))
    return np.asarray(levels)[:, None] * -np.expm1(-s / k) / -math.expm1(-s_ref / k)


def _df(levels, k, s_ref, s):
    s = np.atleast_1d(np.asarray(s, dtype=float))
    return np.asarray(levels)[:, None] * np.exp(-s / k) / (k * -math.expm1(-s_ref / k))


# key: (draw levels, K, s_ref, today's budget, delivery, state, rpc draws)
_SPEC = {
    "A": ([40.0, 60.0], 150.0, 100.0, 100.0, 0.8, 1.0, [20.0, 30.0]),
    "B": ([25.0, 35.0], 120.0, 80.0, 120.0, 1.0, 0.7, [30.0, 40.0]),
    "C": ([30.0, 42.0], 130.0, 60.0, 90.0, 1.25, 1.0, [25.0, 25.0]),  # overpaces
}


def _exp_portfolio(spec=_SPEC) -> Portfolio:
    keys = tuple(spec)
    return Portfolio(
        by="campaign",
        keys=keys,
        curves={k: _exp_curve(k, v[0], v[1], v[2]) for k, v in spec.items()},
        today={k: v[3] for k, v in spec.items()},
        today_source={k: "test" for k in keys},
        delivery={k: v[4] for k, v in spec.items()},
        rpc_draws={k: np.array(v[6]) for k, v in spec.items()},
        as_of=pd.Timestamp("2026-01-05"),
        panel=pd.DataFrame(),
        state={k: v[5] for k, v in spec.items() if v[5] != 1.0},
    )


def _closed_form_optimum(spec, total, objective):
    """Equal marginal value per unit of cost: w_i exp(-d_i b_i / K_i) = lambda cost_i."""
    keys = list(spec)
    a, lnw, cost = [], [], []
    for k in keys:
        levels, kk, s_ref, _, d, state, rpc = spec[k]
        weight = 1.0 if objective == "conversions" else float(np.mean(np.multiply(levels, rpc)))
        level = float(np.mean(levels)) if objective == "conversions" else weight
        c = max(1.0, d)
        a.append(kk / d)
        lnw.append(math.log(d * state * level / (kk * -math.expm1(-s_ref / kk)) / c))
        cost.append(c)
    a, lnw, cost = np.array(a), np.array(lnw), np.array(cost)
    ln_lam = (np.sum(cost * a * lnw) - total) / np.sum(cost * a)
    return dict(zip(keys, a * (lnw - ln_lam), strict=True)), math.exp(ln_lam)


@pytest.mark.parametrize("objective", ["conversions", "revenue"])
def test_optimum_matches_the_closed_form_of_exponential_curves(objective):
    pf = _exp_portfolio()
    total = 300.0  # below today's 310: the status quo is scaled, the total binds
    res = optimize_budget(pf, total_budget=total, max_change=0.9, objective=objective)
    expected, lam = _closed_form_optimum(_SPEC, total, objective)
    for k, (_, kk, s_ref, today, d, state, rpc) in _SPEC.items():
        assert res.lower[k] == pytest.approx(0.1 * today)
        assert res.upper[k] == pytest.approx(1.9 * today)
        assert res.lower[k] < expected[k] < res.upper[k]  # an interior optimum
        assert res.allocation[k] == pytest.approx(expected[k], rel=2e-3)
        assert res.status_quo[k] == pytest.approx(today * total / 310.0)
        levels = _SPEC[k][0]
        s = d * res.allocation[k]
        m = state * float(np.mean(_df(levels, kk, s_ref, s)))
        got = res.marginal[k]
        assert got["marginal_conversions_per_unit_spend"] == pytest.approx(m, rel=1e-9)
        assert got["marginal_cpa"] == pytest.approx(1.0 / m, rel=1e-9)
        assert got["marginal_roas"] == pytest.approx(np.mean(rpc) * m, rel=1e-9)
        mean_f = state * float(np.mean(_f(levels, kk, s_ref, s)))
        assert got["average_cpa"] == pytest.approx(s / mean_f, rel=1e-9)
    costs = {k: max(1.0, v[4]) for k, v in _SPEC.items()}
    assert sum(costs[k] * res.allocation[k] for k in _SPEC) == pytest.approx(total, rel=1e-9)
    assert res.multiplier == pytest.approx(lam, rel=2e-3)
    assert not res.fell_back
    assert any("scales them by 0.968" in n for n in res.notes)
    assert any(n.startswith("C delivers 1.25x") for n in res.notes)
    assert not any(n.startswith(("A delivers", "B delivers")) for n in res.notes)

    # the expected figures are those of the closed form at the allocation, draw by draw
    def draws(budgets, weighted):
        return sum(
            v[5] * _f(v[0], v[1], v[2], v[4] * budgets[k])[:, 0] * (v[6] if weighted else 1.0)
            for k, v in _SPEC.items()
        )

    weighted = objective == "revenue"
    value = draws(res.allocation, weighted)
    gain = value - draws(res.status_quo, weighted)
    assert res.expected[objective]["mean"] == pytest.approx(value.mean(), rel=1e-9)
    assert res.gain[objective]["mean"] == pytest.approx(gain.mean(), rel=1e-9)
    # at delivered spend the scaled status quo (C overpaces) exceeds the total: it may
    # earn more than the optimum, and the optimum is kept
    assert any("status quo breaks" in n for n in res.notes)
    assert res.gain["p_gain_positive"] == float(np.mean(gain > 0))


def test_profit_optimum_is_where_marginal_revenue_pays_for_the_spend():
    # d rpc f'(d b) = d  =>  b = (K / d) ln(rpc L / (K (1 - exp(-s_ref/K)))), budget not binding
    pf = _exp_portfolio()
    res = optimize_budget(pf, total_budget=1e4, max_change=5.0, objective="profit")
    for k, (levels, kk, s_ref, _, d, state, rpc) in _SPEC.items():
        w = state * float(np.mean(np.multiply(levels, rpc))) / (kk * -math.expm1(-s_ref / kk))
        assert res.lower[k] < (kk / d) * math.log(w) < res.upper[k]
        assert res.allocation[k] == pytest.approx((kk / d) * math.log(w), rel=2e-3)
    assert res.multiplier == 0.0
    assert not any("stays unspent" in n for n in res.notes)  # unspent on purpose


def test_uppers_below_the_total_leave_it_unspent_and_say_so():
    pf = _exp_portfolio()
    res = optimize_budget(pf, total_budget=1000.0, max_change=0.5)
    for k, v in _SPEC.items():
        assert res.allocation[k] == pytest.approx(1.5 * v[3])
        assert res.status_quo[k] == v[3]  # a total above today's does not scale it up
    assert any("stays unspent" in n for n in res.notes)
    assert not any("scales them" in n for n in res.notes)


def test_min_spend_above_the_upper_bound_fixes_the_budget():
    pf = _exp_portfolio()
    res = optimize_budget(pf, total_budget=500.0, max_change=0.5, min_spend={"B": 250.0})
    assert res.lower["B"] == res.upper["B"] == 250.0
    assert res.allocation["B"] == pytest.approx(250.0)
    assert res.lower["A"] == pytest.approx(50.0)
    inside = optimize_budget(pf, total_budget=500.0, max_change=0.5, min_spend={"A": 60.0})
    assert inside.lower["A"] == 60.0
    assert inside.upper["A"] == pytest.approx(150.0)  # a minimum inside the bounds keeps the upper


def test_lower_bounds_count_at_delivered_spend_against_the_total():
    # lower bounds 50 + 60 + 45 = 155/day, but C overpaces (1.25x): 166.25/day delivered
    with pytest.raises(ParamsError, match=r"below the sum of the lower bounds 166\.25/day"):
        optimize_budget(_exp_portfolio(), total_budget=160.0, max_change=0.5)


def _cpa(levels, k, s_ref, d, b):
    return d * b / float(np.mean(_f(levels, k, s_ref, d * b)))


@pytest.mark.parametrize("step", [1.5, 100.5])
def test_target_cpa_caps_the_budget_at_the_last_grid_point_that_meets_it(step):
    # the average CPA rises with spend: the cap is the largest budget b* with CPA(b*) = tCPA;
    # the optimiser tabulates 257 points from lower to upper and keeps those meeting the
    # target, so its upper bound lies within one grid step below b*
    pf = _exp_portfolio()
    levels, k, s_ref, today, d = _SPEC["B"][:5]
    lo, hi = 0.5 * today, 1.5 * today
    width = (hi - lo) / 256
    b_star = lo + step * width
    # the state multiplier (0.7) scales conversions, so the CPA by 1 / 0.7
    target = _cpa(levels, k, s_ref, d, b_star) / 0.7
    res = optimize_budget(pf, total_budget=400.0, target_cpa={"B": target})
    assert b_star - width <= res.upper["B"] <= b_star
    assert res.lower["B"] == pytest.approx(lo)
    assert res.allocation["B"] <= b_star
    assert res.marginal["B"]["average_cpa"] <= target * (1 + 1e-9)
    assert any(n.startswith("B: target CPA/ROAS caps its budget") for n in res.notes)


def test_targets_met_exactly_at_the_lower_bound_are_met():
    # at s = s_ref the response is exactly its level: CPA = s_ref / level, ROAS = rpc level / s_ref
    spec = {"A": ([4.0, 4.0], 300.0, 100.0, 200.0, 1.0, 1.0, [50.0, 50.0]), "B": _SPEC["B"]}
    pf = _exp_portfolio(spec)
    for targets in ({"target_cpa": {"A": 25.0}}, {"target_roas": {"A": 2.0}}):
        res = optimize_budget(pf, total_budget=300.0, **targets)
        assert res.upper["A"] == res.lower["A"] == 100.0
        assert any(n.startswith("A: target CPA/ROAS caps its budget at 100.00") for n in res.notes)
        assert not any("cannot be met" in n for n in res.notes)
        res = optimize_budget(pf, total_budget=300.0, target_cpa={"A": 24.9})
        assert any(n.startswith("A: its target CPA/ROAS cannot be met") for n in res.notes)


def test_portfolio_draws_match_the_closed_form_draw_by_draw():
    pf = _exp_portfolio()
    budgets = {"A": 90.0, "B": 130.0, "C": 70.0}
    got = portfolio_draws(pf, budgets)
    conv = np.zeros(2)
    rev = np.zeros(2)
    spend = 0.0
    for k, (levels, kk, s_ref, _, d, state, rpc) in _SPEC.items():
        c = state * _f(levels, kk, s_ref, d * budgets[k])[:, 0]
        conv += c
        rev += c * np.array(rpc)
        spend += d * budgets[k]
    assert spend == pytest.approx(0.8 * 90 + 130 + 1.25 * 70)
    np.testing.assert_allclose(got["conversions"], conv, rtol=1e-12)
    np.testing.assert_allclose(got["revenue"], rev, rtol=1e-12)
    np.testing.assert_allclose(got["spend"], [spend, spend], rtol=1e-12)
    np.testing.assert_allclose(got["cpa"], spend / conv, rtol=1e-12)
    np.testing.assert_allclose(got["roas"], rev / spend, rtol=1e-12)
    np.testing.assert_allclose(got["profit"], rev - spend, rtol=1e-12)
    assert set(got) == {"conversions", "revenue", "spend", "cpa", "roas", "profit"}


def test_portfolio_draws_at_small_and_zero_spend():
    pf = _exp_portfolio()
    small = portfolio_draws(pf, {"A": 0.1, "B": 0.2, "C": 0.0})  # spend 0.28, conv < 1
    assert np.all(small["conversions"] < 1)
    np.testing.assert_allclose(small["roas"], small["revenue"] / 0.28, rtol=1e-12)
    np.testing.assert_allclose(small["cpa"], 0.28 / small["conversions"], rtol=1e-12)
    zero = portfolio_draws(pf, dict.fromkeys(_SPEC, 0.0))
    assert zero["roas"].shape == (2,) and np.all(zero["roas"] == 0.0)
    assert np.all(zero["cpa"] == np.inf)
    assert np.all(zero["conversions"] == 0.0) and np.all(zero["profit"] == 0.0)
    # spend but no conversions (every creative worn out): infinite CPA, zero ROAS
    worn = replace(pf, state=dict.fromkeys(_SPEC, 0.0))
    dead = portfolio_draws(worn, {"A": 90.0, "B": 130.0, "C": 70.0})
    assert np.all(dead["cpa"] == np.inf) and np.all(dead["roas"] == 0.0)
    assert np.all(dead["spend"] == 0.8 * 90 + 130 + 1.25 * 70)


def test_water_fill_hands_the_slack_to_the_items_at_the_cut():
    # constant marginals: A (5) stays above the cut at its upper bound, D (0.2) below it at
    # its lower bound, B and C (1) are at the cut and share the rest; any split of it between
    # them is optimal, but neither may leave its bounds.  Small amounts: the slack is < 1.
    bounds = [(0.0, 0.2), (0.1, 0.3), (0.0, 0.4), (0.05, 0.5)]
    values = [5.0, 1.0, 1.0, 0.2]
    grids = [np.linspace(lo, hi, 257) for lo, hi in bounds]
    margs = [np.full(257, v) for v in values]
    x, lam = water_fill(grids, margs, 0.65)
    assert math.fsum(x) == pytest.approx(0.65, rel=1e-9)
    assert math.fsum(x) <= 0.65
    assert x[0] == pytest.approx(0.2, rel=1e-12)
    assert x[3] == pytest.approx(0.05, rel=1e-12)
    for xi, (lo, hi) in zip(x, bounds, strict=True):
        assert lo <= xi <= hi
    assert lam == pytest.approx(1.0, rel=1e-9)


def test_water_fill_cut_is_zero_when_the_total_does_not_bind():
    grids, margs = _power_items([(10, 50), (20, 60)], [1.0, 1.0], [0.5, 0.5])
    for total in (110.0, 200.0):  # the upper bounds sum to exactly the total, or less
        x, lam = water_fill(grids, margs, total)
        assert lam == 0.0
        assert x == pytest.approx([50.0, 60.0], rel=1e-11)
        assert math.fsum(x) <= total


def test_cap_scales_the_excess_away_exactly():
    # what lies above the lower bounds shrinks by one factor, so the sum lands on the cap
    x = np.array([60.0, 60.0, 30.0, 5.0])
    lower = np.array([10.0, 20.0, 30.0, 6.0])  # the last is raised to its lower bound first
    out = _cap(x, lower, 100.0)
    assert math.fsum(out) <= 100.0
    assert math.fsum(out) == pytest.approx(100.0, rel=1e-11)
    assert np.all(out >= lower)
    share = (out - lower)[:2] / (np.maximum(x, lower) - lower)[:2]
    assert share == pytest.approx([34.0 / 90.0] * 2, rel=1e-9)
    assert out[2:] == pytest.approx([30.0, 6.0])
    inside = np.array([10.0, 20.0])
    assert _cap(inside, np.array([5.0, 5.0]), 100.0) == pytest.approx(inside, rel=0)
    tight = _cap(np.array([10.0, 20.0]), np.array([10.0, 20.0]), 30.0)
    assert math.fsum(tight) <= 30.0 * (1 - 1e-12)  # the total wins, by ~1e-12
    assert tight == pytest.approx([10.0, 20.0], rel=1e-11)
    small = _cap(np.array([0.3, 0.3]), np.zeros(2), 0.5)  # less than 1 above the bounds
    assert small == pytest.approx([0.25, 0.25], rel=1e-11)
    assert math.fsum(small) <= 0.5
