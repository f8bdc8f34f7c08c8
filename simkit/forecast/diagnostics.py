"""Calibration of the forecast's intervals, step by step: coverage by horizon and the PIT.

:func:`~simkit.forecast.backtest_campaign` reports one coverage per interval over every
backtest day.  An interval can hit 80% overall while covering 95% of the first days and
60% of the last; :func:`calibration_check` shows that.  It runs the same rolling-origin
backtest, combines the members with weights learnt on the other cutoffs (as the scores
do), calibrates each cutoff's predictive distribution on the other cutoffs' residuals
(leave-one-cutoff-out: a window is never judged with intervals fitted on itself), samples
it through the funnel, and records for every actual

* whether it fell inside the central 50/80/95% interval, by days ahead, and
* its probability integral transform (PIT): the share of predictive samples below it (ties
  counted half).  Calibrated forecasts give PIT values spread evenly over 0-1; a U shape
  says the intervals are too narrow, a hump too wide, a slope a bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simkit import _display
from simkit._suggest import did_you_mean
from simkit.data.schema import MIN_HISTORY_DAYS
from simkit.errors import ForecastError, ParamsError
from simkit.forecast.api import _loo_ensemble, _select_members
from simkit.forecast.backtest import choose_cutoffs, run_backtest
from simkit.forecast.base import DriverForecast
from simkit.forecast.drivers import driver_history
from simkit.forecast.ensemble import LEVELS, METRICS, actual_metric, calibrate

__all__ = ["CalibrationCheck", "calibration_check"]


@dataclass(frozen=True)
class CalibrationCheck:
    """Coverage by horizon step and PIT values of one forecaster's backtest.

    Attributes
    ----------
    campaign_id, metric, source
        The campaign, the metric judged, and whose forecasts (``"ensemble"`` or a member).
    n_cutoffs
        Backtest cutoffs.
    levels
        The central interval levels (0.5, 0.8, 0.95).
    by_horizon
        One row per step ahead: ``step``, ``n`` (actuals at that step), ``coverage_50``,
        ``coverage_80``, ``coverage_95``.
    coverage
        ``{level: share of all actuals inside}``.
    pit
        The PIT value of every actual, cutoff by cutoff, step by step.
    """

    campaign_id: str
    metric: str
    source: str
    n_cutoffs: int
    levels: tuple[float, ...]
    by_horizon: pd.DataFrame
    coverage: dict[float, float]
    pit: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Coverage by horizon step, one row per step."""
        return _display.calibration_frame(self)

    def plot(self):  # noqa: ANN201 - an altair chart; altair is imported on use
        """Coverage by horizon beside the PIT histogram (Altair)."""
        _display.ensure_offline_renderer()
        return _display.calibration_chart(self)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


def calibration_check(
    data: pd.DataFrame,
    campaign_id: str,
    horizon_days: int,
    *,
    members: Sequence[str] | None = None,
    source: str = "ensemble",
    metric: str = "conversions",
    seed: int = 0,
    country: str | None = "US",
    step_days: int = 7,
    max_cutoffs: int = 5,
    n_paths: int = 400,
) -> CalibrationCheck:
    """How well the intervals of the ensemble (or one member) hold, by days ahead.

    Parameters are those of :func:`~simkit.forecast.backtest_campaign`; ``source`` is
    ``"ensemble"`` or one of the members, ``n_paths`` the predictive samples per cutoff.
    The backtest is refitted here (no cache), so this costs what a backtest costs.

    Examples
    --------
    >>> check = calibration_check(data, "C001", 14, members=["seasonal_naive", "ets"])  # doctest: +SKIP
    >>> check.by_horizon[["step", "coverage_80"]]  # doctest: +SKIP
    """
    if horizon_days < 1:
        raise ParamsError("horizon must be at least 1 day", field="horizon_days")
    if metric not in METRICS:
        raise ParamsError(
            f"unknown metric {metric!r}{did_you_mean(metric, sorted(METRICS))}", field="metric"
        )
    history = driver_history(data, campaign_id)
    n = history.n_days
    if n < MIN_HISTORY_DAYS:
        raise ForecastError(
            f"only {n} days of history; at least {MIN_HISTORY_DAYS} are needed to backtest",
            campaign=str(campaign_id),
        )
    chosen, _ = _select_members(members, n, str(campaign_id))
    if source != "ensemble" and source not in chosen:
        raise ParamsError(
            f"source {source!r} is neither 'ensemble' nor one of the members "
            f"({', '.join(chosen)}){did_you_mean(source, chosen)}",
            field="source",
        )
    cutoffs = choose_cutoffs(n, horizon_days, step_days=step_days, max_cutoffs=max_cutoffs)
    if not cutoffs:
        raise ForecastError(f"no backtest cutoff fits in {n} days", campaign=str(campaign_id))
    run = run_backtest(history, chosen, horizon_days, cutoffs=cutoffs, country=country, seed=seed)
    point = _loo_ensemble(run, chosen, metric) if source == "ensemble" else run.predictions[source]
    residuals = point - run.actual
    spec = METRICS[metric]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    hits = {lv: np.zeros(horizon_days) for lv in LEVELS}
    count = np.zeros(horizon_days)
    pit: list[np.ndarray] = []
    J = run.n_cutoffs
    for j in range(J):
        valid = np.isfinite(point[j, :, 0]) & np.isfinite(run.actual[j, :, 0])
        L = int(valid.sum())
        if L == 0:
            continue
        others = np.arange(J) != j
        held_out = residuals[others]
        if not np.isfinite(held_out).any():
            held_out = residuals  # a single cutoff: in-sample, as the backtest scores do
        calib = calibrate(held_out, horizon_days)
        fc = DriverForecast(
            campaign_id=str(campaign_id),
            dates=pd.date_range("2000-01-01", periods=L, freq="D"),
            spend_plan=run.spend[j, :L],
            center=point[j, :L],
            scale=calib.scale[:L],
            ar_coef=calib.ar_coef,
            driver_corr=calib.driver_corr,
        )
        paths = spec.compute(fc.sample(n_paths, rng), run.spend[j, :L])
        y = actual_metric(
            metric,
            run.actual[j, :L],
            run.spend[j, :L],
            {c: v[j, :L] for c, v in run.counts.items()},
        )
        for lv in LEVELS:
            lo, hi = np.quantile(paths, [(1 - lv) / 2, (1 + lv) / 2], axis=0)
            hits[lv][:L] += (y >= lo) & (y <= hi)
        count[:L] += 1
        pit.append(np.mean(paths < y[None, :], axis=0) + 0.5 * np.mean(paths == y[None, :], axis=0))
    if not pit:
        raise ForecastError("no backtest window could be scored", campaign=str(campaign_id))
    steps = count > 0
    by_horizon = pd.DataFrame(
        {
            "step": np.arange(1, horizon_days + 1)[steps],
            "n": count[steps].astype(int),
            **{f"coverage_{int(100 * lv)}": hits[lv][steps] / count[steps] for lv in LEVELS},
        }
    )
    total = count.sum()
    return CalibrationCheck(
        campaign_id=str(campaign_id),
        metric=metric,
        source=source,
        n_cutoffs=J,
        levels=LEVELS,
        by_horizon=by_horizon,
        coverage={lv: float(hits[lv].sum() / total) for lv in LEVELS},
        pit=np.concatenate(pit),
    )
