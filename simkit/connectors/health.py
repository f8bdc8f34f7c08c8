"""The health of each source, in a small state file that ``simkit sources status`` reads.

``<cache>/sources/health.json`` keeps, per source: the last success and the last error
(when, and the error's scrubbed message), the latencies of the last
:data:`LATENCY_WINDOW` requests, the requests sent per UTC day (the last
:data:`DAYS_KEPT` days), and the rate-limit headroom the API last reported.  Writes go
through a file lock and an atomic replace, so two fetches at once do not lose a record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from simkit.connectors.cache import cache_root
from simkit.keys import scrub
from simkit.paths import atomic_write_text, ensure_inside

__all__ = ["DAYS_KEPT", "LATENCY_WINDOW", "HealthState", "latency_summary"]

LATENCY_WINDOW = 200
DAYS_KEPT = 14


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def latency_summary(latencies_ms: list[float]) -> dict[str, float | None]:
    """p50 and p95 of the recorded latencies (``None`` without any)."""
    if not latencies_ms:
        return {"p50_ms": None, "p95_ms": None}
    values = np.asarray(latencies_ms, dtype=float)
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
    }


class HealthState:
    """Read and update ``<cache>/sources/health.json``."""

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self.dir = cache_root(cache_dir) / "sources"
        self.path = self.dir / "health.json"

    def read(self) -> dict[str, dict[str, Any]]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(
        self,
        source: str,
        *,
        ok: bool,
        latency_ms: float | None = None,
        error: str | None = None,
        headroom: float | None = None,
        count: bool = True,
    ) -> None:
        """Record one request's outcome (``count=False``: a read that sent no request)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        now = _now()
        with FileLock(str(self.dir / ".lock"), timeout=30):
            state = self.read()
            entry = state.setdefault(source, {})
            if ok:
                entry["last_success"] = now.isoformat()
            else:
                entry["last_error"] = {"at": now.isoformat(), "message": scrub(error or "")}
            if latency_ms is not None:
                window = [*entry.get("latencies_ms", []), round(float(latency_ms), 2)]
                entry["latencies_ms"] = window[-LATENCY_WINDOW:]
            days = dict(entry.get("requests_per_day", {}))
            today = now.date().isoformat()
            days[today] = int(days.get(today, 0)) + int(count)
            entry["requests_per_day"] = {d: days[d] for d in sorted(days)[-DAYS_KEPT:]}
            if headroom is not None:
                entry["headroom_pct"] = round(float(headroom), 1)
                entry["headroom_at"] = now.isoformat()
            atomic_write_text(
                ensure_inside(self.dir, self.path), json.dumps(state, indent=2, sort_keys=True)
            )

    def record_read(self, source: str, *, ok: bool, error: str | None = None) -> None:
        """A file source (Trends exports) was read: success or error, no latency."""
        self.record(source, ok=ok, error=error, count=False)
