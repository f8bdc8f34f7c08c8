from __future__ import annotations

import logging
from pathlib import Path

import pytest

from simkit import notify

from .conftest import Sink

SUMMARY = {
    "campaign_id": "C003",
    "numbers": {"risks": {"alerts": {"performance_dip": 0.72, "budget_pacing": 0.1}}},
}


def test_risk_alerts_reach_the_threshold_only() -> None:
    alerts = notify.risk_alerts([SUMMARY], 0.5)
    assert [a.key for a in alerts] == ["risk:C003:performance_dip"]
    assert "72%" in alerts[0].text
    assert [a.key for a in notify.risk_alerts([SUMMARY], 0.05)] == [
        "risk:C003:budget_pacing",
        "risk:C003:performance_dip",
    ]


def test_one_message_per_alert_and_day(sink: Sink, tmp_path: Path) -> None:
    state = tmp_path / "alerts-sent.json"
    alerts = notify.risk_alerts([SUMMARY], 0.5)
    first = notify.send_alerts(sink.url, alerts, state_file=state, today="2026-12-02")
    second = notify.send_alerts(sink.url, alerts, state_file=state, today="2026-12-02")
    assert first.sent == ("risk:C003:performance_dip",) and second.sent == ()
    assert second.duplicates == ("risk:C003:performance_dip",)
    assert len(sink.posts) == 1
    post = sink.posts[0]
    assert post["text"].startswith("simkit risk: performance dip on C003")
    assert post["blocks"][0]["type"] == "header"
    next_day = notify.send_alerts(sink.url, alerts, state_file=state, today="2026-12-03")
    assert next_day.sent == ("risk:C003:performance_dip",) and len(sink.posts) == 2
    assert "SENTINEL" not in state.read_text()


def test_a_failing_post_is_retried(sink: Sink, tmp_path: Path) -> None:
    sink.fail_next = 2
    result = notify.send_alerts(
        sink.url,
        notify.run_failure_alerts("R1", [("C002", "boom")]),
        state_file=tmp_path / "s.json",
        backoff_seconds=0.01,
    )
    assert result.sent == ("run-failed:C002",)
    assert len(sink.paths) == 3 and len(sink.posts) == 1


def test_a_dead_webhook_never_raises_nor_leaks_its_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = "http://127.0.0.1:9/hooks/T000/B000/SENTINEL"  # port 9 (discard): refused
    with caplog.at_level(logging.WARNING, logger="simkit.notify"):
        result = notify.send_alerts(
            url,
            notify.run_failure_alerts("R1", [("C002", "boom")]),
            state_file=tmp_path / "s.json",
            backoff_seconds=0.01,
        )
    assert result.failed == ("run-failed:C002",) and result.sent == ()
    assert "not delivered to 127.0.0.1: ConnectError" in caplog.text
    assert "SENTINEL" not in caplog.text
    # not remembered as sent: tomorrow's run (or the next one today) tries again
    assert "run-failed:C002" not in (tmp_path / "s.json").read_text()
