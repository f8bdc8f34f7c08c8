"""The vectorised Monte Carlo funnel engine.

For ``N`` paths x ``H`` days, from a :class:`~simkit.forecast.base.DriverForecast`:

1. **Delivery.**  Spend per path and day from the budget plan (:mod:`.budget`): delivery
   ratio and noise, platform pacing caps, total-budget cap.
2. **Drivers.**  Correlated, unit-variance innovations -> per-driver AR(1) errors (the
   forecast's ``ar_coef``, so days are correlated, not independent), mixed with a
   persistent per-path level error (each driver's ``level_share`` of the variance, fitted
   on the campaign's own backtests: a total must carry the level uncertainty) -> times the
   forecast's ``scale``
   (less count-sampling noise, below) -> plus the centre, plus ``spend_elasticity x log(spend / plan)``
   per path (paths that spend more pay a higher CPM), plus market-factor shifts.
3. **Counts.**  impressions ~ Poisson(1000 spend / CPM), clicks ~ Binomial(impressions,
   CTR), conversions ~ Binomial(clicks, CVR), revenue = conversions x RPC x order-value
   noise (log-sd ``order_value_sd / sqrt(conversions)``, mean-preserving).  CTR, CPC, CPA
   and ROAS are then ratios of one path's counts, so they are coherent on every path.

*Sampling noise is not counted twice.*  A forecaster fits its drivers on observed daily
rates, whose errors already contain the sampling noise of the counts (on the logit scale,
``1 / (n p (1 - p))``).  With ``deconvolve_sampling_noise`` (default) the engine removes
that expected sampling variance at the plan's volume from each driver's variance (keeping
at least ``min_latent_share`` of it) before the count draws add it back at each path's own
volume.  So a bigger plan gets relatively less count noise, as it should.

*Common random numbers.*  All randomness comes from streams derived from one draw of the
``rng`` passed in: per block of ``chunk_paths`` paths, one stream each for drivers,
persistent levels, delivery and counts, and one per market factor keyed by the factor.
Block sizes depend only on ``n_paths`` and ``chunk_paths``, every draw has a fixed size,
and every count is a monotone function of one Gaussian variate (:mod:`._random`).  Two
runs from equal generator states therefore share all their random numbers even when their
plans or factors differ (what :func:`simkit.simulate.simulate_pair` uses), and results do
not depend on how many threads work on the blocks.

Arrays are time-major, ``(H, N)``, so per-day quantiles read contiguous memory.  Work is
done in blocks of ``chunk_paths`` paths, which bounds memory; each block works in reused
scratch arrays (:class:`_Workspace`) and writes its counts straight into the result, because
fresh large temporaries cost as much in page faults as the arithmetic itself.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from simkit.forecast.base import DRIVERS, DriverForecast
from simkit.simulate._memory import available_memory_bytes, check_paths_fit, paths_error
from simkit.simulate._random import binomial_from_normal, fast_normals, poisson_from_normal
from simkit.simulate.budget import BudgetPlan, DeliveryModel, _deliver_into, cap_segments
from simkit.simulate.factors import MarketFactor

__all__ = ["COUNT_METRICS", "RATIO_METRICS", "EngineConfig", "SimulationPaths", "simulate_paths"]

#: The one :attr:`EngineConfig.persistent_share` used before each campaign's own (issue 16),
#: learned by ``bench/simulation.py --calibrate 24`` on family-A campaigns; kept for callers
#: that want a fixed share.
PERSISTENT_SHARE = 0.05

COUNT_METRICS: tuple[str, ...] = ("spend", "impressions", "clicks", "conversions", "revenue")
#: Ratio metrics as (numerator, denominator, multiplier).
RATIO_METRICS: dict[str, tuple[str, str, float]] = {
    "cpm": ("spend", "impressions", 1000.0),
    "ctr": ("clicks", "impressions", 1.0),
    "cpc": ("spend", "clicks", 1.0),
    "cvr": ("conversions", "clicks", 1.0),
    "cpa": ("spend", "conversions", 1.0),
    "roas": ("revenue", "spend", 1.0),
}


class EngineConfig(BaseModel):
    """Settings of the engine (all have documented defaults).

    Attributes
    ----------
    normal_min_var
        Counts whose variance is at least this use the skew-corrected normal approximation;
        smaller ones the exact quantile (see :mod:`._random`).  10 keeps the approximation's
        quantile error under about half a count.
    chunk_paths
        Paths per block.  Each block has its own random streams and scratch arrays (about
        56 bytes per path-day, reused across blocks and calls); blocks are the unit of
        work of the threads.  Larger blocks mean fewer NumPy calls per path: 5,000 was
        fastest here for 10,000 x 90 (two blocks, one per core), 512 about 1.5x slower.
    order_value_sd
        Log-sd of one order's value around the day's revenue per conversion.
    deconvolve_sampling_noise
        Remove the count sampling variance already inside the drivers' scales (see above).
    min_latent_share
        Least share of a driver's variance kept after that removal.
    persistent_share
        Share of each driver's error variance that persists over the whole horizon (one
        draw per path and driver) instead of following the forecast's AR(1).  The
        forecaster calibrates each *day's* interval; a 28-day total is mostly the error
        of the *level*.  ``None`` (default): each campaign's own shares, fitted with the
        AR(1) of the rest to its backtest errors' sums over 1..H days
        (:attr:`~simkit.forecast.base.DriverForecast.level_share`).  A number: that share
        for every driver, with the forecast's AR(1) (what ``bench/simulation.py
        --calibrate`` learns on one world family and scores on the other, and what a
        ledger challenger may set).  One share learnt on family A was too narrow on
        family B and one learnt on B too wide on A (issue 16).
    median_centre
        Take the forecast's centre as each day's median rate: the drivers are fitted as
        means of log and logit rates, and the day-to-day part of the predictive error
        (backtest errors, attribution-lag noise) would otherwise lift the expected funnel
        counts by about ``exp(var / 2)`` (see ``_centre``).  On family B's 40 bench
        campaigns it lowered the p50 of 28-day totals by 9.7% (log) on average, from
        4.6% above the truth to 5.1% below; on family A by 2.5% (2026-12-02).
    n_threads
        Threads that work on blocks at once (NumPy releases the GIL in its loops).  Each
        block draws from its own streams, so results do not depend on this number.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    normal_min_var: float = Field(default=10.0, ge=0)
    chunk_paths: int = Field(default=5000, ge=1)
    order_value_sd: float = Field(default=0.35, ge=0)
    deconvolve_sampling_noise: bool = True
    min_latent_share: float = Field(default=0.25, gt=0, le=1)
    n_threads: int = Field(default=2, ge=1)
    persistent_share: float | None = Field(default=None, ge=0, lt=1)
    median_centre: bool = True


@dataclass(frozen=True)
class SimulationPaths:
    """Simulated funnel paths for one campaign; arrays are ``(H, n_paths)`` (time-major).

    Arrays are float32 (counts are whole numbers; totals are summed in float64): half the
    memory and bandwidth of float64, and far more precision than Monte Carlo error needs.

    Ratio metrics (``cpm``, ``ctr``, ``cpc``, ``cvr``, ``cpa``, ``roas``) come from
    :meth:`metric`; ``inf``/``nan`` where the denominator is zero.
    """

    campaign_id: str
    dates: pd.DatetimeIndex
    spend: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray
    exhausted: np.ndarray
    exhausted_day: np.ndarray
    plan: BudgetPlan
    factors: tuple[MarketFactor, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_paths(self) -> int:
        return int(self.spend.shape[1])

    @property
    def horizon_days(self) -> int:
        return len(self.dates)

    def metric(self, name: str) -> np.ndarray:
        """``(H, N)`` daily values of a count or ratio metric."""
        if name in COUNT_METRICS:
            return getattr(self, name)
        num, den, mult = RATIO_METRICS[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            return mult * getattr(self, num) / getattr(self, den)

    def totals(self) -> dict[str, np.ndarray]:
        """``(N,)`` horizon totals per path: sums of counts, ratios of those sums."""
        out = {m: getattr(self, m).sum(axis=0, dtype=np.float64) for m in COUNT_METRICS}
        with np.errstate(divide="ignore", invalid="ignore"):
            for name, (num, den, mult) in RATIO_METRICS.items():
                out[name] = mult * out[num] / out[den]
        return out


class _Workspace:
    """Scratch arrays of one block, kept between blocks and calls.

    A block needs about 14 float32 arrays of ``H x chunk_paths`` values.  Fresh arrays that
    large are mapped from the OS on every allocation and zero-filled page by page when
    first written: measured here, that page-fault cost was as large as all the arithmetic
    (10,000 x 90: 128 ms of CPU with fresh temporaries, 53 ms with reused ones).
    """

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        """A C-contiguous array of ``shape`` (contents undefined), reusing its memory."""
        size = int(np.prod(shape, dtype=np.int64))
        buf = self._flat.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self._flat[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)

    @property
    def nbytes(self) -> int:
        return sum(buf.nbytes for buf in self._flat.values())


_POOL: list[_Workspace] = []
_POOL_LOCK = threading.Lock()
#: Workspaces kept for reuse (one per concurrently working thread), each only when it
#: holds at most ``_POOL_BYTES`` (the default ``chunk_paths`` x 90 days needs about 20 MB).
_POOL_SIZE = 2
_POOL_BYTES = 64 * 2**20


@contextmanager
def _workspace() -> Iterator[_Workspace]:
    with _POOL_LOCK:
        ws = _POOL.pop() if _POOL else _Workspace()
    try:
        yield ws
    finally:
        with _POOL_LOCK:
            if len(_POOL) < _POOL_SIZE and ws.nbytes <= _POOL_BYTES:
                _POOL.append(ws)


def _stream(base: np.ndarray, key: str, block: int) -> np.random.Generator:
    tag = zlib.crc32(key.encode())
    return np.random.default_rng(np.random.SeedSequence([int(b) for b in base] + [tag, block]))


def _latent_scale(fc: DriverForecast, spend: np.ndarray, config: EngineConfig) -> np.ndarray:
    """``(H, 4)`` driver scales with the expected count-sampling variance removed."""
    scale = fc.scale.copy()
    if not config.deconvolve_sampling_noise:
        return scale
    c = fc.center
    cpm = np.exp(c[:, 0])
    ctr, cvr = 1 / (1 + np.exp(-c[:, 1])), 1 / (1 + np.exp(-c[:, 2]))
    imp = np.maximum(1000.0 * spend / cpm, 1e-9)
    clicks = np.maximum(imp * ctr, 1e-9)
    conv = np.maximum(clicks * cvr, 1e-9)
    sampling = np.column_stack(
        [
            1.0 / imp,
            1.0 / (imp * ctr * (1 - ctr)),
            1.0 / (clicks * cvr * (1 - cvr)),
            config.order_value_sd**2 / np.maximum(conv, 1.0),
        ]
    )
    var = scale**2
    return np.sqrt(np.maximum(var - sampling, config.min_latent_share * var))


def _cholesky(corr: np.ndarray) -> np.ndarray | None:
    """float32 Cholesky factor of the drivers' correlation, or ``None`` for the identity."""
    d = corr.shape[0]
    if np.allclose(corr, np.eye(d)):
        return None
    return np.linalg.cholesky(corr + 1e-12 * np.eye(d)).astype(np.float32)


def _correlate(chol: np.ndarray | None, z: np.ndarray) -> None:
    """Give ``z`` (drivers first) the drivers' correlation, in place (Cholesky factor)."""
    if chol is None:
        return
    # lower-triangular mixing by hand: BLAS threads would only contend for 4x4 work
    for i in range(chol.shape[0] - 1, -1, -1):
        if chol[i, i] != 1:
            z[i] *= chol[i, i]
        for j in range(i):
            if chol[i, j] != 0:
                z[i] += chol[i, j] * z[j]


def _driver_errors(
    fc: DriverForecast,
    z: np.ndarray,
    rng: np.random.Generator,
    chol: np.ndarray | None | str = "auto",
) -> np.ndarray:
    """``(4, H, n)`` unit-variance AR(1) errors from ``(4, H, n)`` independent normals.

    Same model as :meth:`DriverForecast.standard_innovations` + :meth:`~DriverForecast.
    paths_from` (correlate drivers, Student-t mixing per path, AR(1) per driver started
    from its stationary distribution), driver-major and float32 for speed.  ``z`` is
    overwritten (unless Student-t mixing needs a new array).  ``chol`` is
    :func:`_cholesky` of the forecast's correlation (computed when ``"auto"``).

    The recursion runs day by day over all drivers and paths at once: each step is two
    contiguous passes over ``4 x n`` values, so the Python loop costs ``2 H`` calls per
    block, whatever ``n``.  (``scipy.signal.lfilter`` along the day axis measured 3-9x
    slower here: it walks the strided day axis one path at a time.)
    """
    d, h, n = z.shape
    _correlate(_cholesky(fc.driver_corr) if isinstance(chol, str) else chol, z)
    if np.isfinite(fc.df):
        chi = rng.chisquare(fc.df, size=n)
        mix = np.sqrt((fc.df - 2) / chi) if fc.df > 2 else np.sqrt(1 / chi)
        z = z * mix.astype(np.float32)
    active = np.flatnonzero(fc.ar_coef)
    if active.size == 0:
        return z
    if active.size < d:  # only drivers with day-to-day correlation need the recursion
        z[active] = _driver_errors_ar(fc.ar_coef[active], z[active])
        return z
    return _driver_errors_ar(fc.ar_coef, z)


def _driver_errors_ar(ar_coef: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Unit-variance AR(1) along axis 1 of ``err`` (drivers, days, paths), in place."""
    phi = ar_coef.astype(np.float32)[:, None]
    root = np.sqrt(1 - phi * phi)
    err[:, 1:] *= root[:, :, None]
    step = np.empty((err.shape[0], err.shape[2]), dtype=np.float32)
    for t in range(1, err.shape[1]):
        np.multiply(err[:, t - 1], phi, out=step)
        np.add(err[:, t], step, out=err[:, t])
    return err


def _centre(fc: DriverForecast, var: np.ndarray, config: EngineConfig) -> np.ndarray:
    """``(H, 4)`` centre of the drivers' paths: the forecast's, or with ``median_centre``
    moved so that the day-to-day part of the error (variance ``var``) leaves each day's
    expected funnel rate at the rate of the centre (second-order: ``+var / 2`` on log CPM,
    ``-(1 - 2p) var / 2`` on logit CTR and CVR, ``-var / 2`` on log RPC)."""
    centre = np.array(fc.center, dtype=float, copy=True)
    if not config.median_centre:
        return centre
    p = 1 / (1 + np.exp(-centre[:, 1:3]))
    centre[:, 0] += var[:, 0] / 2
    centre[:, 1:3] -= (1 - 2 * p) * var[:, 1:3] / 2
    centre[:, 3] -= var[:, 3] / 2
    return centre


def _persistence(fc: DriverForecast, config: EngineConfig) -> tuple[np.ndarray, np.ndarray]:
    """Each driver's persistent share and the AR(1) coefficient of the rest: the config's
    share with the forecast's AR(1) when set, else the forecast's own pair, fitted on its
    backtests (:attr:`DriverForecast.level_share`)."""
    if config.persistent_share is not None:
        return np.full(len(DRIVERS), config.persistent_share), fc.ar_coef
    return np.asarray(fc.level_share, dtype=float), np.asarray(fc.level_ar_coef, dtype=float)


def simulate_paths(
    drivers: DriverForecast,
    plan: BudgetPlan,
    n_paths: int,
    rng: np.random.Generator,
    *,
    delivery: DeliveryModel | None = None,
    factors: Sequence[MarketFactor] = (),
    config: EngineConfig | None = None,
) -> SimulationPaths:
    """Simulate ``n_paths`` funnel trajectories over the forecast's horizon.

    Parameters
    ----------
    drivers
        The driver forecast (its ``spend_plan`` is the spend its centre is for).
    plan
        Daily budgets (and optional total) over the same horizon.
    n_paths
        Number of Monte Carlo paths.
    rng
        Source of all randomness (one draw is taken from it; see the module docstring on
        common random numbers).
    delivery
        Delivery ratio, noise and pacing rule; default: spend = budget, small noise, no
        overspend.
    factors
        Market factors to apply.
    config
        Engine settings.

    Examples
    --------
    >>> paths = simulate_paths(fc, BudgetPlan.from_daily(500.0, fc.horizon_days), 1000,
    ...                        np.random.default_rng(7))  # doctest: +SKIP
    >>> paths.conversions.shape  # doctest: +SKIP
    (28, 1000)
    """
    config = config or EngineConfig()
    delivery = delivery or DeliveryModel()
    h = drivers.horizon_days
    if plan.daily.shape != (h,):
        raise ValueError(f"plan covers {plan.daily.shape[0]} days, the forecast {h}")
    if n_paths < 1:
        raise ValueError("n_paths must be positive")
    check_paths_fit(n_paths, h)  # before allocating: over-commit would kill us later, silently
    dates = drivers.dates
    base = rng.integers(0, 2**63 - 1, size=2)
    keys = [f.key for f in factors]
    factor_keys = [f"factor:{k}:{keys[:i].count(k)}" for i, k in enumerate(keys)]

    expected_spend = plan.daily * delivery.ratio
    latent = _latent_scale(drivers, expected_spend, config)
    share, ar_coef = _persistence(drivers, config)
    if not np.array_equal(ar_coef, drivers.ar_coef):
        drivers = replace(drivers, ar_coef=ar_coef)
    # x = center + scale sqrt(1 - share) (AR error + sqrt(share / (1 - share)) level): the
    # persistent level mixes in before scaling, which saves a pass over the block
    scale = (latent * np.sqrt(1 - share)).T.astype(np.float32)[:, :, None]
    level_weight = np.sqrt(share / (1 - share)).astype(np.float32)[:, None, None]
    center = _centre(drivers, (1 - share) * latent**2, config).T.astype(np.float32)[:, :, None]
    elastic = [(i, np.float32(e)) for i, e in enumerate(drivers.spend_elasticity) if e != 0]
    log_plan = np.log(np.maximum(drivers.spend_plan, 1e-9)).astype(np.float32)[:, None]
    chol = _cholesky(drivers.driver_corr)
    ov = np.float32(config.order_value_sd)
    one, log1000 = np.float32(1.0), np.float32(np.log(1000.0))

    try:
        out = {m: np.empty((h, n_paths), dtype=np.float32) for m in COUNT_METRICS}
        exhausted = np.empty(n_paths, dtype=bool)
        exhausted_day = np.empty(n_paths, dtype=np.int64)
    except MemoryError:
        raise paths_error(n_paths, h, available_memory_bytes() or 0) from None

    segments = cap_segments(plan, delivery, dates)
    n_blocks = -(-n_paths // config.chunk_paths)
    bounds = [index * config.chunk_paths for index in range(n_blocks)] + [n_paths]

    def block(index: int) -> None:
        with _workspace() as ws:
            _block(index, ws)

    def _block(index: int, ws: _Workspace) -> None:
        lo, hi = bounds[index], bounds[index + 1]
        n = hi - lo
        d = len(DRIVERS)
        streams = {k: _stream(base, k, index) for k in ("drivers", "delivery", "counts")}
        scratch = ws.get("index", (4 * 8192,), np.intp)
        # delivery: the normals become log(spend) in place
        log_spend = fast_normals(
            streams["delivery"], (h, n), out=ws.get("log_spend", (h, n)), index=scratch
        )
        spend = out["spend"][:, lo:hi]
        first = _deliver_into(plan, delivery, log_spend, segments, log_spend, spend, bool(elastic))
        exhausted[lo:hi] = first >= 0
        exhausted_day[lo:hi] = first
        z = fast_normals(streams["drivers"], (d, h, n), out=ws.get("x", (d, h, n)), index=scratch)
        x = _driver_errors(drivers, z, streams["drivers"], chol)
        if np.any(share > 0):
            level = fast_normals(_stream(base, "level", index), (d, 1, n))
            _correlate(chol, level)
            level *= level_weight
            x += level
        x *= scale
        x += center
        work = ws.get("work", (h, n))
        if elastic:
            log_ratio = log_spend
            log_ratio -= log_plan
            bad = np.isfinite(log_ratio, out=ws.get("mask", (h, n), np.bool_))
            np.logical_not(bad, out=bad)  # no spend: no elasticity shift
            if bad.any():
                log_ratio[bad] = 0.0
            for i, e in elastic:
                x[i] += np.multiply(log_ratio, e, out=work)
        for factor, key in zip(factors, factor_keys, strict=True):
            x += np.moveaxis(factor.shift(dates, n, _stream(base, key, index)), 1, 0)
        _counts(
            x,
            fast_normals(streams["counts"], (4, h, n), out=ws.get("zc", (4, h, n)), index=scratch),
            spend,
            {m: out[m][:, lo:hi] for m in COUNT_METRICS[1:]},
            (work, ws.get("tmp", (h, n)), ws.get("mask", (h, n), np.bool_)),
        )

    def _counts(
        x: np.ndarray,
        zc: np.ndarray,
        spend: np.ndarray,
        dest: dict[str, np.ndarray],
        scratch: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Funnel counts into ``dest`` from the drivers ``x`` (overwritten) and normals ``zc``."""
        work, tmp, mask = scratch
        # the drivers' rows become workspace once turned into rates
        lam = np.subtract(log1000, x[0], out=x[0])  # 1000 spend / CPM
        np.exp(lam, out=lam)
        lam *= spend
        ctr, cvr = x[1], x[2]
        for rate in (ctr, cvr):  # expit
            np.negative(rate, out=rate)
            np.exp(rate, out=rate)
            rate += one
            np.reciprocal(rate, out=rate)
        imp = poisson_from_normal(
            lam, zc[0], config.normal_min_var, out=dest["impressions"], scratch=(tmp, mask)
        )
        clicks = binomial_from_normal(
            imp, ctr, zc[1], config.normal_min_var, out=dest["clicks"], scratch=scratch
        )
        conv = binomial_from_normal(
            clicks, cvr, zc[2], config.normal_min_var, out=dest["conversions"], scratch=scratch
        )
        log_rev = x[3]
        if ov > 0:
            # log-sd ov / sqrt(conversions), mean-preserving: s (z - s / 2)
            s = np.maximum(conv, one, out=work)
            np.sqrt(s, out=s)
            np.divide(ov, s, out=s)
            noise = np.multiply(s, np.float32(-0.5), out=tmp)
            noise += zc[3]
            noise *= s
            log_rev += noise
        revenue = np.exp(log_rev, out=dest["revenue"])
        revenue *= conv
        if not drivers.revenue_measured:
            revenue[...] = 0  # the history measures none: inventing it would be a lie

    if config.n_threads > 1 and n_blocks > 1:
        with ThreadPoolExecutor(min(config.n_threads, n_blocks)) as pool:
            list(pool.map(block, range(n_blocks)))
    else:
        for index in range(n_blocks):
            block(index)
    return SimulationPaths(
        campaign_id=drivers.campaign_id,
        dates=dates,
        exhausted=exhausted,
        exhausted_day=exhausted_day,
        plan=plan,
        factors=tuple(factors),
        info={
            "latent_scale": scale.astype(float),
            "delivery": delivery.to_dict(),
            "config": config.model_dump(),
        },
        **out,
    )
