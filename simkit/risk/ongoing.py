"""Older changes that are still in force: looking back past the detectors' 21-day horizon.

The history detectors answer "did a change of this kind begin in the last three weeks?"
(that is what their probabilities are calibrated against).  A report, though, should also
say that the CTR has been wearing out for six weeks.  :func:`ongoing_alerts` runs the same
detectors on the history as it stood ``LOOKBACK_STEP``, ``2 x LOOKBACK_STEP``, ... days
earlier (each cut sees nothing after it), keeps of each kind that today's check did not
raise the alert with the earliest onset (a later cut sees only 21 days back, so it dates an
older change too late; ties: the most probable), and reports it only if the change is still there today: the
metric's mean over the last :data:`IN_FORCE_DAYS` days, against the baseline before the
onset, is still shifted the same way by at least :data:`IN_FORCE_Z` standard errors (the
scan's AR(1) and counting noise, and the baseline's own error).

The alert's probability is the one the detector gave at the earlier cut, and its evidence
says so (``detected_as_of``); the persistence test adds ``recent_change_vs_before_onset``
and ``recent_change_z``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np

from simkit.risk._features import scan_history
from simkit.risk.alerts import Alert
from simkit.risk.history import CampaignHistory

__all__ = [
    "IN_FORCE_DAYS",
    "IN_FORCE_Z",
    "LOOKBACK_DAYS",
    "LOOKBACK_STEP",
    "lookback_cuts",
    "ongoing_alerts",
]

#: How far back reports, the dashboard, ``simkit risks`` and the pivot engine look for older
#: changes still in force (six weeks: three cuts, onsets up to nine weeks back).
LOOKBACK_DAYS = 42
#: Days between the earlier cuts: with the detectors' 21-day horizon, cuts 14 days apart
#: leave no onset in the look-back unseen.
LOOKBACK_STEP = 14
#: A change counts as still in force when the last IN_FORCE_DAYS days are shifted from the
#: baseline before the onset, in the alert's direction, by this z-score.
IN_FORCE_Z = 2.0
IN_FORCE_DAYS = 14

# which metric, and which direction, carries each kind of change
_METRIC: dict[str, tuple[str, float]] = {
    "competitor_pressure": ("cpm", 1.0),
    "audience_fatigue": ("ctr", -1.0),
    "performance_dip/tracking_outage": ("cvr", -1.0),
    "performance_dip/demand_drop": ("ctr", -1.0),
}


def _metric(alert: Alert) -> tuple[str, float] | None:
    if alert.type == "performance_dip":
        return _METRIC.get(f"performance_dip/{alert.evidence.get('shape')}")
    return _METRIC.get(alert.type)


def _still_in_force(history: CampaignHistory, alert: Alert) -> tuple[float, float] | None:
    """``(relative change, z)`` of the alert's metric over the last :data:`IN_FORCE_DAYS`
    days against the baseline before the onset, or ``None`` when it cannot be measured.

    The days between the onset and that recent window are blanked (kept in place as
    missing, so the AR(1) noise keeps its spacing): a change that came and went, such as a
    tracking outage that was fixed, does not count as in force.
    """
    which = _metric(alert)
    if which is None or alert.onset is None:
        return None
    metric, sign = which
    days = (history.last_date - alert.onset).days + 1
    if days < 1 or days >= history.n_days:
        return None
    gap = np.zeros(history.n_days, dtype=bool)
    gap[history.n_days - days : history.n_days - min(days, IN_FORCE_DAYS)] = True

    def blank(values: np.ndarray) -> np.ndarray:
        return np.where(gap, np.nan, values)

    recent = replace(
        history,
        spend=blank(history.spend),
        impressions=blank(history.impressions),
        clicks=blank(history.clicks),
        conversions=blank(history.conversions),
        revenue=blank(history.revenue),
    )
    scan = scan_history(recent, windows=(days,)).scans.get(metric)
    if scan is None or len(scan.windows) == 0 or not np.isfinite(scan.z_step[0]):
        return None
    return float(np.expm1(scan.delta[0])), float(sign * scan.z_step[0])


def _earlier(alert: Alert, than: Alert) -> bool:
    """Whether ``alert`` dates the change earlier (then: is more probable) than ``than``.

    A later cut sees at most 21 days back, so for a change older than that its onset is cut
    off at the scan's edge; the cut that found the change soonest dates it best.
    """
    a = alert.onset or alert.as_of
    b = than.onset or than.as_of
    return (a, -alert.probability) < (b, -than.probability)


def lookback_cuts(history: CampaignHistory, lookback_days: int) -> list[CampaignHistory]:
    """The history as it stood every :data:`LOOKBACK_STEP` days back, to ``lookback_days``."""
    cuts = []
    for back in range(LOOKBACK_STEP, lookback_days + 1, LOOKBACK_STEP):
        past = history.until(history.last_date - timedelta(days=back))
        if past.n_days >= history.n_days or past.n_days < 2:
            break
        cuts.append(past)
    return cuts


def ongoing_alerts(
    history: CampaignHistory,
    cuts: Sequence[CampaignHistory],
    detectors: Mapping[str, Callable[..., list[Alert]]],
    *,
    min_probability: float,
    present: set[str],
) -> list[Alert]:
    """Alerts for changes that began before the detectors' horizon and are still in force.

    Parameters
    ----------
    history
        The campaign, cut at ``as_of``.
    cuts
        Earlier cuts of it (:func:`lookback_cuts`).
    detectors
        Registry entries to re-run on the cuts (history detectors; pacing is left out:
        today's pacing check already sees a pace of any age).
    min_probability
        An earlier alert must have reached this probability (at least 0.5 makes sense: an
        alert more likely true than not).
    present
        Alert types today's check raised already (they are not repeated).
    """
    best: dict[str, Alert] = {}
    for past in cuts:
        for name, detect in detectors.items():
            if name in present or name == "budget_pacing":
                continue
            for alert in detect(past, min_probability=min_probability):
                current = best.get(alert.type)
                if current is None or _earlier(alert, current):
                    best[alert.type] = alert
    out = []
    for alert in best.values():
        measured = _still_in_force(history, alert)
        if measured is None or measured[1] < IN_FORCE_Z:
            continue
        change, z = measured
        name = _metric(alert)[0].upper()  # type: ignore[index]
        message = (
            f"Ongoing since {alert.onset}: found as of {alert.as_of} (P = "
            f"{alert.probability:.0%}) and still in force: {name} over the last "
            f"{IN_FORCE_DAYS} days {change:+.0%} against before the onset (z = {z:.1f}). "
            f"Then: {alert.message}"
        )
        evidence = {
            **alert.evidence,
            "detected_as_of": alert.as_of.isoformat(),
            "recent_change_vs_before_onset": change,
            "recent_change_z": z,
            "days_since_onset": (history.last_date - alert.onset).days,  # type: ignore[operator]
        }
        out.append(replace(alert, evidence=evidence, message=message, as_of=history.last_date))
    return out
