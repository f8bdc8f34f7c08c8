from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from simkit.params import RunParams
from simkit.registry import Registry
from simkit.runner import run_batch

#: Cheap engine settings for batch tests: two fast forecast members, one backtest fold, few
#: paths.  The numbers are real; only the cost is small.
LEAN = {"members": ["seasonal_naive", "ets"], "backtest_cutoffs": 1, "n_paths": 300}


class RecordingRegistry(Registry):
    """A registry that also remembers when each campaign was marked running or done."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.events: list[tuple[str, str, float | None]] = []

    def campaign_running(
        self, run_id: str, campaign_id: str, *, started_at: float | None = None
    ) -> None:
        self.events.append(("running", campaign_id, started_at))
        super().campaign_running(run_id, campaign_id, started_at=started_at)

    def campaign_done(self, run_id: str, outcome: Any, summary_path: str | None = None) -> None:
        self.events.append(("done", outcome.campaign_id, time.time()))
        super().campaign_done(run_id, outcome, summary_path)


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, test_data: Path):
    """One real batch (Papermill + nbconvert) over two tiny campaigns, shared by tests."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    out = tmp_path_factory.mktemp("run")
    registry = RecordingRegistry(f"sqlite:///{out / 'registry.sqlite'}")
    params = RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=["C001", "C002"],
        output_dir=str(out / "reports"),
        **LEAN,
    )
    result = run_batch(params, workers=2, registry=registry, progress=False)
    return result, registry, params
