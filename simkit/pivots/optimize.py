"""The budget optimiser: split a total daily budget across campaigns (or channels).

Objective (per day, under the fitted curves ``f_i`` and delivery ratios ``d_i``)::

    conversions:  sum_i f_i(d_i b_i)
    revenue:      sum_i rpc_i f_i(d_i b_i)
    profit:       sum_i rpc_i f_i(d_i b_i) - d_i b_i      (revenue minus ad spend)

subject to ``sum_i max(1, d_i) b_i <= B`` (so neither the budgets nor the delivered spend
exceed the total, even for a campaign that overpaces) and ``lower_i <= b_i <= upper_i``.  Every ``f_i`` is
concave (see :mod:`simkit.pivots.curves`; the expected curve is a mean of concave draws),
so the problem is a separable concave resource allocation whose optimum equalises marginal
values: ``b_i(lambda) = clip(m_i^{-1}(lambda), lower_i, upper_i)`` with ``lambda`` chosen
so that the budget binds (or ``lambda = 0`` when it does not, e.g. for profit).  This
greedy marginal-return *water-filling* is exact for concave curves (Ibaraki & Katoh 1988,
*Resource Allocation Problems*); the marginal value of each campaign is tabulated on a fine
grid inside its bounds and inverted by interpolation, and ``lambda`` is found by bisection.

Bounds: by default each budget may move by at most ``max_change`` (50%) from today's
(:func:`simkit.pivots.portfolio.todays_budget`); ``min_spend`` raises lower bounds; a
per-campaign target CPA (``spend / conversions <= tCPA``) or target ROAS
(``revenue / spend >= tROAS``) becomes an upper bound, because average CPA rises (and
ROAS falls) with spend on a concave curve through the origin.

Each curve is scaled by the portfolio's ``state`` multiplier (the creative state expected
over the horizon, set by the pivot engine; 1 by default), so a worn-out creative's lower
return is priced in.

The status quo (today's budgets, scaled down proportionally if they exceed the total) is
evaluated on the same curves; if the optimum were worse in expectation, the status quo is
returned instead and the result says so.  Uncertainty: the gain over the status quo is
computed for every joint draw of the curves (and revenue per conversion), giving its
p10/p50/p90 and P(gain > 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from simkit._suggest import did_you_mean
from simkit.errors import ParamsError
from simkit.pivots.portfolio import Portfolio

__all__ = ["OBJECTIVES", "Allocation", "optimize_budget", "quantiles", "water_fill"]

Objective = Literal["conversions", "revenue", "profit"]
OBJECTIVES: tuple[str, ...] = ("conversions", "revenue", "profit")
_GRID = 257


def quantiles(x: np.ndarray) -> dict[str, float]:
    """``{p10, p50, p90, mean}`` of draws."""
    x = np.asarray(x, dtype=float)
    p10, p50, p90 = np.quantile(x, [0.1, 0.5, 0.9])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(x.mean())}


def water_fill(
    grids: list[np.ndarray], marginals: list[np.ndarray], total: float
) -> tuple[np.ndarray, float]:
    """Equalise decreasing marginal values under a total.

    Parameters
    ----------
    grids
        Per item, an increasing grid from its lower to its upper bound.
    marginals
        Per item, the marginal value at each grid point (non-increasing).
    total
        Upper limit of the sum; must be at least the sum of lower bounds.

    Returns
    -------
    (x, lambda)
        Amounts with ``sum(x) <= total`` and each inside its grid's range, and the
        marginal value at which they were cut (0 when the total does not bind).
    """
    lower = np.array([g[0] for g in grids])
    if lower.sum() > total * (1 + 1e-12):
        raise ValueError("the lower bounds exceed the total")
    rev_m = [np.minimum.accumulate(m)[::-1] for m in marginals]
    rev_g = [g[::-1] for g in grids]

    def at(lam: float) -> np.ndarray:
        # largest x whose marginal is still >= lam (marginals are non-increasing)
        return np.array(
            [
                np.interp(lam, m, g, left=g[0], right=g[-1])
                for m, g in zip(rev_m, rev_g, strict=True)
            ]
        )

    x0 = at(0.0)
    if x0.sum() <= total:
        return _cap(x0, lower, total), 0.0
    lo, hi = 0.0, max(float(max(m.max() for m in marginals)), 1e-300) * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if at(mid).sum() > total:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    x = at(hi)
    # hand the slack left by bisection to the items whose marginal is highest at the cut
    slack = total - x.sum()
    if slack > 0:
        x_lo = at(lo)
        room = np.maximum(x_lo - x, 0.0)
        if room.sum() > 0:
            x = x + room * min(1.0, slack / room.sum())
    return _cap(x, lower, total), hi


def _cap(x: np.ndarray, lower: np.ndarray, total: float) -> np.ndarray:
    """Guarantee ``sum(x) <= total`` in floating point, in any summation order, without
    going below ``lower``: the exact sum is kept ``1e-12`` (relative) under the total,
    far more than the rounding error of summing a few thousand numbers.  What lies above
    ``lower`` shrinks by one factor, so the sum lands on that limit (not below it)."""
    x = np.maximum(x, lower)
    limit = total * (1.0 - 1e-12)
    if math.fsum(lower) > limit:
        # the total equals the lower bounds up to rounding: the total wins, by ~1e-12
        return lower * (limit / math.fsum(lower)) * (1.0 - 1e-12)
    for _ in range(10):
        excess = math.fsum(x) - limit
        if excess <= 0:
            break
        above = x - lower
        room = math.fsum(above)
        if room <= 0:
            break
        x = lower + above * max(0.0, 1.0 - excess / room)
    return x


@dataclass(frozen=True)
class Allocation:
    """The optimiser's result (all money figures per day).

    Attributes
    ----------
    keys
        Campaigns (or channels) in order.
    allocation, status_quo
        Daily budget per key, optimised and today's (scaled to the total if needed).
    lower, upper
        The bounds used.
    objective
        ``conversions``, ``revenue`` or ``profit``.
    total_budget
        The total daily budget.
    expected, status_quo_expected
        Per metric (conversions, revenue, spend, cpa, roas, profit), p10/p50/p90/mean of
        the expected daily value over the curves' draws.
    gain
        Per metric, p10/p50/p90/mean of the expected daily gain over the status quo, and
        ``p_gain_positive`` of the objective.
    marginal
        Per key: marginal CPA (spend per extra conversion), marginal ROAS (revenue per
        extra unit of spend) and marginal value of the objective, at the allocation.
    multiplier
        The marginal value at which budgets were cut (Lagrange multiplier of the total).
    fell_back
        True when the optimum was not better than the status quo and the status quo is
        returned.
    notes
        Plain-language notes (bound conflicts, fallbacks, scaling).
    """

    keys: tuple[str, ...]
    allocation: dict[str, float]
    status_quo: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    objective: str
    total_budget: float
    expected: dict[str, dict[str, float]]
    status_quo_expected: dict[str, dict[str, float]]
    gain: dict[str, Any]
    marginal: dict[str, dict[str, float]]
    multiplier: float
    fell_back: bool
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "total_budget": float(self.total_budget),
            "allocation": {k: float(v) for k, v in self.allocation.items()},
            "status_quo": {k: float(v) for k, v in self.status_quo.items()},
            "bounds": {k: [float(self.lower[k]), float(self.upper[k])] for k in self.keys},
            "expected_daily": self.expected,
            "status_quo_expected_daily": self.status_quo_expected,
            "gain_daily": self.gain,
            "marginal": {
                k: {m: (v if math.isfinite(v) else None) for m, v in d.items()}
                for k, d in self.marginal.items()
            },
            "multiplier": float(self.multiplier),
            "fell_back_to_status_quo": bool(self.fell_back),
            "notes": list(self.notes),
        }


def _per_key(value: float | Mapping[str, float] | None, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        v = value.get(key)
        return None if v is None else float(v)
    return float(value)


def portfolio_draws(portfolio: Portfolio, budgets: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Per metric, ``(n_draws,)`` expected daily totals over the portfolio at ``budgets``."""
    n = portfolio.n_draws
    conv = np.zeros(n)
    rev = np.zeros(n)
    spend = 0.0
    for key in portfolio.keys:
        s = portfolio.delivery[key] * float(budgets[key])
        c = portfolio.curves[key].samples(s)[:n] * portfolio.level(key)
        conv += c
        rev += c * portfolio.rpc_draws[key][:n]
        spend += s
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "conversions": conv,
            "revenue": rev,
            "spend": np.full(n, spend),
            "cpa": np.where(conv > 0, spend / conv, np.inf),
            "roas": rev / spend if spend > 0 else np.zeros(n),
            "profit": rev - spend,
        }


def optimize_budget(
    portfolio: Portfolio,
    *,
    total_budget: float | None = None,
    max_change: float = 0.5,
    objective: Objective = "conversions",
    min_spend: float | Mapping[str, float] | None = None,
    target_cpa: float | Mapping[str, float] | None = None,
    target_roas: float | Mapping[str, float] | None = None,
) -> Allocation:
    """Allocate a total daily budget to maximise expected conversions, revenue or profit.

    Parameters
    ----------
    portfolio
        Fitted curves and today's budgets (:func:`simkit.pivots.fit_portfolio`).
    total_budget
        Total daily budget (default: the sum of today's budgets).
    max_change
        Each budget may move by at most this fraction of today's (0.5 = +-50%).
    objective
        ``conversions``, ``revenue`` or ``profit`` (revenue minus ad spend).
    min_spend
        Minimum daily budget, one number for all or per key.
    target_cpa, target_roas
        Per-key (or common) targets, imposed as upper bounds on the budget.

    Returns
    -------
    Allocation

    Examples
    --------
    >>> from simkit.data.synthetic import generate
    >>> from simkit.pivots import fit_portfolio
    >>> world = generate(4, 90, rng=np.random.default_rng(1), events=None)
    >>> pf = fit_portfolio(world.data, rng=np.random.default_rng(2), n_draws=50)
    >>> result = optimize_budget(pf)
    >>> bool(sum(result.allocation.values()) <= sum(pf.today.values()) + 1e-9)
    True
    """
    if objective not in OBJECTIVES:
        raise ParamsError(
            f"unknown objective '{objective}'{did_you_mean(objective, list(OBJECTIVES))}",
            field="objective",
        )
    if not 0 <= max_change <= 10:
        raise ParamsError(f"max_change {max_change} must lie in [0, 10]", field="max_change")
    keys = portfolio.keys
    today = np.array([portfolio.today[k] for k in keys])
    total = float(today.sum() if total_budget is None else total_budget)
    if not np.isfinite(total) or total <= 0:
        raise ParamsError(f"total budget {total} must be positive", field="total_budget")
    notes: list[str] = []
    lower = today * (1 - max_change)
    upper = today * (1 + max_change)
    for i, key in enumerate(keys):
        m = _per_key(min_spend, key)
        if m is not None and m > lower[i]:
            lower[i] = m
            upper[i] = max(upper[i], m)
    costs = np.array([max(1.0, portfolio.delivery[k]) for k in keys])
    if (lower * costs).sum() > total:
        raise ParamsError(
            f"total budget {total:,.2f}/day is below the sum of the lower bounds "
            f"{(lower * costs).sum():,.2f}/day (each budget may fall by at most {max_change:.0%}); "
            "raise the total or --max-change",
            field="total_budget",
        )

    n = portfolio.n_draws
    weight = {
        k: (
            np.ones(n)
            if objective == "conversions"
            else np.asarray(portfolio.rpc_draws[k][:n], dtype=float)
        )
        for k in keys
    }
    grids: list[np.ndarray] = []
    marginals: list[np.ndarray] = []
    for i, key in enumerate(keys):
        curve, d = portfolio.curves[key], portfolio.delivery[key]
        grid = (
            np.linspace(lower[i], upper[i], _GRID)
            if upper[i] > lower[i]
            else np.array([lower[i], lower[i]])
        )
        spend = d * np.maximum(grid, 1e-9)
        cpa_cap = _per_key(target_cpa, key)
        roas_cap = _per_key(target_roas, key)
        ok = np.ones(len(grid), dtype=bool)
        if cpa_cap is not None or roas_cap is not None:
            mean_conv = curve.expected(spend) * portfolio.level(key)
            if cpa_cap is not None:
                ok &= spend <= cpa_cap * mean_conv
            if roas_cap is not None:
                ok &= portfolio.rpc(key) * mean_conv >= roas_cap * spend
        if not ok.all():
            if not ok.any():
                notes.append(
                    f"{key}: its target CPA/ROAS cannot be met even at the lower bound "
                    f"{lower[i]:,.2f}/day; held at the lower bound"
                )
                grid = np.array([lower[i], lower[i]])
                spend = d * grid
            else:
                last = int(np.flatnonzero(ok)[-1])
                notes.append(f"{key}: target CPA/ROAS caps its budget at {grid[last]:,.2f}/day")
                grid = np.linspace(lower[i], grid[last], _GRID) if last > 0 else grid[:1].repeat(2)
                spend = d * np.maximum(grid, 1e-9)
        marg = portfolio.curves[key].sample_marginal(spend)[:n] * (weight[key][:, None])
        mv = d * portfolio.level(key) * marg.mean(axis=0)
        if objective == "profit":
            mv = mv - d
        # a campaign that delivers more than its budget (overpacing) is charged at its
        # delivered spend, so that neither the budgets nor the spend exceed the total
        cost = max(1.0, d)
        grids.append(grid * cost)
        marginals.append(mv / cost)
    for key, c in zip(keys, costs, strict=True):
        if c > 1.0:
            notes.append(
                f"{key} delivers {c:.2f}x its budget; its budget counts at delivered spend "
                "against the total"
            )
    x_cost, lam = water_fill(grids, marginals, total)
    x = x_cost / costs
    lower_used = np.array([g[0] for g in grids]) / costs
    upper_used = np.array([g[-1] for g in grids]) / costs

    scale = min(1.0, total / today.sum())
    sq = today * scale
    if scale < 1:
        notes.append(
            f"today's budgets sum to {today.sum():,.2f}/day, above the total; the status quo "
            f"scales them by {scale:.3f}"
        )
    alloc = dict(zip(keys, (float(v) for v in x), strict=True))
    status = dict(zip(keys, (float(v) for v in sq), strict=True))
    draws_a = portfolio_draws(portfolio, alloc)
    draws_s = portfolio_draws(portfolio, status)
    fell_back = False
    sq_feasible = bool(
        np.all(sq >= lower_used * (1 - 1e-9))
        and np.all(sq <= upper_used * (1 + 1e-9) + 1e-9)
        and (sq * costs).sum() <= total * (1 + 1e-9)
    )
    if not sq_feasible:
        notes.append(
            "the status quo breaks the bounds, targets or total (at delivered spend), so the "
            "optimum is kept even where it gives less than the status quo"
        )
    elif draws_a[objective].mean() < draws_s[objective].mean():
        fell_back = True
        notes.append(
            f"the optimum ({draws_a[objective].mean():,.4g} {objective}/day) was not better "
            f"than the status quo ({draws_s[objective].mean():,.4g}); keeping the status quo"
        )
        alloc, draws_a = dict(status), draws_s
    unspent = total - math.fsum(alloc.values())
    if upper_used.sum() < total and objective != "profit" and unspent > 1e-6 * total:
        notes.append(
            f"the upper bounds sum to {upper_used.sum():,.2f}/day, below the total "
            f"{total:,.2f}/day: {unspent:,.2f}/day stays unspent"
        )
    gain: dict[str, Any] = {
        m: quantiles(draws_a[m] - draws_s[m]) for m in ("conversions", "revenue", "profit")
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        gain["cpa"] = quantiles(np.nan_to_num(draws_a["cpa"] - draws_s["cpa"], posinf=0.0))
        gain["roas"] = quantiles(draws_a["roas"] - draws_s["roas"])
    gain["p_gain_positive"] = float(np.mean(draws_a[objective] - draws_s[objective] > 0))

    marginal: dict[str, dict[str, float]] = {}
    for key in keys:
        d = portfolio.delivery[key]
        s = d * max(alloc[key], 1e-9)
        m_conv = float(portfolio.curves[key].marginal(s)) * portfolio.level(key)
        rpc = portfolio.rpc(key)
        marginal[key] = {
            "marginal_conversions_per_unit_spend": m_conv,
            "marginal_cpa": float(1.0 / m_conv) if m_conv > 0 else float("inf"),
            "marginal_roas": float(rpc * m_conv),
            "average_cpa": float(
                s / max(float(portfolio.curves[key].expected(s)) * portfolio.level(key), 1e-12)
            ),
        }
    return Allocation(
        keys=keys,
        allocation=alloc,
        status_quo=status,
        lower=dict(zip(keys, (float(v) for v in lower_used), strict=True)),
        upper=dict(zip(keys, (float(v) for v in upper_used), strict=True)),
        objective=objective,
        total_budget=total,
        expected={m: quantiles(v) for m, v in draws_a.items()},
        status_quo_expected={m: quantiles(v) for m, v in draws_s.items()},
        gain=gain,
        marginal=marginal,
        multiplier=float(lam),
        fell_back=fell_back,
        notes=tuple(notes),
    )
