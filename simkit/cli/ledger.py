"""``simkit ledger``: the forecasts as issued, scored against actuals, compared, judged.

Its tables are printed here (they belong to this group only); JSON goes through
:func:`simkit.cli.render.emit` like every command's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import (
    Format,
    FormatOption,
    MappingOption,
    OnBadRowsOption,
    RegistryOption,
    SourceOption,
)
from simkit.cli.reading import load_data
from simkit.errors import SimkitError
from simkit.forecast.cache import DEFAULT_CACHE_DIR
from simkit.ledger import (
    Ledger,
    compare_challengers,
    give_feedback,
    score_ledger,
)

group = typer.Typer()
ledger_app = typer.Typer(
    help="The forecast ledger: list, show, score, compare and give feedback.",
    no_args_is_help=True,
)
group.add_typer(ledger_app, name="ledger")

DataArgument = Annotated[Path, typer.Argument(help="the data, now with actuals (CSV or Parquet)")]


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.0%}"


def _num(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _print_scores(result: Any) -> None:
    console = render.console
    if not result.forecasts:
        console.print(
            f"No recorded forecast has actuals yet ({result.unscored} waiting).", highlight=False
        )
        return
    table = Table(title="Forecasts scored")
    for column in ("forecast", "campaign", "config", "as of", "days", "cov 50", "cov 80"):
        table.add_column(column)
    for column in ("cov 90", "MASE", "CRPS", "bias"):
        table.add_column(column, justify="right")
    for s in result.forecasts:
        table.add_row(
            s.forecast_id,
            s.campaign_id,
            s.config,
            s.as_of,
            str(s.days_scored),
            _pct(s.coverage_50),
            _pct(s.coverage_80),
            _pct(s.coverage_90),
            _num(s.mase),
            _num(s.crps),
            _pct(s.bias),
        )
    console.print(table)
    models = Table(title="By model configuration")
    for column in ("config", "forecasts", "days", "cov 80", "MASE", "CRPS", "bias"):
        models.add_column(column)
    for m in result.models:
        models.add_row(
            m["config"],
            str(m["forecasts"]),
            str(m["days_scored"]),
            _pct(m["coverage_80"]),
            _num(m["mase"]),
            _num(m["crps"]),
            _pct(m["bias"]),
        )
    console.print(models)
    if result.alerts:
        for a in result.alerts:
            console.print(
                f"[red]alert[/] {a['campaign_id']} {a['metric']}: {a['kind']} since {a['since']}",
                highlight=False,
            )
        for r in result.refits:
            console.print(
                f"  {r['campaign_id']}: cached fits invalidated ({r['cache_entries_removed']} "
                "entries); its next run refits",
                highlight=False,
            )
    else:
        console.print("No degradation or drift alert.", highlight=False)
    if result.unscored:
        console.print(f"{result.unscored} forecast(s) have no actuals yet.", highlight=False)


@ledger_app.command("score")
@handle_errors
def ledger_score(
    data: DataArgument,
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    registry: RegistryOption = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", help="forecast cache whose fits an alert invalidates"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="score and print, record nothing")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Score every recorded forecast whose days have actuals; append scores and alerts."""
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    result = score_ledger(
        loaded.data,
        url=registry,
        record=not dry_run,
        cache_dir=cache_dir or DEFAULT_CACHE_DIR,
    )
    render.emit(result, fmt, _print_scores)


@ledger_app.command("list")
@handle_errors
def ledger_list(
    campaign: Annotated[str | None, typer.Option("--campaign", "-c", help="one campaign")] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="champion or a challenger's name")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="newest forecasts shown")] = 50,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List recorded forecasts, newest first."""
    rows = Ledger(registry).list_forecasts(campaign_id=campaign, config=config, limit=limit)

    def show(items: list[dict[str, Any]]) -> None:
        if not items:
            render.console.print("The ledger holds no forecast yet.", highlight=False)
            return
        table = Table(title="Recorded forecasts")
        for column in ("forecast", "campaign", "config", "as of", "days", "source", "issued"):
            table.add_column(column)
        for r in items:
            table.add_row(
                r["forecast_id"],
                r["campaign_id"],
                r["config"],
                r["as_of"],
                str(r["horizon_days"]),
                r["source"],
                r["issued_at"][:19],
            )
        render.console.print(table)

    render.emit(rows, fmt, show)


@ledger_app.command("show")
@handle_errors
def ledger_show(
    forecast_id: Annotated[str, typer.Argument(help="forecast id (a unique prefix is enough)")],
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show one forecast: quantiles, totals, members, plan, provenance, scores, feedback."""
    ledger = Ledger(registry)
    row = ledger.get_forecast(forecast_id)
    row["scores"] = ledger.list_scores(forecast_id=row["forecast_id"])
    for s in row["scores"]:
        s.pop("per_day", None)
    row["feedback"] = ledger.list_feedback(target_id=row["forecast_id"])

    def show(r: dict[str, Any]) -> None:
        console = render.console
        console.print(
            f"{r['forecast_id']}: campaign {r['campaign_id']} ({r['config']}), as of "
            f"{r['as_of']}, {r['horizon_days']} days of {r['metric']} from {r['start_date']}",
            highlight=False,
        )
        total = (r["totals"].get(r["metric"]) or {}) if r["totals"] else {}
        console.print(
            f"  total p10 {_num(total.get('p10'), 0)}, p50 {_num(total.get('p50'), 0)}, "
            f"p90 {_num(total.get('p90'), 0)}; members {', '.join(r['members']) or '-'}; "
            f"seed {r['seed']}; simkit {r['simkit_version']}; source {r['source']}",
            highlight=False,
        )
        console.print(
            f"  params {r['params_hash'][:12]}, data {r['data_hash'][:12]}", highlight=False
        )
        for s in r["scores"]:
            console.print(
                f"  scored {s['scored_at'][:19]}: {s['days_scored']} days, 80% coverage "
                f"{_pct(s['coverage_80'])}, MASE {_num(s['mase'])}, CRPS {_num(s['crps'])}",
                highlight=False,
            )
        for f in r["feedback"]:
            verdict = "useful" if f["useful"] else "not useful"
            console.print(
                f"  feedback {f['given_at'][:19]} by {f['given_by']}: {verdict}"
                + (f": {f['note']}" if f["note"] else ""),
                highlight=False,
            )

    render.emit(row, fmt, show)


@ledger_app.command("compare")
@handle_errors
def ledger_compare(
    data: DataArgument,
    challenger: Annotated[
        str | None, typer.Option("--challenger", help="one challenger (default: every one)")
    ] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", "-c", help="one campaign")] = None,
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Champion against challenger(s): paired Wilcoxon test on the same days' CRPS."""
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    results = compare_challengers(
        loaded.data, url=registry, challenger=challenger, campaign_id=campaign
    )

    def show(items: list[Any]) -> None:
        if not items:
            render.console.print("No challenger is recorded in the ledger.", highlight=False)
            return
        for c in items:
            render.console.print(
                f"{c.challenger} vs {c.champion}: {c.verdict} ({c.pairs} paired days, "
                f"CRPS {_num(c.challenger_crps)} vs {_num(c.champion_crps)}, change "
                f"{_pct(c.relative_change)}, rank-biserial {_num(c.rank_biserial)}, "
                f"p = {_num(c.p_value, 4)})",
                highlight=False,
            )

    if fmt is Format.json:
        render.emit([c.to_dict() for c in results], fmt)
    else:
        show(results)


@ledger_app.command("feedback")
@handle_errors
def ledger_feedback(
    target: Annotated[
        str,
        typer.Argument(help="a forecast id (or unique prefix), or pivot:CAMPAIGN:PIVOT_TYPE"),
    ],
    useful: Annotated[
        bool | None,
        typer.Option("--useful/--not-useful", help="was it useful?", show_default=False),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="what the reader saw")] = None,
    by: Annotated[str | None, typer.Option("--by", help="who (default: the OS user)")] = None,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Mark a forecast or a pivot recommendation useful or not, with a note."""
    if useful is None:
        raise SimkitError("say --useful or --not-useful")
    row = give_feedback(target, useful=useful, note=note, by=by, url=registry)
    render.emit(
        row,
        fmt,
        lambda r: render.console.print(
            f"feedback {r['id']} stored on {r['target_kind']} {r['target_id']} by {r['given_by']}",
            highlight=False,
        ),
    )
