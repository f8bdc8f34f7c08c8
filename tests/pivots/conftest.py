from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from simkit.data.synthetic import InjectedEvent, generate
from simkit.pivots import fit_portfolio

START = date(2026, 1, 5)


@pytest.fixture(scope="module")
def world():
    return generate(4, 100, rng=np.random.default_rng(11), events=None)


@pytest.fixture(scope="module")
def portfolio(world):
    return fit_portfolio(world.data, rng=np.random.default_rng(5), n_draws=60)


@pytest.fixture(scope="module")
def fatigue_world():
    """C001's creative wears out from day 75; data cut 20 days into the event."""
    event = InjectedEvent("fatigue", "C001", START + timedelta(days=75), 0.03)
    world = generate(3, 100, rng=np.random.default_rng(21), events=[event])
    return world, START + timedelta(days=95)
