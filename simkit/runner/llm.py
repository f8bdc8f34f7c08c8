"""A run's model calls: one deadline for all its workers, one usage total (issue 18).

:func:`run_deadline` sets :data:`simkit.llm.client.DEADLINE_ENV` for the run's worker
processes and report kernels (they inherit the environment), so every client of the run
stops calling the model at the same moment however many campaigns it has.
:func:`run_usage` adds the campaigns' ``summary.json`` usage into the run's, for
``run.json`` and the run registry.  A Dask worker on another machine does not see the
deadline; its clients use their own ``deadline_seconds`` from their start.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar, cast

from simkit.llm import total_usage
from simkit.llm.client import DEADLINE_ENV
from simkit.params import LLMOptions, RunParams

__all__ = ["run_deadline", "run_usage", "with_run_deadline"]

F = TypeVar("F", bound=Callable[..., Any])


def _on(params: RunParams) -> bool:
    return params.llm or params.llm_member or "llm" in params.members


@contextlib.contextmanager
def run_deadline(params: RunParams) -> Iterator[None]:
    """The run's deadline in the environment while the block runs (when params use a model)."""
    if not _on(params):
        yield
        return
    seconds = (params.llm_options or LLMOptions()).deadline_seconds
    previous = os.environ.get(DEADLINE_ENV)
    os.environ[DEADLINE_ENV] = repr(time.time() + seconds)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DEADLINE_ENV, None)
        else:
            os.environ[DEADLINE_ENV] = previous


def with_run_deadline(func: F) -> F:
    """``func(params, ...)`` run inside :func:`run_deadline` ``(params)``."""

    @functools.wraps(func)
    def wrapper(params: RunParams, *args: Any, **kwargs: Any) -> Any:
        with run_deadline(params):
            return func(params, *args, **kwargs)

    return cast(F, wrapper)


def run_usage(
    params: RunParams, summaries: Iterable[dict[str, Any] | None]
) -> dict[str, Any] | None:
    """The run's model usage (the campaigns' added up), or ``None`` when no model was used."""
    if not _on(params):
        return None
    parts = [((s or {}).get("llm") or {}).get("usage") for s in summaries]
    return {"model": params.llm_model, **total_usage(parts).to_dict()}
