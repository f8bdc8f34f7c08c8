"""Pivot types behind one registry, and the recommendation they produce.

Each pivot type is a function ``(context) -> list[Recommendation]``, registered in
:data:`PIVOT_TYPES`.  Every recommendation is simulated against the baseline (the status
quo with today's creative state) over the horizon with common random numbers, so its
impact interval carries the uncertainty of the pivot's effect.  A budget reallocation is
simulated by the Monte Carlo engine of :mod:`simkit.simulate` (one what-if session per
campaign, the campaign's fitted curve as its spend response: the model the dashboard's
preview runs); when a campaign's session cannot be made (too short a history to
forecast), and for the other pivot types, by the curves' own simulation
(:mod:`simkit.pivots.impact`).

Ranking score (one scale for all pivots, in units of the objective over the horizon)::

    score = (p50 + p10) / 2        of the change in the objective

It rewards the typical gain and penalises a bad downside equally: of two pivots with the
same median gain, the one whose 10% worst case is better ranks first, and a pivot whose
p10 is a large loss can rank below a smaller but safer one.  ``confidence`` is
P(change in the objective > 0) and ``downside`` its p10.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simkit.errors import SimkitError
from simkit.pivots.impact import IMPACT_METRICS, Scenario, impact, simulate_scenario, summarise
from simkit.pivots.sessions import audience_shifts, campaign_seed, refresh_shift
from simkit.simulate.fatigue import FRESH_DAYS

if TYPE_CHECKING:
    from simkit.pivots.engine import PivotContext

__all__ = [
    "AUDIENCE_ASSUMPTIONS",
    "PIVOT_TYPES",
    "Recommendation",
    "audience_expansion",
    "budget_reallocation",
    "channel_shift",
    "creative_refresh",
    "score",
]

#: Fatigue is "detected" (without a risk alert) when P(CTR more than this far below the
#: fresh level) is at least :data:`FATIGUE_MIN_PROBABILITY`.
FATIGUE_MIN_DEFICIT = 0.10
FATIGUE_MIN_PROBABILITY = 0.9
#: Without ``creative_id`` the CTR must also be falling now, with this probability.
FATIGUE_MIN_DECLINE_PROBABILITY = 0.8
#: Budget moves smaller than this share of the total are not worth recommending.
MIN_MOVE_SHARE = 0.02

#: Documented assumptions of ``audience_expansion`` (log-normal: median, log-sd).
AUDIENCE_ASSUMPTIONS: dict[str, tuple[float, float]] = {
    # new, colder reach converts worse than the current audience: median -10%, 80% range
    # about -20%..+3%
    "cvr_multiplier": (0.90, 0.10),
    # broadening the audience leaves CPM unchanged on median, +-5% either way
    "cpm_multiplier": (1.00, 0.05),
}


@dataclass(frozen=True)
class Recommendation:
    """One pivot, simulated against the baseline over the horizon.

    Attributes
    ----------
    type
        Registry name.
    campaign_ids
        Campaigns it touches.
    action
        What to do, in words.
    expected_impact
        ``{metric: {p10, p50, p90, mean}}`` change over the horizon on the touched
        campaigns (conversions, revenue, spend, cpa, roas, profit).
    confidence
        P(change in the objective > 0).
    downside
        p10 of the change in the objective.
    score
        Ranking score (module docstring).
    rationale
        Plain words quoting the numbers.
    details
        The numbers behind it (budgets, CTR levels, assumptions).
    """

    type: str
    campaign_ids: tuple[str, ...]
    action: str
    expected_impact: dict[str, dict[str, float]]
    confidence: float
    downside: float
    score: float
    rationale: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "campaign_ids": list(self.campaign_ids),
            "action": self.action,
            "expected_impact": self.expected_impact,
            "confidence": float(self.confidence),
            "downside": float(self.downside),
            "score": float(self.score),
            "rationale": self.rationale,
            "details": _jsonable(self.details),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def score(delta_objective: np.ndarray) -> float:
    """The ranking score: mean of the median and the p10 of the objective's change."""
    p10, p50 = np.quantile(np.asarray(delta_objective, dtype=float), [0.1, 0.5])
    return float(0.5 * (p10 + p50))


def _recommend(
    ctx: PivotContext,
    type_: str,
    keys: tuple[str, ...],
    alt: Scenario,
    *,
    campaign_ids: tuple[str, ...] | None = None,
    action: str,
    rationale: Callable[[dict[str, dict[str, float]], float], str],
    details: dict[str, Any],
    portfolio: Any = None,
    base: Scenario | None = None,
    draws: Any = None,
    sims: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
) -> Recommendation:
    if sims is not None:
        base_sim, alt_sim = sims
    else:
        pf = portfolio or ctx.portfolio
        base_sim = (
            ctx.baseline_sim if base is None else simulate_scenario(pf, base, draws or ctx.draws)
        )
        alt_sim = simulate_scenario(pf, alt, draws or ctx.draws)
    delta = impact(base_sim, alt_sim, keys)
    summary = summarise({m: delta[m] for m in IMPACT_METRICS})
    obj = delta[ctx.objective]
    confidence = float(np.mean(obj > 0))
    downside = float(np.quantile(obj, 0.1))
    return Recommendation(
        type=type_,
        campaign_ids=campaign_ids or keys,
        action=action,
        expected_impact=summary,
        confidence=confidence,
        downside=downside,
        score=score(obj),
        rationale=rationale(summary, confidence),
        details=details,
    )


def _signed(value: float, spec: str) -> str:
    """``value`` formatted with ``spec`` (which shows a sign), with no "-0.00": a change
    that rounds to zero is written ``+0.00``."""
    text = format(value, spec)
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return format(0.0, spec)
    return text


def _fmt_q(q: Mapping[str, float], money: bool = False) -> str:
    unit = "" if not money else " (money)"
    p10, p50, p90 = (_signed(q[k], "+,.1f") for k in ("p10", "p50", "p90"))
    return f"{p50} (80% interval {p10} to {p90}){unit}"


def budget_reallocation(ctx: PivotContext) -> list[Recommendation]:
    """Move daily budget between campaigns as the optimiser allocates it."""
    alloc = ctx.allocation
    moved = {
        k: alloc.allocation[k] - alloc.status_quo[k]
        for k in ctx.portfolio.keys
        if abs(alloc.allocation[k] - alloc.status_quo[k]) > 1e-6 * max(alloc.status_quo[k], 1)
    }
    total_move = sum(v for v in moved.values() if v > 0)
    if alloc.fell_back or total_move < MIN_MOVE_SHARE * alloc.total_budget:
        return []
    keys = tuple(sorted(moved, key=lambda k: -abs(moved[k])))
    ups = [k for k in keys if moved[k] > 0]
    downs = [k for k in keys if moved[k] < 0]
    m = alloc.marginal

    pf = ctx.portfolio

    def mcpa_now(k: str) -> float:
        m_now = float(pf.curves[k].marginal(pf.delivery[k] * alloc.status_quo[k])) * pf.level(k)
        return 1.0 / m_now if m_now > 0 else float("inf")

    def describe(ks: list[str]) -> str:
        return ", ".join(
            f"{k} {alloc.status_quo[k]:,.0f} -> {alloc.allocation[k]:,.0f}/day "
            f"(marginal CPA {mcpa_now(k):,.2f} -> {m[k]['marginal_cpa']:,.2f})"
            for k in ks[:4]
        ) + (f" and {len(ks) - 4} more" if len(ks) > 4 else "")

    action = f"Reallocate {total_move:,.0f}/day: raise {describe(ups)}; lower {describe(downs)}."

    def rationale(s: dict[str, dict[str, float]], conf: float) -> str:
        g = alloc.gain
        targets = [n for n in alloc.notes if "target CPA/ROAS" in n]
        reason = (
            f"CPA/ROAS targets cap {len(targets)} budget(s) (see notes), and the rest is "
            f"spent where the marginal {ctx.objective} per unit of spend is highest"
            if targets
            else (
                "At today's budgets the marginal cost of a conversion differs across "
                f"campaigns; the optimiser equalises marginal {ctx.objective} per unit of "
                f"spend at {alloc.multiplier:.4g}"
            )
        )
        return (
            f"{reason}. Expected gain {_signed(g['conversions']['p50'], '+,.2f')} "
            f"conversions/day (80% interval {g['conversions']['p10']:+,.2f} to "
            f"{g['conversions']['p90']:+,.2f}; P(gain > 0) = {g['p_gain_positive']:.0%} "
            f"over the curves' uncertainty). Over {ctx.horizon_days} days simulated: "
            f"conversions {_fmt_q(s['conversions'])}, revenue {_fmt_q(s['revenue'])}, "
            f"CPA {_signed(s['cpa']['p50'], '+,.2f')}, ROAS {_signed(s['roas']['p50'], '+.3f')}; "
            f"P({ctx.objective} up) = {conf:.0%}."
        )

    alt = Scenario(budgets=alloc.allocation, multipliers=ctx.baseline_multipliers)
    details: dict[str, Any] = {"moves": moved, "marginal": {k: m[k] for k in keys}}
    sims = _engine_budget_sims(ctx, {k: alloc.allocation[k] / alloc.status_quo[k] for k in keys})
    if sims is not None:
        base_sim, alt_sim = sims
        details["model"] = "simulate engine"
        details["impact_by_campaign"] = {
            k: summarise(impact(base_sim, alt_sim, (k,))) for k in keys
        }
        details["simulation_seed"] = ctx.engine.seed if ctx.engine else None
    else:
        details["model"] = "response curves"
    return [
        _recommend(
            ctx,
            "budget_reallocation",
            keys,
            alt,
            action=action,
            rationale=rationale,
            details=details,
            sims=sims,
        )
    ]


def _engine_budget_sims(
    ctx: PivotContext, factors: Mapping[str, float], what: str = "budget reallocation"
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Budget changes simulated by the simulate engine (``None``: not available; the curves'
    own simulation is used and a note says why)."""
    return _engine_sims(ctx, lambda engine: engine.budget_sims(factors), what)


def _engine_sims(
    ctx: PivotContext, run: Callable[[Any], Any], what: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``run(ctx.engine)``, or ``None`` (with a note) when the engine cannot simulate it."""
    if ctx.engine is None:
        return None

    try:
        return run(ctx.engine)
    except SimkitError as exc:
        ctx.notes.append(
            f"{what} simulated on the response curves alone: the simulate engine could "
            f"not prepare a campaign ({exc})"
        )
        return None


def creative_refresh(ctx: PivotContext) -> list[Recommendation]:
    """Refresh the creative of campaigns whose CTR has worn out (fatigue detected)."""
    out = []
    n, h = ctx.draws.n_paths, ctx.horizon_days
    for key in ctx.portfolio.keys:
        state = ctx.creative_states.get(key)
        if state is None:
            continue
        p_own = state.p_deficit_above(FATIGUE_MIN_DEFICIT)
        alert = ctx.fatigue_alerts.get(key)
        own = p_own >= FATIGUE_MIN_PROBABILITY
        if not state.has_creative_ids:
            # without creative ids the first days of data stand in for a fresh creative, so
            # a lower CTR now is only wear-out if it is still falling
            own = own and state.p_declining() >= FATIGUE_MIN_DECLINE_PROBABILITY
        if not own and alert is None:
            continue
        refresh = state.refresh_paths(h, n, ctx.stream(f"refresh:{key}"))
        mult = dict(ctx.baseline_multipliers)
        mult[key] = refresh
        alt = Scenario(budgets=ctx.allocation.status_quo, multipliers=mult)
        fresh_ctr, cur_ctr = np.exp(state.fresh), np.exp(state.current)
        evidence = (
            f"the risk detector flags audience fatigue (P = {alert:.0%})"
            if alert is not None
            else f"P(CTR more than {FATIGUE_MIN_DEFICIT:.0%} below fresh) = {p_own:.0%}"
        )

        def rationale(
            s: dict[str, dict[str, float]],
            conf: float,
            key: str = key,
            fresh_ctr: float = fresh_ctr,
            cur_ctr: float = cur_ctr,
            evidence: str = evidence,
            state: Any = state,
        ) -> str:
            basis = (
                f"in the first {FRESH_DAYS} days of its creatives"
                if state.has_creative_ids
                else f"in its first {FRESH_DAYS} days of data (no creative_id: taken as fresh)"
            )
            return (
                f"{key}'s CTR is {cur_ctr:.3%} (day-of-week adjusted) against {fresh_ctr:.3%} "
                f"{basis} ({state.deficit:.0%} below; "
                f"{evidence}); the current creative is {state.current_age_days} days old and "
                f"its CTR moves {np.expm1(state.recent_slope):+.2%}/day. A new creative at "
                f"the fresh level, wearing at {np.expm1(state.natural_slope):+.2%}/day, gives "
                f"over {h} days: conversions {_fmt_q(s['conversions'])}, revenue "
                f"{_fmt_q(s['revenue'])}, CPA {_signed(s['cpa']['p50'], '+,.2f')}, ROAS "
                f"{_signed(s['roas']['p50'], '+.3f')}; P({ctx.objective} up) = {conf:.0%}. "
                f"Production cost of the creative is not included."
            )

        # the creative state's refresh effect, per day, as the engine's CTR shift
        shift = None
        if ctx.engine is not None:
            shift = refresh_shift(state, h, n, seed=campaign_seed(ctx.engine.seed, key))
        sims = _engine_sims(
            ctx,
            lambda engine, key=key, shift=shift: engine.shift_sims(key, (shift,)),
            "creative refresh",
        )
        out.append(
            _recommend(
                ctx,
                "creative_refresh",
                (key,),
                alt,
                action=f"Launch a new creative on {key} now (CTR back to about {fresh_ctr:.3%}).",
                rationale=rationale,
                sims=sims,
                details={
                    "model": "simulate engine" if sims is not None else "response curves",
                    "ctr_fresh": fresh_ctr,
                    "ctr_current": cur_ctr,
                    "ctr_deficit": state.deficit,
                    "p_deficit_above_10pct": p_own,
                    "risk_alert_probability": alert,
                    "creative_age_days": state.current_age_days,
                    "state": state.to_dict(),
                },
            )
        )
    return out


def audience_expansion(ctx: PivotContext) -> list[Recommendation]:
    """Widen the audience where frequency has risen and CTR falls with frequency."""
    out = []
    n, h = ctx.draws.n_paths, ctx.horizon_days
    cvr_med, cvr_sd = AUDIENCE_ASSUMPTIONS["cvr_multiplier"]
    cpm_med, cpm_sd = AUDIENCE_ASSUMPTIONS["cpm_multiplier"]
    for key in ctx.portfolio.keys:
        st = ctx.creative_states.get(key)
        if (
            st is None
            or st.freq_elasticity is None
            or st.freq_fresh is None
            or st.freq_now is None
            or st.freq_now < 1.15 * st.freq_fresh
            or st.freq_elasticity + 1.28 * (st.freq_elasticity_se or 0.0) >= 0
        ):
            continue
        rng = ctx.stream(f"audience:{key}")
        eta = np.minimum(rng.normal(st.freq_elasticity, st.freq_elasticity_se or 0.0, n), 0.0)
        ctr_mult = np.power(st.freq_fresh / st.freq_now, eta)
        cvr_mult = cvr_med * np.exp(rng.normal(0.0, cvr_sd, n))
        cpm_mult = cpm_med * np.exp(rng.normal(0.0, cpm_sd, n))
        factor = ctr_mult * cvr_mult / cpm_mult
        base_mult = ctx.baseline_multipliers.get(key, np.ones((n, h)))
        mult = dict(ctx.baseline_multipliers)
        mult[key] = base_mult * factor[:, None]
        alt = Scenario(budgets=ctx.allocation.status_quo, multipliers=mult)
        shifts = None
        if ctx.engine is not None:
            shifts = audience_shifts(
                st, h, seed=campaign_seed(ctx.engine.seed, key), assumptions=AUDIENCE_ASSUMPTIONS
            )
        sims = (
            _engine_sims(
                ctx,
                lambda engine, key=key, shifts=shifts: engine.shift_sims(key, shifts),
                "audience expansion",
            )
            if shifts is not None
            else None
        )

        def rationale(
            s: dict[str, dict[str, float]],
            conf: float,
            key: str = key,
            st: Any = st,
            ctr_mult: np.ndarray = ctr_mult,
        ) -> str:
            return (
                f"{key}'s frequency rose from {st.freq_fresh:.2f} (fresh creative) to "
                f"{st.freq_now:.2f}, and its CTR changes by {st.freq_elasticity:+.2f}% per 1% more "
                f"frequency. Widening the audience back to a frequency of "
                f"{st.freq_fresh:.2f} lifts CTR by {np.median(ctr_mult) - 1:+.1%} (median); "
                f"assumed: new reach converts {cvr_med - 1:+.0%} worse (log-sd {cvr_sd}), "
                f"CPM unchanged (log-sd {cpm_sd}). Over {h} days: conversions "
                f"{_fmt_q(s['conversions'])}, revenue {_fmt_q(s['revenue'])}, CPA "
                f"{_signed(s['cpa']['p50'], '+,.2f')}, ROAS {_signed(s['roas']['p50'], '+.3f')}; "
                f"P({ctx.objective} up) = {conf:.0%}."
            )

        out.append(
            _recommend(
                ctx,
                "audience_expansion",
                (key,),
                alt,
                action=(
                    f"Broaden {key}'s targeting so frequency falls from {st.freq_now:.2f} to "
                    f"about {st.freq_fresh:.2f} at the same budget."
                ),
                rationale=rationale,
                sims=sims,
                details={
                    "model": "simulate engine" if sims is not None else "response curves",
                    "frequency_now": st.freq_now,
                    "frequency_target": st.freq_fresh,
                    "ctr_frequency_elasticity": st.freq_elasticity,
                    "ctr_frequency_elasticity_se": st.freq_elasticity_se,
                    "assumptions": {
                        k: {"median": v[0], "log_sd": v[1]} for k, v in AUDIENCE_ASSUMPTIONS.items()
                    },
                },
            )
        )
    return out


def channel_shift(ctx: PivotContext) -> list[Recommendation]:
    """Move budget between channels towards the better marginal return (channel curves)."""
    chan = ctx.channel_allocation
    if chan is None:
        return []
    pf, alloc = chan
    moved = {k: alloc.allocation[k] - alloc.status_quo[k] for k in pf.keys}
    total_move = sum(v for v in moved.values() if v > 0)
    if alloc.fell_back or total_move < MIN_MOVE_SHARE * alloc.total_budget:
        return []
    ups = sorted((k for k in moved if moved[k] > 0), key=lambda k: -moved[k])
    downs = sorted((k for k in moved if moved[k] < 0), key=lambda k: moved[k])
    m = alloc.marginal
    action = (
        f"Shift {total_move:,.0f}/day from "
        + ", ".join(f"{k} ({-moved[k]:,.0f}/day)" for k in downs)
        + " to "
        + ", ".join(f"{k} (+{moved[k]:,.0f}/day)" for k in ups)
        + "; within each channel, scale its campaigns' budgets in proportion."
    )
    campaigns = tuple(
        sorted(c for c, ch in ctx.portfolio.channel_of.items() if ch in set(ups) | set(downs))
    )
    draws = ctx.channel_draws
    base = Scenario(budgets=alloc.status_quo)
    alt = Scenario(budgets=alloc.allocation)

    def rationale(s: dict[str, dict[str, float]], conf: float) -> str:
        before = ", ".join(
            f"{k} {1 / max(float(pf.curves[k].marginal(pf.delivery[k] * alloc.status_quo[k])), 1e-12):,.2f}"
            for k in pf.keys
        )
        return (
            f"Marginal CPA by channel at today's budgets: {before}; after the shift "
            + ", ".join(f"{k} {m[k]['marginal_cpa']:,.2f}" for k in pf.keys)
            + f". Over {ctx.horizon_days} days (channel-level curves): conversions "
            f"{_fmt_q(s['conversions'])}, revenue {_fmt_q(s['revenue'])}, CPA "
            f"{_signed(s['cpa']['p50'], '+,.2f')}, ROAS {_signed(s['roas']['p50'], '+.3f')}; "
            f"P({ctx.objective} up) = {conf:.0%}."
        )

    details: dict[str, Any] = {
        "channel_budgets_now": alloc.status_quo,
        "channel_budgets_after": alloc.allocation,
        "marginal": m,
    }
    # the engine: every campaign of a moved channel scaled by its channel's change
    factors = {
        c: alloc.allocation[ctx.portfolio.channel_of[c]]
        / alloc.status_quo[ctx.portfolio.channel_of[c]]
        for c in campaigns
        if alloc.status_quo.get(ctx.portfolio.channel_of[c], 0) > 0
    }
    sims = (
        _engine_budget_sims(ctx, factors, "channel shift")
        if factors and len(factors) == len(campaigns)
        else None
    )
    if sims is not None:
        details["model"] = "simulate engine"
        details["impact_by_campaign"] = {
            c: summarise(impact(sims[0], sims[1], (c,))) for c in campaigns
        }
        return [
            _recommend(
                ctx,
                "channel_shift",
                campaigns,
                alt,
                campaign_ids=campaigns,
                action=action,
                rationale=rationale,
                details=details,
                sims=sims,
            )
        ]
    details["model"] = "response curves"
    return [
        _recommend(
            ctx,
            "channel_shift",
            tuple(pf.keys),
            alt,
            campaign_ids=campaigns,
            action=action,
            rationale=rationale,
            details=details,
            portfolio=pf,
            base=base,
            draws=draws,
        )
    ]


#: Pivot types by name; each returns zero or more recommendations.
PIVOT_TYPES: dict[str, Callable[[PivotContext], list[Recommendation]]] = {
    "budget_reallocation": budget_reallocation,
    "creative_refresh": creative_refresh,
    "audience_expansion": audience_expansion,
    "channel_shift": channel_shift,
}
