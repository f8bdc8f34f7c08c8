"""The one-line messages the dashboard shows instead of a traceback."""

from __future__ import annotations

from simkit.errors import SimkitError

__all__ = ["short_error"]

_MAX_MESSAGE = 240


def short_error(exc: BaseException, action: str) -> str:
    """A one-line message for the user: the message of a simkit error, else its type only."""
    if isinstance(exc, SimkitError):
        text = str(exc)
    else:
        text = f"{action} failed ({type(exc).__name__}); the details are in the server log"
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."
