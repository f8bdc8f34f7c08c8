"""Creative rotation in the simulation (issue 16).

The campaigns here are drawn by a small generator of their own (not
:mod:`simkit.data.synthetic`): a search campaign whose CTR wears 1.2% a day of creative
age, with creatives replaced on a schedule, and the forecast centre held at the campaign's
recent level (a hand-made driver forecast), so that what moves the simulated CTR over the
horizon is the fatigue factor alone.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from simkit.simulate import FatigueFactor, fit_fatigue, simulate_campaign, what_if_campaign
from simkit.simulate.campaign import campaign_state
from simkit.simulate.fatigue import creative_rotation

from .conftest import make_forecast

RATE = 0.012
START = date(2026, 1, 5)


def _campaign(
    seed: int, *, n_days: int = 112, every: int = 14, last_life: int | None = None
) -> pd.DataFrame:
    """Daily rows of one campaign refreshing its creative every ``every`` days; with
    ``last_life`` the last creative has been running that many days instead."""
    rng = np.random.default_rng(seed)
    schedule = list(range(0, n_days, every))
    if last_life is not None:
        schedule = [d for d in schedule if d < n_days - last_life] + [n_days - last_life]
    generation = np.searchsorted(schedule, np.arange(n_days), side="right") - 1
    age = np.arange(n_days) - np.asarray(schedule)[generation]
    impressions = rng.poisson(40_000, n_days)
    clicks = rng.binomial(impressions, 0.02 * np.exp(-RATE * age))
    conversions = rng.binomial(clicks, 0.05)
    return pd.DataFrame(
        {
            "date": pd.date_range(START, periods=n_days, freq="D"),
            "campaign_id": "R1",
            "channel": "search",
            "creative_id": [f"R1-k{g}" for g in generation],
            "spend": np.round(rng.normal(400.0, 10.0, n_days), 2),
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
            "revenue": conversions * 50.0,
            "budget": 420.0,
        }
    )


def _simulated_ctr(data: pd.DataFrame, h: int = 28, **kw) -> np.ndarray:
    """Median simulated daily CTR over the horizon, relative to the first horizon day's."""
    last = pd.Timestamp(data["date"].max())
    drivers = make_forecast(h, start=str((last + pd.Timedelta(days=1)).date()), scale=0.02)
    result = simulate_campaign(data, "R1", h, n_paths=2000, seed=5, drivers=drivers, **kw)
    ctr = result.daily[result.daily["metric"] == "ctr"]["p50"].to_numpy()
    return ctr / ctr[0], result


def test_rotation_is_learned_from_creative_id_changes():
    rot = creative_rotation(_campaign(1))
    assert rot is not None
    assert rot.n_refreshes == 7
    # the first creative's life is left out (it may have started before the data)
    assert rot.lifetimes_days == (14,) * 6
    assert rot.usual_interval_days == 14
    assert rot.current_age_days == 13
    assert not rot.overdue
    overdue = creative_rotation(_campaign(1, last_life=50))
    assert overdue.refresh_age_days == 14
    assert overdue.current_age_days == 49
    assert overdue.overdue


def test_rotation_needs_a_refresh_and_a_creative_id():
    data = _campaign(1)
    assert creative_rotation(data.assign(creative_id="R1-only")) is None
    assert creative_rotation(data.drop(columns="creative_id")) is None


@pytest.mark.parametrize("seed", [1, 2])
def test_a_campaign_rotating_every_14_days_gets_a_flat_baseline_ctr(seed):
    data = _campaign(seed)
    fatigue = fit_fatigue(data)
    # the wear itself is seen (so a flat baseline is the rotation's doing, not a zero rate)
    assert fatigue.rate_per_day == pytest.approx(RATE, abs=4 * fatigue.rate_se + 0.002)
    assert fatigue.rate_per_day > 0.005
    assert fatigue.usual_refresh_age_days == 14
    assert fatigue.rotation_expected
    ctr, result = _simulated_ctr(data)
    assert result.extra["state"]["fatigue"]["usual_refresh_age_days"] == 14
    assert [f["kind"] for f in result.factors] == ["fatigue"]
    # 2000 paths: the median's Monte Carlo error is well under 1% a day
    assert np.all(np.abs(ctr - 1) < 0.02)
    assert abs(ctr[-7:].mean() - ctr[:7].mean()) < 0.01


def test_a_creative_far_past_its_usual_age_gets_the_decline():
    data = _campaign(3, last_life=50)
    fatigue = fit_fatigue(data)
    assert fatigue.creative_age_days == 49
    assert not fatigue.rotation_expected
    ctr, _ = _simulated_ctr(data)
    # 27 more days of wear at the fitted rate (floored at 40% of the fresh level: far off)
    expected = np.exp(-fatigue.rate_per_day * np.arange(28))
    assert ctr[-1] < 0.85
    assert np.allclose(ctr, expected, atol=0.03)


def test_without_creative_id_no_fatigue_factor_is_applied():
    data = _campaign(1).drop(columns="creative_id")
    assert campaign_state(data).fatigue is None
    ctr, result = _simulated_ctr(data)
    assert result.factors == ()
    assert result.extra["state"]["fatigue"] is None
    assert np.all(np.abs(ctr - 1) < 0.02)


def test_a_refresh_in_the_plan_still_lifts_ctr_on_a_rotating_campaign():
    data = _campaign(1, every=21)  # today's creative is 7 days old, its CTR ~8% worn
    last = pd.Timestamp(data["date"].max())
    refresh_on = (last + pd.Timedelta(days=3)).date()
    drivers = make_forecast(28, start=str((last + pd.Timedelta(days=1)).date()), scale=0.02)
    result = what_if_campaign(
        data, "R1", 28, refresh_on=refresh_on, n_paths=2000, seed=2, drivers=drivers
    )
    fatigue = campaign_state(data).fatigue
    assert fatigue.rotation_expected
    base = result.baseline.daily
    pivot = result.pivot.daily
    b = base[base["metric"] == "ctr"]["p50"].to_numpy()
    p = pivot[pivot["metric"] == "ctr"]["p50"].to_numpy()
    age = fatigue.creative_age_days
    # before the refresh nothing changes; from it the fresh creative's CTR, which wears
    # back to today's level after `age` days (the usual rotation then holds it there)
    assert np.allclose(p[:2], b[:2], rtol=1e-6)
    lift = np.exp(fatigue.rate_per_day * np.maximum(age - np.arange(26), 0))
    assert np.allclose(p[2:] / b[2:], lift, atol=0.01)
    assert p[2] / b[2] > 1.05
    assert result.p_higher["clicks"] > 0.95


def test_a_plan_refresh_factor_with_the_schedule_holds_then_resets():
    f = FatigueFactor(
        rate_per_day=0.02,
        creative_age_days=10,
        usual_refresh_age_days=14,
        refresh_dates=(date(2026, 3, 4),),
    )
    dates = pd.date_range("2026-03-01", periods=20)
    age = f.ages(dates)
    assert age[:3].tolist() == [10, 10, 10]
    assert age[3:15].tolist() == list(range(0, 11)) + [10]
    # past its usual age, the creative wears on from today
    late = f.model_copy(update={"creative_age_days": 15, "refresh_dates": ()})
    assert late.ages(dates).tolist() == list(range(16, 36))
