"""A small shared cache: get and set bytes with a TTL, in Redis or on disk.

``SIMKIT_CACHE_URL=redis://host:6379/0`` (read when a cache is opened, never at import)
makes every process of a team share one Redis: fitted forecasts
(:class:`simkit.forecast.ForecastCache`), and LLM replies and connector responses through
the same interface.  Without it, or when Redis cannot be reached, the cache is a folder on
disk (``.simkit-cache/shared/<namespace>/``, :mod:`diskcache`), and one warning says so:
a cache that is down slows simkit down, it never stops it.

Usage::

    from simkit.cache import open_cache

    cache = open_cache("llm")                      # namespace: keys never collide across uses
    raw = cache.get(key)                           # bytes, or None (absent or expired)
    if raw is None:
        raw = call_the_api().encode()
        cache.set(key, raw, ttl_seconds=86_400)    # None: the namespace's default TTL

Keys are any strings (hash the request into one); values are bytes (JSON or pickle, the
caller's choice: unpickle only what simkit itself wrote).  A Redis URL may hold a
password: it is shown only masked.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from simkit.errors import ParamsError

__all__ = [
    "CACHE_URL_VAR",
    "Cache",
    "CacheUnavailable",
    "DiskCache",
    "RedisCache",
    "SharedCache",
    "cache_url",
    "masked",
    "open_cache",
    "warn_unavailable",
]

log = logging.getLogger(__name__)

#: The environment variable naming the shared cache (``redis://`` or ``rediss://``).
CACHE_URL_VAR = "SIMKIT_CACHE_URL"
DEFAULT_DIR = ".simkit-cache"
#: Seconds a Redis operation may take before Redis counts as down.
_TIMEOUT_SECONDS = 2.0
#: The URLs already warned about in this process (one warning each).
_warned: set[str] = set()


class CacheUnavailable(Exception):
    """The cache's server cannot be reached (the caller falls back to disk)."""


class Cache(Protocol):
    """What every cache offers."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None: ...


def cache_url(url: str | None = None) -> str | None:
    """The shared cache's URL: the argument, else ``SIMKIT_CACHE_URL``, else ``None``."""
    return url or os.environ.get(CACHE_URL_VAR) or None


def masked(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DiskCache:
    """A cache in a folder (:class:`diskcache.Cache`), safe across processes."""

    def __init__(self, directory: str | Path, *, default_ttl: float | None = None) -> None:
        import diskcache

        self.directory = Path(directory)
        self.default_ttl = default_ttl
        self._store = diskcache.Cache(str(self.directory))

    def get(self, key: str) -> bytes | None:
        value = self._store.get(_digest(key))
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        ttl = self.default_ttl if ttl_seconds is None else ttl_seconds
        self._store.set(_digest(key), bytes(value), expire=ttl)

    def close(self) -> None:
        self._store.close()


class RedisCache:
    """A cache in Redis, every key under ``simkit:<namespace>:``.

    Raises :class:`CacheUnavailable` when Redis cannot be reached or answers with an error.
    """

    def __init__(self, url: str, namespace: str, *, default_ttl: float | None = None) -> None:
        try:
            import redis
        except ImportError as exc:  # the redis extra
            raise CacheUnavailable("the redis package is not installed") from exc
        self.url = url
        self.prefix = f"simkit:{namespace}:"
        self.default_ttl = default_ttl
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
        )

    def _call(self, what: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, what)(*args, **kwargs)
        except self._errors as exc:
            raise CacheUnavailable(f"{type(exc).__name__}") from None

    def ping(self) -> None:
        self._call("ping")

    def get(self, key: str) -> bytes | None:
        value = self._call("get", self.prefix + _digest(key))
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        ttl = self.default_ttl if ttl_seconds is None else ttl_seconds
        px = None if ttl is None else max(1, int(ttl * 1000))
        self._call("set", self.prefix + _digest(key), bytes(value), px=px)

    def delete(self, keys: list[str]) -> int:
        """Remove ``keys``; returns how many were there."""
        if not keys:
            return 0
        return int(self._call("delete", *(self.prefix + _digest(k) for k in keys)))

    def close(self) -> None:
        self._client.close()


class SharedCache:
    """Redis when it answers, else the disk: the first failure logs one warning (per URL
    and process) and every later call goes to the disk."""

    def __init__(self, remote: RedisCache | None, disk: DiskCache) -> None:
        self.remote = remote
        self.disk = disk

    @property
    def backend(self) -> str:
        """``redis`` or ``disk``: where the next call goes."""
        return "redis" if self.remote is not None else "disk"

    def _down(self, why: CacheUnavailable) -> None:
        assert self.remote is not None
        warn_unavailable(self.remote.url, why, self.disk.directory)
        self.remote = None

    def get(self, key: str) -> bytes | None:
        if self.remote is not None:
            try:
                return self.remote.get(key)
            except CacheUnavailable as why:
                self._down(why)
        return self.disk.get(key)

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        if self.remote is not None:
            try:
                self.remote.set(key, value, ttl_seconds=ttl_seconds)
                return
            except CacheUnavailable as why:
                self._down(why)
        self.disk.set(key, value, ttl_seconds=ttl_seconds)


def open_cache(
    namespace: str,
    *,
    directory: str | Path = DEFAULT_DIR,
    url: str | None = None,
    default_ttl: float | None = None,
) -> SharedCache:
    """The cache for ``namespace``: Redis at ``url`` (default ``SIMKIT_CACHE_URL``) when it
    answers, else ``<directory>/shared/<namespace>`` on disk.

    ``default_ttl`` (seconds, ``None``: no expiry) applies to every ``set`` that names no
    TTL.  An unsupported URL scheme is an error; an unreachable Redis is a warning.
    """
    if not namespace.replace("_", "").replace("-", "").isalnum():
        raise ParamsError(f"a cache namespace is letters, digits, - and _, not {namespace!r}")
    disk = DiskCache(Path(directory) / "shared" / namespace, default_ttl=default_ttl)
    url = cache_url(url)
    if url is None:
        return SharedCache(None, disk)
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ParamsError(
            f"{CACHE_URL_VAR} must be a redis:// or rediss:// URL, not {masked(url)}",
            field=CACHE_URL_VAR,
        )
    try:
        remote = RedisCache(url, namespace, default_ttl=default_ttl)
        remote.ping()
    except CacheUnavailable as why:
        warn_unavailable(url, why, disk.directory)
        return SharedCache(None, disk)
    return SharedCache(remote, disk)


def warn_unavailable(url: str, why: CacheUnavailable, directory: str | Path) -> None:
    """One warning per URL and process: Redis is down, the disk serves."""
    shown = masked(url)
    if shown not in _warned:
        _warned.add(shown)
        log.warning(
            "shared cache %s is unavailable (%s): using the disk cache in %s", shown, why, directory
        )
