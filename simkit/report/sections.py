"""Section builders that need only the data: data quality, history, provenance.

Each builder takes a :class:`~simkit.report.context.CampaignContext` and returns a
:class:`~simkit.report.section.Section`; numbers keep full precision, tables and words are
rounded for people.
"""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from simkit import __version__
from simkit.report import format as fmt
from simkit.report.context import CampaignContext
from simkit.report.section import Section, drawn
from simkit.viz import history_chart

__all__ = ["KEY_PACKAGES", "data_quality", "display_of", "history", "kpis", "provenance"]

#: Packages whose versions the reproducibility footer records.
KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "prophet",
    "altair",
    "papermill",
    "nbconvert",
    "pydantic",
)
_WINDOW_DAYS = 28


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def kpis(frame: pd.DataFrame) -> dict[str, float | None]:
    """Totals and funnel ratios over the rows of ``frame`` (full precision)."""
    tot = {
        c: float(frame[c].sum())
        for c in ("spend", "impressions", "clicks", "conversions", "revenue")
    }
    return {
        **tot,
        "ctr": _ratio(tot["clicks"], tot["impressions"]),
        "cvr": _ratio(tot["conversions"], tot["clicks"]),
        "cpc": _ratio(tot["spend"], tot["clicks"]),
        "cpa": _ratio(tot["spend"], tot["conversions"]),
        "roas": _ratio(tot["revenue"], tot["spend"]),
    }


def display_of(ctx: CampaignContext) -> fmt.Display:
    """How this campaign's numbers read: its currency (USD unless its metadata names one)
    and the targets it was given (only those probabilities are shown)."""
    currency = ctx.meta.get("currency")
    return fmt.Display(
        currency=currency.upper() if isinstance(currency, str) and currency else "USD",
        target_cpa=ctx.target_cpa,
        target_roas=ctx.target_roas,
    )


def data_quality(ctx: CampaignContext) -> Section:
    """The campaign's data-quality score, what lowers it, and every repair and warning."""
    report = ctx.loaded.report
    quality = next((c for c in report.campaigns if c.campaign_id == ctx.campaign_id), None)
    warnings = [w for w in report.warnings if w.campaign_id in (None, ctx.campaign_id)]
    text = []
    tables: list[tuple[str, pd.DataFrame]] = []
    numbers: dict[str, Any] = {"warnings": len(warnings), "repairs": len(report.repairs)}
    if quality is not None:
        text.append(
            f"Data-quality score {quality.quality_score:.0f}/100 over {quality.days} days "
            f"({quality.first_date} to {quality.last_date}). "
            + (
                "Nothing lowers it."
                if not quality.reasons
                else "What lowers it: " + "; ".join(quality.reasons) + "."
            )
        )
        numbers.update(
            {
                k: getattr(quality, k)
                for k in (
                    "quality_score",
                    "completeness",
                    "consistency",
                    "history",
                    "recency",
                    "missing_days",
                    "days",
                )
            }
        )
        tables.append(
            (
                "Score components",
                pd.DataFrame(
                    {
                        "component": ["completeness", "consistency", "history", "recency"],
                        "share of perfect": [
                            getattr(quality, k)
                            for k in ("completeness", "consistency", "history", "recency")
                        ],
                    }
                ),
            )
        )
    text.append(
        f"Source: {report.source} file {ctx.params.data.rsplit('/', 1)[-1]}, "
        f"{report.n_rows_read} rows read for all campaigns."
    )
    if report.repairs:
        tables.append(
            (
                "Repairs made on import (nothing was dropped silently)",
                pd.DataFrame(
                    {
                        "repair": [r.action for r in report.repairs],
                        "detail": [r.detail for r in report.repairs],
                    }
                ),
            )
        )
    if warnings:
        # the data file by its name: the path as the run passed it (relative to the kernel's
        # folder) means nothing to a reader and says where the data live on this machine
        data_file = str(ctx.params.data)
        name = data_file.rsplit("/", 1)[-1]
        lines = [str(w).replace(data_file, name) for w in warnings]
        tables.append(("Warnings", pd.DataFrame({"warning": lines})))
    else:
        text.append("No validation warnings for this campaign.")
    return Section(
        "data_quality", "Data quality", text=tuple(text), tables=tuple(tables), numbers=numbers
    )


def _with_ratios(daily: pd.DataFrame) -> pd.DataFrame:
    out = daily.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ctr"] = out["clicks"] / out["impressions"]
        out["cpa"] = out["spend"] / out["conversions"]
        out["roas"] = out["revenue"] / out["spend"]
    return out.replace([np.inf, -np.inf], np.nan)


def history(ctx: CampaignContext) -> Section:
    """Recent performance: the last 28 days against the 28 before, and daily charts."""
    daily = _with_ratios(ctx.daily)
    last = daily.tail(_WINDOW_DAYS)
    prior = (
        daily.iloc[-2 * _WINDOW_DAYS : -_WINDOW_DAYS]
        if len(daily) >= 2 * _WINDOW_DAYS
        else daily.iloc[:0]
    )
    now, before = kpis(last), kpis(prior) if len(prior) else None
    rows = []
    for name in (
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "revenue",
        "ctr",
        "cvr",
        "cpc",
        "cpa",
        "roas",
    ):
        a, b = now[name], (before or {}).get(name)
        rows.append(
            {
                "metric": name,
                f"last {_WINDOW_DAYS} days": a,
                f"previous {_WINDOW_DAYS} days": b,
                "change %": 100 * (a / b - 1) if a is not None and b else None,
            }
        )
    cur = display_of(ctx).currency
    words = (
        f"{len(daily)} days of history, {daily['date'].min().date()} to "
        f"{daily['date'].max().date()}. In the last {len(last)} days the campaign spent "
        f"{fmt.money(now['spend'], cur)} for {fmt.count(now['conversions'])} conversions "
        f"(CPA {fmt.money(now['cpa'], cur)}, ROAS {fmt.number(now['roas'])})."
    )
    return Section(
        "history",
        "History",
        text=(words,),
        tables=(
            (f"Last {_WINDOW_DAYS} days against the {_WINDOW_DAYS} before", pd.DataFrame(rows)),
        ),
        charts=drawn(lambda: history_chart(daily)),
        numbers={
            "days": len(daily),
            "first_date": str(daily["date"].min().date()),
            "last_date": str(daily["date"].max().date()),
            f"last_{_WINDOW_DAYS}_days": now,
            f"previous_{_WINDOW_DAYS}_days": before,
        },
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(ctx: CampaignContext) -> Section:
    """The reproducibility footer: parameters and their hash, data hash, seed, versions, time.

    The run time is measured from :func:`~simkit.report.load_campaign` to this call.
    """
    versions = {
        "simkit": __version__,
        "python": platform.python_version(),
        **{p: _version(p) for p in KEY_PACKAGES},
    }
    elapsed = time.perf_counter() - ctx.started
    params = ctx.params.to_dict()
    for name in ("data", "mapping", "plan", "output_dir"):
        if params.get(name):
            params[name] = params[name].rsplit("/", 1)[-1] if name != "output_dir" else "."
    text = (
        f"Parameters hash {ctx.params_hash[:16]}, data hash {ctx.data_hash[:16]}, "
        f"seed {ctx.params.seed}. Computed in {elapsed:.1f} s "
        f"on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.",
    )
    return Section(
        "provenance",
        "Reproducibility",
        text=text,
        tables=(
            (
                "Validated parameters (paths shown by file name)",
                pd.DataFrame(
                    {"parameter": list(params), "value": [str(v) for v in params.values()]}
                ),
            ),
            (
                "Versions",
                pd.DataFrame({"package": list(versions), "version": list(versions.values())}),
            ),
            (
                "Hashes (SHA-256)",
                pd.DataFrame(
                    {"of": ["parameters", "data"], "hash": [ctx.params_hash, ctx.data_hash]}
                ),
            ),
        ),
        numbers={
            "params_hash": ctx.params_hash,
            "data_hash": ctx.data_hash,
            "seed": ctx.params.seed,
            "versions": versions,
            "run_seconds": elapsed,
        },
    )
