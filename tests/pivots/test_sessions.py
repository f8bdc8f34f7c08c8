"""The pivot stage's per-campaign pieces for the what-if sessions."""

from __future__ import annotations

import numpy as np

from simkit.data.synthetic import generate
from simkit.pivots.sessions import campaign_response


def test_a_campaign_too_short_or_paused_has_no_curve_rather_than_an_error() -> None:
    world = generate(1, 60, rng=np.random.default_rng(5), events=None)
    data = world.data
    assert campaign_response(data, "C001", seed=1) is not None
    short = data[data["date"] <= data["date"].min() + np.timedelta64(9, "D")]
    assert campaign_response(short, "C001", seed=1) is None
    paused = data.copy()
    last = paused["date"] > paused["date"].max() - np.timedelta64(8, "D")
    paused.loc[last, ["spend", "impressions", "clicks", "conversions", "revenue"]] = 0
    assert campaign_response(paused, "C001", seed=1) is None
