from __future__ import annotations

from pathlib import Path

import pytest

from simkit import audit, metrics, notify
from simkit.forecast import ForecastCache
from simkit.params import RunParams
from simkit.registry import Registry
from simkit.runner import observe


def test_a_change_of_settings_is_audited_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit.ENV_VAR, raising=False)
    reg = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    out = str(tmp_path / "reports")
    first = RunParams(data="x.csv", output_dir=out, horizon_days=30)
    second = RunParams(data="x.csv", output_dir=out, horizon_days=14, webhook_url="https://h/x")
    for run_id, params in (("20261202T000000Z-aaaaaa", first), ("20261202T000001Z-bbbbbb", first),
                           ("20261202T000002Z-cccccc", second)):  # fmt: skip
        reg.create_run(
            run_id, params=params.to_dict(), params_hash="h", output_dir=out, campaigns=["C1"]
        )
        observe.run_started(run_id, params, ["C1"], reg)
    events = audit.entries(tmp_path / "audit.jsonl")
    assert [e["event"] for e in events] == [
        "run.started",
        "run.started",
        "run.started",
        "config.changed",
    ]
    assert events[-1]["settings"] == ["horizon_days", "webhook_url"]
    assert events[-1]["previous_run_id"] == "20261202T000001Z-bbbbbb"
    assert "https://h/x" not in (tmp_path / "audit.jsonl").read_text()


def test_ledger_degradation_goes_through_the_same_alerts() -> None:
    (alert,) = notify.ledger_alerts([("C001", "coverage", 0.55, 0.7)])
    assert alert.key == "ledger:C001:coverage"
    assert alert.payload()["text"].startswith("simkit ledger: coverage degraded on C001")


def test_forecast_cache_lookups_are_counted(tmp_path: Path) -> None:
    hits = metrics.CACHE_HITS.labels("forecast")._value.get()
    misses = metrics.CACHE_MISSES.labels("forecast")._value.get()
    cache = ForecastCache(tmp_path)
    assert cache.get_or_compute("k1", lambda: 1) == (1, False)
    assert cache.get_or_compute("k1", lambda: 2) == (1, True)
    assert metrics.CACHE_HITS.labels("forecast")._value.get() == hits + 1
    assert metrics.CACHE_MISSES.labels("forecast")._value.get() == misses + 1


def test_the_webhook_url_is_masked_in_records_and_not_reused() -> None:
    params = RunParams(data="x.csv", webhook_url="https://hooks.example/T0/B0/SENTINEL")
    recorded = params.to_dict()
    assert recorded["webhook_url"] == "https://hooks.example/***"
    assert RunParams(**recorded).webhook_url is None  # a retry sends no alert anywhere
    assert params.webhook_url.endswith("SENTINEL")


def test_connector_requests_errors_latency_and_cache_are_counted(tmp_path: Path) -> None:
    from dataclasses import replace

    import httpx

    from simkit.connectors.base import Connector, ConnectorError
    from simkit.connectors.cache import DiskResponseCache
    from simkit.connectors.meta import META

    spec = replace(META, max_attempts=1, requests_per_second=200, backoff_seconds=0.01)
    answers = iter([httpx.Response(200, json={"data": []}), httpx.Response(403, json={})])
    transport = httpx.MockTransport(lambda request: next(answers))

    def value(metric, *labels):  # noqa: ANN001, ANN202
        return metric.labels(*labels)._value.get()

    before = (
        value(metrics.CONNECTOR_REQUESTS, "meta"),
        value(metrics.CONNECTOR_ERRORS, "meta", "http_403"),
        value(metrics.CACHE_HITS, "connector"),
        value(metrics.CACHE_MISSES, "connector"),
    )
    cache = DiskResponseCache("meta", str(tmp_path))
    with Connector(
        spec, key="k-0123456789", cache=cache, cache_dir=str(tmp_path), transport=transport
    ) as conn:
        conn.start_fetch()
        conn.get("/a")
        conn.get("/a")  # the cache answers
        with pytest.raises(ConnectorError, match="403"):
            conn.get("/b")
    after = (
        value(metrics.CONNECTOR_REQUESTS, "meta"),
        value(metrics.CONNECTOR_ERRORS, "meta", "http_403"),
        value(metrics.CACHE_HITS, "connector"),
        value(metrics.CACHE_MISSES, "connector"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1, 2]
    assert metrics.CONNECTOR_LATENCY.labels("meta")._sum.get() > 0
