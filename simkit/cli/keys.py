"""``simkit keys set|list|rotate|delete``: API keys in the OS keyring or an encrypted file.

A value is read from a hidden prompt (a terminal) or from stdin (a pipe), never from the
command line, where it would stay in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from simkit.cli import render
from simkit.cli.errors import handle_errors
from simkit.cli.options import Format, FormatOption
from simkit.errors import SimkitError
from simkit.keys import (
    delete_key,
    install_log_scrubber,
    list_keys,
    new_master_key,
    rotate_key,
    rotate_master_key,
    set_key,
    store_backend,
)

group = typer.Typer()
keys_app = typer.Typer(
    help="Store, list, rotate and delete API keys (never shown, never on the command line).",
    no_args_is_help=True,
)
group.add_typer(keys_app, name="keys")

_NAME_HELP = "key name, e.g. META_ACCESS_TOKEN, SEMRUSH_API_KEY, OPENAI_API_KEY"
# A value typed after the name lands here, so that the error does not repeat it (Click's
# "unexpected extra argument (VALUE)" would print the secret).
_Extra = Annotated[list[str] | None, typer.Argument(hidden=True, show_default=False)]


def _refuse_argv_value(extra: list[str] | None) -> None:
    if extra:
        raise SimkitError(
            "the value is never taken from the command line (it would stay in the shell "
            "history): run the command with the name only and type the value at the hidden "
            "prompt, or pipe it on stdin; clear the value from your shell history"
        )


def _read_value(name: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"value of {name} (hidden): ")
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


@keys_app.command("set")
@handle_errors
def set_(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    extra: _Extra = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Store a key: the value from a hidden prompt, or stdin when piped."""
    install_log_scrubber()
    _refuse_argv_value(extra)
    info = set_key(name, _read_value(name))
    render.emit(info, fmt, lambda i: render.console.print(f"stored {i.name} ({i.backend})"))


@keys_app.command("rotate")
@handle_errors
def rotate(
    name: Annotated[str, typer.Argument(help=_NAME_HELP)],
    extra: _Extra = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Replace a stored key's value (read like ``set``) and record the rotation."""
    install_log_scrubber()
    _refuse_argv_value(extra)
    info = rotate_key(name, _read_value(name))
    render.emit(info, fmt, lambda i: render.console.print(f"rotated {i.name} ({i.backend})"))


@keys_app.command("delete")
@handle_errors
def delete(name: Annotated[str, typer.Argument(help=_NAME_HELP)]) -> None:
    """Delete a stored key."""
    delete_key(name)
    render.console.print(f"deleted {name}")


@keys_app.command("list")
@handle_errors
def list_(fmt: FormatOption = Format.table) -> None:
    """Names, backend, created, last used and last rotated: never the values."""
    rows = list_keys()
    payload = {"store": store_backend(), "keys": [r.to_dict() for r in rows]}

    def table(data: dict) -> None:
        t = Table(title=f"keys (new keys go to: {data['store']})")
        for column in ("name", "backend", "created", "last used", "last rotated", "env"):
            t.add_column(column)
        for r in data["keys"]:
            t.add_row(
                r["name"],
                r["backend"],
                r["created"] or "-",
                r["last_used"] or "-",
                r["last_rotated"] or "-",
                "overrides" if r["env_override"] else "",
            )
        render.console.print(t)

    render.emit(payload, fmt, table)


@keys_app.command("rotate-master")
@handle_errors
def rotate_master() -> None:
    """Re-encrypt the file store with the first key of SIMKIT_MASTER_KEY (NEW,OLD)."""
    n = rotate_master_key()
    render.console.print(f"re-encrypted {n} key(s) with the first master key")


@keys_app.command("master-key")
@handle_errors
def master_key() -> None:
    """Print a new Fernet master key, for SIMKIT_MASTER_KEY (keep it out of the repo)."""
    sys.stdout.write(new_master_key() + "\n")
