"""World family B (simkit.data.worlds): contract, structure, events, seeds."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kurtosis

import simkit
from simkit.data import synthetic, worlds
from simkit.data.synthetic import CampaignTruth, InjectedEvent

N_DAYS = 150


@pytest.fixture(scope="module")
def world() -> synthetic.SyntheticData:
    return worlds.generate(
        10,
        N_DAYS,
        rng=np.random.default_rng(7),
        events=None,
        without_creative=["B002"],
        without_budget=["B003"],
    )


def _daily(frame: pd.DataFrame, cid: str) -> pd.DataFrame:
    return frame[frame["campaign_id"] == cid].set_index("date").asfreq("D")


def test_family_b_loads_through_the_validator(world, tmp_path):
    data_path, _ = world.write(tmp_path)
    loaded = simkit.load(data_path, today=date(2030, 1, 1))
    assert loaded.report.ok
    assert loaded.campaign_ids == [f"B{i:03d}" for i in range(1, 11)]
    assert len(loaded.data) == len(world.data)
    b3 = loaded.data[loaded.data["campaign_id"] == "B003"]
    assert b3["budget"].isna().all()
    assert loaded.data[loaded.data["campaign_id"] == "B001"]["budget"].notna().all()
    # the missing days are reported as gaps, not silently filled
    assert {w.code for w in loaded.report.warnings} >= {"gaps"}


def test_campaigns_without_creative_or_budget_have_blank_cells(world):
    d = world.data
    assert d.loc[d["campaign_id"] == "B002", "creative_id"].isna().all()
    assert d.loc[d["campaign_id"] != "B002", "creative_id"].notna().all()
    assert d.loc[d["campaign_id"] == "B003", "budget"].isna().all()
    assert not world.truth["B002"].has_creative_id
    assert not world.truth["B003"].has_budget
    assert pd.isna(world.campaigns.set_index("campaign_id").loc["B003", "budget_daily"])


def test_spend_hugs_the_budget_with_google_overdelivery_within_the_month_cap(world):
    d = world.data.dropna(subset=["budget"])
    ratio = d["spend"] / d["budget"]
    assert ratio.between(0.9, 1.05).mean() > 0.8
    google = d["channel"].isin(["search", "shopping", "display", "video"])
    over = ratio[google] > 1.2
    assert 0.02 < over.mean() < 0.12
    assert ratio[google].max() <= 2.0 + 1e-9
    assert ratio[d["channel"] == "social"].max() <= 1.25 + 1e-9
    for cid, truth in world.truth.items():
        if truth.platform != "google":
            continue
        full = pd.DataFrame(
            {"budget": truth.budget},
            index=pd.date_range(world.data["date"].min(), periods=N_DAYS, freq="D"),
        )
        spend = _daily(world.data, cid)["spend"].reindex(full.index)
        month = full.index.to_period("M")
        cap = 30.4 * full["budget"].groupby(month).mean()
        assert (spend.groupby(month).sum() <= cap + 0.05).all(), cid


def test_channels_include_video_and_shopping(world):
    assert set(world.data["channel"]) == set(worlds.CHANNELS)
    assert {"video", "shopping"} <= set(worlds.CHANNELS)


def test_creatives_rotate_every_two_to_three_weeks(world):
    for cid, truth in world.truth.items():
        if not truth.has_creative_id:
            continue
        creative = _daily(world.data, cid)["creative_id"].ffill()
        starts = creative.index[creative.ne(creative.shift())][1:]
        gaps = np.diff(starts.to_numpy()).astype("timedelta64[D]").astype(int)
        assert 14 <= truth.rotation_days <= 21
        assert len(starts) >= N_DAYS // 22, cid
        # jitter of +-2 days per rotation, and a rotation day may be a missing day
        assert gaps.min() >= 10 and gaps.max() <= 28, (cid, gaps)
        assert abs(np.median(gaps) - truth.rotation_days) <= 2, cid


def test_attribution_lag_shows_as_a_cross_correlation_peak_after_zero():
    n = 150
    budget_rng = np.random.default_rng(11)
    ids = [f"B{i:03d}" for i in range(1, 7)]
    budgets = {c: np.round(800 * np.exp(budget_rng.normal(0, 0.4, n))) for c in ids}
    world = worlds.generate(
        6, n, rng=np.random.default_rng(3), events=None, channels=["search"] * 6, budgets=budgets
    )
    corr = np.zeros(6)
    for cid in ids:
        c = _daily(world.data, cid)
        x = np.log(c["clicks"].where(c["clicks"] > 0))
        y = np.log(c["conversions"].clip(lower=0.5).where(c["clicks"] > 0))
        corr += [x.corr(y.shift(-lag)) for lag in range(6)]
    mode = np.argmax(np.mean([world.truth[c].lag_probs for c in ids], axis=0))
    assert mode > 0
    assert np.argmax(corr) > 0
    assert corr[np.argmax(corr)] > corr[0] + 0.05
    for cid in ids:
        probs = np.asarray(world.truth[cid].lag_probs)
        assert len(probs) == 8
        assert probs.sum() == pytest.approx(1.0)


def test_missing_days_are_absent_and_recorded(world):
    d = world.data
    per = d.groupby("campaign_id")["date"].agg(["min", "max", "size"])
    span = (per["max"] - per["min"]).dt.days + 1
    share = 1 - per["size"].sum() / span.sum()
    assert 0.005 < share < 0.08
    for cid, truth in world.truth.items():
        present = set(d.loc[d["campaign_id"] == cid, "date"].dt.date)
        assert not present & set(truth.missing_dates), cid
        assert span[cid] - per.loc[cid, "size"] == len(truth.missing_dates)
        assert per.loc[cid, "size"] + len(truth.missing_dates) == N_DAYS


def test_drop_missing_false_keeps_every_day_and_the_same_world():
    kept = worlds.generate(2, 60, rng=np.random.default_rng(4), events=None, drop_missing=False)
    dropped = worlds.generate(2, 60, rng=np.random.default_rng(4), events=None)
    assert len(kept.data) == 120
    missing = {(c, pd.Timestamp(d)) for c, t in kept.truth.items() for d in t.missing_dates}
    assert missing
    keys = list(zip(kept.data["campaign_id"], kept.data["date"], strict=True))
    rest = kept.data[[k not in missing for k in keys]].reset_index(drop=True)
    pd.testing.assert_frame_equal(rest, dropped.data)


def _log_ctr_residuals(frame: pd.DataFrame) -> pd.Series:
    parts = []
    for cid in frame["campaign_id"].unique():
        c = _daily(frame, cid)
        r = np.log(c["clicks"].where(c["clicks"] > 0) / c["impressions"])
        parts.append((r - r.rolling(7, center=True, min_periods=4).median()).dropna())
    return pd.concat(parts)


def test_noise_is_heavier_tailed_than_family_a():
    a = synthetic.generate(10, N_DAYS, rng=np.random.default_rng(3), events=None).data
    b = worlds.generate(10, N_DAYS, rng=np.random.default_rng(3), events=None).data
    assert kurtosis(_log_ctr_residuals(b)) > kurtosis(_log_ctr_residuals(a)) + 1.0


def test_default_events_are_where_the_truth_says():
    n = 150
    world = worlds.generate(
        6, n, rng=np.random.default_rng(21), without_creative=[], without_budget=[]
    )
    events = {e.campaign_id: e for e in world.events}
    assert sorted(e.kind for e in world.events) == sorted(worlds.EVENT_KINDS)
    assert all(world.truth[c].events == (e,) for c, e in events.items())
    assert world.truth["B006"].events == ()
    d = world.data

    def ratio(cid: str, num: str, den: str, e: InjectedEvent, before: bool) -> float:
        c = _daily(d, cid)
        at = pd.Timestamp(e.start)
        lo, hi = (at - timedelta(days=21), at) if before else (at + timedelta(days=7), None)
        if not before and e.end is not None:
            lo, hi = at, pd.Timestamp(e.end)
        window = c.loc[lo : (hi - timedelta(days=1)) if hi is not None else None]
        return float(window[num].sum() / window[den].sum())

    def change(kind: str, num: str, den: str) -> float:
        e = next(e for e in world.events if e.kind == kind)
        after = ratio(e.campaign_id, num, den, e, False)
        return after / ratio(e.campaign_id, num, den, e, True)

    assert change("competitor_entry", "spend", "impressions") > 1.2  # CPM up 40%
    assert change("tracking_dip", "conversions", "clicks") < 0.6  # 60% recorded loss
    assert change("demand_drop", "conversions", "clicks") < 0.7  # CVR halved
    e = next(e for e in world.events if e.kind == "demand_drop")
    assert 0.75 < change("demand_drop", "clicks", "impressions") < 1.33, e  # CTR unchanged
    assert change("overpacing", "spend", "budget") > 1.25
    assert change("fatigue", "clicks", "impressions") < 0.75
    fatigue = next(e for e in world.events if e.kind == "fatigue")
    pause = [
        r
        for r in world.truth[fatigue.campaign_id].refresh_dates
        if fatigue.start - timedelta(days=3) <= r <= fatigue.start + timedelta(days=30)
    ]
    assert pause == []


def test_truth_has_family_a_shape_and_a_concave_response(world):
    truth = world.truth["B001"]
    assert isinstance(truth, CampaignTruth)
    assert isinstance(world, synthetic.SyntheticData)
    spend = np.array([0.0, 100.0, 200.0, 400.0])
    conv = truth.expected_daily_conversions(spend)
    assert conv[0] == 0.0
    assert np.all(np.diff(conv) > 0)
    assert np.all(np.diff(conv / np.maximum(spend, 1e-9))[1:] < 0)


def test_same_seed_same_world_other_seed_differs():
    one = worlds.generate(3, 60, rng=np.random.default_rng(5))
    two = worlds.generate(3, 60, rng=np.random.default_rng(5))
    other = worlds.generate(3, 60, rng=np.random.default_rng(6))
    pd.testing.assert_frame_equal(one.data, two.data)
    assert one.truth == two.truth
    assert not one.data["spend"].equals(other.data["spend"])


def test_a_budget_override_keeps_the_random_stream():
    base = worlds.generate(1, 60, rng=np.random.default_rng(9), events=None)
    plan = np.asarray(base.truth["B001"].budget).copy()
    plan[40:] *= 1.4
    moved = worlds.generate(
        1, 60, rng=np.random.default_rng(9), events=None, budgets={"B001": plan}
    )
    head = base.data["date"] < pd.Timestamp(base.data["date"].min() + timedelta(days=40))
    assert moved.data.loc[head, "spend"].equals(base.data.loc[head, "spend"])
    tail_spend = moved.data.loc[~head, "spend"].sum() / base.data.loc[~head, "spend"].sum()
    assert tail_spend > 1.25


def test_family_registry_and_errors():
    assert worlds.family("a") is synthetic.generate
    assert worlds.family("b") is worlds.generate
    with pytest.raises(ValueError, match="unknown world family 'c'"):
        worlds.family("c")
    with pytest.raises(ValueError, match="unknown event kind"):
        worlds.generate(
            1,
            30,
            rng=np.random.default_rng(0),
            events=[InjectedEvent("surge", "B001", date(2025, 3, 10), 0.5)],  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="give start or end"):
        worlds.generate(1, 30, rng=np.random.default_rng(0), start="2025-01-01", end="2025-02-01")
    with pytest.raises(ValueError, match="unknown channel 'tv'"):
        worlds.generate(1, 30, rng=np.random.default_rng(0), channels=["tv"])
    last = worlds.generate(1, 30, rng=np.random.default_rng(0), end="2025-06-30", events=None)
    assert last.data["date"].max() <= pd.Timestamp("2025-06-30")
    assert last.data["date"].min() == pd.Timestamp("2025-06-01")


@pytest.mark.parametrize("name", ["a", "b"])
def test_truth_holds_the_expected_daily_conversions_of_the_realised_spend(name):
    world = worlds.family(name)(3, 90, rng=np.random.default_rng(8), events=None)
    for cid, truth in world.truth.items():
        rows = world.data[world.data["campaign_id"] == cid]
        expected = np.asarray(truth.expected_conversions)
        assert expected.shape == (90,) and np.all(expected >= 0)
        index = (rows["date"] - rows["date"].min()).dt.days.to_numpy()
        actual = rows["conversions"].to_numpy(float)
        # the centre of the realised counts: totals within 12%, and the daily errors
        # smaller than the counts' own spread around their mean
        assert abs(expected[index].sum() / actual.sum() - 1) < 0.12
        assert np.abs(expected[index] - actual).mean() < np.abs(actual - actual.mean()).mean()
