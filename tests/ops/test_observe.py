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
