"""The scoring maths on arrays: interval coverage, quantile CRPS, PIT, the seasonal-naive scale.

Pure functions (no I/O).  Quantiles are the stored levels
(:data:`~simkit.ledger.record.LEVELS`: 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95), so the
central intervals they give are the 50% (p25-p75), 80% (p10-p90) and 90% (p5-p95) ones.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = [
    "INTERVALS",
    "PIT_EDGES",
    "SEASON_DAYS",
    "covered",
    "pit_bins",
    "pit_values",
    "quantile_crps",
    "seasonal_naive",
    "seasonal_naive_scale",
]

#: Central intervals the stored quantiles give: name -> (lower level, upper level).
INTERVALS: dict[str, tuple[str, str]] = {
    "coverage_50": ("p25", "p75"),
    "coverage_80": ("p10", "p90"),
    "coverage_90": ("p5", "p95"),
}
#: Bin edges of the PIT histogram: the stored quantile levels, so each bin is exact (an
#: actual's bin is known from the quantiles it lies between, with no interpolation).
PIT_EDGES: tuple[float, ...] = (0.0, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 1.0)
#: The seasonal naive forecast's season (weekly).
SEASON_DAYS = 7


def covered(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Whether each actual lies in its closed interval ``[lower, upper]``."""
    return (actual >= lower) & (actual <= upper)


def quantile_crps(actual: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """CRPS approximated from quantile forecasts: ``2 / K * sum_k pinball_k``.

    ``quantiles`` is ``(n, K)`` at ``levels`` ``(K,)``; the result is ``(n,)``.  This is the
    quantile CRPS of Berrisch and Ziel (2023), as ``scoringrules.crps_quantile`` computes it
    (a test checks they agree); written here so scoring needs no JIT compilation.
    """
    y = np.asarray(actual, dtype=float)[:, None]
    q = np.asarray(quantiles, dtype=float)
    a = np.asarray(levels, dtype=float)[None, :]
    diff = y - q
    pinball = np.where(diff >= 0, a * diff, (a - 1.0) * diff)
    return 2.0 * pinball.mean(axis=1)


def pit_bins(actual: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """The PIT histogram bin of each actual: ``i`` when it lies between quantile ``i-1`` and
    quantile ``i`` (0 below the lowest, ``K`` above the highest); ties go to the middle of
    the tied levels' bins, so an actual equal to a run of equal quantiles is not pushed to
    one side."""
    y = np.asarray(actual, dtype=float)[:, None]
    q = np.asarray(quantiles, dtype=float)
    below = (q < y).sum(axis=1)  # quantiles strictly below the actual
    at_most = (q <= y).sum(axis=1)  # ... or equal to it
    return np.floor((below + at_most) / 2.0 + 0.5).astype(int)


def pit_values(actual: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """A PIT value per actual: the forecast CDF at the actual, interpolated linearly between
    the stored quantiles; outside them, the middle of the tail (``levels[0] / 2`` below the
    lowest, ``(1 + levels[-1]) / 2`` above the highest).  Ties take the middle of the tied
    levels."""
    y = np.asarray(actual, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    lv = np.asarray(levels, dtype=float)
    k = q.shape[1]
    lo = (q < y[:, None]).sum(axis=1)  # quantiles strictly below the actual
    hi = (q <= y[:, None]).sum(axis=1)  # ... or equal to it
    out = np.empty(len(y))
    below, above = hi == 0, lo == k
    tied = (hi > lo) & ~below & ~above
    between = ~(below | above | tied)
    out[below] = lv[0] / 2.0
    out[above] = (1.0 + lv[-1]) / 2.0
    out[tied] = (lv[lo[tied]] + lv[hi[tied] - 1]) / 2.0
    rows = np.nonzero(between)[0]
    j = lo[rows]
    x0, x1 = q[rows, j - 1], q[rows, j]
    out[rows] = lv[j - 1] + (lv[j] - lv[j - 1]) * (y[rows] - x0) / (x1 - x0)
    return out


def pit_z(pit: np.ndarray) -> np.ndarray:
    """PIT values on the standard normal scale (``N(0, 1)`` when the forecast is calibrated)."""
    return norm.ppf(np.clip(np.asarray(pit, dtype=float), 1e-6, 1 - 1e-6))


def seasonal_naive_scale(history: np.ndarray, season: int = SEASON_DAYS) -> float | None:
    """Mean absolute error of the in-sample seasonal naive forecast ``y[t - season]`` over
    ``history`` (the MASE scale; NaN days are skipped); ``None`` without two days a season
    apart or when every such error is 0."""
    y = np.asarray(history, dtype=float)
    if len(y) <= season:
        return None
    err = np.abs(y[season:] - y[:-season])
    err = err[np.isfinite(err)]
    if not len(err) or float(err.mean()) <= 0.0:
        return None
    return float(err.mean())


def seasonal_naive(history: np.ndarray, horizon: int, season: int = SEASON_DAYS) -> np.ndarray:
    """The seasonal naive forecast from the end of ``history``: the last ``season`` days
    repeated (NaN where the history has no value)."""
    y = np.asarray(history, dtype=float)
    if len(y) < season:
        return np.full(horizon, np.nan)
    last = y[-season:]
    return np.array([last[h % season] for h in range(horizon)])
