"""``simkit audit show|verify``: read and check the audit log (:mod:`simkit.audit`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from simkit import audit as audit_log
from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, RegistryOption
from simkit.errors import SimkitError

group = typer.Typer()
audit_app = typer.Typer(help="Show and verify the audit log.", no_args_is_help=True)
group.add_typer(audit_app, name="audit")

LogOption = Annotated[
    Path | None,
    typer.Option(
        "--log",
        help="the audit log (default: $SIMKIT_AUDIT_PATH, else audit.jsonl beside the registry)",
    ),
]


def _path(log: Path | None, registry: str | None) -> Path:
    return log if log is not None else audit_log.audit_path(registry)


def _show(rows: list[dict[str, Any]]) -> None:
    fixed = ("seq", "at", "event", "hash", "prev")
    for row in rows:
        rest = {k: v for k, v in row.items() if k not in fixed}
        detail = json.dumps(rest, sort_keys=True, ensure_ascii=False)
        render.console.print(
            f"{row['seq']:>6}  {row['at'][:19]}  {row['event']:<18} {detail}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if not rows:
        render.console.print("no audit entries", highlight=False)


@audit_app.command("show")
@handle_errors
def audit_show(
    since: Annotated[
        str | None, typer.Option("--since", help="from this date or time on (ISO 8601)")
    ] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="only the entries about this campaign")
    ] = None,
    log: LogOption = None,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show the audit log's entries, oldest first."""
    rows = audit_log.entries(_path(log, registry), since=since, campaign=campaign)
    render.emit(rows, fmt, _show)


@audit_app.command("verify")
@handle_errors
def audit_verify(
    log: LogOption = None,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Check every line's hash and the chain; name a changed or deleted line."""
    result = audit_log.verify(_path(log, registry))
    if fmt is Format.json:
        render.emit(result, fmt)
        if not result.ok:
            raise typer.Exit(1)
        return
    if not result.ok:
        raise SimkitError(f"{result.path}: {result.problem}")
    render.console.print(
        f"OK {result.path}: {result.n_lines} lines, the chain is intact",
        highlight=False,
        markup=False,
    )
