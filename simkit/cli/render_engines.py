"""The renderers that need an engine's own vocabulary: the data contract's skippable error
codes (``simkit validate``) and the market metrics' units (``simkit benchmarks``).

Apart from :mod:`simkit.cli.render` because they import the data and market layers
(pandas): the commands that print neither, ``simkit runs list`` first, start in a fraction
of a second without them (issue 21).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from simkit.cli.render import console
from simkit.data.validate import SKIPPABLE
from simkit.market.compare import format_metric

__all__ = ["benchmarks", "validation"]


def validation(report: Any) -> None:
    status = "[green]OK[/]" if report.ok else "[red]FAILED[/]"
    console.print(
        f"{status} {report.file} (source: {report.source}, "
        f"{report.n_rows_read} rows read, {report.n_rows} rows after import)"
    )
    for repair in report.repairs:
        console.print(f"  repaired: {repair.detail}", highlight=False)
    if report.campaigns:
        table = Table(title="Campaigns")
        for col in ("campaign", "days", "first", "last", "quality", "what lowers it"):
            table.add_column(col)
        for c in report.campaigns:
            table.add_row(
                c.campaign_id,
                str(c.days),
                str(c.first_date),
                str(c.last_date),
                f"{c.quality_score:.0f}",
                "; ".join(c.reasons) or "-",
            )
        console.print(table)
    for issue in report.errors:
        console.print(f"[red]error[/] {issue}", highlight=False, soft_wrap=True)
    for issue in report.warnings:
        console.print(f"[yellow]warning[/] {issue}", highlight=False, soft_wrap=True)
    if any(issue.code in SKIPPABLE for issue in report.errors):
        console.print(
            "to leave rows with unreadable cells out, each listed in the repairs: "
            "--on-bad-rows skip (or on_bad_rows: skip in the mapping)",
            highlight=False,
            soft_wrap=True,
        )


def benchmarks(result: Any) -> None:
    for campaign in result.campaigns:
        table = Table(
            title=f"{campaign.campaign_id}: {campaign.industry} ({campaign.channel or '?'}), "
            f"{campaign.window_start.date()} to {campaign.window_end.date()}"
            + ("" if campaign.compared else ", not compared")
        )
        for col in (
            "metric",
            "campaign",
            "benchmark",
            "deviation",
            "published range",
            "where",
            "source",
        ):
            table.add_column(col)
        for name, m in campaign.metrics.items():
            fig = m.figure
            table.add_row(
                name.upper(),
                format_metric(name, m.value),
                format_metric(name, fig.value) if fig else "-",
                f"{m.deviation_pct:+.0f}%" if m.deviation_pct is not None else "-",
                f"{format_metric(name, fig.range_min)} - {format_metric(name, fig.range_max)}"
                if fig
                else "-",
                m.position or "-",
                (f"{fig.source_domain}, {fig.year}" + (" (all industries)" if fig.fallback else ""))
                if fig
                else "-",
            )
        console.print(table)
        console.print(campaign.explanation, highlight=False, soft_wrap=True)
