"""The client a report's forecast member uses while the report's engines run.

A forecast member is built by name by the ensemble (:func:`simkit.forecast.members.make_member`)
with only the ensemble-wide settings, so the report hands it the run's client through a
context variable: ``with llm_session(client): forecast_campaign(...)``.  Outside a session
the member has no client and fails, and the ensemble's fallback stands in with a warning.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from simkit.llm.client import LLMClient

__all__ = ["current_client", "llm_session"]

_CLIENT: ContextVar[LLMClient | None] = ContextVar("simkit_llm_client", default=None)


@contextlib.contextmanager
def llm_session(client: LLMClient | None) -> Iterator[LLMClient | None]:
    """Make ``client`` the current one inside the block."""
    token = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(token)


def current_client() -> LLMClient | None:
    """The client of the enclosing :func:`llm_session`, if any."""
    return _CLIENT.get()
