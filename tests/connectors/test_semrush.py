"""``simkit fetch semrush`` against the local fake SEMrush API."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.connectors.base import AuthError
from simkit.connectors.semrush import (
    SEMRUSH,
    SemrushConnector,
    fetch_keywords,
    parse_phrase_this,
    read_phrases,
)
from simkit.errors import DataError

SENTINEL = "SENTINEL-KEY-7f3a9c1e5b"
FAST = replace(SEMRUSH, backoff_seconds=0.01, backoff_max_seconds=0.05, requests_per_second=200)
runner = CliRunner()


def _connector(server, cache=None):
    return SemrushConnector(
        FAST, key=SENTINEL, base_url=server.url, sleep=lambda s: None, cache=cache
    )


def test_one_request_per_phrase_with_the_documented_parameters(workdir, fake_semrush) -> None:
    with _connector(fake_semrush) as connector:
        result = fetch_keywords(connector, phrases=["running shoes", "trail shoes"])
    assert len(fake_semrush.state.requests) == 2
    q = fake_semrush.state.requests[0]["query"]
    assert q["type"] == "phrase_this" and q["export_columns"] == "Ph,Nq,Cp,Co"
    assert q["database"] == "us" and q["phrase"] == "running shoes"
    row = result.data.set_index("phrase").loc["running shoes"]
    assert row["search_volume"] == 110000 and row["cpc"] == pytest.approx(1.23)
    assert row["competition"] == pytest.approx(1.0) and row["status"] == "ok"


def test_http_200_error_50_nothing_found_is_recorded_not_data(workdir, fake_semrush) -> None:
    with _connector(fake_semrush) as connector:
        result = fetch_keywords(connector, phrases=["zzqx nonsense", "trail shoes"])
    rows = result.data.set_index("phrase")
    assert rows.loc["zzqx nonsense", "status"] == "nothing found"
    assert pd.isna(rows.loc["zzqx nonsense", "search_volume"])
    assert rows.loc["trail shoes", "status"] == "ok"
    assert result.provenance["nothing_found"] == ["zzqx nonsense"]


def test_a_wrong_key_stops_the_fetch_with_an_auth_error(workdir, fake_semrush) -> None:
    fake_semrush.state.token = "the-right-key"
    with _connector(fake_semrush) as connector:
        with pytest.raises(AuthError, match="ERROR 120 :: WRONG KEY.*SEMRUSH_API_KEY") as info:
            fetch_keywords(connector, phrases=["running shoes", "trail shoes"])
    assert SENTINEL not in str(info.value)
    assert len(fake_semrush.state.requests) == 1


def test_cache_first_a_second_fetch_sends_no_request(workdir, fake_semrush) -> None:
    with _connector(fake_semrush) as connector:
        fetch_keywords(connector, phrases=["running shoes"])
    with _connector(fake_semrush) as connector:
        again = fetch_keywords(connector, phrases=["running shoes", "trail shoes"])
        assert connector.stats.cache_hits == 1 and connector.stats.requests == 1
    assert [r["query"]["phrase"] for r in fake_semrush.state.requests] == [
        "running shoes",
        "trail shoes",
    ]
    assert bool(again.data.set_index("phrase").loc["running shoes", "from_cache"]) is True


def test_a_500_then_success_and_a_429_with_retry_after(workdir, fake_semrush) -> None:
    fake_semrush.state.faults = ["500", "429"]
    sleeps: list[float] = []
    connector = SemrushConnector(
        FAST, key=SENTINEL, base_url=fake_semrush.url, sleep=sleeps.append, cache=False
    )
    with connector:
        result = fetch_keywords(connector, phrases=["running shoes"])
    assert result.data["status"].tolist() == ["ok"]
    assert len(sleeps) == 2 and sleeps[1] == pytest.approx(1.0)


def test_a_failing_source_falls_back_to_the_stale_cache_and_says_so(workdir, fake_semrush):
    stale = replace(FAST, cache_ttl_seconds=0.0, max_attempts=2)
    with SemrushConnector(
        stale, key=SENTINEL, base_url=fake_semrush.url, sleep=lambda s: None
    ) as c:
        fetch_keywords(c, phrases=["running shoes"])
    fake_semrush.state.faults = ["500", "500"]
    with SemrushConnector(
        stale, key=SENTINEL, base_url=fake_semrush.url, sleep=lambda s: None
    ) as c:
        result = fetch_keywords(c, phrases=["running shoes"])
        assert c.stats.stale_hits == 1
        assert "stale cached reply" in c.stats.notes[0]
    assert bool(result.data["stale"].iloc[0]) is True
    assert result.data["search_volume"].iloc[0] == 110000


def test_parse_and_read_phrases(tmp_path) -> None:
    rows = parse_phrase_this("Keyword;Search Volume;CPC;Competition\r\nseo;110000;14.82;0.5\r\n")
    assert rows == [{"phrase": "seo", "search_volume": 110000.0, "cpc": 14.82, "competition": 0.5}]
    path = tmp_path / "phrases.txt"
    path.write_text("# shoes\nrunning shoes\nRunning  Shoes\n\ntrail shoes # trail\n")
    assert read_phrases(path) == ["running shoes", "trail shoes"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(DataError, match="no phrases in the file"):
        read_phrases(empty)


def test_cli_fetch_semrush_writes_rows_and_provenance_and_never_the_key(
    workdir, fake_semrush, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("simkit.cli.fetch.SEMRUSH", FAST)
    monkeypatch.setenv("SEMRUSH_API_KEY", SENTINEL)
    phrases = workdir / "phrases.txt"
    phrases.write_text("running shoes\ntrail shoes\nzzqx nonsense\n")
    out = workdir / "kw.csv"
    args = ["fetch", "semrush", "--phrases", str(phrases), "--database", "us", "--output", str(out)]
    done = runner.invoke(app, [*args, "--base-url", fake_semrush.url])
    assert done.exit_code == 0, done.output
    assert "2 of 3 phrase(s) found" in done.output
    written = pd.read_csv(out)
    assert written["status"].tolist() == ["ok", "ok", "nothing found"]
    provenance = json.loads((workdir / "kw.csv.provenance.json").read_text())
    assert provenance["nothing_found"] == ["zzqx nonsense"]
    fake_semrush.state.token = "another"
    failed = runner.invoke(app, [*args, "--base-url", fake_semrush.url, "--no-cache"])
    assert failed.exit_code == 1
    assert "WRONG KEY" in failed.output
    assert any("key=***" in r.getMessage() for r in caplog.records)
    for text in (done.output, failed.output, caplog.text):
        assert SENTINEL not in text
    for path in (p for p in workdir.rglob("*") if p.is_file()):
        assert SENTINEL.encode() not in path.read_bytes(), path


def test_the_fake_refuses_a_request_without_database_or_phrase(fake_semrush) -> None:
    """phrase_this requires ``database`` and ``phrase``: the fake answers ERROR 40 without
    them (on HTTP 200, as SEMrush does), so a client that drops one cannot pass."""
    base = {"type": "phrase_this", "key": fake_semrush.state.token, "export_columns": "Ph,Nq,Cp,Co"}
    for missing in ("database", "phrase"):
        params = {**base, "database": "us", "phrase": "running shoes"}
        params.pop(missing)
        reply = httpx.get(fake_semrush.url + "/", params=params)
        assert (reply.status_code, reply.text) == (200, "ERROR 40 :: MANDATORY PARAMETER NOT SET")
    ok = httpx.get(
        fake_semrush.url + "/", params={**base, "database": "us", "phrase": "trail shoes"}
    )
    assert ok.text.splitlines()[0] == "Keyword;Search Volume;CPC;Competition"


def test_cli_an_empty_phrases_file_is_one_line_and_writes_nothing(
    workdir, fake_semrush, monkeypatch
):
    monkeypatch.setenv("SEMRUSH_API_KEY", SENTINEL)
    phrases = workdir / "phrases.txt"
    phrases.write_text("# only a comment\n\n")
    out = workdir / "kw.csv"
    done = runner.invoke(
        app,
        ["fetch", "semrush", "--phrases", str(phrases), "--output", str(out),
         "--base-url", fake_semrush.url],
    )  # fmt: skip
    assert done.exit_code == 1
    assert done.output == (
        f"simkit fetch semrush: error: file {phrases}: no phrases in the file "
        "(one a line, or a 'phrase' column)\n"
    )
    assert fake_semrush.state.requests == [] and list(workdir.glob("kw*")) == []


def test_cli_an_output_that_is_a_folder_is_one_line_before_any_request(
    workdir, fake_semrush, monkeypatch
) -> None:
    monkeypatch.setenv("SEMRUSH_API_KEY", SENTINEL)
    phrases = workdir / "phrases.txt"
    phrases.write_text("running shoes\n")
    (workdir / "out").mkdir()
    done = runner.invoke(
        app,
        ["fetch", "semrush", "--phrases", str(phrases), "--output", str(workdir / "out"),
         "--base-url", fake_semrush.url],
    )  # fmt: skip
    assert done.exit_code == 1
    assert done.output == (
        f"simkit fetch semrush: error: file {workdir / 'out'}: is a folder: --output names "
        "the file to write\n"
    )
    assert fake_semrush.state.requests == []
    assert sorted(p.name for p in workdir.iterdir()) == ["out", "phrases.txt"]


def test_no_api_units_left_stops_the_fetch_unretried_and_writes_nothing(
    workdir, fake_semrush, monkeypatch
) -> None:
    monkeypatch.setattr("simkit.cli.fetch.SEMRUSH", FAST)
    monkeypatch.setenv("SEMRUSH_API_KEY", SENTINEL)
    phrases = workdir / "phrases.txt"
    phrases.write_text("running shoes\ntrail shoes\n")
    fake_semrush.state.faults = ["units"]
    out = workdir / "kw.csv"
    done = runner.invoke(
        app,
        ["fetch", "semrush", "--phrases", str(phrases), "--output", str(out),
         "--base-url", fake_semrush.url],
    )  # fmt: skip
    assert done.exit_code == 1
    assert done.output == (
        "simkit fetch semrush: error: semrush (HTTP 200): ERROR 132 :: API UNITS BALANCE IS "
        "ZERO: no API units or request quota left\n"
    )
    assert len(fake_semrush.state.requests) == 1  # not retried, the next phrase not asked
    assert list(workdir.glob("kw*")) == []


def test_cli_a_bad_database_is_named_before_the_missing_key(workdir, fake_semrush) -> None:
    phrases = workdir / "phrases.txt"
    phrases.write_text("running shoes\n")
    done = runner.invoke(
        app,
        ["fetch", "semrush", "--phrases", str(phrases), "--database", "USA", "--output",
         str(workdir / "kw.csv"), "--base-url", fake_semrush.url],
    )  # fmt: skip
    assert done.exit_code == 1
    assert done.output == (
        "simkit fetch semrush: error: semrush: --database 'USA' is not a SEMrush database "
        "code (us, uk, fr, ...)\n"
    )
    assert fake_semrush.state.requests == [] and list(workdir.glob("kw*")) == []
