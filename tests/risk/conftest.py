from __future__ import annotations

import numpy as np
import pytest

from simkit.data.synthetic import SyntheticData, generate


@pytest.fixture(scope="module")
def world() -> SyntheticData:
    """Eight campaigns x 150 days; the default events (fatigue, competitor entry, tracking dip,
    overpacing) hit C001-C004 on day 105 (2026-04-20); C005-C008 are event-free."""
    return generate(8, 150, rng=np.random.default_rng(3))
