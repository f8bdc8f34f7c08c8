"""The run registry with 10,000 runs, on SQLite and on Postgres (issue 21's bar:
``simkit runs list`` answers in <= 1 s on each).

For each backend, ``--runs`` finished runs (default 10,000) of ``--campaigns`` campaigns
each (default 6) are written in bulk into a registry made by :class:`simkit.registry.Registry`
(its migrations), then ``simkit runs list`` is timed as a
command (a new process: Python's start-up and simkit's imports included, best and median of
5) and ``Registry.list_runs()`` in process.  Postgres: ``SIMKIT_TEST_POSTGRES_URL`` (a
server whose ``postgres`` database may be used to create a scratch one), else a throwaway
cluster started from Debian's binaries (as the ``postgres`` user when root), else skipped
with the reason.

Run: ``PYTHONPATH=. .venv/bin/python bench/registry_scale.py [--runs 10000] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from simkit.registry import Registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _figures import write_figures  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BAR_SECONDS = 1.0


def _as_server(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def _postgres():
    """A Postgres URL for a scratch database, or ``None`` (with the reason printed)."""
    server = os.environ.get("SIMKIT_TEST_POSTGRES_URL")
    folder = None
    if server is None:
        if not (PG_BIN / "initdb").is_file():
            print("postgres: skipped (no SIMKIT_TEST_POSTGRES_URL and no Debian postgresql)")
            yield None
            return
        folder = Path(tempfile.mkdtemp(prefix="simkit-pg-bench-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        data = folder / "data"
        quiet = {"check": True, "capture_output": True}
        subprocess.run(
            _as_server([str(PG_BIN / "initdb"), "-D", str(data), "-U", "simkit", "-A", "trust"]),
            **quiet,
        )
        opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
        subprocess.run(
            _as_server(
                [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log")]
                + ["-o", opts, "-w", "start"]
            ),
            **quiet,
        )
        server = f"postgresql+psycopg://simkit@127.0.0.1:{port}/postgres"
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"simkit_bench_{uuid.uuid4().hex[:8]}"
    conninfo = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database or "postgres",
    }
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if folder is not None:
            subprocess.run(
                _as_server(
                    [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]
                ),
                capture_output=True,
            )
            shutil.rmtree(folder, ignore_errors=True)


def _fill(url: str, n_runs: int, n_campaigns: int) -> float:
    """``n_runs`` finished runs of ``n_campaigns`` campaigns, written in bulk into the
    registry's own tables (recording them one call at a time, as batches do, costs
    fsyncs, not what ``runs list`` is timed for)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from simkit.registry import campaign_runs, runs

    reg = Registry(url)  # creates the schema through the migrations
    engine = reg._engine
    t0 = time.perf_counter()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, n_runs, 1000):
        run_rows, campaign_rows = [], []
        for i in range(first, min(first + 1000, n_runs)):
            at = start + timedelta(minutes=i)
            run_id = at.strftime("%Y%m%dT%H%M%SZ") + f"-{i:06x}"
            run_rows.append(
                {
                    "run_id": run_id,
                    "status": "succeeded",
                    "created_at": at,
                    "started_at": at,
                    "finished_at": at + timedelta(seconds=40),
                    "params": '{"seed": 7}',
                    "params_hash": "h" * 64,
                    "data_hash": "d" * 64,
                    "output_dir": f"/srv/reports/{i % 7}",
                    "index_path": "/srv/x/index.html",
                    "n_campaigns": n_campaigns,
                    "pid": 1,
                    "host": "bench",
                }
            )
            campaign_rows.extend(
                {
                    "run_id": run_id,
                    "campaign_id": f"C{c:03d}",
                    "rank": c,
                    "status": "succeeded",
                    "attempts": 1,
                    "started_at": at,
                    "finished_at": at + timedelta(seconds=5),
                    "duration_seconds": 5.0,
                    "summary_path": "/srv/x/summary.json",
                    "campaign_state": "active",
                }
                for c in range(n_campaigns)
            )
        with engine.begin() as conn:
            conn.execute(insert(runs), run_rows)
            conn.execute(insert(campaign_runs), campaign_rows)
    seconds = time.perf_counter() - t0
    reg.close()
    return seconds


def _time_cli(url: str, repeat: int = 5) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``simkit runs list`` as a command, ``repeat`` times."""
    import resource

    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "simkit.cli", "runs", "list", "--registry", url]
            + ["--format", "json"],
            check=True,
            capture_output=True,
        )
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=6)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(
        f"registry bench: {args.runs} runs x {args.campaigns} campaigns; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="simkit-reg-bench-") as tmp, _postgres() as pg:
        backends = {"sqlite": f"sqlite:///{Path(tmp) / 'registry.sqlite'}"}
        if pg is not None:
            backends["postgres"] = pg
        for name, url in backends.items():
            fill = _fill(url, args.runs, args.campaigns)
            reg = Registry(url)
            t0 = time.perf_counter()
            listed = reg.list_runs()
            in_process = time.perf_counter() - t0
            reg.close()
            assert len(listed) == 20
            cli, cpu = _time_cli(url)
            best, median = min(cli), statistics.median(cli)
            verdict = "met" if median <= BAR_SECONDS else "NOT met"
            print(
                f"{name}: {args.runs} runs ({args.runs * args.campaigns} campaign rows) "
                f"written in bulk in {fill:.1f} s; `simkit runs list` {best:.2f} s best, "
                f"{median:.2f} s median wall of {len(cli)} (bar {BAR_SECONDS:.0f} s: "
                f"{verdict}), {statistics.median(cpu):.2f} CPU s median (Python's start and "
                f"imports included); list_runs() in process {1000 * in_process:.1f} ms"
            )
            figures.update(
                {
                    f"{name}_runs_list_cli_seconds_median": median,
                    f"{name}_runs_list_cli_cpu_seconds_median": statistics.median(cpu),
                    f"{name}_list_runs_in_process_ms": 1000 * in_process,
                    f"{name}_bulk_write_seconds": fill,
                }
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        write_figures(
            args.json,
            "registry_scale",
            figures,
            settings={"runs": args.runs, "campaigns": args.campaigns},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
