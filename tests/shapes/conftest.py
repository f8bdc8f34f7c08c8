from __future__ import annotations

from pathlib import Path

import pytest

from ._shapes import ALL, GENERATED, REAL, Shape


@pytest.fixture(scope="session")
def shape_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shapes")


@pytest.fixture(scope="session", params=ALL)
def shape(request: pytest.FixtureRequest, shape_root: Path) -> Shape:
    """Each data shape in turn (the real files are skipped with a reason when absent)."""
    name = request.param
    if name in GENERATED:
        return GENERATED[name](shape_root)
    shared = request.getfixturevalue("shared_data")
    return REAL[name](shared)
