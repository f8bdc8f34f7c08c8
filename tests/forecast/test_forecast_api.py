from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simkit.errors import ForecastError, ParamsError
from simkit.forecast import MEMBERS, DriverForecast, ForecastCache, forecast_campaign
from simkit.forecast.api import backtest_campaign
from simkit.forecast.members import SeasonalNaive

from ._coverage import assert_coverage_is_a_backtest_proportion, assert_coverage_near_nominal

FAST = ["seasonal_naive", "ets", "sarimax"]


class _Broken(SeasonalNaive):
    name = "broken"

    def fit(self, y, X=None):
        raise RuntimeError("boom")


class _Spy(SeasonalNaive):
    """Records the last training day it saw, to prove no actual leaks past a cutoff."""

    name = "spy"
    seen: list = []

    def fit(self, y, X=None):
        _Spy.seen.append((y.index[-1], len(y)))
        return super().fit(y, X)


@pytest.fixture(scope="module")
def fc(one_campaign):
    return forecast_campaign(one_campaign, "C001", 14, members=FAST, max_cutoffs=3, cache=False)


@pytest.mark.slow
def test_forecast_is_a_driver_forecast_for_the_plan(fc, one_campaign):
    d = fc.drivers
    assert isinstance(d, DriverForecast)
    assert d.center.shape == (14, 4) and d.scale.shape == (14, 4)
    assert d.dates[0] == pd.Timestamp(one_campaign["date"].max()) + pd.Timedelta(days=1)
    assert np.all(d.scale > 0) and np.all(np.abs(d.ar_coef) < 1)
    assert np.allclose(d.driver_corr, d.driver_corr.T)
    assert any("no spend plan given" in n for n in fc.notes)
    for driver in ("log_cpm", "logit_ctr", "logit_cvr", "log_rpc"):
        assert sum(fc.weights[m][driver] for m in fc.members) == pytest.approx(1.0)
    paths = d.sample(200, np.random.default_rng(0))
    assert paths.shape == (200, 14, 4)
    # the level shares the simulation uses come from the same backtests
    assert np.all((d.level_share >= 0) & (d.level_share < 1))
    assert np.all(np.abs(d.level_ar_coef) < 1)
    assert fc.point_volumes()["conversions"].gt(0).all()


@pytest.mark.slow
def test_spend_elasticity_of_cpm_is_recovered_roughly(fc, world):
    truth = world.truth["C001"].cpm_spend_elasticity
    assert fc.drivers.spend_elasticity[0] == pytest.approx(truth, abs=0.2)
    assert abs(fc.drivers.spend_elasticity[2]) < 0.2  # CVR does not depend on spend


@pytest.mark.slow
def test_backtest_json_has_the_issue_shape(fc):
    out = json.loads(json.dumps(fc.backtest.to_dict()))
    assert {"campaign_id", "horizon", "cutoffs", "metric", "members", "ensemble"} <= set(out)
    keys = {"mase", "smape", "crps", "coverage_50", "coverage_80", "coverage_95", "weight"}
    assert set(out["members"]) == set(FAST)
    for scores in [*out["members"].values(), out["ensemble"]]:
        assert keys <= set(scores)
        assert_coverage_is_a_backtest_proportion(scores, len(out["cutoffs"]) * 14)
    assert_coverage_near_nominal(out["ensemble"])
    assert out["members"]["seasonal_naive"]["mase"] == pytest.approx(1.0)
    assert len(out["cutoffs"]) == 3 and out["metric"] == "conversions"


@pytest.mark.slow
def test_a_plan_moves_the_centre_like_with_plan(one_campaign, fc, world):
    plan = np.full(14, 2.0) * fc.drivers.spend_plan
    members = ["seasonal_naive", "sarimax"]
    base, other = (
        forecast_campaign(
            one_campaign, "C001", 14, plan=p, members=members, max_cutoffs=3, cache=False
        )
        for p in (fc.drivers.spend_plan, plan)
    )
    assert np.allclose(other.drivers.spend_plan, plan)
    # doubling the plan raises log CPM by about the true spend elasticity x log 2 (0.20 here)
    rise = other.drivers.center[:, 0].mean() - base.drivers.center[:, 0].mean()
    truth = world.truth["C001"].cpm_spend_elasticity
    assert rise == pytest.approx(truth * np.log(2), abs=0.1)


def test_too_short_history_is_refused(campaign):
    one_campaign, cid = campaign
    short = one_campaign.iloc[:10]
    with pytest.raises(ForecastError, match="at least 14"):
        forecast_campaign(short, cid, 7, members=["seasonal_naive"], cache=False)


def test_short_history_warns_and_drops_members(campaign):
    one_campaign, cid = campaign
    short = one_campaign.iloc[:25]
    fc = forecast_campaign(short, cid, 7, members=["seasonal_naive", "prophet"], cache=False)
    assert fc.members == ("seasonal_naive",)
    text = " ".join(fc.warnings)
    assert "'prophet' dropped" in text and "short history" in text


def test_failing_member_is_replaced_by_the_fallback_with_a_warning(campaign, monkeypatch):
    one_campaign, cid = campaign
    monkeypatch.setitem(MEMBERS, "broken", _Broken)
    fc = forecast_campaign(
        one_campaign, cid, 7, members=["seasonal_naive", "broken"], max_cutoffs=2, cache=False
    )
    assert "broken" in fc.members
    assert any("'broken' failed" in w and "replaced by seasonal_naive" in w for w in fc.warnings)
    assert np.allclose(fc.member_forecasts["broken"], fc.member_forecasts["seasonal_naive"])


def test_backtest_never_trains_past_the_cutoff(campaign, monkeypatch):
    one_campaign, cid = campaign
    monkeypatch.setitem(MEMBERS, "spy", _Spy)
    _Spy.seen.clear()
    result = backtest_campaign(
        one_campaign, cid, 7, members=["seasonal_naive", "spy"], max_cutoffs=3, cache=False
    )
    last_days = [pd.Timestamp(d) for d, _ in _Spy.seen[:3]]
    assert last_days == [pd.Timestamp(c) for c in result.cutoffs]


def test_cache_hit_on_rerun_and_miss_when_data_change(campaign, tmp_path):
    one_campaign, cid = campaign
    cache = ForecastCache(tmp_path / "cache")
    args = dict(members=["seasonal_naive"], max_cutoffs=2, cache=cache)
    a = forecast_campaign(one_campaign, cid, 7, **args)
    b = forecast_campaign(one_campaign, cid, 7, **args)
    assert (a.cache["hit"], b.cache["hit"]) == (False, True)
    assert np.array_equal(a.drivers.center, b.drivers.center)
    changed = one_campaign.assign(clicks=one_campaign["clicks"] + 1)
    c = forecast_campaign(changed, cid, 7, **args)
    assert c.cache["hit"] is False
    # a miss looks up the scored result, then the fits: two lookups
    assert cache.stats()["hits"] == 1 and cache.stats()["misses"] == 4


def test_same_seed_same_scores_other_seed_differs(campaign):
    one_campaign, cid = campaign
    args = dict(members=["seasonal_naive"], max_cutoffs=2, cache=False)
    a = backtest_campaign(one_campaign, cid, 7, seed=1, **args)
    b = backtest_campaign(one_campaign, cid, 7, seed=1, **args)
    c = backtest_campaign(one_campaign, cid, 7, seed=2, **args)
    assert a.ensemble == b.ensemble
    assert a.ensemble.crps != c.ensemble.crps  # sampling for CRPS/coverage is seeded


def test_bad_parameters_are_clear_errors(campaign):
    one_campaign, cid = campaign
    with pytest.raises(ParamsError, match="did you mean 'conversions'"):
        backtest_campaign(one_campaign, cid, 7, metric="conversion", cache=False)
    with pytest.raises(ParamsError, match="plan has 3 values"):
        forecast_campaign(one_campaign, cid, 7, plan=[1, 2, 3], cache=False)
    with pytest.raises(ParamsError, match="unknown member"):
        forecast_campaign(one_campaign, cid, 7, members=["arima"], cache=False)


@pytest.mark.parametrize("metric", ["log_cpm", "clicks", "revenue"])
def test_other_metrics(campaign, metric):
    one_campaign, cid = campaign
    r = backtest_campaign(
        one_campaign,
        cid,
        7,
        members=["seasonal_naive"],
        max_cutoffs=2,
        metric=metric,
        cache=False,
    )
    assert r.metric == metric and np.isfinite(r.ensemble.mase)
