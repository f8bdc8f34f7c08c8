from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simkit.data.synthetic import generate


@pytest.fixture(scope="session")
def world():
    """Two synthetic campaigns, 84 days, no events."""
    return generate(2, 84, rng=np.random.default_rng(11), events=None)


@pytest.fixture(scope="session")
def one_campaign(world) -> pd.DataFrame:
    return world.data[world.data["campaign_id"] == "C001"].reset_index(drop=True)
