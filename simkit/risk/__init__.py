"""Risk detection: dips, fatigue, competitor pressure and pacing as calibrated probabilities.

>>> from simkit.risk import detect_risks, DETECTORS
>>> sorted(DETECTORS)
['audience_fatigue', 'budget_pacing', 'competitor_pressure', 'forecast_shortfall', 'performance_dip']
"""

from __future__ import annotations

from simkit.risk.alerts import PIVOTS, Alert, RiskReport
from simkit.risk.calibration import RiskModel, fit_risk_model, risk_model
from simkit.risk.detect import detect_risks
from simkit.risk.detectors import (
    DEFAULT_DETECTORS,
    DETECTORS,
    audience_fatigue,
    budget_pacing,
    competitor_pressure,
    forecast_shortfall,
    performance_dip,
    probabilities,
)
from simkit.risk.history import CampaignHistory, campaign_histories

__all__ = [
    "DEFAULT_DETECTORS",
    "DETECTORS",
    "PIVOTS",
    "Alert",
    "CampaignHistory",
    "RiskModel",
    "RiskReport",
    "audience_fatigue",
    "budget_pacing",
    "campaign_histories",
    "competitor_pressure",
    "detect_risks",
    "forecast_shortfall",
    "fit_risk_model",
    "performance_dip",
    "probabilities",
    "risk_model",
]
