"""Forward-looking risk: P(a metric falls below its threshold in the next N days).

The history detectors say what has already changed; this one asks the simulation engine
(:func:`simkit.simulate.simulate_campaign`) what the next ``horizon_days`` hold.  It forecasts
the campaign's drivers from the history cut at ``as_of`` (so it never sees a later day),
draws Monte Carlo funnel paths under the budget in force, and reads off the share of paths
in which, over the horizon,

* CPA ends above ``target_cpa`` (campaign metadata), ``P(CPA > target)``;
* ROAS ends below ``target_roas`` (campaign metadata), ``P(ROAS < target)``;
* conversions fall short of the recent run rate by more than :data:`RUN_RATE_FALL`:
  ``P(conversions < (1 - RUN_RATE_FALL) x 28-day daily mean x horizon)``.

The probabilities are Monte Carlo shares (their error is about ``0.5 / sqrt(n_paths)``); they
are as well calibrated as the forecaster's intervals are (see :mod:`simkit.forecast`), not
refitted like the history detectors.  Fitting the forecast takes seconds per campaign, which
is why :func:`~simkit.risk.detect.detect_risks` runs this detector only when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simkit.forecast import forecast_campaign
from simkit.risk.alerts import Alert
from simkit.risk.history import CampaignHistory
from simkit.simulate import simulate_campaign

__all__ = ["RUN_RATE_DAYS", "RUN_RATE_FALL", "forecast_shortfall", "history_frame"]

#: A fall of the conversions run rate by this share over the horizon is a shortfall.
RUN_RATE_FALL = 0.2
#: Days of history behind the run rate.
RUN_RATE_DAYS = 28
_MIN_DAYS = 28


def history_frame(history: CampaignHistory) -> pd.DataFrame:
    """The history back as a contract frame (one row per day with data).

    Creative ids are rebuilt from the creative age (a new creative wherever the age restarts
    at 0), so that the simulation can fit the campaign's own fatigue; the channel comes from
    the metadata when it is there.
    """
    keep = np.isfinite(history.spend)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(history.dates),
            "campaign_id": history.campaign_id,
            "spend": history.spend,
            "impressions": history.impressions,
            "clicks": history.clicks,
            "conversions": history.conversions,
            "revenue": history.revenue,
        }
    )
    if history.budget is not None:
        frame["budget"] = history.budget
    if history.creative_age is not None:
        age = history.creative_age
        restart = np.isfinite(age) & (age == 0)
        generation = np.cumsum(restart)
        frame["creative_id"] = np.where(
            np.isfinite(age), [f"{history.campaign_id}-c{g}" for g in generation], None
        )
    channel = history.metadata.get("channel")
    if channel is not None:
        frame["channel"] = str(channel)
    return frame[keep].reset_index(drop=True)


def _target(metadata: dict[str, Any] | Any, name: str) -> float | None:
    value = metadata.get(name)
    try:
        out = float(value) if value is not None else float("nan")
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) and out > 0 else None


def _forecaster(members: Sequence[str] | None):
    """The project's forecaster without its on-disk cache (a risk scan must not write)."""

    def fn(history: pd.DataFrame, campaign_id: str, horizon: int, plan: np.ndarray, seed: int):
        result = forecast_campaign(
            history,
            campaign_id,
            horizon,
            plan=plan,
            members=list(members) if members else None,
            seed=seed,
            cache=False,
        )
        return result.drivers

    return fn


def forecast_shortfall(
    history: CampaignHistory,
    *,
    min_probability: float = 0.5,
    horizon_days: int = 14,
    n_paths: int = 2000,
    seed: int = 0,
    members: Sequence[str] | None = None,
    forecast_fn: Any = None,
) -> list[Alert]:
    """Alerts for each threshold the next ``horizon_days`` are likely to miss.

    Parameters
    ----------
    history
        One campaign, cut at ``as_of`` (metadata may hold ``target_cpa``/``target_roas``).
    min_probability
        Report a threshold when P(missing it) is at least this.
    horizon_days
        How many days ahead to look.
    n_paths, seed
        Monte Carlo paths and seed: the same seed gives the same probabilities.
    members
        Forecast ensemble members (default: the forecaster's default set).
    forecast_fn
        A forecaster with the signature of :data:`simkit.simulate.campaign.ForecastFn`
        (default: :func:`simkit.forecast.forecast_campaign`, uncached).

    Returns an empty list when the history is shorter than 28 days or has no conversions.
    """
    frame = history_frame(history)
    if len(frame) < _MIN_DAYS:
        return []
    recent = frame.tail(RUN_RATE_DAYS)
    run_rate = float(recent["conversions"].sum()) / len(recent)
    if run_rate <= 0:
        return []
    floor = (1.0 - RUN_RATE_FALL) * run_rate * horizon_days
    target_cpa = _target(history.metadata, "target_cpa")
    target_roas = _target(history.metadata, "target_roas")
    result = simulate_campaign(
        frame,
        history.campaign_id,
        horizon_days,
        n_paths=n_paths,
        seed=seed,
        outcome="conversions",
        goal=floor,
        target_cpa=target_cpa,
        target_roas=target_roas,
        forecast_fn=forecast_fn or _forecaster(members),
    )
    totals, probs = result.totals, result.probabilities
    checks: list[tuple[str, float, float | None, str, str]] = [
        (
            "conversions",
            1.0 - probs["p_conversions_ge_goal"],
            floor,
            f"conversions fall below {floor:,.0f} ({1 - RUN_RATE_FALL:.0%} of the "
            f"{RUN_RATE_DAYS}-day run rate of {run_rate:,.1f} a day)",
            "run_rate",
        )
    ]
    if target_cpa is not None:
        checks.append(
            (
                "cpa",
                1.0 - probs["p_cpa_le_target"],
                target_cpa,
                f"CPA ends above the target of {target_cpa:,.2f}",
                "target_cpa",
            )
        )
    if target_roas is not None:
        checks.append(
            (
                "roas",
                1.0 - probs["p_roas_ge_target"],
                target_roas,
                f"ROAS ends below the target of {target_roas:,.2f}",
                "target_roas",
            )
        )
    alerts = []
    start, end = result.dates[0].date(), result.dates[-1].date()
    for metric, p, threshold, words, source in checks:
        if p < min_probability:
            continue
        q = totals[metric]
        expected = q["p50"]
        evidence: dict[str, float | int | str | None] = {
            "metric": metric,
            "threshold": threshold,
            "threshold_source": source,
            "probability_below_threshold" if metric != "cpa" else "probability_above_threshold": p,
            "horizon_days": horizon_days,
            "horizon_start": start.isoformat(),
            "horizon_end": end.isoformat(),
            "median": expected,
            "p5": q.get("p5"),
            "p95": q.get("p95"),
            "run_rate_per_day": run_rate,
            "p_budget_exhausted": probs.get("p_budget_exhausted"),
            "n_paths": n_paths,
            "seed": seed,
        }
        gap = (expected - threshold) / threshold if threshold else float("nan")
        if metric == "cpa":
            gap = -gap
        severity = "high" if gap <= -0.2 else "medium" if gap <= -0.05 else "low"
        message = (
            f"In the next {horizon_days} days ({start} to {end}) {words} with P = {p:.0%} "
            f"(simulated median {expected:,.2f}, 90% range {q.get('p5', np.nan):,.2f} to "
            f"{q.get('p95', np.nan):,.2f})."
        )
        pivots = (
            ("bid_adjustment", "budget_reallocation", "creative_refresh")
            if metric != "conversions"
            else ("budget_adjustment", "creative_refresh", "audience_expansion")
        )
        alerts.append(
            Alert(
                campaign_id=history.campaign_id,
                type="forecast_shortfall",
                probability=p,
                severity=severity,
                onset=None,
                evidence=evidence,
                message=message,
                suggested_pivots=pivots,
                as_of=history.last_date,
            )
        )
    return alerts
