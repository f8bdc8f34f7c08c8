"""``simkit enrich``: market series onto the campaign-day panel, scored and flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import (
    Format,
    FormatOption,
    MappingOption,
    OnBadRowsOption,
    SourceOption,
)
from simkit.cli.reading import load_data
from simkit.connectors.enrich import (
    MARKET_COLUMNS,
    enrich_panel,
    read_links,
    with_market_columns,
)
from simkit.connectors.output import check_output, write_frame, write_json
from simkit.connectors.trends import TrendsFolderSource
from simkit.data.panel import CampaignPanel
from simkit.errors import DataError, ParamsError, SimkitError
from simkit.forecast.market_regressors import choose_market_regressors
from simkit.metadata import resolve_metadata

group = typer.Typer()


def _report_path(output: Path) -> Path:
    return output.with_name(output.name + ".enrichment.json")


@group.command()
@handle_errors
def enrich(
    data: Annotated[Path, typer.Argument(help="campaign data (CSV or Parquet)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="enriched CSV to write")],
    trends: Annotated[
        Path | None,
        typer.Option(
            "--trends", envvar="SIMKIT_TRENDS_DIR", help="folder of Google Trends CSV exports"
        ),
    ] = None,
    keywords: Annotated[
        Path | None, typer.Option("--keywords", help="keywords file from `simkit fetch semrush`")
    ] = None,
    links: Annotated[
        Path | None,
        typer.Option(
            "--links", help="campaign -> topics/phrases YAML (default <data>_market.yaml)"
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="weekly/monthly to daily: step or linear")
    ] = "step",
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest/--no-backtest",
            help="backtest each market column as a forecast regressor, with vs without",
        ),
    ] = False,
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="backtest horizon days")] = 14,
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Merge market series (Trends, keywords) onto the campaign-day panel, scored.

    Writes the present campaign-days with ``mkt_*`` columns (value, flag, method,
    quality) to OUTPUT and the per-series quality, fallback and (``--backtest``) the
    regressor decisions to ``OUTPUT.enrichment.json``.
    """
    if trends is None and keywords is None:
        raise SimkitError("give --trends DIR and/or --keywords FILE: nothing to merge")
    if method not in ("step", "linear"):
        raise ParamsError(f"--method {method!r}: step or linear", field="method")
    check_output(output, _report_path(output))
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    meta = resolve_metadata(
        loaded.campaign_ids, data=loaded.data, data_path=data, mapping=mapping, metadata_file=None
    ).campaigns
    links_path = links or data.with_name(f"{data.stem}_market.yaml")
    if not links_path.is_file():
        raise DataError(
            "no links file: give --links, or write <data>_market.yaml beside the data "
            "(campaigns: {ID: {topics: [...], phrases: [...]}}, industries: {...})",
            file=str(links_path),
        )
    panel = CampaignPanel.from_data(loaded.data)
    meta_frame = meta if isinstance(meta, pd.DataFrame) else None
    resolved = read_links(links_path, panel.ids, meta_frame)
    series = []
    source_notes: list[str] = []
    if trends is not None:
        folder = TrendsFolderSource(trends)
        series = folder.series()
        source_notes += folder.notes
    kw = None
    if keywords is not None:
        try:
            kw = pd.read_csv(keywords)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read ({type(exc).__name__})", file=str(keywords)) from None
    result = enrich_panel(panel, links=resolved, trends=series, keywords=kw, method=method)
    result.notes[:0] = source_notes
    payload: dict[str, Any] = {
        "data": str(data),
        "output": str(output),
        "links": str(links_path),
        "trends": str(trends) if trends else None,
        "keywords": str(keywords) if keywords else None,
        "method": method,
        **result.to_dict(),
    }
    if backtest:
        enriched = with_market_columns(panel, result.frame)
        columns = [c for c in MARKET_COLUMNS if result.frame[c].notna().any()]
        tied = [c for c in panel.ids if c in resolved.topics or c in resolved.phrases]
        report = choose_market_regressors(enriched, tied, columns, horizon_days=horizon)
        payload["regressors"] = report.to_dict()
    # written once everything is computed: a failing backtest leaves no half of the pair
    write_frame(result.frame, output)
    write_json(payload, _report_path(output))
    render.emit(payload, fmt, _table)
    for note in result.notes:
        render.warn(note)


def _table(payload: dict[str, Any]) -> None:
    t = Table(title=f"market series merged ({payload['output']})")
    for column in ("campaign", "column", "terms", "method", "quality", "covered", "fallback"):
        t.add_column(column)
    for s in payload["series"]:
        t.add_row(
            s["campaign_id"],
            s["column"],
            ", ".join(s["terms"]),
            s["method"],
            f"{s['score']:.1f}",
            f"{s['coverage']:.0%}",
            s["fallback"],
        )
    render.console.print(t)
    regressors = payload.get("regressors")
    if regressors:
        r = Table(title=f"forecast backtest ({regressors['horizon_days']}-day horizon, sarimax)")
        for column in (
            "campaign",
            "column",
            "MAE without",
            "MAE with",
            "ratio",
            "wins",
            "decision",
        ):
            r.add_column(column)
        for d in regressors["decisions"]:
            r.add_row(
                d["campaign_id"],
                d["column"],
                "-" if d["mae_without"] is None else f"{d['mae_without']:.2f}",
                "-" if d["mae_with"] is None else f"{d['mae_with']:.2f}",
                "-" if d["ratio"] is None else f"{d['ratio']:.3f}",
                f"{d['wins']}/{d['n_cutoffs']}",
                "used"
                if d["used"]
                else "not used: "
                + d["reason"].split(": ")[-1].replace("not used", "no gain").strip(),
            )
        render.console.print(r)
