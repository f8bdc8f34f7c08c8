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
def test_prophet_drivers_sharing_features_fit_as_separate_prophets(series):
    """The drivers' models share one feature build (issue 21); each must be the Prophet
    fitted on its own, with L-BFGS (which Prophet itself picks only from 100 days on)."""
    import pandas as pd

    hist, X = series
    n = 63
    member = ProphetMember().fit(hist.drivers.iloc[:n], X.iloc[:n])
    frame = pd.DataFrame({"ds": hist.dates[:n]})
    for column in member.extra_:
        frame[column] = X[column].to_numpy(dtype=float)[:n]
    for j, model in enumerate(member.models_):
        alone = model.__class__(
            growth="linear",
            yearly_seasonality=False,
            weekly_seasonality=True,
            daily_seasonality=False,
            n_changepoints=member.n_changepoints,
            changepoint_prior_scale=member.changepoint_prior_scale,
            uncertainty_samples=0,
        )
        for column in member.extra_:
            alone.add_regressor(column, standardize=column == "log_spend")
        alone.fit(frame.assign(y=hist.drivers.iloc[:n, j].to_numpy()), algorithm="LBFGS")
        assert "make_all_seasonality_features" not in vars(model)  # no closure left behind
        for name, value in alone.params.items():
            assert np.array_equal(model.params[name], value), name
        assert model.train_component_cols.equals(alone.train_component_cols)


@pytest.mark.slow
def test_prophet_point_forecast_is_prophets_own_predict(series):
    """The member computes yhat from the fitted parameters (issue 21: Prophet's predict
    built component frames that cost a third of the forecast); it must be Prophet's number."""
    import pandas as pd

    from simkit.forecast.members import _prophet_point

    hist, X = series
    n, h = 63, 21
    member = ProphetMember().fit(hist.drivers.iloc[:n], X.iloc[:n])
    assert member.extra_  # the regressors' path is exercised
    future = pd.DataFrame({"ds": hist.dates[n : n + h]})
    for column in member.extra_:
        future[column] = X[column].to_numpy(dtype=float)[n : n + h] + 0.3  # off the history
    ours = member.predict(h, future)
    theirs = np.column_stack([m.predict(future)["yhat"].to_numpy() for m in member.models_])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    # a model the member does not build (holidays by name, multiplicative) goes through predict
    other = member.models_[0].__class__(
        uncertainty_samples=0, seasonality_mode="multiplicative", yearly_seasonality=False
    )
    other.add_country_holidays("US")
    other.fit(pd.DataFrame({"ds": hist.dates[:n], "y": hist.drivers.iloc[:n, 0].to_numpy()}))
    frame = pd.DataFrame({"ds": hist.dates[n : n + h]})
    np.testing.assert_allclose(
        _prophet_point(other, frame), other.predict(frame)["yhat"].to_numpy(), rtol=1e-12
    )


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


@pytest.mark.slow
def test_prophet_is_imported_without_matplotlib_which_stays_importable():
    """Prophet's plotting import of matplotlib was half its import time (issue 21)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from simkit.forecast.members import _prophet_class\n"
        "_prophet_class()\n"
        "assert 'prophet.forecaster' in sys.modules\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
        "import matplotlib.pyplot\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr.lower()  # no ERROR line about plotting
