"""The options several commands share, declared once.

Every command group imports this module, so it imports no engine (the one way a command
reads data, which loads pandas, is :mod:`simkit.cli.reading`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from simkit.errors import SimkitError


def positive(value: float | None) -> float | None:
    """An option's value above 0 (a target CPA or ROAS of 0 is a typo, not a target)."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be above 0, not {value:g}")
    return value


__all__ = [
    "AsOfOption",
    "Format",
    "FormatOption",
    "MappingOption",
    "OnBadRowsOption",
    "RegistryOption",
    "SourceOption",
    "check_on_bad_rows",
    "parse_date_option",
]


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people, json for machines")
]
MappingOption = Annotated[
    Path | None, typer.Option("--mapping", "-m", help="column-mapping YAML for generic files")
]
OnBadRowsOption = Annotated[
    str | None,
    typer.Option(
        "--on-bad-rows",
        help="rows with empty or unreadable required cells: error (the default, or the "
        "mapping's on_bad_rows) or skip (each skipped row is listed in the repairs)",
        show_default=False,
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="force an importer: simkit, google_ads, meta_ads, generic"),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="use only data up to this date (YYYY-MM-DD); default: last day"),
]
RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="SQLAlchemy URL of the run registry (default: "
        "$SIMKIT_REGISTRY_URL or sqlite:///.simkit-cache/registry.sqlite)",
    ),
]


def check_on_bad_rows(value: str | None) -> Any:
    """The ``--on-bad-rows`` value, checked (``None``: the mapping's choice, else error)."""
    if value is not None and value not in ("error", "skip"):
        raise SimkitError(f"--on-bad-rows is 'error' or 'skip', not '{value}'")
    return value


def parse_date_option(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date; a clear error names the option otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SimkitError(f"{option} '{value}' is not a date (YYYY-MM-DD)") from None
