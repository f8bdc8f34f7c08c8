"""The what-if session: prepared once, the same numbers as simulate_campaign, paired previews."""

from __future__ import annotations

import numpy as np
import pytest

from simkit.data import worlds
from simkit.data.synthetic import generate
from simkit.errors import ParamsError
from simkit.simulate import (
    BudgetPlan,
    CompetitionFactor,
    SpendResponseFactor,
    WhatIfPivot,
    WhatIfSession,
    simulate_campaign,
)

from .conftest import empirical_forecaster


@pytest.fixture(scope="module", params=["a-no-metadata", "family-b"])
def shape(request: pytest.FixtureRequest) -> str:
    """Family A, then family B (days missing, no creative_id): the session's contract holds
    whatever the data (issue 23; the shape table counts each)."""
    return request.param


@pytest.fixture(scope="module")
def world(shape: str):
    make = generate if shape == "a-no-metadata" else worlds.generate
    return make(2, 90, rng=np.random.default_rng(11), events=None, channels=["search", "social"])


def _cid(world) -> str:
    """C001, or B002 in family B: B001 has a day without clicks, which the test forecaster
    (logs of daily ratios) cannot take."""
    return "C001" if "C001" in set(world.data["campaign_id"]) else "B002"


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args):  # noqa: ANN002, ANN204
        self.calls += 1
        return empirical_forecaster(*args)


class Flat:
    """A spend response with constant returns: conversions proportional to spend."""

    def log_ratio(self, spend_from: float, spend_to: float) -> np.ndarray:
        return np.full(50, np.log(spend_to / spend_from))


class Saturated:
    """A spend response with no return at all on extra spend, known exactly."""

    def log_ratio(self, spend_from: float, spend_to: float) -> np.ndarray:
        return np.zeros(50)


def _session(world, **kw) -> WhatIfSession:
    return WhatIfSession(
        world.data, _cid(world), 28, seed=5, n_paths=1500, forecast_fn=empirical_forecaster, **kw
    )


def test_the_baseline_is_simulate_campaigns_result(world) -> None:
    session = _session(world)
    direct = simulate_campaign(
        world.data, _cid(world), 28, seed=5, n_paths=1500, forecast_fn=empirical_forecaster
    )
    assert session.baseline().totals == direct.totals
    assert session.baseline().probabilities == direct.probabilities


def test_prepared_once_previewed_many_times(world) -> None:
    counting = Counting()
    session = WhatIfSession(world.data, _cid(world), 28, seed=5, n_paths=500, forecast_fn=counting)
    for factor in (0.8, 1.2, 1.5):
        session.preview(WhatIfPivot(budget_factor=factor))
    session.preview(WhatIfPivot(add=(CompetitionFactor(inflation=0.2),)), horizon_days=14)
    assert counting.calls == 1


def test_no_change_gives_exactly_zero_deltas(world) -> None:
    whatif = _session(world).preview(WhatIfPivot())
    for metric in ("conversions", "revenue", "spend"):
        assert whatif.delta[metric]["p5"] == whatif.delta[metric]["p95"] == 0.0
        assert whatif.p_higher[metric] == whatif.p_lower[metric] == 0.0


def test_a_shorter_horizon_uses_the_first_days(world) -> None:
    session = _session(world)
    short = session.baseline_paths(14)
    assert short.horizon_days == 14
    assert list(short.dates) == list(session.dates[:14])
    with pytest.raises(ParamsError, match="between 1 and the session's 28 days"):
        session.baseline(29)


def test_the_spend_response_decides_a_budget_pivots_conversions(world) -> None:
    """Constant returns: +50% budget, about +50% conversions; no returns: none at all."""
    flat = _session(world, spend_response=Flat()).preview(WhatIfPivot(budget_factor=1.5))
    none = _session(world, spend_response=Saturated()).preview(WhatIfPivot(budget_factor=1.5))
    base = flat.baseline.totals["conversions"]["mean"]
    assert flat.delta["spend"]["p50"] > 0 and none.delta["spend"]["p50"] > 0
    assert flat.delta["conversions"]["mean"] == pytest.approx(0.5 * base, rel=0.1)
    assert abs(none.delta["conversions"]["mean"]) < 0.05 * base
    assert none.delta["cpa"]["p50"] > 0


def test_the_response_factor_shifts_log_cpm_per_path(world) -> None:
    session = _session(world)
    start = session.dates[5].date()
    factor = SpendResponseFactor(log_shift=0.2, log_shift_sd=0.1, start=start)
    shift = factor.shift(session.dates, 4000, np.random.default_rng(0))
    active = session.dates.date >= start
    assert shift.shape == (28, 4, 4000)
    assert np.all(shift[~active] == 0) and np.all(shift[:, 1:] == 0)
    assert shift[active, 0].mean() == pytest.approx(0.2, abs=0.01)
    assert shift[active][0, 0].std() == pytest.approx(0.1, rel=0.1)


def test_a_budget_plan_pivot_and_a_refresh_without_fatigue(world) -> None:
    session = _session(world)
    plan = BudgetPlan(session.plan.daily * 0.5)
    whatif = session.preview(WhatIfPivot(budget=plan))
    assert whatif.delta["spend"]["p95"] < 0
    with pytest.raises(ParamsError, match="covers 28 days, not 14"):
        session.preview(WhatIfPivot(budget=plan), horizon_days=14)
    no_creatives = WhatIfSession(
        world.data.drop(columns=["creative_id"]),
        _cid(world),
        28,
        n_paths=100,
        forecast_fn=empirical_forecaster,
    )
    assert no_creatives.state.fatigue is None
    with pytest.raises(ParamsError, match="needs a fatigue fit"):
        no_creatives.preview(WhatIfPivot(refresh_on=session.dates[0].date()))
    with pytest.raises(ParamsError, match="not both"):
        WhatIfPivot(budget=plan, budget_factor=2.0)
