"""Batch runs: one report per campaign, in parallel, in priority order, then the index.

``simkit run PARAMS.yaml`` calls :func:`run_batch`.  Campaign notebooks run in worker
processes (default: one per core) or on a Dask cluster (``scheduler="tcp://..."``).  A
failed campaign never stops the others and never publishes a half-written report; the
portfolio index lists each failure with its error.  Every run and campaign is recorded in
the run registry: a campaign is ``queued`` until a worker starts it, then ``running`` (with
the worker's start time) until its outcome is in.

The portfolio's pivots (budget optimiser and ranked pivots) are computed once, before the
batch, and saved as ``pivots.json`` in the output folder; every report reads them
(:mod:`simkit.report.pivots`).  Meanwhile the workers make every campaign's what-if session
for them (:func:`~simkit.runner.execute.prepare_pivot_session`: a forecast and a response
curve each, most of the pivots' time), which the parent takes as it needs them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from simkit._resources import resource_dir
from simkit.data import load
from simkit.data.panel import CampaignPanel
from simkit.errors import ParamsError, SimkitError
from simkit.ledger import record_report
from simkit.metadata import resolve_for_run
from simkit.metrics import count_llm_usage
from simkit.params import OPS_FIELDS, RunParams, check_parameter_names, params_hash
from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.report.context import data_hash
from simkit.report.pivots import PIVOTS_FILE, compute_run_pivots, write_run_pivots
from simkit.report.portfolio import MANIFEST
from simkit.runner import execute, observe, remote
from simkit.runner.execute import (
    CampaignJob,
    CampaignOutcome,
    close_kernel,
    execute_job,
    prepare_pivot_session,
    prestart_kernel,
    set_start_hook,
)
from simkit.runner.layout import STAGING, RunLayout, campaign_folders
from simkit.runner.llm import run_usage, with_run_deadline
from simkit.runner.lock import RunLock
from simkit.runner.publish import atomic_write_text
from simkit.runner.warmup import warm_worker
from simkit.simulate.budget import recent_spend_level

__all__ = [
    "EXECUTORS",
    "NOTEBOOKS",
    "BatchResult",
    "RunInterrupted",
    "order_campaigns",
    "present_reports",
    "run_batch",
    "run_local_batch",
]

log = logging.getLogger(__name__)

#: The report notebooks (thin: they call simkit.report and display).
NOTEBOOKS = {
    "campaign": resource_dir("notebooks") / "campaign_report.ipynb",
    "portfolio": resource_dir("notebooks") / "portfolio_report.ipynb",
}


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
    for name in OPS_FIELDS:  # the runner's settings, not the notebook's
        values.pop(name, None)
    values.update(override)
    check_parameter_names(list(values))
    return values


@dataclass(frozen=True)
class _Started:
    """A worker started a campaign (at ``at``, seconds since the epoch)."""

    campaign_id: str
    at: float


@dataclass(frozen=True)
class _Finishing:
    """Every job is done; the workers are exiting.  ``join()`` waits for them, which the
    batch does after writing the index (a worker's exit takes seconds on a busy machine)."""

    join: Callable[[], None]


Event = _Started | CampaignOutcome | _Finishing
_POLL_SECONDS = 0.25
_PR_SET_PDEATHSIG = 1


def _put_start(queue: Any, campaign_id: str, at: float) -> None:
    queue.put(_Started(campaign_id, at))


def _worker_exit(signum: int, frame: Any) -> None:
    """A worker told to stop (by the batch, or its parent's death): kill its kernel and go,
    unless it is moving a finished report into place, which it completes first."""
    if execute.publishing():
        execute.request_exit()
        return
    execute.kill_kernel()
    os._exit(128 + signum)


def _watch_parent(parent: int) -> None:
    """Stop this worker when its parent is gone (the fallback to ``PR_SET_PDEATHSIG``)."""
    import signal
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="simkit-parent-watch", daemon=True).start()


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the parent-watch thread covers it


def _init_worker(
    queue: Any, parent: int, log_file: str | None = None, summary_only: bool = False
) -> None:
    """Worker process start-up: report each job's start through ``queue``; die with the
    parent; log to the run's log file instead of the terminal; import the engines'
    libraries once (:func:`~simkit.runner.warmup.warm_worker`)."""
    import signal

    signal.signal(signal.SIGTERM, _worker_exit)
    signal.signal(signal.SIGINT, _worker_exit)
    _die_with_parent()
    _watch_parent(parent)
    if os.getppid() != parent:  # the parent died before the hooks were in place
        os.kill(os.getpid(), signal.SIGTERM)
    if log_file is not None:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    set_start_hook(partial(_put_start, queue))
    warm_worker(summary_only=summary_only)


#: The few summary fields the parent reads from an outcome (its state, for the registry,
#: run.json and the terminal; its language-model usage, a few numbers, for the run's
#: total); the summary itself is on disk, written by the worker.
_SLIM_SUMMARY = ("campaign_id", "campaign_state", "campaign_last_date")


def _slim(outcome: CampaignOutcome) -> CampaignOutcome:
    """``outcome`` without the bulk of its summary: the worker has written summary.json,
    so the parent's memory stays bounded whatever the number of campaigns."""
    if outcome.summary is None:
        return outcome
    summary = {k: outcome.summary[k] for k in _SLIM_SUMMARY if k in outcome.summary}
    usage = (outcome.summary.get("llm") or {}).get("usage")
    if usage:
        summary["llm"] = {"usage": usage}
    return replace(outcome, summary=summary)


def _execute_slim(job: CampaignJob) -> CampaignOutcome:
    """:func:`execute_job` in a pool worker, its outcome slimmed for the trip back."""
    return _slim(execute_job(job))


def _drain(queue: Any) -> Iterator[_Started]:
    import queue as queue_module

    while True:
        try:
            yield queue.get_nowait()
        except queue_module.Empty:
            return


def _stop_workers(children: list[Any], grace_seconds: float = 5.0) -> None:
    """Terminate worker processes (each kills its kernel first), then kill any that are
    still there after ``grace_seconds``."""
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace_seconds
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join(1.0)


def _made(futures: dict[str, Any], key: str) -> Any | None:
    """The session a worker made for campaign ``key`` (``None``: make it here)."""
    future = futures.get(key)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # noqa: BLE001 - a lost worker or a cancelled future: made here
        return None


def _noop() -> None:
    """A first task that makes the pool start a worker (which then warms up)."""


def _run_processes(
    jobs: list[CampaignJob],
    workers: int,
    log_file: str | None = None,
    prepare: Callable[[Callable[..., Any]], None] | None = None,
    summary_only: bool = False,
) -> Iterator[Event]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: no forked copies of the parent's threads or open database handles
    context = multiprocessing.get_context("spawn")
    started = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(started, os.getpid(), log_file, summary_only),
    )
    try:
        if prepare is not None:
            # the workers start and import the engines' libraries while this process
            # prepares what the jobs read (the run's pivots)
            for _ in range(workers):
                pool.submit(_noop)
            prepare(pool.submit)
        pending = {pool.submit(_execute_slim, job) for job in jobs}  # FIFO: priority order
        while pending:
            done, pending = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            yield from _drain(started)
            for future in done:
                yield future.result()
    except BaseException:
        # interrupted (a signal, or the consumer stopped): stop now, never wait for the
        # running reports; a report that is being moved into place is completed first
        # the pool's own processes only (``_processes``: no public accessor), never
        # other children of a program that calls run_batch
        workers_now = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        _stop_workers(workers_now)
        started.close()
        started.cancel_join_thread()
        raise
    pool.shutdown(wait=False)
    yield from _drain(started)
    started.close()
    yield _Finishing(partial(pool.shutdown, wait=True))


def _execute_on_dask(job: CampaignJob, topic: str) -> CampaignOutcome:
    """:func:`execute_job` on a Dask worker, reporting its start as a worker event."""
    from distributed import get_worker

    worker = get_worker()
    outcome = execute_job(
        job, on_start=lambda cid, at: worker.log_event(topic, {"campaign_id": cid, "at": at})
    )
    return _slim(outcome)


def _warm_plugin(summary_only: bool) -> Any:
    """A Dask worker plugin: each worker imports the engines' libraries once, when it
    joins (as a pool worker does in its initialiser; workers added later by
    ``cluster.adapt`` too), not once per campaign."""
    from distributed.diagnostics.plugin import WorkerPlugin  # optional: the dask extra

    class WarmWorker(WorkerPlugin):  # type: ignore[misc]
        name = "simkit-warm-worker"
        idempotent = True

        def setup(self, worker: Any) -> None:
            warm_worker(summary_only=summary_only)

    return WarmWorker()


def _run_dask(
    jobs: list[CampaignJob],
    scheduler: str | Any,
    prepare: Callable[[Callable[..., Any]], None] | None = None,
    summary_only: bool = False,
) -> Iterator[Event]:
    import queue as queue_module

    try:
        from distributed import Client  # optional (the dask extra), so imported here
    except ImportError:
        raise ParamsError(
            "--scheduler needs dask[distributed] (pip install 'simkit[dask]')", field="scheduler"
        ) from None
    from concurrent.futures import ThreadPoolExecutor

    started: queue_module.Queue[_Started] = queue_module.Queue()
    topic = f"simkit-start-{uuid.uuid4().hex}"
    # connected first: an unreachable scheduler fails before minutes of pivots
    with Client(scheduler, timeout="30s") as client:
        # the workers import the engines' libraries while this process prepares what the
        # jobs read, as the pool's do (register_plugin returns when every worker has)
        with ThreadPoolExecutor(max_workers=1) as warming:
            warm = warming.submit(client.register_plugin, _warm_plugin(summary_only))
            if prepare is not None:
                prepare(partial(client.submit, pure=False))
            warm.result()
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
#: Each calls ``prepare(submit)`` (if given; ``submit(fn, *args)`` runs ``fn`` on a worker and
#: returns its future) before any job starts, then yields a ``_Started``
#: event when a worker starts a campaign, then its outcome.
EXECUTORS: dict[str, Callable[..., Iterator[Event]]] = {
    "processes": lambda jobs, workers, scheduler, log_file=None, prepare=None, **kw: _run_processes(
        jobs, workers, log_file, prepare, kw.get("summary_only", False)
    ),
    "dask": lambda jobs, workers, scheduler, log_file=None, prepare=None, **kw: _run_dask(
        jobs, scheduler, prepare, kw.get("summary_only", False)
    ),
}


def _plain_index(manifest: dict[str, Any], error: str | None) -> str:
    """A bare index that needs no kernel: used when the portfolio notebook failed, and
    when a run is interrupted (it must be written at once)."""
    import html

    def link(item: dict[str, Any], label: str) -> str:
        return f'<a href="{html.escape(item["report"])}">{label}</a>'

    items = []
    for c in manifest["campaigns"]:
        cid = html.escape(c["campaign_id"])
        if c.get("report"):
            state = "stopped" if c.get("campaign_state") == "stopped" else "succeeded"
            if state == "stopped" and c.get("last_date"):
                state += f" (last day {html.escape(str(c['last_date']))})"
            items.append(f"<li>{link(c, cid)}: {state}</li>")
        else:
            what = html.escape(c.get("error") or c.get("status") or "")
            previous = c.get("previous_report")
            kept = (
                f"; the report of an earlier run is still shown: {link(previous, 'report')}"
                if previous
                else ""
            )
            items.append(f"<li>{cid}: {html.escape(c['status'])}: {what}{kept}</li>")
    earlier = [
        f"<li>{link(e, html.escape(e['campaign_id']))} (from an earlier run"
        + (f" {html.escape(e['run_id'])}" if e.get("run_id") else "")
        + ")</li>"
        for e in manifest.get("earlier", [])
    ]
    rid = html.escape(manifest["run_id"])
    status = html.escape(manifest.get("status", ""))
    why = f"<p>The portfolio report failed: {html.escape(error)}</p>" if error else ""
    more = (
        f"<h2>Earlier reports still in this folder</h2><ul>{''.join(earlier)}</ul>"
        if earlier
        else ""
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f'<meta name="simkit-run-id" content="{rid}"><title>simkit run {rid}</title></head>'
        f"<body><h1>simkit run {rid}</h1><p>Status: {status}.</p>{why}"
        f"<h2>This run's campaigns</h2><ul>{''.join(items)}</ul>{more}</body></html>"
    )


def _portfolio_job(
    params: RunParams, layout: RunLayout, base: Path, notebook: Path, log_file: str | None
) -> CampaignJob:
    output_dir = layout.output_dir
    return CampaignJob(
        campaign_id="_portfolio",
        notebook=str(notebook),
        parameters=_notebook_params(params, base),
        staging_dir=str(layout.portfolio_staging),
        final_dir=str(layout.portfolio_dir),
        cwd=str(base),
        timeout_seconds=params.timeout_seconds,
        retries=params.retries,
        html_name="index.html",
        root=str(output_dir),
        failed_dir=str(layout.failed_dir("_portfolio")),
        run_id=layout.run_id,
        log_file=log_file,
    )


def _write_index(
    layout: RunLayout, manifest: dict[str, Any], job: CampaignJob, km: Any | None = None
) -> Path:
    """Run the portfolio notebook (on ``km`` if a kernel was started for it) and put its
    page in place as ``index.html``; a plain index if it fails."""
    index = layout.inside(layout.output_dir / "index.html")
    outcome = execute_job(job, km=km)
    if outcome.status == "succeeded":
        tmp = layout.inside(index.with_name(f".index.{uuid.uuid4().hex}.tmp"))
        shutil.copyfile(layout.portfolio_dir / "index.html", tmp)
        os.replace(tmp, index)
    else:
        log.warning("portfolio report failed: %s", outcome.error)
        atomic_write_text(index, _plain_index(manifest, outcome.error or "unknown error"))
    return index


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def present_reports(output_dir: Path) -> dict[str, dict[str, Any]]:
    """The reports in ``output_dir`` now, by folder name: campaign id, run id and state
    as their ``summary.json`` gives them (an old report without one is named by its
    folder)."""
    from urllib.parse import quote

    found: dict[str, dict[str, Any]] = {}
    if not output_dir.is_dir():
        return found
    for folder in sorted(output_dir.iterdir()):
        if folder.name.startswith((".", "_")) or folder.is_symlink() or not folder.is_dir():
            continue
        if not (folder / "report.html").is_file():
            continue
        summary = _read_json(folder / "summary.json") or {}
        found[folder.name] = {
            "campaign_id": str(summary.get("campaign_id") or folder.name),
            "folder": folder.name,
            "report": f"{quote(folder.name)}/report.html",
            "run_id": summary.get("run_id"),
            "campaign_state": "stopped" if summary.get("campaign_state") == "stopped" else "active",
        }
    return found


def _manifest(
    run_id: str,
    status: str,
    params: RunParams,
    hash_of_data: str,
    pivots: str | None,
    layout: RunLayout,
    ordered: list[str],
    outcomes: dict[str, CampaignOutcome],
) -> dict[str, Any]:
    """``run.json``: this run's campaigns (a report link for each one published, the
    surviving earlier report of each one that failed), then the earlier reports still in
    the folder, marked as such."""
    present = present_reports(layout.output_dir)
    folders = campaign_folders(ordered)
    campaigns = []
    for cid in ordered:
        folder = folders[cid]
        outcome = outcomes.get(cid)
        on_disk = present.get(folder)
        if outcome is None and on_disk and on_disk.get("run_id") == run_id:
            # published just before the run was stopped: its outcome never arrived
            outcome = CampaignOutcome(cid, "succeeded", 1, 0.0, 0.0)
            item = {**outcome.to_dict(), "campaign_state": on_disk["campaign_state"]}
        elif outcome is None:
            item = {"campaign_id": cid, "status": "interrupted", "error": "not finished"}
        else:
            item = outcome.to_dict()
        item.pop("report_path", None)
        item["folder"] = folder
        published = item["status"] == "succeeded"
        # a campaign that published only its summary.json is linked to it
        only_summary = outcome is not None and outcome.published == "summary"
        link = layout.summary_link(cid) if only_summary else layout.report_link(cid)
        item["report"] = link if published else None
        item["summary"] = layout.summary_link(cid) if published else None
        if not published and on_disk:
            item["previous_report"] = {"report": on_disk["report"], "run_id": on_disk["run_id"]}
        campaigns.append(item)
    mine = set(folders.values())
    earlier = [item for name, item in present.items() if name not in mine]
    return {
        "run_id": run_id,
        "status": status,
        "params_hash": params_hash(params),
        "data_hash": hash_of_data,
        "pivots": pivots,
        "campaigns": campaigns,
        "earlier": earlier,
    }


class RunInterrupted(BaseException):
    """The run was told to stop (SIGINT or SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into :class:`RunInterrupted` in the main thread."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise RunInterrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _log_file(base: Path, run_id: str) -> Path:
    """The run's log (outside the output folder): worker logs and the kernels' stderr."""
    folder = base / ".simkit-cache" / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run_id}.log"


def _prepare_output(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise SimkitError(f"output_dir {output_dir} is a file, not a folder")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimkitError(
            f"cannot create output_dir {output_dir}: {exc.strerror or type(exc).__name__}"
        ) from None


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (another run's staging), or already gone


def _clean_dead_staging(layout: RunLayout) -> None:
    """Remove what dead runs left in the output folder: their staging folders and any
    report set aside while being replaced.  Only called while holding the folder's lock,
    so no live run is writing there; every path is checked to lie inside the folder."""
    staging = layout.output_dir / STAGING
    if staging.is_dir() and not staging.is_symlink():
        for folder in staging.iterdir():
            shutil.rmtree(layout.inside(folder), ignore_errors=True)
    for leftover in layout.output_dir.glob(".*.old-*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(layout.inside(leftover), ignore_errors=True)


def _recent_spend(data: Any, campaigns: list[str]) -> dict[str, float]:
    """Each campaign's recent daily spend level (the default plan's rule), for the order of
    the reports: from the campaign-day panel, so breakdown rows are summed per day first."""
    panel = CampaignPanel.from_data(data)
    spend = {}
    for cid in campaigns:
        if cid not in panel.ids:
            continue
        days = panel.campaign(cid)
        days = days[days["present"]]
        spend[cid] = recent_spend_level(days["spend"], days.get("budget"))
    return spend


def run_batch(params: RunParams, **options: Any) -> BatchResult:
    """Run one report per campaign, publish each that succeeds, then write ``index.html``.

    ``params.data`` and ``params.output_dir`` may be fsspec URLs (``s3://bucket/...``):
    the data is copied in once, the output is written locally and published to the URL
    when the run ends, staged then moved, the index last (:mod:`simkit.runner.remote`).
    The options are those of :func:`run_local_batch`; the result's ``output_dir`` is the
    local folder the remote one was published from.
    """
    cache = Path.cwd() / ".simkit-cache"
    if remote.is_remote(params.data):
        params = params.model_copy(update={"data": str(remote.fetch_data(params.data, cache))})
    if not remote.is_remote(params.output_dir):
        return run_local_batch(params, **options)
    url = params.output_dir
    local = cache / "publish" / safe_name(url)
    result = run_local_batch(params.model_copy(update={"output_dir": str(local)}), **options)
    published = remote.publish_folder(local, url, result.run_id)
    log.info("published %d files to %s", published, url)
    return result


def run_local_batch(
    params: RunParams,
    *,
    params_file: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    registry: Registry | None = None,
    notebook: str | Path | None = None,
    portfolio_notebook: str | Path | None = None,
    progress: bool = True,
    wait: bool = False,
    quiet_kernels: bool = True,
) -> BatchResult:
    """Run one report per campaign, publish each that succeeds, then write ``index.html``.

    One run writes to an output folder at a time (a lock file); a second run refuses,
    or waits with ``wait=True``.  SIGINT and SIGTERM stop the workers and their kernels,
    keep every report already published, and record the run as ``interrupted``
    (:class:`RunInterrupted` is raised after that).

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
    wait
        Wait for another run writing to the same output folder, instead of refusing.
    quiet_kernels
        Send the kernels' and workers' own messages to the run's log file
        (``.simkit-cache/logs/<run id>.log``) rather than the terminal.
    """

    t0 = time.perf_counter()
    registry = registry or Registry()
    registry.recover_dead_runs()
    base = Path.cwd()
    output_dir = Path(params.output_dir).resolve()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    layout = RunLayout(output_dir, run_id)
    loaded = load(params.data, mapping=params.mapping, on_bad_rows=params.on_bad_rows)
    campaigns = params.campaign_list(loaded.campaign_ids)
    # merged metadata (simkit.metadata): a bad source fails here, before any kernel starts,
    # and the run's pivots see the same metadata as the reports
    loaded, _ = resolve_for_run(params, loaded)
    spend = _recent_spend(loaded.data, campaigns)
    ordered = order_campaigns(params, spend, campaigns)
    campaign_folders(ordered)  # two ids that would share a folder stop the run here
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
    observe.run_started(run_id, params, ordered, registry)
    outcomes: dict[str, CampaignOutcome] = {}
    lock: RunLock | None = None
    status = "failed"
    try:
        with _stop_on_signals():
            _prepare_output(output_dir)
            lock = RunLock(layout.lock_file, run_id)
            lock.acquire(wait=wait, on_wait=lambda holder: log.warning("%s", holder))
            registry.recover_dead_runs(output_dir=str(output_dir), exclude=run_id)
            _clean_dead_staging(layout)
            # a Dask worker may be another machine: its kernels log where it does
            quiet = quiet_kernels and not scheduler
            log_file = str(_log_file(base, run_id)) if quiet else None
            registry.start_run(run_id)
            result = _run(
                params,
                layout,
                base,
                loaded,
                ordered,
                hash_of_data,
                registry,
                outcomes,
                notebook=notebook,
                portfolio_notebook=portfolio_notebook,
                workers=workers,
                scheduler=scheduler,
                progress=progress,
                log_file=log_file,
            )
            batch = BatchResult(
                run_id,
                output_dir,
                result,
                tuple(outcomes[c] for c in ordered),
                time.perf_counter() - t0,
            )
            status = "succeeded" if batch.ok else "failed"
            return batch
    except (RunInterrupted, KeyboardInterrupt):
        status = "interrupted"
        # stopped while waiting for another run's lock: that run's files are not ours
        holding = lock is not None and lock.held
        _record_interrupt(params, layout, ordered, hash_of_data, registry, outcomes, holding)
        raise
    except Exception as exc:
        message = str(exc) if isinstance(exc, SimkitError) else f"{type(exc).__name__}: {exc}"
        registry.finish_run(run_id, status="failed", error=message)
        registry.abandon_campaigns(run_id, "failed", f"the run stopped: {message}")
        if isinstance(exc, SimkitError):
            raise
        raise SimkitError(f"run {run_id} failed: {message}") from exc
    finally:
        if lock is not None:
            lock.release()
        observe.run_ended(run_id, params, status, outcomes, time.perf_counter() - t0, registry.url)


def _record_interrupt(
    params: RunParams,
    layout: RunLayout,
    ordered: list[str],
    hash_of_data: str,
    registry: Registry,
    outcomes: dict[str, CampaignOutcome],
    write_files: bool,
) -> None:
    """A stopped run: keep what is published, write run.json and a plain index at once
    (no kernel; only if it holds the folder's lock), and record the run and its
    unfinished campaigns as ``interrupted``."""
    import signal

    # a second signal while recording would leave the registry half-written
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        index = None
        if write_files and layout.output_dir.is_dir():
            pivots = layout.output_dir / PIVOTS_FILE
            manifest = _manifest(
                layout.run_id,
                "interrupted",
                params,
                hash_of_data,
                pivots.name if pivots.is_file() else None,
                layout,
                ordered,
                outcomes,
            )
            for item in manifest["campaigns"]:
                if item["campaign_id"] not in outcomes and item["status"] == "succeeded":
                    registry.campaign_published(
                        layout.run_id,
                        item["campaign_id"],
                        str(layout.campaign_dir(item["campaign_id"]) / "report.html"),
                    )
            atomic_write_text(
                layout.inside(layout.output_dir / MANIFEST), json.dumps(manifest, indent=2)
            )
            index = layout.inside(layout.output_dir / "index.html")
            atomic_write_text(index, _plain_index(manifest, None))
        finished = sum(1 for c in ordered if c in outcomes)
        registry.finish_run(
            layout.run_id,
            status="interrupted",
            index_path=str(index) if index else None,
            error=f"interrupted after {finished} of {len(ordered)} campaigns finished",
        )
        registry.abandon_campaigns(layout.run_id, "interrupted", "the run was interrupted")
        if write_files:
            shutil.rmtree(layout.staging_root, ignore_errors=True)
            _remove_if_empty(layout.output_dir / STAGING)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@with_run_deadline
def _run(
    params: RunParams,
    layout: RunLayout,
    base: Path,
    loaded: Any,
    ordered: list[str],
    hash_of_data: str,
    registry: Registry,
    outcomes: dict[str, CampaignOutcome],
    *,
    notebook: str | Path | None,
    portfolio_notebook: str | Path | None,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    log_file: str | None,
) -> Path:
    from tqdm.auto import tqdm

    run_id, output_dir = layout.run_id, layout.output_dir
    jobs = [
        CampaignJob(
            campaign_id=cid,
            notebook=str(notebook or NOTEBOOKS["campaign"]),
            parameters=_notebook_params(params, base, campaigns=[cid]),
            staging_dir=str(layout.staging_dir(cid)),
            final_dir=str(layout.campaign_dir(cid)),
            cwd=str(base),
            timeout_seconds=params.timeout_seconds,
            retries=params.retries,
            rank=rank,
            root=str(output_dir),
            failed_dir=str(layout.failed_dir(cid)),
            run_id=run_id,
            log_file=log_file,
            precompute=True,
        )
        for rank, cid in enumerate(ordered)
    ]
    pivots_file: list[Path] = []

    def prepare(submit: Callable[..., Any]) -> None:  # while the workers start
        # the workers make every campaign's pivot session (its forecast and curve: most
        # of the pivots' time) in parallel while this process fits the portfolio, and it
        # takes each as it needs it; the numbers are the same as when made here
        shared = _notebook_params(params, base)
        made = {
            cid: submit(prepare_pivot_session, shared, str(base), cid)
            for cid in loaded.campaign_ids
        }
        try:
            with _logs_aside(log_file):
                payload = compute_run_pivots(
                    params, loaded, hash_of_data, session_provider=partial(_made, made)
                )
        finally:
            for future in made.values():
                future.cancel()  # sessions no pivot asked for (not started yet)
        pivots_file.append(write_run_pivots(output_dir, payload))

    portfolio = _portfolio_job(
        params, layout, base, Path(portfolio_notebook or NOTEBOOKS["portfolio"]), log_file
    )
    started: set[str] = set()
    portfolio_km: Any | None = None
    finishing: list[_Finishing] = []
    executor = EXECUTORS["dask" if scheduler else "processes"]
    summary_only = params.publish == "summary"
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    bar = tqdm(
        total=len(jobs),
        desc="campaign reports",
        unit="report",
        disable=not progress or bool(os.environ.get("TQDM_DISABLE")),
    )
    try:
        for event in executor(
            jobs,
            n_workers,
            scheduler,
            log_file=log_file,
            prepare=prepare,
            summary_only=summary_only,
        ):
            if isinstance(event, _Finishing):
                finishing.append(event)
                continue
            if isinstance(event, _Started):
                if event.campaign_id not in outcomes:  # a late notice changes nothing
                    registry.campaign_running(run_id, event.campaign_id, started_at=event.at)
                    bar.set_postfix_str(f"{event.campaign_id} running")
                started.add(event.campaign_id)
                if portfolio_km is None and len(started) == len(jobs):
                    # the last reports are running: the index's kernel boots meanwhile
                    portfolio_km = _prestart(portfolio)
                continue
            outcome = event
            outcomes[outcome.campaign_id] = outcome
            summary = layout.campaign_dir(outcome.campaign_id) / "summary.json"
            registry.campaign_done(run_id, outcome, str(summary) if outcome.summary else None)
            observe.campaign_finished(run_id, outcome, registry.url)
            if outcome.summary is not None and summary.is_file():
                # the worker kept the ledger records in summary.json, not in the outcome
                record_report(json.loads(summary.read_text()), run_id=run_id, url=registry.url)
            bar.set_postfix_str(f"{outcome.campaign_id} {outcome.status}")
            if progress:
                bar.write(_finished_line(outcome), file=sys.stderr)
            bar.update()
    except BaseException:
        close_kernel(portfolio_km)
        raise
    finally:
        bar.close()
    pivots = pivots_file[0]
    results = [outcomes[c] for c in ordered]
    with_errors = [o for o in results if o.status != "succeeded"]
    manifest = _manifest(
        run_id,
        "failed" if with_errors else "succeeded",
        params,
        hash_of_data,
        pivots.name,
        layout,
        ordered,
        outcomes,
    )
    usage = run_usage(params, [o.summary for o in results])
    if usage is not None:
        manifest["llm"] = usage
        registry.record_llm_usage(run_id, usage)
        count_llm_usage(usage)
    atomic_write_text(layout.inside(output_dir / MANIFEST), json.dumps(manifest, indent=2))
    try:
        index = _write_index(layout, manifest, portfolio, portfolio_km)
    finally:
        close_kernel(portfolio_km)
        for done in finishing:
            done.join()
    shutil.rmtree(layout.staging_root, ignore_errors=True)
    _remove_if_empty(output_dir / STAGING)
    registry.finish_run(
        run_id,
        status="failed" if with_errors else "succeeded",
        index_path=str(index),
        error="; ".join(f"{o.campaign_id}: {o.error}" for o in with_errors) or None,
    )
    return index


@contextmanager
def _logs_aside(log_file: str | None) -> Iterator[None]:
    """Send simkit's log records to the run's log file instead of the terminal while the
    engines run in this process (the pivots' forecasts warn per campaign, and the terminal
    shows only the progress bar and one line per campaign); no-op without a log file."""
    if log_file is None:
        yield
        return
    logger = logging.getLogger("simkit")
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = propagate
        logger.removeHandler(handler)
        handler.close()


def _prestart(job: CampaignJob) -> Any | None:
    """A kernel started now for ``job``, or ``None`` if it cannot start (the job then
    starts its own, and labels the failure if that fails too)."""
    try:
        return prestart_kernel(job)
    except Exception as exc:  # noqa: BLE001 - only a head start is lost
        log.info("could not start the index's kernel ahead of time: %s", exc)
        return None


def _finished_line(outcome: CampaignOutcome) -> str:
    """The one terminal line for a finished campaign."""
    if outcome.status == "succeeded":
        state = "summary written" if outcome.published == "summary" else "published"
        if outcome.campaign_state == "stopped":
            state += " (campaign stopped" + (
                f" on {outcome.last_date})" if outcome.last_date else ")"
            )
        return f"{outcome.campaign_id}: {state} in {outcome.duration_seconds:.1f} s"
    return f"{outcome.campaign_id}: failed: {outcome.error}"
