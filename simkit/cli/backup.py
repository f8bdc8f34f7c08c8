"""``simkit backup DIR`` and ``simkit restore DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, RegistryOption
from simkit.ops import Stores, backup, restore

group = typer.Typer()


@group.command("backup")
@handle_errors
def backup_cmd(
    folder: Annotated[Path, typer.Argument(help="a new (or empty) folder for the backup")],
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Back up the registry, the reports and the audit log, with a manifest of hashes."""
    manifest = backup(Stores.open(registry), folder)

    def show(m: dict[str, Any]) -> None:
        rows = sum(m["rows"].values())
        render.console.print(
            f"backed up {rows} registry rows, {len(m['output_dirs'])} output folders and "
            f"the audit log to {folder} ({len(m['files'])} files, SHA-256 in manifest.json)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    render.emit(manifest, fmt, show)


@group.command("restore")
@handle_errors
def restore_cmd(
    folder: Annotated[Path, typer.Argument(help="a folder written by `simkit backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="replace a registry or report folder that exists")
    ] = False,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Restore a backup: check every hash, then put everything back where it was."""
    manifest = restore(Stores.open(registry), folder, force=force)

    def show(m: dict[str, Any]) -> None:
        render.console.print(
            f"restored the backup of {m['created_at']} ({len(m['files'])} files, every "
            "hash checked)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    render.emit(manifest, fmt, show)
