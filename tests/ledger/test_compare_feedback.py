"""Champion against challenger, feedback, and what the ledger keeps (append-only, secrets)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from simkit.cli.app import app
from simkit.ledger import ForecastRecord, Ledger, LedgerError, compare_challengers

pytestmark = pytest.mark.slow  # the session fixture fits four ensembles


def _scaled(record: ForecastRecord, name: str, factor: float) -> ForecastRecord:
    daily = {k: (v if k == "date" else [x * factor for x in v]) for k, v in record.daily.items()}
    return dataclasses.replace(record, config=name, daily=daily)


def test_a_worse_challenger_is_found_worse_and_an_identical_one_not_different(issued, ledger_copy):
    ledger = Ledger(ledger_copy)
    for record in issued.records.values():
        # worse by construction: every quantile 60% too high
        assert ledger.add_forecast(_scaled(record, "inflated", 1.6).to_dict())
        assert ledger.add_forecast(dataclasses.replace(record, config="same").to_dict())
    results = {c.challenger: c for c in compare_challengers(issued.truth, url=ledger_copy)}
    worse, same = results["inflated"], results["same"]
    assert worse.verdict == "worse" and worse.p_value < 1e-6
    assert worse.pairs == 4 * 28 and worse.forecasts == 4
    assert worse.mean_difference > 0 and worse.relative_change > 0.2
    assert worse.rank_biserial > 0.5
    assert same.verdict == "not different" and same.p_value == 1.0
    assert same.mean_difference == 0.0 and same.relative_change == 0.0
    # in shadow: the challengers are scored beside the champion but are not campaigns' scores
    truth_csv = issued.folder / "truth_for_compare.csv"
    out = issued.truth.copy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    out.to_csv(truth_csv, index=False)
    cli = CliRunner().invoke(
        app,
        ["ledger", "compare", str(truth_csv), "--registry", ledger_copy, "--format", "json"],
    )
    assert cli.exit_code == 0, cli.output
    verdicts = {c["challenger"]: c["verdict"] for c in json.loads(cli.stdout)}
    assert verdicts == {"inflated": "worse", "same": "not different"}
    scored = CliRunner().invoke(
        app,
        ["ledger", "score", str(truth_csv), "--registry", ledger_copy, "--format", "json"],
    )
    payload = json.loads(scored.stdout)
    assert {m["config"] for m in payload["models"]} == {"champion", "inflated", "same"}
    assert sum(c["forecasts"] for c in payload["campaigns"]) == 4  # the champion's only
    unknown = CliRunner().invoke(
        app,
        ["ledger", "compare", str(truth_csv), "--registry", ledger_copy, "--challenger", "x"],
    )
    assert unknown.exit_code == 1
    assert "no challenger 'x' in the ledger; recorded: inflated, same" in unknown.output


def test_the_same_forecast_is_one_record_never_rewritten(issued, ledger_copy):
    ledger = Ledger(ledger_copy)
    record = issued.records["C002"]
    before = ledger.get_forecast(record.forecast_id)
    again = dataclasses.replace(record, source="again", run_id="r2")
    assert again.forecast_id == record.forecast_id  # the id is the content's
    assert ledger.add_forecast(again.to_dict()) is False
    assert ledger.get_forecast(record.forecast_id) == before
    other = dataclasses.replace(record, seed=record.seed + 1)
    assert other.forecast_id != record.forecast_id


def test_feedback_is_stored_with_who_and_when(issued, ledger_copy, monkeypatch):
    record = issued.records["C003"]
    runner = CliRunner()
    args = ["ledger", "feedback", record.forecast_id[:10], "--registry", ledger_copy]
    given = runner.invoke(
        app, [*args, "--not-useful", "--note", "missed the promo", "--by", "ana", "-f", "json"]
    )
    assert given.exit_code == 0, given.output
    row = json.loads(given.stdout)
    assert row["target_id"] == record.forecast_id and row["campaign_id"] == "C003"
    assert row["useful"] is False and row["note"] == "missed the promo"
    assert row["given_by"] == "ana" and row["given_at"].startswith("20")
    monkeypatch.setattr("getpass.getuser", lambda: "os-user-7")
    runner.invoke(app, [*args, "--useful"])
    pivot = runner.invoke(
        app,
        ["ledger", "feedback", "pivot:C003:budget_reallocation", "--useful", "--registry"]
        + [ledger_copy],
    )
    assert pivot.exit_code == 0, pivot.output
    stored = Ledger(ledger_copy).list_feedback(campaign_id="C003")
    assert [(f["given_by"], f["useful"], f["target_kind"]) for f in stored] == [
        ("os-user-7", True, "pivot"),
        ("os-user-7", True, "forecast"),
        ("ana", False, "forecast"),
    ]
    neither = runner.invoke(app, args)
    assert neither.exit_code == 1
    assert neither.output.strip() == "simkit ledger feedback: error: say --useful or --not-useful"
    shown = runner.invoke(
        app, ["ledger", "show", record.forecast_id, "--registry", ledger_copy, "-f", "json"]
    )
    assert [f["note"] for f in json.loads(shown.stdout)["feedback"]] == [None, "missed the promo"]


def test_list_show_and_unknown_ids(issued, ledger_copy):
    runner = CliRunner()
    listed = runner.invoke(
        app, ["ledger", "list", "--registry", ledger_copy, "--campaign", "C004", "-f", "json"]
    )
    rows = json.loads(listed.stdout)
    assert [r["forecast_id"] for r in rows] == [issued.records["C004"].forecast_id]
    assert rows[0]["config"] == "champion" and "daily" not in rows[0]
    shown = json.loads(
        runner.invoke(
            app, ["ledger", "show", rows[0]["forecast_id"], "--registry", ledger_copy, "-f", "json"]
        ).stdout
    )
    assert len(shown["daily"]["p50"]) == 28 and shown["members"] == ["seasonal_naive", "ets"]
    assert set(shown["weights"]) == {"seasonal_naive", "ets"}
    assert len(shown["plan"]["spend"]) == 28 and shown["simkit_version"]
    table = runner.invoke(
        app, ["ledger", "show", rows[0]["forecast_id"], "--registry", ledger_copy]
    )
    assert table.exit_code == 0 and "members seasonal_naive, ets" in table.stdout
    missing = runner.invoke(app, ["ledger", "show", "f-nope", "--registry", ledger_copy])
    assert missing.exit_code == 1
    assert missing.output.startswith(
        "simkit ledger show: error: no forecast 'f-nope' in the ledger"
    )


def test_a_password_in_the_url_is_never_shown(tmp_path):
    sentinel = "s3cr3t-SENTINEL-pw"
    url = f"postgresql+psycopg://simkit:{sentinel}@127.0.0.1:1/simkit"
    with pytest.raises(LedgerError, match=r"cannot open the forecast ledger at .*\*\*\*") as info:
        Ledger(url)
    assert sentinel not in str(info.value)
    out = CliRunner().invoke(app, ["ledger", "list", "--registry", url])
    assert out.exit_code == 1 and sentinel not in out.output
