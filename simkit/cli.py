"""The ``simkit`` command line: automation-friendly (``--format json``) and readable (rich).

Every error is one line on stderr, ``simkit <command>: error: <message>``, with exit code 1:
a :class:`~simkit.errors.SimkitError` from a command, running out of memory, and the usage
errors Typer finds in the command line (an unknown option, a missing argument, a bad
value).  ``--help`` exits 0; Ctrl-C exits 130.  ``--format json`` prints JSON only, on
stdout.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.main
from rich.console import Console
from rich.table import Table

# Typer vendors Click (as typer._click): its usage errors and the current context live there
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer._click.globals import get_current_context

from simkit.errors import SimkitError

app = typer.Typer(
    name="simkit",
    help="Campaign performance simulation: validate data, forecast, simulate, find risks "
    "and pivots, and publish reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people, json for machines")
]
MappingOption = Annotated[
    Path | None, typer.Option("--mapping", "-m", help="column-mapping YAML for generic files")
]
OnBadRowsOption = Annotated[
    str | None,
    typer.Option(
        "--on-bad-rows",
        help="rows with empty or unreadable required cells: error (the default, or the "
        "mapping's on_bad_rows) or skip (each skipped row is listed in the repairs)",
        show_default=False,
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="force an importer: simkit, google_ads, meta_ads, generic"),
]


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


def _on_bad_rows(value: str | None) -> Any:
    """The ``--on-bad-rows`` value, checked (``None``: the mapping's choice, else error)."""
    if value is not None and value not in ("error", "skip"):
        raise SimkitError(f"--on-bad-rows is 'error' or 'skip', not '{value}'")
    return value


def parse_date_option(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date; a clear error names the option otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SimkitError(f"{option} '{value}' is not a date (YYYY-MM-DD)") from None


def error_line(message: object, command: str | None = None) -> str:
    """``simkit <command>: error: <message>`` on one line (the message's lines joined)."""
    if command is None:
        ctx = get_current_context(silent=True)
        command = ctx.command_path if ctx is not None else "simkit"
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    return f"{command}: error: {text or type(message).__name__}"


def _print_error(message: object, command: str | None = None) -> None:
    sys.stderr.write(error_line(message, command) + "\n")
    sys.stderr.flush()


def handle_errors(func: F) -> F:
    """Turn expected errors into a one-line message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SimkitError as exc:
            _print_error(exc)
            raise typer.Exit(1) from None
        except MemoryError as exc:
            detail = f": {exc}" if str(exc) else ""
            _print_error(f"out of memory{detail} (ask for less: fewer paths, a shorter horizon)")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _print_error("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# --- data -------------------------------------------------------------------------------


def _render_validation(report: Any) -> None:
    from simkit.data.validate import SKIPPABLE

    status = "[green]OK[/]" if report.ok else "[red]FAILED[/]"
    console.print(
        f"{status} {report.file} (source: {report.source}, "
        f"{report.n_rows_read} rows read, {report.n_rows} rows after import)"
    )
    for repair in report.repairs:
        console.print(f"  repaired: {repair.detail}", highlight=False)
    if report.campaigns:
        table = Table(title="Campaigns")
        for col in ("campaign", "days", "first", "last", "quality", "what lowers it"):
            table.add_column(col)
        for c in report.campaigns:
            table.add_row(
                c.campaign_id,
                str(c.days),
                str(c.first_date),
                str(c.last_date),
                f"{c.quality_score:.0f}",
                "; ".join(c.reasons) or "-",
            )
        console.print(table)
    for issue in report.errors:
        console.print(f"[red]error[/] {issue}", highlight=False, soft_wrap=True)
    for issue in report.warnings:
        console.print(f"[yellow]warning[/] {issue}", highlight=False, soft_wrap=True)
    if any(issue.code in SKIPPABLE for issue in report.errors):
        console.print(
            "to leave rows with unreadable cells out, each listed in the repairs: "
            "--on-bad-rows skip (or on_bad_rows: skip in the mapping)",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
@handle_errors
def validate(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Check a data file against the contract and score each campaign's data quality."""
    from simkit.data import import_file
    from simkit.data import validate as run_validation

    _, report = run_validation(
        import_file(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
    )
    emit(report, fmt, _render_validation)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@handle_errors
def generate(
    output_dir: Annotated[Path, typer.Argument(help="folder for campaigns.csv + metadata")],
    campaigns: Annotated[int, typer.Option(min=1, max=500)] = 6,
    days: Annotated[int, typer.Option(min=14, max=3650)] = 150,
    seed: int = 7,
    end: Annotated[
        str | None, typer.Option(help="last date (YYYY-MM-DD); default yesterday")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Generate synthetic campaigns with injected events and known ground truth."""
    from datetime import timedelta

    import numpy as np

    from simkit.data.synthetic import generate as make

    last = parse_date_option(end, "--end") or date.today() - timedelta(days=1)
    world = make(
        campaigns, days, rng=np.random.default_rng(seed), start=last - timedelta(days=days - 1)
    )
    data_path, meta_path = world.write(output_dir)
    summary = {
        "data": str(data_path),
        "metadata": str(meta_path),
        "campaigns": campaigns,
        "days": days,
        "seed": seed,
        "events": [
            {
                "kind": e.kind,
                "campaign_id": e.campaign_id,
                "start": e.start.isoformat(),
                "end": e.end.isoformat() if e.end else None,
                "magnitude": e.magnitude,
            }
            for e in world.events
        ],
    }
    emit(
        summary,
        fmt,
        lambda s: console.print(
            f"wrote {s['data']} ({campaigns} campaigns x {days} days) and {s['metadata']}; "
            f"injected events: "
            + ", ".join(f"{e['kind']} on {e['campaign_id']} from {e['start']}" for e in s["events"])
        ),
    )


@app.command()
def version() -> None:
    """Print the simkit version."""
    from simkit import __version__

    sys.stdout.write(f"{__version__}\n")


# --- commands added by later layers go below, one block each ---------------------------


# --- market: benchmarks and competitors ---------------------------------------------------


def _render_benchmarks(result: Any) -> None:
    from simkit.market.compare import format_metric

    for campaign in result.campaigns:
        table = Table(
            title=f"{campaign.campaign_id}: {campaign.industry} ({campaign.channel or '?'}), "
            f"{campaign.window_start.date()} to {campaign.window_end.date()}"
            + ("" if campaign.compared else ", not compared")
        )
        for col in (
            "metric",
            "campaign",
            "benchmark",
            "deviation",
            "published range",
            "where",
            "source",
        ):
            table.add_column(col)
        for name, m in campaign.metrics.items():
            fig = m.figure
            table.add_row(
                name.upper(),
                format_metric(name, m.value),
                format_metric(name, fig.value) if fig else "-",
                f"{m.deviation_pct:+.0f}%" if m.deviation_pct is not None else "-",
                f"{format_metric(name, fig.range_min)} - {format_metric(name, fig.range_max)}"
                if fig
                else "-",
                m.position or "-",
                (f"{fig.source_domain}, {fig.year}" + (" (all industries)" if fig.fallback else ""))
                if fig
                else "-",
            )
        console.print(table)
        console.print(campaign.explanation, highlight=False, soft_wrap=True)


def _with_metadata(loaded: Any, data: Path, mapping: Path | None, metadata: Path | None) -> Any:
    """``loaded`` with the metadata of every source merged (:mod:`simkit.metadata`)."""
    from dataclasses import replace

    from simkit.metadata import resolve_metadata

    resolved = resolve_metadata(
        loaded.campaign_ids,
        data=loaded.data,
        data_path=data,
        mapping=mapping,
        metadata_file=metadata,
    )
    return replace(loaded, campaigns=resolved.campaigns)


def _benchmarks_hint(field: str, campaign_id: str) -> str:
    option = "--industry" if field == "industry" else "--platform search|social|display"
    return (
        f"give it with {option}, or as '{field}' for {campaign_id} in a metadata file "
        "(--metadata, or <data>_meta.yaml beside the data)"
    )


@app.command()
@handle_errors
def benchmarks(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    industry: Annotated[
        str | None,
        typer.Option("--industry", "-i", help="industry (default: each campaign's metadata)"),
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option("--platform", "-p", help="search, social or display (default: metadata)"),
    ] = None,
    last_days: Annotated[
        int | None, typer.Option("--last-days", min=1, help="compare the last N days only")
    ] = None,
    campaign: Annotated[
        list[str] | None, typer.Option("--campaign", "-c", help="campaign id (repeatable)")
    ] = None,
    all_industries: Annotated[
        bool,
        typer.Option(
            "--all-industries-fallback",
            help="use all-industry figures for an unknown industry, not an error",
        ),
    ] = False,
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            "--metadata", help="campaign metadata file (default: <data>_meta.yaml|csv beside it)"
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Compare campaigns' CTR, CPC, CVR and CPA with published industry benchmarks.

    A campaign that cannot be compared (its channel has no benchmarks, say ``video``) keeps
    its row with a ``reason``; such campaigns are listed as warnings and the exit code is 0.
    """
    from simkit.data import load
    from simkit.market import compare_campaigns

    loaded = load(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
    result = compare_campaigns(
        _with_metadata(loaded, data, mapping, metadata),
        industry=industry,
        platform=platform,
        campaign_ids=campaign,
        last_days=last_days,
        unknown_industry="all_industries" if all_industries else "suggest",
        hint=_benchmarks_hint,
    )
    emit(result, fmt, _render_benchmarks)
    for line in result.warnings:
        err_console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)


def _render_competitors(payload: dict[str, Any]) -> None:
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


@app.command()
@handle_errors
def competitors(
    auction_file: Annotated[
        list[Path], typer.Argument(help="auction-insights export(s), e.g. one per month")
    ],
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="our campaign data, to relate our CPM to competitors"),
    ] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="campaign the export belongs to")
    ] = None,
    metric: Annotated[str, typer.Option(help="cpm or cpc, for the regression")] = "cpm",
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Competitors from Google Ads auction insights: threat, market share, trends, entrants."""
    from simkit.market import analyze_competitors, read_auction_insights
    from simkit.market.competitors import regress_on_competitor_pressure

    auction = read_auction_insights(auction_file)
    analysis = analyze_competitors(auction)
    pressure = None
    if data is not None:
        from simkit.data import load

        if metric not in ("cpm", "cpc"):
            raise SimkitError(f"--metric must be cpm or cpc, not '{metric}'")
        loaded = load(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
        pressure = regress_on_competitor_pressure(auction, loaded, campaign, metric=metric)  # type: ignore[arg-type]
    payload = {"analysis": analysis, "pressure": pressure}
    if fmt is Format.json:
        out = analysis.to_dict()
        out["pressure_regression"] = pressure.to_dict() if pressure is not None else None
        emit(out, fmt)
    else:
        _render_competitors(payload)


# --- risk: dips, fatigue, competitor pressure, pacing --------------------------------------


def _render_risks(report: Any) -> None:
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


@app.command()
@handle_errors
def risks(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    campaign: Annotated[
        list[str] | None, typer.Option("--campaign", "-c", help="only this campaign (repeatable)")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="use only data up to this date (YYYY-MM-DD); default: last day"
        ),
    ] = None,
    min_probability: Annotated[
        float, typer.Option("--min-probability", min=0.0, max=1.0, help="report alerts from this P")
    ] = 0.5,
    forward: Annotated[
        int | None,
        typer.Option(
            "--forward",
            min=1,
            help="also simulate the next N days: P(conversions, CPA or ROAS miss their "
            "threshold) (slow: fits a forecast per campaign)",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the --forward simulation")] = 0,
    lookback: Annotated[
        int,
        typer.Option(
            "--lookback",
            min=0,
            help="also report changes that began up to N days ago and are still in force "
            "(0: only those of the last 21 days)",
        ),
    ] = 42,  # simkit.risk.ongoing.LOOKBACK_DAYS (not imported: it would slow every command)
    fmt: FormatOption = Format.table,
) -> None:
    """Detect risks (dips, fatigue, competitor pressure, pacing) as calibrated probabilities."""

    from simkit.data import load
    from simkit.risk import detect_risks

    cut = parse_date_option(as_of, "--as-of")
    loaded = load(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
    report = detect_risks(
        loaded.data,
        loaded.campaigns,
        as_of=cut,
        campaign_ids=campaign or None,
        min_probability=min_probability,
        forward_days=forward,
        seed=seed,
        lookback_days=lookback,
    )
    emit(report, fmt, _render_risks)


# --- simulate: Monte Carlo funnel, scenarios, probabilities --------------------------------


def _render_simulation(result: Any) -> None:
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


@app.command()
@handle_errors
def simulate(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    campaign: Annotated[str, typer.Option("--campaign", "-c", help="campaign id")],
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=730, help="days to simulate")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="use only data up to this date (YYYY-MM-DD); default: last day"
        ),
    ] = None,
    daily_budget: Annotated[
        float | None, typer.Option("--daily-budget", min=0.0, help="daily budget, every day")
    ] = None,
    total_budget: Annotated[
        float | None, typer.Option("--total-budget", min=0.0, help="total budget over the horizon")
    ] = None,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="plan CSV: date, campaign_id, spend")
    ] = None,
    paths: Annotated[int, typer.Option("--paths", min=100, max=1_000_000)] = 10_000,
    seed: int = 0,
    outcome: Annotated[
        str, typer.Option("--outcome", help="conversions, revenue or roas (scenarios, bands)")
    ] = "conversions",
    goal: Annotated[
        float | None, typer.Option("--goal", help="the outcome's goal over the horizon")
    ] = None,
    target_cpa: Annotated[float | None, typer.Option("--target-cpa", min=0.0)] = None,
    target_roas: Annotated[float | None, typer.Option("--target-roas", min=0.0)] = None,
    fatigue: Annotated[
        bool, typer.Option("--fatigue/--no-fatigue", help="apply the fitted creative fatigue")
    ] = True,
    scenario_cuts: Annotated[
        str,
        typer.Option(
            "--scenario-cuts",
            help="quantiles of the outcome that split the paths into the pessimistic, "
            "realistic and optimistic scenarios, as LOW,HIGH",
        ),
    ] = "0.2,0.8",
    fmt: FormatOption = Format.table,
) -> None:
    """Simulate a campaign's next days: quantiles, totals, scenarios and probabilities."""

    from simkit.data import load
    from simkit.simulate import simulate_campaign
    from simkit.simulate.summary import OUTCOMES, check_scenario_cuts

    if outcome not in OUTCOMES:
        raise SimkitError(f"--outcome must be one of {', '.join(OUTCOMES)}, not '{outcome}'")
    cut = parse_date_option(as_of, "--as-of")
    try:
        cuts = check_scenario_cuts(tuple(float(x) for x in scenario_cuts.split(",")))
    except (ValueError, SimkitError) as exc:
        raise SimkitError(
            f"--scenario-cuts must be LOW,HIGH with 0 < LOW < HIGH < 1, such as 0.2,0.8, "
            f"not '{scenario_cuts}'"
        ) from exc
    loaded = load(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
    result = simulate_campaign(
        loaded.data,
        campaign,
        horizon,
        as_of=cut,
        daily_budget=daily_budget,
        total_budget=total_budget,
        plan_file=plan,
        n_paths=paths,
        seed=seed,
        outcome=outcome,  # type: ignore[arg-type]
        goal=goal,
        target_cpa=target_cpa,
        target_roas=target_roas,
        fatigue=fatigue,
        scenario_cuts=cuts,
    )
    emit(result, fmt, _render_simulation)


# --- forecast: rolling-origin backtests of the forecast ensemble --------------------------


def _render_backtests(results: list[Any]) -> None:
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


@app.command()
@handle_errors
def backtest(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="campaign id (or --all)")
    ] = None,
    all_campaigns: Annotated[bool, typer.Option("--all", help="every campaign")] = False,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=365, help="days ahead")] = 14,
    members: Annotated[
        str | None,
        typer.Option("--members", help="comma-separated members (default: all available)"),
    ] = None,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="conversions (default), revenue, clicks, impressions, cpm, ctr, cvr, rpc, "
            "or a driver (log_cpm, logit_ctr, logit_cvr, log_rpc)",
        ),
    ] = "conversions",
    seed: int = 0,
    country: Annotated[
        str, typer.Option("--country", help="holiday calendar (ISO code), 'none' for none")
    ] = "US",
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="forecast cache (default .simkit-cache)")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="do not read or write the cache")
    ] = False,
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Rolling-origin backtest of each forecast member and of the ensemble."""
    from simkit.data import load
    from simkit.forecast import ForecastCache, backtest_campaign
    from simkit.forecast.cache import DEFAULT_CACHE_DIR

    if (campaign is None) == (not all_campaigns):
        raise SimkitError("give exactly one of --campaign ID or --all")
    loaded = load(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
    ids = sorted(loaded.data["campaign_id"].astype(str).unique()) if all_campaigns else [campaign]
    names = [m.strip() for m in members.split(",") if m.strip()] if members else None
    cache = ForecastCache(None if no_cache else (cache_dir or DEFAULT_CACHE_DIR))
    results = [
        backtest_campaign(
            loaded.data,
            cid,
            horizon,
            names,
            seed,
            metric=metric,
            country=None if country.lower() == "none" else country,
            cache=cache,
        )
        for cid in ids
    ]
    if fmt is Format.json:
        emit([r.to_dict() for r in results] if all_campaigns else results[0], fmt)
    else:
        _render_backtests(results)
        stats = cache.stats()
        console.print(
            f"cache {stats['dir'] or 'off'}: {stats['hits']} hit(s), {stats['misses']} miss(es)",
            highlight=False,
        )


# --- run: batch reports, and the run registry ---------------------------------------------

RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="SQLAlchemy URL of the run registry (default: "
        "$SIMKIT_REGISTRY_URL or sqlite:///.simkit-cache/registry.sqlite)",
    ),
]
runs_app = typer.Typer(help="List, show and delete recorded runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@app.command()
@handle_errors
def run(
    params_file: Annotated[Path, typer.Argument(help="run parameters, e.g. params/demo.yaml")],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=1, help="worker processes (default: the number of cores)"
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address, tcp://host:port")
    ] = None,
    registry: RegistryOption = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="wait for another run writing to the same output folder"),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Execute one report per campaign (Papermill), publish them and write index.html."""
    from simkit.params import load_params
    from simkit.registry import Registry
    from simkit.runner import RunInterrupted, run_batch

    params = load_params(params_file)
    verbose = logging.getLogger().getEffectiveLevel() <= logging.INFO
    try:
        result = run_batch(
            params,
            params_file=params_file,
            workers=workers,
            scheduler=scheduler,
            registry=Registry(registry),
            progress=fmt is Format.table,
            wait=wait,
            quiet_kernels=not verbose,
        )
    except (RunInterrupted, KeyboardInterrupt):
        err_console.print(
            "interrupted: the reports already published are kept; the run is recorded as "
            "interrupted (see `simkit runs list`)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None

    def render(r: Any) -> None:
        table = Table(title=f"run {r.run_id} ({r.seconds:.1f} s)")
        for col in ("campaign", "status", "seconds", "attempts", "error"):
            table.add_column(col)
        for o in r.outcomes:
            colour = "green" if o.status == "succeeded" else "red"
            stopped = (
                " (stopped)" if o.status == "succeeded" and o.campaign_state == "stopped" else ""
            )
            table.add_row(
                o.campaign_id,
                f"[{colour}]{o.status}{stopped}[/]",
                f"{o.duration_seconds:.1f}",
                str(o.attempts),
                o.error or "",
            )
        console.print(table)
        console.print(f"index: {r.index_path}", highlight=False, soft_wrap=True)

    emit(result, fmt, render)
    if not result.ok:
        raise typer.Exit(1)


@runs_app.command("list")
@handle_errors
def runs_list(
    limit: Annotated[int, typer.Option(min=1, help="newest runs shown")] = 20,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List the latest runs, newest first."""
    from simkit.registry import Registry

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table(title="runs")
        for col in ("run", "status", "created", "campaigns", "output"):
            table.add_column(col)
        for r in rows:
            counts = ", ".join(f"{n} {s}" for s, n in sorted(r["campaigns"].items()))
            table.add_row(r["run_id"], r["status"], r["created_at"][:19], counts, r["output_dir"])
        console.print(table)

    reg = Registry(registry)
    reg.recover_dead_runs()
    emit(reg.list_runs(limit), fmt, render)


@runs_app.command("show")
@handle_errors
def runs_show(
    run_id: Annotated[str, typer.Argument(help="run id (a unique prefix is enough)")],
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show one run: parameters, hashes, and each campaign's status, paths and error."""
    from simkit.registry import Registry

    def render(r: dict[str, Any]) -> None:
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
                c["status"]
                + (f" (stopped, last day {c.get('last_date') or '?'})" if stopped else ""),
                secs,
                str(c["attempts"]),
                c["report_path"] or "-",
                c["error"] or "",
            )
        console.print(table)

    reg = Registry(registry)
    reg.recover_dead_runs()
    emit(reg.get_run(run_id), fmt, render)


@runs_app.command("delete")
@handle_errors
def runs_delete(
    run_id: Annotated[str, typer.Argument(help="run id (a unique prefix is enough)")],
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Delete a run's records from the registry (its report files stay)."""
    from simkit.registry import Registry

    deleted = Registry(registry).delete_run(run_id)
    emit({"deleted": deleted}, fmt, lambda d: console.print(f"deleted run {d['deleted']}"))


# --- pivots: response curves, budget optimiser, ranked pivots ------------------------------


class PivotObjective(StrEnum):
    conversions = "conversions"
    revenue = "revenue"
    profit = "profit"


def _render_pivots(result: Any) -> None:
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


@app.command()
@handle_errors
def pivots(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=366, help="days to simulate")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="use only data up to this date (YYYY-MM-DD)"),
    ] = None,
    total_budget: Annotated[
        float | None,
        typer.Option("--total-budget", min=0.0, help="total daily budget (default: today's sum)"),
    ] = None,
    max_change: Annotated[
        float, typer.Option("--max-change", min=0.0, max=10.0, help="largest move per budget")
    ] = 0.5,
    objective: Annotated[
        PivotObjective, typer.Option("--objective", help="what to maximise")
    ] = PivotObjective.conversions,
    min_spend: Annotated[
        float | None, typer.Option("--min-spend", min=0.0, help="least daily budget per campaign")
    ] = None,
    use_targets: Annotated[
        bool,
        typer.Option(
            "--use-targets", help="impose target_cpa / target_roas from the campaign metadata"
        ),
    ] = False,
    pivot: Annotated[
        list[str] | None, typer.Option("--pivot", help="only this pivot type (repeatable)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    paths: Annotated[int, typer.Option("--paths", min=50, help="simulation paths")] = 1000,
    fmt: FormatOption = Format.table,
) -> None:
    """Fit spend response curves, optimise the budget, and rank simulated pivots."""

    import numpy as np
    import pandas as pd

    from simkit.data import load
    from simkit.pivots import find_pivots

    cut = parse_date_option(as_of, "--as-of")
    loaded = load(data, mapping=mapping, source=source, on_bad_rows=_on_bad_rows(on_bad_rows))
    meta = loaded.campaigns if isinstance(loaded.campaigns, pd.DataFrame) else None
    targets: dict[str, dict[str, float]] = {"target_cpa": {}, "target_roas": {}}
    if use_targets:
        if meta is None or meta.empty:
            raise SimkitError("--use-targets needs campaign metadata with target_cpa/target_roas")
        for column, found in targets.items():
            if column in meta.columns:
                for cid, value in zip(meta["campaign_id"], meta[column], strict=True):
                    if pd.notna(value) and float(value) > 0:
                        found[str(cid)] = float(value)
    result = find_pivots(
        loaded.data,
        meta,
        rng=np.random.default_rng(seed),
        as_of=cut,
        horizon_days=horizon,
        total_budget=total_budget,
        max_change=max_change,
        objective=objective.value,  # type: ignore[arg-type]
        min_spend=min_spend,
        target_cpa=targets["target_cpa"] or None,
        target_roas=targets["target_roas"] or None,
        pivot_types=pivot or None,
        n_paths=paths,
    )
    emit(result, fmt, _render_pivots)


# --- dashboard: the Voila what-if dashboard -----------------------------------------------


@app.command()
@handle_errors
def dashboard(
    port: Annotated[int, typer.Option("--port", min=1024, max=65535)] = 8866,
    data: Annotated[
        Path | None, typer.Option("--data", help="CSV or Parquet file (default: the test fixture)")
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="open on the data of a recorded run (id or prefix)")
    ] = None,
    mapping: MappingOption = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="SIMKIT_DASHBOARD_TOKEN",
            show_default=False,
            help="access token (needed beyond loopback); prefer the "
            "SIMKIT_DASHBOARD_TOKEN variable, 'auto' generates one",
        ),
    ] = None,
    ip: Annotated[str, typer.Option("--ip", help="address to listen on")] = "127.0.0.1",
    paths: Annotated[int, typer.Option("--paths", min=100, max=20_000)] = 10_000,
    horizon: Annotated[int, typer.Option("--horizon", min=7, max=90)] = 30,
    seed: int = 7,
    preheat: Annotated[
        bool, typer.Option("--preheat/--no-preheat", help="keep a pre-heated kernel ready")
    ] = True,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Serve the what-if dashboard with Voila (Ctrl-C stops it)."""
    from simkit.dashboard.cli import serve_dashboard

    def render(info: dict[str, Any]) -> None:
        console.print(
            f"dashboard: {info['url']} (Voila pid {info['pid']}; Ctrl-C stops it)",
            highlight=False,
            soft_wrap=True,
        )

    serve_dashboard(
        port=port,
        data=data,
        run_id=run_id,
        mapping=mapping,
        token=token,
        ip=ip,
        n_paths=paths,
        horizon_days=horizon,
        seed=seed,
        preheat=preheat,
        registry=registry,
        announce=lambda info: emit(info, fmt, render),
    )


def main(argv: list[str] | None = None) -> None:
    """The ``simkit`` entry point: run the command line ``argv`` (default ``sys.argv[1:]``).

    Typer's own error boxes (several lines, exit 2) become one line and exit 1, naming the
    command and the option or argument at fault; a command's help exits 0.  An unexpected
    exception is one line too; ``--verbose`` adds its traceback.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    command = typer.main.get_command(app)
    code = 0
    try:
        with command.make_context("simkit", args) as ctx:
            command.invoke(ctx)
    except NoArgsIsHelpError as exc:  # `simkit` or `simkit runs` alone: the help
        sys.stdout.write(exc.format_message().rstrip("\n") + "\n")
    except UsageError as exc:
        _print_error(exc.format_message(), exc.ctx.command_path if exc.ctx else "simkit")
        code = 1
    except typer.TyperException as exc:  # the other Click errors (e.g. a file it opens)
        _print_error(exc.format_message(), "simkit")
        code = 1
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _print_error("interrupted", "simkit")
        code = 130
    except BrokenPipeError:  # `simkit ... | head`: the reader left; nothing to say
        # the interpreter flushes stdout at exit: into /dev/null, not the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("simkit").exception("unexpected error")
        hint = "" if logging.getLogger().isEnabledFor(logging.INFO) else " (--verbose shows where)"
        _print_error(f"unexpected {type(exc).__name__}: {exc}{hint}", "simkit")
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
