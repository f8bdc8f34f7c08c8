"""The campaign-day panel: its rules on hand-built frames, and its consumers agreeing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simkit
from simkit.data.panel import CampaignPanel, dow_dummies
from simkit.data.synthetic import generate
from simkit.errors import DataError, ParamsError
from simkit.forecast.drivers import driver_history
from simkit.pivots.portfolio import daily_panel
from simkit.report.context import _daily as report_daily
from simkit.risk.history import campaign_histories
from simkit.simulate.campaign import _daily as simulate_daily
from simkit.simulate.factors import fit_fatigue
from simkit.simulate.fatigue import creative_state, natural_wear

VOLUMES = ("spend", "impressions", "clicks", "conversions", "revenue")


def _row(day: str, **values) -> dict:
    base = {
        "date": pd.Timestamp(day),
        "campaign_id": "A",
        "spend": 10.0,
        "impressions": 100,
        "clicks": 5,
        "conversions": 1,
        "revenue": 20.0,
    }
    return {**base, **values}


def test_dominant_creative_is_the_one_with_most_impressions_and_ages_from_first_dominance():
    frame = pd.DataFrame(
        [
            _row("2026-01-01", creative_id="x", impressions=900),
            _row("2026-01-01", creative_id="y", impressions=100),
            _row("2026-01-02", creative_id="x", impressions=400),
            _row("2026-01-02", creative_id="y", impressions=600),
            _row("2026-01-03", creative_id="y", impressions=700),
            _row("2026-01-04", creative_id="x", impressions=800),  # x returns
        ]
    )
    days = CampaignPanel.from_data(frame).campaign("A")
    assert days["creative_id"].tolist() == ["x", "y", "y", "x"]
    # y first became dominant on day 2 (it ran on day 1 too, but was not dominant)
    assert days["creative_age"].tolist() == [0.0, 0.0, 1.0, 3.0]
    assert days["creative_generation"].tolist() == [0, 1, 1, 0]
    assert days["impressions"].tolist() == [1000.0, 1000.0, 700.0, 800.0]


def test_blank_creative_cells_read_from_a_csv_are_no_creative(tmp_path):
    """A campaign whose creative_id cells are blank (as another campaign in the same file has
    creatives) has no generations: it must not look like one creative worn for its whole life."""
    world = generate(2, 40, rng=np.random.default_rng(3))
    data = world.data.copy()
    data["creative_id"] = data["creative_id"].astype(object)
    data.loc[data["campaign_id"] == "C002", "creative_id"] = np.nan
    path = tmp_path / "blank_creatives.csv"
    data.to_csv(path, index=False)
    panel = CampaignPanel.from_data(simkit.load(path).data)
    blank = panel.campaign("C002")
    assert (blank["creative_generation"] == -1).all()
    assert blank["creative_age"].isna().all()
    assert (panel.campaign("C001")["creative_generation"] >= 0).all()


def test_budget_repeated_on_breakdown_rows_counts_once_and_split_budgets_add_up():
    repeated = pd.DataFrame(
        [
            _row("2026-01-01", creative_id="x", budget=50.0),
            _row("2026-01-01", creative_id="y", budget=50.0),
            _row("2026-01-02", creative_id="x", budget=60.0),
        ]
    )
    split = pd.DataFrame(
        [
            _row("2026-01-01", ad_group="g1", budget=30.0),
            _row("2026-01-01", ad_group="g2", budget=20.0),
            _row("2026-01-01", ad_group="g3", budget=np.nan),
        ]
    )
    assert CampaignPanel.from_data(repeated).campaign("A")["budget"].tolist() == [50.0, 60.0]
    assert CampaignPanel.from_data(split).campaign("A")["budget"].tolist() == [50.0]


def test_missing_day_is_flagged_and_left_blank_never_filled():
    frame = pd.DataFrame([_row("2026-01-01"), _row("2026-01-02"), _row("2026-01-05")])
    days = CampaignPanel.from_data(frame).campaign("A")
    assert list(days.index.strftime("%m-%d")) == ["01-01", "01-02", "01-03", "01-04", "01-05"]
    assert days["present"].tolist() == [True, True, False, False, True]
    assert days.loc[~days["present"], list(VOLUMES)].isna().all().all()
    assert days["spend"].sum() == 30.0


def test_impression_share_is_impression_weighted_and_a_single_row_keeps_its_value():
    frame = pd.DataFrame(
        [
            _row("2026-01-01", impressions=10, impression_share=0.9),
            _row("2026-01-01", impressions=10_000, impression_share=0.1),
            _row("2026-01-01", impressions=500, impression_share=np.nan),
            _row("2026-01-02", impressions=10, impression_share=0.3),
            _row("2026-01-03", impressions=0, impression_share=0.2),
            _row("2026-01-03", impressions=0, impression_share=0.4),
        ]
    )
    share = CampaignPanel.from_data(frame).campaign("A")["impression_share"].to_numpy()
    np.testing.assert_allclose(share, [(0.9 * 10 + 0.1 * 10_000) / 10_010, 0.3, 0.3])


def test_frequency_on_summed_days_is_impressions_over_reach():
    frame = pd.DataFrame(
        [
            _row("2026-01-01", impressions=300, reach=100, frequency=3.0),
            _row("2026-01-01", impressions=100, reach=100, frequency=1.0),
            _row("2026-01-02", impressions=250, reach=100, frequency=2.5),
        ]
    )
    days = CampaignPanel.from_data(frame).campaign("A")
    np.testing.assert_allclose(days["frequency"], [2.0, 2.5])
    np.testing.assert_allclose(days["reach"], [200.0, 100.0])


def test_as_of_drops_later_rows_before_any_rule():
    frame = pd.DataFrame(
        [
            _row("2026-01-01", creative_id="x", budget=50.0),
            _row("2026-01-02", creative_id="x", budget=50.0),
            _row("2026-01-03", creative_id="y", budget=80.0),
            _row("2026-01-03", creative_id="x", budget=20.0, impressions=1),
        ]
    )
    cut = CampaignPanel.from_data(frame, as_of="2026-01-02")
    assert cut.last_date == pd.Timestamp("2026-01-02")
    assert cut.campaign("A")["budget"].tolist() == [50.0, 50.0]
    pd.testing.assert_frame_equal(
        CampaignPanel.from_data(frame).until("2026-01-02").frame, cut.frame
    )
    with pytest.raises(DataError, match="no data on or before as_of 2025-12-31"):
        CampaignPanel.from_data(frame, as_of="2025-12-31")
    with pytest.raises(ParamsError, match="field 'as_of': 'soon' is not a date"):
        CampaignPanel.from_data(frame, as_of="soon")


def test_campaign_access_dates_and_stopped():
    frame = pd.DataFrame(
        [_row(f"2026-01-{d:02d}") for d in range(1, 21)]
        + [_row(f"2026-01-{d:02d}", campaign_id="B") for d in range(1, 11)]
        + [
            _row(f"2026-01-{d:02d}", campaign_id="C", spend=0.0 if d > 5 else 10.0)
            for d in range(1, 21)
        ]
    )
    panel = CampaignPanel.from_data(frame)
    assert panel.ids == ("A", "B", "C")
    assert panel.last_date == pd.Timestamp("2026-01-20")
    assert panel.campaign_last_date("B") == pd.Timestamp("2026-01-10")
    assert panel.last_spend_date("C") == pd.Timestamp("2026-01-05")
    assert [panel.is_stopped(c) for c in panel.ids] == [False, True, True]
    with pytest.raises(DataError, match="did you mean 'A'"):
        panel.campaign("a")
    with pytest.raises(DataError, match="lacks column"):
        CampaignPanel.from_data(frame.drop(columns="clicks"))


def test_dow_dummies_is_one_encoding_for_dates_and_day_numbers():
    days = pd.date_range("2026-01-05", periods=14, freq="D")  # a Monday
    from_dates = dow_dummies(days)
    assert from_dates.shape == (14, 6)
    np.testing.assert_array_equal(from_dates, dow_dummies(days.day_of_week.to_numpy()))
    np.testing.assert_array_equal(from_dates, dow_dummies(days.to_numpy().astype("datetime64[D]")))
    assert from_dates[0].sum() == 0  # Monday is the reference
    assert from_dates[6].tolist() == [0, 0, 0, 0, 0, 1]  # Sunday


_rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B"]),
        st.integers(0, 9),  # day offset
        st.sampled_from(["x", "y", None]),
        st.floats(0, 1000, allow_nan=False),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=40,
)


@given(_rows)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_panel_keeps_every_volume_and_every_reported_day(rows):
    frame = pd.DataFrame(
        {
            "date": [pd.Timestamp("2026-03-01") + pd.Timedelta(days=d) for _, d, *_ in rows],
            "campaign_id": [c for c, *_ in rows],
            "creative_id": [cr for _, _, cr, _, _ in rows],
            "spend": [s for *_, s, _ in rows],
            "impressions": [i for *_, i in rows],
            "clicks": [i // 10 for *_, i in rows],
            "conversions": [i // 100 for *_, i in rows],
            "revenue": [s * 2 for *_, s, _ in rows],
        }
    )
    panel = CampaignPanel.from_data(frame).frame
    for column in VOLUMES:
        assert panel[column].sum() == pytest.approx(frame[column].sum())
    reported = set(zip(frame["campaign_id"], frame["date"], strict=True))
    present = panel[panel["present"]]
    assert set(zip(present["campaign_id"], present["date"], strict=True)) == reported
    assert not panel.duplicated(["campaign_id", "date"]).any()
    # the calendar is gap-free between each campaign's first and last day
    for cid, days in panel.groupby("campaign_id"):
        span = frame.loc[frame["campaign_id"] == cid, "date"]
        assert len(days) == (span.max() - span.min()).days + 1
    assert panel.loc[~panel["present"], "spend"].isna().all()


@pytest.fixture(scope="module")
def broken_down():
    """A synthetic campaign split into two creative rows a day, with a gap and a split
    budget on some days: the shapes on which the old aggregations disagreed."""
    world = generate(2, 70, rng=np.random.default_rng(3), events=None)
    data = world.data
    a = data.assign(
        impressions=(data["impressions"] * 0.7).round(),
        spend=data["spend"] * 0.6,
    )
    b = data.assign(
        creative_id=data["creative_id"] + "-b",
        impressions=data["impressions"] - a["impressions"],
        spend=data["spend"] - a["spend"],
    )
    split = b["date"] >= pd.Timestamp("2026-02-20")
    b.loc[split, "budget"] = b.loc[split, "budget"] * 0.5  # a second, smaller budget
    both = pd.concat([a, b], ignore_index=True)
    gap = both["date"].between(pd.Timestamp("2026-02-01"), pd.Timestamp("2026-02-03"))
    return both[~gap].reset_index(drop=True)


def test_forecast_risk_pivots_simulate_and_report_agree_on_one_campaign(broken_down):
    data = broken_down
    panel = CampaignPanel.from_data(data)
    truth = panel.campaign("C001")
    present = truth["present"].to_numpy()
    assert (~present).sum() == 3
    drivers = driver_history(data, "C001")
    (history,) = campaign_histories(data, campaign_ids=["C001"])
    pivots = daily_panel(data).query("key == 'C001'").set_index("date")
    sim = simulate_daily(truth).set_index("date")
    rows = data[data["campaign_id"] == "C001"]
    report = report_daily(rows).set_index("date")
    days = truth.index[present]
    # forecast drivers and risk histories are on the full calendar
    np.testing.assert_allclose(drivers.spend[present], truth["spend"][present])
    np.testing.assert_allclose(drivers.spend[~present], 0.0)  # the drivers' stated choice
    np.testing.assert_allclose(drivers.counts["impressions"], truth["impressions"])
    np.testing.assert_allclose(history.spend, truth["spend"])
    np.testing.assert_allclose(history.impressions, truth["impressions"])
    np.testing.assert_allclose(history.budget, truth["budget"])
    for other in (pivots, sim, report):
        assert list(other.index) == list(days)
        np.testing.assert_allclose(other["spend"], truth.loc[days, "spend"])
        np.testing.assert_allclose(other["impressions"], truth.loc[days, "impressions"])
        np.testing.assert_allclose(other["budget"], truth.loc[days, "budget"])
    # the split days hold both budgets; the others one repeated budget
    raw = data[data["campaign_id"] == "C001"].groupby("date")["budget"]
    np.testing.assert_allclose(truth.loc[days, "budget"].iloc[-1], raw.sum().iloc[-1])
    np.testing.assert_allclose(truth.loc[days, "budget"].iloc[0], raw.max().iloc[0])


def test_fatigue_factor_and_creative_state_are_one_model():
    world = generate(1, 200, rng=np.random.default_rng(4), events=None, channels=["search"])
    data = world.data
    # the day before the last refresh, so that the current creative is old enough for a state
    last_start = data.loc[data["creative_id"] == data["creative_id"].iloc[-1], "date"].min()
    data = data[data["date"] < last_start]
    factor = fit_fatigue(data)
    state = creative_state(data, "C001")
    wear = natural_wear(data)
    assert factor is not None and state is not None and wear is not None
    slope, slope_se, age_today = wear
    assert factor.rate_per_day == pytest.approx(max(-slope, 0.0))
    assert factor.rate_se == pytest.approx(slope_se)
    assert factor.creative_age_days == age_today == state.current_age_days
    # two summaries of one fit: lifetime wear and a new creative's first weeks agree
    truth = world.truth["C001"].fatigue_rate_per_day
    assert abs(factor.rate_per_day - truth) < 3 * factor.rate_se + 0.001
    assert abs(-state.natural_slope - truth) < 3 * state.natural_slope_se + 0.001


def test_panel_of_real_ad_rows_keeps_the_totals(shared_data):
    path = shared_data / "facebook_ad_campaign_dated" / "kag_conversion_with_dates_DERIVED.csv"
    raw = pd.read_csv(path)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(raw["date"]),
            "campaign_id": raw["xyz_campaign_id"].astype(str),
            "creative_id": raw["ad_id"].astype(str),
            "spend": raw["Spent"],
            "impressions": raw["Impressions"],
            "clicks": raw["Clicks"],
            "conversions": raw["Total_Conversion"],
            "revenue": raw["Approved_Conversion"] * 0.0,
        }
    )
    panel = CampaignPanel.from_data(frame)
    assert panel.ids == ("1178", "916", "936")
    assert panel.frame["impressions"].sum() == frame["impressions"].sum()
    # PROVENANCE: campaign 916 reports 8 of its days, 936 13 and 1178 14
    reported = panel.frame.groupby("campaign_id")["present"].sum().to_dict()
    assert reported == {"1178": 14, "916": 8, "936": 13}
    assert panel.campaign("1178")["creative_id"].notna().all()


def test_a_panel_is_built_once_for_the_same_rows_and_again_when_they_change():
    """Stages that read one campaign's rows share its panel (issue 21), never a stale one."""
    from simkit.data import panel as panel_module

    world = generate(2, 30, rng=np.random.default_rng(3), events=None)
    rows = world.data[world.data["campaign_id"] == "C001"].reset_index(drop=True)
    first = CampaignPanel.from_data(rows)
    assert CampaignPanel.from_data(rows.copy()) is first  # same content, another frame
    assert CampaignPanel.from_data(rows, campaign_ids=["C001"]) is first  # keeps every row
    both = CampaignPanel.from_data(world.data)
    assert CampaignPanel.from_data(world.data, campaign_ids=["C002"]).ids == ("C002",)
    assert both.ids == ("C001", "C002")
    assert CampaignPanel.from_data(rows, as_of=rows["date"].iloc[20]) is not first
    built = CampaignPanel._build(rows, None, None)
    pd.testing.assert_frame_equal(first.frame, built.frame)
    changed = rows.copy()
    changed.loc[5, "spend"] += 1.0
    other = CampaignPanel.from_data(changed)
    assert other is not first and other.campaign("C001")["spend"].iloc[5] == pytest.approx(
        first.campaign("C001")["spend"].iloc[5] + 1.0
    )
    floats = rows.astype({"clicks": float})  # same values, other types: another panel
    assert CampaignPanel.from_data(floats) is not first
    for i in range(panel_module._BUILT_MAX + 2):  # bounded
        CampaignPanel.from_data(rows.iloc[: 10 + i])
    assert len(panel_module._BUILT) == panel_module._BUILT_MAX
