"""Open a published report in headless Chromium with the network off: the chart is drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs the Debian chromium package "
        "(/usr/bin/chromium); CI: apt-get install -y chromium",
    ),
]


def test_report_chart_is_drawn_offline(published) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    result, _, _ = published
    report = result.output_dir / "C001" / "report.html"
    external: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1000, "height": 800})
            page = context.new_page()
            page.on(
                "request",
                lambda r: (
                    external.append(r.url)
                    if not r.url.startswith(("file:", "data:", "blob:"))
                    else None
                ),
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report.as_uri(), wait_until="load")
            chart = page.locator('[data-mime-type="image/svg+xml"] svg').first
            chart.wait_for(state="visible", timeout=15000)
            box = chart.bounding_box()
            marks = page.locator('[data-mime-type="image/svg+xml"] svg path').count()
            index = browser.new_context(offline=True).new_page()
            index.goto(result.index_path.as_uri(), wait_until="load")
            links = index.locator('a[href$="report.html"]').count()
        finally:
            browser.close()
    assert external == [], f"the page tried the network: {external}"
    assert errors == [], errors
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert marks > 5, "the chart has drawn marks (lines/areas)"
    assert links == 2
