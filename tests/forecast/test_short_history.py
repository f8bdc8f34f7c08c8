"""Short histories: the scale beyond the backtested steps, and revenue never measured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.data.synthetic import generate
from simkit.forecast import forecast_campaign
from simkit.forecast.api import UNBACKED_SPREAD_CAP, cap_unbacked_scale
from simkit.simulate import simulate_campaign


def test_steps_a_backtest_covers_keep_their_scale() -> None:
    scale = np.outer(np.arange(1, 11, dtype=float), [0.1, 0.2, 0.3, 0.4])
    drivers = np.random.default_rng(0).normal(size=(20, 4)) * 0.01
    out = cap_unbacked_scale(scale, drivers, backed_steps=4)
    np.testing.assert_array_equal(out[:4], scale[:4])
    # beyond: the last covered step's scale (larger than 2 x the tiny spread here)
    np.testing.assert_allclose(out[4:], np.broadcast_to(scale[3], (6, 4)))


def test_the_history_spread_lets_wide_series_keep_their_growth() -> None:
    scale = np.outer(np.arange(1, 11, dtype=float), [0.1, 0.1, 0.1, 0.1])
    drivers = np.random.default_rng(1).normal(size=(200, 4)) * np.array([0.01, 0.3, 1.0, 5.0])
    spread = drivers.std(axis=0, ddof=1)
    out = cap_unbacked_scale(scale, drivers, backed_steps=3)
    expected = np.minimum(scale[3:], np.maximum(scale[2], UNBACKED_SPREAD_CAP * spread))
    np.testing.assert_allclose(out[3:], expected)
    assert out[-1, 3] == scale[-1, 3], "a driver spread wider than the growth is not capped"
    assert out[-1, 0] == pytest.approx(scale[2, 0]), "a flat driver stops growing"


def test_a_fully_backtested_horizon_is_untouched() -> None:
    scale = np.ones((7, 4))
    assert np.array_equal(cap_unbacked_scale(scale, np.zeros((30, 4)), backed_steps=7), scale)


def _short_campaign_without_revenue() -> pd.DataFrame:
    world = generate(1, 16, rng=np.random.default_rng(3), events=None)
    frame = world.data.copy()
    frame["revenue"] = 0.0
    return frame


def test_revenue_that_was_never_measured_is_not_invented() -> None:
    data = _short_campaign_without_revenue()
    fc = forecast_campaign(data, "C001", 30, seed=2, cache=False)
    assert fc.drivers.revenue_measured is False
    sim = simulate_campaign(data, "C001", 30, n_paths=500, seed=2, drivers=fc.drivers)
    assert sim.totals["revenue"]["p90"] == 0.0
    assert sim.totals["conversions"]["p50"] > 0


def test_a_short_history_keeps_conversions_per_spend_near_its_own() -> None:
    # 16 days: one backtest window of 7 days, 30 days ahead
    world = generate(1, 16, rng=np.random.default_rng(4), events=None)
    data = world.data
    sim = simulate_campaign(data, "C001", 30, n_paths=2000, seed=2)
    past = data["conversions"].sum() / data["spend"].sum()
    ahead = sim.totals["conversions"]["p50"] / sim.totals["spend"]["p50"]
    assert past / 1.5 < ahead < past * 1.5, (past, ahead)
