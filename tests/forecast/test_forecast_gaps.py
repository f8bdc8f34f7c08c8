"""Backtest scores on a campaign with days missing from the data (issue 16).

A missing day has no actual: it must be left out of the scores (MASE, coverage), which
are taken on the days reported, aligned by date; before the fix a single missing day in a
backtest window made the MASE NaN and counted as an interval miss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.forecast import backtest_campaign
from simkit.forecast.backtest import choose_cutoffs
from simkit.forecast.drivers import driver_history, funnel_from_drivers
from simkit.forecast.ensemble import _fit_ar, score


def _window_arrays(rng: np.random.Generator, J: int = 3, H: int = 7):
    spend = np.full((J, H), 500.0)
    actual = np.tile([np.log(8.0), -4.0, -3.0, np.log(30.0)], (J, H, 1))
    actual = actual + rng.normal(0, 0.1, actual.shape)
    counts = {
        m: v.copy() for m, v in funnel_from_drivers(actual, spend).items() if m in ("conversions",)
    }
    return spend, actual, counts


def test_score_leaves_a_missing_day_out_and_keeps_the_days_after_it_in_place():
    rng = np.random.default_rng(4)
    J, H = 3, 7
    spend, actual, counts = _window_arrays(rng, J, H)
    point = actual + 0.05  # a forecast biased by one step of the drivers
    baseline = actual - rng.normal(0.2, 0.05, actual.shape)
    missing = (1, 3)  # cutoff 1, window day 3: a day missing from the data
    actual[missing] = np.nan
    counts["conversions"][missing] = np.nan
    s = score(
        point,
        point - actual,
        actual,
        spend,
        counts,
        baseline,
        metric="conversions",
        weight=1.0,
        rng=np.random.default_rng(0),
    )
    keep = np.ones((J, H), dtype=bool)
    keep[missing] = False
    y = counts["conversions"][keep]
    f = funnel_from_drivers(point, spend)["conversions"][keep]
    b = funnel_from_drivers(baseline, spend)["conversions"][keep]
    assert s.n_points == J * H - 1
    assert s.mase == pytest.approx(np.abs(f - y).sum() / np.abs(b - y).sum(), rel=1e-12)
    assert np.isfinite(s.coverage_80)


def test_score_with_the_missing_day_compacted_would_differ():
    """The days after a gap are scored against their own dates: shifting them one place
    (what compacting the window would do) changes the MASE, so the test above can fail."""
    rng = np.random.default_rng(4)
    spend, actual, counts = _window_arrays(rng)
    point = actual + 0.05
    baseline = actual - rng.normal(0.2, 0.05, actual.shape)
    actual[1, 3] = np.nan
    counts["conversions"][1, 3] = np.nan
    args = dict(metric="conversions", weight=1.0)
    right = score(
        point, point - actual, actual, spend, counts, baseline, rng=np.random.default_rng(0), **args
    )
    shifted = {c: v.copy() for c, v in counts.items()}
    row = shifted["conversions"][1]
    shifted["conversions"][1] = np.r_[row[:3], row[4:], np.nan]
    act = actual.copy()
    act[1] = np.r_[actual[1, :3], actual[1, 4:], np.full((1, 4), np.nan)]
    wrong = score(
        point, point - act, act, spend, shifted, baseline, rng=np.random.default_rng(0), **args
    )
    assert abs(right.mase - wrong.mase) > 1e-3


def test_error_ar_is_fitted_on_consecutive_calendar_days_only():
    rng = np.random.default_rng(1)
    J, H, phi = 40, 14, 0.6
    z = np.empty((J, H))
    z[:, 0] = rng.standard_normal(J)
    for t in range(1, H):
        z[:, t] = phi * z[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(J)
    gappy = z.copy()
    gappy[:, [2, 5, 8, 11]] = np.nan  # missing days in every window
    compacted = np.array([np.r_[r[np.isfinite(r)], np.full(4, np.nan)] for r in gappy])
    assert _fit_ar(gappy) == pytest.approx(phi, abs=0.06)
    # closing the gaps up joins days two apart (correlation phi**2): the fit would fall
    assert _fit_ar(compacted) < phi - 0.1


@pytest.fixture(scope="module")
def gappy_campaign(world) -> pd.DataFrame:
    one = world.data[world.data["campaign_id"] == "C001"].reset_index(drop=True)
    dates = pd.to_datetime(one["date"])
    cutoffs = choose_cutoffs(dates.nunique(), 14, max_cutoffs=3)
    first = dates.min()
    # one missing day inside each backtest window, another a day later in the last one
    drop = [first + pd.Timedelta(days=c + 5) for c in cutoffs] + [
        first + pd.Timedelta(days=cutoffs[-1] + 6)
    ]
    return one[~dates.isin(drop)].reset_index(drop=True)


def test_backtest_of_a_panel_with_gaps_scores_the_days_reported(gappy_campaign):
    result = backtest_campaign(
        gappy_campaign, "C001", 14, members=["seasonal_naive", "ets"], max_cutoffs=3, cache=False
    )
    hist = driver_history(gappy_campaign, "C001")
    reported = hist.counts["impressions"].notna().to_numpy()
    cutoffs = choose_cutoffs(hist.n_days, 14, max_cutoffs=3)
    assert not reported.all()  # the gaps are inside the panel, not at its ends
    # the windows overlap (a week apart, two weeks long): count each window's days
    window_days = sum(int(reported[c + 1 : c + 15].sum()) for c in cutoffs)
    assert window_days < sum(min(14, hist.n_days - 1 - c) for c in cutoffs)
    for s in [result.ensemble, *result.members.values()]:
        assert np.isfinite(s.mase)
        assert np.isfinite(s.coverage_80)
        assert s.n_points == window_days
    assert result.members["seasonal_naive"].mase == pytest.approx(1.0)
