"""The history detectors and their registry.

Every detector takes one campaign's :class:`~simkit.risk.history.CampaignHistory` (already cut
at ``as_of``, metadata attached) and returns a list of :class:`~simkit.risk.alerts.Alert`
(empty, or one alert).  They share one set of changepoint scans (computed once per history,
see :mod:`simkit.risk._features`) and differ in the features their calibrated probability
reads and in the evidence they report:

``performance_dip``
    an abrupt fall in CVR or CTR that spend and weekday do not explain; the evidence tells a
    tracking outage (conversions fall, clicks do not) from a demand drop (clicks fall too).
``audience_fatigue``
    CTR decaying faster than the creative's normal wear since an onset, frequency rising; the
    expected days until CTR falls below ``FATIGUE_CTR_FLOOR`` of its level before the onset;
    a differential diagnosis against auction pressure, tracking gaps and spend changes.
``competitor_pressure``
    CPM and CPC above what spend and weekday explain (each against the campaign's own
    spend-adjusted baseline), impression share falling where present.
``budget_pacing``
    spend against the daily budget (``budget`` column or ``budget_daily``) in the platform's
    terms: 90-110% on track, the platform's daily maximum, Google's monthly charge cap
    (30.4 x the average daily budget) and, with ``budget_total`` and ``flight_end``, the
    projected flight spend; P(overspend), P(underdelivery), the day the budget runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
from scipy.stats import norm

from simkit.risk._features import ON_TRACK_HIGH, ON_TRACK_LOW, HistoryScan
from simkit.risk.alerts import Alert
from simkit.risk.forward import forecast_shortfall
from simkit.risk.history import CampaignHistory

__all__ = [
    "DEFAULT_DETECTORS",
    "DETECTORS",
    "FATIGUE_CTR_FLOOR",
    "Detector",
    "forecast_shortfall",
    "probabilities",
]

Detector = Callable[..., list[Alert]]

#: Fatigue horizon: days until CTR falls below this share of its level before the onset.
FATIGUE_CTR_FLOOR = 0.7
#: On track: a week's spend within [UNDER, OVER] x budget (90-110%).
PACING_UNDER, PACING_OVER = ON_TRACK_LOW, ON_TRACK_HIGH
#: The month's projected spend counts as past Google's monthly cap beyond this slack (a
#: campaign at budget every day of a 31-day month reaches 31 / 30.4 = 1.02 x the cap, and a
#: few allowed overdelivery days add a few percent more).
CAP_SLACK = 0.10
#: Most an overspend alert may claim without evidence against the platform's rule.
_NO_EVIDENCE_P = 0.2


def probabilities(history: CampaignHistory) -> dict[str, float]:
    """Calibrated probability of every history detector's risk for one history.

    Computed once per history (see :attr:`CampaignHistory.risk_probabilities`); budget
    pacing only where a budget is known.
    """
    return dict(history.risk_probabilities)


def _pct(log_change: float) -> float:
    return float(np.expm1(log_change)) if np.isfinite(log_change) else float("nan")


def _severity(value: float, medium: float, high: float) -> str:
    if not np.isfinite(value):
        return "low"
    return "high" if value >= high else "medium" if value >= medium else "low"


def _at(scan: HistoryScan, metric: str, n: int, onset: int, attr: str) -> float:
    """Value of ``attr`` of ``metric``'s scan for the window starting at row ``onset``."""
    if metric not in scan.scans or onset < 0:
        return float("nan")
    s = scan.scans[metric]
    hit = np.flatnonzero(s.windows == n - onset)
    return float(getattr(s, attr)[hit[0]]) if len(hit) else float("nan")


def _spend_change(history: CampaignHistory, onset: int) -> float:
    """Relative change of mean daily spend since ``onset`` against the 28 days before."""
    after = history.spend[onset:]
    before = history.spend[max(0, onset - 28) : onset]
    a, b = np.nanmean(after) if len(after) else np.nan, np.nanmean(before) if len(before) else 0
    return float(a / b - 1.0) if b and np.isfinite(a) and np.isfinite(b) and b > 0 else float("nan")


def _fmt_pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:+.0%}"


def _fmt_fall(x: float) -> str:
    """A relative change quoted as a fall ("fell 30%"), or a rise when it went up."""
    if not np.isfinite(x):
        return "by an unknown amount"
    return f"{-x:.0%}" if x <= 0 else f"by -{x:.0%} (it rose)"


def _alert(
    history: CampaignHistory,
    kind: str,
    probability: float,
    severity: str,
    onset: int,
    evidence: dict[str, float | int | str | None],
    message: str,
    pivots: tuple[str, ...],
) -> Alert:
    return Alert(
        campaign_id=history.campaign_id,
        type=kind,
        probability=probability,
        severity=severity,
        onset=history.date_at(onset) if onset >= 0 else None,
        evidence=evidence,
        message=message,
        suggested_pivots=pivots,
        as_of=history.last_date,
    )


def performance_dip(history: CampaignHistory, *, min_probability: float = 0.5) -> list[Alert]:
    """Abrupt fall in CVR or CTR beyond spend and weekday; tracking outage vs demand drop."""
    p = probabilities(history)["performance_dip"]
    if p < min_probability:
        return []
    scan, n = history.scan, history.n_days
    f = scan.features
    primary = "cvr_down" if f["cvr_down"] >= f["ctr_down"] else "ctr_down"
    onset = scan.onsets[primary]
    d_cvr, d_ctr = _at(scan, "cvr", n, onset, "delta"), _at(scan, "ctr", n, onset, "delta")
    z_cvr, z_ctr = _at(scan, "cvr", n, onset, "z_step"), _at(scan, "ctr", n, onset, "z_step")
    d_conv = d_cvr + d_ctr  # conversions per impression
    tracking = primary == "cvr_down" and not (np.isfinite(z_ctr) and z_ctr < -2.0)
    shape = "tracking_outage" if tracking else "demand_drop"
    clicks_after = float(np.nanmean(history.clicks[onset:]))
    clicks_before = float(np.nanmean(history.clicks[max(0, onset - 28) : onset]))
    evidence: dict[str, float | int | str | None] = {
        "shape": shape,
        "cvr_change": _pct(d_cvr),
        "ctr_change": _pct(d_ctr),
        "conversions_per_impression_change": _pct(d_conv),
        "cvr_z": z_cvr,
        "ctr_z": z_ctr,
        "clicks_per_day_before": clicks_before,
        "clicks_per_day_after": clicks_after,
        "conversions_per_day_before": float(
            np.nanmean(history.conversions[max(0, onset - 28) : onset])
        ),
        "conversions_per_day_after": float(np.nanmean(history.conversions[onset:])),
        "spend_change": _spend_change(history, onset),
        "days_since_onset": n - 1 - onset,
    }
    drop = -min(d_cvr if np.isfinite(d_cvr) else 0.0, d_ctr if np.isfinite(d_ctr) else 0.0)
    if tracking:
        message = (
            f"Conversion rate fell {_fmt_fall(_pct(d_cvr))} since {history.date_at(onset)} "
            f"while click-through held ({_fmt_pct(_pct(d_ctr))}): the shape of a tracking "
            f"outage rather than lost demand (P = {p:.0%})."
        )
        pivots: tuple[str, ...] = ("check_tracking",)
    else:
        message = (
            f"Click-through fell {_fmt_fall(_pct(d_ctr))} and conversion rate "
            f"{_fmt_pct(_pct(d_cvr))} since {history.date_at(onset)}, beyond what spend and "
            f"weekday explain: demand dropped (P = {p:.0%})."
        )
        pivots = ("budget_reallocation", "channel_shift", "audience_expansion")
    severity = _severity(-np.expm1(-drop), 0.2, 0.4)
    return [_alert(history, "performance_dip", p, severity, onset, evidence, message, pivots)]


def audience_fatigue(history: CampaignHistory, *, min_probability: float = 0.5) -> list[Alert]:
    """CTR decaying with creative age / frequency, with a differential diagnosis."""
    probs = probabilities(history)
    p = probs["audience_fatigue"]
    if p < min_probability:
        return []
    scan, n = history.scan, history.n_days
    onset = scan.onsets["ctr_ramp"]
    excess = _at(scan, "ctr", n, onset, "slope")
    ctr_scan = scan.scans["ctr"]
    hit = np.flatnonzero(ctr_scan.windows == n - onset)
    natural = float(ctr_scan.beta[hit[0], -1]) if len(hit) else 0.0
    slope = excess + (natural if history.creative_age is not None else 0.0)
    level = _at(scan, "ctr", n, onset, "level")
    elapsed = n - 1 - onset
    reference = np.exp(level - excess * elapsed / 2.0) if np.isfinite(level) else float("nan")
    current = np.exp(np.log(reference) + excess * elapsed) if np.isfinite(reference) else np.nan
    floor = FATIGUE_CTR_FLOOR * reference
    if not np.isfinite(current) or slope >= 0:
        days_left = float("inf")
    else:
        days_left = max(0.0, float(np.log(current / floor) / -slope))
    freq = _at(scan, "frequency", n, onset, "delta")
    evidence: dict[str, float | int | str | None] = {
        "ctr_decay_per_day": float(-np.expm1(slope)) if np.isfinite(slope) else float("nan"),
        "excess_decay_per_day": float(-np.expm1(excess)) if np.isfinite(excess) else float("nan"),
        "ctr_before_onset": float(reference),
        "ctr_now": float(current),
        "ctr_floor": float(floor),
        "days_until_ctr_below_floor": days_left,
        "ctr_ramp_z": scan.features["ctr_ramp"],
        # the hockey-stick fit: a ramp with no jump at the onset is wear, a jump is a step
        # (a demand drop); both as z-scores of the joint fit
        "ctr_ramp_beyond_jump_z": scan.features["ctr_bend"],
        "ctr_jump_z": scan.features["ctr_jump"],
        # the practitioners' rule in noise units: the fall of the 7-day (and 3-day) CTR from
        # the current creative's best week, beyond spend and normal wear, as z-scores
        "ctr_fall_from_creative_peak_z": scan.features["ctr_peak_drop"],
        "ctr_fall_from_creative_peak_3d_z": scan.features["ctr_peak_drop3"],
        "ctr_shape": "ramp" if scan.features["ctr_bend"] >= scan.features["ctr_jump"] else "step",
        "frequency_change": _pct(freq),
        "creative_age_days": (
            float(history.creative_age[-1]) if history.creative_age is not None else None
        ),
        "cpm_change": _pct(_at(scan, "cpm", n, onset, "delta")),
        "cvr_change": _pct(_at(scan, "cvr", n, onset, "delta")),
        "spend_change": _spend_change(history, onset),
        "p_auction_pressure": probs["competitor_pressure"],
        "p_tracking_or_demand_dip": probs["performance_dip"],
        "days_since_onset": elapsed,
    }
    rivals = (
        f"auction pressure is {'likely' if probs['competitor_pressure'] >= 0.5 else 'unlikely'}"
        f" (CPM {_fmt_pct(evidence['cpm_change'])}), conversion tracking looks "  # type: ignore[arg-type]
        f"{'broken' if probs['performance_dip'] >= 0.5 else 'intact'} "
        f"(CVR {_fmt_pct(evidence['cvr_change'])}), spend moved "  # type: ignore[arg-type]
        f"{_fmt_pct(evidence['spend_change'])}"  # type: ignore[arg-type]
        f", and the CTR fall is shaped like a {evidence['ctr_shape']} (ramp z "
        f"{scan.features['ctr_bend']:.1f}, jump z {scan.features['ctr_jump']:.1f}; a demand "
        f"drop is a step)"
    )
    horizon = (
        "already"
        if days_left == 0
        else (
            f"in about {days_left:.0f} days" if np.isfinite(days_left) else "not on current trend"
        )
    )
    message = (
        f"CTR has been wearing out since {history.date_at(onset)}: down "
        f"{_fmt_fall(current / reference - 1)} to {current:.3%}, losing "
        f"{-np.expm1(slope):.1%} a day; it falls below {floor:.3%} "
        f"({FATIGUE_CTR_FLOOR:.0%} of its earlier level) {horizon} (P = {p:.0%}). "
        f"Rivals: {rivals}."
    )
    severity = "high" if days_left <= 7 else "medium" if days_left <= 21 else "low"
    pivots = ("creative_refresh", "audience_expansion")
    return [_alert(history, "audience_fatigue", p, severity, onset, evidence, message, pivots)]


def competitor_pressure(history: CampaignHistory, *, min_probability: float = 0.5) -> list[Alert]:
    """CPM/CPC above what spend and weekday explain; impression share falling."""
    p = probabilities(history)["competitor_pressure"]
    if p < min_probability:
        return []
    scan, n = history.scan, history.n_days
    onset = scan.onsets["cpm_up"]
    d_cpm, d_ctr = _at(scan, "cpm", n, onset, "delta"), _at(scan, "ctr", n, onset, "delta")
    d_is = _at(scan, "impression_share", n, onset, "delta")
    hit = np.flatnonzero(scan.scans["cpm"].windows == n - onset)
    elasticity = float(scan.scans["cpm"].beta[hit[0], -1]) if len(hit) else float("nan")
    spend_change = _spend_change(history, onset)
    evidence: dict[str, float | int | str | None] = {
        "cpm_change_beyond_spend": _pct(d_cpm),
        # CPC's own scan (spend / clicks against its spend-adjusted baseline)
        "cpc_change_beyond_spend": _pct(_at(scan, "cpc", n, onset, "delta")),
        "cpc_z": scan.features.get("cpc_up", float("nan")),
        "ctr_change": _pct(d_ctr),
        "cpm_z": scan.features["cpm_up"],
        "impression_share_change": _pct(d_is),
        "spend_change": spend_change,
        "cpm_spend_elasticity": elasticity,
        "days_since_onset": n - 1 - onset,
    }
    share = f"; impression share {_fmt_pct(_pct(d_is))}" if np.isfinite(d_is) else ""
    message = (
        f"CPM is {_fmt_pct(_pct(d_cpm))} and CPC "
        f"{_fmt_pct(evidence['cpc_change_beyond_spend'])} above what spend and weekday "  # type: ignore[arg-type]
        f"explain since {history.date_at(onset)} (spend moved {_fmt_pct(spend_change)}, CTR "
        f"{_fmt_pct(_pct(d_ctr))}){share}: auction pressure, likely a new competitor "
        f"(P = {p:.0%})."
    )
    severity = _severity(_pct(d_cpm), 0.15, 0.4)
    pivots = ("bid_adjustment", "budget_reallocation", "channel_shift")
    return [_alert(history, "competitor_pressure", p, severity, onset, evidence, message, pivots)]


def _flight_projection(
    history: CampaignHistory, daily_mean: float, daily_sd: float
) -> dict[str, float | int | str | None]:
    """Projected flight spend against ``budget_total`` (needs ``flight_end`` in metadata)."""
    meta = history.metadata
    total, end = meta.get("budget_total"), meta.get("flight_end")
    try:
        total_f = float(total) if total is not None else float("nan")
    except (TypeError, ValueError):
        total_f = float("nan")
    if not np.isfinite(total_f) or end is None:
        return {}
    end_d = _as_date(end)
    start = meta.get("flight_start")
    start_d = _as_date(start) if start is not None else history.date_at(0)
    days = history.dates.astype("datetime64[D]")
    in_flight = days >= np.datetime64(start_d, "D")
    spent = float(np.nansum(history.spend[in_flight]))
    remaining_days = max(0, (end_d - history.last_date).days)
    mean = spent + daily_mean * remaining_days
    # day-to-day scatter plus the uncertainty of the recent pace itself (14 days of data)
    sd = max(daily_sd * np.sqrt(remaining_days + remaining_days**2 / 14.0), 1e-9)
    p_over = float(norm.sf(total_f, loc=mean, scale=sd))
    p_under = float(norm.cdf(PACING_UNDER * total_f, loc=mean, scale=sd))
    left = total_f - spent
    runs_out = None
    if daily_mean > 0 and left < daily_mean * remaining_days:
        runs_out = (history.last_date + timedelta(days=max(0.0, left) / daily_mean)).isoformat()
    return {
        "budget_total": total_f,
        "spent_in_flight": spent,
        "projected_flight_spend": mean,
        "p_flight_overspend": p_over,
        "p_flight_underdelivery": p_under,
        "budget_exhausted_on": runs_out,
        "flight_end": end_d.isoformat(),
    }


def _as_date(value: object) -> date:
    import pandas as pd

    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _money(x: float) -> str:
    return f"{x:,.0f}"


def budget_pacing(history: CampaignHistory, *, min_probability: float = 0.5) -> list[Alert]:
    """Spend against budget in the platform's own terms.

    On track is :data:`PACING_UNDER`-:data:`PACING_OVER` (90-110%) of the budget.  An
    overspend alert needs evidence against the platform's rule: the last two days, or the
    week's median day, above 110% of budget (a single overdelivery day is allowed on
    Google and Meta), a day above the platform's daily maximum, the month's spend on
    course past Google's monthly charge cap, or the flight budget running out before
    ``flight_end``; its probability is the calibrated one (:mod:`simkit.risk.calibration`).
    An underdelivery alert needs the week's spend below 90% of budget beyond its day-to-day
    scatter, leaving out days Google's monthly cap held back.
    """
    pacing = history.scan.pacing
    if pacing is None:
        return []
    p_over = probabilities(history)["budget_pacing"]
    recent = history.spend[-14:]
    recent = recent[np.isfinite(recent)]
    daily_mean = float(np.mean(recent[-7:])) if len(recent) else 0.0
    daily_sd = float(np.std(recent, ddof=1)) if len(recent) > 2 else daily_mean * 0.1
    rule = pacing.rule
    platform = {"google": "Google", "meta": "Meta"}.get(rule.name)
    # the month's spend if the rest of it ran at the week's median daily pace (robust to
    # the odd allowed overdelivery day)
    at_pace = (
        pacing.month_spend + (pacing.month_at_budget - pacing.month_spend) * pacing.median_7d
        if pacing.month_at_budget is not None
        else None
    )
    over_cap = (
        pacing.month_cap is not None
        and at_pace is not None
        and at_pace > pacing.month_cap * (1 + CAP_SLACK)
    )
    # evidence of overspend against the platform's rule, in its own words
    reasons: list[str] = []
    if pacing.over_2d > PACING_OVER:
        reasons.append(f"the last two days above {PACING_OVER:.0%} of budget")
    if pacing.median_7d > PACING_OVER:
        reasons.append(
            f"{pacing.days_above_band} of the last 7 days above {PACING_OVER:.0%} of budget"
        )
    if pacing.days_above_daily_max:
        who = f"{platform}'s" if platform else "the"
        reasons.append(
            f"{pacing.days_above_daily_max} day(s) above {who} daily maximum of "
            f"{rule.daily_max_factor:.0%} of the daily budget"
        )
    if over_cap:
        reasons.append(
            f"month-to-date spend of {_money(pacing.month_spend)} on course for "
            f"{_money(at_pace or 0)} at this pace, past Google's "
            f"monthly charge cap of {_money(pacing.month_cap or 0)} (30.4 x the average "
            "daily budget): delivery will be held back before the month ends"
        )
    k = max(min(7, pacing.n_free), 1)
    se = pacing.scatter / np.sqrt(k)
    p_under = float(norm.cdf((PACING_UNDER - pacing.ratio_free_7d) / se)) if pacing.n_free else 0.0
    flight = _flight_projection(history, daily_mean, daily_sd)
    if flight and float(flight["p_flight_overspend"]) >= 0.5:  # type: ignore[arg-type]
        when = flight["budget_exhausted_on"]
        reasons.append(
            f"the flight budget of {_money(float(flight['budget_total']))} "  # type: ignore[arg-type]
            + (f"running out on {when}" if when else "on course to be exceeded")
            + f" before the flight ends on {flight['flight_end']}"
        )
    if flight:
        p_over = max(p_over, float(flight["p_flight_overspend"]))  # type: ignore[arg-type]
        p_under = max(p_under, float(flight["p_flight_underdelivery"]))  # type: ignore[arg-type]
    if not reasons:
        p_over = min(p_over, _NO_EVIDENCE_P)
    p = max(p_over, p_under)
    if p < min_probability:
        return []
    over = p_over >= p_under
    evidence: dict[str, float | int | str | None] = {
        "direction": "overspend" if over else "underdelivery",
        "platform_rule": rule.name,
        "pacing_ratio_7d": pacing.ratio_7d,
        "median_daily_ratio_7d": pacing.median_7d,
        "spend_7d": pacing.spend_7d,
        "budget_7d": pacing.budget_7d,
        "days_above_110pct_7d": pacing.days_above_band,
        "days_above_daily_max_7d": pacing.days_above_daily_max,
        "daily_max_factor": rule.daily_max_factor,
        "month_to_date_spend": pacing.month_spend if pacing.month_cap is not None else None,
        "month_charge_cap": pacing.month_cap,
        "month_spend_at_pace": at_pace,
        "days_held_by_month_cap_7d": pacing.n_held,
        "pacing_ratio_7d_outside_cap_days": pacing.ratio_free_7d,
        "p_overspend": p_over,
        "p_underdelivery": p_under,
        **flight,
    }
    week = (
        f"{_money(pacing.spend_7d)} spent over the last 7 days against "
        f"{_money(pacing.budget_7d)} of daily budgets ({pacing.ratio_7d:.0%}; on track is "
        f"{PACING_UNDER:.0%}-{PACING_OVER:.0%})"
    )
    if over:
        message = f"Overspending: {week}, with {'; '.join(reasons)}: P(overspend) = {p_over:.0%}."
        pivots: tuple[str, ...] = ("budget_adjustment", "budget_reallocation")
    else:
        held = (
            f", leaving out {pacing.n_held} day(s) {platform}'s monthly cap held back"
            if pacing.n_held
            else ""
        )
        message = (
            f"Underdelivering: {week}{held}: {pacing.ratio_free_7d:.0%} of budget delivered, "
            f"P(underdelivery) = {p_under:.0%}."
        )
        pivots = ("bid_adjustment", "audience_expansion", "budget_reallocation")
    severity = _severity(abs(pacing.ratio_7d - 1.0), 0.1, 0.3)
    onset = pacing.onset_index if over else -1
    return [_alert(history, "budget_pacing", p, severity, onset, evidence, message, pivots)]


#: Detector registry: name -> function(history, *, min_probability, **options) -> list[Alert].
#: ``forecast_shortfall`` (:mod:`simkit.risk.forward`) fits forecasts and simulates, so it is
#: not in :data:`DEFAULT_DETECTORS`: ask for it by name or with ``forward_days``.
DETECTORS: dict[str, Detector] = {
    "performance_dip": performance_dip,
    "audience_fatigue": audience_fatigue,
    "competitor_pressure": competitor_pressure,
    "budget_pacing": budget_pacing,
    "forecast_shortfall": forecast_shortfall,
}
#: The detectors :func:`~simkit.risk.detect.detect_risks` runs unless told otherwise (the fast,
#: history-only ones).
DEFAULT_DETECTORS: tuple[str, ...] = (
    "performance_dip",
    "audience_fatigue",
    "competitor_pressure",
    "budget_pacing",
)
