"""Benchmark of one campaign report's wall time (issue 14's speed bar: <= 5 s a report).

A small world is generated (``simkit generate``: 4 campaigns x 120 days, seed 7, last day
2026-06-30) into a temporary folder, and ``simkit run`` executes it there with 2 workers and
the default forecast members.  Printed:

* the run's wall time (the ``simkit run`` command, start to exit);
* each campaign's report seconds (``run.json``'s ``duration_seconds``: from the worker
  taking the job to the report being in place);
* for the first campaign, a breakdown: kernel start (Papermill's start to the first cell),
  each code cell (Papermill's per-cell durations in the executed notebook), the time
  between the last cell and the end of execution (kernel shutdown), and the runner's own
  stages when ``run.json`` records them (``timings``: HTML render, publish);
* the machine's load average before and after, since the machine may be shared, and the
  CPU seconds of the run (less sensitive to the machine's other users than wall time).

The run is repeated ``--repeat`` times in the same folder (default 2): the second run shows
what the on-disk caches give.

Run: ``PYTHONPATH=. .venv/bin/python bench/report_speed.py [--repeat N] [--workers N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

N_CAMPAIGNS, N_DAYS, SEED, END = 4, 120, 7, "2026-06-30"
BAR_SECONDS = 5.0


def _simkit() -> list[str]:
    """The ``simkit`` command of this interpreter (so PYTHONPATH picks the worktree)."""
    return [sys.executable, "-m", "simkit.cli"]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _breakdown(notebook: Path) -> list[tuple[str, float | None]]:
    """(stage, seconds) from Papermill's metadata in an executed notebook."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    meta = nb["metadata"].get("papermill", {})
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    rows: list[tuple[str, float | None]] = []
    first = next((c["metadata"]["papermill"].get("start_time") for c in cells), None)
    rows.append(
        ("kernel start (papermill start -> first cell)", _seconds(meta.get("start_time"), first))
    )
    number = 0
    for cell in cells:
        tags = cell["metadata"].get("tags", [])
        label = "injected parameters" if "injected-parameters" in tags else None
        if label is None:
            number += 1
            src = "".join(cell["source"]).strip().splitlines()
            code = next((s for s in reversed(src) if s and not s.startswith("#")), "")
            label = f"cell {number}: {code[:50]}"
        rows.append((label, cell["metadata"]["papermill"].get("duration")))
    last = cells[-1]["metadata"]["papermill"].get("end_time") if cells else None
    rows.append(("after the last cell (kernel shutdown)", _seconds(last, meta.get("end_time"))))
    rows.append(("papermill total", meta.get("duration")))
    return rows


def _run(folder: Path, workers: int, members: list[str] | None) -> dict:
    params = {
        "data": "world/campaigns.csv",
        "campaigns": "all",
        "seed": SEED,
        "output_dir": "reports",
    }
    if members:
        params["members"] = members
    (folder / "params.json").write_text(json.dumps(params))
    # a YAML file is what users give; JSON is valid YAML
    shutil.copyfile(folder / "params.json", folder / "params.yaml")
    env = {**os.environ, "TQDM_DISABLE": "1"}
    cmd = [*_simkit(), "run", "params.yaml", "--workers", str(workers)]
    cmd += ["--registry", f"sqlite:///{folder / 'registry.sqlite'}"]
    load_before = _load()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if done.returncode != 0:
        sys.exit(f"simkit run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    manifest = json.loads((folder / "reports" / "run.json").read_text())
    return {"wall": wall, "cpu": cpu, "manifest": manifest, "load": (load_before, _load())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs in the same folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--members", nargs="*", help="forecast members (default: RunParams')")
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()

    folder = Path(args.keep or tempfile.mkdtemp(prefix="simkit-speed-"))
    folder.mkdir(parents=True, exist_ok=True)
    gen = [*_simkit(), "generate", str(folder / "world"), "--campaigns", str(N_CAMPAIGNS)]
    gen += ["--days", str(N_DAYS), "--seed", str(SEED), "--end", END]
    subprocess.run(gen, check=True, capture_output=True)
    import simkit

    print(f"simkit {simkit.__version__} from {Path(simkit.__file__).parent}")
    print(f"world: {N_CAMPAIGNS} campaigns x {N_DAYS} days, seed {SEED}, last day {END}")
    print(f"simkit run --workers {args.workers}, members {args.members or 'default'}")
    try:
        for i in range(1, args.repeat + 1):
            out = _run(folder, args.workers, args.members)
            campaigns = out["manifest"]["campaigns"]
            seconds = [c.get("duration_seconds") or 0.0 for c in campaigns]
            print(f"\n== run {i} ({'cold caches' if i == 1 else 'second run, same folder'})")
            print(f"{out['load'][0]} before, {out['load'][1]} after")
            print(f"simkit run wall time: {out['wall']:.1f} s")
            # CPU seconds do not depend on the other users of the machine as wall time does
            print(
                f"CPU time of simkit run and the processes it waited for: {out['cpu']:.1f} s "
                "(kernels killed by their worker are not all counted)"
            )
            for c, s in zip(campaigns, seconds, strict=True):
                print(f"  {c['campaign_id']:>8}  {c['status']:<10} {s:6.1f} s")
            mean = sum(seconds) / len(seconds)
            verdict = "meets" if max(seconds) <= BAR_SECONDS else "misses"
            print(
                f"  per report: mean {mean:.1f} s, max {max(seconds):.1f} s "
                f"({verdict} the {BAR_SECONDS:.0f} s bar)"
            )
            first = campaigns[0]
            notebook = folder / "reports" / first["folder"] / "report.ipynb"
            print(f"  breakdown of {first['campaign_id']}:")
            for stage, s in _breakdown(notebook):
                print(f"    {'-' if s is None else f'{s:6.2f}':>6} s  {stage}")
            for stage, s in (first.get("timings") or {}).items():
                print(f"    {s:6.2f} s  runner: {stage}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
