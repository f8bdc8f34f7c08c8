"""``simkit run``: one report per campaign, published (``simkit runs`` is :mod:`simkit.cli.history`)."""

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
    summary_only: Annotated[
        bool,
        typer.Option(
            "--summary-only",
            help="compute every campaign's engines and write summary.json only: no "
            "notebook, no HTML report (as publish: summary in the params)",
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Execute one report per campaign (Papermill), publish them and write index.html."""
    params = load_params(params_file)
    if registry:  # the reports read their forecast ledger from it (workers inherit it)
        os.environ["SIMKIT_REGISTRY_URL"] = registry
    if summary_only:
        params = params.model_copy(update={"publish": "summary"})
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
