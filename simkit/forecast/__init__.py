"""Forecasting layer: funnel drivers, forecast members, rolling-origin backtests, the
weighted ensemble with conformal intervals, and the :class:`DriverForecast` hand-over."""

from __future__ import annotations

from simkit.forecast.api import (
    DEFAULT_MEMBERS,
    BacktestResult,
    CampaignForecast,
    backtest_all,
    backtest_campaign,
    forecast_campaign,
)
from simkit.forecast.base import DRIVERS, DriverForecast
from simkit.forecast.cache import ForecastCache
from simkit.forecast.diagnostics import CalibrationCheck, calibration_check
from simkit.forecast.drivers import DriverHistory, driver_history
from simkit.forecast.ensemble import METRICS, MemberScore
from simkit.forecast.members import (
    ENTRY_POINT_GROUP,
    FALLBACK,
    MEMBERS,
    Forecaster,
    Member,
    known_members,
    register_member,
)

__all__ = [
    "DEFAULT_MEMBERS",
    "DRIVERS",
    "ENTRY_POINT_GROUP",
    "FALLBACK",
    "MEMBERS",
    "METRICS",
    "BacktestResult",
    "CalibrationCheck",
    "CampaignForecast",
    "DriverForecast",
    "DriverHistory",
    "ForecastCache",
    "Forecaster",
    "Member",
    "MemberScore",
    "backtest_all",
    "backtest_campaign",
    "calibration_check",
    "driver_history",
    "forecast_campaign",
    "known_members",
    "register_member",
]
