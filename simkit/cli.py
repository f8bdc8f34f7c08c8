"""The ``simkit`` command line: automation-friendly (``--format json``) and readable (rich).

Every command turns a :class:`~simkit.errors.SimkitError` into a one-line message on
stderr and exit code 1; ``--format json`` prints JSON only, on stdout.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

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


def handle_errors(func: F) -> F:
    """Turn expected errors into a clear message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SimkitError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
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


@app.command()
@handle_errors
def validate(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file")],
    mapping: MappingOption = None,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Check a data file against the contract and score each campaign's data quality."""
    from simkit.data import import_file
    from simkit.data import validate as run_validation

    _, report = run_validation(import_file(data, mapping=mapping, source=source))
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
    from datetime import date, timedelta

    import numpy as np

    from simkit.data.synthetic import generate as make

    try:
        last = date.fromisoformat(end) if end else date.today() - timedelta(days=1)
    except ValueError:
        raise SimkitError(f"--end '{end}' is not a date (YYYY-MM-DD)") from None
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
