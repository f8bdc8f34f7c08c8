"""On-disk cache of fitted ensembles, keyed by a content hash.

The key is a SHA-256 of the campaign's daily history (dates, spend, drivers), the forecast
parameters (members, horizon, cutoffs, seed, holiday country, plan) and the simkit version,
so a change to any of them is a miss and nothing stale is ever served.  Storage is
:class:`joblib.Memory` (default directory ``.simkit-cache/``, git-ignored).  Every lookup is
counted: :attr:`ForecastCache.hits` / :attr:`ForecastCache.misses`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from simkit.metrics import CACHE_HITS, CACHE_MISSES

__all__ = ["DEFAULT_CACHE_DIR", "ForecastCache", "content_hash", "simkit_version"]

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = ".simkit-cache"
T = TypeVar("T")


def simkit_version() -> str:
    """The installed simkit version (part of every cache key)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simkit")
    except PackageNotFoundError:
        return "0+unknown"


def content_hash(arrays: dict[str, np.ndarray], params: dict[str, Any]) -> str:
    """SHA-256 over named arrays (dtype, shape, bytes), JSON parameters and the version."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(name.encode())
        digest.update(str(a.dtype).encode())
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    digest.update(simkit_version().encode())
    return digest.hexdigest()


def _compute(key: str, fn: Callable[[], Any]) -> Any:
    return fn()


class ForecastCache:
    """A joblib.Memory-backed cache with hit/miss counters.

    Parameters
    ----------
    directory
        Where to store; ``None`` disables caching (every call computes, counted as a miss).
    """

    def __init__(self, directory: str | Path | None = DEFAULT_CACHE_DIR) -> None:
        self.directory = None if directory is None else Path(directory)
        self.hits = 0
        self.misses = 0
        self._cached: Any = None

    def _func(self) -> Any:
        if self._cached is None:
            from joblib import Memory

            memory = Memory(location=str(self.directory), verbose=0)
            self._cached = memory.cache(_compute, ignore=["fn"])
        return self._cached

    def get_or_compute(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        """The cached value for ``key`` or ``fn()`` (stored); returns ``(value, hit)``."""
        if self.directory is None:
            self.misses += 1
            return fn(), False
        cached = self._func()
        hit = bool(cached.check_call_in_cache(key, fn))
        if hit:
            self.hits += 1
            CACHE_HITS.labels("forecast").inc()
        else:
            self.misses += 1
            CACHE_MISSES.labels("forecast").inc()
        log.info("forecast cache %s: %s", "hit" if hit else "miss", key[:12])
        return cached(key, fn), hit

    def invalidate(self, keys: list[str] | tuple[str, ...]) -> int:
        """Remove the entries stored under ``keys`` (a refit asked for by the forecast
        ledger); returns how many were there.  Unknown keys are ignored."""
        if self.directory is None or not self.directory.exists():
            return 0
        cached = self._func()
        removed = 0
        for key in keys:
            if cached.check_call_in_cache(key, None):
                cached.call_and_shelve(key, None).clear()
                removed += 1
        return removed

    def stats(self) -> dict[str, Any]:
        """``{"dir", "hits", "misses"}``."""
        return {
            "dir": None if self.directory is None else str(self.directory),
            "hits": self.hits,
            "misses": self.misses,
        }
