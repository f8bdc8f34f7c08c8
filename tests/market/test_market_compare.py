from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simkit.data.synthetic import generate
from simkit.errors import DataError, ParamsError
from simkit.market import campaign_metrics, compare_campaigns, load_benchmarks
from simkit.market.compare import compare_metric


@pytest.fixture(scope="module")
def world():
    return generate(
        3, 60, rng=np.random.default_rng(3), events=None, channels=["search", "social", "display"]
    )


def test_metrics_are_ratios_of_sums_and_nan_when_undefined():
    frame = pd.DataFrame(
        {
            "spend": [10.0, 30.0],
            "impressions": [1000, 1000],
            "clicks": [10, 30],
            "conversions": [0, 0],
        }
    )
    m = campaign_metrics(frame)
    assert m["ctr"] == 0.02 and m["cpc"] == 1.0 and m["cvr"] == 0.0
    assert np.isnan(m["cpa"])


def test_compare_metric_direction_position_and_words():
    table = load_benchmarks()
    fig = table.figure("Real Estate", "search", "cpc")
    assert fig.n_figures > 1 and fig.range_min < fig.range_max
    cheap = compare_metric("cpc", fig.range_min / 2, fig)
    assert cheap.deviation_pct < 0 and cheap.better is True and cheap.position == "below"
    mid_value = (fig.range_min + fig.range_max) / 2
    mid = compare_metric("cpc", mid_value, fig)
    assert mid.position == "within" and mid.range_fraction == pytest.approx(0.5)
    assert mid.deviation_pct == pytest.approx(100 * (mid_value / fig.value - 1))
    assert fig.source_domain in mid.explanation and str(fig.year) in mid.explanation
    ctr = table.figure("Real Estate", "search", "ctr")
    high = compare_metric("ctr", ctr.range_max * 2, ctr)
    assert high.better is True and high.position == "above"
    assert compare_metric("cpa", float("nan"), fig).deviation_pct is None


def test_compare_campaigns_uses_metadata_industry_and_channel(world):
    result = compare_campaigns(world)
    assert [c.campaign_id for c in result.campaigns] == ["C001", "C002", "C003"]
    for comparison, (_, meta) in zip(result.campaigns, world.campaigns.iterrows(), strict=True):
        assert comparison.channel == meta["channel"]
        assert comparison.industry_requested == meta["industry"]
        ctr = comparison.metrics["ctr"]
        rows = world.data[world.data["campaign_id"] == comparison.campaign_id]
        assert ctr.value == pytest.approx(rows["clicks"].sum() / rows["impressions"].sum())
        if ctr.figure is not None:
            assert ctr.figure.source in json.dumps(comparison.to_dict())
    payload = json.loads(json.dumps(result.to_dict()))
    ctr = payload["campaigns"][0]["metrics"]["ctr"]
    assert {"value", "benchmark", "deviation_pct", "source", "year"} <= set(ctr)
    assert payload["campaigns"][0]["explanation"]


def test_override_window_and_platform(world):
    full = compare_campaigns(world, industry="Travel", platform="search")
    recent = compare_campaigns(world, industry="Travel", platform="search", last_days=14)
    c_full, c_recent = full.campaigns[1], recent.campaigns[1]
    assert c_recent.n_days == 14 and c_full.n_days == 60
    assert c_recent.channel == "search"
    rows = world.data[
        (world.data["campaign_id"] == "C002")
        & (world.data["date"] > world.data["date"].max() - pd.Timedelta(days=14))
    ]
    assert c_recent.metrics["cpc"].value == pytest.approx(
        rows["spend"].sum() / rows["clicks"].sum()
    )


def test_unknown_industry_suggests_or_falls_back_flagged(world):
    with pytest.raises(ParamsError, match="did you mean 'Finance & Insurance'"):
        compare_campaigns(world, industry="Finanse & Insurance")
    far = compare_campaigns(world, industry="Underwater basket weaving", platform="search")
    c = far.campaigns[0]
    assert not c.industry_known and c.industry == "All industries"
    assert all(m.figure is None or m.figure.fallback for m in c.metrics.values())
    assert "not in the benchmark table" in c.explanation
    forced = compare_campaigns(
        world, industry="Finanse & Insurance", platform="search", unknown_industry="all_industries"
    )
    assert forced.campaigns[0].metrics["ctr"].to_dict()["fallback_all_industries"] is True


def test_industry_without_figure_uses_all_industry_flagged(world):
    result = compare_campaigns(world, industry="Retail", platform="search")
    cvr = result.campaigns[0].metrics["cvr"]
    assert cvr.figure.fallback and "all-industry" in cvr.explanation


def test_errors(world):
    with pytest.raises(ParamsError, match="platform"):
        compare_campaigns(world, industry="Travel", platform="radio")
    with pytest.raises(ParamsError, match="C009"):
        compare_campaigns(world, industry="Travel", campaign_ids=["C009"])
    with pytest.raises(DataError, match="lacks contract column.*clicks"):
        compare_campaigns(world.data.drop(columns=["clicks"]), industry="Travel", platform="search")


@pytest.mark.slow
def test_real_data_against_display_benchmarks(shared_data, repo_root):
    from simkit.data import load

    loaded = load(
        shared_data / "online_ad_performance" / "online_advertising_performance_data.csv",
        mapping=repo_root / "params" / "sources" / "online_ad_performance.yaml",
    )
    result = compare_campaigns(loaded, industry="Travel")
    assert {c.channel for c in result.campaigns} == {"display"}
    ctr = result.campaigns[0].metrics["ctr"]
    assert ctr.figure.channel == "display" and ctr.figure.year == 2018
    assert "2018" in ctr.explanation and ctr.figure.source_domain in ctr.explanation


def _with_video(world) -> pd.DataFrame:
    """The world's data with no metadata, C003's channel relabelled as video."""
    data = world.data.copy()
    data.loc[data["campaign_id"] == "C003", "channel"] = "video"
    return data


def test_a_campaign_without_industry_is_compared_with_all_industries_and_says_how(world):
    # on main: ParamsError "campaign 'C001' has no industry in its metadata"
    result = compare_campaigns(world.data, hint=lambda f, c: f"set {f} for {c}")
    c = result.campaigns[0]
    assert c.compared and c.industry == "All industries" and c.industry_requested is None
    assert c.metrics["ctr"].figure.fallback and c.metrics["ctr"].figure.channel == "search"
    assert "No industry is given" in c.explanation
    assert "all-industry search figure (no industry is given)" in c.metrics["ctr"].explanation
    assert c.notes[0].endswith("set industry for C001")
    assert "C001: no industry is given" in result.warnings[0]


def test_a_video_campaign_keeps_its_row_with_a_reason_and_the_others_are_compared(world):
    # on main: ParamsError "campaign 'C003': its channel 'video' is not search, social..."
    result = compare_campaigns(_with_video(world), industry="Travel")
    by_id = {c.campaign_id: c for c in result.campaigns}
    assert list(by_id) == ["C001", "C002", "C003"]
    assert by_id["C001"].compared and by_id["C002"].compared
    video = by_id["C003"]
    assert not video.compared and video.channel == "video"
    assert "channel 'video' has no published benchmarks" in video.reason
    assert all(m.figure is None for m in video.metrics.values())
    rows = world.data[world.data["campaign_id"] == "C003"]
    assert video.metrics["cpc"].value == pytest.approx(rows["spend"].sum() / rows["clicks"].sum())
    payload = json.loads(json.dumps(result.to_dict()))["campaigns"][2]
    assert payload["reason"] == video.reason and payload["compared"] is False
    assert payload["metrics"]["ctr"]["benchmark"] is None
    assert result.warnings[0].startswith("C003: its channel 'video'")


def test_a_campaign_with_no_channel_at_all_says_how_to_give_one(world):
    data = world.data.drop(columns=["channel"])
    result = compare_campaigns(data, industry="Travel", hint=lambda f, c: f"give {f} for {c}")
    assert [c.reason for c in result.campaigns][0] == "no channel is given; give platform for C001"


def test_a_stopped_campaign_is_compared_over_its_own_last_days(world):
    # on main: ParamsError "no data for campaign 'C002' (did you mean ...?)"
    data = world.data
    end = data["date"].max()
    stop = end - pd.Timedelta(days=30)
    stopped = data[(data["campaign_id"] != "C002") | (data["date"] <= stop)]
    result = compare_campaigns(stopped, industry="Travel", platform="search", last_days=14)
    c = result.campaigns[1]
    assert c.campaign_id == "C002" and c.compared
    assert c.window_end == stop and c.n_days == 14
    assert f"its data end on {stop.date()}" in c.notes[0]
    assert result.campaigns[0].notes == () and result.campaigns[0].window_end == end


def test_a_misspelt_industry_in_metadata_leaves_only_that_campaign_uncompared(world):
    meta = world.campaigns.copy()
    meta.loc[meta["campaign_id"] == "C002", "industry"] = "Finanse & Insurance"
    loaded = type("Loaded", (), {"data": world.data, "campaigns": meta})()
    result = compare_campaigns(loaded)
    by_id = {c.campaign_id: c for c in result.campaigns}
    assert by_id["C001"].compared and by_id["C003"].compared
    assert "did you mean 'Finance & Insurance'" in by_id["C002"].reason
