from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.errors import DataError
from simkit.pivots import daily_panel, fit_portfolio, todays_budget


def test_todays_budget_prefers_the_budget_column():
    s = pd.DataFrame({"spend": [90.0, 95.0, 100.0], "budget": [100.0, 120.0, np.nan]})
    assert todays_budget(s) == (120.0, "budget column")
    s2 = pd.DataFrame({"spend": np.arange(1.0, 11.0)})
    value, source = todays_budget(s2)
    assert value == pytest.approx(np.mean(np.arange(4.0, 11.0)))
    assert "last 7 days" in source


def test_panel_sums_breakdowns_and_cuts_at_as_of(world):
    doubled = pd.concat([world.data, world.data.assign(creative_id="other")])
    panel = daily_panel(doubled, as_of="2026-02-01")
    one = daily_panel(world.data, as_of="2026-02-01")
    assert panel["date"].max() == pd.Timestamp("2026-02-01")
    np.testing.assert_allclose(panel["spend"], 2 * one["spend"])
    np.testing.assert_allclose(panel["budget"], one["budget"])  # budget is not summed
    with pytest.raises(DataError, match="as_of"):
        daily_panel(world.data, as_of="1999-01-01")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['spend'\]"):
        daily_panel(world.data.drop(columns=["spend"]))


def test_portfolio_state(world, portfolio):
    assert portfolio.keys == tuple(sorted(world.data["campaign_id"].unique()))
    last = world.data.sort_values("date").groupby("campaign_id")["budget"].last()
    for k in portfolio.keys:
        assert portfolio.today[k] == pytest.approx(last[k])
        assert 0.8 < portfolio.delivery[k] < 1.05  # the generator paces at ~0.95
        truth = world.truth[k].revenue_per_conversion
        assert abs(portfolio.rpc(k) / truth - 1) < 0.15
    assert portfolio.n_draws == 60


def test_paused_and_unknown_campaigns(world):
    data = world.data.copy()
    last_days = data["date"] > data["date"].max() - pd.Timedelta(days=10)
    data.loc[last_days & (data["campaign_id"] == "C002"), "spend"] = 0.0
    pf = fit_portfolio(data, rng=np.random.default_rng(0), n_draws=5)
    assert "C002" in pf.paused and "C002" not in pf.keys
    assert any("C002" in n for n in pf.notes)
    with pytest.raises(DataError, match="C001"):
        fit_portfolio(data, rng=np.random.default_rng(0), keys=["C01"])


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_data_end_to_end(shared_data, repo_root):
    from simkit.data import load
    from simkit.pivots import find_pivots

    loaded = load(
        shared_data / "online_ad_performance" / "online_advertising_performance_data.csv",
        mapping=repo_root / "params" / "sources" / "online_ad_performance.yaml",
    )
    result = find_pivots(loaded.data, seed=0, horizon_days=14, n_draws=50, n_paths=200)
    d = result.to_dict()
    assert sum(d["allocation"].values()) <= d["total_budget"]
    assert d["expected"]["conversions"]["p10"] > 0
    # the file has no creative ids and CTR is not falling at the end: no refresh is claimed
    assert all(r["type"] != "creative_refresh" for r in d["recommendations"])
