"""The run registry with 10,000 runs, on SQLite and on Postgres (issue 21's bar:
``simkit runs list`` answers in <= 1 s on each).

For each backend, ``--runs`` runs (default 10,000) of ``--campaigns`` campaigns each
(default 6) are recorded through :class:`simkit.registry.Registry` (create, start, each
campaign done, finish: the calls a batch makes), then ``simkit runs list`` is timed as a
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
from simkit.runner.execute import CampaignOutcome

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
    reg = Registry(url)
    ids = [f"C{i:03d}" for i in range(n_campaigns)]
    t0 = time.perf_counter()
    for i in range(n_runs):
        run_id = f"20260101T{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}Z-{i:06x}"
        reg.create_run(
            run_id,
            params={"data": "x.csv", "seed": i},
            params_hash="h" * 64,
            output_dir=f"/srv/reports/{i % 7}",
            campaigns=ids,
            data_hash="d" * 64,
        )
        reg.start_run(run_id)
        now = time.time()
        for cid in ids:
            reg.campaign_done(
                run_id,
                CampaignOutcome(
                    cid, "succeeded", 1, now, now + 3.0, summary={"campaign_state": "active"}
                ),
                "/srv/x/summary.json",
            )
        reg.finish_run(run_id, status="succeeded", index_path="/srv/x/index.html")
    seconds = time.perf_counter() - t0
    reg.close()
    return seconds


def _time_cli(url: str, repeat: int = 5) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "simkit.cli",
                "runs",
                "list",
                "--registry",
                url,
                "--format",
                "json",
            ],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t0)
    return times


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
            cli = _time_cli(url)
            best, median = min(cli), statistics.median(cli)
            verdict = "met" if median <= BAR_SECONDS else "NOT met"
            print(
                f"{name}: recorded {args.runs} runs in {fill:.1f} s "
                f"({1000 * fill / args.runs:.2f} ms a run); `simkit runs list` "
                f"{best:.2f} s best, {median:.2f} s median of {len(cli)} (bar "
                f"{BAR_SECONDS:.0f} s: {verdict}); list_runs() in process "
                f"{1000 * in_process:.1f} ms"
            )
            figures.update(
                {
                    f"{name}_runs_list_cli_seconds_median": median,
                    f"{name}_list_runs_in_process_ms": 1000 * in_process,
                    f"{name}_record_ms_per_run": 1000 * fill / args.runs,
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
