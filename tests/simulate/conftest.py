"""Driver forecasts with known parameters, built explicitly (the real hand-over object)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.forecast.base import DriverForecast


def make_forecast(
    horizon_days: int = 28,
    *,
    spend: float = 800.0,
    cpm: float = 10.0,
    ctr: float = 0.015,
    cvr: float = 0.03,
    rpc: float = 80.0,
    scale: float = 0.1,
    ar: float = 0.6,
    elasticity: tuple[float, float, float, float] = (0.4, 0.0, 0.0, 0.0),
    start: str = "2026-03-02",
    campaign_id: str = "C1",
    corr: np.ndarray | None = None,
    df: float = float("inf"),
) -> DriverForecast:
    dates = pd.date_range(start, periods=horizon_days, freq="D")
    center = np.tile(
        [np.log(cpm), np.log(ctr / (1 - ctr)), np.log(cvr / (1 - cvr)), np.log(rpc)],
        (horizon_days, 1),
    )
    return DriverForecast(
        campaign_id=campaign_id,
        dates=dates,
        spend_plan=np.full(horizon_days, spend),
        center=center,
        scale=np.full((horizon_days, 4), scale),
        ar_coef=np.full(4, ar),
        driver_corr=np.eye(4) if corr is None else corr,
        spend_elasticity=np.array(elasticity),
        df=df,
    )


def empirical_forecaster(history, campaign_id, horizon_days, spend_plan, seed):  # noqa: ANN001
    """A transparent test forecaster: last 28 days' mean and sd of each observed driver."""
    daily = history.groupby("date")[["spend", "impressions", "clicks", "conversions", "revenue"]]
    daily = daily.sum().tail(28)
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
        spend_plan=np.asarray(spend_plan, dtype=float),
        center=np.tile(obs.mean(axis=0), (horizon_days, 1)),
        scale=np.tile(obs.std(axis=0, ddof=1), (horizon_days, 1)),
        ar_coef=np.full(4, 0.5),
        spend_elasticity=np.array([0.3, 0.0, 0.0, 0.0]),
    )


@pytest.fixture
def forecast() -> DriverForecast:
    return make_forecast()
