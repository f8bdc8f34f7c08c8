"""Scenario assumptions proposed by a model, quantified by simkit (issue 18).

A model names what could happen (:mod:`simkit.llm`); this module turns each checked
assumption into a what-if pivot in the engine's own terms and simulates it with common
random numbers against the baseline of a :class:`~simkit.simulate.session.WhatIfSession`
(path ``i`` of the assumption is path ``i`` of the baseline with only the assumption
applied).  Every figure shown with an assumption (its delta interval, its probability) is
simkit's.

How a shift reaches the engine, on the days ``start`` to ``end``:

========  ==============================================================================
shift     effect
========  ==============================================================================
cpm       ``log_cpm`` moves by ``log(1 + s)``
ctr       ``logit_ctr`` moves by ``log(1 + s)`` (for small rates, the log of the rate)
cvr       ``logit_cvr`` moves by ``log(1 + s)``
demand    purchase intent at the same spend: half of ``log(1 + s)`` on ``logit_ctr`` and
          half on ``logit_cvr``, one draw for both (conversions per impression move by
          about ``s``)
spend     the plan's daily budget times ``1 + s`` (the midpoint of the range: a budget is
          a decision, not an uncertainty)
========  ==============================================================================

A range ``{low, high}`` is an 80% range: the shift is normal on the log scale with mean
``(log(1+low) + log(1+high)) / 2`` and sd ``(log(1+high) - log(1+low)) / 2.563``, drawn
once per path (an assumption that holds, holds for its whole period).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from simkit.data.panel import CampaignPanel
from simkit.forecast.base import DRIVERS
from simkit.llm import (
    CheckedAssumption,
    LLMClient,
    LLMError,
    ScenarioAssumption,
    ScenarioReply,
    Shift,
    check_assumptions,
    has_api_key,
    scenario_messages,
)
from simkit.llm.facts import recent_facts, weekly_facts
from simkit.params import LLMOptions
from simkit.simulate._random import fast_normals
from simkit.simulate.budget import BudgetPlan
from simkit.simulate.campaign import _default_forecaster
from simkit.simulate.factors import MarketFactor
from simkit.simulate.session import DriverShiftFactor, WhatIfPivot, WhatIfSession

__all__ = [
    "DemandShiftFactor",
    "LLMScenarios",
    "QuantifiedAssumption",
    "assumption_pivot",
    "campaign_llm_scenarios",
    "llm_scenarios",
    "quantify_assumptions",
    "scenario_facts",
]

log = logging.getLogger(__name__)
_Z80 = 2 * 1.2815515655446004  # width of an 80% normal range in sds
_DRIVER_OF = {"cpm": "log_cpm", "ctr": "logit_ctr", "cvr": "logit_cvr"}
_SHOWN = ("conversions", "spend", "revenue", "cpa", "roas")


def _log_normal(shift: Shift) -> tuple[float, float]:
    lo, hi = math.log1p(shift.low), math.log1p(shift.high)
    return (lo + hi) / 2, (hi - lo) / _Z80


class DemandShiftFactor(MarketFactor):
    """Purchase intent at the same spend: half of the log shift on CTR and half on CVR,
    one standard normal per path for both, on the days where ``mean`` says."""

    kind: ClassVar[str] = "demand_shift"
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    label: str = ""

    @property
    def key(self) -> str:
        return f"demand_shift:{self.label}"

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        h = min(len(dates), len(self.mean))
        mean = np.asarray(self.mean[:h], dtype=np.float32)
        sd = np.asarray(self.sd[:h], dtype=np.float32)
        z = fast_normals(rng, (n_paths,))
        half = 0.5 * (mean[:, None] + sd[:, None] * z[None, :])
        out = np.zeros((len(dates), len(DRIVERS), n_paths), dtype=np.float32)
        out[:h, DRIVERS.index("logit_ctr"), :] = half
        out[:h, DRIVERS.index("logit_cvr"), :] = half
        return out


def assumption_pivot(
    a: ScenarioAssumption, dates: pd.DatetimeIndex, plan: BudgetPlan
) -> WhatIfPivot:
    """The what-if pivot of one (checked) assumption over the horizon ``dates``."""
    days = dates.date
    mask = np.array([a.start <= d <= a.end for d in days], dtype=float)
    factors: list[MarketFactor] = []
    for name, driver in _DRIVER_OF.items():
        shift = getattr(a, name)
        if shift is None:
            continue
        mu, sd = _log_normal(shift)
        factors.append(
            DriverShiftFactor(
                driver=driver,  # type: ignore[arg-type]
                mean=tuple(mask * mu),
                sd=tuple(mask * sd),
                label=f"llm:{a.name}:{name}",
            )
        )
    if a.demand is not None:
        mu, sd = _log_normal(a.demand)
        factors.append(
            DemandShiftFactor(mean=tuple(mask * mu), sd=tuple(mask * sd), label=f"llm:{a.name}")
        )
    budget = None
    if a.spend is not None:
        mid = (a.spend.low + a.spend.high) / 2
        daily = plan.daily * (1 + mask[: plan.daily.size] * mid)
        total = None
        if plan.total is not None:
            base = float(plan.daily.sum())
            total = plan.total * (float(daily.sum()) / base if base > 0 else 1.0)
        budget = BudgetPlan(daily, total, plan.kind)
    return WhatIfPivot(budget=budget, add=tuple(factors), label=a.name)


@dataclass(frozen=True)
class QuantifiedAssumption:
    """One assumption, proposed by ``model`` and quantified by simkit.

    ``delta``: ``{metric: {mean, p10, p50, p90}}`` of the assumption minus the baseline,
    per path; ``probability_better`` / ``probability_worse``: the share of paths where the
    outcome is better / worse under the assumption.
    """

    assumption: ScenarioAssumption
    model: str
    outcome: str
    delta: dict[str, dict[str, float]]
    probability_better: float
    probability_worse: float
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"proposed by {self.model}, quantified by simkit"

    def to_dict(self) -> dict[str, Any]:
        a = self.assumption
        return {
            "name": a.name,
            "rationale": a.rationale,
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "shifts": {
                k: (None if (s := getattr(a, k)) is None else {"low": s.low, "high": s.high})
                for k in ("cpm", "ctr", "cvr", "demand", "spend")
            },
            "proposed_by": self.model,
            "quantified_by": "simkit",
            "label": self.label,
            "outcome": self.outcome,
            "delta": {m: dict(v) for m, v in self.delta.items()},
            "probability_better": self.probability_better,
            "probability_worse": self.probability_worse,
            "notes": list(self.notes),
        }


def quantify_assumptions(
    session: WhatIfSession, checked: Sequence[CheckedAssumption], *, model: str
) -> list[QuantifiedAssumption]:
    """Simulate each assumption against the session's baseline (common random numbers)."""
    out = []
    for c in checked:
        pivot = assumption_pivot(c.assumption, session.dates, session.plan)
        deltas, _ = session.compare(pivot)
        delta = {
            m: {
                k: float(v)
                for k, v in deltas.delta[m].items()
                if k in ("mean", "p10", "p50", "p90") and np.isfinite(v)
            }
            for m in _SHOWN
            if m in deltas.delta
        }
        out.append(
            QuantifiedAssumption(
                c.assumption,
                model,
                deltas.outcome,
                delta,
                deltas.probabilities["p_outcome_improves"],
                deltas.probabilities["p_outcome_worse"],
                c.notes,
            )
        )
    return out


@dataclass(frozen=True)
class LLMScenarios:
    """What came of asking a model for assumptions: ``status`` ``ok`` (``items`` holds
    the quantified ones), ``failed`` (``reason`` says why; the run goes on) or ``off``."""

    status: str
    model: str
    items: tuple[QuantifiedAssumption, ...] = ()
    reason: str | None = None
    messages: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "model": self.model,
            "reason": self.reason,
            "checks": list(self.messages),
            "assumptions": [q.to_dict() for q in self.items],
        }


def scenario_facts(
    session: WhatIfSession, *, meta: Mapping[str, Any] | None = None, forecast: Any = None
) -> dict[str, Any]:
    """The facts a scenario prompt holds (:data:`simkit.llm.prompts.SCENARIO_FIELDS`)."""
    panel = CampaignPanel.from_data(session.history)
    daily = panel.campaign(session.campaign_id)
    meta = meta or {}
    facts: dict[str, Any] = {
        "campaign_id": session.campaign_id,
        **{k: meta.get(k) for k in ("channel", "industry", "objective", "currency")},
        "as_of": session.as_of.isoformat(),
        "horizon_start": session.dates[0].date().isoformat(),
        "horizon_end": session.dates[-1].date().isoformat(),
        "horizon_days": session.horizon_days,
        **recent_facts(daily),
        "weekly": weekly_facts(daily),
    }
    totals = getattr(session.baseline(), "totals", None) or {}
    for m in ("conversions", "spend", "revenue", "cpa", "roas"):
        for q in ("p10", "p50", "p90"):
            v = totals.get(m, {}).get(q)
            if v is not None and np.isfinite(v):
                facts[f"forecast.{m}.{q}"] = float(v)
    return facts


def llm_scenarios(
    session: WhatIfSession,
    client: LLMClient,
    *,
    facts: Mapping[str, Any] | None = None,
) -> LLMScenarios:
    """Ask ``client`` for assumptions about ``session``'s horizon, check and quantify them.

    Never raises for the model's sake: a failed call or a reply that breaks the schema
    gives ``status="failed"`` with the reason.
    """
    facts = dict(facts) if facts is not None else scenario_facts(session)
    try:
        reply = client.parse(scenario_messages(facts), ScenarioReply)
    except LLMError as exc:
        return LLMScenarios("failed", client.model, reason=f"{exc.kind}: {exc}")
    parsed = reply.parsed
    assert isinstance(parsed, ScenarioReply)
    start: date = session.dates[0].date()
    end: date = session.dates[-1].date()
    check = check_assumptions(parsed, start=start, end=end)
    if not check.kept:
        return LLMScenarios(
            "failed",
            reply.model,
            reason="no assumption could be simulated",
            messages=tuple(check.messages()),
        )
    items = quantify_assumptions(session, check.kept, model=reply.model)
    return LLMScenarios("ok", reply.model, tuple(items), None, tuple(check.messages()))


def campaign_llm_scenarios(
    data: pd.DataFrame,
    campaign_id: str,
    horizon_days: int,
    *,
    seed: int = 0,
    n_paths: int = 10_000,
    model: str = "gpt-4o",
    options: LLMOptions | None = None,
    **baseline: Any,
) -> LLMScenarios:
    """Model assumptions about one campaign, quantified against the baseline of
    :func:`~simkit.simulate.simulate_campaign` with the same inputs (its forecaster, seed
    and paths); ``baseline``: that function's plan, as-of, outcome, target and fatigue
    options.  Without ``OPENAI_API_KEY`` no model is asked: ``status="failed"``.
    """
    if not has_api_key():
        return LLMScenarios(
            "failed", model, reason="no OPENAI_API_KEY is set, so no model was asked"
        )
    session = WhatIfSession(
        data,
        campaign_id,
        horizon_days,
        seed=seed,
        n_paths=n_paths,
        forecast_fn=_default_forecaster,
        **baseline,
    )
    return llm_scenarios(session, LLMClient(model, options))
