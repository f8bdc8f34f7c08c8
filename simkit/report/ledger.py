"""The report's forecast-ledger part: what it issues, and "How our last forecasts did".

:func:`issue` runs beside the engines (:func:`simkit.report.engines.compute_engines`): it
builds the ledger records of the forecast the report shows (``champion``) and of each
challenger of ``params.challengers`` (run in shadow: recorded and scored, never shown), and
reads how this campaign's earlier forecasts did on the data the report reads
(:func:`simkit.ledger.campaign_health`, read-only).  The records travel in the report's
``summary.json`` (``numbers.ledger.records``); the runner stores them in the ledger when the
campaign is done (:func:`simkit.ledger.record_report`), so a notebook run alone (nbval, a
frozen run) writes nothing anywhere.

An alert on the campaign's earlier forecasts, or a refit asked for by ``simkit ledger
score``, is the reason this report's fit is a refit: the report's fits are never read from
a cache, and the section says which alert made the previous fits stale.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from simkit.forecast import forecast_campaign
from simkit.ledger import CHAMPION, CampaignHealth, ForecastRecord, campaign_health
from simkit.report.context import CampaignContext
from simkit.report.section import Section, drawn, skipped
from simkit.simulate import simulate_campaign
from simkit.simulate.engine import EngineConfig
from simkit.viz import fan_chart

if TYPE_CHECKING:
    from simkit.report.engines import EngineResults

__all__ = ["LedgerResults", "issue", "ledger_section"]

log = logging.getLogger(__name__)
TITLE = "How our last forecasts did"
_KIND_WORDS = {
    "coverage": "too few actual days inside the 80% interval",
    "worse_than_naive": "errors above the seasonal naive forecast's",
    "drift": "actuals drifting away from the forecast",
}


@dataclass(frozen=True)
class LedgerResults:
    """What the report issues to the ledger and what it says about earlier forecasts."""

    records: tuple[dict[str, Any], ...]
    health: CampaignHealth | None
    refit_reasons: tuple[str, ...] = ()
    pending_refit_ids: tuple[int, ...] = ()
    challenger_errors: dict[str, str] = field(default_factory=dict)

    @property
    def forecast_id(self) -> str | None:
        return next((r["forecast_id"] for r in self.records if r["config"] == CHAMPION), None)


def _alert_words(alert: dict[str, Any]) -> str:
    what = _KIND_WORDS.get(alert["kind"], alert["kind"])
    return f"{alert['kind'].replace('_', ' ')} on {alert['metric']} since {alert['since']} ({what})"


def issue(ctx: CampaignContext, results: EngineResults, seed: int) -> LedgerResults:
    """The champion's and challengers' records, the campaign's health, and why it refits."""
    p = ctx.params
    sim, forecast = results.simulation, results.forecast
    common = {
        "source": "run",
        "params_hash": ctx.params_hash,
        "data_hash": ctx.data_hash,
    }
    records = []
    if sim is not None:
        records.append(ForecastRecord.from_simulation(sim, forecast=forecast, **common).to_dict())
    errors: dict[str, str] = {}
    for challenger in p.challengers if sim is not None else ():
        try:
            fc = forecast
            if challenger.members is not None and list(challenger.members) != list(p.members):
                fc = forecast_campaign(
                    ctx.rows,
                    ctx.campaign_id,
                    p.horizon_days,
                    plan=ctx.plan.to_numpy(),
                    members=list(challenger.members),
                    seed=seed,
                    max_cutoffs=p.backtest_cutoffs,
                    cache=False,
                )
            config = (
                EngineConfig(persistent_share=challenger.persistent_share)
                if challenger.persistent_share is not None
                else None
            )
            shadow = simulate_campaign(
                ctx.rows,
                ctx.campaign_id,
                p.horizon_days,
                plan_file=p.plan,
                n_paths=p.n_paths,
                seed=seed,
                target_cpa=ctx.target_cpa,
                target_roas=ctx.target_roas,
                drivers=fc.drivers,
                config=config,
            )
            records.append(
                ForecastRecord.from_simulation(
                    shadow, forecast=fc, config=challenger.name, **common
                ).to_dict()
            )
        except Exception as exc:  # noqa: BLE001 - a shadow never fails the report
            errors[challenger.name] = f"{type(exc).__name__}: {exc}"
            log.warning("challenger %s of %s failed: %s", challenger.name, ctx.campaign_id, exc)
    health = campaign_health(ctx.rows, ctx.campaign_id)
    reasons: list[str] = []
    pending: list[int] = []
    if health is not None:
        reasons = [_alert_words(a) for a in health.alerts]
        for request in health.pending_refits:
            pending.append(int(request["id"]))
            reasons.extend(
                f"{_alert_words(a)} (found by simkit ledger score)"
                for a in request["reason"]
                if _alert_words(a) not in reasons
            )
    return LedgerResults(
        records=tuple(records),
        health=health,
        refit_reasons=tuple(dict.fromkeys(reasons)),
        pending_refit_ids=tuple(pending),
        challenger_errors=errors,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def ledger_section(ctx: CampaignContext, results: EngineResults) -> Section:
    """ "How our last forecasts did": predicted against actual with the bands, coverage and
    error to date, alerts, feedback; and what this report recorded."""
    led: LedgerResults | None = getattr(results, "ledger", None)
    if "forecast" in results.skipped:
        return skipped("ledger", TITLE, f"{results.skipped['forecast']}.")
    if led is None:
        return skipped("ledger", TITLE, "No forecast was issued for this campaign.")
    health = led.health
    words: list[str] = []
    tables: list[tuple[str, pd.DataFrame]] = []
    charts: list[Any] = []
    if led.forecast_id:
        words.append(
            f"This report's forecast is recorded in the forecast ledger as {led.forecast_id}; "
            "it will be scored as the actuals arrive (simkit ledger score)."
        )
    shadows = [r["config"] for r in led.records if r["config"] != CHAMPION]
    if shadows:
        words.append(
            "Challenger configuration(s) run in shadow and recorded, not shown: "
            + ", ".join(shadows)
            + "."
        )
    for name, error in led.challenger_errors.items():
        words.append(f"Challenger {name} could not be computed: {error}.")
    if led.refit_reasons:
        words.append(
            "Refitted from scratch for this report, because the earlier forecasts showed: "
            + "; ".join(led.refit_reasons)
            + "."
        )
    if health is None or health.forecasts == 0:
        words.append("No earlier forecast of this campaign is in the ledger yet.")
    elif not health.scored:
        words.append(
            f"{health.forecasts} earlier forecast(s) recorded; none has actuals yet to be "
            "scored against."
        )
    else:
        pooled = health.pooled or {}
        words.append(
            f"Scored so far: {pooled.get('forecasts', 0)} forecast(s) over "
            f"{pooled.get('days_scored', 0)} day(s) with actuals. The 80% interval held the "
            f"actual on {_pct(pooled.get('coverage_80'))} of days (nominal 80%), the 50% "
            f"interval on {_pct(pooled.get('coverage_50'))} (nominal 50%); MASE "
            + (f"{pooled['mase']:.2f}" if pooled.get("mase") is not None else "-")
            + " against the weekly seasonal naive; bias "
            + _pct(pooled.get("bias"))
            + " (positive: forecasts too high)."
        )
        rows = [
            {
                "forecast": s["forecast_id"],
                "configuration": s["config"],
                "as of": s["as_of"],
                "days scored": s["days_scored"],
                "80% coverage": s["coverage_80"],
                "50% coverage": s["coverage_50"],
                "MASE": s["mase"],
                "CRPS": s["crps"],
                "bias": s["bias"],
            }
            for s in health.scored
        ]
        tables.append(("Earlier forecasts, scored", pd.DataFrame(rows).round(3)))
        latest = health.latest
        if latest is not None:
            band = pd.DataFrame(
                {
                    "date": pd.to_datetime(latest["daily"]["date"]),
                    "p10": latest["daily"]["p10"],
                    "p50": latest["daily"]["p50"],
                    "p90": latest["daily"]["p90"],
                }
            )
            charts.append(
                functools.partial(
                    fan_chart,
                    ctx.daily,
                    band,
                    metric=latest["metric"],
                    history_days=int(latest["horizon_days"]) + 28,
                )
            )
            words.append(
                f"The chart shows the forecast issued as of {latest['as_of']} (p10-p90 band "
                "and median) against what happened."
            )
    if health is not None and health.alerts:
        alerts = pd.DataFrame(
            [
                {"alert": a["kind"], "metric": a["metric"], "since": a["since"]}
                for a in health.alerts
            ]
        )
        tables.append(("Alerts on the earlier forecasts", alerts))
    elif health is not None and health.scored:
        words.append("No degradation or drift alert.")
    if health is not None and health.feedback:
        feedback = pd.DataFrame(
            [
                {
                    "on": f["target_id"],
                    "useful": "yes" if f["useful"] else "no",
                    "note": f["note"] or "",
                    "by": f["given_by"],
                    "when": f["given_at"][:10],
                }
                for f in health.feedback
            ]
        )
        tables.append(("Feedback from readers", feedback))
    pooled = (health.pooled if health is not None else None) or {}
    return Section(
        "ledger",
        TITLE,
        text=tuple(words),
        tables=tuple(tables),
        charts=drawn(*charts),
        numbers={
            "forecast_id": led.forecast_id,
            "records": list(led.records),
            "status": health.status if health is not None else "no forecasts",
            "coverage_80": pooled.get("coverage_80"),
            "mase": pooled.get("mase"),
            "alerts": list(health.alerts) if health is not None else [],
            "refit_reasons": list(led.refit_reasons),
            "pending_refit_ids": list(led.pending_refit_ids),
            "feedback": len(health.feedback) if health is not None else 0,
        },
    )
