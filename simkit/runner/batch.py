"""Batch runs: one report per campaign, in parallel, in priority order, then the index.

``simkit run PARAMS.yaml`` calls :func:`run_batch`.  Campaign notebooks run in worker
processes (default: one per core) or on a Dask cluster (``scheduler="tcp://..."``).  A
failed campaign never stops the others and never publishes a half-written report; the
portfolio index lists each failure with its error.  Every run and campaign is recorded in
the run registry: a campaign is ``queued`` until a worker starts it, then ``running`` (with
the worker's start time) until its outcome is in.

The portfolio's pivots (budget optimiser and ranked pivots) are computed once, before the
batch, and saved as ``pivots.json`` in the output folder; every report reads them
(:mod:`simkit.report.pivots`).
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
from functools import partial
from pathlib import Path
from typing import Any

from simkit._resources import resource_dir
from simkit.errors import ParamsError
from simkit.params import RunParams, check_parameter_names, params_hash
from simkit.registry import Registry
from simkit.report.context import PLAN_LOOKBACK_DAYS, data_hash
from simkit.report.pivots import compute_run_pivots, write_run_pivots
from simkit.report.portfolio import MANIFEST
from simkit.runner.execute import CampaignJob, CampaignOutcome, execute_job
from simkit.runner.publish import atomic_write_text

__all__ = ["EXECUTORS", "NOTEBOOKS", "BatchResult", "order_campaigns", "run_batch"]

log = logging.getLogger(__name__)

#: The report notebooks (thin: they call simkit.report and display).
NOTEBOOKS = {
    "campaign": resource_dir("notebooks") / "campaign_report.ipynb",
    "portfolio": resource_dir("notebooks") / "portfolio_report.ipynb",
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
            for k in ("data", "mapping", "plan", "output_dir", "metadata")
        }
    ).to_dict()
    values.update(override)
    check_parameter_names(list(values))
    return values


@dataclass(frozen=True)
class _Started:
    """A worker started a campaign (at ``at``, seconds since the epoch)."""

    campaign_id: str
    at: float


Event = _Started | CampaignOutcome
_POLL_SECONDS = 0.25


def _put_start(queue: Any, campaign_id: str, at: float) -> None:
    queue.put(_Started(campaign_id, at))


def _init_worker(queue: Any) -> None:
    """Worker process start-up: report each job's start through ``queue``."""
    from simkit.runner.execute import set_start_hook

    set_start_hook(partial(_put_start, queue))


def _drain(queue: Any) -> Iterator[_Started]:
    import queue as queue_module

    while True:
        try:
            yield queue.get_nowait()
        except queue_module.Empty:
            return


def _run_processes(jobs: list[CampaignJob], workers: int) -> Iterator[Event]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: no forked copies of the parent's threads or open database handles
    context = multiprocessing.get_context("spawn")
    started = context.Queue()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(started,)
    ) as pool:
        pending = {pool.submit(execute_job, job) for job in jobs}  # FIFO: priority order
        while pending:
            done, pending = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            yield from _drain(started)
            for future in done:
                yield future.result()
    yield from _drain(started)
    started.close()


def _execute_on_dask(job: CampaignJob, topic: str) -> CampaignOutcome:
    """:func:`execute_job` on a Dask worker, reporting its start as a worker event."""
    from distributed import get_worker

    worker = get_worker()
    return execute_job(
        job, on_start=lambda cid, at: worker.log_event(topic, {"campaign_id": cid, "at": at})
    )


def _run_dask(jobs: list[CampaignJob], scheduler: str) -> Iterator[Event]:
    import queue as queue_module

    try:
        from distributed import Client
    except ImportError:
        raise ParamsError(
            "--scheduler needs dask[distributed] (pip install 'simkit[dask]')", field="scheduler"
        ) from None
    started: queue_module.Queue[_Started] = queue_module.Queue()
    topic = f"simkit-start-{uuid.uuid4().hex}"
    with Client(scheduler, timeout="30s") as client:
        # the handler runs on the client's event loop; the queue hands events to this thread
        client.subscribe_topic(
            topic, lambda event: started.put(_Started(event[1]["campaign_id"], event[1]["at"]))
        )
        pending = [
            client.submit(
                _execute_on_dask,
                job,
                topic,
                priority=len(jobs) - job.rank,
                pure=False,
                key=f"simkit-{job.campaign_id}-{uuid.uuid4().hex[:8]}",
            )
            for job in jobs
        ]
        while pending:
            done = [f for f in pending if f.done()]
            yield from _drain(started)
            for future in done:
                yield future.result()
            pending = [f for f in pending if f not in done]
            if pending and not done:
                time.sleep(_POLL_SECONDS)
        client.unsubscribe_topic(topic)
    yield from _drain(started)


#: How a batch is spread: local processes, or a Dask cluster when a scheduler is given.
#: Each yields a ``_Started`` event when a worker starts a campaign, then its outcome.
EXECUTORS: dict[str, Callable[..., Iterator[Event]]] = {
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
    from simkit.metadata import resolve_for_run

    t0 = time.perf_counter()
    registry = registry or Registry()
    base = Path.cwd()
    output_dir = Path(params.output_dir).resolve()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    loaded = load(params.data, mapping=params.mapping, on_bad_rows=params.on_bad_rows)
    campaigns = params.campaign_list(loaded.campaign_ids)
    # merged metadata (simkit.metadata): a bad source fails here, before any kernel starts,
    # and the run's pivots see the same metadata as the reports
    loaded, _ = resolve_for_run(params, loaded)
    recent = loaded.data.sort_values("date").groupby("campaign_id")["spend"]
    spend = {c: float(s.tail(PLAN_LOOKBACK_DAYS).mean()) for c, s in recent}
    ordered = order_campaigns(params, spend, campaigns)
    hash_of_data = data_hash(params.data, params.mapping, params.metadata)
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
    output_dir.mkdir(parents=True, exist_ok=True)
    pivots = write_run_pivots(output_dir, compute_run_pivots(params, loaded, hash_of_data))
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
        for event in executor(jobs, n_workers, scheduler):
            if isinstance(event, _Started):
                if event.campaign_id not in outcomes:  # a late notice changes nothing
                    registry.campaign_running(run_id, event.campaign_id, started_at=event.at)
                    bar.set_postfix_str(f"{event.campaign_id} running")
                continue
            outcome = event
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
        "pivots": pivots.name,
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
