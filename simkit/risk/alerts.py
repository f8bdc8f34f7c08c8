"""What a detector returns: an :class:`Alert`, and a :class:`RiskReport` of many."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from simkit import _display

__all__ = ["PIVOTS", "SEVERITIES", "Alert", "RiskReport"]

#: Names of the pivots an alert can point to (the pivots stage simulates them).
PIVOTS: tuple[str, ...] = (
    "creative_refresh",
    "budget_reallocation",
    "audience_expansion",
    "channel_shift",
    "check_tracking",
    "bid_adjustment",
    "budget_adjustment",
)
SEVERITIES: tuple[str, ...] = ("low", "medium", "high")


def _json_value(value: Any) -> Any:
    """Dates as ISO strings, numpy scalars as Python ones, NaN/inf (not known) as ``None``."""
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Alert:
    """One risk on one campaign, as of one day.

    Attributes
    ----------
    campaign_id
        The campaign.
    type
        The detector's registry name (``performance_dip``, ``audience_fatigue``, ...).
    probability
        Calibrated probability that the risk is real (see :mod:`simkit.risk.calibration`
        for what it was calibrated against).
    severity
        ``low`` / ``medium`` / ``high``: the size of the effect if the risk is real (how much
        was lost, how soon a threshold is crossed), independent of the probability.
    onset
        Best estimate of the first day of the change (``None`` if it has none).
    evidence
        The numbers behind the alert (effect sizes, z-scores, rival explanations).
    message
        A plain-words summary quoting those numbers.
    suggested_pivots
        Pivot names worth simulating next (from :data:`PIVOTS`).
    as_of
        The last day of data the detector saw.
    """

    campaign_id: str
    type: str
    probability: float
    severity: str
    onset: date | None
    evidence: dict[str, float | int | str | None]
    message: str
    suggested_pivots: tuple[str, ...]
    as_of: date

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (dates as ISO strings, numbers at full precision, unknown
        numbers such as a change in a metric the data lacks as ``None``)."""
        return {
            "campaign_id": self.campaign_id,
            "type": self.type,
            "probability": float(self.probability),
            "severity": self.severity,
            "onset": None if self.onset is None else self.onset.isoformat(),
            "evidence": {k: _json_value(v) for k, v in self.evidence.items()},
            "message": self.message,
            "suggested_pivots": list(self.suggested_pivots),
            "as_of": self.as_of.isoformat(),
        }


@dataclass(frozen=True)
class RiskReport:
    """All alerts for a dataset as of one day, most probable first."""

    as_of: date | None
    alerts: tuple[Alert, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """``{"as_of": ..., "alerts": [...]}``."""
        return {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "alerts": [a.to_dict() for a in self.alerts],
        }

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per alert, most probable first (message and suggested pivots included)."""
        return _display.risk_frame(self)

    def plot(self):  # noqa: ANN201 - an altair chart; altair is imported on use
        """The alerts' probabilities, coloured by severity (Altair)."""
        _display.ensure_offline_renderer()
        return _display.risk_chart(self)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)
