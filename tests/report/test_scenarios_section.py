"""The report's scenario table: a partition of the paths, conditional means, the notes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simkit.forecast.base import DriverForecast
from simkit.report.engines import EngineResults, scenarios_section
from simkit.simulate import BudgetPlan, simulate


def _result(notes: list[str]):
    h = 21
    forecast = DriverForecast(
        campaign_id="C1",
        dates=pd.date_range("2026-03-02", periods=h, freq="D"),
        spend_plan=np.full(h, 500.0),
        center=np.tile([np.log(10.0), np.log(0.015 / 0.985), np.log(0.03 / 0.97), 4.4], (h, 1)),
        scale=np.full((h, 4), 0.1),
        ar_coef=np.full(4, 0.6),
        driver_corr=np.eye(4),
        spend_elasticity=np.array([0.4, 0.0, 0.0, 0.0]),
    )
    return simulate(
        forecast,
        BudgetPlan.from_daily(500.0, h),
        2000,
        np.random.default_rng(3),
        plan_value=200.0,
        plan_source="run_rate",
        extra={"notes": notes},
    )


def test_scenario_table_partitions_the_paths_and_shows_the_notes():
    note = "spend has run 20% above its budget column"
    results = EngineResults()
    results.simulation = _result([note])
    section = scenarios_section(None, results)  # the section reads only the simulation
    table = dict(section.tables)["Scenarios"]
    assert list(table["scenario"]) == ["pessimistic", "realistic", "optimistic"]
    assert table["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    conv = table["mean conversions"].to_numpy()
    assert conv[0] < conv[1] < conv[2]
    cpa = table["CPA (mean spend / mean conversions)"].to_numpy()
    assert cpa == pytest.approx(table["mean spend"].to_numpy() / conv)
    assert f"Note: {note}" in section.text
    assert any("add up to 100%" in t for t in section.text)
    numbers = json.loads(json.dumps(section.numbers, allow_nan=False))
    assert sum(numbers["scenario_probabilities"].values()) == pytest.approx(1.0)
    assert numbers["notes"] == [note]
    assert set(numbers["scenario_mean_totals"]["realistic"]) >= {"conversions", "spend", "cpa"}
