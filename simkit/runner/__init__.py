"""Papermill execution of report notebooks, batch runs, publishing and the index.

See :func:`run_batch` (``simkit run``) and :func:`execute_job` (one notebook).
"""

from __future__ import annotations

from simkit.runner.batch import (
    EXECUTORS,
    NOTEBOOKS,
    BatchResult,
    RunInterrupted,
    order_campaigns,
    run_batch,
)
from simkit.runner.execute import CampaignJob, CampaignOutcome, classify_failure, execute_job
from simkit.runner.publish import extract_summary, render_html, scrub_paths

__all__ = [
    "EXECUTORS",
    "NOTEBOOKS",
    "BatchResult",
    "CampaignJob",
    "CampaignOutcome",
    "RunInterrupted",
    "classify_failure",
    "execute_job",
    "extract_summary",
    "order_campaigns",
    "render_html",
    "run_batch",
    "scrub_paths",
]
