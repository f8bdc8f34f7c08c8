"""Scale of the summary-only batch (issue 21's bar: 1,000 campaigns x 120 days in <= 15 min
on 2 cores, peak RSS per worker <= 600 MiB).

A synthetic world (:func:`simkit.data.synthetic.generate`, seed 7, 120 days ending
2026-06-30) of ``--campaigns`` campaigns is written to a temporary folder, and
``simkit run PARAMS --summary-only`` executes it there with ``--workers`` workers and the
default run parameters (members seasonal_naive, ets, prophet; 3 backtest folds; 2,000
paths).  While it runs, the RSS of the ``simkit run`` process and of each of its children
(the pool workers, the index's kernel) is sampled every 0.2 s.  Printed:

* the wall time of the run, and its stages from the registry: before the first campaign
  starts (loading, the portfolio's pivots, the workers' start-up), the campaigns, and the
  index after the last one;
* seconds per campaign (each worker's time from taking a campaign to its summary.json in
  place: median, p90, max) and the throughput (campaign-stage wall time / campaigns);
* peak RSS of the parent and of each worker;
* an **extrapolation** to ``--target`` campaigns (default 1,000), labelled as such: the
  parent's stages scaled linearly with the number of campaigns (an assumption: the pivots'
  optimiser may grow faster) and the campaign stage scaled by the measured throughput.

The machine's load average before and after is printed, since the machine may be shared;
the CPU seconds of the run too (less sensitive to other users than wall time).
``--json PATH`` also writes the figures as JSON with the machine's description (the format
``bench/compare.py`` reads).

``--compare-dask`` (issue 21's bar: on a 2-worker LocalCluster, summaries identical to the
pool's and wall time within 15% of it) runs the same world twice, on the pool and then on a
LocalCluster of ``--workers`` single-threaded processes started before the clock (as a
cluster is when ``--scheduler`` is given), and prints both wall times, their ratio, and
whether every campaign's summary.json is identical (its ``run_id`` aside).

Run: ``PYTHONPATH=. .venv/bin/python bench/batch_scale.py [--campaigns 60] [--workers 2]
[--dask | --compare-dask]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil

from simkit._rng import make_rng
from simkit.data.synthetic import generate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from _figures import machine, write_figures  # noqa: E402

N_DAYS, SEED, END = 120, 7, date(2026, 6, 30)
BAR_MINUTES, BAR_WORKER_MIB = 15.0, 600.0
MIB = 1024 * 1024


class _Sampler:
    """Peak RSS of a process and of each of its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.every = every
        self.peak: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    rss = p.memory_info().rss / MIB
                    name = " ".join(p.cmdline())[:300]
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                if rss > self.peak.get(p.pid, ("", 0.0))[1]:
                    self.peak[p.pid] = (name, rss)
            self._stop.wait(self.every)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _ts(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


def _batch(folder: Path, workers: int, *, dask: bool, data_path: Path) -> dict[str, Any]:
    """One ``simkit run --summary-only`` of the world at ``data_path`` from ``folder`` (its
    params file, registry and ``reports/`` there: two runs in two folders have the same
    parameters, and so the same parameters hash in their summaries), on the pool or on a
    LocalCluster started here (before the clock: a cluster is already up when
    ``--scheduler`` is given), its RSS sampled.  Returns the measurements, or
    ``{"error": ...}``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(
        f"data: {data_path}\noutput_dir: {folder / 'reports'}\npublish: summary\n"
    )
    registry = f"sqlite:///{folder / 'registry.sqlite'}"
    cmd = [
        sys.executable,
        "-m",
        "simkit.cli",
        "run",
        str(folder / "params.yaml"),
        "--workers",
        str(workers),
        "--registry",
        registry,
        "--format",
        "json",
    ]
    env = {**os.environ, "TQDM_DISABLE": "1"}
    cluster, cluster_start = None, 0.0
    if dask:
        from distributed import LocalCluster

        t_cluster = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        cluster_start = time.perf_counter() - t_cluster
        cmd += ["--scheduler", cluster.scheduler_address]
    t0 = time.perf_counter()
    cpu0 = psutil.Process().cpu_times()
    proc = subprocess.Popen(
        cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # a LocalCluster's workers are this process's children, a pool's the run's
    with _Sampler(os.getpid() if cluster is not None else proc.pid) as sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if cluster is not None:
        cluster.close()
    cpu1 = psutil.Process().cpu_times()
    # children's CPU: the run and its pool workers, or (closed above) the cluster's workers
    cpu = (cpu1.children_user + cpu1.children_system) - (cpu0.children_user + cpu0.children_system)
    if proc.returncode != 0:
        return {"error": f"simkit run failed (exit {proc.returncode}): {err.decode()[-2000:]}"}
    result = json.loads(out)
    show = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "runs", "show", result["run_id"]]
        + ["--registry", registry, "--format", "json"],
        cwd=folder,
        env=env,
        capture_output=True,
        check=True,
    )
    return {
        "wall": wall,
        "cpu": cpu,
        "cluster_start": cluster_start,
        "run": json.loads(show.stdout),
        "pid": proc.pid,
        "peak": dict(sampler.peak),
        "summaries": {
            p.parent.name: p for p in sorted((folder / "reports").glob("*/summary.json"))
        },
        "n_html": len(list((folder / "reports").glob("*/report.html"))),
    }


def _numbers(path: Path) -> dict[str, Any]:
    """A summary.json without its run id (which differs between two runs by design)."""
    summary = json.loads(path.read_text())
    summary.pop("run_id", None)
    return summary


def _first_difference(a: Any, b: Any, where: str = "") -> str | None:
    """The path of the first value that differs between two JSON documents."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}.{key} (missing on one side)"
            found = _first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where} (lengths {len(a)} and {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


def _compare(pool: dict[str, Any], dask: dict[str, Any]) -> dict[str, str]:
    """The campaigns whose summary.json differs between the two runs, and where."""
    differ = {}
    for n in sorted(set(pool["summaries"]) | set(dask["summaries"])):
        if n not in pool["summaries"] or n not in dask["summaries"]:
            differ[n] = "summary.json missing on one side"
            continue
        found = _first_difference(_numbers(pool["summaries"][n]), _numbers(dask["summaries"][n]))
        if found:
            differ[n] = found
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--target", type=int, default=1000, help="campaigns to extrapolate to")
    parser.add_argument("--json", default=None, help="also write the figures here (JSON)")
    parser.add_argument(
        "--dask",
        action="store_true",
        help="run on a LocalCluster of --workers single-threaded worker processes (started "
        "here) instead of the process pool",
    )
    parser.add_argument(
        "--compare-dask",
        action="store_true",
        help="run the same batch on the pool, then on a LocalCluster of --workers "
        "single-threaded processes: both wall times, their ratio (bar: Dask within 15%%) "
        "and whether every summary.json is identical",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="with --compare-dask: pairs of runs, alternating which goes first (medians)",
    )
    args = parser.parse_args()

    load_before = os.getloadavg()
    mode = (
        "pool vs Dask LocalCluster "
        if args.compare_dask
        else ("Dask LocalCluster " if args.dask else "")
    )
    print(
        f"batch scale bench: {args.campaigns} campaigns x {N_DAYS} days, --summary-only, "
        f"{args.workers} {mode}workers; machine: {machine()['cpus']} cores, load average "
        f"{load_before[0]:.2f} before"
    )
    with tempfile.TemporaryDirectory(prefix="simkit-scale-") as tmp:
        folder = Path(tmp)
        world = generate(
            args.campaigns,
            N_DAYS,
            rng=make_rng(SEED),
            start=END - timedelta(days=N_DAYS - 1),
        )
        data_path, _ = world.write(folder / "data")
        if args.compare_dask:
            return _compare_main(args, folder, data_path, load_before)
        measured = _batch(folder / "run", args.workers, dask=args.dask, data_path=data_path)
    if "error" in measured:
        print(measured["error"], file=sys.stderr)
        return 1
    return _report(args, measured, load_before)


def _compare_main(
    args: argparse.Namespace, folder: Path, data_path: Path, load_before: tuple[float, ...]
) -> int:
    walls: dict[str, list[float]] = {"pool": [], "dask": []}
    runs: dict[str, dict[str, Any]] = {}
    for i in range(args.repeat):
        # alternate which goes first, so a change in the machine's load hits both
        order = [("pool", False), ("dask", True)]
        for name, dask in order if i % 2 == 0 else order[::-1]:
            r = _batch(folder / f"{name}{i}", args.workers, dask=dask, data_path=data_path)
            if "error" in r:
                print(f"{name}: {r['error']}", file=sys.stderr)
                return 1
            runs.setdefault(name, r)
            walls[name].append(r["wall"])
            camps = r["run"]["campaigns"]
            first_start = min(_ts(c["started_at"]) for c in camps)
            last_end = max(_ts(c["finished_at"]) for c in camps)
            before = first_start - _ts(r["run"]["created_at"])
            in_worker = statistics.median(c["duration_seconds"] or 0.0 for c in camps)
            print(
                f"{name}: wall {r['wall']:.1f} s ({r['cpu']:.1f} CPU s) for {len(camps)} "
                f"campaigns ({sum(c['status'] == 'succeeded' for c in camps)} succeeded, "
                f"{len(r['summaries'])} summary.json); stages: {before:.1f} s before the "
                f"first campaign, campaigns {last_end - first_start:.1f} s (median "
                f"{in_worker:.2f} s in a worker), index "
                f"{_ts(r['run']['finished_at']) - last_end:.1f} s"
                + (
                    f"; the cluster took {r['cluster_start']:.1f} s to start (not counted)"
                    if dask
                    else ""
                )
                + f"; load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    pool_wall, dask_wall = statistics.median(walls["pool"]), statistics.median(walls["dask"])
    ratio = dask_wall / pool_wall
    differ = _compare(runs["pool"], runs["dask"])
    load_after = os.getloadavg()
    print(
        f"median wall: pool {pool_wall:.1f} s, Dask {dask_wall:.1f} s (of {args.repeat}); "
        f"Dask / pool: {ratio:.3f} (bar <= 1.15: "
        + ("met" if ratio <= 1.15 else "NOT met")
        + "); summary.json files "
        + (
            f"identical (run_id aside) for all {len(runs['pool']['summaries'])} campaigns"
            if not differ
            else f"DIFFER for {len(differ)} campaigns; first: "
            + "; ".join(f"{n} at {w}" for n, w in list(differ.items())[:3])
        )
    )
    print(f"load average after: {load_after[0]:.2f} (before {load_before[0]:.2f})")
    if args.json:
        write_figures(
            args.json,
            "batch_scale_compare_dask",
            {
                "pool_wall_seconds": pool_wall,
                "dask_wall_seconds": dask_wall,
                "dask_over_pool_wall_ratio": ratio,
                "summaries_differing": float(len(differ)),
            },
            settings={
                "campaigns": args.campaigns,
                "workers": args.workers,
                "days": N_DAYS,
                "repeat": args.repeat,
            },
            load=(load_before[0], load_after[0]),
        )
    return 0 if not differ else 1


def _report(
    args: argparse.Namespace, measured: dict[str, Any], load_before: tuple[float, ...]
) -> int:
    wall, cpu, run, peak = measured["wall"], measured["cpu"], measured["run"], measured["peak"]
    n_summaries, n_html = len(measured["summaries"]), measured["n_html"]
    camps = run["campaigns"]
    durations = sorted(c["duration_seconds"] for c in camps if c["duration_seconds"])
    first_start = min(_ts(c["started_at"]) for c in camps)
    last_end = max(_ts(c["finished_at"]) for c in camps)
    created = _ts(run["created_at"])
    finished = _ts(run["finished_at"])
    before = first_start - created
    campaigns_stage = last_end - first_start
    after = finished - last_end
    per_campaign = campaigns_stage / len(camps)
    parent = max(
        (rss for pid, (_, rss) in peak.items() if pid == measured["pid"]), default=float("nan")
    )
    # pool workers are spawned interpreters (multiprocessing's spawn_main); the index's
    # kernel is an ipykernel; Prophet's Stan fits are short-lived helper processes
    workers = sorted(
        (rss for pid, (name, rss) in peak.items() if "spawn_main" in name),
        reverse=True,
    )
    kernels = [rss for _, (name, rss) in peak.items() if "ipykernel" in name]
    others = [
        rss
        for pid, (name, rss) in peak.items()
        if pid != measured["pid"] and "spawn_main" not in name and "ipykernel" not in name
    ]
    load_after = os.getloadavg()
    scale = args.target / len(camps)
    extrapolated = (before + after) * scale + per_campaign * args.target

    print(
        f"succeeded: {sum(c['status'] == 'succeeded' for c in camps)} of {len(camps)}; "
        f"summary.json files {n_summaries}, report.html files {n_html}"
    )
    print(f"wall time of `simkit run --summary-only`: {wall:.1f} s ({cpu:.1f} CPU s)")
    print(
        f"  stages: before the first campaign {before:.1f} s (load, pivots, workers' start), "
        f"campaigns {campaigns_stage:.1f} s, index {after:.1f} s"
    )
    print(
        f"seconds per campaign (in its worker): median {statistics.median(durations):.2f}, "
        f"p90 {durations[int(0.9 * (len(durations) - 1))]:.2f}, max {durations[-1]:.2f}; "
        f"throughput {per_campaign:.2f} s a campaign on {args.workers} workers"
    )
    print(
        f"peak RSS: parent {parent:.0f} MiB; workers "
        + ", ".join(f"{w:.0f}" for w in workers)
        + " MiB"
        + (f"; index kernel {max(kernels):.0f} MiB" if kernels else "")
        + (f"; {len(others)} helper processes, largest {max(others):.0f} MiB" if others else "")
    )
    worst = max(workers, default=float("nan"))
    print(
        f"  bar: peak RSS per worker <= {BAR_WORKER_MIB:.0f} MiB: "
        + ("met" if worst <= BAR_WORKER_MIB else "NOT met")
        + f" ({worst:.0f} MiB)"
    )
    print(
        f"EXTRAPOLATION (not measured) to {args.target} campaigns: parent stages x "
        f"{scale:.1f} (linear, assumed) + {args.target} x {per_campaign:.2f} s = "
        f"{extrapolated / 60:.1f} min (bar {BAR_MINUTES:.0f} min: "
        + ("within" if extrapolated <= BAR_MINUTES * 60 else "OVER")
        + ")"
    )
    print(f"load average after: {load_after[0]:.2f} (before {load_before[0]:.2f})")
    if args.json:
        write_figures(
            args.json,
            "batch_scale_dask" if args.dask else "batch_scale",
            {
                "wall_seconds": wall,
                "cpu_seconds": cpu,
                "seconds_per_campaign_median": statistics.median(durations),
                "throughput_seconds_per_campaign": per_campaign,
                "before_campaigns_seconds": before,
                "parent_peak_rss_mib": parent,
                "worker_peak_rss_mib": worst,
                "extrapolated_minutes_for_target": extrapolated / 60,
            },
            settings={"campaigns": len(camps), "workers": args.workers, "days": N_DAYS},
            load=(load_before[0], load_after[0]),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
