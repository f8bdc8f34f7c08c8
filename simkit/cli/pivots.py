"""``simkit pivots``: response curves, the budget optimiser and ranked, simulated pivots."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
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
from simkit.errors import SimkitError
from simkit.pivots import find_pivots

group = typer.Typer()


class PivotObjective(StrEnum):
    conversions = "conversions"
    revenue = "revenue"
    profit = "profit"


@group.command()
@handle_errors
def pivots(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=366, help="days to simulate")],
    mapping: MappingOption = None,
    on_bad_rows: OnBadRowsOption = None,
    source: SourceOption = None,
    as_of: AsOfOption = None,
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
    cut = parse_date_option(as_of, "--as-of")
    loaded = load_data(data, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
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
        seed=seed,
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
    render.emit(result, fmt, render.pivots)
