"""Fixtures for the dashboard: the small fixture data and a transparent, fast forecaster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simkit._resources import dashboard_sample
from simkit.dashboard.model import DashboardSettings, WhatIfModel
from simkit.data import load
from simkit.forecast.base import DriverForecast

#: the sample data simkit ships for the dashboard (three campaigns, 70 days)
DATA = dashboard_sample()


class CountingForecaster:
    """Last 28 days' mean and sd of each observed driver; counts its calls.

    A real :class:`DriverForecast` with a CPM spend elasticity, so the view-model's logic is
    tested in milliseconds; the project's forecaster has its own tests.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(
        self,
        history: pd.DataFrame,
        campaign_id: str,
        horizon_days: int,
        spend_plan: np.ndarray,
        seed: int,
    ) -> DriverForecast:
        self.calls.append((campaign_id, horizon_days))
        cols = ["spend", "impressions", "clicks", "conversions", "revenue"]
        daily = history.groupby("date")[cols].sum().tail(28).clip(lower=0.5)
        obs = np.column_stack(
            [
                np.log(1000 * daily["spend"] / daily["impressions"]),
                np.log(daily["clicks"] / (daily["impressions"] - daily["clicks"])),
                np.log(daily["conversions"] / (daily["clicks"] - daily["conversions"])),
                np.log(daily["revenue"] / daily["conversions"]),
            ]
        )
        last = pd.Timestamp(history["date"].max())
        dates = pd.date_range(last + pd.Timedelta(days=1), periods=horizon_days, freq="D")
        return DriverForecast(
            campaign_id=campaign_id,
            dates=dates,
            spend_plan=np.asarray(spend_plan, float),
            center=np.tile(obs.mean(axis=0), (horizon_days, 1)),
            scale=np.tile(obs.std(axis=0, ddof=1), (horizon_days, 1)),
            ar_coef=np.full(4, 0.5),
            spend_elasticity=np.array([0.3, -0.05, 0.0, 0.0]),
        )


@pytest.fixture(scope="session")
def fixture_data() -> Path:
    return DATA


@pytest.fixture(scope="session")
def loaded():
    return load(DATA)


@pytest.fixture()
def forecaster() -> CountingForecaster:
    return CountingForecaster()


@pytest.fixture()
def make_model(loaded, forecaster):
    def make(**settings) -> WhatIfModel:
        values = {"data": str(DATA), "n_paths": 2_000, **settings}
        return WhatIfModel(
            loaded.data,
            DashboardSettings(**values),
            campaigns=loaded.campaigns,
            forecast_fn=forecaster,
        )

    return make


@pytest.fixture()
def model(make_model) -> WhatIfModel:
    return make_model()
