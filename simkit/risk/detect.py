"""Run the registered detectors over a dataset as of one day."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd

from simkit._suggest import did_you_mean
from simkit._types import AsOf, parse_as_of
from simkit.errors import DataError, SimkitError
from simkit.risk.alerts import Alert, RiskReport
from simkit.risk.calibration import DETECTOR_CLASSES, history_probabilities
from simkit.risk.detectors import DEFAULT_DETECTORS, DETECTORS
from simkit.risk.history import CampaignHistory, campaign_histories
from simkit.risk.ongoing import LOOKBACK_DAYS, lookback_cuts, ongoing_alerts

__all__ = ["STALE_DAYS", "detect_risks"]

_log = logging.getLogger(__name__)

#: A campaign whose last row is more than this many days before ``as_of`` has stopped: no
#: alerts are raised on it.
STALE_DAYS = 7


def detect_risks(
    data: pd.DataFrame,
    campaigns: pd.DataFrame | None = None,
    *,
    as_of: AsOf = None,
    campaign_ids: Sequence[str] | None = None,
    detectors: Sequence[str] | None = None,
    min_probability: float = 0.5,
    forward_days: int | None = None,
    seed: int = 0,
    forward_options: dict[str, Any] | None = None,
    lookback_days: int = LOOKBACK_DAYS,
) -> RiskReport:
    """Alerts for every campaign in ``data``, using only rows up to ``as_of``.

    Parameters
    ----------
    data
        A contract frame (``simkit.data.load(...).data`` or a synthetic world's ``data``).
    campaigns
        Optional metadata (``budget_daily``, ``budget_total``, ``flight_start``,
        ``flight_end``) by ``campaign_id``.
    as_of
        Last day the detectors may see (default: the last day in ``data``).  Later rows are
        dropped before anything is computed.
    campaign_ids
        Restrict to these campaigns.
    detectors
        Registry names to run (default: :data:`~simkit.risk.detectors.DEFAULT_DETECTORS`,
        the history detectors).
    min_probability
        Report alerts at or above this probability.
    forward_days
        When given, also run ``forecast_shortfall`` over this many days ahead (it fits a
        forecast and simulates each campaign: seconds per campaign, not milliseconds).
    seed
        Seed of the forward detector's simulation (same seed, same probabilities).
    forward_options
        Further keyword arguments for ``forecast_shortfall`` (``n_paths``, ``members``,
        ``forecast_fn``).
    lookback_days
        Also report older changes that are still in force: the history detectors run on
        the data as it stood every 14 days back to this many days, and an alert they raised
        there (p >= max(``min_probability``, 0.5)) is reported if its change persists today
        (see :mod:`simkit.risk.ongoing`).  It replaces today's weaker alert of its kind.
        The default, :data:`~simkit.risk.ongoing.LOOKBACK_DAYS` (42), is what the CLI,
        reports, pivots and dashboard use; 0 looks only at changes that began in the last
        21 days.

    Campaigns whose data stops more than :data:`STALE_DAYS` days before ``as_of`` have ended
    and are skipped.

    Examples
    --------
    >>> import numpy as np
    >>> from simkit.data.synthetic import generate
    >>> world = generate(4, 120, rng=np.random.default_rng(7))
    >>> report = detect_risks(world.data, world.campaigns)
    >>> sorted({a.type for a in report.alerts}) <= sorted(DETECTORS)
    True
    """
    names = list(detectors) if detectors is not None else list(DEFAULT_DETECTORS)
    if forward_days is not None:
        if forward_days < 1:
            raise SimkitError(f"forward_days must be at least 1, got {forward_days}")
        if "forecast_shortfall" not in names:
            names.append("forecast_shortfall")
    options: dict[str, dict[str, Any]] = {
        "forecast_shortfall": {
            "horizon_days": forward_days or 14,
            "seed": seed,
            **(forward_options or {}),
        }
    }
    if lookback_days < 0:
        raise SimkitError(f"lookback_days must be 0 or more, got {lookback_days}")
    for name in names:
        if name not in DETECTORS:
            raise SimkitError(f"unknown detector {name!r}{did_you_mean(name, list(DETECTORS))}")
    if data.empty:
        raise DataError("no rows to look at", column="date")
    cut = parse_as_of(as_of)
    if cut is not None and pd.to_datetime(data["date"]).min() > cut:
        raise DataError(f"no data on or before as_of {cut.date()}", column="date")
    histories = campaign_histories(
        data, campaigns, as_of=cut, campaign_ids=list(campaign_ids) if campaign_ids else None
    )
    if campaign_ids and not histories:
        known = sorted(data["campaign_id"].astype(str).unique())
        wanted = list(campaign_ids)[0]
        raise DataError(
            f"unknown campaign {wanted!r}{did_you_mean(str(wanted), known)}",
            column="campaign_id",
        )
    report_as_of = cut.date() if cut is not None else pd.to_datetime(data["date"]).max().date()
    live = []
    for history in histories:
        if history.last_date < report_as_of - timedelta(days=STALE_DAYS):
            _log.info("skipping %s: no data after %s", history.campaign_id, history.last_date)
        else:
            live.append(history)
    if "budget_pacing" in names:
        _say_no_budget(live)
    history_detectors = {n: DETECTORS[n] for n in names if n in DETECTOR_CLASSES}
    cuts = {
        h.campaign_id: lookback_cuts(h, lookback_days) if history_detectors else [] for h in live
    }
    if history_detectors:
        _score([*live, *(c for past in cuts.values() for c in past)])
    alerts: list[Alert] = []
    for history in live:
        found: list[Alert] = []
        for name in names:
            extra = options.get(name, {})
            found.extend(DETECTORS[name](history, min_probability=min_probability, **extra))
        if lookback_days > 0 and history_detectors:
            older = ongoing_alerts(
                history,
                cuts[history.campaign_id],
                history_detectors,
                min_probability=max(min_probability, 0.5),
                present={a.type for a in found if a.probability >= 0.5},
            )
            kinds = {a.type for a in older}
            found = [a for a in found if a.type not in kinds] + older
        alerts.extend(found)
    alerts.sort(key=lambda a: (-a.probability, a.campaign_id, a.type))
    return RiskReport(as_of=report_as_of, alerts=tuple(alerts))


def _say_no_budget(histories: Sequence[CampaignHistory]) -> None:
    """One line for all campaigns without a budget: there is no pacing risk to assess."""
    missing = [h.campaign_id for h in histories if h.scan.pacing is None]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        _log.warning(
            "no budget (no `budget` column or `budget_daily` metadata) for %d campaign(s) "
            "(%s): budget pacing is not assessed for them",
            len(missing),
            shown,
        )


def _score(histories: Sequence[CampaignHistory]) -> None:
    """Every history's detector probabilities in one model call.

    The trees cost little per row but milliseconds per call; the result is stored as each
    history's cached :attr:`~CampaignHistory.risk_probabilities`, which the detectors read.
    """
    scored = history_probabilities([h.scan.features for h in histories])
    for history, probs in zip(histories, scored, strict=True):
        history.__dict__["risk_probabilities"] = probs  # the cached_property's own slot
