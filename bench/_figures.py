"""Bench figures as JSON, with the machine's description (``make bench``, ``bench/compare.py``).

One file holds the figures of one or more benches::

    {"machine": {...}, "when": "...", "benches": {"batch_scale": {"figures": {...},
     "settings": {...}, "load": [before, after], "higher_is_better": [...]}}}

A figure is a number named after what it measures, with its unit in the name
(``wall_seconds``, ``peak_rss_mib``); lower is better unless it is listed in
``higher_is_better``.  :func:`write_figures` merges into an existing file, so several
benches can write to one.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["machine", "write_figures"]


def machine() -> dict[str, Any]:
    """What the figures were measured on (figures from two machines do not compare)."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": memory,
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def write_figures(
    path: str | Path,
    bench: str,
    figures: dict[str, float],
    *,
    settings: dict[str, Any] | None = None,
    load: tuple[float, float] | None = None,
    higher_is_better: tuple[str, ...] = (),
    output: str | None = None,
) -> Path:
    """Add ``bench``'s figures to the JSON file at ``path`` (created if absent)."""
    path = Path(path)
    doc: dict[str, Any] = {}
    if path.is_file():
        doc = json.loads(path.read_text())
    doc.setdefault("machine", machine())
    doc.setdefault("when", datetime.now(UTC).isoformat(timespec="seconds"))
    entry: dict[str, Any] = {
        "figures": {k: float(v) for k, v in figures.items()},
        "settings": settings or {},
        "higher_is_better": list(higher_is_better),
    }
    if load is not None:
        entry["load"] = list(load)
    if output is not None:
        entry["output"] = output
    doc.setdefault("benches", {})[bench] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
