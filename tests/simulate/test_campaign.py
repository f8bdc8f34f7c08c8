from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import simkit.simulate.campaign as campaign_module
from simkit.cli import app
from simkit.data.synthetic import generate
from simkit.errors import DataError, ParamsError
from simkit.simulate import BudgetPlan, FatigueFactor, simulate_campaign, what_if_campaign

from .conftest import empirical_forecaster


@pytest.fixture(scope="module")
def world():
    return generate(
        2, 90, rng=np.random.default_rng(11), events=None, channels=["search", "social"]
    )


def test_simulate_campaign_uses_state_and_as_of(world):
    as_of = date(2026, 3, 1)
    result = simulate_campaign(
        world.data,
        "C001",
        14,
        as_of=as_of,
        n_paths=500,
        seed=3,
        forecast_fn=empirical_forecaster,
        target_cpa=50.0,
    )
    assert result.dates[0] == pd.Timestamp("2026-03-02")
    assert result.as_of == as_of
    state = result.extra["state"]
    assert state["last_date"] == "2026-03-01"
    assert state["delivery"]["pacing_rule"] == "google"
    assert state["fatigue"]["kind"] == "fatigue"
    assert result.plan_source == "run_rate"
    assert "p_cpa_le_target" in result.probabilities
    # the default plan is the budget in force on the as-of day
    rows = world.data[(world.data["campaign_id"] == "C001")]
    budget = rows.loc[rows["date"] == pd.Timestamp(as_of), "budget"].iloc[0]
    assert np.allclose(result.budget["daily"], budget)


def test_same_seed_same_result_other_seed_differs(world):
    kw = {"n_paths": 300, "forecast_fn": empirical_forecaster}
    a = simulate_campaign(world.data, "C002", 7, seed=1, **kw).to_dict()
    b = simulate_campaign(world.data, "C002", 7, seed=1, **kw).to_dict()
    c = simulate_campaign(world.data, "C002", 7, seed=2, **kw).to_dict()
    assert json.dumps(a) == json.dumps(b)
    assert a["totals"] != c["totals"]


def test_errors_are_clear(world):
    with pytest.raises(DataError, match="did you mean 'C001'"):
        simulate_campaign(world.data, "C01", 7, forecast_fn=empirical_forecaster)
    with pytest.raises(ParamsError, match="only one"):
        simulate_campaign(
            world.data,
            "C001",
            7,
            daily_budget=5.0,
            total_budget=9.0,
            forecast_fn=empirical_forecaster,
        )
    with pytest.raises(DataError, match="no data on or before"):
        simulate_campaign(
            world.data, "C001", 7, as_of=date(2020, 1, 1), forecast_fn=empirical_forecaster
        )


def test_total_budget_exhaustion_probability(world):
    spend = world.data.query("campaign_id == 'C001'")["spend"].tail(7).mean()
    tight = simulate_campaign(
        world.data,
        "C001",
        14,
        total_budget=14 * spend * 0.5,
        daily_budget=None,
        n_paths=400,
        forecast_fn=empirical_forecaster,
    )
    assert tight.totals["spend"]["p95"] <= 14 * spend * 0.5 + 1e-6
    loose = simulate_campaign(
        world.data, "C001", 14, daily_budget=spend, n_paths=400, forecast_fn=empirical_forecaster
    )
    assert loose.probabilities["p_budget_exhausted"] <= tight.probabilities["p_budget_exhausted"]


def test_what_if_campaign_refresh_and_budget(world):
    state = campaign_module.campaign_state(world.data.query("campaign_id == 'C002'"))
    refresh = FatigueFactor(
        rate_per_day=0.02, creative_age_days=40, refresh_dates=(date(2026, 4, 7),)
    )
    result = what_if_campaign(
        world.data,
        "C002",
        14,
        pivot_factors=[refresh],
        n_paths=500,
        forecast_fn=empirical_forecaster,
        fatigue=False,
    )
    # Independent expectation: the creative is 40 days old (log-odds -0.8 vs fresh); the
    # horizon starts 2026-04-05, so two more days of wear (-0.02, -0.04), then the refresh
    # on day 3 resets the age: +0.8, +0.78, ... over the last 12 days.
    baseline_ctr = result.baseline.totals["ctr"]["p50"]
    shift = np.array([-0.02, -0.04] + [0.8 - 0.02 * k for k in range(12)])
    logit = np.log(baseline_ctr / (1 - baseline_ctr))
    expected_lift = np.mean(1 / (1 + np.exp(-(logit + shift)))) / baseline_ctr - 1
    assert expected_lift == pytest.approx(0.85, abs=0.02)
    assert result.delta["ctr"]["p50"] / baseline_ctr == pytest.approx(expected_lift, abs=0.05)
    assert result.delta["ctr"]["p10"] > 0
    budget = BudgetPlan.from_daily(2 * state.recent_daily_spend, 14)
    more = what_if_campaign(
        world.data, "C002", 14, pivot_budget=budget, n_paths=500, forecast_fn=empirical_forecaster
    )
    assert more.probabilities["p_outcome_improves"] > 0.9


def test_cli_simulate_json_is_reproducible(world, tmp_path, monkeypatch):
    monkeypatch.setattr(campaign_module, "_default_forecaster", empirical_forecaster)
    data_path, _ = world.write(tmp_path)
    plan = tmp_path / "plan.csv"
    days = pd.date_range("2026-03-02", periods=10)
    plan.write_text("date,campaign_id,spend\n" + "\n".join(f"{d.date()},C001,700" for d in days))
    args = [
        "simulate",
        str(data_path),
        "--no-record",  # the forecaster is replaced: nothing to record
        "--campaign",
        "C001",
        "--as-of",
        "2026-03-01",
        "--horizon",
        "10",
        "--plan",
        str(plan),
        "--paths",
        "500",
        "--seed",
        "4",
        "--target-cpa",
        "30",
        "--target-roas",
        "2",
        "--format",
        "json",
    ]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, args)
    assert first.stdout == second.stdout
    payload = json.loads(first.stdout)
    assert payload["campaign_id"] == "C001" and payload["as_of"] == "2026-03-01"
    assert payload["horizon_days"] == 10 and payload["paths"] == 500 and payload["seed"] == 4
    assert {"p_cpa_le_target", "p_roas_ge_target", "p_budget_exhausted"} <= set(
        payload["probabilities"]
    )
    other = runner.invoke(app, [*args[:-4], "--seed", "5", "--format", "json"])
    assert json.loads(other.stdout)["totals"] != payload["totals"]
    table = runner.invoke(app, args[:-2])
    assert table.exit_code == 0 and "Scenarios" in table.stdout


def test_cli_errors_are_one_line(world, tmp_path, monkeypatch):
    monkeypatch.setattr(campaign_module, "_default_forecaster", empirical_forecaster)
    data_path, _ = world.write(tmp_path)
    runner = CliRunner()
    bad = runner.invoke(
        app,
        [
            "simulate",
            str(data_path),
            "--campaign",
            "C001",
            "--horizon",
            "5",
            "--plan",
            str(tmp_path / "missing.csv"),
            "--no-record",
        ],
    )
    assert bad.exit_code == 1
    assert "plan file not found" in bad.output
    assert "Traceback" not in bad.output


def test_refresh_pivot_lifts_ctr(world):
    result = what_if_campaign(
        world.data,
        "C001",
        21,
        refresh_on=date(2026, 4, 6),
        n_paths=400,
        forecast_fn=empirical_forecaster,
    )
    assert result.delta["ctr"]["p50"] > 0
    assert result.pivot.factors[-1]["refresh_dates"] == ["2026-04-06"]


def test_as_of_after_the_last_data_day_is_noted(world):
    result = simulate_campaign(
        world.data,
        "C001",
        7,
        as_of=date(2026, 6, 1),
        n_paths=200,
        forecast_fn=empirical_forecaster,
    )
    assert result.dates[0] == pd.Timestamp("2026-04-05")
    assert "no data after 2026-04-04" in result.to_dict()["notes"][0]


def _overspending(world, factor: float = 1.2) -> pd.DataFrame:
    """The world with spend at ``factor`` x its budget column (+-3% a day), for weeks."""
    data = world.data.copy()
    noise = np.random.default_rng(0).uniform(0.97, 1.03, len(data))
    data["spend"] = np.round(data["budget"] * factor * noise, 2)
    return data


@pytest.mark.parametrize("campaign", ["C001", "C002"])  # search (Google), social (Meta)
def test_spend_above_its_budget_gets_no_invented_zero_spend_days(world, campaign):
    data = _overspending(world)
    result = simulate_campaign(
        data, campaign, 45, n_paths=1000, seed=2, forecast_fn=empirical_forecaster
    )
    assert (result.dates[0].day, result.dates[-1].month) == (5, 5)  # April, part of May
    spend = result.daily[result.daily["metric"] == "spend"]
    conversions = result.daily[result.daily["metric"] == "conversions"]
    recent = data[data["campaign_id"] == campaign].tail(14)
    # the recent delivery: today's budget x the last two weeks' spend / budget (about 1.2)
    level = recent["budget"].iloc[-1] * (recent["spend"] / recent["budget"]).mean()
    assert spend["p50"].min() > 0.9 * level  # never 0, not even at the end of a month
    assert spend["p50"].max() < 1.1 * level  # the recent delivery, held
    assert (conversions["p50"] > 0).all()
    assert result.probabilities["p_budget_exhausted"] == 0.0
    assert result.budget["kind"] == "recent_delivery"
    notes = result.to_dict()["notes"]
    assert any(f"'{campaign}': spend contradicts the budget column" in n for n in notes)
    assert any("ran at 12" in n for n in notes)  # "ran at 120%" or so of the budget


def test_the_google_month_cap_that_binds_today_is_switched_off_by_the_evidence(world):
    state = campaign_module.campaign_state(
        campaign_module.cut_history(_overspending(world), "C001", None)
    )
    assert state.delivery.rule.name == "google"
    assert not state.delivery.period_cap
    assert "period cap is not applied" in state.delivery.note


def test_a_campaign_that_respects_its_budget_keeps_the_caps_and_gets_capped(world):
    from .test_budget import _paced_history

    data = world.data.copy()
    rows = (data["campaign_id"] == "C001") & (data["date"] <= pd.Timestamp("2026-02-28"))
    data = data[rows | (data["campaign_id"] != "C001")].reset_index(drop=True)
    mine = data["campaign_id"] == "C001"
    paced = _paced_history(1.0, end="2026-02-28", days=int(mine.sum()))
    data.loc[mine, "spend"] = paced["spend"].to_numpy() * 5.0
    data.loc[mine, "budget"] = 500.0
    result = simulate_campaign(data, "C001", 31, n_paths=2000, forecast_fn=empirical_forecaster)
    assert result.dates[0] == pd.Timestamp("2026-03-01") and result.horizon_days == 31
    state = result.extra["state"]["delivery"]
    assert (state["pacing_rule"], state["daily_cap"], state["period_cap"]) == ("google", True, True)
    assert state["note"] is None and "notes" not in result.extra
    assert result.totals["spend"]["p95"] <= 30.4 * 500 * (1 + 1e-6)  # Google's monthly cap
    assert result.probabilities["p_budget_exhausted"] > 0.05  # binds before March 31
    spend = result.daily[result.daily["metric"] == "spend"]
    assert spend["p95"].max() <= 2 * 500 * (1 + 1e-6)


def test_without_a_budget_column_the_default_plan_is_the_recent_delivery_uncapped(world):
    data = _overspending(world).drop(columns="budget")
    result = simulate_campaign(data, "C001", 45, n_paths=500, forecast_fn=empirical_forecaster)
    level = data[data["campaign_id"] == "C001"]["spend"].tail(14).mean()
    assert result.budget["daily"] == pytest.approx(np.full(45, level))
    assert (result.budget["daily_cap"], result.budget["period_cap"]) == (False, False)
    spend = result.daily[result.daily["metric"] == "spend"]
    assert spend["p50"].min() > 0.9 * level


def test_cli_json_scenarios_partition_and_carry_the_delivery_note(world, tmp_path, monkeypatch):
    monkeypatch.setattr(campaign_module, "_default_forecaster", empirical_forecaster)
    data_path = tmp_path / "over.csv"
    _overspending(world).to_csv(data_path, index=False)
    args = ["simulate", str(data_path), "-c", "C001", "--horizon", "40", "--paths", "1000"]
    args.append("--no-record")  # the forecaster is replaced: nothing to record
    runner = CliRunner()
    out = runner.invoke(app, [*args, "--scenario-cuts", "0.1,0.9", "--format", "json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    scenarios = payload["scenarios"]
    assert [s["name"] for s in scenarios] == ["pessimistic", "realistic", "optimistic"]
    assert sum(s["probability"] for s in scenarios) == pytest.approx(1.0, abs=1e-12)
    assert [s["quantile_low"] for s in scenarios] == [0.0, 0.1, 0.9]
    assert scenarios[0]["probability"] == pytest.approx(0.1, abs=0.01)
    means = [s["mean_totals"]["conversions"] for s in scenarios]
    assert means == sorted(means)
    assert all(s["daily"] and s["path_index"] >= 0 for s in scenarios)
    assert any("spend contradicts the budget column" in n for n in payload["notes"])
    assert payload["budget"]["period_cap"] is False
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "spend contradicts the budget column" in table.stdout
    bad = runner.invoke(app, [*args, "--scenario-cuts", "0.9,0.1"])
    assert bad.exit_code == 1
    assert "--scenario-cuts must be LOW,HIGH" in bad.output and "Traceback" not in bad.output


@pytest.mark.slow
def test_cli_simulate_runs_the_real_default_ensemble(tmp_path, monkeypatch):
    """`simkit simulate` with nothing replaced: the project's forecaster fits the ensemble."""
    import simkit.forecast as forecast_module
    import simkit.simulate.campaign as campaign_module

    monkeypatch.chdir(tmp_path)  # the forecast cache (.simkit-cache/) lands in tmp_path
    small = generate(1, 70, rng=np.random.default_rng(11), events=None, channels=["search"])
    data_path, _ = small.write(tmp_path)
    real = forecast_module.forecast_campaign
    fitted = []

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        fitted.append(real(*args, **kwargs))
        return fitted[-1]

    # patched where simulate looks it up (its module imports it at the top)
    monkeypatch.setattr(campaign_module, "forecast_campaign", spy)
    args = ["simulate", str(data_path), "--campaign", "C001", "--horizon", "7"]
    out = CliRunner().invoke(app, [*args, "--paths", "200", "--seed", "1", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert len(fitted) == 1
    forecast = fitted[0]
    assert forecast.members == forecast_module.DEFAULT_MEMBERS and forecast.warnings == ()
    for driver in ("log_cpm", "logit_ctr", "logit_cvr", "log_rpc"):
        weights = [w[driver] for w in forecast.weights.values()]
        assert sum(weights) == pytest.approx(1.0) and sum(w > 0 for w in weights) >= 2
    payload = json.loads(out.stdout)
    assert payload["horizon_days"] == 7 and payload["paths"] == 200
    # the simulated CPM is the ensemble's: its median sits near the forecast centre
    centre_cpm = float(np.exp(forecast.drivers.center[:, 0]).mean())
    assert payload["totals"]["cpm"]["p50"] == pytest.approx(centre_cpm, rel=0.15)
    # a stationary generated campaign: the last two weeks' run rate lies in the 80% band
    conversions = payload["totals"]["conversions"]
    run_rate = small.data.sort_values("date")["conversions"].tail(14).sum() / 2
    assert conversions["p10"] < run_rate < conversions["p90"]
    assert conversions["p10"] < conversions["p50"] < conversions["p90"]
