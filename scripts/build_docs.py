"""Build the docs site offline: execute the notebooks, run ``mkdocs build --strict``, and
fail if the built site would fetch anything from the network.

The notebooks run with Papermill on their defaults (the sample data shipped with simkit)
into ``docs/notebooks/`` (git-ignored), which mkdocs-jupyter renders without executing
them again.  Usage: ``make docs`` (or ``.venv/bin/python scripts/build_docs.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("quickstart", "compare_models", "what_if")
SITE = ROOT / "build" / "site"
#: A tag that loads a resource by URL at view time (a plain link to another site is fine).
_FETCH = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=[\"'](https?:)?//|"
    r"<link\b[^>]*\bhref=[\"'](https?:)?//|@import\s+url\([\"']?(https?:)?//|"
    r"url\([\"']?https?://",
    re.IGNORECASE,
)


_WIDGET = "application/vnd.jupyter.widget-view+json"
_WIDGET_NOTE = (
    "<p><em>Interactive in JupyterLab: the sliders need a running kernel, which a static "
    "page does not have. The previews above show what they draw.</em></p>"
)
#: Script URLs a page may hold without fetching them: nbconvert's mermaid loader imports
#: them only when the page has a mermaid diagram (checked below: none has).
_CONDITIONAL = ("cdnjs.cloudflare.com/ajax/libs/mermaid",)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)
#: A script statement that loads by URL: ``import("…")``, ``fetch("…")``, ``…Src = '…'``.
_URL = re.compile(r"(?:import\(|fetch\(|[sS]rc\s*=)\s*[\"'`](https?://[^\"'`]+)")


def static_widgets(path: Path) -> None:
    """Replace widget outputs by a note: a static page has no kernel to drive them, and
    nbconvert would load the widget manager from a CDN to draw them."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if _WIDGET in data:
                output["data"] = {"text/html": _WIDGET_NOTE, "text/plain": "(widget)"}
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def execute_notebooks(out_dir: Path) -> None:
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        print(f"executing notebooks/{name}.ipynb", flush=True)
        pm.execute_notebook(
            str(ROOT / "notebooks" / f"{name}.ipynb"),
            str(out_dir / f"{name}.ipynb"),
            cwd=str(ROOT / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
        static_widgets(out_dir / f"{name}.ipynb")


def external_fetches(site: Path) -> list[str]:
    """``file: snippet`` of every tag in the site that loads a resource from the network."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in {".html", ".css", ".js"} or "search" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _FETCH.finditer(text):
            start = max(match.start() - 40, 0)
            found.append(f"{path.relative_to(site)}: {text[start : match.end() + 60]!r}")
        if path.suffix != ".html":
            continue
        for script in _SCRIPT.finditer(text):
            for url in _URL.findall(script.group(1)):
                conditional = any(c in url for c in _CONDITIONAL) and 'jp-Mermaid"' not in text
                if not conditional:
                    found.append(f"{path.relative_to(site)}: script loads {url}")
    return found


def main() -> int:
    execute_notebooks(ROOT / "docs" / "notebooks")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-q"], cwd=ROOT, check=True
    )
    fetches = external_fetches(SITE)
    if fetches:
        print("the site would fetch from the network:", *fetches[:20], sep="\n  ")
        return 1
    print(f"site: {SITE / 'index.html'} (nothing fetched from the network)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
