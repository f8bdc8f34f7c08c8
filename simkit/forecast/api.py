"""Public entry points: forecast a campaign's funnel drivers, and backtest the ensemble.

:func:`forecast_campaign` runs the rolling-origin backtest of every member, weights the
members by their backtest errors, fits them on the whole history, combines their forecasts
for the spend plan and calibrates the result into a
:class:`~simkit.forecast.base.DriverForecast` (the hand-over to the simulation engine).
:func:`backtest_campaign` returns the backtest scores of the same computation.  Both are
cached on disk (:mod:`simkit.forecast.cache`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from simkit import _display
from simkit._suggest import did_you_mean
from simkit.data.schema import FULL_HISTORY_DAYS, MIN_HISTORY_DAYS
from simkit.errors import DataError, ForecastError, ParamsError, SimkitError
from simkit.forecast._member import _spend_slope
from simkit.forecast.backtest import BacktestRun, choose_cutoffs, fit_predict, run_backtest
from simkit.forecast.base import DRIVERS, DriverForecast
from simkit.forecast.cache import DEFAULT_CACHE_DIR, ForecastCache, content_hash
from simkit.forecast.drivers import (
    DriverHistory,
    calendar_features,
    driver_history,
    funnel_from_drivers,
)
from simkit.forecast.ensemble import (
    METRICS,
    MemberScore,
    calibrate,
    combine,
    ensemble_weights,
    score,
)
from simkit.forecast.members import FALLBACK, MEMBERS, known_members
from simkit.forecast.neural import neural_available

__all__ = [
    "DEFAULT_MEMBERS",
    "BacktestResult",
    "FALLBACK_ERRORS",
    "CampaignForecast",
    "ForecastFallback",
    "backtest_campaign",
    "backtest_all",
    "forecast_campaign",
]

log = logging.getLogger(__name__)

#: The members used when none are named.  The LSTM (``members=[..., "lstm"]``) is opt-in:
#: profiling a cold ``simkit simulate`` (issue 21) found it was two thirds of the time
#: (torch and lightning imports, ~1.5 s a fit) and half the memory (torch), while
#: ``bench/forecast_accuracy.py`` gave it weight in 1 campaign of 9 and the ensemble's MASE
#: moved within noise without it (family A mean 0.702 with, 0.705 without; real data equal).
DEFAULT_MEMBERS: tuple[str, ...] = ("seasonal_naive", "ets", "sarimax", "prophet")
_SPEND_PRIOR_SD = 0.5
#: Names the weighting/calibration rule; part of the scored-result cache key, so a change of
#: rule never serves results scored under the old one.
_ENSEMBLE_RULE = "metric-mase-inv2-trim1.1-reported-days-level-share"


@dataclass(frozen=True)
class BacktestResult:
    """Rolling-origin backtest scores of every member and of the ensemble, on one metric.

    ``weights`` holds each member's per-driver ensemble weights; a member's ``weight`` in
    ``members`` is the mean of its weights over the drivers the metric depends on.
    """

    campaign_id: str
    horizon: int
    cutoffs: tuple[str, ...]
    metric: str
    members: dict[str, MemberScore]
    ensemble: MemberScore
    weights: dict[str, dict[str, float]]
    warnings: tuple[str, ...] = ()
    seconds: float = float("nan")
    cache_hit: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"campaign_id", "horizon", "cutoffs", "metric", "members":
        {name: {"mase", "smape", "crps", "coverage_50", "coverage_80", "coverage_95",
        "weight", ...}}, "ensemble": {...}, "weights", "warnings", ...}``."""
        return {
            "campaign_id": self.campaign_id,
            "horizon": self.horizon,
            "cutoffs": list(self.cutoffs),
            "metric": self.metric,
            "members": {m: s.to_dict() for m, s in self.members.items()},
            "ensemble": self.ensemble.to_dict(),
            "weights": self.weights,
            "warnings": list(self.warnings),
            "seconds": self.seconds,
            "cache_hit": self.cache_hit,
        }

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per member and one for the ensemble: weight, MASE, sMAPE, CRPS, coverage."""
        return _display.backtest_frame(self)

    def plot(self):  # noqa: ANN201 - an altair chart; altair is imported on use
        """Member weights beside each member's MASE (Altair)."""
        _display.ensure_offline_renderer()
        return _display.backtest_chart(self)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


#: Failures of an ensemble that its fallback member may survive (numerical trouble in a
#: member: a degenerate fit, a singular matrix, an invalid distribution parameter).  Bad
#: parameters or data (:class:`ParamsError`, :class:`DataError`) are never among them: no
#: member would do better.
FALLBACK_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    ArithmeticError,
    np.linalg.LinAlgError,
    SimkitError,
)


@dataclass(frozen=True)
class ForecastFallback:
    """Why a forecast comes from the fallback member alone (see :func:`forecast_campaign`).

    Attributes
    ----------
    requested
        The members asked for, whose ensemble failed.
    member
        The fallback member that made the forecast.
    error
        The ensemble's failure, ``"ExceptionType: message"``.
    """

    requested: tuple[str, ...]
    member: str
    error: str

    @property
    def message(self) -> str:
        """The fallback in words, for reports and the dashboard."""
        return (
            f"the ensemble of {', '.join(self.requested)} failed ({self.error}); this "
            f"forecast comes from the fallback member {self.member} alone, so its intervals "
            "may be less reliable than usual"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"requested": list(self.requested), "member": self.member, "error": self.error}


@dataclass(frozen=True)
class CampaignForecast:
    """A campaign's calibrated driver forecast with its provenance.

    Attributes
    ----------
    drivers
        The :class:`DriverForecast` for the plan (hand it to the simulation engine).
    members
        Members that took part.
    weights
        ``{member: {driver: weight}}``.
    member_forecasts
        ``{member: (H, 4)}`` each member's point forecast on the transformed scale.
    backtest
        Backtest scores (metric: conversions).
    warnings
        Everything that degraded the forecast, in words.
    cache
        ``{"key", "hit", "dir", "hits", "misses"}``.
    fallback
        Set when the requested ensemble failed and the forecast comes from the fallback
        member alone (``forecast_campaign(..., fallback=...)``); ``None`` otherwise.
    """

    campaign_id: str
    drivers: DriverForecast
    members: tuple[str, ...]
    weights: dict[str, dict[str, float]]
    member_forecasts: dict[str, np.ndarray]
    backtest: BacktestResult
    history_days: int
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)
    fallback: ForecastFallback | None = None

    def point_volumes(self) -> pd.DataFrame:
        """Daily point forecast of the funnel (the drivers' centres through the funnel)."""
        d = self.drivers
        vol = funnel_from_drivers(d.center, d.spend_plan)
        frame = pd.DataFrame({"spend": d.spend_plan, **vol}, index=d.dates)
        frame.index.name = "date"
        return frame

    def to_dict(self) -> dict[str, Any]:
        d = self.drivers
        return {
            "campaign_id": self.campaign_id,
            "history_days": self.history_days,
            "dates": [str(x.date()) for x in d.dates],
            "spend_plan": d.spend_plan.tolist(),
            "drivers": list(DRIVERS),
            "center": d.center.tolist(),
            "scale": d.scale.tolist(),
            "ar_coef": d.ar_coef.tolist(),
            "driver_corr": d.driver_corr.tolist(),
            "spend_elasticity": d.spend_elasticity.tolist(),
            "members": list(self.members),
            "weights": self.weights,
            "backtest": self.backtest.to_dict(),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "cache": self.cache,
            "fallback": self.fallback.to_dict() if self.fallback else None,
        }

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per horizon day and source (each member, the ensemble): the point funnel."""
        return _display.forecast_frame(self)

    def plot(self):  # noqa: ANN201 - an altair chart; altair is imported on use
        """Each member's point forecast of conversions and the ensemble's (Altair)."""
        _display.ensure_offline_renderer()
        return _display.forecast_chart(self)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


@dataclass
class _EnsembleFit:
    """What the cache stores: the backtest forecasts and the final members' forecasts."""

    run: BacktestRun
    final: dict[str, np.ndarray]
    final_status: dict[str, str]
    elasticity: np.ndarray
    warnings: list[str]


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run the fits with one BLAS thread.

    The members solve tiny problems (a few hundred rows), where a multi-threaded BLAS only
    adds synchronisation; on a shared 2-core machine its spinning threads made the ETS and
    SARIMAX fits about ten times slower (0.40 s -> 0.04 s per ETS fit of four drivers).
    The previous limits are restored on exit.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _select_members(
    requested: Sequence[str] | None, n_days: int, campaign_id: str
) -> tuple[list[str], list[str]]:
    names = list(requested) if requested else list(DEFAULT_MEMBERS)
    for name in names:
        if name not in MEMBERS and name not in known_members():
            raise ParamsError(
                f"unknown member {name!r}{did_you_mean(name, sorted(MEMBERS))}; "
                f"known: {', '.join(sorted(MEMBERS))}",
                field="members",
            )
    warn: list[str] = []
    chosen: list[str] = []
    for name in dict.fromkeys(names):
        if name == "lstm" and not neural_available():
            warn.append(
                "torch / pytorch-lightning not installed: the ensemble runs without the LSTM "
                "(install the 'neural' extra to add it)"
            )
            continue
        need = MEMBERS[name].min_history_days
        if n_days < need:
            warn.append(
                f"member '{name}' dropped: it needs at least {need} days of history and "
                f"campaign '{campaign_id}' has {n_days}"
            )
            continue
        chosen.append(name)
    if FALLBACK not in chosen:
        chosen.insert(0, FALLBACK)  # the baseline every score is relative to
    return chosen, warn


def _plan(
    plan: Any, history: DriverHistory, horizon_days: int
) -> tuple[pd.DatetimeIndex, np.ndarray, str]:
    dates = pd.date_range(history.dates[-1] + pd.Timedelta(days=1), periods=horizon_days)
    if plan is None:
        level = float(np.mean(history.spend[-7:]))
        note = f"no spend plan given: assumed flat at the last 7 days' mean spend ({level:.2f}/day)"
        return dates, np.full(horizon_days, level), note
    if np.isscalar(plan):
        return dates, np.full(horizon_days, float(plan)), "spend plan: flat"
    values = np.asarray(plan, dtype=float)
    if values.shape != (horizon_days,):
        raise ParamsError(
            f"plan has {values.size} values, expected {horizon_days} (one per horizon day)",
            field="plan",
        )
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ParamsError("plan must be finite and non-negative", field="plan")
    return dates, values, "spend plan: given"


def _fit_all(
    history: DriverHistory,
    members: list[str],
    horizon_days: int,
    cutoffs: list[int],
    future_dates: pd.DatetimeIndex,
    plan: np.ndarray,
    country: str | None,
    seed: int,
) -> _EnsembleFit:
    run = run_backtest(history, members, horizon_days, cutoffs=cutoffs, country=country, seed=seed)
    X = calendar_features(history.dates, history.log_spend(), country)
    log_plan = np.log(np.maximum(plan, history.spend_floor))
    X_future = calendar_features(future_dates, log_plan, country)
    warnings_out = list(run.warnings)
    final: dict[str, np.ndarray] = {}
    status: dict[str, str] = {}
    for name in members:
        final[name], status[name] = fit_predict(
            name,
            history.drivers,
            X,
            X_future,
            horizon_days,
            seed=seed,
            country=country,
            where="on the full history",
            warnings_out=warnings_out,
        )
    ls, dow = history.log_spend(), X["dow"].to_numpy()
    elasticity = np.array(
        [
            _spend_slope(history.drivers.iloc[:, d].to_numpy(), ls, dow, _SPEND_PRIOR_SD)
            for d in range(len(DRIVERS))
        ]
    )
    return _EnsembleFit(run, final, status, elasticity, warnings_out)


def _weights(
    run: BacktestRun, members: list[str], metric: str, use: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Ensemble weights learnt on the backtest cutoffs in ``use`` (all by default), chosen on
    ``metric`` for the drivers it depends on (see :func:`ensemble_weights`)."""
    return ensemble_weights(
        {m: run.predictions[m] for m in members},
        run.actual,
        use=use,
        metric=metric,
        spend=run.spend,
        counts=run.counts,
    )


def _loo_ensemble(run: BacktestRun, members: list[str], metric: str) -> np.ndarray:
    """Ensemble backtest forecasts, each cutoff combined with weights learnt on the others
    (never on the window being scored)."""
    out = np.full(run.actual.shape, np.nan)
    for j in range(run.n_cutoffs):
        use = np.arange(run.n_cutoffs) != j
        if not use.any():
            use = ~use  # a single cutoff: in-sample weights (flagged by the short-history warning)
        w = _weights(run, members, metric, use)
        out[j] = combine({m: run.predictions[m][j] for m in members}, w)
    return out


def _metric_weight(weights: dict[str, np.ndarray], name: str, metric: str) -> float:
    idx = list(METRICS[metric].depends_on)
    return float(np.mean(weights[name][idx]))


def _scores(
    fit: _EnsembleFit,
    members: list[str],
    weights: dict[str, np.ndarray],
    ensemble_bt: np.ndarray,
    metric: str,
    seed: int,
) -> tuple[dict[str, MemberScore], MemberScore]:
    run = fit.run
    base = run.predictions[FALLBACK]
    seeds = np.random.SeedSequence([seed, 7]).spawn(len(members) + 1)
    out = {}
    for i, name in enumerate(members):
        pred = run.predictions[name]
        out[name] = score(
            pred,
            pred - run.actual,
            run.actual,
            run.spend,
            run.counts,
            base,
            metric=metric,
            weight=_metric_weight(weights, name, metric),
            rng=np.random.default_rng(seeds[i]),
        )
    ens = score(
        ensemble_bt,
        ensemble_bt - run.actual,
        run.actual,
        run.spend,
        run.counts,
        base,
        metric=metric,
        weight=1.0,
        rng=np.random.default_rng(seeds[-1]),
    )
    return out, ens


def _run(
    data: pd.DataFrame,
    campaign_id: str,
    horizon_days: int,
    *,
    plan: Any,
    members: Sequence[str] | None,
    seed: int,
    country: str | None,
    metric: str,
    step_days: int,
    max_cutoffs: int,
    cache: ForecastCache,
) -> CampaignForecast:
    import time

    start = time.perf_counter()
    if horizon_days < 1:
        raise ParamsError("horizon must be at least 1 day", field="horizon_days")
    if metric not in METRICS:
        raise ParamsError(
            f"unknown metric {metric!r}{did_you_mean(metric, sorted(METRICS))}; "
            f"known: {', '.join(METRICS)}",
            field="metric",
        )
    history = driver_history(data, campaign_id)
    n = history.n_days
    if n < MIN_HISTORY_DAYS:
        raise ForecastError(
            f"only {n} days of history; at least {MIN_HISTORY_DAYS} are needed to forecast "
            "(and to backtest what is forecast)",
            campaign=str(campaign_id),
        )
    chosen, selection_warnings = _select_members(members, n, str(campaign_id))
    cutoffs = choose_cutoffs(n, horizon_days, step_days=step_days, max_cutoffs=max_cutoffs)
    if not cutoffs:
        raise ForecastError(f"no backtest cutoff fits in {n} days", campaign=str(campaign_id))
    future_dates, plan_values, plan_note = _plan(plan, history, horizon_days)
    key = content_hash(
        {
            "dates": history.dates.asi8,
            "spend": history.spend,
            "drivers": history.drivers.to_numpy(),
            "plan": plan_values,
        },
        {
            "members": chosen,
            "horizon_days": horizon_days,
            "cutoffs": cutoffs,
            "seed": seed,
            "country": country,
            "member_params": {m: MEMBERS[m]().get_params() for m in chosen},
            # backtest actuals are NaN on days missing from the data (not carried forward)
            "backtest": "reported-days",
        },
    )

    def assemble() -> CampaignForecast:
        with _single_threaded_blas():
            return _assemble()

    def _assemble() -> CampaignForecast:
        fit, fit_hit = cache.get_or_compute(
            key,
            lambda: _fit_all(
                history, chosen, horizon_days, cutoffs, future_dates, plan_values, country, seed
            ),
        )
        hit = fit_hit
        warn = [*selection_warnings, *fit.warnings]
        if n < FULL_HISTORY_DAYS:
            warn.append(
                f"short history ({n} days < {FULL_HISTORY_DAYS}): {len(cutoffs)} backtest "
                f"cutoff(s), fewer members ({', '.join(chosen)}), intervals widened"
            )
        run = fit.run
        longest = int(run.lengths.max()) if run.n_cutoffs else 0
        if longest < horizon_days:
            warn.append(
                f"backtest windows cover at most {longest} of the {horizon_days} horizon days: "
                "later steps' interval widths are extrapolated"
            )
        weights = _weights(run, chosen, metric)
        ensemble_bt = _loo_ensemble(run, chosen, metric)
        calib = calibrate(ensemble_bt - run.actual, horizon_days)
        scale = cap_unbacked_scale(calib.scale, history.drivers.to_numpy(), longest)
        center = combine(fit.final, weights)
        drivers = DriverForecast(
            campaign_id=str(campaign_id),
            dates=future_dates,
            spend_plan=plan_values,
            center=center,
            scale=scale,
            ar_coef=np.clip(calib.ar_coef, -0.98, 0.98),
            driver_corr=calib.driver_corr,
            spend_elasticity=fit.elasticity,
            revenue_measured=bool(np.nansum(history.counts["revenue"].to_numpy()) > 0),
            level_share=calib.level_share,
            level_ar_coef=np.clip(calib.level_ar_coef, -0.98, 0.98),
        )
        member_scores, ens_score = _scores(fit, chosen, weights, ensemble_bt, metric, seed)
        weights_out = {
            m: {d: float(w) for d, w in zip(DRIVERS, weights[m], strict=True)} for m in chosen
        }
        seconds = time.perf_counter() - start
        backtest = BacktestResult(
            campaign_id=str(campaign_id),
            horizon=horizon_days,
            cutoffs=tuple(str(d.date()) for d in run.cutoff_dates),
            metric=metric,
            members=member_scores,
            ensemble=ens_score,
            weights=weights_out,
            warnings=tuple(warn),
            seconds=seconds,
            cache_hit=hit,
        )
        for message in warn:
            log.warning("campaign %s: %s", campaign_id, message)
        return CampaignForecast(
            campaign_id=str(campaign_id),
            drivers=drivers,
            members=tuple(chosen),
            weights=weights_out,
            member_forecasts=dict(fit.final),
            backtest=backtest,
            history_days=n,
            warnings=tuple(warn),
            notes=(*history.notes, plan_note),
            cache={"key": key, "hit": hit, **cache.stats()},
        )

    # the scored result is cached too (keyed by the fit and the metric), so a re-run only
    # loads it; the fits alone are reused when another metric is asked for
    result_key = content_hash({}, {"fit": key, "metric": metric, "rule": _ENSEMBLE_RULE})
    result, hit = cache.get_or_compute(result_key, assemble)
    if hit:
        for message in result.warnings:
            log.warning("campaign %s: %s", campaign_id, message)
    seconds = time.perf_counter() - start
    backtest = replace(result.backtest, seconds=seconds, cache_hit=hit)
    return replace(
        result,
        backtest=backtest,
        # the fit's own key too: a refit (the forecast ledger's) removes both entries
        cache={"key": result_key, "fit_key": key, "hit": hit, **cache.stats()},
    )


def _cache(cache: ForecastCache | str | Path | None | bool) -> ForecastCache:
    if isinstance(cache, ForecastCache):
        return cache
    if cache is True:
        return ForecastCache(DEFAULT_CACHE_DIR)
    if cache is False or cache is None:
        return ForecastCache(None)
    return ForecastCache(cache)


#: Beyond the steps a backtest window covers, a driver's scale may reach this many times the
#: spread the driver itself showed over the history (see :func:`cap_unbacked_scale`).
UNBACKED_SPREAD_CAP = 2.0


def cap_unbacked_scale(scale: np.ndarray, drivers: np.ndarray, backed_steps: int) -> np.ndarray:
    """Bound the extrapolated part of the predictive scale by what the history supports.

    The steps beyond ``backed_steps`` (those no backtest window covered) follow a power law
    fitted to the covered steps; from one short window that fit can grow linearly, and a
    14-day history then gets a logit-CVR scale of 3.8 at day 30, where the CVR itself never
    moved by more than 0.3 on that scale.  Such a width is not evidence of risk but of an
    extrapolated fit, and through the convexity of the links it biases the totals upward (4x
    the history's conversions per unit of spend on the real Facebook file).  So beyond the
    covered steps a driver's scale is at most the larger of its last covered step's scale
    and :data:`UNBACKED_SPREAD_CAP` times the driver's standard deviation over the history;
    covered steps keep their backtested scale.
    """
    out = np.array(scale, dtype=float, copy=True)
    backed = max(int(backed_steps), 1)
    if backed >= len(out):
        return out
    spread = np.nanstd(np.asarray(drivers, dtype=float), axis=0, ddof=1)
    spread = np.where(np.isfinite(spread), spread, np.inf)
    ceiling = np.maximum(out[backed - 1], UNBACKED_SPREAD_CAP * spread)
    out[backed:] = np.minimum(out[backed:], ceiling[None, :])
    return out


def forecast_campaign(
    data: pd.DataFrame,
    campaign_id: str,
    horizon_days: int,
    *,
    plan: Sequence[float] | np.ndarray | float | None = None,
    members: Sequence[str] | None = None,
    seed: int = 0,
    country: str | None = "US",
    step_days: int = 7,
    max_cutoffs: int = 5,
    cache: ForecastCache | str | Path | bool | None = True,
    fallback: str | None = None,
) -> CampaignForecast:
    """Forecast a campaign's funnel drivers for a spend plan, with calibrated uncertainty.

    Parameters
    ----------
    data
        The daily contract table (any number of campaigns).
    campaign_id
        Which campaign.
    horizon_days
        Days to forecast after the last day of data.
    plan
        Daily spend for the horizon (``horizon_days`` values or one flat value); ``None``
        assumes the last week's mean spend (noted in ``notes``).
    members
        Member names from :data:`~simkit.forecast.members.MEMBERS`; default all of
        :data:`DEFAULT_MEMBERS` the history and installation allow.
    seed
        Seeds the stochastic members (LSTM) and the sampling used in scoring.
    country
        Holiday calendar (``holidays`` package code); ``None`` for none.
    step_days, max_cutoffs
        Backtest cutoff spacing and count.
    cache
        ``True`` for ``.simkit-cache/``, a directory, a :class:`ForecastCache`, or
        ``False``/``None`` to disable.
    fallback
        A member (usually :data:`~simkit.forecast.members.FALLBACK`) to forecast with alone
        when the ensemble fails with one of :data:`FALLBACK_ERRORS`; the result's
        ``fallback`` then says so (and a warning is logged).  ``None`` (default): the
        failure is raised.

    Returns
    -------
    CampaignForecast
        ``.drivers`` is the :class:`DriverForecast` for the simulation engine.

    Raises
    ------
    ForecastError
        Fewer than ``MIN_HISTORY_DAYS`` days of history, or an unknown campaign; with a
        ``fallback``, when the fallback fails too (both failures named).
    ParamsError, DataError
        Bad parameters or data (never hidden by the fallback).

    Examples
    --------
    >>> fc = forecast_campaign(data, "C001", 28, members=["seasonal_naive", "ets"])  # doctest: +SKIP
    >>> fc.drivers.sample(1000, rng=np.random.default_rng(0)).shape  # doctest: +SKIP
    (1000, 28, 4)
    """
    store = _cache(cache)

    def run(chosen: Sequence[str] | None) -> CampaignForecast:
        return _run(
            data,
            campaign_id,
            horizon_days,
            plan=plan,
            members=None if chosen is None else list(chosen),
            seed=seed,
            country=country,
            metric="conversions",
            step_days=step_days,
            max_cutoffs=max_cutoffs,
            cache=store,
        )

    if fallback is None:
        return run(members)
    requested = tuple(members) if members else DEFAULT_MEMBERS
    try:
        return run(members)
    except FALLBACK_ERRORS as exc:
        if isinstance(exc, ParamsError | DataError | ValidationError):
            raise  # bad parameters or data: no member would do better
        first = f"{type(exc).__name__}: {exc}"
        if list(requested) == [fallback]:
            raise ForecastError(
                f"the forecast failed ({first})", member=fallback, campaign=str(campaign_id)
            ) from exc
        log.warning("forecast of %s failed (%s); using %s alone", campaign_id, first, fallback)
    try:
        result = run([fallback])
    except FALLBACK_ERRORS as exc:
        raise ForecastError(
            f"the forecast failed with members {', '.join(requested)} ({first}) and with "
            f"the fallback {fallback} alone ({type(exc).__name__}: {exc})",
            member=fallback,
            campaign=str(campaign_id),
        ) from exc
    return replace(result, fallback=ForecastFallback(requested, fallback, first))


def backtest_campaign(
    data: pd.DataFrame,
    campaign_id: str,
    horizon_days: int,
    *,
    members: Sequence[str] | None = None,
    seed: int = 0,
    metric: str = "conversions",
    country: str | None = "US",
    step_days: int = 7,
    max_cutoffs: int = 5,
    cache: ForecastCache | str | Path | bool | None = True,
) -> BacktestResult:
    """Rolling-origin backtest of every member and of the ensemble for one campaign.

    The default ``metric`` is conversions computed through the funnel from the (known) spend
    plan and the forecast drivers; see :data:`~simkit.forecast.ensemble.METRICS` for others.
    Parameters are as in :func:`forecast_campaign`.
    """
    return _run(
        data,
        campaign_id,
        horizon_days,
        plan=None,
        members=members,
        seed=seed,
        country=country,
        metric=metric,
        step_days=step_days,
        max_cutoffs=max_cutoffs,
        cache=_cache(cache),
    ).backtest


def backtest_all(
    data: pd.DataFrame,
    horizon_days: int,
    *,
    members: Sequence[str] | None = None,
    seed: int = 0,
    **kwargs: Any,
) -> list[BacktestResult]:
    """:func:`backtest_campaign` for every campaign in ``data``, in id order."""
    ids = sorted(data["campaign_id"].astype(str).unique())
    return [
        backtest_campaign(data, cid, horizon_days, members=members, seed=seed, **kwargs)
        for cid in ids
    ]
