from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.errors import DataError, ForecastError, ParamsError
from simkit.forecast.drivers import (
    calendar_features,
    driver_history,
    expit,
    funnel_from_drivers,
    logit,
)


def _frame(n: int = 10, **overrides) -> pd.DataFrame:
    base = {
        "date": pd.date_range("2026-03-02", periods=n),
        "campaign_id": "A",
        "spend": np.full(n, 100.0),
        "impressions": np.full(n, 10_000),
        "clicks": np.full(n, 200),
        "conversions": np.full(n, 10),
        "revenue": np.full(n, 500.0),
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_drivers_match_the_funnel_ratios():
    hist = driver_history(_frame(), "A")
    d = hist.drivers.iloc[0]
    assert d["log_cpm"] == pytest.approx(np.log(1000 * 100 / 10_000.5))
    assert expit(d["logit_ctr"]) == pytest.approx(200.5 / 10_001)
    assert expit(d["logit_cvr"]) == pytest.approx(10.5 / 201)
    # funnel of the drivers gives the recorded conversions back (up to pseudo-counts)
    conv = funnel_from_drivers(hist.drivers.to_numpy(), hist.spend)["conversions"]
    assert np.allclose(conv, 10, rtol=0.06)


def test_zero_conversions_borrow_the_trailing_revenue_per_conversion():
    conv = np.array([10, 10, 0, 10, 0, 10, 10, 10, 10, 10])
    hist = driver_history(_frame(conversions=conv, revenue=conv * 50.0), "A")
    rpc = np.exp(hist.drivers["log_rpc"].to_numpy())
    assert np.all(np.isfinite(rpc))
    assert rpc[2] == pytest.approx(50.0)  # the pooled value, not 0 or inf
    assert any("without conversions" in n for n in hist.notes)


def test_missing_days_are_filled_from_the_past_only():
    frame = _frame(10).drop(index=[4, 5])
    frame.loc[frame.index > 5, "spend"] = 300.0  # later days differ: must not leak back
    hist = driver_history(frame, "A")
    assert hist.n_days == 10
    assert hist.spend[4] == 0.0
    assert hist.drivers["log_cpm"].iloc[4] == pytest.approx(hist.drivers["log_cpm"].iloc[3])
    assert any("missing" in n for n in hist.notes)


def test_breakdown_rows_are_summed_per_day():
    a = _frame(5)
    b = _frame(5)
    both = pd.concat([a.assign(channel="x"), b.assign(channel="y")])
    hist = driver_history(both, "A")
    assert np.allclose(hist.spend, 200.0)
    assert np.allclose(hist.counts["clicks"], 400)


def test_unknown_campaign_and_missing_columns_are_clear_errors():
    with pytest.raises(ForecastError, match="did you mean 'A'"):
        driver_history(_frame(), "a")
    with pytest.raises(DataError, match="clicks"):
        driver_history(_frame().drop(columns="clicks"), "A")


def test_calendar_features_flag_holidays_and_reject_unknown_countries():
    dates = pd.date_range("2026-12-23", periods=5)
    X = calendar_features(dates, np.zeros(5), "US")
    assert X["holiday"].tolist() == [0, 0, 1, 0, 0]  # Christmas
    assert X["dow"].tolist() == list(dates.day_of_week)
    with pytest.raises(ParamsError, match="country"):
        calendar_features(dates, np.zeros(5), "XX")
    assert calendar_features(dates, np.zeros(5), None)["holiday"].sum() == 0


def test_logit_expit_round_trip():
    p = np.array([1e-6, 0.01, 0.5, 0.99])
    assert np.allclose(expit(logit(p)), p)
