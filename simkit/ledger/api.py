"""What the command line, the reports and the dashboard ask of the ledger.

* :func:`score_ledger`: score every recorded forecast with actuals, append the scores and
  the alerts, and for each alerted campaign invalidate its cached fits and ask its next run
  to refit (:meth:`~simkit.ledger.store.Ledger.request_retrain`).
* :func:`campaign_health`: a campaign's forecasts to date, scored on the data a report
  reads, with alerts, pending refits and feedback (read-only: it never creates a ledger).
* :func:`compare_challengers`: champion against each challenger.
* :func:`give_feedback`: store a stakeholder's verdict.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from simkit import metrics
from simkit.data.panel import CampaignPanel
from simkit.errors import ParamsError
from simkit.forecast.cache import DEFAULT_CACHE_DIR, ForecastCache
from simkit.ledger.alerts import detect_alerts
from simkit.ledger.compare import Comparison, compare_configs
from simkit.ledger.record import CHAMPION
from simkit.ledger.score import (
    LedgerScores,
    aggregate,
    all_days,
    new_scoring_id,
    score_forecasts,
)
from simkit.ledger.store import Ledger, LedgerError, ledger_exists

__all__ = [
    "CampaignHealth",
    "campaign_health",
    "compare_challengers",
    "give_feedback",
    "invalidate_campaign",
    "record_report",
    "score_ledger",
]

log = logging.getLogger(__name__)


def _data_hash(panel: CampaignPanel) -> str:
    hashed = pd.util.hash_pandas_object(panel.frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def invalidate_campaign(
    ledger: Ledger, campaign_id: str, *, cache_dir: str | Path | None = DEFAULT_CACHE_DIR
) -> int:
    """Remove every cached fit the ledger's forecasts of ``campaign_id`` came from; returns
    the number of cache entries removed."""
    if cache_dir is None:
        return 0
    keys = sorted(
        {
            key
            for fc in ledger.list_forecasts(campaign_id=campaign_id, full=True)
            for key in fc.get("cache_keys") or []
        }
    )
    return ForecastCache(cache_dir).invalidate(keys) if keys else 0


def score_ledger(
    data: pd.DataFrame | CampaignPanel,
    *,
    url: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
    data_hash: str | None = None,
) -> LedgerScores:
    """Score every recorded forecast whose days have actuals in ``data``.

    With ``record`` (the default) the scores and alerts are appended to the ledger
    (forecasts are never rewritten), and each alerted campaign's cached fits
    (``cache_dir``) are removed and a refit is asked of its next run.
    """
    ledger = ledger or Ledger(url)
    panel = data if isinstance(data, CampaignPanel) else CampaignPanel.from_data(data)
    digest = data_hash or _data_hash(panel)
    forecasts = ledger.list_forecasts(full=True)
    scored = score_forecasts(forecasts, panel)
    days = all_days(scored)
    pooled = aggregate(scored, days)
    alerts = detect_alerts(days)
    scoring_id = new_scoring_id(digest)
    refits: list[dict[str, Any]] = []
    if record:
        keys: dict[str, set[str]] = {}
        for fc in forecasts:
            keys.setdefault(fc["campaign_id"], set()).update(fc.get("cache_keys") or [])
        cache = ForecastCache(cache_dir) if cache_dir is not None else None
        for cid in sorted({a["campaign_id"] for a in alerts}):
            reason = [a for a in alerts if a["campaign_id"] == cid]
            removed = cache.invalidate(sorted(keys.get(cid, ()))) if cache is not None else 0
            refits.append({"campaign_id": cid, "cache_entries_removed": removed, "reason": reason})
            log.warning(
                "campaign %s: forecast alert(s) %s: fits invalidated",
                cid,
                ", ".join(a["kind"] for a in reason),
            )
        ledger.add_scoring(
            scoring_id,
            [s.ledger_row(scoring_id, digest) for s in scored],
            alerts,
            [(r["campaign_id"], r.pop("reason"), r["cache_entries_removed"]) for r in refits],
        )
    for row in pooled["campaigns"]:  # the forecast-health gauges (simkit/metrics.py)
        cid = str(row.get("campaign_id"))
        for gauge, key in (
            (metrics.LEDGER_COVERAGE, "coverage_80"),
            (metrics.LEDGER_ERROR, "mase"),
        ):
            value = row.get(key)
            if value is not None and value == value:  # NaN: nothing scored yet
                gauge.labels(cid).set(float(value))
    return LedgerScores(
        scoring_id=scoring_id,
        data_hash=digest,
        forecasts=tuple(scored),
        campaigns=tuple(pooled["campaigns"]),
        models=tuple(pooled["models"]),
        horizons=tuple(pooled["horizons"]),
        alerts=tuple(alerts),
        refits=tuple(refits),
        unscored=len(forecasts) - len(scored),
    )


def compare_challengers(
    data: pd.DataFrame | CampaignPanel,
    *,
    url: str | None = None,
    ledger: Ledger | None = None,
    challenger: str | None = None,
    campaign_id: str | None = None,
) -> list[Comparison]:
    """Champion against each challenger recorded (or only ``challenger``), on the days both
    were scored in ``data``."""
    ledger = ledger or Ledger(url)
    forecasts = ledger.list_forecasts(campaign_id=campaign_id, full=True)
    names = sorted({f["config"] for f in forecasts if f["config"] != CHAMPION})
    if challenger is not None:
        if challenger not in names:
            raise ParamsError(
                f"no challenger '{challenger}' in the ledger; recorded: "
                f"{', '.join(names) or 'none'}",
                field="challenger",
            )
        names = [challenger]
    days = all_days(score_forecasts(forecasts, data))
    return [compare_configs(days, name) for name in names]


def give_feedback(
    target_id: str,
    *,
    useful: bool,
    note: str | None = None,
    by: str | None = None,
    url: str | None = None,
    ledger: Ledger | None = None,
) -> dict[str, Any]:
    """Store feedback on a forecast (its id, or a unique prefix) or on a pivot
    recommendation (``pivot:<campaign id>:<pivot type>``); ``by`` defaults to the OS user."""
    ledger = ledger or Ledger(url)
    if target_id.startswith("pivot:"):
        parts = target_id.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ParamsError(
                f"a pivot is named pivot:<campaign id>:<pivot type>, not '{target_id}'",
                field="id",
            )
        kind, full_id, campaign_id = "pivot", target_id, parts[1]
    else:
        fc = ledger.get_forecast(target_id)
        kind, full_id, campaign_id = "forecast", fc["forecast_id"], fc["campaign_id"]
    who = by or _os_user()
    return ledger.add_feedback(
        target_kind=kind,
        target_id=full_id,
        campaign_id=campaign_id,
        useful=useful,
        note=note,
        given_by=who,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return os.environ.get("USER") or f"uid {os.getuid()}"


@dataclass(frozen=True)
class CampaignHealth:
    """How a campaign's earlier forecasts did, on the data a report reads.

    ``days`` holds every scored day of its forecasts (all configurations); ``latest`` is
    the champion's latest scored forecast (full ledger row), for the predicted-against-
    actual chart.
    """

    campaign_id: str
    forecasts: int
    scored: tuple[dict[str, Any], ...]
    pooled: dict[str, Any] | None
    alerts: tuple[dict[str, Any], ...]
    pending_refits: tuple[dict[str, Any], ...]
    feedback: tuple[dict[str, Any], ...]
    days: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    latest: dict[str, Any] | None = field(repr=False, default=None)

    @property
    def status(self) -> str:
        """``no forecasts``, ``not scored yet``, ``alert`` or ``ok``."""
        if not self.forecasts:
            return "no forecasts"
        if self.alerts:
            return "alert"
        if not self.scored:
            return "not scored yet"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "status": self.status,
            "forecasts": self.forecasts,
            "scored": list(self.scored),
            "pooled": self.pooled,
            "alerts": list(self.alerts),
            "pending_refits": list(self.pending_refits),
            "feedback": list(self.feedback),
        }


def campaign_health(
    data: pd.DataFrame, campaign_id: str, *, url: str | None = None
) -> CampaignHealth | None:
    """``campaign_id``'s recorded forecasts scored on ``data`` (read-only); ``None`` when
    there is no ledger at ``url`` (nothing was ever recorded there)."""
    if not ledger_exists(url):
        return None
    ledger = Ledger(url)
    try:
        forecasts = ledger.list_forecasts(campaign_id=campaign_id, full=True)
        scored = score_forecasts(forecasts, data)
        days = all_days(scored)
        pooled = aggregate(scored)["campaigns"]
        champion = [s for s in scored if s.config == CHAMPION]
        latest = None
        if champion:
            best = max(champion, key=lambda s: (s.as_of, s.forecast_id))
            latest = next(f for f in forecasts if f["forecast_id"] == best.forecast_id)
        return CampaignHealth(
            campaign_id=campaign_id,
            forecasts=len(forecasts),
            scored=tuple(s.to_dict() for s in scored),
            pooled=pooled[0] if pooled else None,
            alerts=tuple(detect_alerts(days)),
            pending_refits=tuple(ledger.pending_retrains(campaign_id)),
            feedback=tuple(ledger.list_feedback(campaign_id=campaign_id)),
            days=days,
            latest=latest,
        )
    finally:
        ledger.dispose()


def record_report(
    summary: dict[str, Any] | None,
    *,
    run_id: str | None,
    url: str | None = None,
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
) -> list[str]:
    """Store what a campaign report issued (``summary.json``'s ``numbers.ledger``): its
    forecast and its challengers' shadow forecasts, tagged with ``run_id``.  When the report
    refitted because of alerts, the campaign's cached fits are invalidated and its refit
    requests are marked done by ``run_id`` (an alert the report found itself is recorded
    as a request done at once).  Returns the forecast ids stored.

    A ledger that cannot be written is a warning, never a failed run: the report is out.
    """
    block = ((summary or {}).get("numbers") or {}).get("ledger") or {}
    records = block.get("records") or []
    if not records:
        return []
    campaign_id = str(summary.get("campaign_id") or records[0]["campaign_id"])
    try:
        ledger = Ledger(url)
        ids = []
        for record in records:
            ledger.add_forecast({**record, "run_id": run_id})
            ids.append(record["forecast_id"])
        if block.get("refit_reasons"):
            pending = [int(i) for i in block.get("pending_refit_ids") or []]
            removed = invalidate_campaign(ledger, campaign_id, cache_dir=cache_dir)
            if not pending and block.get("alerts"):
                ledger.request_retrain(campaign_id, list(block["alerts"]), removed)
                pending = [int(r["id"]) for r in ledger.pending_retrains(campaign_id)]
            ledger.retrains_done(campaign_id, run_id, pending)
        ledger.dispose()
        return ids
    except (LedgerError, SQLAlchemyError, OSError, KeyError, TypeError) as exc:
        log.warning(
            "campaign %s: its forecast could not be recorded in the ledger (%s: %s)",
            campaign_id,
            type(exc).__name__,
            exc,
        )
        return []
