"""How report numbers and labels read: every report table and headline is formatted here.

simkit computes at full precision and sections keep their tables as plain numbers; this
module is the one place that rounds them for people (STYLE.md 15): rates and probabilities
as percentages, money in the campaign's currency, counts as integers with thousands
separators, keys as human labels (:data:`LABELS`), text left-aligned and numbers
right-aligned.  What a cell means is read from its column name, or, in a table with a
``metric`` column, from the metric of its row (:func:`value_kind`).

Examples
--------
>>> money(38.2)
'$38.20'
>>> percent(0.0387, digits=2)
'3.87%'
>>> probability(0.972)
'97%'
>>> label("p_below_plan")
'P(below plan)'
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

__all__ = [
    "LABELS",
    "Display",
    "card_html",
    "count",
    "interval",
    "label",
    "money",
    "number",
    "percent",
    "probability",
    "table_html",
    "value_kind",
]

Kind = Literal[
    "money", "count", "rate", "share", "probability", "percent_points", "ratio", "number", "text"
]

#: Human labels for the keys that reach a report (metrics, events, risks, pivots, models).
LABELS: dict[str, str] = {
    # metrics
    "spend": "Spend",
    "impressions": "Impressions",
    "clicks": "Clicks",
    "conversions": "Conversions",
    "revenue": "Revenue",
    "budget": "Budget",
    "reach": "Reach",
    "frequency": "Frequency",
    "ctr": "CTR",
    "cvr": "CVR",
    "cpc": "CPC",
    "cpa": "CPA",
    "cpm": "CPM",
    "roas": "ROAS",
    # probabilities and outcome bands
    "p_below_plan": "P(below plan)",
    "p_on_plan": "P(on plan)",
    "p_above_plan": "P(above plan)",
    "p_cpa_le_target": "P(CPA ≤ target)",
    "p_roas_ge_target": "P(ROAS ≥ target)",
    "p_budget_exhausted": "P(budget runs out)",
    "budget_exhausted": "P(budget runs out)",
    "below_plan": "Below plan",
    "on_plan": "On plan",
    "above_plan": "Above plan",
    "pessimistic": "Pessimistic",
    "realistic": "Realistic",
    "optimistic": "Optimistic",
    # risks
    "audience_fatigue": "Audience fatigue",
    "creative_fatigue": "Creative fatigue",
    "performance_dip": "Performance dip",
    "competitor_pressure": "Competitor pressure",
    "budget_pacing": "Budget pacing",
    "tracking_break": "Tracking break",
    # pivots
    "budget_reallocation": "Budget reallocation",
    "creative_refresh": "Creative refresh",
    "audience_expansion": "Audience expansion",
    "channel_shift": "Channel shift",
    "budget_increase": "Budget increase",
    "budget_decrease": "Budget decrease",
    # data quality
    "completeness": "Completeness",
    "consistency": "Consistency",
    "history": "History",
    "recency": "Recency",
    # forecast models, drivers and scores
    "seasonal_naive": "Seasonal naive",
    "ets": "ETS",
    "prophet": "Prophet",
    "lstm": "LSTM",
    "ensemble": "Ensemble",
    "log_cpm": "CPM (log)",
    "logit_ctr": "CTR (logit)",
    "logit_cvr": "CVR (logit)",
    "log_rpc": "Revenue per click (log)",
    "mase": "MASE",
    "smape": "sMAPE",
    "crps": "CRPS",
    "coverage_50": "50% coverage",
    "coverage_80": "80% coverage",
    "coverage_95": "95% coverage",
    "total_coverage_80": "80% coverage (totals)",
    "n_points": "Days scored",
    "weight": "Weight",
}

#: What each metric's values are (money in the account's currency, counts, rates ...).
METRIC_KINDS: dict[str, Kind] = {
    "spend": "money",
    "revenue": "money",
    "budget": "money",
    "cpa": "money",
    "cpc": "money",
    "cpm": "money",
    "impressions": "count",
    "clicks": "count",
    "conversions": "count",
    "reach": "count",
    "ctr": "rate",
    "cvr": "rate",
    "roas": "ratio",
    "frequency": "ratio",
}

#: Columns whose values are keys to show through :func:`label`.
KEY_COLUMNS = frozenset(
    {
        "metric",
        "component",
        "risk",
        "top risk",
        "scenario",
        "band",
        "event",
        "pivot",
        "member",
        "model",
    }
)
#: Columns holding comma-separated keys (each one labelled).
KEY_LIST_COLUMNS = frozenset({"pivots to simulate"})

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_SIGNED = re.compile(r"change|gain|deviation|delta", re.I)
_PROBABILITY = re.compile(r"probab|^p\(|^p_|confidence", re.I)
_RATE = re.compile(r"rate\b|^(ctr|cvr)\b", re.I)
_SHARE = re.compile(r"coverage|share|weight|^(log|logit)_", re.I)


@dataclass(frozen=True)
class Display:
    """What formatting needs to know about the campaign: its currency and targets.

    A probability against a target is shown only when that target was given
    (``target_cpa=None`` drops the ``p_cpa_le_target`` row).
    """

    currency: str = "USD"
    target_cpa: float | None = None
    target_roas: float | None = None

    def asked(self, key: str) -> bool:
        """Whether the report was asked for this probability (its target was given)."""
        if "cpa_le_target" in key:
            return self.target_cpa is not None
        if "roas_ge_target" in key:
            return self.target_roas is not None
        return True

    def label(self, key: str) -> str:
        """:func:`label`, with the target's value where the key is against a target."""
        if "cpa_le_target" in key and self.target_cpa is not None:
            return f"P(CPA ≤ {money(self.target_cpa, self.currency)} target)"
        if "roas_ge_target" in key and self.target_roas is not None:
            return f"P(ROAS ≥ {number(self.target_roas)} target)"
        return label(key)


def _finite(value: Any) -> bool:
    if value is None or isinstance(value, bool | str):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def label(key: str) -> str:
    """The human label of a key (``p_below_plan`` -> ``P(below plan)``).

    An unknown snake_case key reads as words (``paused_days`` -> ``Paused days``); any
    other text is returned as it is.
    """
    if key in LABELS:
        return LABELS[key]
    if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", key):
        words = key.replace("_", " ")
        return words[0].upper() + words[1:]
    return key


_DASH = "–"  # an absent value


def _sign(value: float, text: str, signed: bool) -> str:
    if text.startswith("-"):
        return "−" + text[1:]
    return ("+" + text) if signed and value > 0 else text


def money(
    value: Any, currency: str = "USD", *, signed: bool = False, digits: int | None = None
) -> str:
    """An amount in ``currency``: cents below 1,000, whole units above (``$14,102``)."""
    if not _finite(value):
        return _DASH
    v = float(value)
    if digits is None:
        digits = 0 if abs(v) >= 1000 or currency == "JPY" else 2
    body = f"{abs(v):,.{digits}f}"
    symbol = _SYMBOLS.get(currency.upper())
    text = f"{symbol}{body}" if symbol else f"{body} {currency.upper()}"
    if v < 0 and float(body.replace(",", "")) > 0:
        return "−" + text
    return ("+" + text) if signed and v > 0 else text


def count(value: Any, *, signed: bool = False) -> str:
    """A count with thousands separators (``1,240``); one decimal below 10 when fractional
    (a forecast median of 3.4 conversions is not 3)."""
    if not _finite(value):
        return _DASH
    v = float(value)
    digits = 1 if abs(v) < 10 and not float(v).is_integer() else 0
    return _sign(v, f"{v:,.{digits}f}", signed)


def number(value: Any, digits: int = 2, *, signed: bool = False) -> str:
    """A plain number (scores, ratios such as ROAS)."""
    if not _finite(value):
        return _DASH
    return _sign(float(value), f"{float(value):,.{digits}f}", signed)


def percent(value: Any, digits: int = 1, *, signed: bool = False) -> str:
    """A fraction as a percentage (``0.0387`` -> ``3.9%``)."""
    if not _finite(value):
        return _DASH
    return _sign(float(value), f"{100 * float(value):,.{digits}f}%", signed)


def probability(value: Any) -> str:
    """A probability in whole percent, never rounded to a false certainty
    (``0.004`` -> ``<1%``, ``0.998`` -> ``>99%``)."""
    if not _finite(value):
        return _DASH
    v = float(value)
    if 0 < v < 0.005:
        return "<1%"
    if 0.995 <= v < 1:
        return ">99%"
    return f"{100 * v:.0f}%"


def interval(
    q: Mapping[str, Any], kind: Kind = "count", currency: str = "USD", *, signed: bool = False
) -> str:
    """``p10–p90`` of a quantile dict, in the format of ``kind`` (``1,050–1,430``)."""
    lo, hi = (format_value(q.get(k), kind, currency, signed=signed) for k in ("p10", "p90"))
    return f"{lo} to {hi}" if signed or lo.startswith("−") else f"{lo}–{hi}"


def format_value(value: Any, kind: Kind, currency: str = "USD", *, signed: bool = False) -> str:
    """``value`` formatted as ``kind``; absent or non-finite values show as a dash."""
    if kind == "text":
        return (
            _DASH
            if value is None or (isinstance(value, float) and math.isnan(value))
            else str(value)
        )
    if kind == "money":
        return money(value, currency, signed=signed)
    if kind == "count":
        return count(value, signed=signed)
    if kind == "rate":
        return percent(value, 2 if _finite(value) and abs(float(value)) < 0.1 else 1, signed=signed)
    if kind == "probability":
        return probability(value)
    if kind == "share":
        return percent(value, 0, signed=signed)
    if kind == "percent_points":
        return _DASH if not _finite(value) else _sign(float(value), f"{float(value):,.0f}%", signed)
    if kind == "ratio":
        return number(value, 2, signed=signed)
    return _number_auto(value, signed)


def _number_auto(value: Any, signed: bool) -> str:
    if not _finite(value):
        return _DASH
    v = float(value)
    return number(v, 0 if v.is_integer() else 2, signed=signed)


def _column_kind(column: str) -> Kind | None:
    """The kind a column's name gives its values, or ``None`` (ask the row's metric)."""
    name = column.strip()
    low = name.lower()
    if "%" in name:
        return "percent_points"
    if _PROBABILITY.search(low):
        return "probability"
    if _SHARE.search(low):
        return "share"
    if _RATE.search(low):
        return "rate"
    first = re.split(r"[\s(/]", low, maxsplit=1)[0]
    if first in METRIC_KINDS:
        return METRIC_KINDS[first]
    if re.search(r"budget|spend|revenue|cost|\bcpa\b|\bcpc\b|/ ?day", low):
        return "money"
    if re.fullmatch(r"days|n_\w+|.*\b(conversions|clicks|impressions|points|rows)\b.*", low):
        return "count"
    return None


def value_kind(column: str, metric: str | None = None) -> Kind:
    """How a numeric cell reads: from its column's name, else from its row's metric."""
    own = _column_kind(column)
    if own is not None:
        return own
    if metric is not None and metric.lower() in METRIC_KINDS:
        return METRIC_KINDS[metric.lower()]
    return "number"


def _is_numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    values = [v for v in series if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def _cell(
    value: Any, column: str, metric: str | None, display: Display, *, whole: bool = False
) -> str:
    """A numeric cell (``whole``: every value of its column is a whole number)."""
    kind = value_kind(column, metric)
    signed = bool(_SIGNED.search(column))
    if kind == "number" and _finite(value):
        return number(value, 0 if whole else 2, signed=signed)
    if kind == "money" and whole:
        return money(value, display.currency, signed=signed, digits=0)
    return format_value(value, kind, display.currency, signed=signed)


def _text_cell(value: Any, column: str, display: Display) -> str:
    if column in KEY_COLUMNS and isinstance(value, str) and value not in ("", "-"):
        text = display.label(value)
        return text[0].upper() + text[1:] if text else text
    if column in KEY_LIST_COLUMNS and isinstance(value, str):
        return ", ".join(label(v.strip()) for v in value.split(",") if v.strip()) or _DASH
    if value in ("", "-", "None"):
        return _DASH
    return format_value(value, "text")


def _whole(series: pd.Series) -> bool:
    values = [float(v) for v in series if _finite(v)]
    return bool(values) and all(v.is_integer() for v in values)


#: On paper a wide table shrinks to the page rather than being cut at its right edge.
_PRINT_CSS = (
    "<style>@media print{table.simkit-table{font-size:0.78em}"
    "table.simkit-table td,table.simkit-table th{padding:0.25em 0.4em !important}}</style>"
)
_TABLE = 'class="simkit-table" style="border-collapse:collapse;margin:0.4em 0 1.2em 0"'
_TH = "padding:0.35em 0.7em;border-bottom:1px solid #999;vertical-align:bottom"
_TD = "padding:0.3em 0.7em;border-bottom:1px solid #e4e4e4;vertical-align:top"


def table_html(
    table: pd.DataFrame,
    display: Display | None = None,
    *,
    html_columns: Iterable[str] = (),
) -> str:
    """A table as HTML: labelled keys, formatted numbers right-aligned, text left-aligned.

    Rows whose ``event`` (or ``metric``) is a probability the report was not asked for
    (:meth:`Display.asked`) are left out.  Cells of ``html_columns`` are trusted HTML built
    by simkit from escaped values (links); every other cell is escaped.
    """
    display = display or Display()
    trusted = set(html_columns)
    metric_col = next((c for c in table.columns if str(c).lower() == "metric"), None)
    event_col = next((c for c in ("event", "metric") if c in table.columns), None)
    if event_col is not None:
        keep = [not isinstance(v, str) or display.asked(v) for v in table[event_col]]
        table = table[keep]
    numeric = {c: _is_numeric(table[c]) for c in table.columns}
    whole = {c: numeric[c] and _whole(table[c]) for c in table.columns}
    head = "".join(
        f'<th style="{_TH};text-align:{"right" if numeric[c] else "left"}">'
        f"{html.escape(label(str(c)) if str(c) in LABELS else str(c))}</th>"
        for c in table.columns
    )
    rows = []
    for record in table.to_dict("records"):
        metric = record.get(metric_col) if metric_col is not None else None
        cells = []
        for c in table.columns:
            value = record[c]
            if c in trusted:
                text = _DASH if value is None or value == "" else str(value)
            elif numeric[c]:
                text = html.escape(_cell(value, str(c), metric, display, whole=whole[c]))
            else:
                text = html.escape(_text_cell(value, str(c), display))
            align = "right;white-space:nowrap" if numeric[c] else "left"
            cells.append(f'<td style="{_TD};text-align:{align}">{text}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"{_PRINT_CSS}<table {_TABLE}><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


_CARD = (
    "border:1px solid #c9d6e3;border-left:6px solid #1f77b4;background:#f5f9fc;"
    "padding:0.7em 1.1em;margin:0.6em 0 1.4em 0;border-radius:4px;break-inside:avoid"
)
_CARD_P = "margin:0.35em 0;font-size:1.06em;line-height:1.45"


#: Longest lead phrase shown in bold ("Over the next 365 days", "No pivot computed"); a
#: longer text before the colon is part of a sentence ("This campaign has stopped: ...").
_LEAD_CHARS = 24


def _lead(sentence: str) -> str:
    """The sentence as HTML, its lead phrase (up to the first colon) in bold."""
    head, sep, rest = sentence.partition(": ")
    if not sep or len(head) > _LEAD_CHARS:
        return html.escape(sentence)
    return f"<b>{html.escape(head)}:</b> {html.escape(rest)}"


def card_html(
    lines: Iterable[str],
    *,
    subtitle: str | None = None,
    footnotes: Iterable[str] = (),
    warnings: Iterable[str] = (),
) -> str:
    """A headline card: one sentence a line, each lead phrase (before its colon) in bold;
    footnotes small and grey, warnings in amber.  Every text is escaped."""
    parts = []
    if subtitle:
        parts.append(
            f'<div style="color:#555;font-size:0.9em;margin-bottom:0.5em">'
            f"{html.escape(subtitle)}</div>"
        )
    parts += [
        f'<p style="{_CARD_P}{";color:#8a6d3b" if t.startswith("Warning:") else ""}">{_lead(t)}</p>'
        for t in lines
    ]
    parts += [
        f'<p style="{_CARD_P};color:#555;font-size:0.92em">{html.escape(t)}</p>' for t in footnotes
    ]
    parts += [f'<p style="{_CARD_P};color:#8a6d3b">{html.escape(t)}</p>' for t in warnings]
    return f'<div class="simkit-headline" style="{_CARD}">{"".join(parts)}</div>'
