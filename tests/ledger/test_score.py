"""Issue forecasts, append the true future, score: the ledger's numbers are the hand's."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.cli.app import app
from simkit.forecast.cache import ForecastCache
from simkit.ledger import Ledger, score_ledger

from .conftest import DROPPED

pytestmark = pytest.mark.slow  # the session fixture fits four ensembles (about 10-20 s)


def _by_hand(row: dict, truth: pd.DataFrame) -> dict[str, float]:
    """Coverage of the 80% interval and MASE, computed from the stored row and the raw
    actuals with plain loops (no simkit code)."""
    cid = row["campaign_id"]
    own = truth[truth["campaign_id"] == cid].groupby("date")["conversions"].sum()
    inside, errors = [], []
    for i, day in enumerate(row["daily"]["date"]):
        actual = float(own[pd.Timestamp(day)])
        inside.append(row["daily"]["p10"][i] <= actual <= row["daily"]["p90"][i])
        errors.append(abs(row["daily"]["p50"][i] - actual))
    past = own[own.index <= pd.Timestamp(row["as_of"])].to_numpy(float)
    naive = [abs(past[t] - past[t - 7]) for t in range(7, len(past))]
    return {
        "coverage_80": sum(inside) / len(inside),
        "mase": (sum(errors) / len(errors)) / (sum(naive) / len(naive)),
        "days": len(inside),
    }


def test_cli_score_equals_a_hand_recomputation(issued, ledger_copy, tmp_path):
    truth_csv = tmp_path / "truth.csv"
    out = issued.truth.copy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    out.to_csv(truth_csv, index=False)
    result = CliRunner().invoke(
        app,
        ["ledger", "score", str(truth_csv), "--registry", ledger_copy, "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"forecasts", "campaigns", "models", "alerts"} <= set(payload)
    keys = {"forecast_id", "campaign_id", "as_of", "metric", "days_scored", "coverage_80"}
    assert keys | {"mase", "crps", "bias"} <= set(payload["forecasts"][0])
    ledger = Ledger(ledger_copy)
    assert len(payload["forecasts"]) == 4
    for scored in payload["forecasts"]:
        row = ledger.get_forecast(scored["forecast_id"])
        hand = _by_hand(row, issued.truth)
        assert scored["days_scored"] == hand["days"] == 28
        assert scored["coverage_80"] == pytest.approx(hand["coverage_80"], abs=1e-12)
        assert scored["mase"] == pytest.approx(hand["mase"], rel=1e-9)
    # the scores were appended; the forecasts are untouched
    assert len(ledger.list_scores()) == 4
    assert ledger.get_forecast(scored["forecast_id"]) == row
    models = {m["config"]: m for m in payload["models"]}
    assert models["champion"]["days_scored"] == 4 * 28
    table = CliRunner().invoke(
        app, ["ledger", "score", str(truth_csv), "--registry", ledger_copy, "--dry-run"]
    )
    assert table.exit_code == 0, table.output
    assert "Forecasts scored" in table.stdout and "No degradation or drift alert." in table.stdout
    assert len(ledger.list_scores()) == 4  # --dry-run records nothing
    listed = CliRunner().invoke(app, ["ledger", "list", "--registry", ledger_copy])
    assert listed.exit_code == 0 and "Recorded forecasts" in listed.stdout


def test_a_40_percent_drop_is_alerted_and_controls_are_not(issued, ledger_copy, tmp_path):
    cache_dir = tmp_path / "cache"
    shutil.copytree(issued.cache_dir, cache_dir)
    result = score_ledger(issued.with_drop, url=ledger_copy, cache_dir=cache_dir)
    alerted = {a["campaign_id"] for a in result.alerts}
    assert alerted == {DROPPED}
    kinds = {a["kind"] for a in result.alerts}
    assert "coverage" in kinds
    for alert in result.alerts:
        assert set(alert) == {"campaign_id", "metric", "kind", "since", "evidence"}
        assert alert["metric"] == "conversions"
        assert alert["since"] > str(issued.as_of.date())
    coverage = next(a for a in result.alerts if a["kind"] == "coverage")
    assert coverage["evidence"]["p_value"] < 0.01
    # the alerted campaign's cached fits are gone, the controls' are kept
    cache = ForecastCache(cache_dir)
    for cid, record in issued.records.items():
        present = [cache._func().check_call_in_cache(k, None) for k in record.cache_keys]
        assert len(present) == 2
        assert present == ([False, False] if cid == DROPPED else [True, True]), cid
    ledger = Ledger(ledger_copy)
    pending = ledger.pending_retrains()
    assert [p["campaign_id"] for p in pending] == [DROPPED]
    assert pending[0]["invalidated"] == 2
    assert {a["kind"] for a in pending[0]["reason"]} == kinds
    assert {a["campaign_id"] for a in ledger.list_alerts()} == {DROPPED}


def test_the_true_future_raises_no_alert(issued, ledger_copy):
    result = score_ledger(issued.truth, url=ledger_copy, cache_dir=None)
    assert result.alerts == ()


def test_forecasts_without_actuals_wait(issued, ledger_copy):
    result = score_ledger(issued.history, url=ledger_copy, record=False)
    assert result.forecasts == () and result.unscored == 4
    assert Ledger(ledger_copy).list_scores() == []


def test_score_frame_and_aggregates(issued, ledger_copy):
    result = score_ledger(issued.truth, url=ledger_copy, record=False)
    frame = result.to_frame()
    assert sorted(frame["campaign_id"]) == ["C001", "C002", "C003", "C004"]
    buckets = [h["horizon"] for h in result.horizons]
    assert buckets == ["days 1-7", "days 8-14", "days 15-28"]
    assert sum(h["days_scored"] for h in result.horizons) == 4 * 28
    for s in result.forecasts:
        assert sum(s.pit) == s.days_scored == 28
        assert s.coverage_50 <= s.coverage_80 <= s.coverage_90
