"""The campaign report: every section, in order, plus the summary the runner publishes.

Sections come from a registry (name -> builder).  The engine-backed ones live in
:mod:`simkit.report.engines`; each says plainly what is missing until its engine exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simkit.params import RunParams
from simkit.report import engines
from simkit.report.context import CampaignContext, load_campaign
from simkit.report.section import Section
from simkit.report.sections import data_quality, history, provenance

__all__ = ["SECTIONS", "CampaignReport", "build_campaign_report", "summary_section"]

Builder = Callable[[CampaignContext, "engines.EngineResults"], Section]

#: Report sections in display order after the summary; the footer (provenance) comes last.
SECTIONS: dict[str, Builder] = {
    "data_quality": lambda ctx, _: data_quality(ctx),
    "history": lambda ctx, _: history(ctx),
    "forecast": engines.forecast_section,
    "scenarios": engines.scenarios_section,
    "risks": engines.risks_section,
    "pivots": engines.pivots_section,
    "market": engines.market_section,
    "diagnostics": engines.diagnostics_section,
}


@dataclass(frozen=True)
class CampaignReport:
    """Everything a campaign report shows; ``sections`` in display order."""

    context: CampaignContext
    sections: dict[str, Section]
    summary: dict[str, Any]

    def __getitem__(self, key: str) -> Section:
        return self.sections[key]


def _fmt(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def summary_section(ctx: CampaignContext, sections: dict[str, Section]) -> Section:
    """Headline numbers and scenario probabilities in plain words."""
    hist = sections["history"].numbers["last_28_days"]
    quality = sections["data_quality"].numbers.get("quality_score")
    words = [
        f"{ctx.name} ({ctx.campaign_id}): over the last 28 days, spend "
        f"{_fmt(hist['spend'], 0)}, {_fmt(hist['conversions'], 0)} conversions, CPA "
        f"{_fmt(hist['cpa'])}, ROAS {_fmt(hist['roas'])}. Data quality "
        f"{_fmt(quality, 0)}/100."
    ]
    if ctx.stopped:
        words.insert(0, _stopped_words(ctx))
    for key in ("forecast", "scenarios", "risks", "pivots", "market"):
        section = sections.get(key)
        if section is None:
            continue
        headline = section.numbers.get("headline")
        if section.status == "ok" and headline:
            words.append(headline)
    missing = [s.title for s in sections.values() if s.status == "missing"]
    if missing:
        words.append("Not yet available in this simkit: " + ", ".join(missing) + ".")
    failed = [s.title for s in sections.values() if s.status == "failed"]
    if failed:
        words.append("Could not be computed (the section says why): " + ", ".join(failed) + ".")
    skipped = [s.title for s in sections.values() if s.status == "skipped"]
    if skipped:
        words.append(
            "Not shown for this campaign (the section says why): " + ", ".join(skipped) + "."
        )
    fallback = sections["forecast"].numbers.get("fallback") if "forecast" in sections else None
    if fallback:
        words.append(f"Warning: {fallback}.")
    return Section(
        "summary",
        "Summary",
        text=tuple(words),
        numbers={"quality_score": quality, "last_28_days": hist},
    )


def _stopped_words(ctx: CampaignContext) -> str:
    last = ctx.last_date.date() if ctx.last_date is not None else "?"
    end = ctx.file_last_date.date() if ctx.file_last_date is not None else "?"
    return (
        f"This campaign has stopped: its last day with spend is {last}, and the data run to "
        f"{end}. Its history, data quality and benchmark comparison are below; the "
        "forward-looking sections are not computed."
    )


def _summary(ctx: CampaignContext, sections: dict[str, Section]) -> dict[str, Any]:
    from simkit import __version__

    last = ctx.last_date if ctx.last_date is not None else ctx.daily["date"].max()
    return {
        "campaign_id": ctx.campaign_id,
        "name": ctx.name,
        "campaign_state": ctx.state,
        "campaign_last_date": last.date().isoformat(),
        "sections": {k: s.status for k, s in sections.items()},
        "numbers": {
            k: s.numbers
            for k, s in sections.items()
            if k not in ("provenance", "summary") and s.numbers
        },
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
    results = engines.run_engines(ctx)
    sections = {key: build(ctx, results) for key, build in SECTIONS.items()}
    summary = summary_section(ctx, sections)
    ordered = {"summary": summary, **sections, "provenance": provenance(ctx)}
    return CampaignReport(context=ctx, sections=ordered, summary=_summary(ctx, ordered))
