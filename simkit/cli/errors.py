"""How a command fails: one line on stderr, ``simkit <command>: error: <message>``, exit 1.

:func:`handle_errors` wraps every command; :func:`simkit.cli.app.main` turns the errors
Typer finds in the command line into the same one line.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

# Typer vendors Click (as typer._click): the current context lives there
from typer._click.globals import get_current_context

from simkit.errors import SimkitError

__all__ = ["error_line", "handle_errors", "print_error"]

F = TypeVar("F", bound=Callable[..., Any])


def error_line(message: object, command: str | None = None) -> str:
    """``simkit <command>: error: <message>`` on one line (the message's lines joined)."""
    if command is None:
        ctx = get_current_context(silent=True)
        command = ctx.command_path if ctx is not None else "simkit"
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    return f"{command}: error: {text or type(message).__name__}"


def print_error(message: object, command: str | None = None) -> None:
    """Write :func:`error_line` to stderr."""
    sys.stderr.write(error_line(message, command) + "\n")
    sys.stderr.flush()


def handle_errors(func: F) -> F:
    """Turn expected errors into a one-line message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SimkitError as exc:
            print_error(exc)
            raise typer.Exit(1) from None
        except MemoryError as exc:
            detail = f": {exc}" if str(exc) else ""
            print_error(f"out of memory{detail} (ask for less: fewer paths, a shorter horizon)")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            print_error("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
