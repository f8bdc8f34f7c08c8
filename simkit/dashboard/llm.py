"""Model scenarios of a campaign's latest report, for the dashboard's campaigns view.

The dashboard does not call a model: it shows what the latest run recorded in the report's
``summary.json`` (``numbers.scenarios.model_scenarios``), the assumptions a model proposed
and simkit quantified with the report's own engine (issue 18).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

__all__ = ["model_scenarios", "model_scenarios_html"]


def model_scenarios(summary_path: str | None) -> dict[str, Any] | None:
    """The ``model_scenarios`` record of a report's ``summary.json``, if it has one."""
    if not summary_path:
        return None
    try:
        summary = json.loads(Path(summary_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    numbers = (summary.get("numbers") or {}).get("scenarios") or {}
    found = numbers.get("model_scenarios")
    return found if isinstance(found, dict) else None


def _signed(x: Any) -> str:
    return "-" if not isinstance(x, int | float) else f"{x:+,.0f}"


def model_scenarios_html(summary_path: str | None) -> str:
    """One line per assumption ("proposed by <model>, quantified by simkit"), or ``""``."""
    found = model_scenarios(summary_path)
    if not found:
        return ""
    model = html.escape(str(found.get("model") or "a model"))
    if found.get("status") != "ok":
        why = html.escape(str(found.get("reason") or "no reason recorded"))
        return f"<div class='simkit-llm'>Model scenarios: none ({why}).</div>"
    rows = []
    for a in found.get("assumptions") or []:
        conv = (a.get("delta") or {}).get("conversions") or {}
        p = a.get("probability_better")
        rows.append(
            f"<li><b>{html.escape(str(a.get('name', '')))}</b> ({html.escape(str(a.get('start')))}"
            f" to {html.escape(str(a.get('end')))}): Δ conversions {_signed(conv.get('p50'))} "
            f"(80% interval {_signed(conv.get('p10'))} to {_signed(conv.get('p90'))})"
            + (f", P(better) {p:.0%}" if isinstance(p, int | float) else "")
            + "</li>"
        )
    return (
        f"<div class='simkit-llm'>Scenarios proposed by {model}, quantified by simkit "
        f"(latest run):<ul>{''.join(rows)}</ul></div>"
    )
