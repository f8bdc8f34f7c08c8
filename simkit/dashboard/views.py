"""The campaigns view, the runs view and the new-run form, over the run registry.

The logic (:func:`campaign_rows`, :func:`run_rows`, :func:`campaign_history`,
:func:`form_params`, :func:`write_params`, :func:`start_run`, :func:`retry_params`) is plain
functions, tested without widgets; :func:`run_tabs` builds the three tabs around them.

A run is started exactly as from a shell: the form's values are validated by
:class:`~simkit.params.RunParams` (the model of ``params/*.yaml``), written to a YAML file
under ``<workdir>/params/dashboard/``, and ``simkit run FILE`` is started in the background
(:class:`subprocess.Popen`, its own session, output to a log file), so the dashboard never
waits for it.  The registry then shows its progress.
"""

from __future__ import annotations

import html
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from simkit.dashboard import guard
from simkit.dashboard.llm import model_scenarios_html
from simkit.dashboard.messages import short_error
from simkit.errors import ParamsError, SimkitError
from simkit.forecast import MEMBERS
from simkit.params import RunParams, validate_params
from simkit.registry import Registry
from simkit.risk import detect_risks

__all__ = [
    "CampaignRow",
    "RunRow",
    "campaign_history",
    "campaign_rows",
    "form_params",
    "retry_params",
    "run_rows",
    "run_tabs",
    "start_run",
    "write_params",
]

log = logging.getLogger(__name__)

_RUN_LIMIT = 20
_FORM_MAX_HORIZON = 90
_FORM_MAX_PATHS = 20_000
_PARAMS_SUBDIR = Path("params") / "dashboard"
_LOG_SUBDIR = Path(".simkit-cache") / "dashboard-runs"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RunRow:
    """One run in the runs view."""

    run_id: str
    status: str
    created_at: str
    n_campaigns: int
    done: int
    failed: tuple[str, ...]
    progress: float
    eta_seconds: float | None
    error: str | None
    errors: dict[str, str]
    output_dir: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def run_rows(
    registry: Any, *, limit: int = _RUN_LIMIT, now: datetime | None = None
) -> list[RunRow]:
    """Recent runs with progress, an ETA for running ones and the errors of failed ones.

    The ETA extrapolates the run's own pace: elapsed time per finished campaign times the
    campaigns left (so it accounts for however many workers the run has).
    """
    now = now or datetime.now(UTC)
    out = []
    for summary in registry.list_runs(limit):
        run = registry.get_run(summary["run_id"])
        campaigns = run["campaigns"]
        n = int(run.get("n_campaigns") or len(campaigns))
        finished = [c for c in campaigns if c["status"] in ("succeeded", "failed")]
        failed = tuple(c["campaign_id"] for c in campaigns if c["status"] == "failed")
        errors = {
            c["campaign_id"]: c["error"]
            for c in campaigns
            if c["status"] == "failed" and c.get("error")
        }
        eta = None
        started = _parse_time(run.get("started_at"))
        if run["status"] == "running" and started is not None and finished:
            elapsed = (now - started).total_seconds()
            eta = max(elapsed / len(finished) * (n - len(finished)), 0.0)
        out.append(
            RunRow(
                run_id=run["run_id"],
                status=run["status"],
                created_at=run["created_at"],
                n_campaigns=n,
                done=len(finished),
                failed=failed,
                progress=len(finished) / n if n else 1.0,
                eta_seconds=eta,
                error=run.get("error"),
                errors=errors,
                output_dir=run["output_dir"],
            )
        )
    return out


@dataclass(frozen=True)
class CampaignRow:
    """One campaign in the campaigns view."""

    campaign_id: str
    label: str
    last_date: str
    latest_run: dict[str, Any] | None
    risk: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def campaign_history(registry: Any, campaign_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Every recorded run of a campaign, newest first (run id, status, times, error)."""
    out = []
    for summary in registry.list_runs(limit):
        run = registry.get_run(summary["run_id"])
        for c in run["campaigns"]:
            if c["campaign_id"] == campaign_id:
                out.append(
                    {
                        "run_id": run["run_id"],
                        "created_at": run["created_at"],
                        "status": c["status"],
                        "attempts": c["attempts"],
                        "duration_seconds": c["duration_seconds"],
                        "report_path": c["report_path"],
                        "error": c["error"],
                    }
                )
    return out


def campaign_rows(model: Any, registry: Any | None, risks: Any | None) -> list[CampaignRow]:
    """Every campaign of the data with its latest run and its most probable risk."""
    latest: dict[str, dict[str, Any]] = {}
    if registry is not None:
        for summary in registry.list_runs(_RUN_LIMIT):  # newest first
            run = registry.get_run(summary["run_id"])
            for c in run["campaigns"]:
                latest.setdefault(
                    c["campaign_id"],
                    {
                        "run_id": run["run_id"],
                        "created_at": run["created_at"],
                        "status": c["status"],
                        "report_path": c["report_path"],
                        "summary_path": c.get("summary_path"),
                        "error": c["error"],
                    },
                )
    top: dict[str, dict[str, Any]] = {}
    for alert in risks.alerts if risks is not None else ():  # most probable first
        top.setdefault(
            str(alert.campaign_id),
            {
                "type": alert.type,
                "probability": float(alert.probability),
                "severity": alert.severity,
                "message": alert.message,
            },
        )
    return [
        CampaignRow(
            c.campaign_id,
            c.label,
            c.last_date.date().isoformat(),
            latest.get(c.campaign_id),
            top.get(c.campaign_id),
        )
        for c in model.campaigns()
    ]


# --- the new-run form -------------------------------------------------------------------------


def form_params(
    values: dict[str, Any], *, data: str, mapping: str | None, available: list[str], workdir: Path
) -> RunParams:
    """Validate the form's (untrusted) values with the model of ``params/*.yaml``.

    The data file is the dashboard's own (not a form field); the plan file and output
    folder must stay inside ``workdir``; horizon and paths are capped.
    """
    raw = dict(values)
    raw["data"], raw["mapping"] = data, mapping
    campaigns = raw.get("campaigns")
    if not campaigns:
        raise ParamsError("pick at least one campaign", field="campaigns")
    if isinstance(campaigns, list | tuple):
        raw["campaigns"] = [str(c) for c in campaigns]
        unknown = [c for c in raw["campaigns"] if c not in available]
        if unknown:
            raise ParamsError(f"not in the data: {', '.join(unknown[:5])}", field="campaigns")
    if int(raw.get("horizon_days", 30)) > _FORM_MAX_HORIZON:
        raise ParamsError(
            f"at most {_FORM_MAX_HORIZON} days from the dashboard", field="horizon_days"
        )
    if int(raw.get("n_paths", 2000)) > _FORM_MAX_PATHS:
        raise ParamsError(f"at most {_FORM_MAX_PATHS:,} paths from the dashboard", field="n_paths")
    for name in ("target_cpa", "target_roas"):
        if raw.get(name) in (0, 0.0, "", None):
            raw[name] = None
    root = workdir.resolve()
    for name in ("plan", "output_dir"):
        value = raw.get(name)
        if value in ("", None):
            raw.pop(name, None)
            continue
        path = (root / str(value)).resolve()
        if root != path and root not in path.parents:
            raise ParamsError("must be a path inside the working folder", field=name)
        if name == "plan" and not path.is_file():
            raise ParamsError("plan file not found", field="plan")
        raw[name] = str(path)
    return validate_params(raw, file="the new-run form")


def write_params(params: RunParams, workdir: Path, *, stem: str = "run") -> Path:
    """Write validated parameters to ``<workdir>/params/dashboard/<stem>-<time>.yaml``."""
    folder = workdir / _PARAMS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stem}-{stamp}.yaml"
    header = "# written by the simkit dashboard's new-run form; keys: simkit.RunParams\n"
    path.write_text(header + yaml.safe_dump(params.to_dict(), sort_keys=False))
    return path


def start_run(
    params_file: Path, workdir: Path, *, registry_url: str | None = None
) -> subprocess.Popen[bytes]:
    """Start ``simkit run PARAMS`` in the background (never waited for here)."""
    log_dir = workdir / _LOG_SUBDIR
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if registry_url:
        env["SIMKIT_REGISTRY_URL"] = registry_url
    with (log_dir / f"{params_file.stem}.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "simkit.cli", "run", str(params_file), "--format", "json"],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def retry_params(run: dict[str, Any]) -> RunParams:
    """The parameters of a recorded run, restricted to its failed campaigns."""
    failed = [c["campaign_id"] for c in run["campaigns"] if c["status"] == "failed"]
    if not failed:
        raise SimkitError(f"run {run['run_id']} has no failed campaign to retry")
    raw = dict(run["params"])
    raw["campaigns"] = failed
    raw["priority"] = "listed"
    return validate_params(raw, file=f"run {run['run_id']}")


# --- widgets ------------------------------------------------------------------------------------


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class RunViews:
    """The campaigns, runs and new-run tabs (built by :func:`run_tabs`)."""

    def __init__(self, model: Any, *, workdir: Path, run_id: str | None = None) -> None:
        import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

        self.model = model
        self.workdir = workdir
        self.run_id = run_id
        self._app: Any = None
        # the registry `simkit run` uses when started in workdir (unless the URL is set)
        self.registry = Registry(
            None
            if os.environ.get("SIMKIT_REGISTRY_URL")
            else f"sqlite:///{workdir / '.simkit-cache' / 'registry.sqlite'}"
        )
        self.processes: list[subprocess.Popen[bytes]] = []
        self._risks: Any = None

        self.campaign_grid = w.VBox()
        self.campaign_grid.add_class("simkit-campaigns")
        self.history = w.HTML()
        self.campaign_refresh = w.Button(description="Refresh")
        self.campaign_refresh.on_click(self._guard("Loading the campaigns", self.show_campaigns))
        self.campaigns_tab = w.VBox([self.campaign_refresh, self.campaign_grid, self.history])

        self.runs_box = w.VBox()
        self.runs_box.add_class("simkit-runs")
        self.runs_refresh = w.Button(description="Refresh")
        self.runs_refresh.on_click(self._guard("Loading the runs", self.show_runs))
        self.runs_tab = w.VBox([self.runs_refresh, self.runs_box])

        ids = model.campaign_ids()
        defaults = RunParams.model_fields
        self.f_campaigns = w.SelectMultiple(
            options=ids, value=tuple(ids[:1]), description="Campaigns", rows=min(len(ids), 8)
        )
        self.f_horizon = w.BoundedIntText(
            value=defaults["horizon_days"].default,
            min=1,
            max=_FORM_MAX_HORIZON,
            description="Horizon (days)",
        )
        self.f_members = w.SelectMultiple(
            options=list(MEMBERS),
            value=tuple(defaults["members"].default_factory()),
            description="Forecast members",
            rows=5,
        )
        self.f_plan = w.Text(
            value="", description="Plan CSV", placeholder="optional, inside the working folder"
        )
        self.f_cpa = w.BoundedFloatText(value=0.0, min=0.0, max=1e9, description="Target CPA")
        self.f_roas = w.BoundedFloatText(value=0.0, min=0.0, max=1e6, description="Target ROAS")
        self.f_paths = w.BoundedIntText(
            value=defaults["n_paths"].default, min=100, max=_FORM_MAX_PATHS, description="Paths"
        )
        self.f_seed = w.BoundedIntText(
            value=defaults["seed"].default, min=0, max=2**31 - 1, description="Seed"
        )
        self.f_output = w.Text(value="reports/dashboard", description="Output folder")
        self.f_start = w.Button(description="Start run", button_style="primary")
        self.f_start.add_class("simkit-start-run")
        self.f_start.on_click(self._guard("Starting the run", self.submit))
        self.f_message = w.HTML()
        form_note = w.HTML(
            "<div class='simkit-note'>Validated by the same model as params/*.yaml "
            "(simkit.RunParams); the run uses this dashboard's data file. The model has no "
            "fields for metrics, scenarios or external data sources yet, so the form has "
            "none either.</div>"
        )
        self.form_tab = w.VBox(
            [
                self.f_campaigns,
                self.f_horizon,
                self.f_members,
                self.f_plan,
                self.f_cpa,
                self.f_roas,
                self.f_paths,
                self.f_seed,
                self.f_output,
                self.f_start,
                self.f_message,
                form_note,
            ]
        )

    @property
    def tabs(self) -> list[tuple[str, Any]]:
        return [
            ("Campaigns", self.campaigns_tab),
            ("Runs", self.runs_tab),
            ("New run", self.form_tab),
        ]

    def attach(self, app: Any, first_index: int = 1) -> None:
        """Link to the dashboard (status line, what-if tab); load a tab when it is shown."""
        self._app = app
        loaders = {first_index: self.campaign_refresh, first_index + 1: self.runs_refresh}

        def on_tab(change: dict[str, Any]) -> None:
            button = loaders.get(change["new"])
            if button is not None:
                button.click()

        app.tabs.observe(on_tab, "selected_index")

    def _guard(self, action: str, fn: Any) -> Any:
        def handler(*_args: Any) -> None:
            try:
                fn()
            except Exception as exc:  # the UI boundary: short messages only
                log.warning("%s failed", action, exc_info=not isinstance(exc, SimkitError))
                self._message(short_error(exc, action), error=True)

        return handler

    def _message(self, text: str, *, error: bool = False) -> None:
        if self._app is not None:
            (self._app.show_error if error else self._app.show_status)(text)
        css = "simkit-error" if error else "simkit-ok"
        self.f_message.value = f"<div class='{css}'>{html.escape(text)}</div>"

    # -- campaigns ---------------------------------------------------------------------------

    def show_campaigns(self) -> None:
        import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

        if self._risks is None:
            meta = self.model.campaign_meta if not self.model.campaign_meta.empty else None
            self._risks = detect_risks(self.model.data, meta)
        rows = campaign_rows(self.model, self.registry, self._risks)
        header = w.HTML(
            "<table class='simkit-table'><tr><th>campaign</th><th>last day</th>"
            "<th>latest run</th><th>headline risk</th></tr></table>"
        )
        children: list[Any] = [header]
        for row in rows:
            run = row.latest_run
            run_text = (
                f"{html.escape(run['status'])} ({html.escape(run['run_id'][:22])})"
                if run
                else "no run yet"
            )
            risk = row.risk
            risk_text = (
                f"{html.escape(risk['type'].replace('_', ' '))} "
                f"{risk['probability']:.0%} ({html.escape(risk['severity'])})"
                if risk
                else "none above 50%"
            )
            cell = w.HTML(
                f"<b>{html.escape(row.label)}</b> · last day {row.last_date} · "
                f"latest run: {run_text} · risk: {risk_text}",
                layout=w.Layout(width="640px"),
            )
            simulate = w.Button(description="Simulate")
            simulate.add_class("simkit-simulate")
            simulate.on_click(
                self._guard("Simulating the campaign", lambda c=row.campaign_id: self._simulate(c))
            )
            history = w.Button(description="History")
            history.on_click(
                self._guard("Loading the history", lambda c=row.campaign_id: self.show_history(c))
            )
            children.append(w.HBox([cell, simulate, history]))
            if run and (llm := model_scenarios_html(run.get("summary_path"))):
                children.append(w.HTML(llm, layout=w.Layout(width="900px")))
        self.campaign_grid.children = tuple(children)

    def _simulate(self, campaign_id: str) -> None:
        if self._app is not None:
            self._app.select_campaign(campaign_id)

    def show_history(self, campaign_id: str) -> None:
        campaign_id = self.model.check_campaign(campaign_id)
        rows = campaign_history(self.registry, campaign_id)
        lines = []
        for r in rows:
            seconds = r["duration_seconds"]
            took = "-" if seconds is None else f"{seconds:.1f} s"
            lines.append(
                f"<tr><td>{html.escape(r['run_id'])}</td>"
                f"<td>{html.escape(r['created_at'][:19])}</td><td>{html.escape(r['status'])}"
                f"</td><td>{r['attempts']}</td><td>{took}</td>"
                f"<td>{html.escape(r['error'] or '')}</td></tr>"
            )
        body = "".join(lines) or "<tr><td colspan='6'>no run recorded yet</td></tr>"
        self.history.value = (
            f"<b>Runs of {html.escape(campaign_id)}</b><table class='simkit-table'><tr>"
            "<th>run</th><th>created</th><th>status</th><th>attempts</th><th>time</th>"
            f"<th>error</th></tr>{body}</table>"
        )

    # -- runs --------------------------------------------------------------------------------

    def show_runs(self) -> None:
        import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

        self.processes = [p for p in self.processes if p.poll() is None]  # reap finished
        rows = run_rows(self.registry)
        children: list[Any] = []
        if not rows:
            children.append(w.HTML("<i>No run recorded yet.</i>"))
        for row in rows:
            text = (
                f"<b>{html.escape(row.run_id)}</b> · {html.escape(row.status)} · created "
                f"{html.escape(row.created_at[:19])} · {row.done}/{row.n_campaigns} "
                f"campaigns done"
            )
            if row.status == "running":
                text += f" · ETA {_fmt_eta(row.eta_seconds)}"
            if row.error:
                text += f"<div class='simkit-error'>{html.escape(row.error[:300])}</div>"
            for cid, err in row.errors.items():
                text += (
                    f"<div class='simkit-note'>{html.escape(cid)} failed: "
                    f"{html.escape(err[:200])}</div>"
                )
            items: list[Any] = [w.HTML(text, layout=w.Layout(width="640px"))]
            if row.status in ("running", "queued"):
                items.append(w.IntProgress(value=row.done, min=0, max=max(row.n_campaigns, 1)))
            if row.failed and row.status not in ("running", "queued"):
                retry = w.Button(description=f"Retry {len(row.failed)} failed")
                retry.add_class("simkit-retry")
                retry.on_click(self._guard("Retrying", lambda r=row.run_id: self.retry(r)))
                items.append(retry)
            children.append(w.HBox(items))
        self.runs_box.children = tuple(children)

    def retry(self, run_id: str) -> None:
        params = retry_params(self.registry.get_run(run_id))
        path = write_params(params, self.workdir, stem=f"retry-{run_id[:24]}")
        self._launch(path, f"retry of {run_id}")

    # -- new run -----------------------------------------------------------------------------

    def form_values(self) -> dict[str, Any]:
        return {
            "campaigns": list(self.f_campaigns.value),
            "horizon_days": self.f_horizon.value,
            "members": list(self.f_members.value),
            "plan": self.f_plan.value.strip(),
            "target_cpa": self.f_cpa.value,
            "target_roas": self.f_roas.value,
            "n_paths": self.f_paths.value,
            "seed": self.f_seed.value,
            "output_dir": self.f_output.value.strip(),
        }

    def submit(self) -> None:
        params = form_params(
            self.form_values(),
            data=self.model.settings.data,
            mapping=self.model.settings.mapping,
            available=self.model.campaign_ids(),
            workdir=self.workdir,
        )
        guard.claim_run_slot(self.workdir)  # refuses, with a message, beyond the hourly limit
        path = write_params(params, self.workdir)
        self._launch(path, "new run")

    def _launch(self, path: Path, what: str) -> None:
        process = start_run(path, self.workdir)
        self.processes.append(process)
        text = (
            f"Started the {what} in the background (pid {process.pid}, parameters "
            f"{path.relative_to(self.workdir)}); see the Runs tab."
        )
        self._message(text)


def run_tabs(model: Any, *, workdir: Path, run_id: str | None = None) -> RunViews:
    """The campaigns, runs and new-run views (``.tabs``); attach them to the app with
    :meth:`RunViews.attach`, after which each tab loads its data when first shown."""
    return RunViews(model, workdir=workdir, run_id=run_id)
