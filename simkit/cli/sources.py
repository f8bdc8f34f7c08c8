"""``simkit sources status``: the health of the market data sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption
from simkit.connectors.status import sources_status

group = typer.Typer()
sources_app = typer.Typer(help="Health of the market data sources.", no_args_is_help=True)
group.add_typer(sources_app, name="sources")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


@sources_app.command("status")
@handle_errors
def status(
    trends: Annotated[
        Path | None,
        typer.Option(
            "--trends", envvar="SIMKIT_TRENDS_DIR", help="folder of Google Trends CSV exports"
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Per source: configured, last success and error, latency, requests today, headroom, cache age."""
    rows = [s.to_dict() for s in sources_status(trends_dir=trends)]

    def table(data: list[dict[str, Any]]) -> None:
        t = Table(title="market data sources")
        for column in (
            "source",
            "configured",
            "last success",
            "last error",
            "p50",
            "p95",
            "today",
            "headroom",
            "cache age",
        ):
            t.add_column(column)
        for r in data:
            error = "-"
            if r["last_error"]:
                error = f"{r['last_error_at']}: {r['last_error'][:80]}"
            t.add_row(
                r["name"],
                ("yes, " if r["configured"] else "no, ") + r["configured_by"],
                r["last_success"] or "-",
                error,
                _ms(r["p50_ms"]),
                _ms(r["p95_ms"]),
                str(r["requests_today"]),
                "-" if r["headroom_pct"] is None else f"{r['headroom_pct']:.0f}%",
                _age(r["cache_age_seconds"]),
            )
        render.console.print(t)

    render.emit(rows, fmt, table)
