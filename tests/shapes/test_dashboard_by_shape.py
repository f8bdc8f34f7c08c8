"""The dashboard's what-if model on every data shape (issue 23, shape diversity): the
baseline and a +20% budget preview, with the real default forecaster."""

from __future__ import annotations

import math

import pytest

from simkit.dashboard.model import DashboardSettings, WhatIfModel
from simkit.data import load
from simkit.errors import DataError

from ._shapes import Shape, stopped

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def whatif(shape: Shape) -> WhatIfModel:
    mapping = str(shape.mapping) if shape.mapping else None
    loaded = load(str(shape.data), mapping=mapping)
    settings = DashboardSettings(data=str(shape.data), mapping=mapping, n_paths=2000)
    return WhatIfModel(loaded.data, settings, campaigns=loaded.campaigns)


def test_a_budget_rise_buys_spend_and_no_fewer_conversions(
    shape: Shape, whatif: WhatIfModel
) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign is not previewed (tested below)")
    base = whatif.baseline(shape.campaign_id, 30)
    preview = whatif.preview(shape.campaign_id, {"budget_change_pct": 20})
    spend = base.result.totals["spend"]["p50"]
    extra = preview.deltas["spend"]
    # the plan rises by 20%; delivery may fall short of a cap, never beyond the rise
    assert 0 < extra.p50 <= 0.2 * spend * 1.02, (extra, spend)
    conv = preview.deltas["conversions"]
    assert conv.p10 <= conv.p50 <= conv.p90
    # same random numbers on both sides: more spend along the campaign's own curve cannot
    # lose conversions in the typical path
    assert conv.p50 >= 0, conv
    assert all(math.isfinite(v) for v in (conv.p10, conv.p50, conv.p90))


def test_the_baseline_says_what_it_rests_on(shape: Shape, whatif: WhatIfModel) -> None:
    if "stopped" in shape.traits:
        pytest.skip("a stopped campaign is not previewed (tested below)")
    base = whatif.baseline(shape.campaign_id, 30)
    assert base.notes[0].startswith("2,000 paths, seed")
    assert abs(sum(s.probability for s in base.result.scenarios) - 1) < 1e-9
    assert not base.history.empty


def test_a_stopped_campaign_is_not_previewed(shape_root) -> None:
    s = stopped(shape_root)
    loaded = load(str(s.data))
    model = WhatIfModel(loaded.data, DashboardSettings(data=str(s.data), n_paths=500))
    with pytest.raises(DataError, match=r"campaign C002 has stopped \(its last day with spend"):
        model.baseline(s.campaign_id, 30)
    labels = {o.campaign_id: o.label for o in model.campaigns()}
    assert labels["C002"].endswith(" (stopped)")
    assert not labels["C001"].endswith(" (stopped)")
