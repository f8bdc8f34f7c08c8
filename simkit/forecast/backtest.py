"""Rolling-origin backtests: refit every member at several cutoffs on the data up to each
cutoff only, forecast the next days with the spend plan taken as known (the actual spend,
which the advertiser decided in advance), and keep the forecasts beside the actuals.

Scoring and calibration of what is produced here live in :mod:`simkit.forecast.ensemble`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simkit.data.schema import MIN_HISTORY_DAYS
from simkit.forecast.base import DRIVERS
from simkit.forecast.drivers import DriverHistory, calendar_features
from simkit.forecast.members import FALLBACK, make_member

__all__ = ["BacktestRun", "choose_cutoffs", "run_backtest", "fit_predict"]

log = logging.getLogger(__name__)


def choose_cutoffs(
    n_days: int,
    horizon_days: int,
    *,
    step_days: int = 7,
    max_cutoffs: int = 5,
    min_cutoffs: int = 3,
) -> list[int]:
    """Positions (0-based index of the last training day) of the backtest cutoffs, oldest first.

    Cutoffs are ``step_days`` apart and keep at least ``min(MIN_HISTORY_DAYS, n_days - 7)``
    training days.  Cutoffs whose evaluation window holds the whole horizon come first (the
    latest ``max_cutoffs`` of them); when there are fewer than ``min_cutoffs`` of those
    (short histories), later cutoffs with windows truncated at the end of the data are added,
    so that even a month of history gives some evidence.
    """
    if n_days < MIN_HISTORY_DAYS:
        return []
    min_train = min(MIN_HISTORY_DAYS, n_days - 7)
    candidates = [n_days - 1 - step_days * k for k in range(1, n_days // step_days + 1)]
    candidates = [c for c in candidates if c + 1 >= min_train]
    full = [c for c in candidates if c + horizon_days <= n_days - 1]
    chosen = full[:max_cutoffs]
    if len(chosen) < min_cutoffs:
        partial = sorted((c for c in candidates if c not in full), reverse=False)
        chosen += partial[: min_cutoffs - len(chosen)]
    return sorted(chosen)


@dataclass
class BacktestRun:
    """Forecasts of every member at every cutoff, beside the actuals (NaN-padded to ``H``).

    Window day ``t`` of cutoff ``j`` is calendar day ``cutoff_dates[j] + t + 1``; an actual
    is NaN on a day missing from the data (its counts too), so scores are taken on the days
    reported, aligned by date.

    ``predictions[name]`` is ``(J, H, 4)``: NaN where the member did not run (history too
    short at that cutoff) or past the end of the data.  ``status[name][j]`` is ``"ok"``,
    ``"fallback"`` (the member failed and the fallback stood in) or ``"skipped"``.
    """

    campaign_id: str
    horizon_days: int
    cutoff_index: list[int]
    cutoff_dates: list[pd.Timestamp]
    actual: np.ndarray
    spend: np.ndarray
    counts: dict[str, np.ndarray]
    predictions: dict[str, np.ndarray]
    status: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)

    @property
    def n_cutoffs(self) -> int:
        return len(self.cutoff_index)

    @property
    def lengths(self) -> np.ndarray:
        """Days of each window inside the data (missing days included)."""
        return np.sum(np.isfinite(self.spend), axis=1)


def fit_predict(
    name: str,
    y: pd.DataFrame,
    X: pd.DataFrame,
    X_future: pd.DataFrame,
    horizon_days: int,
    *,
    seed: int,
    country: str | None,
    where: str,
    warnings_out: list[str],
) -> tuple[np.ndarray, str]:
    """Fit member ``name`` and predict; if it fails, the fallback stands in and a warning
    is recorded (a member is never silently dropped)."""
    member = make_member(name, seed=seed, country=country)
    try:
        out = np.asarray(member.fit(y, X).predict(horizon_days, X_future), dtype=float)
        if out.shape != (horizon_days, y.shape[1]) or not np.all(np.isfinite(out)):
            raise ValueError(f"returned {out.shape} values, some not finite")
        return out, "ok"
    except Exception as exc:  # noqa: BLE001 - any member failure must degrade, not crash
        message = (
            f"member '{name}' failed {where} ({type(exc).__name__}: {exc}); replaced by {FALLBACK}"
        )
        log.warning(message)
        warnings_out.append(message)
        fallback = make_member(FALLBACK).fit(y, X)
        return fallback.predict(horizon_days, X_future), "fallback"


def run_backtest(
    history: DriverHistory,
    members: Sequence[str],
    horizon_days: int,
    *,
    cutoffs: Sequence[int],
    country: str | None = "US",
    seed: int = 0,
) -> BacktestRun:
    """Fit every member at every cutoff on data up to the cutoff and forecast the window.

    The regressors of the window use the actual spend: the plan is known in advance.  No
    actual driver value after a cutoff reaches a member fitted at that cutoff.
    """
    n, h, k = history.n_days, horizon_days, len(DRIVERS)
    X_all = calendar_features(history.dates, history.log_spend(), country)
    y_all = history.drivers
    J = len(cutoffs)
    actual = np.full((J, h, k), np.nan)
    spend = np.full((J, h), np.nan)
    counts = {c: np.full((J, h), np.nan) for c in history.counts.columns}
    predictions = {m: np.full((J, h, k), np.nan) for m in members}
    status: dict[str, list[str]] = {m: [] for m in members}
    warnings_out: list[str] = []
    # a day missing from the data has no actual: its drivers in the history are carried
    # forward for the members' sake, but scoring them would score the carry, not the day
    reported = history.counts["impressions"].notna().to_numpy()
    for j, c in enumerate(cutoffs):
        start, stop = c + 1, min(c + 1 + h, n)
        length = stop - start
        actual[j, :length] = np.where(
            reported[start:stop, None], y_all.iloc[start:stop].to_numpy(), np.nan
        )
        spend[j, :length] = history.spend[start:stop]
        for col in counts:
            counts[col][j, :length] = history.counts[col].iloc[start:stop].to_numpy()
        y, X = y_all.iloc[: c + 1], X_all.iloc[: c + 1]
        X_future = X_all.iloc[start:stop]
        for name in members:
            if c + 1 < make_member(name).min_history_days:
                status[name].append("skipped")
                continue
            pred, state = fit_predict(
                name,
                y,
                X,
                X_future,
                length,
                seed=seed,
                country=country,
                where=f"at cutoff {history.dates[c].date()}",
                warnings_out=warnings_out,
            )
            predictions[name][j, :length] = pred
            status[name].append(state)
    return BacktestRun(
        campaign_id=history.campaign_id,
        horizon_days=h,
        cutoff_index=list(cutoffs),
        cutoff_dates=[history.dates[c] for c in cutoffs],
        actual=actual,
        spend=spend,
        counts=counts,
        predictions=predictions,
        status=status,
        warnings=warnings_out,
    )
