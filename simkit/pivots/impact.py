"""Simulate scenarios over the horizon with common random numbers, and measure impacts.

A *scenario* is a daily budget per key and, optionally, a conversion multiplier per key
and path and day (a creative refresh or audience change acts through it).  For path ``p``
(which uses curve draw ``p mod n_draws`` of every key, and its revenue-per-conversion draw)
and horizon day ``h``::

    mu[p, h]  = f_p(delivery x budget) x dow_p(h) x multiplier[p, h] x exp(sigma e[p, h] - sigma^2/2)
    conv[p, h] = max(0, mu + sqrt(mu) z[p, h])
    revenue    = conv x rpc_p,   spend = delivery x budget

where ``e`` is an AR(1) standard-normal series with the curve's residual autocorrelation
and ``sigma^2 = log(1 + alpha)`` the curve's negative-binomial overdispersion.  ``e``, ``z``
and the draw index are drawn once (:class:`CommonDraws`) and shared by every scenario, so the
difference between two scenarios carries the uncertainty of the pivot's effect, not the
day-to-day noise that both share (common random numbers).

The Monte Carlo engine of :mod:`simkit.simulate` simulates from a driver forecast
(``DriverForecast``); the pivots stage works from its own response curves, so it draws
its own common random numbers here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simkit.pivots.optimize import quantiles
from simkit.pivots.portfolio import Portfolio

__all__ = ["IMPACT_METRICS", "CommonDraws", "Scenario", "impact", "simulate_scenario"]

IMPACT_METRICS: tuple[str, ...] = ("conversions", "revenue", "spend", "cpa", "roas", "profit")


@dataclass(frozen=True)
class CommonDraws:
    """Random numbers shared by all scenarios of one portfolio (common random numbers)."""

    dates: pd.DatetimeIndex
    draw_index: np.ndarray
    noise: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]

    @property
    def n_paths(self) -> int:
        return len(self.draw_index)

    @classmethod
    def make(
        cls,
        portfolio: Portfolio,
        horizon_days: int,
        n_paths: int,
        rng: np.random.Generator,
    ) -> CommonDraws:
        """Draw the shared numbers for ``n_paths`` paths over ``horizon_days`` days."""
        if horizon_days < 1 or n_paths < 1:
            raise ValueError("horizon_days and n_paths must be positive")
        dates = pd.date_range(
            portfolio.as_of + pd.Timedelta(days=1), periods=horizon_days, freq="D"
        )
        idx = np.arange(n_paths) % portfolio.n_draws
        noise, counts = {}, {}
        for key in portfolio.keys:
            rho = portfolio.curves[key].residual_rho
            shocks = rng.standard_normal((n_paths, horizon_days))
            e = np.empty_like(shocks)
            e[:, 0] = shocks[:, 0]
            root = np.sqrt(1.0 - rho**2)
            for t in range(1, horizon_days):
                e[:, t] = rho * e[:, t - 1] + root * shocks[:, t]
            noise[key] = e
            counts[key] = rng.standard_normal((n_paths, horizon_days))
        return cls(dates=dates, draw_index=idx, noise=noise, counts=counts)


@dataclass(frozen=True)
class Scenario:
    """Daily budgets per key, and optional conversion multipliers ``(n_paths, H)`` per key."""

    budgets: Mapping[str, float]
    multipliers: Mapping[str, np.ndarray] = field(default_factory=dict)


def simulate_scenario(
    portfolio: Portfolio, scenario: Scenario, draws: CommonDraws
) -> dict[str, dict[str, np.ndarray]]:
    """Per key, ``(n_paths,)`` horizon totals of conversions, revenue and spend."""
    dow = draws.dates.day_of_week.to_numpy()
    h = len(draws.dates)
    out: dict[str, dict[str, np.ndarray]] = {}
    for key in portfolio.keys:
        curve = portfolio.curves[key]
        spend = portfolio.delivery[key] * float(scenario.budgets[key])
        level = curve.samples(spend)[draws.draw_index]
        dow_eff = curve.dow_effects()[draws.draw_index][:, dow]
        sigma2 = np.log1p(curve.dispersion())
        mu = level[:, None] * dow_eff * np.exp(np.sqrt(sigma2) * draws.noise[key] - sigma2 / 2)
        mult = scenario.multipliers.get(key)
        if mult is not None:
            mu = mu * mult
        conv = np.maximum(mu + np.sqrt(mu) * draws.counts[key], 0.0).sum(axis=1)
        rpc = portfolio.rpc_draws[key][draws.draw_index]
        out[key] = {
            "conversions": conv,
            "revenue": conv * rpc,
            "spend": np.full(draws.n_paths, spend * h),
        }
    return out


def totals(
    sim: Mapping[str, Mapping[str, np.ndarray]], keys: Sequence[str]
) -> dict[str, np.ndarray]:
    """Sum counts over ``keys``; CPA, ROAS and profit from the sums (per path)."""
    conv = sum(np.asarray(sim[k]["conversions"]) for k in keys)
    rev = sum(np.asarray(sim[k]["revenue"]) for k in keys)
    spend = sum(np.asarray(sim[k]["spend"]) for k in keys)
    conv, rev, spend = (np.asarray(v, dtype=float) for v in (conv, rev, spend))
    with np.errstate(divide="ignore", invalid="ignore"):
        cpa = np.where(conv > 0, spend / np.maximum(conv, 1e-12), np.nan)
        roas = np.where(spend > 0, rev / np.maximum(spend, 1e-12), np.nan)
    return {
        "conversions": conv,
        "revenue": rev,
        "spend": spend,
        "cpa": cpa,
        "roas": roas,
        "profit": rev - spend,
    }


def impact(
    base: Mapping[str, Mapping[str, np.ndarray]],
    alt: Mapping[str, Mapping[str, np.ndarray]],
    keys: Sequence[str],
) -> dict[str, np.ndarray]:
    """Per metric, ``(n_paths,)`` change from ``base`` to ``alt`` over ``keys``."""
    a, b = totals(alt, keys), totals(base, keys)
    return {m: a[m] - b[m] for m in IMPACT_METRICS}


def summarise(delta: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """``{metric: {p10, p50, p90, mean}}``, ignoring undefined (nan) paths."""
    out = {}
    for m, v in delta.items():
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        out[m] = (
            quantiles(v)
            if len(v)
            else {"p10": np.nan, "p50": np.nan, "p90": np.nan, "mean": np.nan}
        )
    return out
