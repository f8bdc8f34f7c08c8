"""The forecast ledger: every issued forecast kept, scored against actuals, watched for drift.

Forecasts are recorded when ``simkit simulate``, ``simkit run`` and the dashboard's baseline
issue them (:func:`record_simulation`), in the run registry's database
(:class:`~simkit.ledger.store.Ledger`).  :func:`score_ledger` scores them once actuals
arrive (coverage, MASE, CRPS, bias, PIT), raises degradation and drift alerts
(:mod:`simkit.ledger.alerts`) and invalidates an alerted campaign's fits;
:func:`compare_challengers` tests a shadow configuration against the champion;
:func:`give_feedback` stores a stakeholder's verdict.
"""

from __future__ import annotations

from simkit.ledger.api import (
    CampaignHealth,
    campaign_health,
    compare_challengers,
    give_feedback,
    invalidate_campaign,
    record_report,
    score_ledger,
)
from simkit.ledger.compare import Comparison, compare_configs
from simkit.ledger.performance import ModelPerformance, model_performance
from simkit.ledger.record import CHAMPION, ForecastRecord, capturing_forecaster, record_simulation
from simkit.ledger.score import ForecastScore, LedgerScores, score_forecast, score_forecasts
from simkit.ledger.store import Ledger, LedgerError

__all__ = [
    "CHAMPION",
    "CampaignHealth",
    "Comparison",
    "ForecastRecord",
    "ForecastScore",
    "Ledger",
    "LedgerError",
    "LedgerScores",
    "ModelPerformance",
    "campaign_health",
    "capturing_forecaster",
    "compare_challengers",
    "compare_configs",
    "give_feedback",
    "invalidate_campaign",
    "model_performance",
    "record_report",
    "record_simulation",
    "score_forecast",
    "score_forecasts",
    "score_ledger",
]
