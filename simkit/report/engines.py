"""Sections backed by the engines: forecast, scenarios, risks, pivots, market, diagnostics.

Each engine is looked up through its package's public API at call time.  When the API is
not there (the engine has not landed in this simkit), the section says exactly what is
missing and shows nothing else: a report never fakes content.

When an engine is there but fails, the report takes the engine's documented graceful path
if it has one, and says so in the section; otherwise the error propagates and the runner
marks the campaign failed:

* forecast: an ensemble that fails is replaced by its declared fallback member
  (``simkit.forecast.FALLBACK``, seasonal naive) alone, with a visible warning in the
  forecast and diagnostics sections and in ``summary.json``; if the fallback fails too, the
  campaign fails with both errors named;
* pivots: computed once per run over the whole portfolio (:mod:`simkit.report.pivots`); an
  engine failure leaves the section ``failed`` with the error, and every other section.
* market: a campaign that cannot be compared (no benchmarks for its channel, say ``video``)
  or that has no industry keeps the section with its own metrics and a sentence saying
  what is missing and which params keys or files give it (:func:`simkit.metadata.how_to_give`).

A campaign that has stopped (:func:`simkit.report.context.campaign_state`) is not forecast:
the forecast, scenarios, risks, pivots and diagnostics sections are ``skipped`` with a
sentence, and nothing is fitted.  Simulating from its last day would describe days the file
already shows it did not run, and simulating a restart would need a plan nobody gave; its
history, data quality and benchmarks are what the report can honestly say.
"""

from __future__ import annotations

import functools
import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simkit.metadata import how_to_give
from simkit.report import handoff
from simkit.report import llm as report_llm
from simkit.report.context import CampaignContext
from simkit.report.ledger import issue as issue_to_ledger
from simkit.report.pivots import pivots_section as build_pivots_section
from simkit.report.pivots import run_pivots
from simkit.report.section import Section, drawn, missing, skipped
from simkit.viz import fan_chart

__all__ = [
    "EngineResults",
    "compute_engines",
    "diagnostics_section",
    "forecast_section",
    "market_section",
    "pivots_section",
    "risks_section",
    "run_engines",
    "scenarios_section",
]

log = logging.getLogger(__name__)


def _api(module: str, name: str) -> Any | None:
    """``module.name`` if that public API exists, else ``None`` (engine not landed)."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        if exc.name and not module.startswith(exc.name) and exc.name != module:
            raise
        return None
    return getattr(mod, name, None)


@dataclass
class EngineResults:
    """What the engines returned for one campaign (``None`` where an engine is absent)."""

    forecast: Any | None = None
    simulation: Any | None = None
    risks: Any | None = None
    pivots: Any | None = None
    market: Any | None = None
    absent: dict[str, str] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: The model calls' results and usage (:mod:`simkit.report.llm`), when params ask.
    llm: Any | None = None
    #: The forecast ledger's records and the campaign's track record
    #: (:class:`simkit.report.ledger.LedgerResults`).
    ledger: Any | None = None


_ENGINES = {
    "forecast": ("simkit.forecast", "forecast_campaign", "the forecast engine"),
    "simulation": ("simkit.simulate", "simulate_campaign", "the simulation engine"),
    "risks": ("simkit.risk", "detect_risks", "the risk engine"),
    "pivots": ("simkit.pivots", "find_pivots", "the pivot engine"),
    "market": ("simkit.market", "compare_campaigns", "the market engine"),
}


def _fmt(value: Any, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def run_engines(ctx: CampaignContext) -> EngineResults:
    """Run every available engine once for this campaign (cheap settings from params).

    The forecast uses ``params.members`` and ``params.backtest_cutoffs`` (the LSTM is off
    by default), no on-disk cache (a report depends only on its inputs), and the
    campaign's own seed; the simulation reuses that forecast's drivers.

    In a batch run the worker has already computed them with the same inputs and seed, and
    the kernel takes those (:mod:`simkit.report.handoff`).
    """
    handed = handoff.load(ctx)
    if handed is not None:
        return handed
    return compute_engines(ctx)


def compute_engines(ctx: CampaignContext) -> EngineResults:
    """What :func:`run_engines` returns, always computed here."""
    results = EngineResults()
    for key, (module, name, what) in _ENGINES.items():
        if _api(module, name) is None:
            results.absent[key] = f"{what} ({module}.{name}) is not installed with this simkit"
    p, data = ctx.params, ctx.rows  # this campaign only: others cannot disturb it
    seed = int(ctx.rng_seed.generate_state(1)[0])
    results.llm = report_llm.start(ctx)
    if "market" not in results.absent:  # cheap, and before any fitting
        results.market = _api("simkit.market", "compare_campaigns")(
            ctx.loaded,
            campaign_ids=[ctx.campaign_id],
            last_days=28,
            unknown_industry="suggest",
            hint=how_to_give,
        )
    if ctx.stopped:
        results.skipped.update(_stopped_sentences(ctx))
        return results
    if "forecast" not in results.absent:
        with report_llm.member_session(results.llm):
            results.forecast = _forecast(ctx, seed, results)
    if "simulation" not in results.absent and results.forecast is not None:
        results.simulation = _api("simkit.simulate", "simulate_campaign")(
            data,
            ctx.campaign_id,
            p.horizon_days,
            plan_file=p.plan,
            n_paths=p.n_paths,
            seed=seed,
            target_cpa=ctx.target_cpa,
            target_roas=ctx.target_roas,
            drivers=results.forecast.drivers,
        )
        results.ledger = issue_to_ledger(ctx, results, seed)
    if results.llm is not None and results.simulation is not None:
        report_llm.propose(
            ctx, results.llm, seed=seed, drivers=results.forecast.drivers, meta=ctx.meta
        )
    if "risks" not in results.absent:
        # also risks that began before the detectors' three weeks and are still in force
        results.risks = _api("simkit.risk", "detect_risks")(
            data,
            ctx.loaded.campaigns,
            campaign_ids=[ctx.campaign_id],
            min_probability=0.0,
        )
    if "pivots" not in results.absent:
        results.pivots = run_pivots(p, ctx.loaded, ctx.data_hash)
    return results


def _stopped_sentences(ctx: CampaignContext) -> dict[str, str]:
    last = ctx.last_date.date() if ctx.last_date is not None else "?"
    end = ctx.file_last_date.date() if ctx.file_last_date is not None else "?"
    stopped = f"the campaign stopped on {last} (the file runs to {end})"
    return {
        "forecast": f"No forecast: {stopped}, so there is no future delivery to forecast",
        "scenarios": f"No scenarios: {stopped}, so there is no future delivery to simulate",
        "risks": f"No risk alerts: they are about what may go wrong next, and {stopped}",
        "pivots": f"No pivots: they are changes to a running campaign, and {stopped}",
        "diagnostics": f"No model diagnostics: no forecast model is fitted because {stopped}",
    }


def _forecast(ctx: CampaignContext, seed: int, results: EngineResults) -> Any:
    """The campaign's forecast with ``params.members``; if the ensemble fails, the
    forecast package's declared fallback member alone (``forecast_campaign(...,
    fallback=...)``), with a visible warning."""
    fallback = _api("simkit.forecast", "FALLBACK") or "seasonal_naive"
    p = ctx.params
    forecast = _api("simkit.forecast", "forecast_campaign")(
        ctx.rows,
        ctx.campaign_id,
        p.horizon_days,
        plan=ctx.plan.to_numpy(),
        members=[*p.members, *(["llm"] if p.llm_member and "llm" not in p.members else [])],
        seed=seed,
        max_cutoffs=p.backtest_cutoffs,
        cache=False,
        fallback=fallback,
    )
    if getattr(forecast, "fallback", None) is not None:
        results.fallbacks["forecast"] = forecast.fallback.message
    return forecast


def forecast_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """The fan chart: p10-p90 band, p50, recent history and the spend plan."""
    sim = results.simulation
    if "forecast" in results.skipped:
        return skipped("forecast", "Forecast", f"{results.skipped['forecast']}.")
    if results.forecast is None or sim is None:
        why = results.absent.get("forecast") or results.absent.get("simulation", "")
        return missing("forecast", "Forecast", f"No forecast fan chart: {why}.")
    charts, rows = [], []
    for metric in ("conversions", "revenue"):
        daily = sim.daily[sim.daily["metric"] == metric]
        if len(daily):
            charts.append(
                functools.partial(
                    fan_chart,
                    ctx.daily,
                    daily[["date", "p10", "p50", "p90"]],
                    metric=metric,
                    plan=ctx.plan if metric == "conversions" else None,
                )
            )
    totals = {
        m: {q: float(v[q]) for q in ("p10", "p50", "p90")}
        for m, v in sim.totals.items()
        if all(q in v for q in ("p10", "p50", "p90"))
    }
    for metric, t in totals.items():
        rows.append({"metric": metric, "p10": t["p10"], "p50": t["p50"], "p90": t["p90"]})
    conv = totals.get("conversions")
    headline = (
        f"Next {sim.horizon_days} days: {_fmt(conv['p50'])} conversions expected "
        f"(80% interval {_fmt(conv['p10'])} to {_fmt(conv['p90'])})."
        if conv
        else None
    )
    fallback = results.fallbacks.get("forecast")
    words = [
        f"Warning: {fallback}." if fallback else "",
        headline or "",
        f"Simulated from {sim.n_paths:,} Monte Carlo paths of the funnel "
        "under the spend plan (below the chart).",
    ]
    words += [f"Forecast note: {w}" for w in (*results.forecast.warnings, *results.forecast.notes)]
    return Section(
        "forecast",
        "Forecast",
        text=tuple(w for w in words if w),
        tables=((f"Totals over the {sim.horizon_days}-day horizon", pd.DataFrame(rows)),),
        charts=drawn(*charts),
        numbers={"totals": totals, "headline": headline, "fallback": fallback},
    )


def scenarios_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """The paths split into pessimistic / realistic / optimistic, with their probabilities.

    The three scenarios partition the simulated paths by the outcome (below its p20, p20
    to p80, above p80), so their probabilities sum to 1.  Each row gives the scenario's
    conditional mean totals; CPA and ROAS are ratios of those mean totals.
    """
    sim = results.simulation
    if "scenarios" in results.skipped:
        return skipped("scenarios", "Scenarios", f"{results.skipped['scenarios']}.")
    if sim is None:
        return missing(
            "scenarios", "Scenarios", f"No scenarios table: {results.absent.get('simulation', '')}."
        )
    rows = [
        {
            "scenario": s.name,
            "probability": s.probability,
            "paths where": s.probability_of,
            "mean conversions": s.mean_totals.get("conversions"),
            "mean spend": s.mean_totals.get("spend"),
            "mean revenue": s.mean_totals.get("revenue"),
            "CPA (mean spend / mean conversions)": s.mean_totals.get("cpa"),
            "ROAS (mean revenue / mean spend)": s.mean_totals.get("roas"),
        }
        for s in sim.scenarios
    ]
    bands = [{"band": b.name, "probability": round(b.probability, 3)} for b in sim.bands]
    probs = {k: float(v) for k, v in sim.probabilities.items()}
    words = "; ".join(f"{b['band']}: {b['probability']:.0%}" for b in bands)
    headline = f"Against the plan ({sim.plan_source}): {words}." if bands else None
    cuts = (
        f"The {len(sim.scenarios)} scenarios split the {sim.n_paths:,} simulated paths by "
        f"{sim.outcome} over the horizon: "
        + ", ".join(f"{s.name} {s.probability:.0%}" for s in sim.scenarios)
        + " (they add up to 100%); each row is the mean of its paths."
        if sim.scenarios
        else ""
    )
    notes = [f"Note: {n}" for n in sim.extra.get("notes", ())]
    tables = [("Scenarios", pd.DataFrame(rows)), ("Outcome against plan", pd.DataFrame(bands))]
    if probs:
        tables.append(
            (
                "Probabilities",
                pd.DataFrame(
                    {"event": list(probs), "probability": [round(v, 3) for v in probs.values()]}
                ),
            )
        )
    return Section(
        "scenarios",
        "Scenarios",
        text=tuple(w for w in (headline or "", cuts, *notes) if w),
        tables=tuple(tables),
        numbers={
            "probabilities": probs,
            "bands": {b.name: b.probability for b in sim.bands},
            "scenarios": {
                s.name: (s.value if np.isfinite(s.value) else None) for s in sim.scenarios
            },
            "scenario_probabilities": {s.name: s.probability for s in sim.scenarios},
            "scenario_mean_totals": {
                s.name: {k: (v if np.isfinite(v) else None) for k, v in s.mean_totals.items()}
                for s in sim.scenarios
            },
            "notes": list(sim.extra.get("notes", ())),
            "headline": headline,
        },
    )


def risks_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """Risk alerts with probability, evidence and onset."""
    if "risks" in results.skipped:
        return skipped("risks", "Risks", f"{results.skipped['risks']}.")
    if results.risks is None:
        return missing("risks", "Risks", f"No risk alerts: {results.absent.get('risks', '')}.")
    alerts = sorted(results.risks.alerts, key=lambda a: -a.probability)
    shown = [a for a in alerts if a.probability >= 0.5]
    top = alerts[0] if alerts else None
    headline = (
        f"Most likely risk: {top.type.replace('_', ' ')} (probability {top.probability:.0%})."
        if top and top.probability >= 0.5
        else "No risk reaches a 50% probability."
    )
    table = pd.DataFrame(
        [
            {
                "risk": a.type,
                "probability": round(a.probability, 3),
                "severity": a.severity,
                "onset": str(a.onset or "-"),
                "what we see": a.message,
                "pivots to simulate": ", ".join(a.suggested_pivots),
            }
            for a in alerts
        ]
    )
    return Section(
        "risks",
        "Risks",
        text=(headline, f"{len(shown)} alert(s) at or above 50%; all detectors are listed below."),
        tables=(("Risks, most probable first", table),) if len(table) else (),
        numbers={
            "top_risk": top.type if top else None,
            "max_probability": top.probability if top else None,
            "alerts": {a.type: a.probability for a in alerts},
            "headline": headline,
        },
    )


def pivots_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """Pivots with their simulated impact (:func:`simkit.report.pivots.pivots_section`)."""
    if "pivots" in results.skipped:
        return skipped("pivots", "Pivots", f"{results.skipped['pivots']}.")
    if results.pivots is None:
        return missing("pivots", "Pivots", f"No pivots: {results.absent.get('pivots', '')}.")
    return build_pivots_section(ctx.campaign_id, results.pivots)


def market_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """How this campaign compares with industry benchmarks."""
    if results.market is None:
        return missing(
            "market",
            "How this campaign compares",
            f"No benchmark comparison: {results.absent.get('market', '')}.",
        )
    title = "How this campaign compares"
    comparisons = [c for c in results.market.campaigns if c.campaign_id == ctx.campaign_id]
    if not comparisons:
        return missing(
            "market", title, "No benchmark comparison: no benchmark covers this campaign."
        )
    c = comparisons[0]
    notes = tuple(f"Note: {_cap(n)}." for n in c.notes)
    if c.reason is not None:
        own = pd.DataFrame(
            [{"metric": name.upper(), "campaign": m.value} for name, m in c.metrics.items()]
        )
        return Section(
            "market",
            title,
            status="skipped",
            text=(f"Not compared with benchmarks: {c.reason}.", *notes),
            tables=((f"This campaign, last {c.n_days} days", own.round(4)),),
            numbers={"compared": False, "reason": c.reason, "channel": c.channel},
        )
    rows = [
        {
            "metric": name.upper(),
            "campaign": m.value,
            "benchmark": m.figure.value if m.figure else None,
            "deviation %": m.deviation_pct,
            "where": m.position or "-",
        }
        for name, m in c.metrics.items()
    ]
    return Section(
        "market",
        title,
        text=(c.explanation, *notes),
        tables=((f"{c.industry} ({c.channel}), last {c.n_days} days", pd.DataFrame(rows)),),
        numbers={
            "compared": True,
            "industry": c.industry,
            "industry_given": c.industry_requested is not None,
            "deviation_pct": {n: m.deviation_pct for n, m in c.metrics.items()},
        },
    )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def diagnostics_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """Model diagnostics: ensemble weights, backtest metrics, interval coverage."""
    fc = results.forecast
    if "diagnostics" in results.skipped:
        return skipped("diagnostics", "Model diagnostics", f"{results.skipped['diagnostics']}.")
    if fc is None:
        return missing(
            "diagnostics",
            "Model diagnostics",
            f"No diagnostics: {results.absent.get('forecast', '')}.",
        )
    bt = fc.backtest
    weights = pd.DataFrame(fc.weights).T.round(3).reset_index(names="member")
    scores = [
        {"model": name, **{k: v for k, v in s.to_dict().items()}}
        for name, s in [*bt.members.items(), ("ensemble", bt.ensemble)]
    ]
    ens = bt.ensemble
    words = (
        f"Rolling-origin backtest on {bt.metric}, {len(bt.cutoffs)} cutoff(s): the "
        f"ensemble's 80% intervals covered {ens.coverage_80:.0%} of actual days "
        f"(nominal 80%), MASE {ens.mase:.2f}."
    )
    return Section(
        "diagnostics",
        "Model diagnostics",
        text=(
            *(
                [f"Warning: {results.fallbacks['forecast']}."]
                if "forecast" in results.fallbacks
                else []
            ),
            words,
            *[f"Backtest note: {w}" for w in bt.warnings],
        ),
        tables=(
            ("Ensemble weights by driver", weights),
            ("Backtest scores", pd.DataFrame(scores).round(3)),
        ),
        numbers={"weights": fc.weights, "ensemble": ens.to_dict(), "cutoffs": list(bt.cutoffs)},
    )
