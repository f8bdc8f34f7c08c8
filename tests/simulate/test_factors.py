from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from simkit.data.synthetic import generate
from simkit.errors import ParamsError
from simkit.simulate import (
    BudgetPlan,
    CompetitionFactor,
    FatigueFactor,
    SeasonalFactor,
    fit_fatigue,
    make_factor,
    simulate_paths,
)

from .conftest import make_forecast

DATES = pd.date_range("2026-03-02", periods=28, freq="D")


def test_competition_inflates_cpm_from_its_start():
    f = CompetitionFactor(inflation=0.25, inflation_sd=0.1, start=date(2026, 3, 16))
    s = f.shift(DATES, 500, np.random.default_rng(0))
    assert np.all(s[:14] == 0)
    assert np.exp(s[14:, 0]).mean() == pytest.approx(1.25, abs=0.02)
    assert np.exp(s[20, 0]).std() == pytest.approx(0.1, rel=0.15)
    assert np.all(s[:, 1:] == 0)


def test_fatigue_decays_from_today_and_refresh_resets():
    f = FatigueFactor(rate_per_day=0.01, creative_age_days=30, refresh_dates=(date(2026, 3, 16),))
    s = f.shift(DATES, 3, np.random.default_rng(0))[:, 1, 0]
    assert s[0] == pytest.approx(-0.01, abs=1e-6)
    assert np.all(np.diff(s[:14]) < 0)
    assert s[14] == pytest.approx(0.30, abs=1e-6)  # fresh creative: back above today's level
    assert s[20] == pytest.approx(0.30 - 0.06, abs=1e-6)


def test_fatigue_floor():
    f = FatigueFactor(rate_per_day=0.1, creative_age_days=0, floor=0.5)
    s = f.shift(DATES, 2, np.random.default_rng(0))[:, 1, 0]
    assert s.min() == pytest.approx(np.log(0.5), abs=1e-6)


def test_seasonal_factor_window():
    f = SeasonalFactor(driver="logit_cvr", start=date(2026, 3, 5), end=date(2026, 3, 8), lift=0.2)
    s = f.shift(DATES, 4, np.random.default_rng(0))
    assert np.all(s[3:6, 2] == pytest.approx(np.log(1.2)))
    assert np.all(s[:3] == 0) and np.all(s[6:] == 0)


def test_factors_change_the_simulation():
    fc = make_forecast()
    plan = BudgetPlan.from_daily(800.0, 28)
    base = simulate_paths(fc, plan, 1000, np.random.default_rng(1))
    tired = simulate_paths(
        fc,
        plan,
        1000,
        np.random.default_rng(1),
        factors=[FatigueFactor(rate_per_day=0.02, creative_age_days=10)],
    )
    assert tired.totals()["ctr"].mean() < 0.8 * base.totals()["ctr"].mean()


def test_make_factor_validates():
    assert isinstance(make_factor({"kind": "competition", "inflation": 0.2}), CompetitionFactor)
    with pytest.raises(ParamsError, match="did you mean 'competition'"):
        make_factor({"kind": "competiton", "inflation": 0.2})
    with pytest.raises(ParamsError, match="inflaton"):
        make_factor({"kind": "competition", "inflaton": 0.2})


def test_fit_fatigue_recovers_the_synthetic_rate():
    world = generate(1, 200, rng=np.random.default_rng(4), events=None, channels=["search"])
    truth = world.truth["C001"]
    fit = fit_fatigue(world.data)
    assert fit is not None
    assert abs(fit.rate_per_day - truth.fatigue_rate_per_day) < 3 * fit.rate_se + 0.001
    last = world.data.iloc[-1]
    first_seen = world.data.loc[world.data["creative_id"] == last["creative_id"], "date"].min()
    assert fit.creative_age_days == (last["date"] - first_seen).days


def test_fit_fatigue_needs_creatives():
    world = generate(1, 60, rng=np.random.default_rng(4), events=None)
    assert fit_fatigue(world.data.drop(columns="creative_id")) is None
    assert fit_fatigue(world.data.head(10)) is None
