"""The campaign facts a prompt may hold, computed from the campaign-day panel.

Aggregates only: sums and ratios of the last 28 days, and weekly sums, from the panel's
one row per campaign-day (:class:`simkit.data.panel.CampaignPanel`), so the prompt and the
report read the campaign the same way.  Names match :mod:`simkit.llm.prompts`' allowlists.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RECENT_DAYS", "recent_facts", "weekly_facts"]

RECENT_DAYS = 28
_SUMS = ("spend", "impressions", "clicks", "conversions", "revenue")


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _ratio(a: float | None, b: float | None, scale: float = 1.0) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b * scale


def _dated(daily: pd.DataFrame) -> pd.DataFrame:
    """Panel rows with a ``date`` column (:meth:`CampaignPanel.campaign` indexes by date)."""
    if "date" in daily.columns:
        return daily.assign(date=pd.to_datetime(daily["date"]))
    return daily.rename_axis("date").reset_index()


def recent_facts(daily: pd.DataFrame, days: int = RECENT_DAYS) -> dict[str, Any]:
    """``recent.*`` facts over the last ``days`` days of one campaign's panel rows."""
    last = _dated(daily).sort_values("date").tail(days)
    sums = {c: _num(np.nansum(last[c].to_numpy(dtype=float))) if c in last else None for c in _SUMS}
    s, imp, clk, conv, rev = (sums[c] for c in _SUMS)
    out: dict[str, Any] = {"recent.days": int(len(last))}
    out.update({f"recent.{c}": v for c, v in sums.items()})
    out["recent.cpm"] = _ratio(s, imp, 1000.0)
    out["recent.ctr"] = _ratio(clk, imp)
    out["recent.cvr"] = _ratio(conv, clk)
    out["recent.cpa"] = _ratio(s, conv)
    out["recent.roas"] = _ratio(rev, s) if rev else None
    return out


def weekly_facts(daily: pd.DataFrame, weeks: int = 8) -> list[dict[str, Any]]:
    """Spend, conversions and CPA of the last ``weeks`` whole weeks (Monday starts)."""
    frame = _dated(daily)
    frame = frame.assign(week=frame["date"].dt.to_period("W-SUN").dt.start_time)
    cols = [c for c in ("spend", "conversions") if c in frame]
    grouped = frame.groupby("week")[cols].sum(min_count=1).tail(weeks)
    out = []
    for week, row in grouped.iterrows():
        spend, conv = _num(row.get("spend")), _num(row.get("conversions"))
        out.append(
            {
                "week_start": pd.Timestamp(week).date().isoformat(),
                "spend": None if spend is None else round(spend, 2),
                "conversions": None if conv is None else round(conv, 1),
                "cpa": None if _ratio(spend, conv) is None else round(spend / conv, 2),
            }
        )
    return out
