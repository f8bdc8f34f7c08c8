from __future__ import annotations

import numpy as np
import pytest

from simkit.errors import ParamsError
from simkit.forecast.drivers import calendar_features, driver_history
from simkit.forecast.members import (
    FALLBACK,
    MEMBERS,
    Forecaster,
    ProphetMember,
    SeasonalNaive,
    make_member,
)
from simkit.forecast.neural import neural_available


@pytest.fixture(scope="module")
def series(one_campaign):
    hist = driver_history(one_campaign, "C001")
    X = calendar_features(hist.dates, hist.log_spend(), "US")
    return hist, X


def test_registry_lists_the_members_and_the_fallback():
    assert set(MEMBERS) == {"seasonal_naive", "ets", "sarimax", "prophet", "lstm", "llm"}
    assert FALLBACK in MEMBERS
    for name in MEMBERS:
        member = make_member(name)
        assert isinstance(member, Forecaster)
        assert member.alias == name
        assert not any(k.endswith("_") for k in member.get_params())


def test_unknown_member_suggests_the_closest_name():
    with pytest.raises(ParamsError, match="did you mean 'sarimax'"):
        make_member("sarimx")


def test_seasonal_naive_repeats_the_last_week(series):
    hist, _ = series
    pred = SeasonalNaive().fit(hist.drivers).predict(10)
    last = hist.drivers.to_numpy()[-7:]
    assert np.array_equal(pred[:7], last) and np.array_equal(pred[7:], last[:3])


def test_predict_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="fit"):
        make_member("ets").predict(3)


@pytest.mark.parametrize("name", ["ets", "sarimax"])
def test_statistical_members_forecast_every_driver_close_to_the_level(series, name):
    hist, X = series
    n, h = 70, 14
    pred = make_member(name).fit(hist.drivers.iloc[:n], X.iloc[:n]).predict(h, X.iloc[n : n + h])
    assert pred.shape == (h, 4) and np.all(np.isfinite(pred))
    actual = hist.drivers.to_numpy()[n : n + h]
    # drivers are stable: forecasts must be within a few sd of the actual level
    assert np.all(np.abs(pred.mean(0) - actual.mean(0)) < 4 * hist.drivers.std().to_numpy())


def test_sarimax_uses_the_spend_plan(series):
    hist, X = series
    m = make_member("sarimax").fit(hist.drivers.iloc[:70], X.iloc[:70])
    future = X.iloc[70:84].copy()
    low = m.predict(14, future)
    future["log_spend"] += np.log(2.0)
    high = m.predict(14, future)
    # CPM rises with spend in the synthetic truth: doubling spend raises forecast log CPM
    assert np.all(high[:, 0] > low[:, 0])


@pytest.mark.slow
def test_prophet_member_fits_and_forecasts(series):
    hist, X = series
    pred = make_member("prophet").fit(hist.drivers.iloc[:70], X.iloc[:70]).predict(7, X.iloc[70:77])
    assert pred.shape == (7, 4) and np.all(np.isfinite(pred))
    # the drivers' fits run on two threads by default: same result as one after another
    serial = ProphetMember(n_jobs=1).fit(hist.drivers.iloc[:70], X.iloc[:70])
    assert np.array_equal(serial.predict(7, X.iloc[70:77]), pred)


@pytest.mark.slow
@pytest.mark.skipif(not neural_available(), reason="torch / pytorch-lightning not installed")
def test_lstm_is_deterministic_for_a_seed_and_differs_across_seeds(series):
    import torch

    from simkit.forecast.neural import LSTMMember

    hist, X = series
    y, Xf = hist.drivers.iloc[:70], X.iloc[70:77]
    state = torch.random.get_rng_state()
    a = LSTMMember(seed=1, max_epochs=5).fit(y, X.iloc[:70]).predict(7, Xf)
    b = LSTMMember(seed=1, max_epochs=5).fit(y, X.iloc[:70]).predict(7, Xf)
    c = LSTMMember(seed=2, max_epochs=5).fit(y, X.iloc[:70]).predict(7, Xf)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == (7, 4) and np.all(np.isfinite(a))
    assert torch.equal(state, torch.random.get_rng_state())  # global torch RNG untouched
