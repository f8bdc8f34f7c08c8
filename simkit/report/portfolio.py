"""The portfolio report (``index.html``): every campaign of a run on one page.

It reads what the runner wrote: ``run.json`` (each campaign's status, error, folder and
report link), each succeeded campaign's ``summary.json`` and the run's ``pivots.json``.  It
shows a table sorted by risk, the totals with their intervals, the budget reallocation
summary and a link to each report; failed campaigns are listed with their error and the
earlier report that survives, stopped campaigns are labelled with their last day, and
earlier reports still in the folder are listed as such.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.errors import SimkitError
from simkit.report import format as fmt
from simkit.report.pivots import PIVOTS_FILE, reallocation_section
from simkit.report.section import Section, missing

__all__ = ["MANIFEST", "Portfolio", "load_run", "portfolio_headline", "portfolio_sections"]

log = logging.getLogger(__name__)

#: The runner's manifest of a run, in the output folder.
MANIFEST = "run.json"


@dataclass(frozen=True)
class Portfolio:
    """A run as the portfolio report sees it (``pivots``: the run's pivot payload, or
    ``None`` when the run has none)."""

    output_dir: Path
    manifest: dict[str, Any]
    summaries: dict[str, dict[str, Any]]
    pivots: dict[str, Any] | None = None

    @property
    def campaigns(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("campaigns", []))


def load_run(output_dir: str | Path) -> Portfolio:
    """Read ``run.json`` and the summaries of a run's output folder."""
    folder = Path(output_dir)
    path = folder / MANIFEST
    if not path.is_file():
        raise SimkitError(
            f"no run in {folder.name or folder}: {MANIFEST} is missing (run "
            "`simkit run PARAMS.yaml` first)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimkitError(f"{path.name} in {folder.name or folder} is not readable: {exc}") from exc
    summaries = {}
    for item in manifest.get("campaigns", []):
        # the runner names the folder (a safe name); a manifest from before that names
        # none, and its folders were the ids; only a plain last part is ever read
        name = Path(str(item.get("folder") or item["campaign_id"])).name
        if name in (".", ".."):
            continue
        summary = folder / name / "summary.json"
        if name and item.get("status") == "succeeded" and summary.is_file():
            read = _read_json(summary)
            if read is not None:
                summaries[item["campaign_id"]] = read
    pivots_path = folder / Path(str(manifest.get("pivots") or PIVOTS_FILE)).name
    pivots = _read_json(pivots_path) if pivots_path.is_file() else None
    return Portfolio(folder, manifest, summaries, pivots)


def _read_json(path: Path) -> Any | None:
    """A report's JSON file, or ``None`` (logged, naming it) when it cannot be read: one
    damaged file leaves that campaign's numbers out of the index, not the whole index."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning(
            "%s/%s is not readable (%s): left out of the index", path.parent.name, path.name, exc
        )
        return None


_ADDITIVE: tuple[str, ...] = ("spend", "impressions", "clicks", "conversions", "revenue")


def _get(summary: dict[str, Any], *path: str) -> Any:
    node: Any = summary.get("numbers", {})
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _link(item: dict[str, Any]) -> str:
    """The campaign's id (escaped), linked to its report by the runner's folder name."""
    cid = html.escape(item["campaign_id"])
    report = item.get("report")
    if item.get("status") == "succeeded" and report:
        return f'<a href="{html.escape(report)}">{cid}</a>'
    previous = item.get("previous_report")
    if previous and previous.get("report"):
        return f'{cid} (<a href="{html.escape(previous["report"])}">earlier report</a>)'
    return cid


def _status(item: dict[str, Any]) -> str:
    """The status column: a stopped campaign is a published report, labelled stopped."""
    status = str(item.get("status") or "")
    if status == "succeeded" and item.get("campaign_state") == "stopped":
        last = item.get("last_date")
        return f"stopped (last day {last})" if last else "stopped"
    if status == "earlier":
        run_id = item.get("run_id")
        return f"earlier run {run_id}" if run_id else "earlier run"
    return status


def _forecast_health(summary: dict[str, Any]) -> str:
    """The forecast ledger's verdict on the campaign's earlier forecasts, in a few words."""
    status = _get(summary, "ledger", "status")
    if status is None:
        return "-"
    if status == "alert":
        kinds = sorted({a.get("kind", "?") for a in _get(summary, "ledger", "alerts") or []})
        return "alert: " + ", ".join(k.replace("_", " ") for k in kinds)
    if status == "ok":
        coverage = _get(summary, "ledger", "coverage_80")
        return f"ok (80% interval held {coverage:.0%})" if coverage is not None else "ok"
    return str(status)


def _campaign_table(run: Portfolio) -> tuple[pd.DataFrame, bool]:
    rows = []
    pivots = run.pivots or {}
    optimal = pivots["result"]["allocation"] if pivots.get("status") == "ok" else {}
    earlier = [{**item, "status": "earlier"} for item in run.manifest.get("earlier", []) if item]
    for item in [*run.campaigns, *earlier]:
        s = run.summaries.get(item["campaign_id"], {}) if item["status"] != "earlier" else {}
        hist = _get(s, "history", "last_28_days") or {}
        rows.append(
            {
                "campaign": _link({**item, "status": "succeeded"})
                if item["status"] == "earlier"
                else _link(item),
                "status": html.escape(_status(item)),
                "top risk": _get(s, "risks", "top_risk") or "-",
                "risk probability": _get(s, "risks", "max_probability"),
                "data quality": _get(s, "data_quality", "quality_score"),
                "spend (28 d)": hist.get("spend"),
                "CPA (28 d)": hist.get("cpa"),
                "ROAS (28 d)": hist.get("roas"),
                "optimal budget / day": optimal.get(item["campaign_id"]),
                "forecast health": _forecast_health(s),
                "error": html.escape(item.get("error") or ""),
            }
        )
    table = pd.DataFrame(rows)
    have_risk = table["risk probability"].notna().any() if len(table) else False
    key = "risk probability" if have_risk else "spend (28 d)"
    table = table.sort_values(key, ascending=False, na_position="last", kind="stable")
    return table.round(
        {
            "risk probability": 2,
            "data quality": 0,
            "spend (28 d)": 0,
            "CPA (28 d)": 2,
            "ROAS (28 d)": 2,
            "optimal budget / day": 0,
        }
    ), bool(have_risk)


def _currencies(run: Portfolio) -> list[str]:
    """The currencies the run's reports are in (USD for summaries that name none)."""
    return sorted({str(s.get("currency") or "USD") for s in run.summaries.values()})


def _display(run: Portfolio) -> fmt.Display:
    found = _currencies(run)
    return fmt.Display(currency=found[0] if len(found) == 1 else "USD")


def _campaigns_html(table: pd.DataFrame, display: fmt.Display | None = None) -> str:
    """The campaign table as HTML (links kept; the error column only when one failed)."""
    if "error" in table.columns and not table["error"].astype(bool).any():
        table = table.drop(columns="error")
    return fmt.table_html(table, display, html_columns=("campaign", "error"))


def _sum_quantiles(forecasts: list[dict[str, Any]], metric: str) -> dict[str, float] | None:
    if not forecasts or not all(metric in f for f in forecasts):
        return None
    return {q: sum(f[metric][q] for f in forecasts) for q in ("p10", "p50", "p90")}


def portfolio_headline(run: Portfolio, horizon_days: int | None = None) -> Section:
    """The index's one-glance top line: how many campaigns, how many succeeded or failed,
    and the spend and conversions forecast over the horizon (sums of the campaigns')."""
    statuses: dict[str, int] = {}
    for item in run.campaigns:
        status = str(item.get("status") or "unknown")
        statuses[status] = statuses.get(status, 0) + 1
    n = len(run.campaigns)
    counts = [f"{statuses.pop('succeeded', 0)} succeeded"]
    counts += [f"{v} {k}" for k, v in sorted(statuses.items())]
    if "failed" not in statuses:
        counts.append("0 failed")
    lines = [f"{n} campaign{'s' if n != 1 else ''}: {', '.join(counts)}."]
    forecasts = [_get(s, "forecast", "totals") for s in run.summaries.values()]
    forecasts = [f for f in forecasts if f]
    spend, conv = _sum_quantiles(forecasts, "spend"), _sum_quantiles(forecasts, "conversions")
    numbers: dict[str, Any] = {"campaigns": n, "forecast_campaigns": len(forecasts)}
    currencies = _currencies(run)
    cur = currencies[0] if currencies else "USD"
    if len(currencies) > 1:
        lines.append(
            f"Forecast: not added up, the reports are in {len(currencies)} currencies "
            f"({', '.join(currencies)}); each report has its own."
        )
    elif spend and conv:
        over = f"Next {horizon_days} days" if horizon_days else "Over the horizon"
        cpa = spend["p50"] / conv["p50"] if conv["p50"] else None
        lines.append(
            f"{over}: {fmt.money(spend['p50'], cur)} of spend forecast for "
            f"{fmt.count(conv['p50'])} conversions (sum of the campaigns' 80% ranges "
            f"{fmt.interval(conv, 'count')})"
            + (f", a CPA of {fmt.money(cpa, cur)}" if cpa is not None else "")
            + (
                f"; {len(forecasts)} of {n} campaigns have a forecast."
                if len(forecasts) < n
                else "."
            )
        )
        numbers.update({"spend": spend, "conversions": conv})
    else:
        lines.append("Forecast: no campaign of this run has a forecast to add up.")
    risky = sorted(
        (
            (_get(s, "risks", "max_probability"), cid, _get(s, "risks", "top_risk"))
            for cid, s in run.summaries.items()
        ),
        key=lambda t: -(t[0] or 0.0),
    )
    if risky and risky[0][0] is not None and risky[0][0] >= 0.5:
        p, cid, kind = risky[0]
        at_risk = sum(1 for r in risky if (r[0] or 0.0) >= 0.5)
        lines.append(
            f"Highest risk: {fmt.label(str(kind)).lower()} on {cid}, probability "
            f"{fmt.probability(p)}; {at_risk} of {len(risky)} reports have a risk at 50% or more."
        )
    elif risky and risky[0][0] is not None:
        lines.append("Risks: no campaign has a risk reaching 50%.")
    return Section(
        "headline",
        f"Run {run.manifest.get('run_id', '?')}",
        html=(fmt.card_html(lines),),
        numbers={**numbers, "currency": cur if len(currencies) <= 1 else None, "lines": lines},
    )


def portfolio_sections(run: Portfolio) -> dict[str, Section]:
    """The portfolio report's sections, in display order."""
    n_ok = sum(1 for c in run.campaigns if c.get("status") == "succeeded")
    failed = [c for c in run.campaigns if c.get("status") != "succeeded"]
    table, have_risk = _campaign_table(run)
    order = (
        "Sorted by the probability of the most likely risk."
        if have_risk
        else "Sorted by recent spend: no campaign of this run has risk probabilities."
    )
    stopped = [c for c in run.campaigns if _status(c).startswith("stopped")]
    words = [
        f"Run {run.manifest.get('run_id', '?')}: {n_ok} of {len(run.campaigns)} "
        "campaign reports published"
        + (f" ({len(stopped)} of them for campaigns that have stopped)" if stopped else "")
        + "."
    ]
    if failed:
        words.append(
            "Not published in this run: "
            + "; ".join(f"{c['campaign_id']}: {c.get('error') or c.get('status')}" for c in failed)
            + "."
        )
        kept = [c["campaign_id"] for c in failed if c.get("previous_report")]
        if kept:
            words.append(
                "The report of an earlier run is still linked for: " + ", ".join(kept) + "."
            )
    if run.manifest.get("earlier"):
        words.append(
            "Rows marked 'earlier run' are reports still in this folder from earlier runs, "
            "for campaigns this run did not cover."
        )
    overview = Section(
        "campaigns",
        "Campaigns",
        text=(*words, order),
        html=(_campaigns_html(table, _display(run)),),
    )
    forecasts = [_get(s, "forecast", "totals") for s in run.summaries.values()]
    if run.summaries and all(forecasts):
        rows = []
        # only volumes add up across campaigns; a sum of CPAs or CTRs means nothing
        for metric in (m for m in _ADDITIVE if m in forecasts[0]):
            p = [sum(f[metric][q] for f in forecasts) for q in ("p10", "p50", "p90")]
            rows.append({"metric": metric, "p10 (sum)": p[0], "p50 (sum)": p[1], "p90 (sum)": p[2]})
        medians = {r["metric"]: r["p50 (sum)"] for r in rows}
        ratio_text = ""
        if medians.get("conversions") and medians.get("spend"):
            ratio_text = (
                f" At the summed medians the portfolio's CPA is "
                f"{fmt.money(medians['spend'] / medians['conversions'], _display(run).currency)}"
                + (
                    f" and its ROAS {medians['revenue'] / medians['spend']:.2f}."
                    if "revenue" in medians
                    else "."
                )
            )
        totals = Section(
            "totals",
            "Portfolio totals over the horizon",
            text=(
                "Sums of each campaign's p10, p50 and p90 of the volumes. Campaigns rarely "
                "all do badly (or well) at once, so the portfolio's own p10 is usually above "
                "the sum of the p10s, and its p90 below the sum of the p90s." + ratio_text,
            ),
            tables=(("", pd.DataFrame(rows)),),
            numbers={"totals": rows},
        )
    else:
        hist = [_get(s, "history", "last_28_days") or {} for s in run.summaries.values()]
        spend = sum(h.get("spend") or 0 for h in hist)
        conv = sum(h.get("conversions") or 0 for h in hist)
        if not run.summaries:
            why = "No campaign report of this run was published, so there are no totals."
        else:
            why = (
                "No forecast totals with intervals: not every published report has a "
                f"forecast. Last 28 days, observed, over the {len(run.summaries)} published "
                f"reports: spend {spend:,.0f}, {conv:,.0f} conversions."
            )
        totals = missing("totals", "Portfolio totals", why)
    display = _display(run)  # tables are formatted in the run's currency when shown
    return {
        k: replace(s, display=display)
        for k, s in {
            "campaigns": overview,
            "totals": totals,
            "reallocation": reallocation_section(run.pivots),
        }.items()
    }
