"""A campaign job hands the worker's engine results to its kernel (issue 14, speed): the
report shows what the worker computed, and the notebook does not fit again."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from simkit.params import RunParams
from simkit.report import handoff, load_campaign
from simkit.report.engines import EngineResults
from simkit.runner import NOTEBOOKS, CampaignJob, execute, execute_job

from .conftest import LEAN

_MARK = "handed over by the worker"
_ENGINES = ("forecast", "simulation", "risks", "pivots", "market")


def test_the_kernel_shows_the_results_the_worker_computed(
    tmp_path: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def precompute(job: CampaignJob, path: Path) -> bool:
        with contextlib.chdir(job.cwd):
            ctx = load_campaign(RunParams(**job.parameters))
        handoff.save(path, ctx, EngineResults(absent=dict.fromkeys(_ENGINES, _MARK)))
        return True

    monkeypatch.setattr(execute, "_precompute", precompute)
    out = tmp_path / "reports"
    params = RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=["C001"],
        output_dir=str(out),
        **LEAN,
    )
    job = CampaignJob(
        campaign_id="C001",
        notebook=str(NOTEBOOKS["campaign"]),
        parameters=params.to_dict(),
        staging_dir=str(out / ".staging" / "C001"),
        final_dir=str(out / "C001"),
        cwd=str(tmp_path),
        timeout_seconds=120,
        retries=0,
        root=str(out),
        precompute=True,
    )
    outcome = execute_job(job)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.summary is not None
    assert outcome.summary["sections"]["forecast"] == "missing"
    page = (out / "C001" / "report.html").read_text(encoding="utf-8")
    assert f"No forecast fan chart: {_MARK}." in page
    assert set(outcome.timings) == {"engines_in_worker", "notebook", "render_html", "publish"}
    assert not list(out.rglob("*.pickle")), "the hand-off file is never published"
