"""A report section: a title, plain words, tables, charts and the numbers behind them.

Sections are computed by :mod:`simkit.report` and only displayed by notebooks
(:func:`show`).  A section whose engine is not available says so (``status="missing"``)
and carries no invented content.
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from simkit.report.format import Display, card_html, table_html
from simkit.viz import use_offline_renderer

__all__ = [
    "SUMMARY_MIME",
    "Section",
    "drawn",
    "missing",
    "publish_summary",
    "setup_notebook",
    "show",
    "skipped",
    "without_charts",
]

#: Mime type under which the notebook hands the summary to the runner (not rendered in HTML).
SUMMARY_MIME = "application/vnd.simkit.summary+json"

Status = Literal["ok", "missing", "failed", "skipped"]

_DRAW_CHARTS: ContextVar[bool] = ContextVar("simkit_report_draw_charts", default=True)


@contextlib.contextmanager
def without_charts() -> Iterator[None]:
    """Sections built inside have no charts (``Section.charts == ()``); nothing else changes.

    For the summary-only batch path: ``summary.json`` holds no chart, and drawing them was
    an eighth of a campaign's time there (issue 21)."""
    token = _DRAW_CHARTS.set(False)
    try:
        yield
    finally:
        _DRAW_CHARTS.reset(token)


def drawn(*draw: Callable[[], Any]) -> tuple[Any, ...]:
    """A section's ``charts``: each ``draw()`` called now, or none inside
    :func:`without_charts`."""
    return tuple(d() for d in draw) if _DRAW_CHARTS.get() else ()


@dataclass(frozen=True)
class Section:
    """One section of a report.

    Attributes
    ----------
    key
        Registry name (``data_quality``, ``history``, ``forecast`` ...).
    title
        Heading shown in the report.
    status
        ``ok``; ``missing`` when the engine behind the section is not available;
        ``failed`` when it is there but could not run on this data (the text says why);
        ``skipped`` when it does not apply to this campaign (a stopped campaign's forecast).
    text
        Plain-language paragraphs (already rounded for people).
    tables
        Captioned tables, rounded for display.
    charts
        Altair charts, drawn by the notebook's renderer.
    numbers
        Full-precision numbers for ``summary.json`` (JSON-ready).
    html
        Pre-rendered HTML built by simkit from escaped values (e.g. tables with links).
    display
        What formatting needs to know (currency, targets); tables keep plain numbers and
        are formatted only when shown (:mod:`simkit.report.format`).
    card
        Show ``text`` as a headline card (one sentence a line, lead phrases in bold).
    """

    key: str
    title: str
    status: Status = "ok"
    text: tuple[str, ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    charts: tuple[Any, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)
    html: tuple[str, ...] = ()
    display: Display = field(default_factory=Display)
    card: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "text": list(self.text),
            "numbers": self.numbers,
        }

    def _repr_html_(self) -> str:
        return _section_html(self)


def skipped(key: str, title: str, why: str) -> Section:
    """A section left out on purpose for this campaign, with the sentence that says why."""
    return Section(key=key, title=title, status="skipped", text=(why,))


def missing(key: str, title: str, what: str) -> Section:
    """A section whose engine is not available: it says what is missing, nothing more."""
    return Section(key=key, title=title, status="missing", text=(what,))


def _table_html(caption: str, table: pd.DataFrame, display: Display) -> str:
    body = table_html(table, display)
    return f"<p><b>{html.escape(caption)}</b></p>{body}" if caption else body


def _section_html(section: Section) -> str:
    parts = [f"<h2>{html.escape(section.title)}</h2>"]
    amber = ' style="color:#8a6d3b"'
    if section.card:
        parts.append(card_html(section.text))
    else:
        parts += [
            f"<p{amber if section.status != 'ok' or p.startswith('Warning:') else ''}>"
            f"{html.escape(p)}</p>"
            for p in section.text
        ]
    parts += [_table_html(caption, table, section.display) for caption, table in section.tables]
    parts += list(section.html)
    return "\n".join(parts)


def show(section: Section) -> None:
    """Display a section in the notebook: heading, words, tables, then its charts."""
    from IPython.display import HTML, display

    display(HTML(_section_html(section)))
    for chart in section.charts:
        display(chart)


def publish_summary(summary: dict[str, Any]) -> None:
    """Hand the summary to the runner inside the executed notebook.

    It is displayed under :data:`SUMMARY_MIME`, which the runner reads to write
    ``summary.json``; HTML exporters skip the unknown mime type, so readers never see it.
    """
    from IPython.display import display

    display({SUMMARY_MIME: json.loads(json.dumps(summary))}, raw=True)


def setup_notebook() -> None:
    """Prepare a report kernel: offline SVG charts, and no log lines in the published page.

    Engine warnings that matter are already written into the sections (forecast and
    backtest notes); log records would otherwise print to stderr and show in the HTML.
    """
    import logging

    use_offline_renderer()
    for name, level in (
        ("simkit", logging.ERROR),
        ("prophet", logging.CRITICAL),
        ("cmdstanpy", logging.CRITICAL),
    ):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(logging.NullHandler())
