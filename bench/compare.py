"""Compare two bench result files (``make bench`` writes them): flag every figure that got
more than 20% worse.

Usage::

    .venv/bin/python bench/compare.py OLD.json NEW.json [--tolerance 0.2]

For each figure present in both files (``benches.<bench>.figures.<name>``): lower is
better unless the bench lists the figure in ``higher_is_better``.  A figure is flagged
``WORSE`` when it moved the wrong way by more than the tolerance (relative to OLD).  The
two machines' descriptions are printed, and a warning when they differ (figures from two
machines do not compare).  Exit code: 1 when any figure is flagged, else 0; 2 for an
unreadable file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any


def _read(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"compare: error: {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benches"), dict):
        raise SystemExit(f"compare: error: {path}: not a bench result file (no 'benches')")
    return doc


def compare(old: dict[str, Any], new: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """One row per figure in both files: ``{"bench", "figure", "old", "new", "change",
    "worse"}`` (``change``: relative, positive = worse)."""
    rows = []
    for bench, entry in sorted(new["benches"].items()):
        before = old["benches"].get(bench)
        if not before:
            continue
        higher = set(entry.get("higher_is_better", [])) | set(before.get("higher_is_better", []))
        for name, value in sorted(entry.get("figures", {}).items()):
            if name not in before.get("figures", {}):
                continue
            was = float(before["figures"][name])
            now = float(value)
            if not (math.isfinite(was) and math.isfinite(now)) or was == 0:
                change = 0.0 if was == now else math.inf
            else:
                change = (now - was) / abs(was)
            if name in higher:
                change = -change
            rows.append(
                {
                    "bench": bench,
                    "figure": name,
                    "old": was,
                    "new": now,
                    "change": change,
                    "worse": change > tolerance,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--tolerance", type=float, default=0.2, help="relative, default 0.2")
    args = parser.parse_args(argv)
    old, new = _read(args.old), _read(args.new)
    print(f"old: {args.old} ({old.get('when')}) on {json.dumps(old.get('machine'))}")
    print(f"new: {args.new} ({new.get('when')}) on {json.dumps(new.get('machine'))}")
    keys = ("cpus", "cpu", "memory_gib")
    if {k: (old.get("machine") or {}).get(k) for k in keys} != {
        k: (new.get("machine") or {}).get(k) for k in keys
    }:
        print("warning: the machines differ; these figures do not compare", file=sys.stderr)
    rows = compare(old, new, args.tolerance)
    if not rows:
        print("no figure in common")
        return 0
    width = max(len(f"{r['bench']}.{r['figure']}") for r in rows)
    for r in rows:
        flag = "WORSE" if r["worse"] else ""
        print(
            f"{r['bench'] + '.' + r['figure']:<{width}}  {r['old']:>12.4g} -> {r['new']:>12.4g}"
            f"  {r['change']:>+8.1%}  {flag}"
        )
    worse = [r for r in rows if r["worse"]]
    print(f"{len(worse)} of {len(rows)} figures more than {args.tolerance:.0%} worse")
    return 1 if worse else 0


if __name__ == "__main__":
    raise SystemExit(main())
