"""The report's graceful paths: a failing engine (forecast fallback member), missing
metadata, a campaign that cannot be benchmarked, a campaign that has stopped."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simkit.forecast
import simkit.forecast.api
import simkit.market
from simkit.errors import DataError, ForecastError, ParamsError
from simkit.report import RunParams, build_campaign_report, load_campaign
from simkit.report.context import campaign_state
from simkit.report.engines import EngineResults, _forecast

_real = simkit.forecast.api._run


@pytest.fixture(scope="module")
def ctx(test_data: Path):
    return load_campaign(
        RunParams(
            data=str(test_data / "report" / "campaigns.csv"),
            campaigns=["C001"],
            members=["seasonal_naive", "ets"],
            backtest_cutoffs=1,
        )
    )


def _failing(error: Exception, *, fallback_too: bool = False):
    calls: list[list[str]] = []

    def fake(*args: Any, members: list[str], **kwargs: Any) -> Any:
        calls.append(list(members))
        if members != [simkit.forecast.FALLBACK] or fallback_too:
            raise error
        return _real(*args, members=members, **kwargs)

    return fake, calls


def test_a_failing_ensemble_falls_back_with_a_visible_warning(
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, calls = _failing(ValueError("scale must be non-negative"))
    monkeypatch.setattr(simkit.forecast.api, "_run", fake)
    results = EngineResults()
    forecast = _forecast(ctx, 1, results)
    assert calls == [["seasonal_naive", "ets"], ["seasonal_naive"]]
    assert forecast.drivers.horizon_days == ctx.params.horizon_days
    warning = results.fallbacks["forecast"]
    assert "ValueError: scale must be non-negative" in warning and "seasonal_naive" in warning


def test_when_the_fallback_fails_too_both_errors_are_named(
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _ = _failing(ValueError("bad scale"), fallback_too=True)
    monkeypatch.setattr(simkit.forecast.api, "_run", fake)
    with pytest.raises(ForecastError, match="seasonal_naive, ets .*bad scale.*fallback"):
        _forecast(ctx, 1, EngineResults())


def test_bad_parameters_are_not_hidden_by_the_fallback(
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, calls = _failing(ParamsError("unknown member 'etz'", field="members"))
    monkeypatch.setattr(simkit.forecast.api, "_run", fake)
    with pytest.raises(ParamsError, match="etz"):
        _forecast(ctx, 1, EngineResults())
    assert len(calls) == 1


def test_the_fallback_warning_reaches_the_summary_and_summary_json(
    ctx, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from simkit.report import build_campaign_report

    fake, _ = _failing(ValueError("scale must be non-negative"))
    monkeypatch.setattr(simkit.forecast.api, "_run", fake)
    params = ctx.params.model_copy(update={"n_paths": 200, "output_dir": str(tmp_path)})
    built = build_campaign_report(params)
    assert built["forecast"].status == "ok"
    for key in ("summary", "forecast", "diagnostics"):
        assert any(
            t.startswith("Warning: the ensemble") and "seasonal_naive alone" in t
            for t in built[key].text
        ), key
    assert "ValueError" in built.summary["numbers"]["forecast"]["fallback"]


# --- metadata from anywhere, never required; stopped campaigns (issue 14, items 1-2) ------

LEAN = {"members": ["seasonal_naive", "ets"], "backtest_cutoffs": 1, "n_paths": 200}


@pytest.fixture()
def bare(tmp_path: Path, test_data: Path) -> Path:
    """The report fixture's data with no metadata file beside it."""
    path = tmp_path / "campaigns.csv"
    shutil.copy(test_data / "report" / "campaigns.csv", path)
    return path


def _no_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    def fitted(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stopped campaign must not be forecast")

    monkeypatch.setattr(simkit.forecast, "forecast_campaign", fitted)


def test_a_report_needs_no_metadata_and_the_market_section_says_how_to_give_it(
    bare: Path, tmp_path: Path
) -> None:
    # on main: ParamsError "campaign 'C001' has no industry in its metadata; give one
    # (--industry)" after the forecast was fitted
    built = build_campaign_report(
        RunParams(data=str(bare), campaigns=["C001"], output_dir=str(tmp_path), **LEAN)
    )
    assert built.context.meta == {"campaign_id": "C001", "channel": "search"}
    assert set(built.summary["sections"].values()) == {"ok"}
    market = built["market"]
    assert market.numbers["industry"] == "All industries"
    assert market.numbers["industry_given"] is False
    note = next(t for t in market.text if t.startswith("Note: No industry is given"))
    assert "'industry: <name>'" in note and "'campaign_meta: {C001: {industry: ...}}'" in note
    assert built.summary["campaign_state"] == "active"
    assert built.summary["campaign_last_date"] == "2026-02-09"


def test_metadata_in_the_params_reaches_the_context_and_the_engines(bare: Path) -> None:
    ctx = load_campaign(
        RunParams(
            data=str(bare),
            campaigns=["C001"],
            industry="Education",
            targets={"cpa": 30.0},
            campaign_meta={"C001": {"target_cpa": 20.0, "name": "Spring search"}},
        )
    )
    assert (ctx.name, ctx.target_cpa, ctx.target_roas) == ("Spring search", 20.0, None)
    assert ctx.metadata.source_of("C001", "target_cpa") == "campaign_meta"
    others = ctx.loaded.campaigns.set_index("campaign_id")
    assert others.loc["C002", "target_cpa"] == 30.0, "engines see the whole run's metadata"
    market = simkit.market.compare_campaigns(ctx.loaded, campaign_ids=["C001"])
    assert market.campaigns[0].industry == "Education" and market.campaigns[0].industry_known


def test_a_bad_metadata_file_fails_before_any_fitting(
    bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_fitting(monkeypatch)
    meta = tmp_path / "meta.yaml"
    meta.write_text("campaigns:\n- {campaign_id: C001, indstry: Retail}\n")
    with pytest.raises(DataError, match=r"unknown metadata field\(s\): 'indstry'"):
        build_campaign_report(RunParams(data=str(bare), campaigns=["C001"], metadata=str(meta)))


def test_a_video_campaign_has_a_report_whose_market_section_gives_the_reason(
    bare: Path, tmp_path: Path
) -> None:
    raw = pd.read_csv(bare)
    raw.loc[raw["campaign_id"] == "C003", "channel"] = "video"
    raw.to_csv(bare, index=False)
    built = build_campaign_report(
        RunParams(data=str(bare), campaigns=["C003"], output_dir=str(tmp_path), **LEAN)
    )
    market = built["market"]
    assert market.status == "skipped" and market.numbers["compared"] is False
    assert market.text[0].startswith("Not compared with benchmarks: its channel 'video'")
    assert list(market.tables[0][1]["metric"]) == ["CTR", "CPC", "CVR", "CPA"]
    assert built["forecast"].status == "ok"


def test_a_stopped_campaign_is_reported_as_stopped_without_fitting(
    bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on main: ParamsError "no data for campaign 'C002' (did you mean ...)" after fitting
    raw = pd.read_csv(bare)
    raw = raw[(raw["campaign_id"] != "C002") | (raw["date"] <= "2026-01-25")]
    raw.to_csv(bare, index=False)
    _no_fitting(monkeypatch)
    built = build_campaign_report(
        RunParams(data=str(bare), campaigns=["C002"], output_dir=str(tmp_path), **LEAN)
    )
    assert (built.summary["campaign_state"], built.summary["campaign_last_date"]) == (
        "stopped",
        "2026-01-25",
    )
    status = built.summary["sections"]
    for key in ("forecast", "scenarios", "risks", "pivots", "diagnostics"):
        assert status[key] == "skipped", key
        assert "stopped on 2026-01-25 (the file runs to 2026-02-09)" in built[key].text[0]
    for key in ("summary", "data_quality", "history", "market", "provenance"):
        assert status[key] == "ok", key
    assert built["summary"].text[0].startswith("This campaign has stopped: its last day")
    assert "Its data end on 2026-01-25" in " ".join(built["market"].text)
    assert built["history"].numbers["last_28_days"]["spend"] > 0


def test_a_campaign_that_stopped_spending_is_stopped_not_an_error(bare: Path) -> None:
    # on main: DataError "campaign C002 has no spend in its last 14 days: nothing to forecast"
    raw = pd.read_csv(bare)
    quiet = (raw["campaign_id"] == "C002") & (raw["date"] > "2026-01-20")
    raw.loc[quiet, ["spend", "impressions", "clicks", "conversions", "revenue"]] = 0
    raw.to_csv(bare, index=False)
    ctx = load_campaign(RunParams(data=str(bare), campaigns=["C002"]))
    assert ctx.stopped and ctx.last_date == pd.Timestamp("2026-01-20")
    assert len(ctx.plan) == 0


@pytest.mark.parametrize(
    ("last_spend", "rows_end", "state"),
    [
        ("2026-02-09", "2026-02-09", "active"),
        ("2026-01-27", "2026-02-09", "active"),  # 13 quiet days: a pause, not a stop
        ("2026-01-26", "2026-02-09", "stopped"),  # 14 quiet days
        ("2026-02-08", "2026-02-08", "stopped"),  # its rows end before the file's
    ],
)
def test_campaign_state_boundaries(last_spend: str, rows_end: str, state: str) -> None:
    dates = pd.date_range("2026-01-01", rows_end)
    daily = pd.DataFrame({"date": dates, "spend": (dates <= last_spend).astype(float)})
    got, last = campaign_state(daily, pd.Timestamp("2026-02-09"))
    expected = last_spend if state == "stopped" else rows_end  # active: its last day
    assert (got, last) == (state, pd.Timestamp(expected))
