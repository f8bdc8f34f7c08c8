"""One run per output folder at a time: a lock file, with the holder's pid, host and run.

The lock is an OS file lock (``filelock``: ``flock`` on Linux), so it is released by the
kernel when its holder dies, even by SIGKILL: a stale lock of a dead run is simply taken
over.  Who holds it is written beside it (``.simkit.lock.json``), so a refused run can say
which run is writing and where.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from simkit.errors import SimkitError

__all__ = ["OutputFolderBusy", "RunLock"]


class OutputFolderBusy(SimkitError):
    """Another run is writing to the same output folder."""


class RunLock:
    """The lock of one output folder, held by one run."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.info_path = path.with_name(path.name + ".json")
        self.run_id = run_id
        self._lock = FileLock(str(path), thread_local=False)

    def holder(self) -> str:
        """Who holds the lock, in words (from the sidecar file; best effort)."""
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            return (
                f"run {info.get('run_id')} (pid {info.get('pid')} on {info.get('host')}, "
                f"since {info.get('since')})"
            )
        except (OSError, ValueError, AttributeError):
            return "another run"

    def acquire(self, *, wait: bool = False, on_wait: Callable[[str], None] | None = None) -> None:
        """Take the lock, or raise :class:`OutputFolderBusy` (``wait``: block until free)."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            folder = self.path.parent
            if not wait:
                raise OutputFolderBusy(
                    f"{self.holder()} is writing to {folder}; wait for it to finish, or "
                    "pass --wait to start when it does"
                ) from None
            if on_wait is not None:
                on_wait(f"waiting for {self.holder()} to finish writing to {folder}")
            self._lock.acquire(timeout=-1)
        info = {
            "run_id": self.run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = self.info_path.with_name(f".{self.info_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, self.info_path)

    @property
    def held(self) -> bool:
        """Whether this run holds the lock now."""
        return bool(self._lock.is_locked)

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        try:
            self.info_path.unlink(missing_ok=True)
        except OSError:
            pass
        self._lock.release()
