"""Open a published report in headless Chromium with the network off: the chart is drawn."""

from __future__ import annotations

import pytest

from simkit._browser import CHROMIUM, CHROMIUM_ARGS
from simkit.paths import safe_name

ARGS = list(CHROMIUM_ARGS)

#: In the page: decode the chart image, draw it on a canvas and count non-white pixels (the
#: browser really rendered it) and the SVG's path elements (its lines and areas).
_DRAWN = """img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let inked = 0;
  for (let i = 0; i < d.length; i += 4) { if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) inked++; }
  const svg = atob(img.src.split(',')[1]);
  return {complete: img.complete, width: img.naturalWidth, inked: inked,
          paths: (svg.match(/<path/g) || []).length};
}"""

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
    report = result.output_dir / safe_name("C001") / "report.html"
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
            # nbconvert embeds an SVG output as an <img> with a data: URI
            chart = page.locator('[data-mime-type="image/svg+xml"] img').first
            chart.wait_for(state="visible", timeout=15000)
            box = chart.bounding_box()
            drawn = chart.evaluate(_DRAWN)
            index = browser.new_context(offline=True).new_page()
            index.goto(result.index_path.as_uri(), wait_until="load")
            links = index.locator('a[href$="report.html"]').count()
        finally:
            browser.close()
    assert external == [], f"the page tried the network: {external}"
    assert errors == [], errors
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert drawn["complete"] and drawn["width"] > 200, drawn
    assert drawn["paths"] > 5, "the chart has marks (lines/areas)"
    assert drawn["inked"] > 1000, f"the browser drew the chart's pixels: {drawn}"
    assert links == 2
