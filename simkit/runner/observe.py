"""What a run tells the outside world: the audit log, the metrics, the webhook alerts.

:func:`run_started`, :func:`campaign_finished` and :func:`run_ended` are called once each by
:func:`~simkit.runner.run_batch`.  None of them can fail a run: a problem writing the audit
log, the metrics file, the Pushgateway or the webhook is logged as a warning (the
webhook's own failures are handled in :mod:`simkit.notify`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simkit import audit, metrics, notify, telemetry
from simkit.params import RunParams, mask_url

__all__ = [
    "alert_state_file",
    "campaign_finished",
    "changed_settings",
    "run_ended",
    "run_started",
]

log = logging.getLogger(__name__)


def alert_state_file(registry_url: str | None) -> Path:
    """The webhook's dedup state, beside the audit log (and so beside the registry)."""
    return audit.audit_path(registry_url).with_name("alerts-sent.json")


def _audit(event: str, registry_url: str | None, **fields: Any) -> None:
    try:
        audit.record(event, path=audit.audit_path(registry_url), **fields)
    except audit.AuditError as exc:
        log.warning("audit log: %s", exc)


def changed_settings(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The names of the settings whose values differ (names only: values may be paths,
    campaign ids or a masked URL)."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def run_started(run_id: str, params: RunParams, campaigns: list[str], registry: Any) -> None:
    """The run's start; and, when the previous run into the same output folder had other
    settings, a ``config.changed`` entry naming the settings that changed."""
    _audit(
        "run.started",
        registry.url,
        run_id=run_id,
        campaigns=campaigns,
        output_dir=params.output_dir,
    )
    try:
        earlier = [
            r
            for r in registry.list_runs(50)
            if r["run_id"] != run_id and r.get("output_dir") == str(params.output_dir)
        ]
        if earlier:
            before = registry.get_run(earlier[0]["run_id"]).get("params") or {}
            changed = changed_settings(before, params.to_dict())
            if changed:
                _audit(
                    "config.changed",
                    registry.url,
                    run_id=run_id,
                    previous_run_id=earlier[0]["run_id"],
                    settings=changed,
                )
    except Exception as exc:  # the registry was just written; a read problem is not fatal
        log.warning("config change not audited: %s", type(exc).__name__)


def campaign_finished(run_id: str, outcome: Any, registry_url: str | None) -> None:
    """A campaign's report published (or failed): the audit log and the metrics."""
    metrics.REPORT_DURATION.labels(outcome.status).observe(max(0.0, outcome.duration_seconds))
    if outcome.status == "succeeded":
        _audit(
            "report.published",
            registry_url,
            run_id=run_id,
            campaign_id=outcome.campaign_id,
            report=Path(outcome.report_path).name if outcome.report_path else None,
        )
    else:
        metrics.FAILURES.labels(outcome.kind or "error").inc()
        telemetry.capture_failure(
            f"campaign report failed ({outcome.kind or 'error'})",
            kind=outcome.kind or "error",
            run_id=run_id,
            error=outcome.error,
        )


def _summaries(outcomes: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for outcome in outcomes.values():
        if outcome.status != "succeeded":
            continue
        # the published summary.json has every number (the outcome may carry a digest)
        summary = None
        if outcome.report_path:
            file = Path(outcome.report_path).with_name("summary.json")
            try:
                summary = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                summary = None
        if summary is None:
            summary = outcome.summary
        if summary:
            out.append({"campaign_id": outcome.campaign_id, **summary})
    return out


def run_ended(
    run_id: str,
    params: RunParams,
    status: str,
    outcomes: Mapping[str, Any],
    duration_seconds: float,
    registry_url: str | None,
) -> None:
    """The run's end: audit entry, run metrics, textfile/Pushgateway, webhook alerts."""
    failed = [o for o in outcomes.values() if o.status != "succeeded"]
    _audit(
        "run.finished",
        registry_url,
        run_id=run_id,
        status=status,
        n_succeeded=sum(1 for o in outcomes.values() if o.status == "succeeded"),
        n_failed=len(failed),
    )
    metrics.RUN_DURATION.labels(status).observe(max(0.0, duration_seconds))
    telemetry.track(
        "run finished",
        status=status,
        n_campaigns=len(outcomes),
        n_failed=len(failed),
        duration_seconds=round(duration_seconds, 1),
    )
    metrics.RUNS.labels(status).inc()
    if status == "failed" and not failed:
        metrics.FAILURES.labels("run").inc()
    if params.metrics_textfile:
        try:
            metrics.write_textfile(params.metrics_textfile)
        except OSError as exc:
            log.warning("metrics file %s not written: %s", params.metrics_textfile, exc.strerror)
    if params.pushgateway_url:
        try:
            metrics.push(params.pushgateway_url)
        except Exception as exc:  # a Pushgateway that is down never fails the run
            log.warning(
                "metrics not pushed to %s: %s",
                mask_url(params.pushgateway_url),
                type(exc).__name__,
            )
    if params.webhook_url:
        alerts = notify.risk_alerts(_summaries(outcomes), params.alert_threshold)
        alerts += notify.run_failure_alerts(run_id, [(o.campaign_id, o.error) for o in failed])
        if alerts:
            notify.send_alerts(
                params.webhook_url, alerts, state_file=alert_state_file(registry_url)
            )
