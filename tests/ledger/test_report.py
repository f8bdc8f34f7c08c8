"""The campaign report's ledger part: the next run after an alert refits and says why."""

from __future__ import annotations

import shutil

import pytest

from simkit.forecast.cache import ForecastCache
from simkit.ledger import Ledger, record_report, score_ledger
from simkit.params import RunParams
from simkit.report import build_campaign_report

from .conftest import DROPPED

pytestmark = pytest.mark.slow  # fits and simulates two campaign reports (about 30-60 s)


def _params(issued, tmp_path, campaign_id: str) -> RunParams:
    return RunParams(
        data=str(issued.drop_csv),
        campaigns=[campaign_id],
        horizon_days=14,
        members=["seasonal_naive", "ets"],
        backtest_cutoffs=1,
        n_paths=300,
        output_dir=str(tmp_path / "out"),
        challengers=[{"name": "persistent_90", "persistent_share": 0.9}],
    )


def test_the_next_run_refits_the_alerted_campaign_and_says_why(
    issued, ledger_copy, tmp_path, monkeypatch
):
    cache_dir = tmp_path / "cache"
    shutil.copytree(issued.cache_dir, cache_dir)
    scored = score_ledger(issued.with_drop, url=ledger_copy, cache_dir=cache_dir)
    assert {a["campaign_id"] for a in scored.alerts} == {DROPPED}
    monkeypatch.setenv("SIMKIT_REGISTRY_URL", ledger_copy)

    dropped = build_campaign_report(_params(issued, tmp_path, DROPPED))
    section = dropped["ledger"]
    assert section.status == "ok" and section.title == "How our last forecasts did"
    reasons = section.numbers["refit_reasons"]
    assert reasons and any(r.startswith("coverage on conversions since") for r in reasons)
    assert any(t.startswith("Refitted from scratch for this report") for t in section.text)
    assert section.numbers["status"] == "alert" and section.numbers["pending_refit_ids"]
    assert len(section.charts) == 1  # predicted against actual, with the bands
    captions = [caption for caption, _ in section.tables]
    assert captions == ["Earlier forecasts, scored", "Alerts on the earlier forecasts"]
    forecast_id = dropped.summary["forecast_id"]
    assert forecast_id == section.numbers["forecast_id"] and forecast_id.startswith("f-")
    configs = [r["config"] for r in section.numbers["records"]]
    assert configs == ["champion", "persistent_90"]
    # the shadow is never the forecast shown: the forecast section is the champion's
    champion = section.numbers["records"][0]
    shown = dropped["forecast"].numbers["totals"]["conversions"]
    assert champion["totals"]["conversions"]["p50"] == pytest.approx(shown["p50"])
    assert (
        section.numbers["records"][1]["totals"]["conversions"] != champion["totals"]["conversions"]
    )

    control = build_campaign_report(_params(issued, tmp_path, "C002"))
    assert control["ledger"].numbers["refit_reasons"] == []
    assert control["ledger"].numbers["status"] == "ok"
    assert "No degradation or drift alert." in control["ledger"].text

    # the runner stores what the reports issued and closes the refit request
    stored = record_report(dropped.summary, run_id="run-1", url=ledger_copy, cache_dir=cache_dir)
    assert stored == [r["forecast_id"] for r in section.numbers["records"]]
    record_report(control.summary, run_id="run-1", url=ledger_copy, cache_dir=cache_dir)
    ledger = Ledger(ledger_copy)
    assert ledger.pending_retrains() == []
    row = ledger.get_forecast(forecast_id)
    assert row["run_id"] == "run-1" and row["source"] == "run" and row["role"] == "champion"
    assert ledger.get_forecast(stored[1])["role"] == "challenger"
    # the controls' cached fits were never touched
    cache = ForecastCache(cache_dir)
    for key in issued.records["C002"].cache_keys:
        assert cache._func().check_call_in_cache(key, None)
