"""The campaign report: every section, in order, plus the summary the runner publishes.

Sections come from a registry (name -> builder).  The engine-backed ones live in
:mod:`simkit.report.engines`; each says plainly what is missing until its engine exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from simkit import __version__
from simkit.params import RunParams
from simkit.report import engines
from simkit.report import format as fmt
from simkit.report import llm as report_llm
from simkit.report.context import CampaignContext, load_campaign
from simkit.report.ledger import ledger_section
from simkit.report.section import Section
from simkit.report.sections import data_quality, display_of, history, provenance

__all__ = [
    "SECTIONS",
    "CampaignReport",
    "Headline",
    "assemble_campaign_report",
    "build_campaign_report",
    "headline",
    "summary_section",
]

Builder = Callable[[CampaignContext, "engines.EngineResults"], Section]

#: Report sections in display order after the summary; the footer (provenance) comes last.
SECTIONS: dict[str, Builder] = {
    "data_quality": lambda ctx, _: data_quality(ctx),
    "history": lambda ctx, _: history(ctx),
    "forecast": engines.forecast_section,
    "scenarios": report_llm.with_model_scenarios(engines.scenarios_section),
    "risks": engines.risks_section,
    "pivots": engines.pivots_section,
    "market": engines.market_section,
    "diagnostics": engines.diagnostics_section,
    "ledger": ledger_section,
}


@dataclass(frozen=True)
class CampaignReport:
    """Everything a campaign report shows; ``sections`` in display order."""

    context: CampaignContext
    sections: dict[str, Section]
    summary: dict[str, Any]

    def __getitem__(self, key: str) -> Section:
        return self.sections[key]


@dataclass(frozen=True)
class Headline:
    """The one-glance card at the top of a campaign report: one sentence each.

    Attributes
    ----------
    outlook
        Where the campaign is heading over the horizon, with its 80% interval.
    risk
        The most probable risk with its probability, or why there is none.
    pivot
        The best pivot with its expected gain and interval, or why there is none.
    recent
        The last 28 days as observed, and the data-quality score.
    warnings
        What the reader must know before trusting the numbers (fallbacks, gaps).
    """

    outlook: str
    risk: str
    pivot: str
    recent: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "outlook": self.outlook,
            "risk": self.risk,
            "pivot": self.pivot,
            "recent": self.recent,
            "warnings": list(self.warnings),
        }


def _why(section: Section | None, default: str) -> str:
    """A missing or failed section's own reason, as a clause."""
    if section is None or not section.text:
        return default
    first = section.text[0].rstrip(".")
    first = first.split(": ", 1)[1] if first.startswith("No ") and ": " in first else first
    return first[:1].lower() + first[1:] if first[1:2].islower() else first


def _outlook(ctx: CampaignContext, sections: dict[str, Section], d: fmt.Display) -> str:
    forecast = sections.get("forecast")
    totals = (forecast.numbers.get("totals") if forecast is not None else None) or {}
    conv = totals.get("conversions")
    if forecast is None or forecast.status != "ok" or not conv:
        return f"No forecast: {_why(forecast, 'the forecast section is absent')}."
    horizon = ctx.params.horizon_days
    words = (
        f"Over the next {horizon} days: {fmt.count(conv['p50'])} conversions "
        f"(80% interval {fmt.interval(conv, 'count')})"
    )
    cpa, spend = totals.get("cpa", {}).get("p50"), totals.get("spend", {}).get("p50")
    if cpa is not None:
        words += f" at a CPA of {fmt.money(cpa, d.currency)}"
    if spend is not None:
        words += f" on {fmt.money(spend, d.currency)} of spend"
    roas = totals.get("roas", {}).get("p50")
    if roas is not None and totals.get("revenue", {}).get("p50"):
        words += f", ROAS {fmt.number(roas)}"
    probs = (sections.get("scenarios") or Section("", "")).numbers.get("probabilities") or {}
    against = [
        f"{d.label(k)} {fmt.probability(v)}"
        for k, v in probs.items()
        if ("cpa_le_target" in k or "roas_ge_target" in k) and d.asked(k)
    ]
    return words + ("; " + ", ".join(against) if against else "") + "."


_RISK_BAR = 0.5  # as in the risks section: an alert below 50% is listed, not headlined


def _risk(sections: dict[str, Section]) -> str:
    risks = sections.get("risks")
    if risks is None or risks.status != "ok":
        return f"No risk assessment: {_why(risks, 'the risks section is absent')}."
    alerts = sorted(
        ((k, v) for k, v in (risks.numbers.get("alerts") or {}).items() if v is not None),
        key=lambda kv: -kv[1],
    )
    if not alerts:
        return "No risk found: no detector raised an alert for this campaign."
    (top, p), rest = alerts[0], [(k, v) for k, v in alerts[1:] if v >= _RISK_BAR]
    if p < _RISK_BAR:
        return (
            f"No risk found: no detector reaches {fmt.probability(_RISK_BAR)} (the highest is "
            f"{fmt.label(top).lower()}, {fmt.probability(p)})."
        )
    also = (
        "; also " + ", ".join(f"{fmt.label(k).lower()} ({fmt.probability(v)})" for k, v in rest)
        if rest
        else ""
    )
    return f"Main risk: {fmt.label(top).lower()}, probability {fmt.probability(p)}{also}."


def _pivot(ctx: CampaignContext, sections: dict[str, Section]) -> str:
    pivots = sections.get("pivots")
    if pivots is None or pivots.status != "ok":
        return f"No pivot computed: {_why(pivots, 'the pivots section is absent')}."
    recs = pivots.numbers.get("recommendations") or []
    horizon = ctx.params.horizon_days
    if not recs:
        return f"No pivot computed: none touching {ctx.campaign_id} clears the engine's bar."
    best = recs[0]
    conv = best.get("impact", {}).get("conversions")
    name = fmt.label(best["type"])
    others = [c for c in best.get("campaign_ids", []) if c != ctx.campaign_id]
    where = f" (with {', '.join(others)})" if others else ""
    if not conv:
        return f"No pivot computed: {name} has no simulated change in conversions."
    gain = (
        f"{fmt.count(conv['p50'], signed=True)} conversions over {horizon} days "
        f"(80% interval {fmt.interval(conv, 'count', signed=True)})"
    )
    if best.get("score", 0) <= 0:
        return f"No pivot is expected to pay off: the best, {name.lower()}{where}, gives {gain}."
    return (
        f"Best pivot: {name.lower()}{where}, {gain}, "
        f"P(gain > 0) {fmt.probability(best.get('confidence'))}."
    )


def headline(ctx: CampaignContext, sections: dict[str, Section]) -> Headline:
    """The card's sentences, from the sections' full-precision numbers."""
    d = display_of(ctx)
    hist = sections["history"].numbers["last_28_days"]
    quality = sections["data_quality"].numbers.get("quality_score")
    recent = (
        f"Last 28 days: {fmt.money(hist['spend'], d.currency)} spent, "
        f"{fmt.count(hist['conversions'])} conversions, CPA "
        f"{fmt.money(hist['cpa'], d.currency)}, ROAS {fmt.number(hist['roas'])}"
        + (f"; data quality {quality:.0f}/100." if quality is not None else ".")
    )
    warnings = []
    fallback = sections["forecast"].numbers.get("fallback") if "forecast" in sections else None
    if fallback:
        warnings.append(f"Warning: {fallback}.")
    missing = [s.title for s in sections.values() if s.status == "missing"]
    if missing:
        warnings.append("Not yet available in this simkit: " + ", ".join(missing) + ".")
    failed = [s.title for s in sections.values() if s.status == "failed"]
    if failed:
        warnings.append("Could not be computed (the section says why): " + ", ".join(failed) + ".")
    stopped = _stopped(ctx)
    skipped = [s.title for s in sections.values() if s.status == "skipped"]
    if skipped and stopped is None:  # a stopped campaign's card already says why
        warnings.append(
            "Not shown for this campaign (the section says why): " + ", ".join(skipped) + "."
        )
    if stopped is not None:
        return Headline(
            outlook=f"This campaign has stopped: {stopped}. Its history, data quality and "
            "benchmark comparison are below; the forward-looking sections are not computed.",
            risk="",
            pivot="",
            recent=recent,
            warnings=tuple(warnings),
        )
    return Headline(
        outlook=_outlook(ctx, sections, d),
        risk=_risk(sections),
        pivot=_pivot(ctx, sections),
        recent=recent,
        warnings=tuple(warnings),
    )


def _stopped(ctx: CampaignContext) -> str | None:
    """When the campaign stopped before the file's last day, that fact as a clause."""
    if not ctx.stopped:
        return None
    last, end = ctx.last_date, ctx.file_last_date
    day = last.date().isoformat() if last is not None else "an unknown day"
    return f"its last day with spend is {day}" + (
        f", and the data run to {end.date().isoformat()}" if end is not None else ""
    )


def summary_section(ctx: CampaignContext, sections: dict[str, Section]) -> Section:
    """The headline card: outlook, main risk, best pivot, the recent numbers, warnings.

    Its ``text`` is the card's sentences in order, shown as a card (``card=True``); a
    stopped campaign's card says it stopped instead of the forward-looking lines.
    """
    card = headline(ctx, sections)
    lines = (card.outlook, card.risk, card.pivot, card.recent, *card.warnings)
    return Section(
        "summary",
        ctx.name,
        text=tuple(line for line in lines if line),
        numbers={
            "quality_score": sections["data_quality"].numbers.get("quality_score"),
            "last_28_days": sections["history"].numbers["last_28_days"],
            "headline": card.to_dict(),
        },
        card=True,
    )


def _summary(ctx: CampaignContext, sections: dict[str, Section]) -> dict[str, Any]:
    last = ctx.last_date if ctx.last_date is not None else ctx.daily["date"].max()
    return {
        "campaign_id": ctx.campaign_id,
        "name": ctx.name,
        "campaign_state": ctx.state,
        "campaign_last_date": last.date().isoformat(),
        "currency": display_of(ctx).currency,
        "sections": {k: s.status for k, s in sections.items()},
        "numbers": {
            k: s.numbers
            for k, s in sections.items()
            if k not in ("provenance", "summary") and s.numbers
        },
        "forecast_id": (
            sections["ledger"].numbers.get("forecast_id") if "ledger" in sections else None
        ),
        "provenance": {
            "params_hash": ctx.params_hash,
            "data_hash": ctx.data_hash,
            "seed": ctx.params.seed,
            "simkit": __version__,
        },
    }


def build_campaign_report(params: RunParams) -> CampaignReport:
    """Load the campaign, run the available engines, and build every section.

    An engine with a documented graceful path takes it and the report says so (a forecast
    ensemble that fails falls back to its fallback member; pivots that cannot be computed
    leave their section ``failed`` with the error; see :mod:`simkit.report.engines`).  Other
    engine errors propagate: the runner marks the campaign failed with that message rather
    than publish a report with a hole in it.
    """
    ctx = load_campaign(params)
    return assemble_campaign_report(ctx, engines.run_engines(ctx))


def assemble_campaign_report(
    ctx: CampaignContext, results: engines.EngineResults
) -> CampaignReport:
    """The report of ``ctx`` from engine results already computed (the batch worker's
    summary-only path builds the same sections and ``summary`` as the notebook does)."""
    sections = {key: build(ctx, results) for key, build in SECTIONS.items()}
    narrative = report_llm.narrate(ctx, sections, results)
    summary = report_llm.with_narrative(summary_section(ctx, sections), narrative, results)
    display = display_of(ctx)
    ordered = {
        k: replace(s, display=display)
        for k, s in {"summary": summary, **sections, "provenance": provenance(ctx)}.items()
    }
    published = _summary(ctx, ordered)
    published["narrative"] = narrative.to_dict()
    if results.llm is not None:
        published["llm"] = results.llm.to_dict()
    return CampaignReport(context=ctx, sections=ordered, summary=published)
