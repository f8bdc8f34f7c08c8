"""The report's graceful paths when an engine fails (forecast fallback member)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import simkit.forecast
from simkit.errors import ForecastError, ParamsError
from simkit.report import RunParams, load_campaign
from simkit.report.engines import EngineResults, _forecast

_real = simkit.forecast.forecast_campaign


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
    monkeypatch.setattr(simkit.forecast, "forecast_campaign", fake)
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
    monkeypatch.setattr(simkit.forecast, "forecast_campaign", fake)
    with pytest.raises(ForecastError, match="seasonal_naive, ets .*bad scale.*fallback"):
        _forecast(ctx, 1, EngineResults())


def test_bad_parameters_are_not_hidden_by_the_fallback(
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, calls = _failing(ParamsError("unknown member 'etz'", field="members"))
    monkeypatch.setattr(simkit.forecast, "forecast_campaign", fake)
    with pytest.raises(ParamsError, match="etz"):
        _forecast(ctx, 1, EngineResults())
    assert len(calls) == 1


def test_the_fallback_warning_reaches_the_summary_and_summary_json(
    ctx, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from simkit.report import build_campaign_report

    fake, _ = _failing(ValueError("scale must be non-negative"))
    monkeypatch.setattr(simkit.forecast, "forecast_campaign", fake)
    params = ctx.params.model_copy(update={"n_paths": 200, "output_dir": str(tmp_path)})
    built = build_campaign_report(params)
    assert built["forecast"].status == "ok"
    for key in ("summary", "forecast", "diagnostics"):
        assert any(
            t.startswith("Warning: the ensemble") and "seasonal_naive alone" in t
            for t in built[key].text
        ), key
    assert "ValueError" in built.summary["numbers"]["forecast"]["fallback"]
