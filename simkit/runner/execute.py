"""Executing one notebook with Papermill, labelling its failures, and publishing it.

:func:`execute_job` runs in a worker process (or on a Dask worker), so it takes and returns
plain picklable dataclasses.  Papermill's sharp edges are handled here:

* parameter names are pasted into code, so only validated identifiers go in
  (:func:`~simkit.params.check_parameter_names`), and no name that looks like a secret;
* a kernel death (e.g. exit 138) or a cell timeout leaves no error banner in the
  notebook, so the failure is labelled here, naming the cell that was running;
* absolute paths of the machine are scrubbed from the published notebook.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from simkit.errors import SimkitError
from simkit.params import check_parameter_names
from simkit.runner.publish import (
    atomic_replace_dir,
    extract_summary,
    render_html,
    render_pdf,
    scrub_paths,
)

__all__ = [
    "CampaignJob",
    "CampaignOutcome",
    "classify_failure",
    "execute_job",
    "set_start_hook",
]

log = logging.getLogger(__name__)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
Status = Literal["succeeded", "failed"]


@dataclass(frozen=True)
class CampaignJob:
    """One notebook to execute and publish (picklable)."""

    campaign_id: str
    notebook: str
    parameters: dict[str, Any]
    staging_dir: str
    final_dir: str
    cwd: str
    timeout_seconds: int
    retries: int
    rank: int = 0
    kernel_name: str = "python3"
    html_name: str = "report.html"
    scrub_roots: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignOutcome:
    """What happened to one job."""

    campaign_id: str
    status: Status
    attempts: int
    started_at: float
    finished_at: float
    error: str | None = None
    kind: str | None = None
    report_path: str | None = None
    summary: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def duration_seconds(self) -> float:
        return self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_seconds"] = self.duration_seconds
        d.pop("summary")
        return d


def _read(path: Path | None) -> Any | None:
    if path is None or not path.is_file():
        return None
    try:
        import nbformat

        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None


def _code_cells(nb: Any) -> list[Any]:
    """The notebook's own code cells (Papermill's injected-parameters cell left out), so a
    cell number names the same cell in the notebook as written."""
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]


def _running_cell(nb: Any | None) -> int | None:
    """1-based number of the code cell that was running when execution stopped.

    After a timeout or a kernel death Papermill marks every cell "completed", so the cell
    is found by its timestamps: the last one that started (cells after it never did).
    """
    if nb is None:
        return None
    started = [
        i
        for i, cell in enumerate(_code_cells(nb), start=1)
        if (meta := cell.metadata.get("papermill", {})).get("status") == "running"
        or meta.get("start_time")
    ]
    return started[-1] if started else None


def _cell_number(nb: Any | None, cell_index: int) -> int | None:
    """Code-cell number of ``nb.cells[cell_index]`` (Papermill's index counts every cell)."""
    if nb is None or not 0 <= cell_index < len(nb.cells):
        return None
    target = nb.cells[cell_index]
    return next((i for i, c in enumerate(_code_cells(nb), start=1) if c is target), None)


def classify_failure(
    exc: BaseException, *, timeout_seconds: int, partial: Path | None = None
) -> tuple[str, str, bool]:
    """``(kind, message, transient)`` for an execution failure.

    A cell error carries its own exception name and message.  A kernel death and a cell
    timeout leave no error banner in the notebook, so they are named here, with the cell
    that was running.  Kernel deaths and kernel start-up failures are transient (memory
    pressure, a busy machine) and retried; errors and timeouts are not.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    nb = _read(partial)
    cell = _running_cell(nb)
    where = f" in code cell {cell}" if cell else ""
    if isinstance(exc, PapermillExecutionError):
        evalue = _ANSI.sub("", str(exc.evalue)).strip()
        number = _cell_number(nb, exc.cell_index) or exc.cell_index
        return "error", f"{exc.ename}: {evalue} (code cell {number})", False
    if isinstance(exc, CellTimeoutError):
        return (
            "timeout",
            (f"timed out: a cell ran longer than the {timeout_seconds} s limit{where}"),
            False,
        )
    if isinstance(exc, DeadKernelError):
        return (
            "kernel_died",
            (
                f"the kernel died{where} (killed or crashed, e.g. out of "
                "memory or exit code 138); no report was published"
            ),
            True,
        )
    if isinstance(exc, SimkitError):
        return "error", str(exc), False
    if isinstance(exc, RuntimeError | TimeoutError | ConnectionError):
        return "kernel_start", f"the kernel could not run: {type(exc).__name__}: {exc}", True
    return "error", f"{type(exc).__name__}: {exc}", False


def _publish(job: CampaignJob, executed: Path) -> tuple[str, dict[str, Any] | None]:
    import nbformat

    staging = Path(job.staging_dir)
    nb = nbformat.read(executed, as_version=4)
    summary = extract_summary(nb)
    scrub_paths(nb, [job.cwd, job.staging_dir, job.final_dir, *job.scrub_roots])
    nbformat.write(nb, executed)
    (staging / job.html_name).write_text(render_html(nb), encoding="utf-8")
    if job.parameters.get("pdf") and job.html_name == "report.html":
        (staging / "report.pdf").write_bytes(render_pdf(nb))
    if summary is not None:
        (staging / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    atomic_replace_dir(staging, Path(job.final_dir))
    return str(Path(job.final_dir) / job.html_name), summary


#: Called as ``hook(campaign_id, started_at)`` when a worker starts a job (set in each
#: worker process by the batch runner, see :func:`set_start_hook`).
_start_hook: Callable[[str, float], None] | None = None


def set_start_hook(hook: Callable[[str, float], None] | None) -> None:
    """Report every job this process starts to ``hook`` (the batch runner's progress)."""
    global _start_hook
    _start_hook = hook


def _notify_start(hook: Callable[[str, float], None] | None, job: CampaignJob, at: float) -> None:
    if hook is None:
        return
    try:
        hook(job.campaign_id, at)
    except Exception as exc:  # noqa: BLE001 - progress reporting must never fail a report
        log.warning("could not report the start of %s: %s", job.campaign_id, exc)


def execute_job(
    job: CampaignJob, on_start: Callable[[str, float], None] | None = None
) -> CampaignOutcome:
    """Execute, label and publish one notebook; never raises for a notebook's failure.

    ``on_start(campaign_id, started_at)`` (default: the hook of :func:`set_start_hook`)
    is told when the job starts, so the run registry can mark the campaign running.
    """
    import papermill as pm

    started = time.time()
    _notify_start(on_start or _start_hook, job, started)
    check_parameter_names(list(job.parameters))
    staging = Path(job.staging_dir)
    executed = staging / "report.ipynb"
    attempts, kind, message = 0, None, None
    while attempts <= job.retries:
        attempts += 1
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            pm.execute_notebook(
                job.notebook,
                str(executed),
                parameters=job.parameters,
                kernel_name=job.kernel_name,
                cwd=job.cwd,
                progress_bar=False,
                log_output=False,
                execution_timeout=job.timeout_seconds,
            )
            report, summary = _publish(job, executed)
            return CampaignOutcome(
                job.campaign_id,
                "succeeded",
                attempts,
                started,
                time.time(),
                report_path=report,
                summary=summary,
            )
        except Exception as exc:  # noqa: BLE001 - every failure is labelled, never lost
            kind, message, transient = classify_failure(
                exc, timeout_seconds=job.timeout_seconds, partial=executed
            )
            log.warning("campaign %s attempt %d failed: %s", job.campaign_id, attempts, message)
            if not transient:
                break
    if attempts > 1:
        message = f"{message} (after {attempts} attempts)"
    failed_dir = Path(job.final_dir).parent / ".failed" / job.campaign_id
    shutil.rmtree(failed_dir, ignore_errors=True)
    if staging.exists():  # kept for debugging, never published
        failed_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), failed_dir)
    return CampaignOutcome(
        job.campaign_id, "failed", attempts, started, time.time(), error=message, kind=kind
    )
