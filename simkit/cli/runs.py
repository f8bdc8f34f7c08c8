"""``simkit run`` (one report per campaign, published) and ``simkit runs`` (the registry)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, RegistryOption
from simkit.params import load_params
from simkit.registry import Registry
from simkit.runner import RunInterrupted, run_batch

group = typer.Typer()
runs_app = typer.Typer(help="List, show and delete recorded runs.", no_args_is_help=True)
group.add_typer(runs_app, name="runs")


@group.command()
@handle_errors
def run(
    params_file: Annotated[Path, typer.Argument(help="run parameters, e.g. params/demo.yaml")],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=1, help="worker processes (default: the number of cores)"
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address, tcp://host:port")
    ] = None,
    registry: RegistryOption = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="wait for another run writing to the same output folder"),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Execute one report per campaign (Papermill), publish them and write index.html."""
    params = load_params(params_file)
    if registry:  # the reports read their forecast ledger from it (workers inherit it)
        os.environ["SIMKIT_REGISTRY_URL"] = registry
    verbose = logging.getLogger().getEffectiveLevel() <= logging.INFO
    try:
        result = run_batch(
            params,
            params_file=params_file,
            workers=workers,
            scheduler=scheduler,
            registry=Registry(registry),
            progress=fmt is Format.table,
            wait=wait,
            quiet_kernels=not verbose,
        )
    except (RunInterrupted, KeyboardInterrupt):
        render.err_console.print(
            "interrupted: the reports already published are kept; the run is recorded as "
            "interrupted (see `simkit runs list`)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None

    render.emit(result, fmt, render.run_result)
    if not result.ok:
        raise typer.Exit(1)


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
