"""One run per output folder: the lock refuses, waits, and takes over from a dead holder."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simkit.runner.lock import OutputFolderBusy, RunLock

_HOLD = """
import sys, time
from pathlib import Path
from simkit.runner.lock import RunLock
lock = RunLock(Path(sys.argv[1]), "20260101T000000Z-aaaaaa")
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def _holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    proc.stdout.close()
    return proc


def test_a_second_run_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    holder = _holder(tmp_path / ".simkit.lock", 60)
    try:
        lock = RunLock(tmp_path / ".simkit.lock", "20260101T000000Z-bbbbbb")
        with pytest.raises(
            OutputFolderBusy,
            match=rf"run 20260101T000000Z-aaaaaa \(pid {holder.pid} on .*--wait",
        ):
            lock.acquire()
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    holder = _holder(tmp_path / ".simkit.lock", 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = RunLock(tmp_path / ".simkit.lock", "20260101T000000Z-bbbbbb")
    lock.acquire()
    assert "20260101T000000Z-bbbbbb" in lock.holder()
    lock.release()
    assert not (tmp_path / ".simkit.lock.json").exists()


def test_wait_starts_when_the_holder_finishes(tmp_path: Path) -> None:
    holder = _holder(tmp_path / ".simkit.lock", 1.5)
    messages: list[str] = []
    lock = RunLock(tmp_path / ".simkit.lock", "20260101T000000Z-bbbbbb")
    t0 = time.monotonic()
    lock.acquire(wait=True, on_wait=messages.append)
    waited = time.monotonic() - t0
    lock.release()
    holder.wait()
    assert waited > 0.5, waited
    assert len(messages) == 1 and messages[0].startswith("waiting for run 20260101T000000Z-aaaaaa")
