"""The report's side of issue 18: model scenarios and a grounded summary paragraph.

Off unless params say ``llm: true`` (scenarios and narrative) or ``llm_member: true`` (the
``llm`` forecast member).  Then, for each campaign report:

* :func:`start` makes the run's client (:class:`simkit.llm.LLMClient`, with the run's
  deadline and the shared reply cache), used by the member inside :func:`member_session`;
* :func:`propose` asks for scenario assumptions, which simkit checks and simulates against
  the baseline (:mod:`simkit.simulate.llm_scenarios`); the scenarios section shows them as
  "proposed by <model>, quantified by simkit" (:func:`with_model_scenarios`);
* :func:`narrate` asks for the summary paragraph from the computed facts and publishes it
  only when every number in it is one of those facts or derived from two of them
  (:func:`simkit.llm.check_grounded`); otherwise the template card stays, and the report
  says why.  ``summary.json`` records ``narrative: {source, model, reason}``.

A model that is not configured, unreachable or wrong never fails a report: every failure
becomes a note.  Usage (tokens, cost, cache hits) is one :class:`simkit.llm.Usage` per
report, in ``summary.json``'s ``llm.usage``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from simkit.llm import (
    LLMClient,
    LLMError,
    NarrativeReply,
    Usage,
    check_grounded,
    has_api_key,
    llm_session,
    narrative_messages,
)
from simkit.llm.facts import recent_facts
from simkit.params import LLMOptions
from simkit.report.context import CampaignContext
from simkit.report.section import Section
from simkit.report.sections import display_of
from simkit.simulate.llm_scenarios import LLMScenarios, llm_scenarios, scenario_facts
from simkit.simulate.session import WhatIfSession

__all__ = [
    "LLMResults",
    "Narrative",
    "member_session",
    "narrate",
    "narrative_facts",
    "propose",
    "start",
    "with_model_scenarios",
    "with_narrative",
]

log = logging.getLogger(__name__)


@dataclass
class LLMResults:
    """What the model calls of one report gave (picklable: no client, no key)."""

    model: str
    options: LLMOptions
    usage: Usage = field(default_factory=Usage)
    scenarios: LLMScenarios | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "usage": self.usage.to_dict(),
            "scenarios": None if self.scenarios is None else self.scenarios.to_dict(),
            "notes": list(self.notes),
        }


def _client(results: LLMResults) -> LLMClient:
    return LLMClient(results.model, results.options, usage=results.usage)


def start(ctx: CampaignContext) -> LLMResults | None:
    """The report's model state, or ``None`` when params switch nothing on."""
    p = ctx.params
    if not (p.llm or p.llm_member or "llm" in p.members):
        return None
    return LLMResults(p.llm_model, p.llm_options or LLMOptions())


@contextlib.contextmanager
def member_session(results: LLMResults | None) -> Iterator[None]:
    """The block in which the ``llm`` forecast member may call the model."""
    if results is None:
        yield
        return
    with llm_session(_client(results)):
        yield


def propose(
    ctx: CampaignContext, results: LLMResults, *, seed: int, drivers: Any, meta: Mapping[str, Any]
) -> None:
    """Ask for assumptions and quantify them on a what-if session of the report's
    forecast (same drivers, seed and paths as the report's simulation)."""
    p = ctx.params
    if not p.llm:
        return
    if not has_api_key():
        results.scenarios = LLMScenarios(
            "failed", results.model, reason="no OPENAI_API_KEY is set, so no model was asked"
        )
        return
    session = WhatIfSession(
        ctx.rows,
        ctx.campaign_id,
        p.horizon_days,
        seed=seed,
        n_paths=p.n_paths,
        plan_file=p.plan,
        drivers=drivers,
        target_cpa=ctx.target_cpa,
        target_roas=ctx.target_roas,
    )
    facts = scenario_facts(session, meta=meta)
    results.scenarios = llm_scenarios(session, _client(results), facts=facts)
    if results.scenarios.status != "ok":
        results.notes.append(
            f"no model scenarios: {results.scenarios.reason}; the report goes on without them"
        )


# -- the scenarios section ------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.0%}"


def with_model_scenarios(
    build: Callable[[CampaignContext, Any], Section],
) -> Callable[[CampaignContext, Any], Section]:
    """The scenarios section builder, plus the model's assumptions when there are any."""

    def builder(ctx: CampaignContext, results: Any) -> Section:
        section = build(ctx, results)
        llm = getattr(results, "llm", None)
        scen = llm.scenarios if llm is not None else None
        if scen is None or section.status != "ok":
            return section
        if scen.status != "ok":
            words = (f"Model scenarios: none ({scen.reason}).",)
            return replace(
                section,
                text=(*section.text, *words),
                numbers={**section.numbers, "model_scenarios": scen.to_dict()},
            )
        rows = []
        for q in scen.items:
            a, conv = q.assumption, q.delta.get("conversions", {})
            rows.append(
                {
                    "assumption": a.name,
                    "days": f"{a.start} to {a.end}",
                    "shifts (80% range)": ", ".join(
                        f"{k.upper()} {_pct(s.low)} to {_pct(s.high)}"
                        for k in ("cpm", "ctr", "cvr", "demand", "spend")
                        if (s := getattr(a, k)) is not None
                    ),
                    "why": a.rationale,
                    "Δ conversions p10": conv.get("p10"),
                    "Δ conversions p50": conv.get("p50"),
                    "Δ conversions p90": conv.get("p90"),
                    f"P({q.outcome} better)": round(q.probability_better, 3),
                }
            )
        words = (
            f"Scenarios proposed by {scen.model}, quantified by simkit: each assumption is "
            "simulated against the baseline on the same random paths; the Δ columns are "
            "simkit's (assumption minus baseline, per path).",
            *(f"Check: {m}." for m in scen.messages),
        )
        title = f"Scenarios proposed by {scen.model}, quantified by simkit"
        return replace(
            section,
            text=(*section.text, *words),
            tables=(*section.tables, (title, pd.DataFrame(rows))),
            numbers={**section.numbers, "model_scenarios": scen.to_dict()},
        )

    return builder


# -- the narrative --------------------------------------------------------------------------


@dataclass(frozen=True)
class Narrative:
    """Where the summary paragraph came from; ``text`` only when the model's is used."""

    source: str
    model: str | None
    reason: str | None
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "model": self.model, "reason": self.reason}


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def narrative_facts(
    ctx: CampaignContext, sections: Mapping[str, Section], results: Any
) -> dict[str, Any]:
    """The facts the narrative prompt holds (:data:`simkit.llm.prompts.NARRATIVE_FIELDS`)."""
    meta = ctx.meta or {}
    facts: dict[str, Any] = {
        "campaign_id": ctx.campaign_id,
        "campaign_name": ctx.name,
        **{k: meta.get(k) for k in ("channel", "industry", "objective")},
        "currency": display_of(ctx).currency,
        "horizon_days": ctx.params.horizon_days,
        "interval_level": 80,
        "quality_score": _finite(sections["data_quality"].numbers.get("quality_score")),
        **recent_facts(ctx.daily),
    }
    fc = sections.get("forecast")
    for m, t in ((fc.numbers.get("totals") if fc is not None else None) or {}).items():
        if m in ("conversions", "spend", "revenue", "cpa", "roas"):
            for q in ("p10", "p50", "p90"):
                facts[f"forecast.{m}.{q}"] = _finite(t.get(q))
    sc = sections.get("scenarios")
    if sc is not None and sc.status == "ok":
        probs = {k: _finite(v) for k, v in (sc.numbers.get("probabilities") or {}).items()}
        facts["probabilities"] = {k: v for k, v in probs.items() if v is not None} or None
    risks = sections.get("risks")
    if risks is not None and risks.status == "ok" and risks.numbers.get("top_risk"):
        facts["top_risk"] = risks.numbers["top_risk"]
        facts["top_risk.probability"] = _finite(risks.numbers.get("max_probability"))
    pivots = sections.get("pivots")
    recs = (pivots.numbers.get("recommendations") if pivots is not None else None) or []
    if pivots is not None and pivots.status == "ok" and recs:
        best = recs[0]
        conv = (best.get("impact") or {}).get("conversions") or {}
        facts["best_pivot"] = best.get("type")
        for q in ("p10", "p50", "p90"):
            facts[f"best_pivot.conversions.{q}"] = _finite(conv.get(q))
        facts["best_pivot.confidence"] = _finite(best.get("confidence"))
    llm = getattr(results, "llm", None)
    if llm is not None and llm.scenarios is not None and llm.scenarios.status == "ok":
        facts["model_scenarios"] = [
            {
                "name": q.assumption.name,
                "delta_conversions": {
                    k: v for k, v in q.delta.get("conversions", {}).items() if k != "mean"
                },
                "probability_better": q.probability_better,
            }
            for q in llm.scenarios.items
        ]
    return {k: v for k, v in facts.items() if v is not None}


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{prefix}.{i}")
    else:
        yield prefix, value


def _grounding_inputs(facts: Mapping[str, Any]) -> tuple[dict[str, float], list[str], list[str]]:
    values: dict[str, float] = {}
    strings: list[str] = []
    for name, v in _flatten(facts):
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float) and np.isfinite(v):
            # a name such as model_scenarios.0.delta_conversions.p50 pairs with conversions
            values[name.replace("delta_", "")] = float(v)
        elif isinstance(v, str):
            strings.append(v)
    dates = [s for s in strings if len(s) == 10 and s[4] == "-" and s[7] == "-"]
    return values, dates, strings


def narrate(ctx: CampaignContext, sections: Mapping[str, Section], results: Any) -> Narrative:
    """The summary paragraph: the model's if every number in it is grounded, else the
    template's, with the reason."""
    llm = getattr(results, "llm", None)
    p = ctx.params
    if not p.llm or llm is None:
        return Narrative("template", None, "llm is off (params: llm: false)")
    if ctx.stopped:
        return Narrative("template", None, "the campaign has stopped: nothing to narrate ahead")
    if not has_api_key():
        return Narrative("template", None, "no OPENAI_API_KEY is set, so no model was asked")
    facts = narrative_facts(ctx, sections, results)
    try:
        reply = _client(llm).parse(narrative_messages(facts), NarrativeReply)
    except LLMError as exc:
        return Narrative("template", llm.model, f"the model call failed ({exc.kind}: {exc})")
    parsed = reply.parsed
    assert isinstance(parsed, NarrativeReply)
    text = " ".join(parsed.paragraph.split())
    if not text:
        return Narrative("template", reply.model, "the model's paragraph is empty")
    values, dates, names = _grounding_inputs(facts)
    verdict = check_grounded(text, values, dates=dates, names=names)
    if not verdict.ok:
        return Narrative("template", reply.model, verdict.reason)
    return Narrative("llm", reply.model, None, text)


def with_narrative(summary: Section, narrative: Narrative, results: Any) -> Section:
    """The summary card with the model's paragraph (and its attribution), or the template
    card with one line saying why (only when the params asked for a model)."""
    llm = getattr(results, "llm", None)
    if llm is None:
        return summary
    card = summary.numbers.get("headline") or {}
    warnings = tuple(card.get("warnings") or ())
    notes = tuple(f"Note: {n}." for n in llm.notes)
    if narrative.source == "llm" and narrative.text:
        text = (
            narrative.text,
            f"This paragraph was written by {narrative.model} from simkit's computed numbers; "
            "simkit checked every number in it against them.",
            *([card["recent"]] if card.get("recent") else []),
            *warnings,
            *notes,
        )
    elif narrative.reason and "llm is off" not in narrative.reason:
        text = (*summary.text, f"Summary: simkit's template ({narrative.reason}).", *notes)
    else:
        text = (*summary.text, *notes)
    return replace(summary, text=text)
