"""Alerts out: risk alerts, run failures and ledger degradation to a webhook.

The message is Slack-compatible JSON (``{"text": ..., "blocks": [...]}``; Mattermost,
Rocket.Chat and Teams' Slack-compatible endpoints take the same), one message per alert.
Each alert has a key (``risk:C003:performance_dip``, ``run-failed:C002``,
``ledger:C001:coverage``); a key is sent at most once per UTC day, remembered in a small
state file (``alerts-sent.json`` beside the registry), so a second identical run the same
day sends nothing.  A failed post is retried (tenacity, three attempts with a short
backoff); a webhook that still fails is logged and counted, and never fails the run.

The webhook URL is a credential (a Slack URL holds its token): it is never logged, stored
in an error message, or written to the state file; messages name its host only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from filelock import FileLock
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from simkit.metrics import WEBHOOK_MESSAGES

__all__ = [
    "Alert",
    "Delivery",
    "ledger_alerts",
    "risk_alerts",
    "run_failure_alerts",
    "send_alerts",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """One alert: a stable ``key`` (what makes two alerts the same) and its text."""

    key: str
    title: str
    text: str

    def payload(self) -> dict[str, Any]:
        """The Slack-compatible message."""
        return {
            "text": f"{self.title}: {self.text}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": self.text[:3000]}},
            ],
        }


@dataclass(frozen=True)
class Delivery:
    """What :func:`send_alerts` did: keys sent, skipped as already sent today, failed."""

    sent: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": list(self.sent),
            "duplicates": list(self.duplicates),
            "failed": list(self.failed),
        }


def risk_alerts(summaries: Iterable[dict[str, Any]], threshold: float) -> list[Alert]:
    """An alert for each detector whose probability reaches ``threshold``, from the
    campaigns' ``summary.json`` (``numbers.risks.alerts``: detector -> probability)."""
    out = []
    for summary in summaries:
        cid = str(summary.get("campaign_id"))
        risks = ((summary.get("numbers") or {}).get("risks")) or {}
        for detector, probability in sorted((risks.get("alerts") or {}).items()):
            if probability is None or float(probability) < threshold:
                continue
            label = detector.replace("_", " ")
            out.append(
                Alert(
                    key=f"risk:{cid}:{detector}",
                    title=f"simkit risk: {label} on {cid}",
                    text=f"Campaign {cid}: {label} with probability {float(probability):.0%} "
                    f"(alert threshold {threshold:.0%}).",
                )
            )
    return out


def run_failure_alerts(run_id: str, failures: Iterable[tuple[str, str | None]]) -> list[Alert]:
    """An alert per failed campaign, ``(campaign id, error)``; keyed by campaign, so a
    campaign failing in every run of the day is announced once."""
    return [
        Alert(
            key=f"run-failed:{cid}",
            title=f"simkit run failed for {cid}",
            text=f"Run {run_id}: campaign {cid} failed: {(error or 'unknown error')[:500]}",
        )
        for cid, error in failures
    ]


def ledger_alerts(
    degraded: Iterable[tuple[str, str, float, float]],
) -> list[Alert]:
    """An alert per degraded ledger measure, ``(campaign id, measure, value, bound)``:
    e.g. ``("C001", "coverage", 0.55, 0.7)`` when the 80% interval held only 55% of the
    outcomes.  Keyed by campaign and measure, so it is sent once a day while it lasts."""
    return [
        Alert(
            key=f"ledger:{cid}:{measure}",
            title=f"simkit ledger: {measure} degraded on {cid}",
            text=f"Campaign {cid}: the forecast ledger's {measure} is {value:.2f} "
            f"(bound {bound:.2f}).",
        )
        for cid, measure, value, bound in degraded
    ]


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the webhook"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _read_state(path: Path) -> dict[str, list[str]]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): list(v) for k, v in state.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _post(url: str, payload: dict[str, Any], timeout_seconds: float) -> None:
    response = httpx.post(url, json=payload, timeout=timeout_seconds)
    response.raise_for_status()


def send_alerts(
    url: str,
    alerts: Iterable[Alert],
    *,
    state_file: str | Path,
    attempts: int = 3,
    timeout_seconds: float = 5.0,
    backoff_seconds: float = 0.25,
    today: str | None = None,
    post: Callable[[str, dict[str, Any], float], None] | None = None,
) -> Delivery:
    """Post each alert not yet sent today; never raises (see the module doc)."""
    day = today or _today()
    state_path = Path(state_file)
    sent: list[str] = []
    duplicates: list[str] = []
    failed: list[str] = []
    poster = post or _post
    try:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(state_path) + ".lock", timeout=30)
        lock.acquire()
    except Exception as exc:  # the state cannot be kept: send nothing rather than spam
        log.warning("webhook alerts skipped: cannot keep their state (%s)", type(exc).__name__)
        return Delivery(failed=tuple(a.key for a in alerts))
    try:
        state = _read_state(state_path)
        done_today = set(state.get(day, []))
        for alert in alerts:
            if alert.key in done_today:
                duplicates.append(alert.key)
                WEBHOOK_MESSAGES.labels("duplicate").inc()
                continue
            try:
                for attempt in Retrying(
                    stop=stop_after_attempt(attempts),
                    wait=wait_exponential(multiplier=backoff_seconds, max=4 * backoff_seconds),
                    retry=retry_if_exception_type((httpx.HTTPError, OSError)),
                    reraise=True,
                ):
                    with attempt:
                        poster(url, alert.payload(), timeout_seconds)
            except Exception as exc:
                # the URL holds a credential: name the host and the kind of failure only
                log.warning(
                    "webhook alert %s not delivered to %s: %s",
                    alert.key,
                    _host(url),
                    type(exc).__name__,
                )
                failed.append(alert.key)
                WEBHOOK_MESSAGES.labels("failed").inc()
                continue
            sent.append(alert.key)
            done_today.add(alert.key)
            WEBHOOK_MESSAGES.labels("sent").inc()
        # only today's keys matter; older days are dropped
        tmp = state_path.with_name(f"{state_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({day: sorted(done_today)}), encoding="utf-8")
        os.replace(tmp, state_path)
    except Exception as exc:
        log.warning("webhook alerts: %s", type(exc).__name__)
    finally:
        lock.release()
    return Delivery(tuple(sent), tuple(duplicates), tuple(failed))
