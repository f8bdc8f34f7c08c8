"""The generator's ground truth: events are where it says, with the effect it says."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.data import import_file, validate
from simkit.data.synthetic import InjectedEvent, generate

START = date(2025, 1, 6)
EVENT_DAY = START + timedelta(days=70)


def _world(kind: str, magnitude: float, seed: int = 3, end: date | None = None, channel="search"):
    event = InjectedEvent(kind, "C001", EVENT_DAY, magnitude, end)
    return generate(
        1, 100, rng=np.random.default_rng(seed), start=START, events=[event], channels=[channel]
    )


def _split(frame: pd.DataFrame, days_before: int = 21, days_after: int = 14):
    day = pd.Timestamp(EVENT_DAY)
    before = frame[(frame.date < day) & (frame.date >= day - pd.Timedelta(days=days_before))]
    after = frame[(frame.date >= day) & (frame.date < day + pd.Timedelta(days=days_after))]
    return before, after


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fatigue_lowers_ctr_after_its_date(seed):
    world = _world("fatigue", 0.04, seed=seed)
    truth = world.truth["C001"]
    assert not any(EVENT_DAY <= r < EVENT_DAY + timedelta(days=28) for r in truth.refresh_dates)
    before, after = _split(world.data)
    ctr = lambda f: f.clicks.sum() / f.impressions.sum()  # noqa: E731
    late = after.iloc[7:]
    assert ctr(late) < 0.85 * ctr(before)


def test_competitor_entry_raises_cpm_and_cuts_impression_share():
    world = _world("competitor_entry", 0.5)
    before, after = _split(world.data)
    cpm = lambda f: 1000 * f.spend.sum() / f.impressions.sum()  # noqa: E731
    # CPM also moves with spend; compare at the true elasticity-adjusted level
    truth = world.truth["C001"]
    adj = lambda f: cpm(f) / (f.spend.mean() / truth.reference_spend) ** truth.cpm_spend_elasticity  # noqa: E731,E501
    assert adj(after) / adj(before) == pytest.approx(1.5, rel=0.15)
    assert after.impression_share.mean() < before.impression_share.mean()


def test_tracking_dip_cuts_conversions_not_clicks_and_ends():
    end = EVENT_DAY + timedelta(days=10)
    world = _world("tracking_dip", 0.7, end=end)
    data = world.data
    before, during = _split(data, days_after=10)
    after = data[data.date >= pd.Timestamp(end)]
    cvr = lambda f: f.conversions.sum() / f.clicks.sum()  # noqa: E731
    ctr = lambda f: f.clicks.sum() / f.impressions.sum()  # noqa: E731
    assert cvr(during) == pytest.approx(0.3 * cvr(before), rel=0.3)
    assert ctr(during) == pytest.approx(ctr(before), rel=0.15)
    assert cvr(after) == pytest.approx(cvr(before), rel=0.25)


def test_overpacing_spends_above_budget_only_from_its_date():
    world = _world("overpacing", 1.4)
    before, after = _split(world.data)
    assert (before.spend <= before.budget + 1e-9).all()
    assert (after.spend / after.budget).mean() == pytest.approx(1.4, rel=0.03)


def test_events_are_returned_with_their_dates():
    world = generate(5, 90, rng=np.random.default_rng(0), start=START)
    kinds = {e.campaign_id: e.kind for e in world.events}
    assert kinds == {
        "C001": "fatigue",
        "C002": "competitor_entry",
        "C003": "tracking_dip",
        "C004": "overpacing",
    }
    assert all(e.start == START + timedelta(days=63) for e in world.events)  # 70% of 90
    assert world.truth["C005"].events == ()


def test_budget_moves_enough_to_identify_the_response():
    world = generate(3, 150, rng=np.random.default_rng(5), events=None)
    for _, g in world.data.groupby("campaign_id"):
        levels = g.budget.unique()
        assert len(levels) >= 4
        assert levels.max() / levels.min() > 1.5


def test_true_response_is_concave_and_zero_at_zero():
    truth = generate(1, 30, rng=np.random.default_rng(2), events=None).truth["C001"]
    spend = np.array([0.0, 100, 200, 400, 800])
    conv = truth.expected_daily_conversions(spend)
    assert conv[0] == 0 and np.all(np.diff(conv) > 0)
    assert np.all(np.diff(conv[1:] / spend[1:]) < 0)  # diminishing returns


def test_same_seed_same_data_other_seed_differs():
    a = generate(2, 40, rng=np.random.default_rng(11)).data
    b = generate(2, 40, rng=np.random.default_rng(11)).data
    c = generate(2, 40, rng=np.random.default_rng(12)).data
    pd.testing.assert_frame_equal(a, b)
    assert not a[["clicks"]].equals(c[["clicks"]])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4), days=st.integers(14, 60))
def test_generated_data_always_passes_validation(seed, n, days, tmp_path_factory):
    world = generate(n, days, rng=np.random.default_rng(seed), start=START)
    path, _ = world.write(tmp_path_factory.mktemp("w"))
    data, report = validate(import_file(path), today=date(2030, 1, 1))
    assert report.ok, [str(e) for e in report.errors]
    assert len(data) == n * days
    assert (data.clicks <= data.impressions).all() and (data.conversions <= data.clicks).all()
