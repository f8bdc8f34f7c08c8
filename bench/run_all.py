"""``make bench``: every bench script, its output printed and its figures written as JSON.

Each ``bench/*.py`` (this file, ``compare.py`` and ``_*.py`` aside) runs in its own process;
its wall time and peak RSS become figures (``wall_seconds``, ``peak_rss_mib``), its printed
output is kept in the file, and a script that takes ``--json PATH`` adds its own figures
there.  The file (default ``bench-results/<UTC time>.json``) holds the machine's description;
``bench/compare.py OLD NEW`` flags any figure more than 20% worse.

Run: ``PYTHONPATH=. .venv/bin/python bench/run_all.py [--out PATH] [--only NAME ...]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _figures import write_figures  # noqa: E402

BENCH = Path(__file__).resolve().parent
#: Scripts that write their own figures with ``--json PATH``.
WITH_JSON = {"batch_scale", "registry_scale"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    parser.add_argument("--out", default=str(BENCH.parent / "bench-results" / f"{stamp}.json"))
    parser.add_argument("--only", nargs="*", default=None, help="bench names (file stems)")
    args = parser.parse_args()
    scripts = sorted(
        p
        for p in BENCH.glob("*.py")
        if not p.name.startswith("_") and p.stem not in ("compare", "run_all")
    )
    if args.only:
        scripts = [p for p in scripts if p.stem in args.only]
    failed = []
    for script in scripts:
        print(f"== {script.relative_to(BENCH.parent)}", flush=True)
        cmd = [sys.executable, str(script)]
        if script.stem in WITH_JSON:
            cmd += ["--json", args.out]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr[-4000:])
        if proc.returncode != 0:
            failed.append(script.stem)
            continue
        # ru_maxrss of children: the largest child so far (KiB on Linux), so it is the
        # script's own peak only when it exceeds every earlier one; kept as an upper bound
        figures = {
            "wall_seconds": wall,
            "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "peak_rss_mib_upper_bound": after.ru_maxrss / 1024,
        }
        write_figures(
            args.out,
            f"{script.stem}.process",
            figures,
            load=(load, os.getloadavg()[0]),
            output=proc.stdout[-20000:],
        )
    print(f"figures written to {args.out}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
