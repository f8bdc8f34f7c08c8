"""One set of conventions across the public API (issue 13): seed at the entry points,
keyword-only options, one ``as_of`` type."""

from __future__ import annotations

import inspect
from datetime import date

import numpy as np
import pandas as pd
import pytest

import simkit
from simkit.data.synthetic import generate
from simkit.errors import ParamsError

CUT = date(2026, 4, 10)
SPELLINGS = [CUT, "2026-04-10", pd.Timestamp("2026-04-10"), pd.Timestamp("2026-04-10 08:00")]
#: Positional parameters of the public functions besides the data they work on.
POSITIONAL = {
    "generate_synthetic": ["n_campaigns", "n_days"],
    "detect_risks": ["data", "campaigns"],
    "find_pivots": ["data", "campaigns"],
    "forecast_campaign": ["data", "campaign_id", "horizon_days"],
    "backtest_campaign": ["data", "campaign_id", "horizon_days"],
    "simulate_campaign": ["data", "campaign_id", "horizon_days"],
    "what_if_campaign": ["data", "campaign_id", "horizon_days"],
    "backtest_all": ["data", "horizon_days"],
    "calibration_check": ["data", "campaign_id", "horizon_days"],
    # a decorator: the class is its subject, optional so that @register_member(name=...) works
    "register_member": ["cls"],
}


def _public_functions() -> list[str]:
    return [n for n in simkit.__all__ if inspect.isfunction(getattr(simkit, n))]


@pytest.mark.parametrize("name", _public_functions())
def test_options_are_keyword_only(name: str) -> None:
    params = inspect.signature(getattr(simkit, name)).parameters.values()
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # a function not listed takes at most its one subject positionally, without a default
    expected = POSITIONAL.get(name, positional[:1])
    assert positional == expected
    if name not in POSITIONAL:
        assert all(p.default is p.empty for p in params if p.name in positional), name


def test_forecast_options_can_no_longer_be_passed_by_position() -> None:
    with pytest.raises(TypeError, match="positional argument"):
        simkit.forecast_campaign(pd.DataFrame(), "C001", 7, None, ["ets"], 3)


@pytest.mark.parametrize("name", ["find_pivots", "detect_risks", "simulate_campaign"])
def test_entry_points_take_a_seed_not_a_generator(name: str) -> None:
    params = inspect.signature(getattr(simkit, name)).parameters
    assert params["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["seed"].default == 0
    assert "rng" not in params


def test_make_rng_is_default_rng_and_keys_name_streams() -> None:
    assert simkit.make_rng(7).integers(0, 2**32) == np.random.default_rng(7).integers(0, 2**32)
    a, b = simkit.make_rng(7, 1).random(4), simkit.make_rng(7, 2).random(4)
    assert not np.allclose(a, b)
    assert np.array_equal(a, simkit.make_rng(7, 1).random(4))


@pytest.fixture(scope="module")
def world():
    return generate(4, 120, rng=np.random.default_rng(7))


def _detect(world, as_of):  # noqa: ANN001, ANN202
    return simkit.detect_risks(world.data, world.campaigns, as_of=as_of).to_dict()


def _pivots(world, as_of):  # noqa: ANN001, ANN202
    result = simkit.find_pivots(
        world.data,
        as_of=as_of,
        seed=1,
        horizon_days=7,
        n_draws=20,
        n_paths=50,
        pivot_types=["creative_refresh"],
        use_risk_alerts=False,
    )
    return result.to_dict()


def _portfolio(world, as_of):  # noqa: ANN001, ANN202
    return simkit.fit_portfolio(
        world.data, rng=np.random.default_rng(2), as_of=as_of, n_draws=20
    ).to_dict()


@pytest.mark.parametrize("run", [_detect, _pivots, _portfolio])
def test_every_spelling_of_as_of_gives_the_same_result(world, run) -> None:  # noqa: ANN001
    first, *others = [run(world, value) for value in SPELLINGS]
    assert first["as_of"] == "2026-04-10"
    for other in others:
        assert other == first


@pytest.mark.parametrize("run", [_detect, _pivots, _portfolio])
def test_a_bad_as_of_is_one_line_naming_the_field(world, run) -> None:  # noqa: ANN001
    with pytest.raises(ParamsError, match=r"^field 'as_of': '2026-13-01' is not a date") as exc:
        run(world, "2026-13-01")
    assert "\n" not in str(exc.value)
    with pytest.raises(ParamsError, match=r"^field 'as_of': 20260401 is not a date"):
        run(world, 20260401)
