"""Pivots in reports: one portfolio-level pivot computation per run, read by every report.

The pivot engine (:func:`simkit.pivots.find_pivots`) fits a response curve per campaign,
optimises the daily budget across *all the campaigns of the data file* and ranks simulated
pivots.  That is one computation per run, not one per campaign: ``simkit run`` calls
:func:`compute_run_pivots` before the batch and writes :data:`PIVOTS_FILE` into the output
folder; each campaign report (:func:`pivots_section`) and the portfolio report
(:func:`reallocation_section`) read it through :func:`run_pivots`.

A report that finds no file, or one made from other data or settings (a report run by hand,
by nbval, or a stale file from an earlier run), computes the same thing itself with the same
seed, so its numbers are identical either way (a test checks this).  The run's seed is
passed to the engine as it is, so the cards equal ``simkit pivots --seed`` and the
dashboard's cards for the same seed and settings.  The payload is the
JSON form of :meth:`~simkit.pivots.PivotResult.to_dict`, so both paths build sections from
the same plain values.

The portfolio is the whole data file, whichever campaigns a run reports on: a budget moves
between the account's campaigns, and a campaign's report must not change with the set of
reports run beside it.  CPA/ROAS targets are not imposed as optimiser constraints (as in
``simkit pivots`` without ``--use-targets``); the section says so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit import __version__
from simkit.params import RunParams
from simkit.paths import atomic_write_text, ensure_inside
from simkit.pivots import find_pivots, session_engine
from simkit.pivots.sessions import CampaignEngine
from simkit.report.section import Section
from simkit.simulate import WhatIfSession

__all__ = [
    "PIVOTS_FILE",
    "PIVOT_SETTINGS",
    "compute_run_pivots",
    "pivot_engine",
    "pivot_key",
    "pivots_section",
    "reallocation_section",
    "run_pivots",
    "write_run_pivots",
]

log = logging.getLogger(__name__)

#: The run's pivot payload, in the output folder beside ``run.json``.
PIVOTS_FILE = "pivots.json"
#: Engine settings of a report run (cheap enough for one computation per run on 2 cores):
#: curve draws, simulation paths, objective and the largest relative budget move.
PIVOT_SETTINGS: dict[str, Any] = {
    "n_draws": 200,
    "n_paths": 1000,
    "objective": "conversions",
    "max_change": 0.5,
}
_TOP = 5
#: Decimals shown per column of the pivot impact tables (rounding happens only in reports).
_IMPACT_DECIMALS = {
    "conversions p10": 1,
    "conversions p50": 1,
    "conversions p90": 1,
    "revenue p50": 0,
    "CPA change p50": 2,
    "P(gain > 0)": 2,
    "score": 1,
}


def pivot_key(params: RunParams, data_hash: str) -> dict[str, Any]:
    """What a pivot payload depends on; a saved payload is reused only when it matches."""
    return {
        "data_hash": data_hash,
        "seed": params.seed,
        "horizon_days": params.horizon_days,
        "simkit": __version__,
        **PIVOT_SETTINGS,
    }


def compute_run_pivots(
    params: RunParams,
    loaded: Any,
    data_hash: str,
    *,
    session_provider: Callable[[str], WhatIfSession | None] | None = None,
) -> dict[str, Any]:
    """Run the pivot engine once over every campaign in the data.

    Parameters
    ----------
    params
        The run's validated parameters (seed, horizon).
    loaded
        The loaded data (:func:`simkit.data.load`), all campaigns.
    data_hash
        :func:`~simkit.report.data_hash` of the data (part of the payload's key).
    session_provider
        Campaigns' what-if sessions made elsewhere by :func:`pivot_engine` (a batch's
        workers make them in parallel; see :class:`~simkit.pivots.sessions.
        CampaignEngine`); the payload is the same with or without.

    Returns
    -------
    dict
        ``{"key", "status": "ok", "result"}`` with ``result`` the JSON form of the
        :class:`~simkit.pivots.PivotResult`, or ``{"key", "status": "failed", "error"}``
        when the engine failed: reports then show the error, never invented pivots.
    """
    key = pivot_key(params, data_hash)
    meta = loaded.campaigns if isinstance(loaded.campaigns, pd.DataFrame) else None
    try:
        result = find_pivots(
            loaded.data,
            meta if meta is not None and not meta.empty else None,
            seed=params.seed,
            horizon_days=params.horizon_days,
            max_change=PIVOT_SETTINGS["max_change"],
            objective=PIVOT_SETTINGS["objective"],
            n_draws=PIVOT_SETTINGS["n_draws"],
            n_paths=PIVOT_SETTINGS["n_paths"],
            session_provider=session_provider,
        )
    except Exception as exc:  # noqa: BLE001 - shown in every report instead of pivots
        log.warning("pivot engine failed: %s: %s", type(exc).__name__, exc)
        return {"key": key, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    # through JSON, so an in-process payload equals one read back from the file
    return json.loads(json.dumps({"key": key, "status": "ok", "result": result.to_dict()}))


def pivot_engine(params: RunParams, loaded: Any) -> CampaignEngine:
    """The engine whose sessions :func:`compute_run_pivots` simulates (its
    :meth:`~simkit.pivots.sessions.CampaignEngine.make_session` gives the session of one
    campaign, as the run's pivots would make it)."""
    return session_engine(
        loaded.data,
        seed=params.seed,
        horizon_days=params.horizon_days,
        n_draws=PIVOT_SETTINGS["n_draws"],
        n_paths=PIVOT_SETTINGS["n_paths"],
    )


def write_run_pivots(output_dir: str | Path, payload: dict[str, Any]) -> Path:
    """Write the payload to ``output_dir/pivots.json`` (atomically)."""
    path = ensure_inside(Path(output_dir), Path(output_dir) / PIVOTS_FILE)
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True))
    return path


def run_pivots(params: RunParams, loaded: Any, data_hash: str) -> dict[str, Any]:
    """The run's pivot payload: the saved file when it matches, else computed here."""
    path = Path(params.output_dir) / PIVOTS_FILE
    key = pivot_key(params, data_hash)
    if path.is_file():
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            payload = None
        if isinstance(payload, dict) and payload.get("key") == key:
            return payload
        log.info("%s was made from other data or settings; computing pivots here", path.name)
    return compute_run_pivots(params, loaded, data_hash)


def _fmt(value: Any, digits: int = 1, sign: bool = True) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"


def _interval(q: dict[str, float], digits: int = 1) -> str:
    return (
        f"{_fmt(q.get('p50'), digits)} (80% interval {_fmt(q.get('p10'), digits)} to "
        f"{_fmt(q.get('p90'), digits)})"
    )


def _impact_row(rec: dict[str, Any]) -> dict[str, Any]:
    imp = rec["expected_impact"]
    conv, rev = imp.get("conversions", {}), imp.get("revenue", {})
    return {
        "pivot": rec["type"].replace("_", " "),
        "campaigns": ", ".join(rec["campaign_ids"]),
        "conversions p10": conv.get("p10"),
        "conversions p50": conv.get("p50"),
        "conversions p90": conv.get("p90"),
        "revenue p50": rev.get("p50"),
        "CPA change p50": imp.get("cpa", {}).get("p50"),
        "P(gain > 0)": rec["confidence"],
        "score": rec["score"],
    }


def _key_numbers(rec: dict[str, Any]) -> dict[str, Any]:
    imp = rec["expected_impact"]
    return {
        "type": rec["type"],
        "campaign_ids": list(rec["campaign_ids"]),
        "score": rec["score"],
        "confidence": rec["confidence"],
        "downside": rec["downside"],
        "impact": {
            m: {q: imp[m][q] for q in ("p10", "p50", "p90")}
            for m in ("conversions", "revenue")
            if m in imp
        },
    }


def _failed(key: str, title: str, payload: dict[str, Any]) -> Section:
    return Section(
        key,
        title,
        status="failed",
        text=(f"The pivot engine could not run on this data: {payload.get('error')}.",),
        numbers={"status": "failed", "error": payload.get("error")},
    )


def pivots_section(campaign_id: str, payload: dict[str, Any]) -> Section:
    """This campaign's pivots: its budget in the portfolio optimum, and each simulated pivot.

    Recommendations touching the campaign are listed best first (score = mean of the p50 and
    p10 of the change in conversions), each with its simulated impact over the horizon
    (p10/p50/p90), P(gain > 0) and the engine's rationale.
    """
    if payload.get("status") != "ok":
        return _failed("pivots", "Pivots", payload)
    res = payload["result"]
    horizon = res["horizon_days"]
    recs = [r for r in res["recommendations"] if campaign_id in r["campaign_ids"]]
    alloc, before = res["allocation"].get(campaign_id), res["status_quo"].get(campaign_id)
    n_campaigns = len(res["allocation"])
    words = [
        f"Pivots are simulated over the next {horizon} days from {res['as_of']}, against "
        f"carrying on as now, with common random numbers; the budget optimiser maximises "
        f"{res['objective']} across all {n_campaigns} active campaign(s) of the data, moving "
        f"no budget by more than {PIVOT_SETTINGS['max_change']:.0%} (CPA/ROAS targets are "
        "not imposed as constraints)."
    ]
    if alloc is None or before is None:
        why = next((n for n in res["notes"] if n.startswith(f"{campaign_id}:")), None)
        words.append(
            f"{campaign_id} is not in the optimiser's portfolio"
            + (f" ({why.split(': ', 1)[1]})." if why else ".")
        )
    else:
        change = alloc - before
        words.append(
            f"Optimal daily budget for {campaign_id}: {before:,.0f} now -> {alloc:,.0f} "
            f"({_fmt(change, 0)} a day, {_fmt(100 * change / before if before else None)}%)."
        )
    if recs and recs[0]["score"] > 0:
        top = recs[0]
        conv = top["expected_impact"]["conversions"]
        headline = (
            f"Best pivot: {top['type'].replace('_', ' ')}, {_interval(conv)} conversions over "
            f"{horizon} days, P(gain > 0) = {top['confidence']:.0%}."
        )
    elif recs:
        headline = (
            f"No pivot touching {campaign_id} is expected to pay off: the best one's typical "
            "gain does not outweigh its downside."
        )
    else:
        headline = f"No pivot touching {campaign_id} clears the engine's bar."
    words.append(headline)
    for i, rec in enumerate(recs, start=1):
        conv = rec["expected_impact"]["conversions"]
        rev = rec["expected_impact"]["revenue"]
        verdict = "" if rec["score"] > 0 else " Not recommended: its score is not positive."
        words.append(
            f"{i}. {rec['action']} Simulated over {horizon} days on the campaign(s) it "
            f"touches: conversions {_interval(conv)}, revenue {_interval(rev, 0)}; "
            f"confidence P(gain > 0) = {rec['confidence']:.0%}, downside (p10) "
            f"{_fmt(rec['downside'])}.{verdict} Why: {rec['rationale']}"
        )
    tables = ()
    if recs:
        table = pd.DataFrame([_impact_row(r) for r in recs]).round(_IMPACT_DECIMALS)
        tables = ((f"Pivots for {campaign_id}, best first (changes over {horizon} days)", table),)
    return Section(
        "pivots",
        "Pivots",
        text=tuple(words),
        tables=tables,
        numbers={
            "status": "ok",
            "as_of": res["as_of"],
            "budget_daily": {"status_quo": before, "allocation": alloc},
            "recommendations": [_key_numbers(r) for r in recs],
            "headline": headline,
        },
    )


def reallocation_section(payload: dict[str, Any] | None) -> Section:
    """The portfolio's budget reallocation: status quo against the optimum per campaign,
    the expected gain (p10/p50/p90, P(gain > 0)), and every pivot ranked."""
    title = "Budget reallocation"
    if payload is None:
        return Section(
            "reallocation",
            title,
            status="missing",
            text=(f"No budget reallocation summary: this run has no {PIVOTS_FILE}.",),
        )
    if payload.get("status") != "ok":
        return _failed("reallocation", title, payload)
    res = payload["result"]
    opt, horizon = res["optimizer"], res["horizon_days"]
    marginal = opt.get("marginal", {})
    rows = []
    for cid, after in res["allocation"].items():
        before = res["status_quo"][cid]
        rows.append(
            {
                "campaign": cid,
                "budget now / day": before,
                "optimal / day": after,
                "change / day": after - before,
                "change %": 100 * (after - before) / before if before else None,
                "marginal CPA at optimum": marginal.get(cid, {}).get("marginal_cpa"),
            }
        )
    table = pd.DataFrame(rows).round(
        {
            "budget now / day": 0,
            "optimal / day": 0,
            "change / day": 0,
            "change %": 1,
            "marginal CPA at optimum": 2,
        }
    )
    gain = opt["gain_daily"]
    realloc = next((r for r in res["recommendations"] if r["type"] == "budget_reallocation"), None)
    words = [
        f"Total daily budget {res['total_budget']:,.0f}, split to maximise "
        f"{res['objective']}; no campaign's budget moves by more than "
        f"{PIVOT_SETTINGS['max_change']:.0%}."
    ]
    if opt["fell_back_to_status_quo"]:
        words.append("The optimum is not better than today's budgets in expectation: keep them.")
    else:
        g = gain.get(res["objective"], {})
        words.append(
            f"Expected gain from the reallocation: {_interval(g, 2)} {res['objective']} a "
            f"day; P(gain > 0) = {gain.get('p_gain_positive', float('nan')):.0%} over the "
            "response curves' uncertainty."
        )
    numbers: dict[str, Any] = {
        "status": "ok",
        "total_budget": res["total_budget"],
        "allocation": res["allocation"],
        "status_quo": res["status_quo"],
        "gain_daily": gain,
        "fell_back_to_status_quo": opt["fell_back_to_status_quo"],
    }
    if realloc is not None:
        conv = realloc["expected_impact"]["conversions"]
        words.append(
            f"Simulated over {horizon} days: conversions {_interval(conv)}, revenue "
            f"{_interval(realloc['expected_impact']['revenue'], 0)}; P(gain > 0) = "
            f"{realloc['confidence']:.0%}."
        )
        numbers["simulated_gain"] = _key_numbers(realloc)
    elif not opt["fell_back_to_status_quo"]:
        words.append("The moves are too small to recommend (under 2% of the total budget).")
    words += [f"Note: {n}" for n in opt.get("notes", [])]
    ranked = pd.DataFrame([_impact_row(r) for r in res["recommendations"][:_TOP]])
    tables = [("Daily budget per campaign: now and at the optimum", table)]
    if len(ranked):
        tables.append(
            (
                f"Top pivots across the portfolio (changes over {horizon} days)",
                ranked.round(_IMPACT_DECIMALS),
            )
        )
    return Section("reallocation", title, text=tuple(words), tables=tuple(tables), numbers=numbers)
