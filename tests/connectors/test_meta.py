"""``simkit fetch meta`` against the local fake Graph API: paging, rate limits, errors,
the cache, and a file ``simkit validate`` accepts with the server's rows and sums."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.connectors.base import (
    ApiError,
    AuthError,
    ConnectorError,
    RateLimitedError,
    TransientError,
    retry_after_seconds,
)
from simkit.connectors.meta import META, MetaConnector, fetch_meta_insights, usage_percent

SENTINEL = "SENTINEL-KEY-7f3a9c1e5b"
FAST = replace(
    META, backoff_seconds=0.01, backoff_max_seconds=0.05, timeout_seconds=5, requests_per_second=200
)


def _connector(server, sleeps: list[float] | None = None, spec=FAST, cache=None):
    recorder = sleeps.append if sleeps is not None else (lambda s: None)
    return MetaConnector(spec, key=SENTINEL, base_url=server.url, sleep=recorder, cache=cache)


def _server_rows(server, since: str, until: str):
    return [r for r in server.state.rows if since <= r["date_start"] <= until]


def _fetch(connector, since=date(2026, 9, 1), until=date(2026, 9, 20), page_size=7):
    return fetch_meta_insights(
        connector, account="act_1234567890", since=since, until=until, page_size=page_size
    )


def test_every_page_is_read_and_the_request_is_the_documented_one(workdir, fake_meta) -> None:
    with _connector(fake_meta) as connector:
        result = _fetch(connector)
    assert result.pages == 9  # 60 rows, 7 a page
    assert result.raw_rows == 60
    first = fake_meta.state.requests[0]
    assert first["path"] == "/v21.0/act_1234567890/insights"
    q = first["query"]
    assert q["level"] == "campaign" and q["time_increment"] == "1"
    assert json.loads(q["time_range"]) == {"since": "2026-09-01", "until": "2026-09-20"}
    assert {"actions", "action_values", "spend", "impressions"} <= set(q["fields"].split(","))
    # the follow-up requests used the cursor of paging.next
    assert [r["query"].get("after") is not None for r in fake_meta.state.requests] == [False] + [
        True
    ] * 8


def test_purchases_are_counted_once_not_summed_over_action_types(workdir, fake_meta) -> None:
    with _connector(fake_meta) as connector:
        result = _fetch(connector)
    rows = _server_rows(fake_meta, "2026-09-01", "2026-09-20")
    expected = sum(
        float(next(a["value"] for a in r.get("actions", []) if a["action_type"] == "omni_purchase"))
        for r in rows
        if r.get("actions")
    )
    assert result.data["conversions"].sum() == pytest.approx(expected)
    assert result.provenance["purchase_action_types_used"]["omni_purchase"] > 0


def test_429_with_retry_after_is_waited_out_as_the_server_asked(workdir, fake_meta) -> None:
    fake_meta.state.faults = ["429"]
    sleeps: list[float] = []
    with _connector(fake_meta, sleeps) as connector:
        result = _fetch(connector)
    assert result.raw_rows == 60
    assert sleeps[0] == pytest.approx(1.0)  # Retry-After: 1
    assert connector.stats.retries == 1


def test_meta_error_code_17_is_a_rate_limit_and_retried(workdir, fake_meta) -> None:
    fake_meta.state.faults = ["code17", "code17"]
    sleeps: list[float] = []
    with _connector(fake_meta, sleeps) as connector:
        result = _fetch(connector)
    assert result.raw_rows == 60
    assert len(sleeps) == 2
    assert connector.stats.retries == 2


def test_code_17_that_outlasts_the_attempts_is_a_clear_rate_limit_error(workdir, fake_meta):
    fake_meta.state.faults = ["code17"] * 10
    spec = replace(FAST, max_attempts=3)
    with _connector(fake_meta, [], spec=spec) as connector:
        with pytest.raises(RateLimitedError, match=r"error code 17/2446079.*gave up after 3"):
            _fetch(connector)


def test_a_500_then_success(workdir, fake_meta) -> None:
    fake_meta.state.faults = ["500"]
    with _connector(fake_meta, []) as connector:
        result = _fetch(connector)
    assert result.raw_rows == 60
    assert connector.stats.retries == 1


def test_a_timeout_is_retried_then_fails_within_the_deadline(workdir, fake_meta) -> None:
    fake_meta.state.faults = ["slow", "slow", "slow"]
    fake_meta.state.delay_seconds = 1.0
    spec = replace(FAST, timeout_seconds=0.2, max_attempts=2)
    with _connector(fake_meta, [], spec=spec) as connector:
        with pytest.raises(TransientError, match=r"timed out after 0.2 s.*gave up after 2"):
            _fetch(connector)


def test_a_timeout_then_success(workdir, fake_meta) -> None:
    fake_meta.state.faults = ["slow"]
    fake_meta.state.delay_seconds = 1.0
    spec = replace(FAST, timeout_seconds=0.3)
    with _connector(fake_meta, [], spec=spec) as connector:
        assert _fetch(connector).raw_rows == 60


def test_the_deadline_stops_retries_that_would_outlast_it(workdir, fake_meta) -> None:
    fake_meta.state.faults = ["code17"] * 10
    spec = replace(FAST, backoff_seconds=30.0, backoff_max_seconds=30.0, deadline_seconds=5.0)
    with _connector(fake_meta, [], spec=spec) as connector:
        with pytest.raises(RateLimitedError, match="gave up after 1 attempt"):
            _fetch(connector)


def test_a_wrong_token_is_an_auth_error_that_names_the_key_not_its_value(workdir, fake_meta):
    fake_meta.state.token = "the-right-token"
    with _connector(fake_meta, []) as connector:
        with pytest.raises(AuthError, match="error code 190.*META_ACCESS_TOKEN") as info:
            _fetch(connector)
    assert SENTINEL not in str(info.value)
    assert len(fake_meta.state.requests) == 1  # an auth error is not retried


def test_a_cache_hit_sends_no_request(workdir, fake_meta) -> None:
    with _connector(fake_meta) as connector:
        first = _fetch(connector)
    sent = len(fake_meta.state.requests)
    with _connector(fake_meta) as connector:
        again = _fetch(connector)
        assert connector.stats.cache_hits == first.pages
        assert connector.stats.requests == 0
    assert len(fake_meta.state.requests) == sent
    pd.testing.assert_frame_equal(first.data, again.data)


def test_high_business_use_case_usage_slows_down_before_the_limit(workdir, fake_meta) -> None:
    fake_meta.state.usage_pct = 95
    sleeps: list[float] = []
    with _connector(fake_meta, sleeps) as connector:
        result = _fetch(connector)
    assert result.pages == 9
    assert len(sleeps) == 8 and min(sleeps) > 50  # a pause before each following page
    assert usage_percent(
        {"x-business-use-case-usage": json.dumps({"1": [{"call_count": 95}]})}
    ) == (
        95.0,
        None,
    )


def test_the_rate_limiter_keeps_the_declared_pace(workdir, fake_meta) -> None:
    spec = replace(FAST, name="meta-paced", requests_per_second=3)
    started = time.monotonic()
    with _connector(fake_meta, spec=spec, cache=False) as connector:
        result = _fetch(connector, page_size=10)  # 6 pages at 3 a second
    elapsed = time.monotonic() - started
    assert result.pages == 6
    assert elapsed >= 0.9


def test_paging_next_on_another_host_is_refused(workdir, fake_meta) -> None:
    fake_meta.state.base = "http://203.0.113.9:9"  # the next links point elsewhere
    with _connector(fake_meta) as connector:
        with pytest.raises(ConnectorError, match="paging.next points to another host"):
            _fetch(connector)
    assert len(fake_meta.state.requests) == 1


# --------------------------------------------------------------------------- the CLI

runner = CliRunner()


def _cli_fetch(fake_meta, output: Path, monkeypatch, extra: list[str] | None = None):
    monkeypatch.setattr("simkit.cli.fetch.META", FAST)
    monkeypatch.setenv("META_ACCESS_TOKEN", SENTINEL)
    args = [
        "fetch",
        "meta",
        "--account",
        "act_1234567890",
        "--since",
        "2026-09-01",
        "--until",
        "2026-09-20",
        "--output",
        str(output),
        "--base-url",
        fake_meta.url,
        "--format",
        "json",
        *(extra or []),
    ]
    return runner.invoke(app, args)


def test_done_when_fetch_meta_survives_429_and_500_and_validate_accepts_the_file(
    workdir, fake_meta, monkeypatch, caplog
) -> None:
    fake_meta.state.faults = ["429", "500"]
    output = workdir / "meta.csv"
    caplog.set_level(logging.INFO)
    result = _cli_fetch(fake_meta, output, monkeypatch)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 60 and payload["fetch"]["retries"] == 2
    assert payload["validation"]["ok"] is True

    checked = runner.invoke(app, ["validate", str(output), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["ok"] is True
    assert sorted(c["campaign_id"] for c in report["campaigns"]) == [
        "23850001",
        "23850002",
        "23850003",
    ]

    written = pd.read_csv(output)
    rows = _server_rows(fake_meta, "2026-09-01", "2026-09-20")
    assert len(written) == len(rows) == 60
    assert written["spend"].sum() == pytest.approx(sum(float(r["spend"]) for r in rows))
    assert written["impressions"].sum() == sum(int(r["impressions"]) for r in rows)
    assert written["clicks"].sum() == sum(int(r.get("inline_link_clicks", 0)) for r in rows)
    revenue = sum(
        float(next(a["value"] for a in r["action_values"] if a["action_type"] == "omni_purchase"))
        for r in rows
        if r.get("action_values")
    )
    assert written["revenue"].sum() == pytest.approx(revenue)
    meta = pd.read_csv(workdir / "meta_meta.csv")
    assert set(meta["name"]) == {"Spring sale 1", "Spring sale 2", "Spring sale 3"}
    provenance = json.loads((workdir / "meta.csv.provenance.json").read_text())
    assert provenance["mapping"]["clicks"].startswith("inline_link_clicks")
    assert provenance["pages"] == 1  # 60 rows in one page of 500


def test_sentinel_key_is_in_no_output_cache_log_or_error(workdir, fake_meta, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    fake_meta.state.faults = ["500"]
    output = workdir / "out" / "meta.csv"
    ok = _cli_fetch(fake_meta, output, monkeypatch, ["--format", "table"])
    assert ok.exit_code == 0, ok.output
    # the cached page holds Meta's next link: fetch with small pages so there is one
    small = runner.invoke(
        app,
        [
            "fetch", "meta", "--account", "act_1234567890", "--since", "2026-09-01",
            "--until", "2026-09-03", "--output", str(workdir / "small.csv"),
            "--base-url", fake_meta.url, "--page-size", "2",
        ],
    )  # fmt: skip
    assert small.exit_code == 0, small.output
    fake_meta.state.token = "another-token"
    failed = _cli_fetch(fake_meta, workdir / "bad.csv", monkeypatch, ["--no-cache"])
    assert failed.exit_code == 1
    assert "error code 190" in failed.output
    texts = [ok.output, small.output, failed.output, caplog.text]
    texts += [r.getMessage() for r in caplog.records]
    assert all(SENTINEL not in text for text in texts)
    assert any("access_token=***" in r.getMessage() for r in caplog.records)
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert any(".simkit-cache/http/meta" in str(p) for p in files)
    for path in files:
        assert SENTINEL.encode() not in path.read_bytes(), path


# --------------------------------------------------------------------------- classification


def _response(status: int, body: object, headers: dict[str, str] | None = None):
    text = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(status, text=text, headers=headers or {})


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80000, 80004])
def test_meta_rate_limit_codes(workdir, code) -> None:
    connector = MetaConnector(FAST, key=SENTINEL, cache=False)
    body = {"error": {"message": "limit", "type": "OAuthException", "code": code}}
    with pytest.raises(RateLimitedError, match=f"error code {code}"):
        connector.check(_response(400, body))


def test_meta_estimated_time_to_regain_access_becomes_the_wait(workdir) -> None:
    connector = MetaConnector(FAST, key=SENTINEL, cache=False)
    usage = {
        "1": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 3}]
    }
    body = {"error": {"message": "limit", "code": 80004, "error_subcode": 2446079}}
    with pytest.raises(RateLimitedError) as info:
        connector.check(_response(400, body, {"x-business-use-case-usage": json.dumps(usage)}))
    assert info.value.retry_after == 180.0


def test_a_redirect_is_not_followed_and_a_non_page_is_an_error(workdir) -> None:
    connector = MetaConnector(FAST, key=SENTINEL, cache=False)
    with pytest.raises(ApiError, match="redirect, not followed"):
        connector.check(_response(302, "", {"location": "http://elsewhere/"}))
    with pytest.raises(ApiError, match="not an insights page"):
        connector.check(_response(200, {"rows": []}))


def test_retry_after_as_seconds_or_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None


def test_cache_keys_leave_the_credential_out(workdir) -> None:
    a = MetaConnector(FAST, key="token-one-111", cache=False)
    b = MetaConnector(FAST, key="token-two-222", cache=False)
    url = "https://graph.facebook.com/v21.0/act_1/insights?access_token=token-one-111&after=x"
    key_a = a.cache_key(url, {"limit": 5})
    assert key_a == b.cache_key(url.replace("token-one-111", "token-two-222"), {"limit": 5})
    assert key_a != a.cache_key(url.replace("after=x", "after=y"), {"limit": 5})


# --------------------------------------------------------------------------- review fixes


def test_the_fake_pages_as_documented_and_refuses_an_incomplete_request(workdir, fake_meta):
    """The fake is only worth testing against if it answers like the Graph API: the
    next link carries ``after`` = the page's ``cursors.after``, and a request without the
    insights parameters is an error code 100, not data."""
    with _connector(fake_meta) as connector:
        result = _fetch(connector)
    follow_ups = [r["query"]["after"] for r in fake_meta.state.requests[1:]]
    assert len(follow_ups) == result.pages - 1 == 8
    token = fake_meta.state.token
    first = httpx.get(
        f"{fake_meta.url}/v21.0/act_1234567890/insights",
        params={**fake_meta.state.requests[0]["query"], "access_token": token},
    ).json()
    assert first["paging"]["cursors"]["after"] == follow_ups[0]
    assert "previous" not in first["paging"]
    bare = httpx.get(
        f"{fake_meta.url}/v21.0/act_1234567890/insights", params={"access_token": token}
    )
    assert bare.status_code == 400 and bare.json()["error"]["code"] == 100
    assert set(bare.json()["error"]) == {"message", "type", "code", "fbtrace_id"}


def test_an_empty_page_with_a_next_link_does_not_end_the_paging(workdir, fake_meta) -> None:
    fake_meta.state.empty_pages_at = {14}  # the third page comes back empty, with next
    with _connector(fake_meta) as connector:
        result = _fetch(connector)
    assert result.pages == 10 and result.raw_rows == 60
    assert result.data.groupby("campaign_id").size().tolist() == [20, 20, 20]


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("1234567890", r"--account '1234567890' lacks the act_ prefix.*--account act_1234567890"),
        ("act_12ab", r"--account is act_<digits>"),
        ("act_", r"--account is act_<digits>"),
    ],
)
def test_cli_a_bad_account_is_one_line_and_sends_nothing(
    workdir, fake_meta, monkeypatch, account, message
) -> None:
    # no key anywhere (workdir): the input is named first, not the missing key
    out = workdir / "m.csv"
    done = runner.invoke(
        app,
        [
            "fetch", "meta", "--account", account, "--since", "2026-09-01",
            "--until", "2026-09-02", "--output", str(out), "--base-url", fake_meta.url,
        ],
    )  # fmt: skip
    assert done.exit_code == 1
    assert done.output.count("\n") == 1
    assert re.match(rf"simkit fetch meta: error: meta: {message}", done.output)
    assert fake_meta.state.requests == [] and list(workdir.glob("m*")) == []


def test_cli_since_after_until_is_one_line_and_sends_nothing(workdir, fake_meta, monkeypatch):
    # no key anywhere (workdir): the input is named first, not the missing key
    done = runner.invoke(
        app,
        [
            "fetch", "meta", "--account", "act_1", "--since", "2026-09-20",
            "--until", "2026-09-01", "--output", str(workdir / "m.csv"),
            "--base-url", fake_meta.url,
        ],
    )  # fmt: skip
    assert done.exit_code == 1
    assert done.output == (
        "simkit fetch meta: error: meta: --until 2026-09-01 is before --since 2026-09-20\n"
    )
    assert fake_meta.state.requests == [] and list(workdir.glob("m*")) == []


@pytest.mark.parametrize("url", ["http://[::1", "127.0.0.1:8080", "ftp://host", "http://h:99999"])
def test_a_bad_base_url_is_a_connector_error_not_a_traceback(workdir, url) -> None:
    with pytest.raises(ConnectorError, match=r"--base-url is not an http\(s\) URL with a host"):
        MetaConnector(FAST, key=SENTINEL, base_url=url, cache=False)


def test_a_base_url_with_a_query_or_credentials_is_refused(workdir) -> None:
    with pytest.raises(ConnectorError, match="--base-url has no query"):
        MetaConnector(FAST, key=SENTINEL, base_url="http://h/?access_token=x", cache=False)
    with pytest.raises(ConnectorError, match="--base-url carries a user:password@ part"):
        MetaConnector(FAST, key=SENTINEL, base_url=f"http://u:{SENTINEL}@h/", cache=False)


def test_usage_percent_reads_the_documented_business_use_case_shape() -> None:
    """``x-business-use-case-usage`` is keyed by business object id, each a list of
    {type, call_count, total_cputime, total_time, estimated_time_to_regain_access}
    (Graph API "Rate Limits"): the highest percentage and the longest wait win."""
    header = {
        "66782684": [
            {"type": "ads_management", "call_count": 95, "total_cputime": 20,
             "total_time": 20, "estimated_time_to_regain_access": 0},
        ],
        "10153848260347724": [
            {"type": "ads_insights", "call_count": 12, "total_cputime": 97,
             "total_time": 23, "estimated_time_to_regain_access": 4},
        ],
    }  # fmt: skip
    assert usage_percent({"X-Business-Use-Case-Usage": json.dumps(header)}) == (97.0, 4.0)
    app_usage = {"call_count": 28, "total_time": 25, "total_cputime": 81}
    assert usage_percent({"x-app-usage": json.dumps(app_usage)}) == (81.0, None)
    assert usage_percent({"x-business-use-case-usage": "not json"}) == (None, None)
