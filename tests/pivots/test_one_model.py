"""One model of a campaign for every what-if (issue 13): a budget pivot's impact from
``find_pivots`` and from the what-if session (the dashboard's "Preview this") agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.dashboard.model import DashboardSettings, WhatIfModel
from simkit.data import worlds
from simkit.data.synthetic import generate
from simkit.pivots import find_pivots
from simkit.pivots.engine import campaign_response, campaign_seed
from simkit.simulate import WhatIfPivot, WhatIfSession

SEED, PATHS, HORIZON = 7, 1000, 30


@pytest.fixture(scope="module", params=["a-no-metadata", "family-b"])
def shape(request: pytest.FixtureRequest) -> str:
    """Family A, then family B: one model per question whatever the data (issue 23)."""
    return request.param


@pytest.fixture(scope="module")
def world(shape: str):
    make = generate if shape == "a-no-metadata" else worlds.generate
    return make(4, 120, rng=np.random.default_rng(11), events=None)


@pytest.fixture(scope="module")
def realloc(world):
    result = find_pivots(
        world.data,
        seed=SEED,
        horizon_days=HORIZON,
        n_paths=PATHS,
        pivot_types=["budget_reallocation"],
    )
    recs = [r for r in result.recommendations if r.type == "budget_reallocation"]
    assert len(recs) == 1  # the fixture's portfolio is far from its optimum
    return result, recs[0]


def test_the_reallocation_is_simulated_by_the_engine(realloc) -> None:
    result, rec = realloc
    assert rec.details["model"] == "simulate engine"
    assert result.simulation_seed == SEED
    assert set(rec.details["impact_by_campaign"]) == set(rec.campaign_ids)
    # the card's impact is the sum of its campaigns' paired deltas, path by path
    p50s = [rec.details["impact_by_campaign"][k]["spend"]["p50"] for k in rec.campaign_ids]
    assert rec.expected_impact["spend"]["p50"] == pytest.approx(sum(p50s), rel=0.05)


def test_find_pivots_and_the_session_give_the_same_numbers_for_the_same_seed(
    world, realloc
) -> None:
    result, rec = realloc
    alloc = result.allocation
    for key in rec.campaign_ids:
        session = WhatIfSession(
            world.data,
            key,
            HORIZON,
            seed=campaign_seed(SEED, key),
            n_paths=PATHS,
            spend_response=campaign_response(world.data, key, seed=SEED),
        )
        whatif = session.preview(
            WhatIfPivot(budget_factor=alloc.allocation[key] / alloc.status_quo[key])
        )
        card = rec.details["impact_by_campaign"][key]
        for metric in ("conversions", "revenue", "spend"):
            for q in ("p10", "p50", "p90"):
                assert whatif.delta[metric][q] == pytest.approx(card[metric][q], abs=1e-6), (
                    key,
                    metric,
                    q,
                )


def test_another_seed_agrees_within_the_monte_carlo_interval(world, realloc) -> None:
    result, rec = realloc
    alloc = result.allocation
    key = max(rec.campaign_ids, key=lambda k: abs(rec.details["moves"][k]))
    session = WhatIfSession(
        world.data,
        key,
        HORIZON,
        seed=12345,
        n_paths=PATHS,
        spend_response=campaign_response(world.data, key, seed=SEED),
    )
    whatif = session.preview(
        WhatIfPivot(budget_factor=alloc.allocation[key] / alloc.status_quo[key])
    )
    card = rec.details["impact_by_campaign"][key]["conversions"]
    other = whatif.delta["conversions"]
    assert card["p10"] < other["p50"] < card["p90"]
    assert other["p10"] < card["p50"] < other["p90"]


def test_the_dashboards_preview_of_the_card_shows_the_cards_numbers(world, realloc) -> None:
    result, rec = realloc
    model = WhatIfModel(
        world.data,
        DashboardSettings(data="synthetic.csv", n_paths=PATHS, horizon_days=HORIZON, seed=SEED),
    )
    key = max(rec.campaign_ids, key=lambda k: abs(rec.details["moves"][k]))
    cards = [c for c in model.recommendations(key) if c.type == "budget_reallocation"]
    assert len(cards) == 1 and cards[0].pivot is not None
    assert "this campaign's part of the impact" in cards[0].pivot_note
    preview = model.preview(key, {**cards[0].pivot, "horizon_days": HORIZON})
    # the dashboard runs find_pivots with its own seed, forecaster and paths
    (dash_rec,) = [
        r for r in model.pivot_result().recommendations if r.type == "budget_reallocation"
    ]
    card = dash_rec.details["impact_by_campaign"][key]
    for q in ("p10", "p50", "p90"):
        # same forecaster, curve, seed and paths: the same numbers
        assert getattr(preview.deltas["conversions"], q) == pytest.approx(
            card["conversions"][q], abs=1e-6
        )


def test_a_refresh_card_and_its_preview_give_the_same_numbers(fatigue_world) -> None:
    world, as_of = fatigue_world
    data = world.data[world.data["date"] <= pd.Timestamp(as_of)]
    model = WhatIfModel(
        data,
        DashboardSettings(data="synthetic.csv", n_paths=PATHS, horizon_days=HORIZON, seed=SEED),
    )
    cards = [c for c in model.recommendations("C001") if c.type == "creative_refresh"]
    assert len(cards) == 1 and cards[0].pivot == {
        "budget_change_pct": 0.0,
        "creative_refresh": True,
        "audience_expansion_pct": 0.0,
        "competition_pct": 0.0,
    }
    (rec,) = [r for r in model.pivot_result().recommendations if r.type == "creative_refresh"]
    assert rec.details["model"] == "simulate engine"
    preview = model.preview("C001", {**cards[0].pivot, "horizon_days": HORIZON})
    assert any("as the pivot engine estimates" in n for n in preview.notes)
    for q in ("p10", "p50", "p90"):
        assert getattr(preview.deltas["conversions"], q) == pytest.approx(
            rec.expected_impact["conversions"][q], abs=1e-6
        )
    assert rec.expected_impact["conversions"]["p10"] > 0  # the wear-out is real: it pays
