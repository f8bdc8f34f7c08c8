"""All scans of one campaign history, and the features the calibrated detectors read.

Each funnel metric is scanned on its natural log scale with the drivers that move it for
reasons that are not a risk:

===================  ==========================================  =============================
metric               value and counting noise                    regressors beyond day-of-week
===================  ==========================================  =============================
CPM                  log(1000 spend / impressions), 1/impr.      log spend (auctions get dearer
                                                                 as you buy more)
CPC                  log(spend / clicks), 1/clicks               log spend
CTR                  log(clicks / impressions), 1/clicks         log spend, creative age (the
                                                                 normal slow wear of a creative)
CVR                  log(conversions / clicks), 1/conversions    log spend
frequency            log(impressions / reach)                    log spend, creative age
impression share     log(impression share)                       log spend
===================  ==========================================  =============================

Fatigue also reads the practitioners' rule in noise units (:func:`_peak_drop`): the fall of
the 7-day and 3-day CTR from the current creative's best week, beyond spend and normal wear.

Pacing is read in the platform's own terms (:func:`_pacing`): spend / budget by day and by
week against the on-track band (90-110%), the platform's daily maximum (Google 2x, Meta
1.25x the daily budget) and Google's monthly charge cap (30.4 x the average daily budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simkit.data.panel import dow_dummies
from simkit.risk._scan import WINDOWS, Scan, scan_metric
from simkit.simulate.budget import PacingRule, pacing_rule_for

if TYPE_CHECKING:  # annotations only: the history imports the scan, not the reverse
    from simkit.risk.history import CampaignHistory

_BIG = 1e3  # prior sd that leaves a coefficient (the intercept) free
#: On track: spend between these multiples of the budget (a day or a week).
ON_TRACK_LOW, ON_TRACK_HIGH = 0.90, 1.10
#: A day counts above the platform's daily maximum beyond this slack (rounding, late
#: spend reports).
_DAILY_SLACK = 1.05
_FEATURE_CLIP = (-3.0, 10.0)


@dataclass(frozen=True)
class Pacing:
    """Spend against budget in the platform's own terms (``None`` when no budget is known).

    ``ratio`` is the daily spend / budget; the ``*_7d`` figures cover the last 7 calendar
    days with data.  ``over_2d`` is the lower of the last two days' ratios (a single day
    above budget is allowed overdelivery on Google and Meta; two in a row rarely are),
    ``median_7d`` the median daily ratio; ``days_above_band`` counts days above
    :data:`ON_TRACK_HIGH` x budget and ``days_above_daily_max`` days above what the
    platform (``rule``) may spend in a day.  ``month_*`` are the Google monthly charge cap
    terms of the current month (``month_cap`` ``None`` for platforms without one): spend
    to date, the cap (30.4 x the month's average daily budget) and the month's spend if the
    rest of it ran at the budget in force.  ``ratio_free_7d`` leaves out days the cap held
    back (``n_held``), which are the platform keeping its rule, not underdelivery.
    """

    ratio: np.ndarray
    budget: np.ndarray
    rule: PacingRule
    ratio_7d: float
    spend_7d: float
    budget_7d: float
    over_2d: float
    median_7d: float
    days_above_band: int
    days_above_daily_max: int
    largest_day: float
    month_spend: float
    month_cap: float | None
    month_at_budget: float | None
    month_days_left: int
    ratio_free_7d: float
    n_free: int
    n_held: int
    scatter: float
    onset_index: int


@dataclass(frozen=True)
class HistoryScan:
    """Scans by metric name, the pacing summary, and the clipped detector features."""

    scans: dict[str, Scan]
    pacing: Pacing | None
    features: dict[str, float] = field(default_factory=dict)
    onsets: dict[str, int] = field(default_factory=dict)


def _log_ratio(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(num/den) with a half-count correction, and its counting variance ~ 1/num."""
    with np.errstate(all="ignore"):
        ok = (den > 0) & np.isfinite(num) & np.isfinite(den)
        y = np.where(ok, np.log((num + 0.5) / (den + 0.5)), np.nan)
        v = np.where(ok, 1.0 / (num + 0.5), np.nan)
    return y, v


def scan_history(history: CampaignHistory, windows: tuple[int, ...] = WINDOWS) -> HistoryScan:
    """Scan every metric the history holds; see the module docstring.

    ``windows`` are the candidate onsets in days before the end (the detectors' 1-21; a
    single longer window measures whether an older change is still in force).
    """
    n = history.n_days
    dow = dow_dummies(history.dates)
    with np.errstate(all="ignore"):
        log_spend = np.where(history.spend > 0, np.log(history.spend), np.nan)
    centre = np.nanmean(log_spend) if np.isfinite(log_spend).any() else 0.0
    ls = log_spend - centre
    age = history.creative_age if history.creative_age is not None else np.arange(n, dtype=float)
    age = np.where(np.isfinite(age), age, 0.0)
    ones = np.ones((n, 1))

    def design(*extra: np.ndarray) -> np.ndarray:
        return np.hstack([ones, dow, *(e[:, None] for e in extra)])

    def prior(*extra: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        means = [0.0] + [0.0] * 6 + [m for m, _ in extra]
        sds = [_BIG] + [0.15] * 6 + [s for _, s in extra]
        return np.array(means), np.array(sds)

    scans: dict[str, Scan] = {}
    imp, clicks, conv = history.impressions, history.clicks, history.conversions
    with np.errstate(all="ignore"):
        cpm_ok = (history.spend > 0) & (imp > 0)
        y_cpm = np.where(
            cpm_ok, np.log(1000.0 * history.spend / np.where(cpm_ok, imp, 1.0)), np.nan
        )
        v_cpm = np.where(cpm_ok, 1.0 / np.where(cpm_ok, imp, 1.0), np.nan)
    scans["cpm"] = scan_metric(
        y_cpm,
        v_cpm,
        design(ls),
        *prior((0.3, 0.3)),
        exposure=1000.0 * history.spend,
        exposure_sign=-1.0,
        windows=windows,
    )
    # CPC: what competitors' bids do to the price of a click, beyond spend and weekday (a
    # rival's entry raises it, as it raises CPM; counting noise from the clicks)
    with np.errstate(all="ignore"):
        cpc_ok = (history.spend > 0) & (clicks > 0)
        y_cpc = np.where(cpc_ok, np.log(history.spend / np.where(cpc_ok, clicks, 1.0)), np.nan)
        v_cpc = np.where(cpc_ok, 1.0 / np.where(cpc_ok, clicks, 1.0), np.nan)
    scans["cpc"] = scan_metric(y_cpc, v_cpc, design(ls), *prior((0.3, 0.3)), windows=windows)
    y_ctr, v_ctr = _log_ratio(clicks, imp)
    scans["ctr"] = scan_metric(
        y_ctr,
        v_ctr,
        design(ls, age),
        *prior((0.0, 0.1), (0.0, 0.005)),
        exposure=imp,
        windows=windows,
    )
    y_cvr, v_cvr = _log_ratio(conv, clicks)
    scans["cvr"] = scan_metric(
        y_cvr, v_cvr, design(ls), *prior((0.0, 0.1)), exposure=clicks, windows=windows
    )
    if history.frequency is not None:
        with np.errstate(all="ignore"):
            y_f = np.where(history.frequency > 0, np.log(history.frequency), np.nan)
        scans["frequency"] = scan_metric(
            y_f,
            np.zeros(n),
            design(ls, age),
            *prior((0.0, 0.3), (0.0, 0.02)),
            sigma_floor=0.02,
            windows=windows,
        )
    if history.impression_share is not None:
        with np.errstate(all="ignore"):
            y_is = np.where(history.impression_share > 0, np.log(history.impression_share), np.nan)
        scans["impression_share"] = scan_metric(
            y_is, np.zeros(n), design(ls), *prior((0.25, 0.3)), sigma_floor=0.02, windows=windows
        )
    pacing = _pacing(history)

    features: dict[str, float] = {}
    onsets: dict[str, int] = {}
    for name, metric, stat, sign in (
        ("cpm_up", "cpm", "z_step", 1.0),
        ("ctr_down", "ctr", "z_step", -1.0),
        ("ctr_ramp", "ctr", "z_ramp", -1.0),
        ("cvr_down", "cvr", "z_step", -1.0),
        # a CVR fall that lands over days (conversions attributed late) is a ramp first
        ("cvr_ramp", "cvr", "z_ramp", -1.0),
        ("cpc_up", "cpc", "z_step", 1.0),
        ("frequency_up", "frequency", "z_step", 1.0),
        ("impression_share_down", "impression_share", "z_step", -1.0),
        # the same steps by GLS on the window's full covariance (see _scan)
        ("cpm_up_gls", "cpm", "z_step_gls", 1.0),
        ("cvr_down_gls", "cvr", "z_step_gls", -1.0),
    ):
        value, i = scans[metric].best(stat, sign) if metric in scans else (float("nan"), -1)
        features[name] = float(np.clip(value, *_FEATURE_CLIP)) if np.isfinite(value) else 0.0
        onsets[name] = n - int(scans[metric].windows[i]) if i >= 0 else -1
    # shape of the CTR fall (fatigue is a ramp from zero, a demand drop a jump): the jump of
    # the joint jump + ramp fit at the best step window, and its ramp at the best ramp window
    for name, metric, stat, at, sign in (
        ("ctr_jump", "ctr", "z_jump", "ctr_down", -1.0),
        ("ctr_bend", "ctr", "z_bend", "ctr_ramp", -1.0),
    ):
        value = float("nan")
        if metric in scans and onsets[at] >= 0:
            s = scans[metric]
            hit = np.flatnonzero(s.windows == n - onsets[at])
            value = sign * float(getattr(s, stat)[hit[0]]) if len(hit) else float("nan")
        features[name] = float(np.clip(value, *_FEATURE_CLIP)) if np.isfinite(value) else 0.0
    # ramp against step by GLS, each at its best onset: the difference of their chi-squares
    # is a likelihood ratio of the shapes (positive: a ramp fits better)
    ctr = scans["ctr"]
    ramp_g, _ = ctr.best("z_ramp_gls", -1.0)
    step_g, _ = ctr.best("z_step_gls", -1.0)
    for name, value in (("ctr_ramp_gls", ramp_g), ("ctr_step_gls", step_g)):
        features[name] = float(np.clip(value, *_FEATURE_CLIP)) if np.isfinite(value) else 0.0
    if np.isfinite(ramp_g) and np.isfinite(step_g):
        shape = (max(ramp_g, 0.0) ** 2 - max(step_g, 0.0) ** 2) / 10.0
        features["ctr_ramp_vs_step"] = float(np.clip(shape, -10.0, 10.0))
    else:
        features["ctr_ramp_vs_step"] = 0.0
    for name, value in _peak_drop(history, scans["ctr"], ls, age).items():
        features[name] = float(np.clip(value, *_FEATURE_CLIP)) if np.isfinite(value) else 0.0
    if "frequency" in scans:
        value, i = scans["frequency"].best("z_ramp", 1.0)
        features["frequency_ramp"] = (
            float(np.clip(value, *_FEATURE_CLIP)) if np.isfinite(value) else 0.0
        )
    else:
        features["frequency_ramp"] = 0.0
    if pacing is not None:
        features.update(_pacing_features(pacing))
        onsets["pace_over"] = pacing.onset_index
    return HistoryScan(scans=scans, pacing=pacing, features=features, onsets=onsets)


def _peak_drop(
    history: CampaignHistory, ctr: Scan, ls: np.ndarray, age: np.ndarray, lookback: int = 42
) -> dict[str, float]:
    """The practitioners' fatigue rule in noise units, within the current creative.

    The 7-day log CTR (clicks / impressions of 7 days, so day-of-week cancels) is adjusted
    for what spend and the creative's normal wear explain (the CTR scan's baseline
    coefficients); its peak over the current creative's life (at most ``lookback`` days) is
    compared with the last 7 days (``ctr_peak_drop``) and the last 3 days
    (``ctr_peak_drop3``), each divided by the difference's standard error: binomial counting
    noise of both windows plus the campaign's own AR(1) noise (the scan's ``sigma``, ``phi``).
    A fall from the creative's own best week is the rule's signal; the scale makes a 20% fall
    on a noisy campaign count less than on a quiet one.
    """
    out = {"ctr_peak_drop": float("nan"), "ctr_peak_drop3": float("nan")}
    n = history.n_days
    hit = np.flatnonzero(ctr.windows == 7)
    if len(hit) == 0 or not np.isfinite(ctr.sigma[hit[0]]):
        return out
    j = hit[0]
    beta, sigma, phi = ctr.beta[j], float(ctr.sigma[j]), float(ctr.phi[j])
    start = 0
    if history.creative_age is not None and np.isfinite(history.creative_age[-1]):
        start = n - 1 - int(history.creative_age[-1])
    start = max(start, n - lookback, 0)
    if n - start < 10:
        return out
    clicks = np.nan_to_num(history.clicks[start:], nan=0.0)
    imp = np.nan_to_num(history.impressions[start:], nan=0.0)
    drift = beta[7] * np.nan_to_num(ls[start:]) + beta[8] * age[start:]
    cc, ci, cd = (np.concatenate([[0.0], np.cumsum(a)]) for a in (clicks, imp, drift))

    def window(width: int, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, i = cc[ends] - cc[ends - width], ci[ends] - ci[ends - width]
        level = np.log((c + 0.5) / (i + 0.5)) - (cd[ends] - cd[ends - width]) / width
        return level, c

    m = n - start
    ends = np.arange(7, m + 1)
    level7, c7 = window(7, ends)
    peak = int(np.argmax(level7[:-1])) if len(level7) > 1 else 0
    lags = np.abs(np.subtract.outer(np.arange(7), np.arange(7)))
    for name, width in (("ctr_peak_drop", 7), ("ctr_peak_drop3", 3)):
        now, c_now = window(width, np.array([m]))
        ar = sigma**2 * float(np.sum(phi ** lags[:width, :width])) / width**2
        ar_peak = sigma**2 * float(np.sum(phi**lags)) / 49.0
        var = 1.0 / (c_now[0] + 0.5) + 1.0 / (c7[peak] + 0.5) + ar + ar_peak
        out[name] = float((level7[peak] - now[0]) / np.sqrt(var))
    return out


def _pacing_features(pacing: Pacing) -> dict[str, float]:
    """Pacing evidence in budget units, zero while spend is on track.

    Each feature is how far spend runs above what is on track or allowed, floored at 0:
    ``pace_over_2d`` the lower of the last two days' ratios above :data:`ON_TRACK_HIGH`,
    ``pace_over_7d`` the week's median daily ratio above it, ``pace_over_daily_max`` the
    largest day above the platform's daily maximum.  Floored so that campaigns that pace
    under budget and campaigns that hug it with the odd allowed overdelivery day read the
    same (0): a model fitted on one kind does not learn where the other kind's on-track
    spend sits.
    """

    def above(value: float, limit: float) -> float:
        return float(np.clip(value - limit, 0.0, 3.0)) if np.isfinite(value) else 0.0

    return {
        "pace_over_2d": above(pacing.over_2d, ON_TRACK_HIGH),
        "pace_over_7d": above(pacing.median_7d, ON_TRACK_HIGH),
        "pace_over_daily_max": above(
            pacing.largest_day, pacing.rule.daily_max_factor * _DAILY_SLACK
        ),
    }


def _budget(history: CampaignHistory) -> np.ndarray | None:
    if history.budget is not None:
        return history.budget
    daily = history.metadata.get("budget_daily")
    try:
        value = float(daily) if daily is not None else float("nan")
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        return None
    return np.full(history.n_days, value)


def platform_rule(history: CampaignHistory) -> PacingRule:
    """The platform's pacing rule: from the metadata's ``platform`` or ``channel``, else
    the data's own channel (``none``, never above budget, when nothing names one)."""
    for key in ("platform", "channel"):
        value = history.metadata.get(key)
        if value is not None and pacing_rule_for(str(value)).name != "none":
            return pacing_rule_for(str(value))
    return pacing_rule_for(history.channel)


def _month_terms(
    history: CampaignHistory, budget: np.ndarray, rule: PacingRule
) -> tuple[np.ndarray, float, float | None, float | None, int]:
    """The period cap in force: which days the cap held back, and for the current month
    ``(spend to date, cap, spend at the budget in force to the month's end, days left)``.

    Google's cap is ``period_cap_days`` (30.4) x the month's average daily budget; the
    days not seen yet are taken at the budget in force on the last day.  A day is *held
    back* when the month's spend before it left less than that day's budget under the
    cap: low spend then is the platform keeping its rule, not underdelivery.
    """
    n = history.n_days
    held = np.zeros(n, dtype=bool)
    if rule.period != "M" or rule.period_cap_days is None:
        return held, float("nan"), None, None, 0
    days = pd.DatetimeIndex(history.dates)
    month = np.asarray(days.year * 12 + days.month)
    spend = np.nan_to_num(history.spend, nan=0.0)
    b = np.where(np.isfinite(budget), budget, np.nan)
    for m in np.unique(month):
        sel = np.flatnonzero(month == m)
        in_month = int(days[sel[0]].days_in_month)
        known = b[sel]
        if not np.isfinite(known).any():
            continue
        last = float(known[np.isfinite(known)][-1])
        total_budget = float(np.nansum(known)) + last * (in_month - len(sel))
        cap = rule.period_cap_days * total_budget / in_month
        used = np.concatenate([[0.0], np.cumsum(spend[sel])[:-1]])
        held[sel] = cap - used < np.where(np.isfinite(known), known, last)
    sel = np.flatnonzero(month == month[-1])
    in_month = int(days[-1].days_in_month)
    known = b[sel]
    if not np.isfinite(known).any():
        return held, float("nan"), None, None, 0
    last = float(known[np.isfinite(known)][-1])
    left = in_month - int(days[-1].day)
    total_budget = float(np.nansum(known)) + last * (in_month - len(sel))
    cap = rule.period_cap_days * total_budget / in_month
    spent = float(np.sum(spend[sel]))
    return held, spent, cap, spent + last * left, left


def _pacing(history: CampaignHistory, max_window: int = 7) -> Pacing | None:
    """Spend against the budget in the platform's own terms (see :class:`Pacing`).

    The scatter of the daily ratio comes from the days before the last week (median
    absolute deviation, at least 0.02).  The onset is the first day of the current run of
    days spent above :data:`ON_TRACK_HIGH` x budget.
    """
    budget = _budget(history)
    if budget is None:
        return None
    with np.errstate(all="ignore"):
        ratio = np.where(budget > 0, history.spend / budget, np.nan)
    finite = np.flatnonzero(np.isfinite(ratio))
    if len(finite) == 0:
        return None
    rule = platform_rule(history)
    before = ratio[max(0, len(ratio) - 49) : max(0, len(ratio) - max_window)]
    before = before[np.isfinite(before)]
    if len(before) >= 7:
        scatter = max(1.4826 * float(np.median(np.abs(before - np.median(before)))), 0.02)
    else:
        scatter = 0.05
    recent_idx = finite[finite >= len(ratio) - max_window]
    recent = ratio[recent_idx]
    if len(recent) == 0:
        return None
    spend_7d = float(np.nansum(history.spend[recent_idx]))
    budget_7d = float(np.nansum(budget[recent_idx]))
    held, month_spend, cap, at_budget, left = _month_terms(history, budget, rule)
    free = recent_idx[~held[recent_idx]]
    free_budget = float(np.nansum(budget[free]))
    ratio_free = float(np.nansum(history.spend[free]) / free_budget) if free_budget > 0 else 1.0
    last2 = ratio[finite[-2:]] if len(finite) >= 2 and finite[-2] >= len(ratio) - 2 else None
    over = np.isfinite(ratio) & (ratio > ON_TRACK_HIGH)
    onset = len(ratio) - 1
    if over[-1]:
        while onset > 0 and over[onset - 1]:
            onset -= 1
    return Pacing(
        ratio=ratio,
        budget=budget,
        rule=rule,
        ratio_7d=spend_7d / budget_7d if budget_7d > 0 else float("nan"),
        spend_7d=spend_7d,
        budget_7d=budget_7d,
        over_2d=float(np.min(last2)) if last2 is not None else float("nan"),
        median_7d=float(np.median(recent)),
        days_above_band=int(np.sum(recent > ON_TRACK_HIGH)),
        days_above_daily_max=int(np.sum(recent > rule.daily_max_factor * _DAILY_SLACK)),
        largest_day=float(np.max(recent)),
        month_spend=month_spend,
        month_cap=cap,
        month_at_budget=at_budget,
        month_days_left=left,
        ratio_free_7d=ratio_free,
        n_free=len(free),
        n_held=int(np.sum(held[recent_idx])),
        scatter=scatter,
        onset_index=int(onset) if over[-1] else -1,
    )
