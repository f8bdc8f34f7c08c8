"""``simkit validate`` and ``simkit generate``: check a data file, make synthetic data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from simkit._rng import make_rng
from simkit.cli import render, render_engines
from simkit.cli.errors import handle_errors
from simkit.cli.options import (
    Format,
    FormatOption,
    MappingOption,
    OnBadRowsOption,
    SourceOption,
    check_on_bad_rows,
    parse_date_option,
)
from simkit.data import import_file
from simkit.data import validate as run_validation
from simkit.data.synthetic import generate as make

group = typer.Typer()


@group.command()
@handle_errors
def validate(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Check a data file against the contract and score each campaign's data quality."""
    _, report = run_validation(
        import_file(
            data, mapping=mapping, source=source, on_bad_rows=check_on_bad_rows(on_bad_rows)
        )
    )
    render.emit(report, fmt, render_engines.validation)
    if not report.ok:
        raise typer.Exit(1)


@group.command()
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
    last = parse_date_option(end, "--end") or date.today() - timedelta(days=1)
    world = make(campaigns, days, rng=make_rng(seed), start=last - timedelta(days=days - 1))
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
    render.emit(summary, fmt, render.generated)
