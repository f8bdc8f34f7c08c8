"""The dashboard in a real browser: Playwright drives the system Chromium against
``simkit dashboard`` on 127.0.0.1 (Debian's Chromium; see :mod:`simkit._browser`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from simkit._browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARGS = list(CHROMIUM_ARGS)
ARTIFACTS = REPO / "test-artifacts"
_LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            pytest.fail(
                f"simkit dashboard exited with {proc.returncode}: "
                f"{log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the dashboard did not listen on port {port} within {timeout} s")


@pytest.fixture()
def dashboard(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is absent (apt-get install chromium); Playwright may "
            "not download its own browser here"
        )
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SIMKIT_DASHBOARD_TOKEN", None)
    log = (tmp_path / "dashboard.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simkit.cli",
            "dashboard",
            "--port",
            str(port),
            "--ip",
            "127.0.0.1",
            "--format",
            "json",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(port, proc, timeout=120, log=tmp_path / "dashboard.log")
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_budget_slider_and_preview_update_the_delta_panel(dashboard):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    external: list[str] = []

    def record(request) -> None:  # noqa: ANN001
        url = urlparse(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if url.hostname not in _LOCAL:
            external.append(request.url)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1100, "height": 1000}).new_page()
            page.on("request", record)
            console_errors: list[str] = []
            page.on(
                "console", lambda m: console_errors.append(m.text) if m.type == "error" else None
            )
            page.goto(dashboard, wait_until="domcontentloaded", timeout=120_000)
            page.wait_for_selector(".simkit-budget .noUi-handle", timeout=120_000)
            page.wait_for_selector(".simkit-chart img, .simkit-chart svg", timeout=60_000)
            delta = page.locator(".simkit-delta")
            before = delta.inner_text()
            readout = page.locator(".simkit-budget .widget-readout")
            value_before = readout.inner_text()

            handle = page.locator(".simkit-budget .noUi-handle").first.bounding_box()
            track = page.locator(".simkit-budget .noUi-target").first.bounding_box()
            y = handle["y"] + handle["height"] / 2
            page.mouse.move(handle["x"] + handle["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(track["x"] + 0.8 * track["width"], y, steps=12)
            page.mouse.up()
            page.wait_for_function(
                "([sel, old]) => document.querySelector(sel).innerText !== old",
                arg=[".simkit-budget .widget-readout", value_before],
                timeout=10_000,
            )
            value_after = readout.inner_text()

            page.locator(".simkit-preview").click()
            page.wait_for_function(
                "(sel) => document.querySelector(sel).innerText.includes('Preview:')",
                arg=".simkit-delta",
                timeout=60_000,
            )
            after = delta.inner_text()
            delta.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "dashboard_preview.png"), full_page=True)

            errors = page.locator(".simkit-error")
            error_texts = [errors.nth(i).inner_text() for i in range(errors.count())]

            # the campaigns and runs views load when their tab is shown
            page.locator(".lm-TabBar-tab", has_text="Campaigns").first.click()
            page.wait_for_selector(".simkit-simulate", timeout=60_000)
            n_campaigns = page.locator(".simkit-simulate").count()
            page.locator(".lm-TabBar-tab", has_text="Runs").first.click()
            page.wait_for_function(
                "(sel) => document.querySelector(sel).innerText.includes('No run recorded')",
                arg=".simkit-runs",
                timeout=30_000,
            )
            view_errors = page.locator(".simkit-error").count()
        finally:
            browser.close()

    assert float(value_after) > float(value_before), (value_before, value_after)
    assert after != before
    assert f"budget +{float(value_after):.0f}%" in after
    assert "conversions" in after and "P(better)" in after
    assert error_texts == [], error_texts
    assert n_campaigns == 3 and view_errors == 0
    assert external == [], f"requests beyond loopback: {external}"
    (ARTIFACTS / "dashboard_preview.json").write_text(
        json.dumps(
            {
                "readout": [value_before, value_after],
                "delta_panel": after,
                "console_errors": console_errors,
            },
            indent=2,
        )
    )
