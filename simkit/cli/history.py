"""``simkit runs list|show|delete``: the run registry.

Apart from ``simkit run`` (:mod:`simkit.cli.runs`), so that reading the registry does not
import the runner and the engines behind it: ``simkit runs list`` answers in well under a
second with 10,000 runs recorded (``bench/registry_scale.py``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, RegistryOption
from simkit.registry import Registry

group = typer.Typer()
runs_app = typer.Typer(help="List, show and delete recorded runs.", no_args_is_help=True)
group.add_typer(runs_app, name="runs")


@runs_app.command("list")
@handle_errors
def runs_list(
    limit: Annotated[int, typer.Option(min=1, help="newest runs shown")] = 20,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List the latest runs, newest first."""
    reg = Registry(registry)
    reg.recover_dead_runs()
    render.emit(reg.list_runs(limit), fmt, render.runs_list)


@runs_app.command("show")
@handle_errors
def runs_show(
    run_id: Annotated[str, typer.Argument(help="run id (a unique prefix is enough)")],
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show one run: parameters, hashes, and each campaign's status, paths and error."""
    reg = Registry(registry)
    reg.recover_dead_runs()
    render.emit(reg.get_run(run_id), fmt, render.run_detail)


@runs_app.command("delete")
@handle_errors
def runs_delete(
    run_id: Annotated[str, typer.Argument(help="run id (a unique prefix is enough)")],
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Delete a run's records from the registry (its report files stay)."""
    deleted = Registry(registry).delete_run(run_id)
    render.emit({"deleted": deleted}, fmt, render.run_deleted)
