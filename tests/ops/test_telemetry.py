from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from simkit import telemetry

from .conftest import Sink

SECRET = "SENTINEL-master-key-value"


class RecordingTransport(Transport):
    """The SDK's transport interface, keeping envelopes in memory (no network)."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch):
    import sentry_sdk

    monkeypatch.setenv("SENTRY_DSN", "http://public@127.0.0.1:9/1")
    monkeypatch.setenv("SIMKIT_MASTER_KEY", SECRET)
    transport = RecordingTransport()
    assert telemetry.init_sentry(transport=transport, environment="test")
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to a client that sends nothing
    telemetry._state["sentry"] = False


def _events(transport: RecordingTransport) -> list[dict[str, Any]]:
    return [
        json.loads(item.payload.get_bytes())
        for env in transport.envelopes
        for item in env.items
        if item.type == "event"
    ]


def test_failures_reach_sentry_with_secrets_scrubbed(sentry: RecordingTransport) -> None:
    telemetry.capture_failure(
        f"campaign report failed: key {SECRET} at https://u:pw@db.example/x?token=abc123",
        kind="error",
        run_id="R1",
        api_key="plain-value-123456",
        webhook="https://hooks.slack.com/services/T000/B000/XXXX",
    )
    import sentry_sdk

    sentry_sdk.flush()
    (event,) = _events(sentry)
    text = json.dumps(event)
    assert event["tags"]["kind"] == "error" and event["extra"]["run_id"] == "R1"
    assert SECRET not in text and "plain-value-123456" not in text
    assert "pw@" not in text and "abc123" not in text and "XXXX" not in text
    assert "[scrubbed]" in event["message"] or "[scrubbed]" in text


def test_no_dsn_means_no_sentry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    telemetry._state["sentry"] = False
    assert telemetry.init_sentry() is False
    telemetry.capture_failure("x", kind="error")  # a no-op, never an error


def test_scrub_event_by_key_and_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "SENTINEL-jupyter-token")
    event = {
        "request": {"headers": {"Authorization": "token abc", "Cookie": "c=1"}},
        "breadcrumbs": {"values": [{"message": "GET /?token=SENTINEL-jupyter-token"}]},
        "extra": {"password": "hunter2", "count": 3},
    }
    out = telemetry.scrub_event(event)
    text = json.dumps(out)
    assert "SENTINEL" not in text and "hunter2" not in text and "abc" not in text
    assert out["extra"]["count"] == 3


def test_posthog_sends_only_when_configured(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTHOG_API_KEY", raising=False)
    monkeypatch.setenv("POSTHOG_HOST", sink.url.split("/hooks")[0])
    assert telemetry.track("run finished", status="succeeded") is False
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_SENTINEL")
    monkeypatch.delenv("POSTHOG_HOST")
    assert telemetry.track("preview", seconds=0.2) is False
    assert sink.posts == []
    monkeypatch.setenv("POSTHOG_HOST", sink.url.split("/hooks")[0])
    assert telemetry.track(
        "run finished", status="succeeded", n_campaigns=2, campaign="C003 Travel", path="/x/y"
    )
    assert len(sink.posts) == 1
    (batch,) = sink.posts
    (event,) = batch["batch"]
    assert event["event"] == "run finished"
    assert event["properties"]["n_campaigns"] == 2 and event["properties"]["status"] == "succeeded"
    assert "C003" not in json.dumps(batch) and "/x/y" not in json.dumps(batch)
    assert event["distinct_id"].startswith("simkit-")


def test_unknown_events_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown analytics event 'campaign C003'"):
        telemetry.track("campaign C003")


def test_nothing_is_imported_or_sent_by_default(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, os\n"
        "[os.environ.pop(k, None) for k in ('SENTRY_DSN','POSTHOG_API_KEY','POSTHOG_HOST')]\n"
        "from simkit import telemetry\n"
        "assert telemetry.init_sentry() is False\n"
        "assert telemetry.track('preview') is False\n"
        "assert 'sentry_sdk' not in sys.modules and 'posthog' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
