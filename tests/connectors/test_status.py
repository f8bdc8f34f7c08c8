"""``simkit sources status`` and the dashboard's Sources tab read the same health state."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.connectors.base import AuthError
from simkit.connectors.meta import META, MetaConnector, fetch_meta_insights
from simkit.connectors.status import sources_status
from simkit.dashboard.sources import sources_html, sources_tab

SENTINEL = "SENTINEL-KEY-7f3a9c1e5b"
FAST = replace(META, backoff_seconds=0.01, requests_per_second=200)
runner = CliRunner()


def _fetch(server) -> None:
    with MetaConnector(FAST, key=SENTINEL, base_url=server.url, sleep=lambda s: None) as c:
        fetch_meta_insights(
            c, account="act_1", since=date(2026, 9, 1), until=date(2026, 9, 20), page_size=20
        )


def test_status_before_anything_ran_says_not_configured(workdir) -> None:
    by = {s.name: s for s in sources_status()}
    assert set(by) == {"meta", "semrush", "trends"}
    assert (
        by["meta"].configured is False and "META_ACCESS_TOKEN not set" in by["meta"].configured_by
    )
    assert by["meta"].last_success is None and by["meta"].requests_today == 0
    assert by["trends"].configured is False


def test_status_after_fetches_shows_success_error_latency_requests_headroom_cache(
    workdir, fake_meta, monkeypatch, shared_data
) -> None:
    fake_meta.state.usage_pct = 40
    _fetch(fake_meta)  # 3 pages
    fake_meta.state.token = "other"
    with MetaConnector(FAST, key=SENTINEL, base_url=fake_meta.url, cache=False) as c:
        with pytest.raises(AuthError, match="error code 190"):
            fetch_meta_insights(c, account="act_1", since=date(2026, 9, 1), until=date(2026, 9, 2))
    monkeypatch.setenv("META_ACCESS_TOKEN", SENTINEL)
    by = {s.name: s for s in sources_status(trends_dir=shared_data / "google_trends")}
    meta = by["meta"]
    assert meta.configured is True
    assert meta.last_success is not None
    assert meta.last_error is not None and "error code 190" in meta.last_error
    assert meta.p50_ms is not None and meta.p95_ms >= meta.p50_ms
    assert meta.requests_today == 4
    assert meta.headroom_pct == 60.0
    assert meta.cache_age_seconds is not None and meta.cache_age_seconds < 600
    assert by["trends"].configured is True

    done = runner.invoke(app, ["sources", "status", "--format", "json"])
    assert done.exit_code == 0, done.output
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["meta"]["requests_today"] == 4 and rows["meta"]["headroom_pct"] == 60.0
    assert SENTINEL not in done.output

    page = sources_html(sources_status())
    assert "<td>meta</td>" in page and "60%" in page and "error code 190" in page
    title, widget = sources_tab(workdir)
    assert title == "Sources" and "<td>meta</td>" in widget.children[1].value
