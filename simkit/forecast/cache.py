"""On-disk cache of fitted ensembles, keyed by a content hash.

The key is a SHA-256 of the campaign's daily history (dates, spend, drivers), the forecast
parameters (members, horizon, cutoffs, seed, holiday country, plan) and the simkit version,
so a change to any of them is a miss and nothing stale is ever served.  Storage is
:class:`joblib.Memory` (default directory ``.simkit-cache/``, git-ignored), or Redis when
``SIMKIT_CACHE_URL=redis://...`` names a shared cache (:mod:`simkit.cache`; entries expire
after ``ttl_seconds``, default 7 days).  When that Redis is down, the disk serves and one
warning says so.  Every lookup is counted: :attr:`ForecastCache.hits` /
:attr:`ForecastCache.misses`.

The values are pickles of simkit's own results: a shared Redis must be private to the
team that writes it (a password, TLS with ``rediss://``, a private network), as any
pickle store must.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from simkit.cache import CacheUnavailable, RedisCache, cache_url, warn_unavailable
from simkit.metrics import CACHE_HITS, CACHE_MISSES

__all__ = ["DEFAULT_CACHE_DIR", "ForecastCache", "content_hash", "simkit_version"]

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = ".simkit-cache"
#: How long a fitted forecast stays in a shared (Redis) cache.
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
_UNSET: Any = object()
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
    """A joblib.Memory-backed cache (or Redis, see the module) with hit/miss counters.

    Parameters
    ----------
    directory
        Where to store; ``None`` disables caching (every call computes, counted as a miss).
    url
        A shared cache (``redis://...``); default ``SIMKIT_CACHE_URL``, read when the cache
        is first used.  Without one, the disk only.
    ttl_seconds
        Expiry of entries in the shared cache.
    """

    def __init__(
        self,
        directory: str | Path | None = DEFAULT_CACHE_DIR,
        *,
        url: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.directory = None if directory is None else Path(directory)
        self.url = url
        self.ttl_seconds = ttl_seconds
        self.hits = 0
        self.misses = 0
        self._cached: Any = None
        self._redis: Any = _UNSET

    def _func(self) -> Any:
        if self._cached is None:
            from joblib import Memory

            memory = Memory(location=str(self.directory), verbose=0)
            self._cached = memory.cache(_compute, ignore=["fn"])
        return self._cached

    def _remote(self) -> RedisCache | None:
        """The shared cache, opened on first use; ``None`` without one, or when down."""
        if self._redis is _UNSET:
            self._redis = None
            url = cache_url(self.url)
            if url is not None and self.directory is not None:
                try:
                    remote = RedisCache(url, "forecast", default_ttl=self.ttl_seconds)
                    remote.ping()
                    self._redis = remote
                except CacheUnavailable as why:
                    warn_unavailable(url, why, self.directory)
        return self._redis

    def _lost(self, remote: RedisCache, why: CacheUnavailable) -> None:
        warn_unavailable(remote.url, why, self.directory or ".")
        self._redis = None

    def _from_remote(self, key: str, fn: Callable[[], T]) -> tuple[T, bool] | None:
        """``(value, hit)`` through Redis, or ``None`` when it is down (then: the disk)."""
        import pickle

        remote = self._remote()
        if remote is None:
            return None
        try:
            raw = remote.get(key)
        except CacheUnavailable as why:
            self._lost(remote, why)
            return None
        if raw is not None:
            self.hits += 1
            log.info("forecast cache hit (shared): %s", key[:12])
            return pickle.loads(raw), True  # noqa: S301 - simkit's own results, see above
        value = fn()
        self.misses += 1
        log.info("forecast cache miss (shared): %s", key[:12])
        try:
            remote.set(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except CacheUnavailable as why:
            self._lost(remote, why)
        return value, False

    def get_or_compute(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        """The cached value for ``key`` or ``fn()`` (stored); returns ``(value, hit)``."""
        if self.directory is None:
            self.misses += 1
            return fn(), False
        shared = self._from_remote(key, fn)
        if shared is not None:
            return shared
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
        if self.directory is None:
            return 0
        removed = 0
        remote = self._remote()
        if remote is not None:
            try:
                removed += remote.delete(list(keys))
            except CacheUnavailable as why:
                self._lost(remote, why)
        if not self.directory.exists():
            return removed
        cached = self._func()
        for key in keys:
            if cached.check_call_in_cache(key, None):
                cached.call_and_shelve(key, None).clear()
                removed += 1
        return removed

    @property
    def backend(self) -> str | None:
        """``redis``, ``disk``, or ``None`` (caching off)."""
        if self.directory is None:
            return None
        return "redis" if self._redis not in (None, _UNSET) else "disk"

    def stats(self) -> dict[str, Any]:
        """``{"dir", "hits", "misses", "backend"}``."""
        return {
            "dir": None if self.directory is None else str(self.directory),
            "hits": self.hits,
            "misses": self.misses,
            "backend": self.backend,
        }
