"""Screenshot a published report or index with the system Chromium (docs/*.png).

The README's pictures are made with this: a headless Chromium (the Debian package, see
``simkit._browser``) opens the HTML offline at 1100 px wide, takes the page from the top
down to ``--height`` pixels and saves it as a 128-colour PNG (small enough for a README).

Usage::

    .venv/bin/python scripts/screenshot.py reports/demo/C001/report.html docs/report.png \\
        --height 1450
    .venv/bin/python scripts/screenshot.py reports/demo/index.html docs/index.png
    .venv/bin/python scripts/screenshot.py quickstart.html docs/quickstart.png \\
        --from-text "Simulation of" --height 900
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path


def screenshot(
    page_path: Path,
    out: Path,
    *,
    width: int = 1100,
    height: int | None,
    from_text: str | None = None,
) -> int:
    """Write the PNG and return its size in bytes; with ``from_text``, the picture starts a
    little above the first element showing that text (e.g. a result's title)."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from simkit._browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
            page = context.new_page()
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            png = page.screenshot(full_page=True)
            top = 0
            if from_text is not None:
                box = page.get_by_text(from_text).first.bounding_box()
                if box is None:
                    raise SystemExit(f"{page_path}: no element shows {from_text!r}")
                top = max(int(box["y"]) - 130, 0)  # the cell that made it, too
        finally:
            browser.close()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    bottom = image.height if height is None else min(top + height, image.height)
    image = image.crop((0, top, image.width, bottom))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="report.html or index.html")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--height", type=int, default=None, help="crop to this many pixels")
    parser.add_argument("--from-text", default=None, help="start above the element with this text")
    args = parser.parse_args()
    size = screenshot(args.page, args.out, height=args.height, from_text=args.from_text)
    print(f"{args.out}: {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
