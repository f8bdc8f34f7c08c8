"""Benchmark of the what-if dashboard (issue 8 bars).

1. **Slider -> updated chart** (bar <= 1 s), in process, through the real widgets: set the
   budget slider, click Preview, until the chart's SVG and the delta panel are set.
   10,000 paths x 30 days; the drivers are fitted once at load (timed separately).
2. **First render** (bar <= 15 s) in headless Chromium against ``simkit dashboard``:
   navigation -> chart visible, with a pre-heated kernel (the default) and without one
   (``--no-preheat``, cold forecast cache: Voila runs the notebook while the page waits).
3. **Idle kernel memory**: RSS and USS of each kernel process once the page is idle.

Usage::

    .venv/bin/python bench/dashboard.py [--data FILE] [--repeats 15] [--no-browser]

Prints a plain-text report; ``--json`` prints JSON.  The machine is shared: say so when
quoting the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simkit._browser import CHROMIUM, CHROMIUM_ARGS
from simkit._resources import dashboard_sample

#: the sample data shipped with simkit (what `simkit dashboard` shows by default)
FIXTURE = dashboard_sample()
ARGS = list(CHROMIUM_ARGS)


def bench_preview(data: Path, repeats: int, cache_dir: str) -> dict:
    from simkit.dashboard.app import DashboardApp
    from simkit.dashboard.model import DashboardSettings, WhatIfModel

    t0 = time.perf_counter()
    model = WhatIfModel.from_settings(
        DashboardSettings(data=str(data), n_paths=10_000, horizon_days=30, cache_dir=cache_dir)
    )
    load_s = time.perf_counter() - t0
    campaign = model.campaigns()[0].campaign_id
    t0 = time.perf_counter()
    model.fit(campaign, 30)
    fit_s = time.perf_counter() - t0
    app = DashboardApp(model)
    t0 = time.perf_counter()
    app.start()
    baseline_s = time.perf_counter() - t0
    values = [10.0, 25.0, -20.0, 50.0, 5.0, 75.0, -40.0, 30.0]
    times = []
    for i in range(repeats):
        app.budget.value = values[i % len(values)]
        t0 = time.perf_counter()
        app.preview_button.click()
        times.append(time.perf_counter() - t0)
        assert "simkit-error" not in app.status.value, app.status.value
        assert "Preview:" in app.delta.value
    times.sort()
    return {
        "campaign": campaign,
        "paths": 10_000,
        "horizon_days": 30,
        "load_s": load_s,
        "fit_drivers_once_s": fit_s,
        "baseline_and_first_chart_s": baseline_s,
        "slider_to_chart_s": {
            "n": len(times),
            "median": statistics.median(times),
            "p90": times[int(0.9 * (len(times) - 1))],
            "max": times[-1],
        },
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} not listening after {timeout} s")


def _kernels(root_pid: int) -> list[int]:
    import psutil

    procs = psutil.Process(root_pid).children(recursive=True)
    return [p.pid for p in procs if "ipykernel" in " ".join(p.cmdline())]


def _wait_pool_idle(root_pid: int, log_path: Path, timeout: float) -> float:
    """When the pre-heated kernel has finished running the notebook: Voila logs when the
    kernel started, not when its notebook finished, so wait for its CPU time to stop
    growing (2 s without 0.05 s of CPU)."""
    import psutil

    t0 = time.perf_counter()
    while "is filled with" not in log_path.read_text(errors="replace"):
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"the kernel pool did not fill in {timeout} s")
        time.sleep(0.2)
    kernel = psutil.Process(_kernels(root_pid)[0])
    last, quiet_since = sum(kernel.cpu_times()[:2]), time.perf_counter()
    while time.perf_counter() - quiet_since < 2.0:
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"the pre-heated kernel did not go idle in {timeout} s")
        time.sleep(0.25)
        now = sum(kernel.cpu_times()[:2])
        if now - last > 0.05:
            quiet_since = time.perf_counter()
        last = now
    return quiet_since


def _memory(pid: int) -> dict:
    import psutil

    info = psutil.Process(pid).memory_full_info()
    return {"rss_mib": info.rss / 2**20, "uss_mib": info.uss / 2**20}


def bench_browser(data: Path, preheat: bool) -> dict:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="simkit-bench-dash-"))
    port = _free_port()
    log_path = workdir / "voila.log"
    cmd = [
        sys.executable,
        "-m",
        "simkit.cli",
        "dashboard",
        "--port",
        str(port),
        "--data",
        str(data),
        "--format",
        "json",
        "--preheat" if preheat else "--no-preheat",
    ]
    t_launch = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    out: dict = {"preheat": preheat}
    try:
        out["listening_s"] = _wait_port(port, 120)
        if preheat:  # the pool kernel has run the notebook: what a visitor then gets
            out["pool_ready_after_launch_s"] = _wait_pool_idle(proc.pid, log_path, 240) - t_launch
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
            external = []
            page.on(
                "request",
                lambda r: (
                    external.append(r.url)
                    if not (r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")))
                    else None
                ),
            )
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=180_000)
            page.wait_for_selector(".simkit-chart img, .simkit-chart svg", timeout=180_000)
            out["navigation_to_chart_s"] = time.perf_counter() - t0
            out["external_requests"] = external
            time.sleep(3)  # idle
            kernels = _kernels(proc.pid)
            out["idle_kernels"] = [_memory(k) for k in kernels]
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=FIXTURE)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="simkit-bench-cache-") as cache:
        result = {
            "data": str(args.data),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "preview": bench_preview(args.data, args.repeats, cache),
        }
    if not args.no_browser and CHROMIUM.exists():
        result["first_render_preheated"] = bench_browser(args.data, preheat=True)
        result["first_render_cold"] = bench_browser(args.data, preheat=False)
    result["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    pv = result["preview"]
    s = pv["slider_to_chart_s"]
    print(
        f"data: {result['data']} (campaign {pv['campaign']}, {pv['paths']:,} paths x "
        f"{pv['horizon_days']} days); {result['cpus']} CPUs, load average "
        f"{result['load_average'][0]:.1f} before, {result['load_average_after'][0]:.1f} after"
    )
    print(
        f"load data {pv['load_s']:.2f} s; fit drivers once {pv['fit_drivers_once_s']:.2f} s; "
        f"baseline + first chart {pv['baseline_and_first_chart_s']:.2f} s"
    )
    ok = "met" if s["max"] <= 1.0 else "MISSED"
    print(
        f"slider -> updated chart (n={s['n']}): median {s['median']:.3f} s, p90 "
        f"{s['p90']:.3f} s, max {s['max']:.3f} s  [bar <= 1 s: {ok}]"
    )
    for key in ("first_render_preheated", "first_render_cold"):
        if key not in result:
            continue
        r = result[key]
        ok = "met" if r["navigation_to_chart_s"] <= 15 else "MISSED"
        extra = (
            f", pre-heated kernel ready {r['pool_ready_after_launch_s']:.1f} s after launch"
            if "pool_ready_after_launch_s" in r
            else ""
        )
        print(
            f"{key}: server listening {r['listening_s']:.1f} s{extra}; navigation -> chart "
            f"{r['navigation_to_chart_s']:.2f} s [bar <= 15 s: {ok}]; external requests "
            f"{len(r['external_requests'])}"
        )
        for i, k in enumerate(r["idle_kernels"]):
            print(f"  idle kernel {i + 1}: RSS {k['rss_mib']:.0f} MiB, USS {k['uss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
