"""``simkit dashboard``: serve the Voila what-if dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, MappingOption, RegistryOption
from simkit.dashboard.cli import serve_dashboard

group = typer.Typer()


@group.command()
@handle_errors
def dashboard(
    port: Annotated[int, typer.Option("--port", min=1024, max=65535)] = 8866,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="CSV or Parquet file (default: the bundled three-campaign sample)"
        ),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="open on the data of a recorded run (id or prefix)")
    ] = None,
    mapping: MappingOption = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="SIMKIT_DASHBOARD_TOKEN",
            show_default=False,
            help="access token (needed beyond loopback); prefer the "
            "SIMKIT_DASHBOARD_TOKEN variable, 'auto' generates one",
        ),
    ] = None,
    ip: Annotated[str, typer.Option("--ip", help="address to listen on")] = "127.0.0.1",
    paths: Annotated[int, typer.Option("--paths", min=100, max=20_000)] = 10_000,
    horizon: Annotated[int, typer.Option("--horizon", min=7, max=90)] = 30,
    seed: int = 7,
    preheat: Annotated[
        bool, typer.Option("--preheat/--no-preheat", help="keep a pre-heated kernel ready")
    ] = True,
    certfile: Annotated[
        Path | None, typer.Option("--certfile", help="PEM certificate: serve HTTPS")
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option("--keyfile", help="PEM private key of --certfile")
    ] = None,
    registry: RegistryOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Serve the what-if dashboard with Voila (Ctrl-C stops it)."""
    serve_dashboard(
        port=port,
        data=data,
        run_id=run_id,
        mapping=mapping,
        token=token,
        ip=ip,
        n_paths=paths,
        horizon_days=horizon,
        seed=seed,
        preheat=preheat,
        registry=registry,
        certfile=certfile,
        keyfile=keyfile,
        announce=lambda info: render.emit(info, fmt, render.dashboard_started),
    )
