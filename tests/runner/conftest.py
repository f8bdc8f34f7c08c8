from __future__ import annotations

import os
from pathlib import Path

import pytest

from simkit.params import RunParams
from simkit.registry import Registry
from simkit.runner import run_batch


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, test_data: Path):
    """One real batch (Papermill + nbconvert) over two tiny campaigns, shared by tests."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    out = tmp_path_factory.mktemp("run")
    registry = Registry(f"sqlite:///{out / 'registry.sqlite'}")
    params = RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=["C001", "C002"],
        output_dir=str(out / "reports"),
    )
    result = run_batch(params, workers=2, registry=registry, progress=False)
    return result, registry, params
