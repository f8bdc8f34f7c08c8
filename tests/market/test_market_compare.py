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
    with pytest.raises(DataError):
        compare_campaigns(world.data.drop(columns=["clicks"]), industry="Travel", platform="search")
    no_meta = world.data.drop(columns=[c for c in ("channel",) if c in world.data])
    with pytest.raises(ParamsError, match="industry"):
        compare_campaigns(no_meta, platform="search")


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
