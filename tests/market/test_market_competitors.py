from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.errors import ParamsError
from simkit.market import (
    analyze_competitors,
    attribute_cpm_pressure,
    market_share,
    read_auction_insights,
    regress_on_competitor_pressure,
    threat_score,
)


@pytest.fixture
def auction(weekly_export):
    return read_auction_insights(weekly_export)


def test_threat_score_formula():
    assert threat_score(0.6, 0.5) == pytest.approx(30.0)
    assert threat_score(0.6, 0.5, momentum=1.0) == pytest.approx(60.0)
    assert threat_score(1.0, 1.0, momentum=1.0) == 100.0
    assert threat_score(float("nan"), 0.5) == 0.0


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_threat_score_bounded_and_monotone(overlap, above, momentum, bump):
    score = threat_score(overlap, above, momentum)
    assert 0.0 <= score <= 100.0
    assert threat_score(min(1.0, overlap + bump), above, momentum) >= score - 1e-9
    assert threat_score(overlap, above, min(1.0, momentum + bump)) >= score - 1e-9


def test_analysis_finds_the_entrant_and_ranks_it_first(auction):
    analysis = analyze_competitors(auction)
    assert analysis.new_entrants == ("newrival.com",)
    assert analysis.exits == ()
    top = analysis.competitors[0]
    assert top.domain == "newrival.com" and top.new_entrant and top.momentum == 1.0
    assert top.first_seen.date() == date(2026, 3, 16)
    assert top.threat_score == pytest.approx(100 * 0.45 * 0.60 * 2)
    declining = next(c for c in analysis.competitors if c.domain == "rival-two.co.uk")
    assert declining.impression_share_slope_per_week < 0
    assert declining.impression_share_change < 0 and declining.momentum == 0.0
    assert "newrival.com" in analysis.explanation
    json.dumps(analysis.to_dict())


def test_market_share_sums_to_one_per_period(auction):
    shares = market_share(auction)
    sums = shares.groupby("period_start")["market_share"].sum()
    assert np.allclose(sums, 1.0)
    first = shares[shares["period_start"] == shares["period_start"].min()]
    you = first[first["is_you"]].iloc[0]
    assert you["market_share"] == pytest.approx(you["impression_share"] / you["coverage"])


def test_exit_is_detected(tmp_path, auction_kit):
    rival = {
        "impression_share": 0.3,
        "overlap_rate": 0.5,
        "position_above_rate": 0.4,
        "top_of_page_rate": 0.7,
        "abs_top_of_page_rate": 0.2,
        "outranking_share": 0.3,
    }
    weeks = [
        (
            date(2026, 1, 5),
            {"You": {"impression_share": 0.5}, "gone.com": rival, "stays.com": rival},
        ),
        (date(2026, 1, 12), {"You": {"impression_share": 0.6}, "stays.com": rival}),
    ]
    analysis = analyze_competitors(
        read_auction_insights(auction_kit.write_segmented_export(tmp_path / "x.csv", weeks))
    )
    assert analysis.exits == ("gone.com",) and analysis.new_entrants == ()


def test_single_period_export_has_no_trend_but_scores(tmp_path, auction_kit):
    rows = {
        "You": {"impression_share": 0.5},
        "a.com": {
            "impression_share": 0.3,
            "overlap_rate": 0.5,
            "position_above_rate": 0.4,
            "top_of_page_rate": 0.7,
            "abs_top_of_page_rate": 0.2,
            "outranking_share": 0.3,
        },
    }
    auction = read_auction_insights(
        auction_kit.write_export(
            tmp_path / "one.csv", rows, start=date(2026, 1, 1), end=date(2026, 1, 31)
        )
    )
    analysis = analyze_competitors(auction)
    only = analysis.competitors[0]
    assert only.threat_score == pytest.approx(20.0) and not only.new_entrant
    assert only.market_share == pytest.approx(0.3 / 0.8)


def test_regression_names_the_competitor_behind_the_cpm_rise(auction, world_and_weeks):
    world, _ = world_and_weeks
    result = regress_on_competitor_pressure(auction, world.data, "C001")
    named = result.named_competitor()
    assert named is not None and named.competitor == "newrival.com"
    assert named.coefficient > 0 and named.p_value_holm < 0.01
    # the injected CPM multiplier is 1.5 for an impression share of about 0.30
    assert np.exp(named.coefficient * 0.30) == pytest.approx(1.5, rel=0.2)
    assert ("smallshop.io", "its pressure does not vary") in result.skipped
    assert "newrival.com" in result.explanation
    json.dumps(result.to_dict())
    pairs = attribute_cpm_pressure(auction, world.data, "C001")
    competitor, coefficient, p_value = pairs[0]
    assert competitor == "newrival.com" and coefficient > 0 and p_value < 0.01
    trend = regress_on_competitor_pressure(auction, world.data, "C001", control_trend=True)
    assert trend.named_competitor().competitor == "newrival.com"


def test_regression_is_quiet_for_an_unaffected_campaign(auction, world_and_weeks):
    world, _ = world_and_weeks
    result = regress_on_competitor_pressure(auction, world.data, "C002", metric="cpc")
    assert result.metric == "cpc"
    named = result.named_competitor()
    assert named is None or named.competitor != "newrival.com"


def test_regression_needs_periods_and_valid_names(tmp_path, auction, world_and_weeks):
    world, _ = world_and_weeks
    short = world.data[world.data["date"] < "2026-01-20"]
    result = regress_on_competitor_pressure(auction, short, "C001")
    assert result.fits == () and result.n_periods == 2
    assert "at least 4" in result.explanation
    with pytest.raises(ParamsError, match="did you mean 'C001'"):
        regress_on_competitor_pressure(auction, world.data, "C0001")
    with pytest.raises(ParamsError, match="pressure"):
        regress_on_competitor_pressure(auction, world.data, "C001", pressure="share")
