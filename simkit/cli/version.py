"""``simkit version``."""

from __future__ import annotations

import sys

import typer

from simkit import __version__

group = typer.Typer()


@group.command()
def version() -> None:
    """Print the simkit version."""
    sys.stdout.write(f"{__version__}\n")
