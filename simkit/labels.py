"""Human labels for the keys that reach a stakeholder: metrics, events, risks, pivots, models.

One table, below the report and the charts that both show these keys (``simkit.report.format``
re-exports it), so a chart and a table never call one thing by two names.
"""

from __future__ import annotations

import re

__all__ = ["LABELS", "label"]

#: Human labels for the keys that reach a report (metrics, events, risks, pivots, models).
LABELS: dict[str, str] = {
    # metrics
    "spend": "Spend",
    "impressions": "Impressions",
    "clicks": "Clicks",
    "conversions": "Conversions",
    "revenue": "Revenue",
    "budget": "Budget",
    "reach": "Reach",
    "frequency": "Frequency",
    "ctr": "CTR",
    "cvr": "CVR",
    "cpc": "CPC",
    "cpa": "CPA",
    "cpm": "CPM",
    "roas": "ROAS",
    # probabilities and outcome bands
    "p_below_plan": "P(below plan)",
    "p_on_plan": "P(on plan)",
    "p_above_plan": "P(above plan)",
    "p_cpa_le_target": "P(CPA ≤ target)",
    "p_roas_ge_target": "P(ROAS ≥ target)",
    "p_budget_exhausted": "P(budget runs out)",
    "budget_exhausted": "P(budget runs out)",
    "below_plan": "Below plan",
    "on_plan": "On plan",
    "above_plan": "Above plan",
    "pessimistic": "Pessimistic",
    "realistic": "Realistic",
    "optimistic": "Optimistic",
    # risks
    "audience_fatigue": "Audience fatigue",
    "creative_fatigue": "Creative fatigue",
    "performance_dip": "Performance dip",
    "competitor_pressure": "Competitor pressure",
    "budget_pacing": "Budget pacing",
    "tracking_break": "Tracking break",
    # pivots
    "budget_reallocation": "Budget reallocation",
    "creative_refresh": "Creative refresh",
    "audience_expansion": "Audience expansion",
    "channel_shift": "Channel shift",
    "budget_increase": "Budget increase",
    "budget_decrease": "Budget decrease",
    # data quality
    "completeness": "Completeness",
    "consistency": "Consistency",
    "history": "History",
    "recency": "Recency",
    # forecast models, drivers and scores
    "seasonal_naive": "Seasonal naive",
    "ets": "ETS",
    "prophet": "Prophet",
    "lstm": "LSTM",
    "ensemble": "Ensemble",
    "log_cpm": "CPM (log)",
    "logit_ctr": "CTR (logit)",
    "logit_cvr": "CVR (logit)",
    "log_rpc": "Revenue per click (log)",
    "mase": "MASE",
    "smape": "sMAPE",
    "crps": "CRPS",
    "coverage_50": "50% coverage",
    "coverage_80": "80% coverage",
    "coverage_95": "95% coverage",
    "total_coverage_80": "80% coverage (totals)",
    "n_points": "Days scored",
    "weight": "Weight",
}


def label(key: str) -> str:
    """The human label of a key (``p_below_plan`` -> ``P(below plan)``).

    An unknown snake_case key reads as words (``paused_days`` -> ``Paused days``); any
    other text is returned as it is.
    """
    if key in LABELS:
        return LABELS[key]
    if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", key):
        words = key.replace("_", " ")
        return words[0].upper() + words[1:]
    return key
