"""``simkit db upgrade`` and ``simkit db current``: the registry database's schema."""

from __future__ import annotations

from typing import Any

import typer

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption, RegistryOption
from simkit.registry import Registry

group = typer.Typer()
db_app = typer.Typer(
    help="The registry database's schema (Alembic migrations).", no_args_is_help=True
)
group.add_typer(db_app, name="db")


def _show(state: dict[str, Any]) -> None:
    at = state["current"] or (
        "none (tables made before migrations: `simkit db upgrade` upgrades them in place)"
        if state.get("legacy")
        else "none"
    )
    note = " (up to date)" if state["current"] == state["head"] else ""
    render.console.print(
        f"{state['url']}: schema revision {at}{note}; this simkit's newest is {state['head']}",
        highlight=False,
        soft_wrap=True,
    )
    if state.get("before", state["current"]) != state["current"]:
        render.console.print(f"upgraded from {state['before'] or 'none'}", highlight=False)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(registry: RegistryOption = None, fmt: FormatOption = Format.table) -> None:
    """Bring the registry database to this simkit's newest schema (an older one is
    upgraded in place, never recreated)."""
    before = Registry.inspect_schema(registry)["current"]
    reg = Registry(registry)  # opening applies the migrations
    after = reg.schema()
    reg.close()
    render.emit({**after, "before": before}, fmt, _show)


@db_app.command("current")
@handle_errors
def db_current(registry: RegistryOption = None, fmt: FormatOption = Format.table) -> None:
    """Show the registry database's schema revision and this simkit's newest (read only)."""
    render.emit(Registry.inspect_schema(registry), fmt, _show)
