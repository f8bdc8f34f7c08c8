"""The reply cache: one small interface, an on-disk implementation (diskcache).

A reply is keyed by the SHA-256 of the model, the exact messages and the reply's JSON
schema, so a changed prompt, model or schema is a miss and an identical call is answered
without a request.  Only the reply's content and its token counts are stored: never the
key, never a header.  The interface is two methods so that another store (Redis, say) can
stand in (:class:`ReplyCache`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_CACHE_DIR", "DiskReplyCache", "NoCache", "ReplyCache", "cache_key"]

#: Relative to the working folder, beside the run registry and the logs.
DEFAULT_CACHE_DIR = ".simkit-cache/llm"


def cache_key(model: str, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``(model, messages, schema)``."""
    canonical = json.dumps(
        {"model": model, "messages": messages, "schema": schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@runtime_checkable
class ReplyCache(Protocol):
    """Where replies are kept: ``get`` a stored value or ``None``, ``set`` one."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, value: dict[str, Any]) -> None: ...


class NoCache:
    """No cache: every call is a miss."""

    def get(self, key: str) -> dict[str, Any] | None:
        return None

    def set(self, key: str, value: dict[str, Any]) -> None:
        return None


class DiskReplyCache:
    """Replies in a diskcache folder (safe across the run's worker processes).

    Values are stored as JSON text, so the folder holds nothing a reader could not read.
    """

    def __init__(self, directory: str | Path = DEFAULT_CACHE_DIR) -> None:
        import diskcache  # only when a cache is used

        self.directory = Path(directory)
        self._cache = diskcache.Cache(str(self.directory / "replies"))

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._cache.get(key)
        if not isinstance(raw, str):
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def set(self, key: str, value: dict[str, Any]) -> None:
        self._cache.set(key, json.dumps(value, sort_keys=True))

    def close(self) -> None:
        self._cache.close()
