"""What the commands print: JSON for machines (``--format json``), rich tables for people.

Every renderer takes a command's result and prints it; none computes anything.  Every
command imports this module, so it imports no engine: the renderers that need an engine's
own vocabulary are in :mod:`simkit.cli.render_engines`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.cli.options import Format

console = Console()
err_console = Console(stderr=True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def emit(obj: Any, fmt: Format, render: Callable[[Any], None] | None = None) -> None:
    """Print ``obj`` as JSON (``--format json``) or through ``render`` for people."""
    if fmt is Format.json or render is None:
        payload = obj.to_dict() if hasattr(obj, "to_dict") else obj
        sys.stdout.write(json.dumps(payload, default=_json_default, indent=2) + "\n")
    else:
        render(obj)


def warn(line: str) -> None:
    """A warning for people, on stderr (stdout stays the result)."""
    err_console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)


# --- data -------------------------------------------------------------------------------


def generated(summary: dict[str, Any]) -> None:
    console.print(
        f"wrote {summary['data']} ({summary['campaigns']} campaigns x {summary['days']} days) "
        f"and {summary['metadata']}; injected events: "
        + ", ".join(
            f"{e['kind']} on {e['campaign_id']} from {e['start']}" for e in summary["events"]
        )
    )


# --- market -----------------------------------------------------------------------------


def competitors(payload: dict[str, Any]) -> None:
    analysis = payload["analysis"]
    table = Table(title="Competitors (auction insights, latest period)")
    for col in (
        "domain",
        "threat",
        "impr. share",
        "overlap",
        "above us",
        "outranking",
        "market share",
        "IS change",
        "new",
    ):
        table.add_column(col)

    def pct(v: float) -> str:
        return "-" if v != v else f"{100 * v:.1f}%"

    for c in analysis.competitors:
        table.add_row(
            c.domain,
            f"{c.threat_score:.0f}",
            pct(c.impression_share),
            pct(c.overlap_rate),
            pct(c.position_above_rate),
            pct(c.outranking_share),
            pct(c.market_share),
            pct(c.impression_share_change),
            "yes" if c.new_entrant else "",
        )
    console.print(table)
    console.print(analysis.explanation, highlight=False, soft_wrap=True)
    if payload.get("pressure") is not None:
        console.print(payload["pressure"].explanation, highlight=False, soft_wrap=True)
    for note in analysis.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False, soft_wrap=True)


# --- risks ------------------------------------------------------------------------------


def risks(report: Any) -> None:
    alerts = report.alerts
    console.print(f"Risks as of {report.as_of}: {len(alerts)} alert(s)")
    if not alerts:
        return
    table = Table()
    for col in ("#", "campaign", "risk", "P", "severity", "onset", "try"):
        table.add_column(col)
    for i, a in enumerate(alerts, 1):
        table.add_row(
            str(i),
            a.campaign_id,
            a.type,
            f"{a.probability:.0%}",
            a.severity,
            str(a.onset or "-"),
            ", ".join(a.suggested_pivots),
        )
    console.print(table)
    for i, a in enumerate(alerts, 1):
        console.print(f"{i}. {a.message}", highlight=False, soft_wrap=True)


# --- forecast: simulate, backtest -------------------------------------------------------


def simulation(result: Any) -> None:
    def num(v: float | None) -> str:
        if v is None or v != v or v in (float("inf"), float("-inf")):
            return "-"
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"

    console.print(
        f"Campaign {result.campaign_id}: {result.horizon_days} days from "
        f"{result.dates[0].date()} to {result.dates[-1].date()}, {result.n_paths:,} paths, "
        f"seed {result.seed}"
    )
    table = Table(title="Totals over the horizon")
    for col in ("metric", "p10", "p50", "p90", "mean"):
        table.add_column(col, justify="right" if col != "metric" else "left")
    for metric in ("spend", "impressions", "clicks", "conversions", "revenue", "cpa", "roas"):
        s = result.totals[metric]
        table.add_row(metric, num(s["p10"]), num(s["p50"]), num(s["p90"]), num(s["mean"]))
    console.print(table)
    table = Table(
        title=f"Scenarios: the paths split by {result.outcome} (conditional means; CPA and "
        "ROAS are ratios of the mean totals)"
    )
    for col in ("scenario", "probability", "paths where", "spend", "conversions", "cpa", "roas"):
        table.add_column(col)
    for s in result.scenarios:
        t = s.mean_totals
        table.add_row(
            s.name,
            f"{s.probability:.0%}",
            s.probability_of,
            num(t["spend"]),
            num(t["conversions"]),
            num(t["cpa"]),
            num(t["roas"]),
        )
    console.print(table)
    for note in result.extra.get("notes", ()):
        console.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)
    if result.plan_value is not None:
        console.print(f"Plan ({result.plan_source}): {num(result.plan_value)} {result.outcome}")
    for name, value in result.probabilities.items():
        console.print(f"  {name}: {value:.1%}")
    if result.extra.get("forecast_id"):
        console.print(f"Recorded in the forecast ledger as {result.extra['forecast_id']}")


def backtests(results: list[Any]) -> None:
    def num(v: float | None, pct: bool = False) -> str:
        if v is None or v != v:
            return "-"
        return f"{v:.0%}" if pct else f"{v:.3f}"

    for r in results:
        table = Table(
            title=f"{r.campaign_id}: {r.metric}, {r.horizon}-day horizon, "
            f"{len(r.cutoffs)} cutoffs ({r.cutoffs[0]} .. {r.cutoffs[-1]})"
            + (" [cached]" if r.cache_hit else "")
        )
        for col in ("member", "weight", "MASE", "sMAPE", "CRPS", "cov50", "cov80", "cov95"):
            table.add_column(col, justify="left" if col == "member" else "right")
        rows = [*r.members.items(), ("ensemble", r.ensemble)]
        for name, s in rows:
            table.add_row(
                name,
                num(s.weight) if name != "ensemble" else "",
                num(s.mase),
                num(s.smape),
                num(s.crps),
                num(s.coverage_50, True),
                num(s.coverage_80, True),
                num(s.coverage_95, True),
            )
        console.print(table)
        for message in r.warnings:
            console.print(f"[yellow]warning[/] {message}", highlight=False, soft_wrap=True)


# --- pivots -----------------------------------------------------------------------------


def pivots(result: Any) -> None:
    a = result.allocation
    console.print(
        f"Pivots as of {result.as_of.date()}, horizon {result.horizon_days} days, objective "
        f"{result.objective}, total budget {a.total_budget:,.2f}/day"
    )
    table = Table(title="Budget allocation (per day)")
    for col in ("campaign", "today", "allocation", "change", "marginal CPA", "marginal ROAS"):
        table.add_column(col, justify="right")
    for key in a.keys:
        m = a.marginal[key]
        change = a.allocation[key] / a.status_quo[key] - 1 if a.status_quo[key] > 0 else 0.0
        table.add_row(
            key,
            f"{a.status_quo[key]:,.2f}",
            f"{a.allocation[key]:,.2f}",
            f"{change:+.0%}",
            f"{m['marginal_cpa']:,.2f}",
            f"{m['marginal_roas']:.2f}",
        )
    console.print(table)
    g = a.gain
    console.print(
        f"Expected gain: {g['conversions']['p50']:+,.2f} conversions/day (80% interval "
        f"{g['conversions']['p10']:+,.2f} to {g['conversions']['p90']:+,.2f}), "
        f"P(gain > 0) = {g['p_gain_positive']:.0%}",
        highlight=False,
    )
    e = result.expected["conversions"]
    console.print(
        f"Over {result.horizon_days} days with the allocation: conversions {e['p50']:,.0f} "
        f"(80% interval {e['p10']:,.0f} to {e['p90']:,.0f})",
        highlight=False,
    )
    if result.recommendations:
        recs = Table(title="Pivots, ranked (score = (p50 + p10) / 2 of the objective's change)")
        for col in ("#", "type", "campaigns", "change p50", "p10", "p90", "P(up)", "score"):
            recs.add_column(col)
        for i, r in enumerate(result.recommendations, 1):
            q = r.expected_impact[result.objective]
            recs.add_row(
                str(i),
                r.type,
                ", ".join(r.campaign_ids[:4]) + ("..." if len(r.campaign_ids) > 4 else ""),
                f"{q['p50']:+,.1f}",
                f"{q['p10']:+,.1f}",
                f"{q['p90']:+,.1f}",
                f"{r.confidence:.0%}",
                f"{r.score:+,.1f}",
            )
        console.print(recs)
        for i, r in enumerate(result.recommendations, 1):
            console.print(f"{i}. {r.action}\n   {r.rationale}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False, soft_wrap=True)


# --- run and runs -----------------------------------------------------------------------


def run_result(r: Any) -> None:
    table = Table(title=f"run {r.run_id} ({r.seconds:.1f} s)")
    for col in ("campaign", "status", "seconds", "attempts", "error"):
        table.add_column(col)
    for o in r.outcomes:
        colour = "green" if o.status == "succeeded" else "red"
        stopped = " (stopped)" if o.status == "succeeded" and o.campaign_state == "stopped" else ""
        table.add_row(
            o.campaign_id,
            f"[{colour}]{o.status}{stopped}[/]",
            f"{o.duration_seconds:.1f}",
            str(o.attempts),
            o.error or "",
        )
    console.print(table)
    console.print(f"index: {r.index_path}", highlight=False, soft_wrap=True)


def runs_list(rows: list[dict[str, Any]]) -> None:
    table = Table(title="runs")
    for col in ("run", "status", "created", "campaigns", "output"):
        table.add_column(col)
    for r in rows:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(r["campaigns"].items()))
        table.add_row(r["run_id"], r["status"], r["created_at"][:19], counts, r["output_dir"])
    console.print(table)


def run_detail(r: dict[str, Any]) -> None:
    console.print(
        f"run {r['run_id']}: {r['status']} (created {r['created_at'][:19]}, "
        f"params hash {r['params_hash'][:12]}, data hash "
        f"{(r['data_hash'] or '-')[:12]})",
        highlight=False,
    )
    console.print(f"index: {r['index_path'] or '-'}", highlight=False, soft_wrap=True)
    table = Table()
    for col in ("campaign", "status", "seconds", "attempts", "report", "error"):
        table.add_column(col)
    for c in r["campaigns"]:
        secs = f"{c['duration_seconds']:.1f}" if c["duration_seconds"] is not None else "-"
        stopped = c.get("campaign_state") == "stopped"
        table.add_row(
            c["campaign_id"],
            c["status"] + (f" (stopped, last day {c.get('last_date') or '?'})" if stopped else ""),
            secs,
            str(c["attempts"]),
            c["report_path"] or "-",
            c["error"] or "",
        )
    console.print(table)


def run_deleted(d: dict[str, Any]) -> None:
    console.print(f"deleted run {d['deleted']}")


# --- dashboard --------------------------------------------------------------------------


def dashboard_started(info: dict[str, Any]) -> None:
    console.print(
        f"dashboard: {info['url']} (Voila pid {info['pid']}; Ctrl-C stops it)",
        highlight=False,
        soft_wrap=True,
    )


def cache_stats(stats: dict[str, Any]) -> None:
    console.print(
        f"cache {stats['dir'] or 'off'}: {stats['hits']} hit(s), {stats['misses']} miss(es)",
        highlight=False,
    )


# --- language model (issue 18) --------------------------------------------------------------


def llm_prompts(payload: Any) -> None:
    """The messages of ``simkit llm prompt``, one block per prompt, verbatim."""
    console.print(
        f"Campaign {payload['campaign_id']}, model {payload['model']}: the messages below "
        "are what would leave this machine (nothing was sent).",
        highlight=False,
    )
    for name, messages in payload["messages"].items():
        for m in messages:
            console.rule(f"{name}: {m['role']}")
            console.print(m["content"], markup=False, highlight=False, soft_wrap=True)
    for note in payload.get("notes", ()):
        console.print(f"note: {note}", highlight=False)


def llm_scenarios(scenarios: Any) -> None:
    """Model assumptions quantified by simkit (``simkit simulate --llm-scenarios``)."""
    data = scenarios.to_dict()
    if data["status"] != "ok":
        warn(f"no model scenarios: {data['reason']}")
        return
    table = Table(title=f"Scenarios proposed by {data['model']}, quantified by simkit")
    for col in ("assumption", "days", "Δ conversions p10", "p50", "p90", "P(better)"):
        table.add_column(col)
    for a in data["assumptions"]:
        conv = a["delta"].get("conversions", {})
        table.add_row(
            a["name"],
            f"{a['start']} to {a['end']}",
            *(f"{conv[q]:+,.0f}" if q in conv else "-" for q in ("p10", "p50", "p90")),
            f"{a['probability_better']:.0%}",
        )
    console.print(table)
    for check in data["checks"]:
        console.print(f"check: {check}", highlight=False)
