"""``simkit benchmarks`` and ``simkit competitors``: the campaigns against the market."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from simkit.cli import render, render_engines
from simkit.cli.errors import handle_errors
from simkit.cli.options import (
    Format,
    FormatOption,
    MappingOption,
    OnBadRowsOption,
    SourceOption,
)
from simkit.cli.reading import load_data
from simkit.errors import SimkitError
from simkit.market import analyze_competitors, compare_campaigns, read_auction_insights
from simkit.market.competitors import regress_on_competitor_pressure
from simkit.metadata import resolve_metadata

group = typer.Typer()


def _with_metadata(loaded: Any, data: Path, mapping: Path | None, metadata: Path | None) -> Any:
    """``loaded`` with the metadata of every source merged (:mod:`simkit.metadata`)."""
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


@group.command()
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
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    result = compare_campaigns(
        _with_metadata(loaded, data, mapping, metadata),
        industry=industry,
        platform=platform,
        campaign_ids=campaign,
        last_days=last_days,
        unknown_industry="all_industries" if all_industries else "suggest",
        hint=_benchmarks_hint,
    )
    render.emit(result, fmt, render_engines.benchmarks)
    for line in result.warnings:
        render.warn(line)


@group.command()
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
    auction = read_auction_insights(auction_file)
    analysis = analyze_competitors(auction)
    pressure = None
    if data is not None:
        if metric not in ("cpm", "cpc"):
            raise SimkitError(f"--metric must be cpm or cpc, not '{metric}'")
        loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
        pressure = regress_on_competitor_pressure(auction, loaded, campaign, metric=metric)  # type: ignore[arg-type]
    payload = {"analysis": analysis, "pressure": pressure}
    if fmt is Format.json:
        out = analysis.to_dict()
        out["pressure_regression"] = pressure.to_dict() if pressure is not None else None
        render.emit(out, fmt)
    else:
        render.competitors(payload)
