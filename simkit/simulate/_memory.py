"""How many Monte Carlo paths fit in memory, checked before the engine allocates them.

A simulation keeps five float32 counts per path and day (20 bytes), and its summary sorts
and divides copies of them.  Peak resident memory measured for ``simkit simulate`` (one
campaign, 90 days, 100,000 and 1,000,000 paths: 0.93 and 3.24 GB) grows by 29 bytes per
path and day; :data:`BYTES_PER_PATH_DAY` rounds that up.  Without the check, Linux's
over-commit lets the arrays be "allocated" and the process is killed later, with no
message at all; with it, the error says how many paths would fit.
"""

from __future__ import annotations

import os
from pathlib import Path

from simkit.errors import OutOfMemoryError

__all__ = ["BYTES_PER_PATH_DAY", "available_memory_bytes", "check_paths_fit", "paths_error"]

#: peak bytes per path and simulated day of a simulation and its summary (measured 29)
BYTES_PER_PATH_DAY = 32
#: per path, whatever the horizon (exhaustion flags and days, sort scratch)
BYTES_PER_PATH = 64
#: share of the available memory a simulation may plan to use (the rest: the process itself)
_USABLE_SHARE = 0.8
_MEMINFO = Path("/proc/meminfo")


_CGROUP = Path("/sys/fs/cgroup")


def _cgroup_headroom() -> int | None:
    """What this process's cgroup (v2) still allows, ``memory.max - memory.current``, or
    ``None`` without a limit: in a container ``MemAvailable`` shows the host's memory."""
    try:
        limit = (_CGROUP / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((_CGROUP / "memory.current").read_text().strip()), 0)
    except (OSError, ValueError):
        return None


def available_memory_bytes() -> int | None:
    """Memory available to this process now: Linux ``MemAvailable``, or less when a cgroup
    limit leaves less; ``None`` if unknown."""
    system: int | None = None
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                system = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if system is None:
        try:
            system = int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            system = None
    limits = [m for m in (system, _cgroup_headroom()) if m is not None]
    return min(limits) if limits else None


def _bytes_needed(n_paths: int, horizon_days: int) -> int:
    return n_paths * (horizon_days * BYTES_PER_PATH_DAY + BYTES_PER_PATH)


def _round_down(n: int) -> int:
    """Two significant digits, rounded down (a figure to type, not a promise)."""
    if n < 100:
        return n
    step = 10 ** (len(str(n)) - 2)
    return n // step * step


def paths_error(n_paths: int, horizon_days: int, available: int) -> OutOfMemoryError:
    """The error for ``n_paths`` over ``horizon_days`` with ``available`` bytes of memory."""
    needed = _bytes_needed(n_paths, horizon_days)
    usable = int(available * _USABLE_SHARE)
    n_fit = _round_down(max(usable // _bytes_needed(1, horizon_days), 0))
    if available <= 0:  # the memory available could not be read
        return OutOfMemoryError(
            f"{n_paths:,} paths over {horizon_days} days need about {needed / 1e9:.1f} GB of "
            "memory, more than this process could allocate: try fewer paths",
            needed_bytes=needed,
            available_bytes=available,
            n_fit=0,
        )
    return OutOfMemoryError(
        f"{n_paths:,} paths over {horizon_days} days need about {needed / 1e9:.1f} GB of "
        f"memory and {available / 1e9:.1f} GB is available: about {n_fit:,} paths would fit",
        needed_bytes=needed,
        available_bytes=available,
        n_fit=n_fit,
    )


def check_paths_fit(n_paths: int, horizon_days: int, available: int | None = None) -> None:
    """Raise :class:`~simkit.errors.OutOfMemoryError` if the simulation would not fit.

    ``available`` defaults to :func:`available_memory_bytes` (no check when it is unknown).
    """
    available = available_memory_bytes() if available is None else available
    if available is not None and _bytes_needed(n_paths, horizon_days) > available * _USABLE_SHARE:
        raise paths_error(n_paths, horizon_days, available)
