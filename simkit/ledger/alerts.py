"""Degradation and drift alerts on the champion's scored days, per campaign.

Each actual day is judged once, by the latest forecast that covers it (the shortest
horizon), in date order.  Three tests:

* ``coverage``: the 80% interval's hits over the last :data:`WINDOW_DAYS` days against a
  Binomial(n, 0.8), two-sided exact test (:func:`scipy.stats.binomtest`) at
  :data:`COVERAGE_ALPHA`, and only from :data:`MIN_DAYS` days on, so that three days are not
  a verdict.  ``since`` is the first day in the window outside the interval.
* ``worse_than_naive``: over the last :data:`NAIVE_WINDOW_DAYS` days, the median's mean
  absolute error above :data:`NAIVE_RATIO` times that of the seasonal naive forecast made
  from the same ``as_of`` (the last week repeated).
* ``drift``: a two-sided CUSUM on the PIT values mapped to the normal scale
  (``z = Phi^-1(PIT)``, ``N(0, 1)`` when calibrated), allowance :data:`CUSUM_K` and
  threshold :data:`CUSUM_H` (in standard deviations).  A calibrated forecast's errors are
  correlated from day to day, more than an i.i.d. CUSUM assumes, so the allowance is one
  standard deviation: only a shift of the actuals beyond the forecast's p84 (or p16), day
  after day, accumulates.  ``since`` is the day the sum last left zero.

An alert is ``{"campaign_id", "metric", "kind", "since", "evidence"}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from simkit.ledger.metrics import pit_z

__all__ = [
    "COVERAGE_ALPHA",
    "CUSUM_H",
    "CUSUM_K",
    "MIN_DAYS",
    "NAIVE_RATIO",
    "NAIVE_WINDOW_DAYS",
    "WINDOW_DAYS",
    "campaign_alerts",
    "cusum",
    "detect_alerts",
    "judged_days",
]

WINDOW_DAYS = 28
MIN_DAYS = 10
COVERAGE_ALPHA = 0.01
NAIVE_WINDOW_DAYS = 14
NAIVE_RATIO = 1.25
CUSUM_K = 1.0
CUSUM_H = 6.0


def judged_days(days: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign and date: the scored day of the latest forecast (latest
    ``as_of``) covering it, in date order."""
    if days.empty:
        return days
    keys = ["campaign_id", "date"] if "campaign_id" in days else ["date"]
    ordered = days.sort_values([*keys, "as_of", "forecast_id"], kind="stable")
    return ordered.drop_duplicates(keys, keep="last").reset_index(drop=True)


def cusum(z: np.ndarray, *, k: float = CUSUM_K, h: float = CUSUM_H) -> dict[str, Any] | None:
    """The first crossing of a two-sided CUSUM on ``z``: ``{"index", "start", "direction",
    "statistic"}`` (``start``: where that sum last left zero), or ``None``."""
    up = down = 0.0
    up_start = down_start = 0
    for i, value in enumerate(np.asarray(z, dtype=float)):
        if up == 0.0:
            up_start = i
        if down == 0.0:
            down_start = i
        up = max(0.0, up + value - k)
        down = max(0.0, down - value - k)
        if up > h:
            return {"index": i, "start": up_start, "direction": "above", "statistic": up}
        if down > h:
            return {"index": i, "start": down_start, "direction": "below", "statistic": down}
    return None


def _day(value: Any) -> str:
    return str(np.datetime64(value, "D"))


def campaign_alerts(days: pd.DataFrame, campaign_id: str, metric: str) -> list[dict[str, Any]]:
    """The alerts of one campaign's scored champion days (see the module docstring)."""
    judged = judged_days(days)
    return _alerts(
        campaign_id,
        metric,
        judged["date"].to_numpy(dtype="datetime64[D]"),
        judged["in_80"].to_numpy(dtype=bool),
        judged["abs_error"].to_numpy(dtype=float),
        judged["naive_abs_error"].to_numpy(dtype=float),
        judged["pit"].to_numpy(dtype=float),
    )


def _alerts(
    campaign_id: str,
    metric: str,
    dates: np.ndarray,
    in_80: np.ndarray,
    abs_error: np.ndarray,
    naive_abs_error: np.ndarray,
    pit: np.ndarray,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = min(len(dates), WINDOW_DAYS)
    if n >= MIN_DAYS:
        window, hits_mask = dates[-n:], in_80[-n:]
        hits = int(hits_mask.sum())
        test = binomtest(hits, n, 0.8, alternative="less")
        if test.pvalue < COVERAGE_ALPHA:
            outside = window[~hits_mask]
            out.append(
                {
                    "campaign_id": campaign_id,
                    "metric": metric,
                    "kind": "coverage",
                    "since": _day(outside[0] if len(outside) else window[0]),
                    "evidence": {
                        "interval": "80%",
                        "days": n,
                        "covered": hits,
                        "coverage": hits / n,
                        "nominal": 0.8,
                        "p_value": float(test.pvalue),
                        "from": _day(window[0]),
                        "to": _day(window[-1]),
                    },
                }
            )
    recent = slice(max(len(dates) - NAIVE_WINDOW_DAYS, 0), len(dates))
    ok = np.isfinite(naive_abs_error[recent])
    if ok.sum() >= MIN_DAYS // 2 + 2:
        model = float(abs_error[recent][ok].mean())
        naive = float(naive_abs_error[recent][ok].mean())
        if naive > 0 and model > NAIVE_RATIO * naive:
            out.append(
                {
                    "campaign_id": campaign_id,
                    "metric": metric,
                    "kind": "worse_than_naive",
                    "since": _day(dates[recent][ok][0]),
                    "evidence": {
                        "days": int(ok.sum()),
                        "mae": model,
                        "naive_mae": naive,
                        "ratio": model / naive,
                        "threshold": NAIVE_RATIO,
                    },
                }
            )
    if len(dates) >= 2:
        found = cusum(pit_z(pit))
        if found is not None:
            out.append(
                {
                    "campaign_id": campaign_id,
                    "metric": metric,
                    "kind": "drift",
                    "since": _day(dates[found["start"]]),
                    "evidence": {
                        "test": "two-sided CUSUM on Phi^-1(PIT)",
                        "direction": f"actuals {found['direction']} the forecast",
                        "statistic": float(found["statistic"]),
                        "k": CUSUM_K,
                        "h": CUSUM_H,
                        "crossed_on": _day(dates[found["index"]]),
                        "days": int(found["index"]) + 1,
                    },
                }
            )
    return out


def detect_alerts(days: pd.DataFrame) -> list[dict[str, Any]]:
    """Alerts for every campaign in ``days`` (all scored days; only the champion's judged)."""
    if days.empty:
        return []
    judged = judged_days(days[days["config"] == "champion"])
    dates = judged["date"].to_numpy(dtype="datetime64[D]")
    in_80 = judged["in_80"].to_numpy(dtype=bool)
    abs_error = judged["abs_error"].to_numpy(dtype=float)
    naive = judged["naive_abs_error"].to_numpy(dtype=float)
    pit = judged["pit"].to_numpy(dtype=float)
    metrics = judged["metric"].to_numpy()
    out = []
    for cid, rows in sorted(judged.groupby("campaign_id", sort=True).indices.items()):
        out.extend(
            _alerts(
                str(cid),
                str(metrics[rows[0]]),
                dates[rows],
                in_80[rows],
                abs_error[rows],
                naive[rows],
                pit[rows],
            )
        )
    return out
