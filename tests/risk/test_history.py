from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from simkit.errors import DataError
from simkit.risk import CampaignHistory, campaign_histories


def _rows(days: int, creative: str = "a") -> pd.DataFrame:
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    return pd.DataFrame(
        {
            "date": dates,
            "campaign_id": "X",
            "spend": 100.0,
            "impressions": 10_000,
            "clicks": 200,
            "conversions": 10,
            "revenue": 500.0,
            "budget": 110.0,
            "creative_id": creative,
        }
    )


def test_breakdown_rows_are_summed_and_budget_kept_once() -> None:
    a, b = _rows(5, "a"), _rows(5, "b")
    b["impressions"] = 30_000
    history = CampaignHistory.from_frame(pd.concat([a, b]))
    assert history.n_days == 5
    np.testing.assert_allclose(history.spend, 200.0)
    np.testing.assert_allclose(history.impressions, 40_000)
    np.testing.assert_allclose(history.budget, 110.0)  # repeated campaign budget, not summed
    np.testing.assert_allclose(history.creative_age, np.arange(5))  # dominant creative "b"


def test_missing_days_stay_in_place_as_nan() -> None:
    frame = _rows(10).drop(index=[4, 5])
    history = CampaignHistory.from_frame(frame)
    assert history.n_days == 10
    assert np.isnan(history.clicks[4]) and np.isnan(history.clicks[5])
    assert history.clicks[6] == 200


def test_creative_age_resets_on_new_creative() -> None:
    frame = pd.concat([_rows(4, "a"), _rows(7, "b").iloc[4:]])
    history = CampaignHistory.from_frame(frame)
    np.testing.assert_allclose(history.creative_age, [0, 1, 2, 3, 0, 1, 2])


def test_until_hides_later_days() -> None:
    history = CampaignHistory.from_frame(_rows(30))
    cut = history.until("2026-01-10")
    assert cut.n_days == 10 and cut.last_date == date(2026, 1, 10)
    assert history.until("2030-01-01") is history


def test_campaign_histories_cuts_before_splitting_and_attaches_metadata() -> None:
    frame = pd.concat([_rows(20), _rows(20).assign(campaign_id="Y")])
    meta = pd.DataFrame({"campaign_id": ["X", "Y"], "budget_total": [1000.0, np.nan]})
    histories = campaign_histories(frame, meta, as_of="2026-01-05", campaign_ids=["Y"])
    assert [h.campaign_id for h in histories] == ["Y"]
    assert histories[0].n_days == 5
    assert "budget_total" not in histories[0].metadata  # NaN metadata is dropped


def test_two_campaigns_in_one_history_is_an_error() -> None:
    frame = pd.concat([_rows(3), _rows(3).assign(campaign_id="Y")])
    with pytest.raises(DataError, match="expected one campaign, got 2"):
        CampaignHistory.from_frame(frame)


def test_fast_path_matches_per_campaign_frames() -> None:
    from simkit.data.synthetic import generate

    world = generate(5, 90, rng=np.random.default_rng(5))
    data = world.data.drop(index=[3, 50, 51, 200])  # gaps stay in place
    for history in campaign_histories(data, world.campaigns):
        own = data[data["campaign_id"] == history.campaign_id]
        slow = CampaignHistory.from_frame(own, history.metadata)
        for name in ("dates", "spend", "clicks", "budget", "creative_age", "impression_share"):
            a, b = getattr(history, name), getattr(slow, name)
            assert (a is None) == (b is None), name
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=name)
        assert history.metadata == slow.metadata
