"""The health of every source, as ``simkit sources status`` and the dashboard show it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simkit.connectors.base import SourceSpec
from simkit.connectors.cache import DiskResponseCache
from simkit.connectors.health import HealthState, latency_summary
from simkit.connectors.meta import META
from simkit.connectors.semrush import SEMRUSH
from simkit.connectors.trends import TrendsFolderSource
from simkit.keys import has_key

__all__ = ["SOURCES", "SourceStatus", "sources_status"]

#: The HTTP sources simkit knows, by name.
SOURCES: dict[str, SourceSpec] = {"meta": META, "semrush": SEMRUSH}


@dataclass(frozen=True)
class SourceStatus:
    """One source's health."""

    name: str
    configured: bool
    configured_by: str
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    p50_ms: float | None
    p95_ms: float | None
    requests_today: int
    headroom_pct: float | None
    headroom_at: str | None
    cache_age_seconds: float | None
    limits: str
    cache_ttl_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sources_status(
    *, cache_dir: str | Path | None = None, trends_dir: str | Path | None = None
) -> list[SourceStatus]:
    """Every source: configured?, last success and error, latency p50/p95, requests
    today, rate-limit headroom (when the API reported it), the cache's age.

    Reads the health state and the caches only: it sends no request and reads no key's
    value (``configured`` asks whether the key exists).
    """
    state = HealthState(cache_dir).read()
    today = datetime.now(UTC).date().isoformat()
    out = []
    for name, spec in SOURCES.items():
        entry = state.get(name, {})
        configured = bool(spec.key_name and has_key(spec.key_name, cache_dir=cache_dir))
        out.append(
            _status(
                name,
                entry,
                today,
                configured=configured,
                configured_by=f"key {spec.key_name}"
                + ("" if configured else " not set (`simkit keys set`)"),
                cache_age=DiskResponseCache(name, cache_dir).newest_age_seconds(),
                limits=spec.limits,
                ttl=spec.cache_ttl_seconds,
            )
        )
    folder = trends_dir or os.environ.get("SIMKIT_TRENDS_DIR")
    trends = TrendsFolderSource(folder, cache_dir=cache_dir) if folder else None
    configured = bool(trends and trends.folder.is_dir())
    out.append(
        _status(
            "trends",
            state.get("trends", {}),
            today,
            configured=configured,
            configured_by=(
                f"folder {folder}" + ("" if configured else " (missing)")
                if folder
                else "no folder (--trends DIR or SIMKIT_TRENDS_DIR)"
            ),
            cache_age=trends.newest_age_seconds() if trends else None,
            limits="none: CSV exports from the Trends site, kept current by the user",
            ttl=None,
        )
    )
    return out


def _status(
    name: str,
    entry: dict[str, Any],
    today: str,
    *,
    configured: bool,
    configured_by: str,
    cache_age: float | None,
    limits: str,
    ttl: float | None,
) -> SourceStatus:
    latency = latency_summary(entry.get("latencies_ms", []))
    error = entry.get("last_error") or {}
    return SourceStatus(
        name=name,
        configured=configured,
        configured_by=configured_by,
        last_success=entry.get("last_success"),
        last_error=error.get("message"),
        last_error_at=error.get("at"),
        p50_ms=latency["p50_ms"],
        p95_ms=latency["p95_ms"],
        requests_today=int(entry.get("requests_per_day", {}).get(today, 0)),
        headroom_pct=entry.get("headroom_pct"),
        headroom_at=entry.get("headroom_at"),
        cache_age_seconds=cache_age,
        limits=limits,
        cache_ttl_seconds=ttl,
    )
