"""The dashboard's "Sources" tab: the same health as ``simkit sources status``."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from simkit.connectors.status import SourceStatus, sources_status
from simkit.errors import SimkitError

__all__ = ["sources_html", "sources_tab"]


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else html.escape(str(value))


def sources_html(statuses: list[SourceStatus]) -> str:
    """A table of every source's health (plain HTML, tested without widgets)."""
    head = (
        "<tr><th>source</th><th>configured</th><th>last success</th><th>last error</th>"
        "<th>p50 / p95</th><th>requests today</th><th>headroom</th><th>cache age</th></tr>"
    )
    rows = []
    for s in statuses:
        latency = "-" if s.p50_ms is None else f"{s.p50_ms:.0f} / {s.p95_ms:.0f} ms"
        age = "-" if s.cache_age_seconds is None else f"{s.cache_age_seconds / 3600:.1f} h"
        error = "-" if not s.last_error else f"{_cell(s.last_error_at)}: {_cell(s.last_error)}"
        rows.append(
            "<tr>"
            f"<td>{_cell(s.name)}</td>"
            f"<td>{'yes' if s.configured else 'no'} ({_cell(s.configured_by)})</td>"
            f"<td>{_cell(s.last_success)}</td><td>{error}</td><td>{latency}</td>"
            f"<td>{s.requests_today}</td>"
            f"<td>{'-' if s.headroom_pct is None else f'{s.headroom_pct:.0f}%'}</td>"
            f"<td>{age}</td></tr>"
        )
    return f"<table class='simkit-sources'>{head}{''.join(rows)}</table>"


def sources_tab(workdir: Path) -> tuple[str, Any]:
    """("Sources", widget): the table, and a button that reads the state again."""
    import ipywidgets as w

    cache_dir = workdir / ".simkit-cache"

    def _html() -> str:
        try:
            return sources_html(sources_status(cache_dir=cache_dir))
        except SimkitError as exc:  # a damaged state or key index: say so, keep the page
            return f"<i>The sources' health cannot be read: {html.escape(str(exc))}</i>"

    table = w.HTML(_html())
    refresh = w.Button(description="Refresh", icon="refresh")

    def _refresh(_button: Any = None) -> None:
        table.value = _html()

    refresh.on_click(_refresh)
    return "Sources", w.VBox([refresh, table])
