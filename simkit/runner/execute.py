"""Executing one notebook with Papermill, labelling its failures, and publishing it.

:func:`execute_job` runs in a worker process (or on a Dask worker), so it takes and returns
plain picklable dataclasses.  Papermill's sharp edges are handled here:

* parameter names are pasted into code, so only validated identifiers go in
  (:func:`~simkit.params.check_parameter_names`), and no name that looks like a secret;
* a kernel death or a cell timeout leaves no error banner in the notebook, so the
  failure is labelled here, naming the cell that was running and, for a killed kernel,
  the signal;
* absolute paths of the machine are scrubbed from the published notebook, and from a
  failed one kept for debugging (whose error outputs keep one line, not the traceback);
* the kernel's own chatter on stderr goes to the run's log file, not the terminal;
* every folder written, moved or deleted is checked to lie inside the output folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from simkit.data import load
from simkit.errors import SimkitError
from simkit.params import RunParams, check_parameter_names
from simkit.paths import ensure_inside
from simkit.report import handoff
from simkit.report.campaign import assemble_campaign_report
from simkit.report.context import load_campaign
from simkit.report.engines import compute_engines
from simkit.report.handoff import ENV_VAR
from simkit.report.pivots import pivot_engine
from simkit.report.section import without_charts
from simkit.runner.publish import (
    atomic_replace_dir,
    extract_summary,
    render_html,
    render_pdf,
    scrub_paths,
)
from simkit.runner.warmup import KERNEL_STARTUP_LINE

__all__ = [
    "CampaignJob",
    "CampaignOutcome",
    "classify_failure",
    "close_kernel",
    "execute_job",
    "flag_reasons",
    "kill_kernel",
    "prestart_kernel",
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
    #: The output folder: every write, move and delete must lie inside it.
    root: str | None = None
    #: Where a failed notebook is kept for debugging (inside ``root``).
    failed_dir: str | None = None
    #: The run this report belongs to (shown in the report and its summary.json).
    run_id: str | None = None
    #: Where the kernel's stderr goes (``None``: inherited, e.g. with ``--verbose``).
    log_file: str | None = None
    #: Run the report's engines in this worker process and hand the results to the kernel
    #: (:mod:`simkit.report.handoff`); campaign reports only.
    precompute: bool = False


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
    #: The full error (traceback) for the log and the registry, never the output folder.
    detail: str | None = field(default=None, repr=False)
    #: Seconds spent in each stage of the last attempt (engines in the worker, the
    #: notebook, HTML render, publish), for run.json and the speed bench.
    timings: dict[str, float] = field(default_factory=dict)
    #: What was published: ``report`` (report.html, the notebook and summary.json) or
    #: ``summary`` (summary.json alone: ``publish: summary``, or ``flagged`` unflagged).
    published: str | None = None
    #: With ``publish: flagged``: why the campaign was flagged (empty: it was not).
    flags: tuple[str, ...] = ()

    @property
    def campaign_state(self) -> str:
        """``stopped`` when the report says the campaign stopped before the data's last
        day (``summary.json``'s ``campaign_state``), else ``active``."""
        state = (self.summary or {}).get("campaign_state")
        return "stopped" if state == "stopped" else "active"

    @property
    def last_date(self) -> str | None:
        """A stopped campaign's last day, if the report gives it."""
        value = (self.summary or {}).get("campaign_last_date")
        return str(value) if value is not None and self.campaign_state == "stopped" else None

    @property
    def duration_seconds(self) -> float:
        return self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_seconds"] = self.duration_seconds
        d["campaign_state"] = self.campaign_state
        d["last_date"] = self.last_date
        d.pop("summary")
        d.pop("detail")
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


def _kernel_death(returncode: int | None, where: str) -> str:
    """A readable sentence for a kernel that died with ``returncode`` (Popen's)."""
    if returncode is not None and returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "an unknown signal"
        oom = "; out of memory?" if number == signal.SIGKILL else ""
        return f"the kernel was killed{where} (signal {number}, {name}{oom})"
    if returncode:
        return f"the kernel stopped unexpectedly{where} (it exited with status {returncode})"
    return f"the kernel died{where} (killed or crashed; out of memory?)"


def classify_failure(
    exc: BaseException,
    *,
    timeout_seconds: int,
    partial: Path | None = None,
    kernel_returncode: int | None = None,
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
        evalue = _one_line(str(exc.evalue))
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
            f"{_kernel_death(kernel_returncode, where)}; no report was published",
            True,
        )
    if isinstance(exc, SimkitError):
        return "error", _one_line(str(exc)), False
    if isinstance(exc, RuntimeError | TimeoutError | ConnectionError):
        return (
            "kernel_start",
            _one_line(f"the kernel could not run: {type(exc).__name__}: {exc}"),
            True,
        )
    return "error", _one_line(f"{type(exc).__name__}: {exc}"), False


def _stamp_run_id(page: str, run_id: str | None) -> str:
    """The run id in a published page: a ``<meta>`` tag and one visible line at the end."""
    if not run_id:
        return page
    import html as html_module

    rid = html_module.escape(run_id)
    page = page.replace("<head>", f'<head>\n<meta name="simkit-run-id" content="{rid}">', 1)
    footer = f'<p class="simkit-run-id" style="color:#666;font-size:small">simkit run {rid}</p>\n'
    at = page.rfind("</body>")
    return page[:at] + footer + page[at:] if at >= 0 else page + footer


def _publish(
    job: CampaignJob, executed: Path, timings: dict[str, float]
) -> tuple[str, dict[str, Any] | None]:
    import nbformat

    t0 = time.perf_counter()
    staging = Path(job.staging_dir)
    nb = nbformat.read(executed, as_version=4)
    summary = extract_summary(nb)
    if summary is not None and job.run_id:
        summary = {**summary, "run_id": job.run_id}
    scrub_paths(nb, [job.cwd, job.staging_dir, job.final_dir, *job.scrub_roots])
    nbformat.write(nb, executed)
    t1 = time.perf_counter()
    page = _stamp_run_id(render_html(nb), job.run_id)
    t2 = time.perf_counter()
    (staging / job.html_name).write_text(page, encoding="utf-8")
    if job.parameters.get("pdf") and job.html_name == "report.html":
        (staging / "report.pdf").write_bytes(render_pdf(nb))
    if summary is not None:
        (staging / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    final = _checked(job, Path(job.final_dir))
    # a stop request must not cut the swap of the old report for the new one in half
    _exit_state["publishing"] = True
    try:
        atomic_replace_dir(staging, final)
    finally:
        _exit_state["publishing"] = False
    if _exit_state["requested"]:
        kill_kernel()
        os._exit(128 + signal.SIGTERM)
    timings["render_html"] = t2 - t1
    timings["publish"] = (t1 - t0) + (time.perf_counter() - t2)
    return str(final / job.html_name), summary


_exit_state = {"publishing": False, "requested": False}


def publishing() -> bool:
    """Whether this process is moving a finished report into place right now."""
    return _exit_state["publishing"]


def request_exit() -> None:
    """Exit as soon as the report being moved into place is in place."""
    _exit_state["requested"] = True


def _checked(job: CampaignJob, path: Path) -> Path:
    """``path``, after checking that it lies inside the job's output folder."""
    if job.root is not None:
        ensure_inside(job.root, path)
    return path


def _one_line(text: str) -> str:
    return " ".join(_ANSI.sub("", text).split())


def _keep_failed(job: CampaignJob, staging: Path) -> None:
    """Keep a failed notebook for debugging, with no machine path and no traceback.

    Error outputs keep their one-line ``ename: evalue``; the traceback is in the log and
    the registry (:attr:`CampaignOutcome.detail`).  Partial HTML is never kept.
    """
    import nbformat

    # never the whole .failed folder: only this campaign's place in it
    fallback = Path(job.final_dir).parent / ".failed" / Path(job.final_dir).name
    failed_dir = _checked(job, Path(job.failed_dir) if job.failed_dir else fallback)
    shutil.rmtree(failed_dir, ignore_errors=True)
    if not staging.exists():
        return
    executed = staging / "report.ipynb"
    nb = None
    if executed.is_file():
        try:
            nb = nbformat.read(executed, as_version=4)
        except (OSError, ValueError):
            nb = None
    failed_dir.mkdir(parents=True, exist_ok=True)
    if nb is not None:
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [
                        _one_line(f"{output.get('ename', '')}: {output.get('evalue', '')}")
                    ]
        scrub_paths(nb, [job.cwd, job.staging_dir, job.final_dir, *job.scrub_roots])
        nbformat.write(nb, failed_dir / "report.ipynb")
    shutil.rmtree(_checked(job, staging), ignore_errors=True)


#: The kernel process of the job this process is running (one job at a time per process):
#: read for a killed kernel's signal, and killed with the worker on shutdown.
_kernel: dict[str, subprocess.Popen[bytes] | None] = {"process": None}


def _kernel_manager_class(log_file: str | None) -> type:
    """A kernel manager whose kernels write stdout/stderr to ``log_file`` (or inherit)."""
    from jupyter_client.manager import AsyncKernelManager

    class _QuietKernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if log_file is not None:
                sink = open(log_file, "ab")  # noqa: SIM115 - the kernel process holds it
                kw["stdout"] = kw["stderr"] = sink
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                if log_file is not None:
                    sink.close()  # the child has its own copy of the descriptor
            _kernel["process"] = getattr(self.provisioner, "process", None)

        def client(self, **kw: Any) -> Any:
            # a kernel started here is not nbclient's to clean up: its clients are
            # closed by _close_kernel
            kc = super().client(**kw)
            self.__dict__.setdefault("_simkit_clients", []).append(kc)
            return kc

    return _QuietKernelManager


def _start_kernel(manager: type, job: CampaignJob, env: dict[str, str]) -> Any:
    """A kernel started now for ``job`` (cwd, environment plus ``env``), which imports
    simkit and starts the chart renderer at start-up (:func:`simkit.runner.warmup.warm_kernel`);
    handed to Papermill as ``km``."""
    from jupyter_core.utils import run_sync

    km = manager(kernel_name=job.kernel_name)
    run_sync(km.start_kernel)(
        cwd=job.cwd,
        env={**os.environ, **env},
        extra_arguments=[
            # as nbclient would: no history file written by report kernels
            "--HistoryManager.hist_file=:memory:",
            f"--IPKernelApp.exec_lines={KERNEL_STARTUP_LINE}",
        ],
    )
    return km


def _close_kernel(km: Any | None) -> None:
    """Kill a kernel started by :func:`_start_kernel` (no graceful shutdown: its outputs
    are in), reap it, close its clients' channels and remove its connection file."""
    process = _kernel["process"]
    kill_kernel()
    if process is not None:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.info("kernel %s did not exit within 5 s of SIGKILL", process.pid)
    if km is None:
        return
    from jupyter_core.utils import run_sync

    for kc in km.__dict__.pop("_simkit_clients", []):
        try:
            kc.stop_channels()
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the job's outcome
            log.info("could not close a kernel client: %s", exc)
    try:
        run_sync(km.cleanup_resources)()
    except Exception as exc:  # noqa: BLE001
        log.info("could not clean up the kernel's resources: %s", exc)


def _precompute(job: CampaignJob, path: Path) -> bool:
    """Run the report's engines for ``job``'s campaign in this process and write them to
    ``path`` for the kernel (:mod:`simkit.report.handoff`).

    Any failure leaves no file: the kernel then computes the engines itself and the
    failure is labelled there, with its code cell, exactly as without a hand-off.
    """
    import warnings

    try:
        with (
            _time_limit(job.timeout_seconds),
            contextlib.chdir(job.cwd),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # as in the kernel: warnings are not the report's
            params = RunParams(**job.parameters)
            ctx = load_campaign(params, loaded=_load_once(params))
            handoff.save(path, ctx, compute_engines(ctx))
    except (Exception, _TimeLimit) as exc:  # noqa: BLE001 - the kernel computes and labels it
        log.info("campaign %s: engines not computed in the worker (%s)", job.campaign_id, exc)
        path.unlink(missing_ok=True)  # a half-written file is no hand-off
        return False
    return True


class _TimeLimit(BaseException):
    """The engines ran longer than a cell may (see :func:`_time_limit`).

    A ``BaseException``, so that no ``except Exception`` on the way (a forecast member's
    fallback, for one) can take it for a member's failure and carry on past the limit."""


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Raise :class:`_TimeLimit` after ``seconds`` (main thread only, else no limit): the
    worker's engines get no more time than the notebook's cell would."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _TimeLimit(f"the engines ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def kill_kernel() -> None:
    """Kill this process's running kernel and its children (it leads its own session)."""
    process = _kernel["process"]
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except ProcessLookupError:
            pass


def _kernel_returncode(exc: BaseException) -> int | None:
    """The dead kernel's exit status (negative: the signal), read only for a kernel death."""
    from nbclient.exceptions import DeadKernelError

    process = _kernel["process"]
    if process is None or not isinstance(exc, DeadKernelError):
        return None
    try:
        return process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        return None


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


def prestart_kernel(job: CampaignJob) -> Any:
    """A kernel for ``job``, started now so that it is warm when the job runs
    (:func:`execute_job`'s ``km``); close it with :func:`close_kernel` if the job never
    runs."""
    return _start_kernel(_kernel_manager_class(job.log_file), job, {})


def close_kernel(km: Any | None) -> None:
    """Kill a kernel from :func:`prestart_kernel` and release its resources."""
    _close_kernel(km)


def execute_job(
    job: CampaignJob,
    on_start: Callable[[str, float], None] | None = None,
    *,
    km: Any | None = None,
) -> CampaignOutcome:
    """Execute, label and publish one notebook; never raises for a notebook's failure.

    ``on_start(campaign_id, started_at)`` (default: the hook of :func:`set_start_hook`)
    is told when the job starts, so the run registry can mark the campaign running.
    ``km``: a kernel already started for this job (:func:`prestart_kernel`), used by the
    first attempt and closed with the job; otherwise each attempt starts its own.
    """
    started = time.time()
    _notify_start(on_start or _start_hook, job, started)
    check_parameter_names(list(job.parameters))
    staging = _checked(job, Path(job.staging_dir))
    executed = staging / "report.ipynb"
    publish = job.parameters.get("publish", "all") if job.precompute else "all"
    with tempfile.TemporaryDirectory(prefix="simkit-handoff-") as private:
        handoff_file = Path(private) / "engines.pickle"
        flags: tuple[str, ...] = ()
        if publish != "all":
            done, flags = _summary_first(job, started, staging, handoff_file, publish)
            if done is not None:
                _close_kernel(km)
                return done
        return _attempts(job, started, staging, executed, handoff_file, km, flags)


def flag_reasons(summary: dict[str, Any], threshold: float, pivot_gain: float) -> tuple[str, ...]:
    """Why a campaign's summary flags it for a full report (``publish: flagged``): each
    risk alert whose probability reaches ``threshold``, and the best pivot when its
    median gain in conversions is at least ``pivot_gain`` times the campaign's forecast
    conversions (p50) and its expected score is positive."""
    numbers = summary.get("numbers") or {}
    alerts = (numbers.get("risks") or {}).get("alerts") or {}
    reasons = [
        f"risk {name}: p = {p:.2f}"
        for name, p in sorted(alerts.items(), key=lambda kv: -(kv[1] or 0.0))
        if p is not None and p >= threshold
    ]
    recs = (numbers.get("pivots") or {}).get("recommendations") or []
    totals = (numbers.get("forecast") or {}).get("totals") or {}
    forecast = (totals.get("conversions") or {}).get("p50")
    if recs and forecast:
        best = recs[0]
        gain = ((best.get("impact") or {}).get("conversions") or {}).get("p50")
        if (best.get("score") or 0) > 0 and gain is not None and gain >= pivot_gain * forecast:
            reasons.append(
                f"pivot {best.get('type')}: +{gain:.0f} conversions ({gain / forecast:.0%} of "
                "the forecast)"
            )
    return tuple(reasons)


#: The data file this worker process loaded last, by what it depends on (see
#: :func:`_load_once`): one entry, so a worker holds one data set at a time.
_loaded: dict[tuple[Any, ...], Any] = {}


def _load_once(params: RunParams) -> Any:
    """``simkit.data.load`` of the job's data, read once per worker process for all the
    campaigns it serves (a 1,000-campaign file takes seconds to read and validate), and
    read again when the file, its mapping, the bad-rows rule or the day changes."""
    from datetime import date

    def stamp(path: str | None) -> tuple[Any, ...]:
        if path is None:
            return (None,)
        st = Path(path).stat()
        return (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)

    key = (stamp(params.data), stamp(params.mapping), params.on_bad_rows, date.today())
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = load(params.data, mapping=params.mapping, on_bad_rows=params.on_bad_rows)
    return _loaded[key]


#: The pivot engine this worker process made sessions with last (see
#: :func:`prepare_pivot_session`): one entry, by the data it was made from and its settings.
_pivot_engines: dict[tuple[Any, ...], Any] = {}


def prepare_pivot_session(parameters: dict[str, Any], cwd: str, campaign_id: str) -> Any | None:
    """In a batch's worker: campaign ``campaign_id``'s what-if session for the run's pivots
    (:func:`simkit.report.pivots.pivot_engine`), made here so that the parent, which
    computes the portfolio's pivots once per run, does not prepare every campaign's
    session (a forecast and a response curve) alone while the workers wait.  ``None`` when
    it cannot be made: the parent then makes it itself, and meets the real error."""
    import warnings

    try:
        with contextlib.chdir(cwd), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # as in the parent's pivots
            params = RunParams(**parameters)
            loaded = _load_once(params)
            # the entry holds ``loaded`` itself, so its id names no other data meanwhile
            key = (id(loaded), params.seed, params.horizon_days)
            if key not in _pivot_engines:
                _pivot_engines.clear()
                _pivot_engines[key] = (loaded, pivot_engine(params, loaded))
            return _pivot_engines[key][1].make_session(str(campaign_id))
    except Exception as exc:  # noqa: BLE001 - the parent makes it again and reports it
        log.debug("pivot session of %s not made here: %s: %s", campaign_id, type(exc).__name__, exc)
        return None


def _summary_first(
    job: CampaignJob, started: float, staging: Path, handoff_file: Path, publish: str
) -> tuple[CampaignOutcome | None, tuple[str, ...]]:
    """The summary-only path: the engines and the report's sections in this process, no
    kernel.  Returns the outcome when the job is done (failed, or ``summary.json``
    published); ``None`` and the flags when a flagged campaign goes on to its full report,
    whose kernel takes the results handed over in ``handoff_file``."""
    import warnings

    t0 = time.perf_counter()
    try:
        with (
            _time_limit(job.timeout_seconds),
            contextlib.chdir(job.cwd),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # as in the kernel: warnings are not the report's
            params = RunParams(**job.parameters)
            ctx = load_campaign(params, loaded=_load_once(params))
            results = compute_engines(ctx)
            with without_charts():  # summary.json holds none; a flagged report redraws them
                summary = assemble_campaign_report(ctx, results).summary
            # as the notebook hands it over: plain JSON
            summary = json.loads(json.dumps(summary))
    except (Exception, _TimeLimit) as exc:  # noqa: BLE001 - every failure is labelled
        if isinstance(exc, _TimeLimit):
            kind = "timeout"
            message = f"timed out: the engines ran longer than the {job.timeout_seconds} s limit"
        else:
            kind, message, _ = classify_failure(exc, timeout_seconds=job.timeout_seconds)
        detail = _detail(exc)
        log.warning("campaign %s failed: %s", job.campaign_id, message)
        log.info("campaign %s: %s", job.campaign_id, detail)
        return (
            CampaignOutcome(
                job.campaign_id,
                "failed",
                1,
                started,
                time.time(),
                error=message,
                kind=kind,
                detail=detail,
                timings={"engines_in_worker": time.perf_counter() - t0},
            ),
            (),
        )
    timings = {"engines_in_worker": time.perf_counter() - t0}
    flags = flag_reasons(
        summary,
        float(job.parameters.get("flag_threshold", 0.5)),
        float(job.parameters.get("flag_pivot_gain", 0.25)),
    )
    if publish == "flagged" and flags:
        handoff.save(handoff_file, ctx, results)
        return None, flags
    t1 = time.perf_counter()
    if job.run_id:
        summary = {**summary, "run_id": job.run_id}
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    final = _checked(job, Path(job.final_dir))
    _exit_state["publishing"] = True
    try:
        atomic_replace_dir(staging, final)
    finally:
        _exit_state["publishing"] = False
    if _exit_state["requested"]:
        os._exit(128 + signal.SIGTERM)
    timings["publish"] = time.perf_counter() - t1
    outcome = CampaignOutcome(
        job.campaign_id,
        "succeeded",
        1,
        started,
        time.time(),
        summary=summary,
        timings=timings,
        published="summary",
        flags=flags,
    )
    return outcome, flags


def _attempts(
    job: CampaignJob,
    started: float,
    staging: Path,
    executed: Path,
    handoff_file: Path,
    ready: Any | None,
    flags: tuple[str, ...] = (),
) -> CampaignOutcome:
    import papermill as pm

    manager = _kernel_manager_class(job.log_file)
    env = {ENV_VAR: str(handoff_file)} if job.precompute else {}
    attempts, kind, message, detail = 0, None, None, None
    timings: dict[str, float] = {}
    while attempts <= job.retries:
        attempts += 1
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        km, ready = ready, None
        if km is None:
            _kernel["process"] = None
        timings = {}
        try:
            t0 = time.perf_counter()
            # the kernel starts and imports simkit while this process fits the engines
            km = km or _start_kernel(manager, job, env)
            if job.precompute and not handoff_file.exists():
                _precompute(job, handoff_file)
                timings["engines_in_worker"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            pm.execute_notebook(
                job.notebook,
                str(executed),
                parameters=job.parameters,
                kernel_name=job.kernel_name,
                cwd=job.cwd,
                progress_bar=False,
                log_output=False,
                execution_timeout=job.timeout_seconds,
                km=km,
            )
            timings["notebook"] = time.perf_counter() - t1
            _close_kernel(km)
            km = None
            report, summary = _publish(job, executed, timings)
            return CampaignOutcome(
                job.campaign_id,
                "succeeded",
                attempts,
                started,
                time.time(),
                report_path=report,
                summary=summary,
                timings=timings,
                published="report",
                flags=flags,
            )
        except Exception as exc:  # noqa: BLE001 - every failure is labelled, never lost
            kind, message, transient = classify_failure(
                exc,
                timeout_seconds=job.timeout_seconds,
                partial=executed,
                kernel_returncode=_kernel_returncode(exc),
            )
            detail = _detail(exc)
            log.warning("campaign %s attempt %d failed: %s", job.campaign_id, attempts, message)
            log.info("campaign %s: %s", job.campaign_id, detail)
            if not transient:
                break
        finally:
            _close_kernel(km)
    if attempts > 1:
        message = f"{message} (after {attempts} attempts)"
    _keep_failed(job, staging)
    return CampaignOutcome(
        job.campaign_id,
        "failed",
        attempts,
        started,
        time.time(),
        error=message,
        kind=kind,
        detail=detail,
        timings=timings,
    )


def _detail(exc: BaseException) -> str:
    """The full error: a cell's traceback (ANSI colours removed), else Python's."""
    import traceback

    lines = getattr(exc, "traceback", None)
    if isinstance(lines, list) and lines:
        return _ANSI.sub("", "\n".join(str(line) for line in lines))
    return "".join(traceback.format_exception(exc)).rstrip()
