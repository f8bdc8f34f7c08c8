"""The dashboard's operations side: abuse limits, and what it records (audit, metrics).

* **Concurrent simulations per kernel**: :class:`SimulationSlots`, a non-blocking
  semaphore; a preview asked for while :data:`MAX_CONCURRENT_SIMULATIONS` already run in
  this page is refused with a message instead of queueing more work on the kernel.
* **Runs per hour from the new-run form**: :func:`claim_run_slot`, a sliding window over
  the last hour kept in ``.simkit-cache/dashboard-runs/started.json`` (under a file lock,
  so every kernel of the server shares it); beyond :data:`MAX_RUNS_PER_HOUR` the form says
  when the next run may start.  ``SIMKIT_DASHBOARD_MAX_RUNS_PER_HOUR`` and
  ``SIMKIT_DASHBOARD_MAX_SIMULATIONS`` override the limits (read at call time).
* **Sessions and previews** go to the audit log by token identity
  (``SIMKIT_DASHBOARD_TOKEN_ID``, a hash set by ``simkit dashboard``; never the token), and
  previews to the metrics (count and latency).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from simkit import audit, metrics, telemetry
from simkit.errors import SimkitError

__all__ = [
    "MAX_CONCURRENT_SIMULATIONS",
    "MAX_RUNS_PER_HOUR",
    "TOKEN_ID_VAR",
    "LimitReached",
    "SimulationSlots",
    "claim_run_slot",
    "record_preview",
    "record_session",
]

log = logging.getLogger(__name__)

MAX_CONCURRENT_SIMULATIONS = 2
MAX_RUNS_PER_HOUR = 6
TOKEN_ID_VAR = "SIMKIT_DASHBOARD_TOKEN_ID"
_WINDOW_SECONDS = 3600.0


class LimitReached(SimkitError):
    """An abuse limit of the dashboard is reached; the message says what to do."""


def _limit(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


class SimulationSlots:
    """At most ``limit`` simulations at once in one kernel (non-blocking)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit or _limit("SIMKIT_DASHBOARD_MAX_SIMULATIONS", MAX_CONCURRENT_SIMULATIONS)
        self._slots = threading.BoundedSemaphore(self.limit)

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise LimitReached(
                f"{self.limit} simulations are already running in this page: wait for them "
                "to finish, then press Preview again"
            )
        try:
            yield
        finally:
            self._slots.release()


def claim_run_slot(workdir: Path, *, limit: int | None = None, now: float | None = None) -> int:
    """Count a run started from the form; :class:`LimitReached` when the last hour holds
    ``limit`` already.  Returns how many runs the window now holds."""
    limit = limit or _limit("SIMKIT_DASHBOARD_MAX_RUNS_PER_HOUR", MAX_RUNS_PER_HOUR)
    now = time.time() if now is None else now
    state = Path(workdir) / ".simkit-cache" / "dashboard-runs" / "started.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(state) + ".lock", timeout=10):
        try:
            stamps = [float(t) for t in json.loads(state.read_text())]
        except (OSError, ValueError, TypeError):
            stamps = []
        recent = sorted(t for t in stamps if now - t < _WINDOW_SECONDS)
        if len(recent) >= limit:
            free_at = datetime.fromtimestamp(recent[0] + _WINDOW_SECONDS, UTC)
            raise LimitReached(
                f"at most {limit} runs an hour can be started from the dashboard; the next "
                f"one can start at {free_at:%H:%M} UTC (or run `simkit run` yourself)"
            )
        recent.append(now)
        state.write_text(json.dumps(recent))
    return len(recent)


def _audit_path(workdir: Path) -> Path:
    url = os.environ.get("SIMKIT_REGISTRY_URL") or (
        f"sqlite:///{Path(workdir) / '.simkit-cache' / 'registry.sqlite'}"
    )
    return audit.audit_path(url)


def _record(event: str, workdir: Path, **fields: object) -> None:
    try:
        audit.record(
            event, path=_audit_path(workdir), token_id=os.environ.get(TOKEN_ID_VAR), **fields
        )
    except SimkitError as exc:  # the page keeps working; the operator sees the warning
        log.warning("audit log: %s", exc)


def record_session(workdir: Path, *, data: str | None = None, run_id: str | None = None) -> None:
    """A dashboard page opened (a kernel started on the notebook)."""
    _record("dashboard.session", workdir, data=Path(data).name if data else None, run_id=run_id)


def record_preview(workdir: Path | None, *, campaign_id: str, seconds: float, pivot: str) -> None:
    """A what-if preview computed: the metrics, and the audit log (unless ``workdir`` is
    ``None``: an app built without a working folder)."""
    metrics.DASHBOARD_PREVIEWS.inc()
    metrics.DASHBOARD_PREVIEW_LATENCY.observe(max(0.0, seconds))
    telemetry.track("preview", seconds=round(seconds, 3))
    if workdir is None:
        return
    _record("dashboard.preview", workdir, campaign_id=campaign_id, pivot=pivot, seconds=seconds)
