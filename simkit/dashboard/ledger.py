"""The dashboard and the forecast ledger: each baseline shown is recorded, and a "Forecast
ledger" tab shows how each campaign's earlier forecasts did, with a feedback button.

The ledger is the one ``simkit run`` uses from the dashboard's working folder (the run
registry's database; ``SIMKIT_REGISTRY_URL`` when set).  All logic is here: the tab only
draws what :func:`simkit.ledger.campaign_health` returns and stores what the reader says
with :func:`simkit.ledger.give_feedback`.
"""

from __future__ import annotations

import getpass
import hashlib
import html
import json
import logging
import os
from pathlib import Path
from typing import Any

from simkit.errors import SimkitError
from simkit.ledger import ForecastRecord, Ledger, campaign_health, give_feedback
from simkit.ledger.record import files_hash

__all__ = ["LedgerView", "health_rows", "ledger_url", "record_baseline"]

log = logging.getLogger(__name__)


def ledger_url(workdir: Path) -> str | None:
    """The ledger of ``workdir``: ``None`` (the environment's URL) when
    ``SIMKIT_REGISTRY_URL`` is set, else the registry file ``simkit run`` writes there."""
    if os.environ.get("SIMKIT_REGISTRY_URL"):
        return None
    return f"sqlite:///{workdir / '.simkit-cache' / 'registry.sqlite'}"


def record_baseline(baseline: Any, settings: Any, *, url: str | None) -> str:
    """Record a dashboard baseline (a :class:`~simkit.dashboard.model.Baseline`) in the
    ledger; returns its forecast id."""
    options = {
        "source": "dashboard",
        "horizon_days": baseline.horizon_days,
        "n_paths": baseline.n_paths,
        "seed": baseline.seed,
        "members": list(settings.members),
    }
    canonical = json.dumps(options, sort_keys=True, separators=(",", ":"))
    record = ForecastRecord.from_simulation(
        baseline.result,
        source="dashboard",
        params_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        data_hash=files_hash(settings.data, settings.mapping),
    )
    record = ForecastRecord.from_dict({**record.to_dict(), "members": list(settings.members)})
    ledger = Ledger(url)
    try:
        ledger.add_forecast(record.to_dict())
    finally:
        ledger.dispose()
    return record.forecast_id


def health_rows(data: Any, campaign_ids: list[str], *, url: str | None) -> list[dict[str, Any]]:
    """One row per campaign: forecasts recorded, status, 80% coverage, MASE, alerts."""
    rows = []
    for cid in campaign_ids:
        health = campaign_health(data, cid, url=url)
        pooled = (health.pooled if health is not None else None) or {}
        rows.append(
            {
                "campaign": cid,
                "forecasts": health.forecasts if health is not None else 0,
                "status": health.status if health is not None else "no forecasts",
                "coverage_80": pooled.get("coverage_80"),
                "mase": pooled.get("mase"),
                "alerts": [f"{a['kind']} since {a['since']}" for a in health.alerts]
                if health is not None
                else [],
                "feedback": len(health.feedback) if health is not None else 0,
            }
        )
    return rows


def _rows_html(rows: list[dict[str, Any]]) -> str:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.0%}"

    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    body = "".join(
        "<tr>"
        f"<td>{html.escape(r['campaign'])}</td><td>{r['forecasts']}</td>"
        f"<td>{html.escape(r['status'])}</td><td>{pct(r['coverage_80'])}</td>"
        f"<td>{num(r['mase'])}</td>"
        f"<td>{html.escape('; '.join(r['alerts']) or '-')}</td><td>{r['feedback']}</td>"
        "</tr>"
        for r in rows
    )
    return (
        "<table class='simkit-table simkit-ledger'><tr><th>campaign</th><th>forecasts</th>"
        "<th>health</th><th>80% interval held</th><th>MASE</th><th>alerts</th>"
        f"<th>feedback</th></tr>{body}</table>"
    )


class LedgerView:
    """The "Forecast ledger" tab, and the recording of the baselines the app shows."""

    def __init__(self, model: Any, *, workdir: Path) -> None:
        import ipywidgets as w  # heavy, and only a Voila kernel draws widgets

        self.model = model
        self.url = ledger_url(workdir)
        self.recorded: dict[tuple[str, int], str] = {}
        self.table = w.HTML()
        self.message = w.HTML()
        self.refresh = w.Button(description="Refresh")
        self.refresh.on_click(lambda _b: self.show())
        self.forecast = w.Dropdown(description="Forecast", options=[])
        self.verdict = w.ToggleButtons(options=["useful", "not useful"], value="useful")
        self.note = w.Text(description="Note", placeholder="what you saw")
        self.send = w.Button(description="Send feedback")
        self.send.on_click(lambda _b: self.send_feedback())
        self.tab = w.VBox(
            [
                self.refresh,
                self.table,
                w.HBox([self.forecast, self.verdict]),
                w.HBox([self.note, self.send]),
                self.message,
            ]
        )

    def attach(self, app: Any) -> None:
        """Record every baseline ``app`` draws (after its own handlers have drawn it)."""

        def handler(_change: Any = None) -> None:
            self.record(getattr(app, "baseline_view", None))

        app.campaign.observe(handler, "value")
        app.horizon.observe(handler, "value")

    def record(self, baseline: Any | None) -> str | None:
        """Record a baseline the app shows (once per campaign and horizon)."""
        if baseline is None:
            return None
        key = (baseline.campaign_id, int(baseline.horizon_days))
        if key in self.recorded:
            return self.recorded[key]
        try:
            self.recorded[key] = record_baseline(baseline, self.model.settings, url=self.url)
        except (SimkitError, OSError, ValueError) as exc:  # the what-if view carries on
            log.warning("the baseline of %s was not recorded in the ledger: %s", key[0], exc)
            return None
        return self.recorded[key]

    def show(self) -> None:
        """Fill the table and the forecast list from the ledger."""
        ids = [c.campaign_id for c in self.model.campaigns()]
        self.table.value = _rows_html(health_rows(self.model.data, ids, url=self.url))
        try:
            ledger = Ledger(self.url)
            forecasts = ledger.list_forecasts(limit=50)
            ledger.dispose()
        except SimkitError as exc:
            self.message.value = html.escape(str(exc))
            return
        self.forecast.options = [
            (f"{f['campaign_id']} as of {f['as_of']} ({f['forecast_id']})", f["forecast_id"])
            for f in forecasts
        ]

    def send_feedback(self) -> dict[str, Any] | None:
        """Store the reader's verdict on the chosen forecast."""
        if not self.forecast.value:
            self.message.value = "Choose a forecast first."
            return None
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "dashboard"
        row = give_feedback(
            self.forecast.value,
            useful=self.verdict.value == "useful",
            note=self.note.value or None,
            by=f"{who} (dashboard)",
            url=self.url,
        )
        self.message.value = html.escape(f"Thank you: feedback stored on {row['target_id']}.")
        self.note.value = ""
        self.show()
        return row
