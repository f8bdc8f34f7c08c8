"""``simkit risks``: dips, fatigue, competitor pressure and pacing as calibrated probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import (
    AsOfOption,
    Format,
    FormatOption,
    MappingOption,
    OnBadRowsOption,
    SourceOption,
    parse_date_option,
)
from simkit.cli.reading import load_data
from simkit.risk import detect_risks
from simkit.risk.ongoing import LOOKBACK_DAYS

group = typer.Typer()


@group.command()
@handle_errors
def risks(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    campaign: Annotated[
        list[str] | None, typer.Option("--campaign", "-c", help="only this campaign (repeatable)")
    ] = None,
    as_of: AsOfOption = None,
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
    ] = LOOKBACK_DAYS,
    fmt: FormatOption = Format.table,
) -> None:
    """Detect risks (dips, fatigue, competitor pressure, pacing) as calibrated probabilities."""
    cut = parse_date_option(as_of, "--as-of")
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
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
    render.emit(report, fmt, render.risks)
