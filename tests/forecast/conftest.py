from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.data import worlds
from simkit.data.synthetic import generate


@pytest.fixture(scope="session")
def world():
    """Two synthetic campaigns, 84 days, no events."""
    return generate(2, 84, rng=np.random.default_rng(11), events=None)


@pytest.fixture(scope="session")
def one_campaign(world) -> pd.DataFrame:
    return world.data[world.data["campaign_id"] == "C001"].reset_index(drop=True)


@pytest.fixture(scope="session")
def world_b():
    """Two family-B campaigns, 84 days, no events (days missing, no creative_id)."""
    return worlds.generate(2, 84, rng=np.random.default_rng(11), events=None)


@pytest.fixture(scope="session", params=["a-no-metadata", "family-b"])
def shape(request: pytest.FixtureRequest) -> str:
    """The data shape of :func:`campaign` (the shape table counts tests by it, issue 23)."""
    return request.param


@pytest.fixture(scope="session")
def campaign(shape: str, world, world_b) -> tuple[pd.DataFrame, str]:
    """One campaign's history and its id: family A's C001, then family B's B001.

    For the tests whose assertions hold whatever the data (errors, warnings, caching,
    seeding, leakage); the ones that compare with family A's truth use ``one_campaign``.
    """
    source, cid = (world, "C001") if shape == "a-no-metadata" else (world_b, "B001")
    return source.data[source.data["campaign_id"] == cid].reset_index(drop=True), cid
