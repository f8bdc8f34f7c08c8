"""Ensemble weights, conformal calibration and scoring, all from backtest residuals.

Weights
    Two stages.  First, per driver, each member's backtest mean squared error on the
    transformed scale is divided by the seasonal naive's on the same days (relative MSE);
    members more than ``trim_ratio`` times worse than the best get no weight and the rest
    are weighted by inverse relative MSE.  Second, when a target ``metric`` is given (the
    metric the ensemble is judged on; conversions by default in :mod:`simkit.forecast.api`),
    the drivers that metric depends on share one weight vector chosen on that metric
    itself: each member's metric forecast (through the funnel, with the known spend) is
    scored by its mean absolute error relative to the seasonal naive's on the same days
    (its MASE on the weighting cutoffs); members more than ``metric_trim`` (10%) worse than
    the best get no weight, the rest get weight proportional to ``MASE ** -metric_power``
    (``metric_power = 2``: sharp concentration on the best members, while near-ties share).
    Weighting on the transformed-scale MSE of each driver separately let members that were
    slightly better on a driver's squared error but worse on conversions take weight.  With
    leave-one-cutoff-out scoring, the metric-based rule brought the ensemble's conversions
    MASE from a geometric mean of 1.035 times the best member's to 1.007 on the bench's six
    synthetic campaigns (where the rule was chosen), and from 1.026 to 1.017 on eight fresh
    synthetic campaigns it was not chosen on.  Trimming is the floor: a member far
    behind the best cannot take weight, so one bad member cannot dominate; if no member has
    a finite error, the fallback (seasonal naive) takes all the weight.

Calibration (:func:`calibrate`)
    Split-conformal, per horizon step: the root mean square residual at each step is
    smoothed across steps by a power law ``s_h = a * h**b`` (``0 <= b <= 1``; few residuals
    per step otherwise), then multiplied by the finite-sample conformal quantile of
    ``|residual| / s_h`` at the 80% level (divided by the normal 80% quantile), so that the
    80% interval of each driver covers 80% of backtest residuals.  With fewer than four
    backtest windows the scale is also widened by ``sqrt(1 + 1/J)``: little evidence, wider
    intervals.  The AR(1) coefficient of each driver's errors is chosen so that the variance
    of error sums over 1..H consecutive days matches the backtests (so that weekly and monthly
    totals get honest intervals), and the driver correlation is the correlation of the
    standardised residuals, shrunk toward the identity.

Scoring (:func:`score`)
    Each set of forecasts (a member, or the ensemble) is turned into a predictive
    distribution with the calibration learnt from the *other* cutoffs (leave-one-cutoff-out,
    so a window is never scored with intervals fitted on itself), sampled through the funnel,
    and scored on the chosen metric: MASE (mean absolute error divided by the seasonal
    naive's on the same days, so the seasonal naive scores exactly 1), sMAPE, CRPS (from
    samples) and the empirical coverage of the central 50/80/95% intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from simkit.forecast.base import DRIVERS, DriverForecast
from simkit.forecast.drivers import expit, funnel_from_drivers

__all__ = [
    "METRICS",
    "Calibration",
    "MemberScore",
    "calibrate",
    "combine",
    "ensemble_weights",
    "score",
]

_Z80 = 1.2815515655446004
LEVELS = (0.5, 0.8, 0.95)


# -- metrics: name -> (function of (drivers (..., H, 4), spend (H,)), drivers it depends on,
#    whether it adds up over days)
@dataclass(frozen=True)
class _Metric:
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]
    depends_on: tuple[int, ...]
    additive: bool


def _volume(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda d, s: funnel_from_drivers(d, s)[name]


METRICS: dict[str, _Metric] = {
    "conversions": _Metric(_volume("conversions"), (0, 1, 2), True),
    "revenue": _Metric(_volume("revenue"), (0, 1, 2, 3), True),
    "clicks": _Metric(_volume("clicks"), (0, 1), True),
    "impressions": _Metric(_volume("impressions"), (0,), True),
    "cpm": _Metric(lambda d, s: np.exp(d[..., 0]), (0,), False),
    "ctr": _Metric(lambda d, s: expit(d[..., 1]), (1,), False),
    "cvr": _Metric(lambda d, s: expit(d[..., 2]), (2,), False),
    "rpc": _Metric(lambda d, s: np.exp(d[..., 3]), (3,), False),
    **{name: _Metric(lambda d, s, i=i: d[..., i], (i,), False) for i, name in enumerate(DRIVERS)},
}


def actual_metric(
    metric: str, actual_drivers: np.ndarray, spend: np.ndarray, counts: Mapping[str, np.ndarray]
) -> np.ndarray:
    """The observed metric: recorded counts for volumes, observed drivers for the rest."""
    if metric in counts:
        return np.asarray(counts[metric], dtype=float)
    return METRICS[metric].compute(actual_drivers, spend)


# -- weights ---------------------------------------------------------------------------------
def ensemble_weights(
    predictions: Mapping[str, np.ndarray],
    actual: np.ndarray,
    *,
    use: np.ndarray | None = None,
    baseline: str = "seasonal_naive",
    trim_ratio: float = 1.5,
    metric: str | None = None,
    spend: np.ndarray | None = None,
    counts: Mapping[str, np.ndarray] | None = None,
    metric_trim: float = 1.1,
    metric_power: float = 2.0,
) -> dict[str, np.ndarray]:
    """Per-driver weights ``{member: (4,)}`` from backtest errors on the cutoffs in ``use``.

    See the module docstring for the rule.  Each member is compared with ``baseline`` on
    the days where both forecast, so members that skipped some cutoffs are still comparable.
    With ``metric`` (and the backtest ``spend`` ``(J, H)`` and recorded ``counts``), the
    drivers the metric depends on get weights chosen on that metric's relative MAE.
    """
    names = list(predictions)
    J, _, k = actual.shape
    use = np.ones(J, dtype=bool) if use is None else np.asarray(use, dtype=bool)
    base = predictions[baseline][use]
    rel = np.full((len(names), k), np.inf)
    for i, name in enumerate(names):
        err = (predictions[name][use] - actual[use]) ** 2
        base_err = (base - actual[use]) ** 2
        ok = np.isfinite(err) & np.isfinite(base_err)
        for d in range(k):
            mask = ok[..., d]
            if mask.sum() >= 3:
                rel[i, d] = err[..., d][mask].mean() / max(base_err[..., d][mask].mean(), 1e-12)
    weights = np.zeros((len(names), k))
    for d in range(k):
        weights[:, d] = _inverse_error_weights(rel[:, d], trim_ratio, 1.0, names.index(baseline))
    if metric is not None:
        if spend is None:
            raise ValueError("metric-based weights need the backtest spend")
        mase = _relative_mae(predictions, actual, use, baseline, metric, spend, counts or {})
        w = _inverse_error_weights(mase, metric_trim, metric_power, names.index(baseline))
        weights[:, list(METRICS[metric].depends_on)] = w[:, None]
    return {name: weights[i] for i, name in enumerate(names)}


def _inverse_error_weights(rel: np.ndarray, trim: float, power: float, fallback: int) -> np.ndarray:
    """Weights ``rel ** -power`` among members within ``trim`` times the best error; all
    weight on ``fallback`` when no error is finite."""
    out = np.zeros(len(rel))
    if not np.any(np.isfinite(rel)):
        out[fallback] = 1.0
        return out
    best = np.min(rel)
    keep = np.isfinite(rel) & (rel <= trim * best)
    inv = np.where(keep, np.maximum(rel, 1e-9) ** -power, 0.0)
    return inv / inv.sum()


def _relative_mae(
    predictions: Mapping[str, np.ndarray],
    actual: np.ndarray,
    use: np.ndarray,
    baseline: str,
    metric: str,
    spend: np.ndarray,
    counts: Mapping[str, np.ndarray],
) -> np.ndarray:
    """Each member's MAE on ``metric`` over the cutoffs in ``use``, divided by the
    baseline's on the same days (``inf`` with fewer than 3 comparable days)."""
    spec = METRICS[metric]
    sp = spend[use]
    y = actual_metric(metric, actual[use], sp, {c: v[use] for c, v in counts.items()})
    with np.errstate(invalid="ignore", over="ignore"):
        base_err = np.abs(spec.compute(predictions[baseline][use], sp) - y)
    out = np.full(len(predictions), np.inf)
    for i, pred in enumerate(predictions.values()):
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(spec.compute(pred[use], sp) - y)
        ok = np.isfinite(err) & np.isfinite(base_err)
        if ok.sum() >= 3:
            out[i] = err[ok].sum() / max(base_err[ok].sum(), 1e-12)
    return out


def combine(predictions: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Weighted mean of member forecasts ``(..., H, 4)``, per driver; where a member has no
    forecast (NaN) its weight is shared among the others.  Where every weighted member is
    missing (e.g. the only weighted member did not run at a short backtest cutoff) the
    members that do have a forecast count equally, rather than leaving a hole."""
    stack = np.stack([predictions[m] for m in weights])
    finite = np.isfinite(stack)
    w = np.stack([np.broadcast_to(weights[m], stack.shape[1:]) for m in weights])
    w = np.where(finite, w, 0.0)
    orphaned = (w.sum(axis=0) <= 0) & finite.any(axis=0)
    w = np.where(orphaned[None] & finite, 1.0, w)
    total = w.sum(axis=0)
    out = np.sum(np.where(finite, stack, 0.0) * w, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), np.nan)


# -- calibration -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Calibration:
    """Scale per step and driver, error AR(1) per driver, driver correlation; and, for the
    simulation's totals, each driver's persistent share with the AR(1) coefficient of the
    rest (:func:`_fit_ar_level`)."""

    scale: np.ndarray
    ar_coef: np.ndarray
    driver_corr: np.ndarray
    n_windows: int
    widened: bool
    level_share: np.ndarray | None = None
    level_ar_coef: np.ndarray | None = None


def _power_law(rms: np.ndarray, count: np.ndarray, horizon: int) -> np.ndarray:
    steps = np.arange(1, len(rms) + 1, dtype=float)
    ok = (count > 0) & (rms > 0)
    if not ok.any():
        return np.full(horizon, np.nan)
    x, y, w = np.log(steps[ok]), np.log(rms[ok]), count[ok].astype(float)
    if ok.sum() >= 2 and np.ptp(x) > 0:
        xm, ym = np.average(x, weights=w), np.average(y, weights=w)
        b = np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2)
        b = float(np.clip(b, 0.0, 1.0))
    else:
        b = 0.0
    a = np.average(y - b * x, weights=w)
    return np.exp(a + b * np.log(np.arange(1, horizon + 1, dtype=float)))


def _conformal_quantile(values: np.ndarray, level: float) -> float:
    values = np.sort(values[np.isfinite(values)])
    n = len(values)
    if n == 0:
        return np.nan
    rank = min(int(np.ceil((n + 1) * level)), n)
    return float(values[rank - 1])


def _ar_theory(phi: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Variance of a sum of ``k`` consecutive unit-variance AR(1) errors, divided by ``k``:
    ``1 + 2 sum_{l<k} (1 - l/k) phi**l``, for every ``phi`` (rows) and ``k`` (columns)."""
    phi = np.atleast_1d(np.asarray(phi, dtype=float))
    k = np.atleast_1d(np.asarray(k, dtype=float))
    lags = np.arange(1, max(int(k.max()), 2), dtype=float)
    taper = np.clip(1.0 - lags[None, :] / k[:, None], 0.0, None)  # (K, L), 0 for l >= k
    powers = phi[:, None] ** lags[None, :]  # (P, L)
    return 1.0 + 2.0 * powers @ taper.T


_PHI_GRID = np.linspace(-0.5, 0.98, 75)


def _sum_ratios(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window lengths ``k`` and the variance of sums of ``k`` consecutive standardised
    errors (``z``: ``(J, H)``, NaN-padded) divided by ``k``, with each ratio's weight (the
    windows it comes from)."""
    H = z.shape[1]
    ks = np.array(sorted({k for k in (1, 2, 3, 5, 7, 10, 14, 21, 28, H) if k <= H}))
    ratios, weights = [], []
    # sums over k consecutive *calendar* days: a run containing a missing day (NaN) is
    # left out rather than closed up, which would join days that are not consecutive
    have = np.isfinite(z)
    csums = [
        np.concatenate([[0.0], np.cumsum(np.where(f, row, 0.0))])
        for row, f in zip(z, have, strict=True)
    ]
    counts = [np.concatenate([[0], np.cumsum(f)]) for f in have]
    for k in ks:
        sums = [
            (c[k:] - c[:-k])[(n[k:] - n[:-k]) == k]
            for c, n in zip(csums, counts, strict=True)
            if len(c) > k
        ]
        sums = [x for x in sums if x.size]
        if not sums:
            ratios.append(np.nan)
            weights.append(0.0)
            continue
        allsums = np.concatenate(sums)
        ratios.append(np.mean(allsums**2) / k)
        weights.append(float(len(sums)))
    return ks, np.array(ratios), np.array(weights)


def _fit_ar(z: np.ndarray) -> float:
    """AR(1) coefficient matching the variance of sums of ``k`` consecutive standardised
    errors (``z``: ``(J, H)``, NaN-padded) for k = 1..H."""
    ks, ratios, weights = _sum_ratios(z)
    ok = np.isfinite(ratios) & (ratios > 0)
    if ok.sum() < 2:
        return 0.0
    emp = np.log(ratios[ok] / ratios[0])
    theory = np.log(_ar_theory(_PHI_GRID, ks[ok]))  # (P, K)
    loss = np.sum(weights[ok][None, :] * (emp[None, :] - theory) ** 2, axis=1)
    return float(_PHI_GRID[int(np.argmin(loss))])


_SHARE_GRID = np.linspace(0.0, 0.9, 19)


def _fit_ar_level(z: np.ndarray) -> tuple[float, float]:
    """AR(1) coefficient and persistent share of standardised errors ``z`` (``(J, H)``).

    The error is ``sqrt(1 - s) AR(1) + sqrt(s) level``, one level per window, so the
    variance of a sum of ``k`` days over ``k`` is ``(1 - s) ar(phi, k) + s k``; ``(phi,
    s)`` minimise the same weighted log-ratio loss as :func:`_fit_ar`.  This is what the
    simulation's persistent level uses (:attr:`DriverForecast.level_share`): the level
    uncertainty of each campaign from its own backtests (issue 16), where one share learnt
    on other campaigns was right for one world family and wrong for the other.
    """
    ks, ratios, weights = _sum_ratios(z)
    ok = np.isfinite(ratios) & (ratios > 0)
    if ok.sum() < 2:
        return 0.0, 0.0
    emp = np.log(ratios[ok] / ratios[0])
    ar = _ar_theory(_PHI_GRID, ks[ok])  # (P, K)
    s = _SHARE_GRID[:, None, None]
    theory = np.log((1 - s) * ar[None] + s * ks[ok][None, None, :])  # (S, P, K)
    loss = np.sum(weights[ok] * (emp - theory) ** 2, axis=2)
    i, j = np.unravel_index(int(np.argmin(loss)), loss.shape)
    return float(_PHI_GRID[j]), float(_SHARE_GRID[i])


def calibrate(residuals: np.ndarray, horizon_days: int, *, corr_shrink: float = 0.2) -> Calibration:
    """Calibrate a predictive distribution from backtest residuals ``(J, H', 4)`` (NaN-padded)
    for a horizon of ``horizon_days`` (steps beyond ``H'`` follow the fitted power law)."""
    J, Hr, k = residuals.shape
    scale = np.empty((horizon_days, k))
    ar = np.zeros(k)
    level_share, level_ar = np.zeros(k), np.zeros(k)
    widen = np.sqrt(1.0 + 1.0 / J) if J < 4 else 1.0
    z_all = np.full(residuals.shape, np.nan)
    for d in range(k):
        r = residuals[..., d]
        count = np.sum(np.isfinite(r), axis=0)
        with np.errstate(invalid="ignore"):
            rms = np.sqrt(np.where(count > 0, np.nansum(r**2, axis=0) / np.maximum(count, 1), 0))
        base = _power_law(rms, count, max(horizon_days, Hr))
        z = r / base[None, :Hr]
        kappa = _conformal_quantile(np.abs(z).ravel(), 0.8) / _Z80
        if not np.isfinite(kappa) or kappa <= 0:
            kappa = 1.0
        scale[:, d] = base[:horizon_days] * kappa * widen
        z_all[..., d] = z / kappa
        ar[d] = _fit_ar(z_all[..., d])
        level_ar[d], level_share[d] = _fit_ar_level(z_all[..., d])
    flat = z_all.reshape(-1, k)
    flat = flat[np.all(np.isfinite(flat), axis=1)]
    corr = np.eye(k)
    if len(flat) > k + 2:
        c = np.corrcoef(flat, rowvar=False)
        if np.all(np.isfinite(c)):
            corr = (1 - corr_shrink) * c + corr_shrink * np.eye(k)
    finite = np.abs(residuals[np.isfinite(residuals)])
    scale = np.where(np.isfinite(scale), scale, finite.max() if finite.size else 1.0)
    return Calibration(
        scale=scale,
        ar_coef=ar,
        driver_corr=corr,
        n_windows=J,
        widened=bool(widen > 1),
        level_share=level_share,
        level_ar_coef=level_ar,
    )


# -- scoring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberScore:
    """Backtest scores of one member (or the ensemble) on one metric."""

    mase: float
    smape: float
    crps: float
    coverage_50: float
    coverage_80: float
    coverage_95: float
    weight: float
    total_coverage_80: float
    n_points: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in self.__dict__.items()
        }


def _crps_samples(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of sample forecasts ``(n, T)`` against ``y`` ``(T,)``:
    ``E|X - y| - 0.5 E|X - X'|``, via the sorted-sample identity."""
    n = samples.shape[0]
    term1 = np.mean(np.abs(samples - y[None, :]), axis=0)
    s = np.sort(samples, axis=0)
    i = np.arange(1, n + 1)[:, None]
    term2 = np.sum((2 * i - n - 1) * s, axis=0) / (n * n)
    return term1 - term2


def score(
    point: np.ndarray,
    residuals_all: np.ndarray,
    actual_drivers: np.ndarray,
    spend: np.ndarray,
    counts: Mapping[str, np.ndarray],
    baseline_point: np.ndarray,
    *,
    metric: str,
    weight: float,
    rng: np.random.Generator,
    n_paths: int = 400,
) -> MemberScore:
    """Score forecasts ``point`` ``(J, H, 4)`` on ``metric``, with leave-one-cutoff-out
    calibration from ``residuals_all`` (the same forecasts' residuals, ``(J, H, 4)``)."""
    spec = METRICS[metric]
    J, H, _ = point.shape
    abs_err, base_err, smape, crps = [], [], [], []
    hits = {lv: [] for lv in LEVELS}
    total_hits = []
    for j in range(J):
        # the window's days inside the data (position t is calendar day cutoff + t + 1);
        # the forecast is sampled over all of them (its AR errors run day by day) and scored
        # on the days reported, selected by position, never by compacting the window
        L = int(np.isfinite(point[j, :, 0]).sum())
        if L == 0 or not np.isfinite(point[j, :L, 0]).all():
            continue
        y_all = actual_metric(
            metric, actual_drivers[j, :L], spend[j, :L], {c: v[j, :L] for c, v in counts.items()}
        )
        seen = np.isfinite(actual_drivers[j, :L, 0]) & np.isfinite(y_all)
        if not seen.any():
            continue
        others = np.arange(J) != j
        held_out = residuals_all[others]
        # no residual on the other cutoffs (a single cutoff, or a member that only ran at
        # this one): calibrate in-sample rather than not at all
        if not np.isfinite(held_out).any():
            held_out = residuals_all
        calib = calibrate(held_out, H)
        fc = DriverForecast(
            campaign_id="backtest",
            dates=_dummy_dates(L),
            spend_plan=spend[j, :L],
            center=point[j, :L],
            scale=calib.scale[:L],
            ar_coef=calib.ar_coef,
            driver_corr=calib.driver_corr,
        )
        paths = spec.compute(fc.sample(n_paths, rng), spend[j, :L])[:, seen]
        y = y_all[seen]
        f = spec.compute(point[j, :L], spend[j, :L])[seen]
        b = spec.compute(baseline_point[j, :L], spend[j, :L])[seen]
        abs_err.append(np.abs(f - y))
        base_err.append(np.abs(b - y))
        denom = np.abs(f) + np.abs(y)
        smape.append(np.where(denom > 0, 2 * np.abs(f - y) / np.where(denom > 0, denom, 1), 0))
        crps.append(_crps_samples(paths, y))
        for lv in LEVELS:
            lo, hi = np.quantile(paths, [(1 - lv) / 2, (1 + lv) / 2], axis=0)
            hits[lv].append((y >= lo) & (y <= hi))
        if spec.additive and L == H:
            # the window's total over the days reported (a missing day is in neither sum)
            tot = paths.sum(axis=1)
            lo, hi = np.quantile(tot, [0.1, 0.9])
            total_hits.append(lo <= y.sum() <= hi)
    if not abs_err:
        nan = float("nan")
        return MemberScore(nan, nan, nan, nan, nan, nan, weight, nan, 0)
    ae, be = np.concatenate(abs_err), np.concatenate(base_err)
    return MemberScore(
        mase=float(ae.sum() / be.sum()) if be.sum() > 0 else float("nan"),
        smape=float(np.mean(np.concatenate(smape))),
        crps=float(np.mean(np.concatenate(crps))),
        coverage_50=float(np.mean(np.concatenate(hits[0.5]))),
        coverage_80=float(np.mean(np.concatenate(hits[0.8]))),
        coverage_95=float(np.mean(np.concatenate(hits[0.95]))),
        weight=float(weight),
        total_coverage_80=float(np.mean(total_hits)) if total_hits else float("nan"),
        n_points=int(len(ae)),
    )


def _dummy_dates(n: int):
    import pandas as pd

    return pd.date_range("2000-01-01", periods=n, freq="D")
