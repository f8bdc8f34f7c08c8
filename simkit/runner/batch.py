"""Batch runs: one report per campaign, in parallel, in priority order, then the index.

``simkit run PARAMS.yaml`` calls :func:`run_batch`.  Campaign notebooks run in worker
processes (default: one per core) or on a Dask cluster (``scheduler="tcp://..."``).  A
failed campaign never stops the others and never publishes a half-written report; the
portfolio index lists each failure with its error.  Every run and campaign is recorded in
the run registry.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simkit.errors import ParamsError
from simkit.params import RunParams, check_parameter_names, params_hash
from simkit.registry import Registry
from simkit.report.context import PLAN_LOOKBACK_DAYS, data_hash
from simkit.report.portfolio import MANIFEST
from simkit.runner.execute import CampaignJob, CampaignOutcome, execute_job
from simkit.runner.publish import atomic_write_text

__all__ = ["EXECUTORS", "NOTEBOOKS", "BatchResult", "order_campaigns", "run_batch"]

log = logging.getLogger(__name__)

_REPO = Path(__file__).resolve().parents[2]
#: The report notebooks (thin: they call simkit.report and display).
NOTEBOOKS = {
    "campaign": _REPO / "notebooks" / "campaign_report.ipynb",
    "portfolio": _REPO / "notebooks" / "portfolio_report.ipynb",
}
_STAGING = ".staging"


@dataclass(frozen=True)
class BatchResult:
    """A finished run."""

    run_id: str
    output_dir: Path
    index_path: Path
    outcomes: tuple[CampaignOutcome, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(o.status == "succeeded" for o in self.outcomes)

    @property
    def failed(self) -> list[CampaignOutcome]:
        return [o for o in self.outcomes if o.status != "succeeded"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "output_dir": str(self.output_dir),
            "index": str(self.index_path),
            "ok": self.ok,
            "seconds": self.seconds,
            "campaigns": [o.to_dict() for o in self.outcomes],
        }


def order_campaigns(
    params: RunParams, daily_spend: dict[str, float], campaigns: list[str]
) -> list[str]:
    """Run order: a list of ids first (rest by spend), ``listed`` as given, or ``spend``.

    ``daily_spend`` holds each campaign's mean spend over its last days; larger spend runs
    first because its report matters most if the batch is cut short.
    """
    by_spend = sorted(campaigns, key=lambda c: (-daily_spend.get(c, 0.0), c))
    if params.priority == "listed":
        return list(campaigns)
    if params.priority == "spend":
        return by_spend
    first = [c for c in params.priority if c in campaigns]
    unknown = [c for c in params.priority if c not in campaigns]
    if unknown:
        raise ParamsError(f"priority names campaigns not in this run: {unknown}", field="priority")
    return first + [c for c in by_spend if c not in first]


def _relative(path: str | None, base: Path) -> str | None:
    """``path`` relative to the kernel's working folder, so no absolute path is stored."""
    if path is None:
        return None
    return os.path.relpath(Path(path).resolve(), base)


def _notebook_params(params: RunParams, base: Path, **override: Any) -> dict[str, Any]:
    values = params.model_copy(
        update={
            k: _relative(getattr(params, k), base)
            for k in ("data", "mapping", "plan", "output_dir")
        }
    ).to_dict()
    values.update(override)
    check_parameter_names(list(values))
    return values


def _run_processes(jobs: list[CampaignJob], workers: int) -> Iterator[CampaignOutcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: no forked copies of the parent's threads or open database handles
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        futures = [pool.submit(execute_job, job) for job in jobs]  # FIFO: priority order
        for future in as_completed(futures):
            yield future.result()


def _run_dask(jobs: list[CampaignJob], scheduler: str) -> Iterator[CampaignOutcome]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ParamsError(
            "--scheduler needs dask[distributed] (pip install 'simkit[dask]')", field="scheduler"
        ) from None
    with Client(scheduler, timeout="30s") as client:
        futures = [
            client.submit(
                execute_job,
                job,
                priority=len(jobs) - job.rank,
                pure=False,
                key=f"simkit-{job.campaign_id}-{uuid.uuid4().hex[:8]}",
            )
            for job in jobs
        ]
        for future in as_completed(futures):
            yield future.result()


#: How a batch is spread: local processes, or a Dask cluster when a scheduler is given.
EXECUTORS: dict[str, Callable[..., Iterator[CampaignOutcome]]] = {
    "processes": lambda jobs, workers, scheduler: _run_processes(jobs, workers),
    "dask": lambda jobs, workers, scheduler: _run_dask(jobs, scheduler),
}


def _plain_index(manifest: dict[str, Any], error: str) -> str:
    """A bare index, used only if the portfolio notebook itself failed."""
    import html

    items = []
    for c in manifest["campaigns"]:
        cid = html.escape(c["campaign_id"])
        if c["status"] == "succeeded":
            items.append(f'<li><a href="{cid}/report.html">{cid}</a>: succeeded</li>')
        else:
            items.append(f"<li>{cid}: failed: {html.escape(c.get('error') or '')}</li>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>simkit run "
        f"{html.escape(manifest['run_id'])}</title></head><body><h1>simkit run "
        f"{html.escape(manifest['run_id'])}</h1><p>The portfolio report failed: "
        f"{html.escape(error)}</p><ul>{''.join(items)}</ul></body></html>"
    )


def _write_index(
    params: RunParams, output_dir: Path, base: Path, manifest: dict[str, Any], notebook: Path
) -> Path:
    index = output_dir / "index.html"
    job = CampaignJob(
        campaign_id="_portfolio",
        notebook=str(notebook),
        parameters=_notebook_params(params, base),
        staging_dir=str(output_dir / _STAGING / manifest["run_id"] / "_portfolio"),
        final_dir=str(output_dir / "_portfolio"),
        cwd=str(base),
        timeout_seconds=params.timeout_seconds,
        retries=params.retries,
        html_name="index.html",
    )
    outcome = execute_job(job)
    if outcome.status == "succeeded":
        shutil.copyfile(output_dir / "_portfolio" / "index.html", index.with_suffix(".tmp"))
        os.replace(index.with_suffix(".tmp"), index)
    else:
        log.warning("portfolio report failed: %s", outcome.error)
        atomic_write_text(index, _plain_index(manifest, outcome.error or "unknown error"))
    return index


def run_batch(
    params: RunParams,
    *,
    params_file: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    registry: Registry | None = None,
    notebook: str | Path | None = None,
    portfolio_notebook: str | Path | None = None,
    progress: bool = True,
) -> BatchResult:
    """Run one report per campaign, publish each that succeeds, then write ``index.html``.

    Parameters
    ----------
    params
        Validated run parameters (paths absolute or relative to the working folder).
    workers
        Parallel worker processes; default: the number of cores.
    scheduler
        A Dask scheduler address (``tcp://host:8786``): run the batch on that cluster.
    registry
        Where the run is recorded; default: :class:`~simkit.registry.Registry` ``()``.
    notebook, portfolio_notebook
        Override the report notebooks (tests use this to inject failures).
    """
    from tqdm.auto import tqdm

    from simkit.data import load

    t0 = time.perf_counter()
    registry = registry or Registry()
    base = Path.cwd()
    output_dir = Path(params.output_dir).resolve()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    loaded = load(params.data, mapping=params.mapping)
    campaigns = params.campaign_list(loaded.campaign_ids)
    recent = loaded.data.sort_values("date").groupby("campaign_id")["spend"]
    spend = {c: float(s.tail(PLAN_LOOKBACK_DAYS).mean()) for c, s in recent}
    ordered = order_campaigns(params, spend, campaigns)
    hash_of_data = data_hash(params.data, params.mapping)
    registry.create_run(
        run_id,
        params=params.to_dict(),
        params_hash=params_hash(params),
        output_dir=str(output_dir),
        campaigns=ordered,
        params_file=str(params_file) if params_file else None,
        data_hash=hash_of_data,
    )
    staging_root = output_dir / _STAGING / run_id
    jobs = [
        CampaignJob(
            campaign_id=cid,
            notebook=str(notebook or NOTEBOOKS["campaign"]),
            parameters=_notebook_params(params, base, campaigns=[cid]),
            staging_dir=str(staging_root / cid),
            final_dir=str(output_dir / cid),
            cwd=str(base),
            timeout_seconds=params.timeout_seconds,
            retries=params.retries,
            rank=rank,
        )
        for rank, cid in enumerate(ordered)
    ]
    registry.start_run(run_id)
    for job in jobs:
        registry.campaign_running(run_id, job.campaign_id)
    outcomes: dict[str, CampaignOutcome] = {}
    executor = EXECUTORS["dask" if scheduler else "processes"]
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    bar = tqdm(
        total=len(jobs),
        desc="campaign reports",
        unit="report",
        disable=not progress or bool(os.environ.get("TQDM_DISABLE")),
    )
    try:
        for outcome in executor(jobs, n_workers, scheduler):
            outcomes[outcome.campaign_id] = outcome
            summary = output_dir / outcome.campaign_id / "summary.json"
            registry.campaign_done(run_id, outcome, str(summary) if outcome.summary else None)
            bar.set_postfix_str(f"{outcome.campaign_id} {outcome.status}")
            bar.update()
    finally:
        bar.close()
    results = tuple(outcomes[c] for c in ordered)
    manifest = {
        "run_id": run_id,
        "params_hash": params_hash(params),
        "data_hash": hash_of_data,
        "campaigns": [
            {
                **{k: v for k, v in o.to_dict().items() if k != "report_path"},
                "report": f"{o.campaign_id}/report.html" if o.status == "succeeded" else None,
            }
            for o in results
        ],
    }
    atomic_write_text(output_dir / MANIFEST, json.dumps(manifest, indent=2))
    index = _write_index(
        params, output_dir, base, manifest, Path(portfolio_notebook or NOTEBOOKS["portfolio"])
    )
    shutil.rmtree(staging_root, ignore_errors=True)
    with_errors = [o for o in results if o.status != "succeeded"]
    registry.finish_run(
        run_id,
        status="failed" if with_errors else "succeeded",
        index_path=str(index),
        error="; ".join(f"{o.campaign_id}: {o.error}" for o in with_errors) or None,
    )
    return BatchResult(run_id, output_dir, index, results, time.perf_counter() - t0)
