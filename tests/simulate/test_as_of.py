"""One ``as_of`` type (issue 13): the simulate entry points take a date, an ISO string or
a Timestamp with the same result, and reject a bad value naming ``as_of``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from simkit.data.synthetic import generate
from simkit.errors import ParamsError
from simkit.simulate import WhatIfPivot, WhatIfSession, simulate_campaign, what_if_campaign

from .conftest import empirical_forecaster

CUT = date(2026, 3, 1)
SPELLINGS = [CUT, "2026-03-01", pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-01 15:30")]


@pytest.fixture(scope="module")
def world():
    return generate(2, 90, rng=np.random.default_rng(11), events=None)


def _simulate(world, as_of):  # noqa: ANN001, ANN202
    return simulate_campaign(
        world.data, "C001", 7, as_of=as_of, n_paths=200, forecast_fn=empirical_forecaster
    ).to_dict()


def _what_if(world, as_of):  # noqa: ANN001, ANN202
    return what_if_campaign(
        world.data,
        "C001",
        7,
        as_of=as_of,
        daily_budget=100.0,
        pivot_budget=None,
        n_paths=200,
        forecast_fn=empirical_forecaster,
    ).to_dict()


def _session(world, as_of):  # noqa: ANN001, ANN202
    session = WhatIfSession(
        world.data, "C001", 7, as_of=as_of, n_paths=200, forecast_fn=empirical_forecaster
    )
    return session.preview(WhatIfPivot(budget_factor=1.2)).to_dict()


@pytest.mark.parametrize("run", [_simulate, _what_if, _session])
def test_every_spelling_of_as_of_gives_the_same_result(world, run) -> None:  # noqa: ANN001
    first, *others = [run(world, value) for value in SPELLINGS]
    for other in others:
        assert other == first
    assert run(world, None) != first  # the cut was applied (the data run to 2026-04-04)


@pytest.mark.parametrize("run", [_simulate, _what_if, _session])
def test_a_bad_as_of_is_one_line_naming_the_field(world, run) -> None:  # noqa: ANN001
    with pytest.raises(ParamsError, match=r"^field 'as_of': '2026-13-01' is not a date") as exc:
        run(world, "2026-13-01")
    assert "\n" not in str(exc.value)
