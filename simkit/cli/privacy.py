"""``simkit export``, ``simkit purge`` and ``simkit gc``: privacy on request and retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, RegistryOption
from simkit.errors import SimkitError
from simkit.ops import Stores, export, gc, purge, subject
from simkit.params import load_params

group = typer.Typer()

CampaignOption = Annotated[str | None, typer.Option("--campaign", help="the campaign id (exact)")]
ClientOption = Annotated[
    str | None,
    typer.Option("--client", help="every campaign whose metadata field 'client' is NAME"),
]


def _print(lines: list[str]) -> None:
    for line in lines:
        render.console.print(line, highlight=False, markup=False, soft_wrap=True)


@group.command("export")
@handle_errors
def export_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="the zip file to write")],
    campaign: CampaignOption = None,
    client: ClientOption = None,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Export everything simkit holds about a campaign or client to a zip file."""
    stores = Stores.open(registry)
    who = subject(stores, campaign=campaign, client=client)
    manifest = export(stores, who, output)

    def show(m: dict[str, Any]) -> None:
        _print([f"exported {who.label} ({len(m['files'])} files) to {output}"])

    render.emit(manifest, fmt, show)


@group.command("purge")
@handle_errors
def purge_cmd(
    campaign: CampaignOption = None,
    client: ClientOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="really delete (there is no undo but a backup)")
    ] = False,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Delete everything simkit holds about a campaign or client, everywhere."""
    stores = Stores.open(registry)
    who = subject(stores, campaign=campaign, client=client)
    if not yes:
        raise SimkitError(
            f"purging {who.label} ({len(who.campaigns)} campaign(s)) cannot be undone: add --yes"
        )
    result = purge(stores, who)

    def show(r: Any) -> None:
        rows = sum(r.rows_deleted.values())
        _print(
            [
                f"purged {who.label}: {rows} registry rows, {len(r.runs_deleted)} runs, "
                f"{r.folders_deleted} report folders, {r.cache_entries_deleted} cache "
                f"entries, {r.files_deleted} files deleted; {r.files_scrubbed} files and "
                f"{sum(r.rows_scrubbed.values())} rows scrubbed; recorded in the audit log"
            ]
        )

    render.emit(result, fmt, show)


@group.command("gc")
@handle_errors
def gc_cmd(
    params_file: Annotated[
        Path | None,
        typer.Argument(help="run parameters whose retention_days applies (or give --days)"),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="retention in days (overrides params)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="list what would be removed, remove nothing")
    ] = False,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Remove runs, reports and cache entries older than retention_days."""
    retention = days
    if retention is None and params_file is not None:
        retention = load_params(params_file).retention_days
    if retention is None:
        raise SimkitError("no retention: set retention_days in the params file, or give --days N")
    result = gc(Stores.open(registry), retention_days=retention, dry_run=dry_run)

    def show(r: Any) -> None:
        verb = "would remove" if r.dry_run else "removed"
        lines = [
            f"{verb} {len(r.runs)} runs, {len(r.reports)} reports, {r.cache_entries} cache "
            f"entries and {len(r.files)} files older than {r.older_than}"
        ]
        lines += [f"  run {run_id}" for run_id in r.runs]
        lines += [f"  report {path}" for path in r.reports]
        _print(lines)

    render.emit(result, fmt, show)
