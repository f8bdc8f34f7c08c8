from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.data.synthetic import sample_budget_schedule, simulate_campaign
from simkit.pivots.curves import FAMILIES, adstock, fit_response_curve


def _campaign(world, cid="C001"):
    g = world.data[world.data["campaign_id"] == cid]
    return (
        g["spend"].to_numpy(float),
        g["conversions"].to_numpy(float),
        g["date"].dt.day_of_week.to_numpy(),
    )


@pytest.fixture(scope="module")
def curve(world):
    s, y, dow = _campaign(world)
    return fit_response_curve(s, y, dow, rng=np.random.default_rng(3), key="C001", n_draws=100)


def test_recovers_the_true_curve_within_the_observed_range(world):
    # the generator's campaign without creative wear: what the curve alone must recover
    truth = replace(world.truth["C001"], fatigue_rate_per_day=0.0, refresh_dates=())
    rng = np.random.default_rng(1)
    days = pd.date_range("2026-01-05", periods=180)
    frame = simulate_campaign(
        truth, sample_budget_schedule(180, truth.reference_spend, rng), days, rng
    )
    s = frame["spend"].to_numpy(float)
    c = fit_response_curve(
        s, frame["conversions"].to_numpy(float), days.day_of_week.to_numpy(), rng=rng, n_draws=100
    )
    grid = np.linspace(np.quantile(s, 0.1), np.quantile(s, 0.9), 5)
    ratio = c.expected(grid) / truth.expected_daily_conversions(grid)
    assert np.all(np.abs(ratio - 1) < 0.1), ratio
    elasticity = c.marginal(c.s_ref) * c.s_ref / c.expected(c.s_ref)
    assert abs(elasticity - (1 - truth.cpm_spend_elasticity)) < 0.15
    # the truth lies inside the curves' 98% band at the reference spend
    lo, hi = np.quantile(c.samples(c.s_ref), [0.01, 0.99])
    assert lo <= float(truth.expected_daily_conversions(c.s_ref)) <= hi * 1.05


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1e7, allow_nan=False), min_size=2, max_size=20))
def test_every_draw_is_bounded_concave_and_non_negative(curve, spends):
    s = np.sort(np.asarray(spends))
    values = curve.samples(s)
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert np.all(np.diff(values, axis=1) >= -1e-9 * np.maximum(values[:, 1:], 1))
    # saturating: every draw stays under its finite ceiling, however much is spent
    ceiling = curve.ceiling()
    assert np.all(np.isfinite(ceiling))
    assert np.all(curve.samples(np.array([1e6, 1e12, 1e30])) <= ceiling[:, None] * (1 + 1e-9))
    marg = curve.sample_marginal(np.array([100.0, 1000.0, 10000.0]))
    assert np.all(marg >= 0) and np.all(np.diff(marg, axis=1) <= 1e-12)


def test_same_seed_same_draws_other_seed_differs(world):
    s, y, dow = _campaign(world, "C002")
    a = fit_response_curve(s, y, dow, rng=np.random.default_rng(1), n_draws=20)
    b = fit_response_curve(s, y, dow, rng=np.random.default_rng(1), n_draws=20)
    c = fit_response_curve(s, y, dow, rng=np.random.default_rng(2), n_draws=20)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)
    np.testing.assert_allclose(a.params, c.params)  # the fit itself is deterministic


def test_uncertainty_shrinks_with_more_data():
    rng = np.random.default_rng(4)
    levels = np.repeat([300.0, 600.0, 450.0, 900.0, 500.0, 750.0], 14)

    def width(n_rep: int) -> float:
        s = np.tile(levels, n_rep)
        y = rng.poisson(0.5 * s**0.6)
        c = fit_response_curve(s, y, np.arange(len(s)) % 7, rng=rng, n_draws=300)
        q = np.quantile(c.samples(1200.0), [0.1, 0.9])
        return float(q[1] - q[0])

    assert width(4) < width(1)


def test_carryover_is_chosen_when_the_data_carry_over():
    rng = np.random.default_rng(8)
    s = np.repeat(rng.uniform(200, 1200, 30), 4)  # spend changes every 4 days
    x = adstock(s, 0.7)
    y = rng.poisson(3.0 * x**0.6)
    c = fit_response_curve(s, y, np.arange(len(s)) % 7, rng=rng, n_draws=10)
    assert c.carryover > 0
    s_flat = np.repeat(rng.uniform(200, 1200, 30), 4)
    y_flat = rng.poisson(3.0 * s_flat**0.6)
    c0 = fit_response_curve(s_flat, y_flat, np.arange(len(s)) % 7, rng=rng, n_draws=10)
    assert c0.carryover == 0


def test_short_flat_history_falls_back_to_the_prior():
    rng = np.random.default_rng(9)
    s = np.full(14, 500.0)
    y = rng.poisson(20, 14).astype(float)
    c = fit_response_curve(s, y, np.arange(14) % 7, rng=rng, n_draws=200)
    assert abs(float(c.expected(500.0)) / 20 - 1) < 0.25
    lo, hi = np.quantile(c.samples(1000.0) / c.samples(500.0), [0.1, 0.9])
    assert 1.0 <= lo and hi < 2.0  # concave: doubling spend never more than doubles


def test_adstock_keeps_the_steady_state():
    s = np.full(10, 100.0)
    np.testing.assert_allclose(adstock(s, 0.5), s)
    assert adstock(np.array([0.0, 100.0, 0.0]), 0.5)[2] > 0


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="fewer than 7 days with spend"):
        fit_response_curve(np.ones(3), np.ones(3), np.zeros(3, int), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite and non-negative"):
        fit_response_curve(
            -np.ones(20), np.ones(20), np.zeros(20, int), rng=np.random.default_rng(0)
        )


def test_registry_names():
    assert set(FAMILIES) == {"hill", "exp_saturation"}


def test_to_dict_is_json_ready(curve):
    import json

    d = curve.to_dict()
    json.dumps(d)
    assert d["family"] in FAMILIES and d["n_draws"] == 100


def test_exp_saturation_family_competes_when_asked(world):
    s, y, dow = _campaign(world, "C003")
    c = fit_response_curve(
        s, y, dow, rng=np.random.default_rng(0), n_draws=50, families=("exp_saturation",)
    )
    assert c.family == "exp_saturation"
    v = c.samples(np.array([0.0, 100.0, 1e3, 1e4, 1e6, 1e8]))
    assert np.all(v >= 0) and np.all(np.diff(v, axis=1) >= -1e-9)
    assert np.all(v <= c.ceiling()[:, None] * (1 + 1e-9))
    both = fit_response_curve(
        s, y, dow, rng=np.random.default_rng(0), n_draws=5, families=("hill", "exp_saturation")
    )
    assert set(both.candidates) >= {"hill@0", "exp_saturation@0"}
