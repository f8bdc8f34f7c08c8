"""Pivots: spend response curves, a budget optimiser, and ranked pivots simulated first.

>>> from simkit.pivots import PIVOT_TYPES
>>> sorted(PIVOT_TYPES)
['audience_expansion', 'budget_reallocation', 'channel_shift', 'creative_refresh']
"""

from __future__ import annotations

from simkit.pivots.curves import FAMILIES, ResponseCurve, adstock, fit_response_curve
from simkit.pivots.engine import PivotResult, find_pivots, session_engine
from simkit.pivots.impact import CommonDraws, Scenario, simulate_scenario
from simkit.pivots.optimize import OBJECTIVES, Allocation, optimize_budget, water_fill
from simkit.pivots.portfolio import Portfolio, daily_panel, fit_portfolio, todays_budget
from simkit.pivots.sessions import (
    CurveResponse,
    audience_shifts,
    campaign_response,
    campaign_seed,
    refresh_shift,
)
from simkit.pivots.types import PIVOT_TYPES, Recommendation
from simkit.simulate.fatigue import CreativeState, creative_state

__all__ = [
    "FAMILIES",
    "OBJECTIVES",
    "PIVOT_TYPES",
    "Allocation",
    "CommonDraws",
    "CreativeState",
    "CurveResponse",
    "PivotResult",
    "Portfolio",
    "Recommendation",
    "ResponseCurve",
    "Scenario",
    "adstock",
    "audience_shifts",
    "campaign_response",
    "campaign_seed",
    "creative_state",
    "daily_panel",
    "find_pivots",
    "fit_portfolio",
    "fit_response_curve",
    "optimize_budget",
    "refresh_shift",
    "session_engine",
    "simulate_scenario",
    "todays_budget",
    "water_fill",
]
