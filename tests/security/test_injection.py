"""HTML and script injection through campaign ids, names and notes: reports, index, dashboard."""

from __future__ import annotations

import pandas as pd
import pytest

from simkit.dashboard.app import DashboardApp
from simkit.dashboard.model import DashboardSettings, WhatIfModel
from simkit.report import format as fmt
from simkit.report.portfolio import _link

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _no_markup(html: str) -> None:
    assert "<script" not in html and "<img" not in html and 'onerror="' not in html
    assert "&lt;script&gt;" in html


def test_report_tables_and_cards_escape_text() -> None:
    table = pd.DataFrame({"campaign": [EVIL], "name": [EVIL], "spend": [1.0]})
    _no_markup(fmt.table_html(table))
    _no_markup(fmt.card_html([EVIL], subtitle=EVIL, footnotes=[EVIL], warnings=[EVIL]))


def test_the_index_escapes_ids_errors_and_links() -> None:
    link = _link({"campaign_id": EVIL, "status": "succeeded", "report": f"{EVIL}/report.html"})
    _no_markup(link)
    earlier = _link({"campaign_id": EVIL, "status": "failed", "previous_report": {"report": EVIL}})
    _no_markup(earlier)


def _html_values(widget) -> list[str]:  # noqa: ANN001
    out = []
    value = getattr(widget, "value", None)
    if type(widget).__name__ == "HTML" and isinstance(value, str):
        out.append(value)
    for child in getattr(widget, "children", ()):
        out += _html_values(child)
    return out


@pytest.fixture
def evil_model(loaded, forecaster) -> WhatIfModel:  # noqa: ANN001
    campaigns = loaded.campaigns.copy()
    campaigns["name"] = EVIL
    return WhatIfModel(
        loaded.data,
        DashboardSettings(data="x.csv", n_paths=2_000),
        campaigns=campaigns,
        forecast_fn=forecaster,
    )


@pytest.mark.slow  # a baseline and a preview: about 10 s on the shared machine
def test_the_dashboard_escapes_names_and_notes(evil_model: WhatIfModel) -> None:
    app = DashboardApp(evil_model, cards_in_background=False)
    root = app.start()
    app._on_preview()
    app.show_error(EVIL)
    pages = _html_values(root) + [app.status.value, app.delta.value]
    assert pages and all("<script" not in p and "<img" not in p for p in pages)
    assert any(EVIL.split(">")[0].replace("<", "&lt;") in p for p in pages)
