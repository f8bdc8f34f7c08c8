"""Rich display of the results (issue 22): ``_repr_html_``, ``to_frame`` and ``plot`` on the
forecast, the backtest, a simulation, a what-if, a risk report and a pivot set."""

from __future__ import annotations

import re
from datetime import date

import altair as alt
import numpy as np
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.lib.pretty import pretty

import simkit
from simkit import _display
from simkit.data import worlds
from simkit.errors import ParamsError
from simkit.risk import Alert, RiskReport
from simkit.simulate import BudgetPlan, WhatIfSession
from simkit.viz import what_if_explorer

H = 14
MEMBERS = ["seasonal_naive", "ets"]


#: the campaign shown: family B's B001 (no creative_id, no budget column, days missing), so
#: the displays are checked on data other than the first generator's (issue 23)
CID = "B001"


@pytest.fixture(scope="module")
def world():
    return worlds.generate(3, 90, rng=np.random.default_rng(5))


@pytest.fixture(scope="module")
def forecast(world):
    return simkit.forecast_campaign(world.data, CID, H, members=MEMBERS, seed=3, cache=False)


@pytest.fixture(scope="module")
def simulation(world, forecast):
    return simkit.simulate_campaign(
        world.data, CID, H, n_paths=400, seed=3, drivers=forecast.drivers
    )


@pytest.fixture(scope="module")
def what_if(world, forecast):
    return simkit.what_if_campaign(
        world.data,
        CID,
        H,
        pivot_budget=BudgetPlan.from_daily(2 * float(forecast.drivers.spend_plan.mean()), H),
        n_paths=400,
        seed=3,
        drivers=forecast.drivers,
    )


@pytest.fixture(scope="module")
def risks(world):
    return simkit.detect_risks(world.data, world.campaigns)


@pytest.fixture(autouse=True)
def default_renderer():
    """Each test starts from Altair's default (CDN) renderer and leaves it so."""
    alt.renderers.enable("default")
    yield
    alt.renderers.enable("default")


def _assert_offline_html(html: str, title: str) -> None:
    assert title in html
    assert "<table>" in html
    assert "<script" not in html  # charts are inline SVG: nothing to load
    assert not re.search(r"(src|href)=[\"']https?://", html)


def test_simulation_shows_table_and_fan_chart(simulation) -> None:
    html = simulation._repr_html_()
    _assert_offline_html(html, f"Simulation of {CID}: 14 days")
    assert html.count("<svg") == 1
    for word in ("Pessimistic", "Realistic", "Optimistic", "P(budget runs out)", "Conversions"):
        assert word in html


def test_simulation_frame_is_tidy(simulation) -> None:
    frame = simulation.to_frame()
    assert list(frame.columns[:3]) == ["campaign_id", "date", "metric"]
    assert len(frame) == H * frame["metric"].nunique()
    assert not frame.duplicated(["date", "metric"]).any()
    conv = frame[frame["metric"] == "conversions"]
    assert (conv["p10"] <= conv["p50"]).all() and (conv["p50"] <= conv["p90"]).all()
    assert conv["p50"].to_numpy() == pytest.approx(
        simulation.daily.query("metric == 'conversions'")["p50"].to_numpy()
    )


def test_plot_switches_the_cdn_renderer_to_svg_and_draws_the_metric(simulation) -> None:
    chart = simulation.plot("revenue")
    assert alt.renderers.active == "svg"
    spec = chart.to_dict()
    assert "Revenue per day" in spec["title"]
    assert {"p10", "p50", "p90"} <= set(pd.DataFrame(spec["datasets"].popitem()[1]).columns)


def test_plot_leaves_a_renderer_chosen_on_purpose(simulation) -> None:
    alt.renderers.enable("png")
    simulation.plot()
    assert alt.renderers.active == "png"


def test_plot_of_an_unknown_metric_names_the_known_ones(simulation) -> None:
    with pytest.raises(ValueError, match="no daily quantiles of 'conversion'.*conversions"):
        simulation.plot("conversion")


def test_forecast_shows_weights_and_member_lines(forecast) -> None:
    html = forecast._repr_html_()
    _assert_offline_html(html, f"Forecast of {CID}: 14 days")
    assert "<svg" in html and "ets" in html and "seasonal_naive" in html
    frame = forecast.to_frame()
    assert set(frame["source"]) == {*MEMBERS, "ensemble"}
    assert len(frame) == H * 3
    # the ensemble rows are the forecast's own point funnel
    ens = frame[frame["source"] == "ensemble"]
    assert ens["conversions"].to_numpy() == pytest.approx(
        forecast.point_volumes()["conversions"].to_numpy()
    )
    assert isinstance(forecast.plot(), alt.Chart)


def test_backtest_shows_member_weights_and_mase(forecast) -> None:
    bt = forecast.backtest
    html = bt._repr_html_()
    _assert_offline_html(html, f"Backtest of {CID}")
    assert "Ensemble weight" in html and "MASE (1 = seasonal naive)" in html
    frame = bt.to_frame()
    assert list(frame["member"]) == [*MEMBERS, "ensemble"]
    naive = frame.set_index("member").loc["seasonal_naive"]
    assert naive["mase"] == pytest.approx(1.0)
    assert frame.loc[frame["member"] != "ensemble", "weight"].sum() == pytest.approx(1.0)
    assert isinstance(bt.plot(), alt.HConcatChart)


def test_what_if_shows_both_runs_and_the_paired_delta(what_if) -> None:
    html = what_if._repr_html_()
    _assert_offline_html(html, f"What-if on {CID}")
    assert "<svg" in html
    frame = what_if.to_frame().set_index("metric")
    assert frame.loc["spend", "delta_p50"] > 0  # the pivot doubles the budget
    assert frame.loc["conversions", "p_higher"] == pytest.approx(what_if.p_higher["conversions"])
    spec = what_if.plot().to_dict()
    runs = set(pd.DataFrame(spec["datasets"].popitem()[1])["run"])
    assert runs == {"baseline", "pivot"}


def test_risk_report_lists_alerts(risks) -> None:
    frame = risks.to_frame()
    assert list(frame.columns) == [
        "as_of",
        "campaign_id",
        "type",
        "probability",
        "severity",
        "onset",
        "message",
        "suggested_pivots",
    ]
    assert len(frame) == len(risks.alerts)
    assert frame["probability"].is_monotonic_decreasing
    html = risks._repr_html_()
    assert f"Risks as of {risks.as_of}" in html


def test_risk_report_with_alerts_draws_them(world) -> None:
    report = simkit.detect_risks(world.data, world.campaigns, min_probability=0.0)
    assert report.alerts, "min_probability 0 reports every detector's alert"
    html = report._repr_html_()
    _assert_offline_html(html, "alerts on")
    assert "<svg" in html
    assert isinstance(report.plot(), alt.Chart)


def test_empty_risk_report_says_so_without_a_chart() -> None:
    html = RiskReport(as_of=None, alerts=())._repr_html_()
    assert "no detector reached its reporting threshold" in html
    assert "<svg" not in html
    assert RiskReport(as_of=None, alerts=()).to_frame().empty


@pytest.mark.slow
def test_pivot_set_ranks_recommendations(world) -> None:
    result = simkit.find_pivots(world.data, world.campaigns, seed=3, horizon_days=H)
    frame = result.to_frame()
    assert len(frame) > 0, "the family-B portfolio should yield at least one pivot"
    assert list(frame["rank"]) == list(range(1, len(result.recommendations) + 1))
    assert frame["score"].is_monotonic_decreasing
    html = result._repr_html_()
    _assert_offline_html(html, "Pivots as of")
    assert "optimised" in html
    assert "<svg" in html


def test_calibration_check_by_horizon_and_pit(world) -> None:
    check = simkit.calibration_check(world.data, CID, 7, members=MEMBERS, seed=1, max_cutoffs=3)
    frame = check.to_frame()
    assert list(frame["step"]) == list(range(1, 8))
    assert ((frame[["coverage_50", "coverage_80", "coverage_95"]] >= 0).all()).all()
    assert (frame["coverage_50"] <= frame["coverage_80"]).all()
    assert (frame["coverage_80"] <= frame["coverage_95"]).all()
    assert len(check.pit) == int(frame["n"].sum())
    assert ((check.pit >= 0) & (check.pit <= 1)).all()
    again = simkit.calibration_check(world.data, CID, 7, members=MEMBERS, seed=1, max_cutoffs=3)
    assert np.array_equal(check.pit, again.pit)
    html = check._repr_html_()
    _assert_offline_html(html, f"Calibration of the ensemble on {CID}")
    assert "PIT histogram" in html


def test_calibration_check_rejects_an_unknown_source(world) -> None:
    with pytest.raises(ParamsError, match="source 'prophet' is neither 'ensemble'"):
        simkit.calibration_check(world.data, CID, 7, members=MEMBERS, source="prophet")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (float("inf"), "∞"),
        (1234567.8, "1,234,568"),
        (123.45, "123.5"),
        (0.012345, "0.0123"),
        (12, "12"),
        (pd.Timestamp("2026-01-02"), "2026-01-02"),
    ],
)
def test_format_number(value, text) -> None:
    assert _display.format_number(value) == text


def test_what_if_explorer_previews_what_the_controls_say(world) -> None:
    session = WhatIfSession(world.data, CID, H, seed=3, n_paths=300)
    explorer = what_if_explorer(session, budget_pct=0)
    assert explorer.result.delta["spend"]["p50"] == pytest.approx(0.0)
    explorer.budget.value = 50  # the slider's observer previews again
    assert explorer.pivot().budget_factor == pytest.approx(1.5)
    assert explorer.result.delta["spend"]["p50"] > 0
    assert explorer.result.to_dict() == session.preview(explorer.pivot()).to_dict()
    explorer.horizon.value = 7
    assert explorer.result.baseline.horizon_days == 7
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_ids_and_messages_are_escaped_in_the_html() -> None:
    """Campaign ids and messages come from data: they never become markup."""
    evil = "<script>alert(1)</script>"
    alert = Alert(
        campaign_id=evil,
        type="performance_dip",
        probability=0.9,
        severity="high",
        onset=date(2026, 1, 2),
        evidence={},
        message=evil,
        suggested_pivots=("check_tracking",),
        as_of=date(2026, 1, 9),
    )
    html = RiskReport(as_of=date(2026, 1, 9), alerts=(alert,))._repr_html_()
    assert "<svg" in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_ipython_displays_a_simulation_as_html(simulation) -> None:
    """What JupyterLab shows when ``simkit.simulate_campaign(...)`` ends a cell."""
    data, _ = DisplayFormatter().format(simulation)
    assert f"Simulation of {CID}" in data["text/html"]
    assert "<svg" in data["text/html"]


def test_ipython_text_form_is_a_short_summary(simulation, forecast) -> None:
    text = pretty(simulation)
    assert text.startswith(f"Simulation of {CID}: 14 days")
    assert "Pessimistic" in text and "P(budget runs out)" in text
    assert "DataFrame" not in text and "<svg" not in text
    assert len(text.splitlines()) < 40  # not the whole dataclass
    assert pretty(forecast.backtest).startswith(f"Backtest of {CID}")
