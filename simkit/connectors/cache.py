"""The response cache behind one small interface: diskcache today, another store later.

A :class:`ResponseCache` maps a request's key (a hash of the request without its
credential: :meth:`simkit.connectors.base.Connector.cache_key`) to the reply's status,
headers and body, stored with the time it was stored.  Entries never expire inside the
store: the connector decides what is fresh (its source's TTL), and an older entry is the
"stale cache" step of the fallback.  Bodies are scrubbed of credentials before they are
stored.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import diskcache

__all__ = ["CachedReply", "DiskResponseCache", "ResponseCache", "cache_root"]

_HEADERS_KEPT = ("content-type", "x-business-use-case-usage", "x-app-usage", "x-ad-account-usage")


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The folder of simkit's caches (``.simkit-cache`` or ``$SIMKIT_CACHE_DIR``)."""
    return Path(cache_dir or os.environ.get("SIMKIT_CACHE_DIR") or ".simkit-cache")


@dataclass(frozen=True)
class CachedReply:
    """A stored reply; ``age_seconds`` is filled in when it is read."""

    status: int
    headers: dict[str, str]
    text: str
    stored_at: float = field(default_factory=time.time)
    age_seconds: float = 0.0


class ResponseCache(Protocol):
    """What a connector needs of a cache."""

    def get(self, key: str) -> CachedReply | None: ...

    def set(self, key: str, reply: CachedReply) -> None: ...

    def newest_age_seconds(self) -> float | None: ...

    def close(self) -> None: ...


class DiskResponseCache:
    """:mod:`diskcache` under ``<cache>/http/<source>``, opened on first use and kept open
    until :meth:`close` (opening the SQLite index per request costs ~50 ms)."""

    def __init__(self, source: str, cache_dir: str | Path | None = None) -> None:
        self.path = cache_root(cache_dir) / "http" / source
        self._cache: diskcache.Cache | None = None

    def _open(self) -> diskcache.Cache:
        if self._cache is None:
            self._cache = diskcache.Cache(str(self.path))
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def get(self, key: str) -> CachedReply | None:
        if self._cache is None and not self.path.is_dir():
            return None
        raw = self._open().get(key)
        if not isinstance(raw, dict):
            return None
        return CachedReply(
            status=int(raw["status"]),
            headers=dict(raw["headers"]),
            text=str(raw["text"]),
            stored_at=float(raw["stored_at"]),
            age_seconds=max(0.0, time.time() - float(raw["stored_at"])),
        )

    def set(self, key: str, reply: CachedReply) -> None:
        headers = {k: v for k, v in reply.headers.items() if k.lower() in _HEADERS_KEPT}
        cache = self._open()
        cache.set(
            key,
            {
                "status": reply.status,
                "headers": headers,
                "text": reply.text,
                "stored_at": reply.stored_at,
            },
        )
        cache.set("__newest__", reply.stored_at)

    def newest_age_seconds(self) -> float | None:
        was_open = self._cache is not None
        if not was_open and not self.path.is_dir():
            return None
        newest = self._open().get("__newest__")
        if not was_open:
            self.close()
        return None if newest is None else max(0.0, time.time() - float(newest))
