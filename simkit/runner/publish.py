"""Publishing an executed notebook: scrub machine paths, render offline HTML, move into place.

A report is written to a staging folder and moved into place only when it is complete, so
a reader never sees a half-written report.
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from simkit import _browser
from simkit._resources import resource_dir
from simkit.errors import SimkitError
from simkit.paths import atomic_write_text, ensure_inside  # atomic_write_text: re-exported
from simkit.report.section import SUMMARY_MIME

__all__ = [
    "TEMPLATE",
    "atomic_replace_dir",
    "atomic_write_text",
    "extract_summary",
    "render_html",
    "render_pdf",
    "scrub_paths",
    "template_root",
]

#: The nbconvert template (``templates/offline``) without nbconvert's CDN tags.
TEMPLATE = "offline"
_ABSOLUTE = re.compile(r"(?<![\w.:/])(?:/[\w.@+-]+){2,}/?")


def template_root() -> Path:
    """The folder holding ``templates/offline`` (the repository's ``templates``)."""
    root = resource_dir("templates")
    if not (root / TEMPLATE / "index.html.j2").is_file():
        raise SimkitError(f"the offline nbconvert template is missing: {root / TEMPLATE}")
    return root


def _machine_roots(extra: list[str | Path]) -> list[str]:
    roots = {str(Path(p).resolve()) for p in extra if p}
    roots |= {str(Path.home()), sys.prefix, tempfile.gettempdir(), os.getcwd()}
    return sorted((r for r in roots if r not in ("", "/")), key=len, reverse=True)


def _scrub_text(text: str, roots: list[str]) -> str:
    for root in roots:
        text = text.replace(root + "/", "").replace(root, ".")
    return text


def _scrub_metadata(node: Any, roots: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _scrub_metadata(v, roots) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrub_metadata(v, roots) for v in node]
    if isinstance(node, str):
        # a path of this machine that no known root covers still gives way to its name
        return _ABSOLUTE.sub(lambda m: Path(m.group(0)).name or ".", _scrub_text(node, roots))
    return node


def scrub_paths(nb: Any, extra_roots: list[str | Path] = ()) -> Any:
    """Remove this machine's absolute paths from a notebook (in place; also returned).

    Papermill records the input and output paths and every parameter in the notebook's
    metadata; a traceback may name site-packages.  Known roots (the working, staging and
    home folders, the venv, the temp folder) become relative; any other absolute path in
    metadata is cut to its file name.
    """
    roots = _machine_roots(list(extra_roots))
    nb.metadata = _scrub_metadata(dict(nb.metadata), roots)
    for cell in nb.cells:
        cell.metadata = _scrub_metadata(dict(cell.metadata), roots)
        cell.source = _scrub_text(cell.source, roots)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _scrub_text(output["text"], roots)
            if "traceback" in output:
                output["traceback"] = [_scrub_text(t, roots) for t in output["traceback"]]
            if "evalue" in output:
                output["evalue"] = _scrub_text(output["evalue"], roots)
    return nb


def extract_summary(nb: Any) -> dict[str, Any] | None:
    """The summary the notebook published under :data:`SUMMARY_MIME`, if any."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SUMMARY_MIME in data:
                value = data[SUMMARY_MIME]
                return json.loads(value) if isinstance(value, str) else dict(value)
    return None


def _without_summary(nb: Any) -> Any:
    """A copy of ``nb`` without the summary output (for the runner, not for readers),
    titled after its campaign (the page title and the PDF's document title)."""
    shown = copy.deepcopy(nb)
    summary = extract_summary(nb)
    if summary and summary.get("name") and "title" not in shown.metadata:
        name, cid = str(summary["name"]), str(summary.get("campaign_id", ""))
        shown.metadata["title"] = (name if cid in name else f"{name} ({cid})") + " · simkit"
    for cell in shown.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if SUMMARY_MIME not in o.get("data", {})]
    return shown


@functools.cache
def _exporter() -> Any:
    """One HTML exporter per process: building one (template lookup, Jinja environment)
    costs more than rendering a report, and a worker renders many."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(template_root())],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_html(nb: Any) -> str:
    """Offline HTML of an executed notebook, without input cells or prompts."""
    body, _ = _exporter().from_notebook_node(_without_summary(nb))
    return body


def render_pdf(nb: Any) -> bytes:
    """A PDF of an executed notebook, as its HTML report reads, printed by the system Chromium.

    nbconvert's :class:`~nbconvert.exporters.webpdf.WebPDFExporter` renders the page with
    the same offline template and hidden inputs as :func:`render_html`.  Its browser launch
    takes no executable path (nbconvert 7.17) and would look for a Playwright-downloaded
    Chromium, which this machine cannot fetch, so the print step is replaced by one that
    launches Debian's ``/usr/bin/chromium`` (:mod:`simkit._browser`) with the network off.

    Raises
    ------
    SimkitError
        When Chromium or Playwright is not installed (the message says how to install it).
    """
    from nbconvert.exporters.webpdf import WebPDFExporter

    if not _browser.CHROMIUM.is_file():
        raise SimkitError(
            f"pdf: true needs Chromium at {_browser.CHROMIUM} to print the report (apt-get install "
            "chromium), or set pdf: false"
        )

    class _SystemChromiumPDF(WebPDFExporter):
        def run_playwright(self, html: str) -> bytes:
            # Playwright's sync API refuses to run inside an asyncio loop (a kernel's)
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(_print_pdf, html).result()

    exporter = _SystemChromiumPDF(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(template_root())],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(_without_summary(nb))
    return bytes(body)


def _print_pdf(html: str) -> bytes:
    """Print an HTML page to PDF with the system Chromium, offline, print media."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise SimkitError("pdf: true needs playwright (pip install playwright)") from exc

    with tempfile.TemporaryDirectory(prefix="simkit-pdf-") as folder:
        page_file = Path(folder) / "report.html"
        page_file.write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(_browser.CHROMIUM), args=list(_browser.CHROMIUM_ARGS)
            )
            try:
                page = browser.new_context(offline=True).new_page()
                page.emulate_media(media="print")
                page.goto(page_file.as_uri(), wait_until="load")
                return page.pdf(print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()


def atomic_replace_dir(staged: Path, final: Path) -> None:
    """Move a complete staging folder into place, replacing any previous report.

    Both sit in the same output folder (one filesystem), so each rename is atomic; the
    previous report is moved aside first and removed only after the new one is in place.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex}")
        os.replace(final, old)
    try:
        os.replace(staged, final)
    except OSError:
        if old is not None:  # put the previous report back: a failed move loses nothing
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(ensure_inside(final.parent, old), ignore_errors=True)
