"""Validation of imported data against the contract, and a data-quality score per campaign.

Validation never drops a row silently.  It returns a :class:`ValidationReport` whose errors
and warnings each name the file, the source line and the column, and a score per campaign
that says what lowers it.  :func:`load` is the one entry point most code needs: import,
validate, and either return clean typed data or raise a :class:`~simkit.errors.DataError`
that lists the errors.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from simkit import _display
from simkit._suggest import did_you_mean
from simkit.data.importers import (
    LINE,
    ColumnMapping,
    ImportResult,
    OnBadRows,
    Repair,
    import_file,
)
from simkit.data.schema import (
    ALL_COLUMNS,
    COUNT_COLUMNS,
    FULL_HISTORY_DAYS,
    METADATA_FIELDS,
    MIN_HISTORY_DAYS,
    NUMERIC_COLUMNS,
    OPTIONAL_TEXT_COLUMNS,
    REQUIRED_COLUMNS,
)
from simkit.errors import DataError

__all__ = [
    "CampaignQuality",
    "Issue",
    "LoadedData",
    "ValidationReport",
    "find_metadata",
    "load",
    "load_metadata",
    "validate",
]

#: Most rows listed per kind of issue; the rest are counted.
_MAX_LISTED = 5

#: Largest magnitude a metric may have: above it a value is a unit or export error.
MAX_ABS_VALUE = 1e12

#: Row-level errors that ``on_bad_rows: skip`` turns into listed skips, each with how a
#: skipped row's reason reads.  Funnel, duplicate and future-date findings stay errors:
#: they are about readable rows that disagree, which skipping would hide.
SKIPPABLE: dict[str, str] = {
    "missing_value": "empty {column}",
    "non_numeric": "{column} not a number",
    "non_finite": "{column} not finite",
    "absurd_value": "{column} above 1e12",
    "negative": "{column} negative",
    "bad_date": "date not readable",
}


@dataclass(frozen=True)
class Issue:
    """One validation finding, located as precisely as possible."""

    level: Literal["error", "warning"]
    code: str
    message: str
    file: str | None = None
    rows: tuple[int, ...] = ()
    column: str | None = None
    count: int = 1
    campaign_id: str | None = None

    def __str__(self) -> str:
        where = [self.file or ""]
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:_MAX_LISTED])
            more = f" and {self.count - _MAX_LISTED} more" if self.count > _MAX_LISTED else ""
            where.append(f"row{'s' if self.count > 1 else ''} {shown}{more}")
        if self.column:
            where.append(f"column '{self.column}'")
        if self.campaign_id:
            where.append(f"campaign {self.campaign_id}")
        loc = ", ".join(w for w in where if w)
        return f"{loc}: {self.message}" if loc else self.message

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows"] = list(self.rows[:_MAX_LISTED])
        d["text"] = str(self)
        return d


@dataclass(frozen=True)
class CampaignQuality:
    """Data-quality score of one campaign (0-100) and what lowers it."""

    campaign_id: str
    days: int
    first_date: date
    last_date: date
    quality_score: float
    completeness: float
    consistency: float
    history: float
    recency: float
    missing_days: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["first_date"], d["last_date"] = str(self.first_date), str(self.last_date)
        d["reasons"] = list(self.reasons)
        return d


@dataclass(frozen=True)
class ValidationReport:
    """Everything validation found, plus what the importer mapped and repaired."""

    file: str
    source: str
    n_rows_read: int
    n_rows: int
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    campaigns: tuple[CampaignQuality, ...]
    mapped: dict[str, str] = field(default_factory=dict)
    repairs: tuple[Repair, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "file": self.file,
            "source": self.source,
            "rows_read": self.n_rows_read,
            "rows": self.n_rows,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "campaigns": [c.to_dict() for c in self.campaigns],
            "mapped": dict(self.mapped),
            "repairs": [
                {
                    "action": r.action,
                    "detail": r.detail,
                    "rows": r.rows,
                    "lines": list(r.lines[:_MAX_LISTED]),
                }
                for r in self.repairs
            ],
        }

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per campaign: days, span, quality score and its parts, what lowers it."""
        return _display.validation_frame(self)

    def plot(self):  # noqa: ANN201 - an altair chart; altair is imported on use
        """Each campaign's data-quality score (Altair)."""
        _display.ensure_offline_renderer()
        return _display.validation_chart(self)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


@dataclass(frozen=True)
class LoadedData:
    """Clean, validated contract data (one row per campaign-day and breakdown)."""

    data: pd.DataFrame
    campaigns: pd.DataFrame
    report: ValidationReport

    @property
    def campaign_ids(self) -> list[str]:
        return sorted(self.data["campaign_id"].unique())


class _Findings:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Issue] = []
        #: Every source line with a skippable error, with its reasons.
        self.bad_lines: dict[int, list[str]] = {}

    def add(
        self,
        level: Literal["error", "warning"],
        code: str,
        message: str,
        lines: pd.Series | list[int] | None = None,
        column: str | None = None,
        campaign_id: str | None = None,
    ) -> None:
        rows = tuple(int(x) for x in (list(lines) if lines is not None else []))
        # a quoted cell may hold a line break; the message shows it escaped, on one line
        message = message.replace("\r", "\\r").replace("\n", "\\n")
        campaign_id = None if campaign_id is None else campaign_id.replace("\n", "\\n")
        if level == "error" and code in SKIPPABLE:
            reason = SKIPPABLE[code].format(column=column)
            for line in rows:
                self.bad_lines.setdefault(line, []).append(reason)
        self.items.append(
            Issue(
                level,
                code,
                message,
                self.file,
                rows[:_MAX_LISTED],
                column,
                max(len(rows), 1),
                campaign_id,
            )
        )


_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_YMD = re.compile(r"^\d{4}([/.])\d{1,2}\1\d{1,2}$")
_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})$")


def _date_shape(value: str) -> str:
    """A date's written form: 'iso', 'ymd/', 'nn.nn.yyyy' ..., 'text' or '' (empty)."""
    if not value:
        return ""
    if _ISO.match(value):
        return "iso"
    m = _YMD.match(value)
    if m:
        return f"ymd{m.group(1)}"
    m = _DMY.match(value)
    if m:
        return f"nn{m.group(2)}nn{m.group(2)}{'yyyy' if len(m.group(4)) == 4 else 'yy'}"
    return "text"


def _first(text: pd.Series, mask: pd.Series, lines: pd.Series) -> str:
    return f"'{text[mask].iloc[0]}' (line {int(lines[mask].iloc[0])})"


def _day_first(
    text: pd.Series, lines: pd.Series, declared: bool | None, found: _Findings
) -> bool | None:
    """Whether ``nn/nn/yyyy`` dates are day-first, decided from the whole column.

    A first field above 12 makes the column day-first, a second field above 12
    month-first; both is an error, and so is neither when the two readings differ
    (``03/04/2025``).  Returns ``None`` after recording the error.
    """
    parts = text.str.extract(_DMY)
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first, month_first = first > 12, second > 12
    if declared is not None:
        contradicts = month_first if declared else day_first
        if contradicts.any():
            found.add(
                "error",
                "date_order",
                f"{int(contradicts.sum())} date(s) such as {_first(text, contradicts, lines)} "
                f"are {'month' if declared else 'day'}-first, but the mapping says dayfirst: "
                f"{str(declared).lower()}",
                lines[contradicts],
                "date",
            )
            return None
        return declared
    if day_first.any() and month_first.any():
        found.add(
            "error",
            "mixed_date_formats",
            f"the column mixes day-first dates such as {_first(text, day_first, lines)} and "
            f"month-first dates such as {_first(text, month_first, lines)}; give one "
            "date.format in the mapping and fix the rows that differ",
            lines[day_first | month_first],
            "date",
        )
        return None
    if day_first.any() or month_first.any():
        return bool(day_first.any())
    if (first != second).any():
        example = _first(text, first != second, lines)
        found.add(
            "error",
            "ambiguous_date",
            f"dates such as {example} read as day-first or as month-first and no value "
            "decides (none has a field above 12); set date.format in the mapping, e.g. "
            "'%d/%m/%Y' or '%m/%d/%Y'",
            column="date",
        )
        return None
    return False


def _parse_dates(frame: pd.DataFrame, found: _Findings) -> tuple[pd.Series, Repair | None]:
    """Parse ``date`` as one format for the whole column, never value by value.

    Returns the dates and, when the reading was decided from the data (day-first or
    month-first), a repair recording it.
    """
    text = frame["date"].astype(str).str.strip()
    lines = frame[LINE]
    fmt = frame.attrs.get("date_format")
    declared = frame.attrs.get("dayfirst")
    note = None
    reported = pd.Series(False, index=frame.index)
    if fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    else:
        shapes = text.map(_date_shape)
        counts = shapes[shapes != ""].value_counts()
        parsed = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        if len(counts) > 1:
            major = counts.index[0]
            minor = (shapes != major) & (shapes != "")
            found.add(
                "error",
                "mixed_date_formats",
                f"the column mixes date formats: {int(minor.sum())} value(s) such as "
                f"{_first(text, minor, lines)} are not written like the other "
                f"{int(counts.iloc[0])} such as {_first(text, shapes == major, lines)}; "
                "give one date.format in the mapping and fix the rows that differ",
                lines[minor],
                "date",
            )
            reported = minor
        shape = counts.index[0] if len(counts) else "iso"
        use = shapes == shape
        if shape == "iso":
            parsed[use] = pd.to_datetime(text[use], errors="coerce", format="ISO8601")
        elif shape.startswith("ymd"):
            sep = shape[3]
            parsed[use] = pd.to_datetime(text[use], errors="coerce", format=f"%Y{sep}%m{sep}%d")
        elif shape.startswith("nn"):
            sep = shape[2]
            dayfirst = _day_first(text[use], lines[use], declared, found)
            if dayfirst is None:
                return parsed.dt.normalize(), None
            order = ("%d", "%m") if dayfirst else ("%m", "%d")
            year = "%Y" if shape.endswith("yyyy") else "%y"
            fmt_used = f"{order[0]}{sep}{order[1]}{sep}{year}"
            parsed[use] = pd.to_datetime(text[use], errors="coerce", format=fmt_used)
            parts = text[use].str.extract(_DMY)
            decides = parts[0 if dayfirst else 2].astype(int) > 12
            shown = (
                "as the mapping says"
                if declared is not None
                else f"as {_first(text[use], decides, lines[use])} shows"
                if decides.any()
                else "(day and month are equal in every value)"
            )
            note = Repair(
                "read_dates",
                f"read dates as {'day' if dayfirst else 'month'}-first ({fmt_used}), {shown}",
            )
        else:
            parsed[use] = pd.to_datetime(
                text[use], errors="coerce", dayfirst=bool(declared), format="mixed"
            )
    bad = parsed.isna() & ~reported
    if bad.any():
        example = text[bad].iloc[0]
        found.add(
            "error",
            "bad_date",
            f"{int(bad.sum())} value(s) are not dates, e.g. '{example}'"
            + (f" (expected format {fmt})" if fmt else ""),
            frame.loc[bad, LINE],
            "date",
        )
    return parsed.dt.normalize(), note


def _check_columns(frame: pd.DataFrame, found: _Findings, sum_over: tuple[str, ...]) -> None:
    present = [c for c in frame.columns if c != LINE]
    unknown = [
        c
        for c in present
        if c not in ALL_COLUMNS
        and c not in sum_over
        and c not in METADATA_FIELDS
        and c != "platform"
    ]
    separators = [s for s in ",;\t|" if len(present) == 1 and s in present[0]]
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            hint = did_you_mean(column, unknown)
            if separators:
                shown = "\\t" if separators[0] == "\t" else separators[0]
                hint += (
                    f"; the one column found, '{present[0][:80]}', looks '{shown}'-separated: "
                    f"set separator: '{shown}' in a mapping"
                )
            found.add(
                "error",
                "missing_column",
                f"required column '{column}' is missing{hint}",
                column=column,
            )
    for column in unknown:
        found.add(
            "warning",
            "unknown_column",
            f"unknown column '{column}' is ignored{did_you_mean(column, ALL_COLUMNS)}",
            column=column,
        )


def _numeric(frame: pd.DataFrame, found: _Findings) -> pd.DataFrame:
    out = {}
    for column in NUMERIC_COLUMNS:
        if column not in frame.columns:
            continue
        raw = frame[column]
        if pd.api.types.is_numeric_dtype(raw):
            values = pd.to_numeric(raw, errors="coerce").astype(float)
            empty = values.isna()
            not_finite = np.isinf(values)
        else:
            text = raw.astype(str).str.strip()
            values = pd.to_numeric(text, errors="coerce")
            empty = text == ""
            not_finite = text.str.fullmatch(r"(?i)[+-]?(nan|inf|infinity)") | np.isinf(values)
        bad = values.isna() & ~empty & ~not_finite
        if bad.any():
            example = raw[bad].iloc[0]
            found.add(
                "error",
                "non_numeric",
                f"{int(bad.sum())} cell(s) are not numbers, e.g. '{example}'",
                frame.loc[bad, LINE],
                column,
            )
        if not_finite.any():
            found.add(
                "error",
                "non_finite",
                f"{int(not_finite.sum())} cell(s) are not finite numbers, e.g. "
                f"'{raw[not_finite].iloc[0]}'",
                frame.loc[not_finite, LINE],
                column,
            )
        absurd = ~not_finite & (values.abs() > MAX_ABS_VALUE)
        if absurd.any():
            found.add(
                "error",
                "absurd_value",
                f"{int(absurd.sum())} value(s) above {MAX_ABS_VALUE:.0e}, e.g. "
                f"'{raw[absurd].iloc[0]}': a unit or export error",
                frame.loc[absurd, LINE],
                column,
            )
        values = values.where(~(not_finite | absurd))
        if column in REQUIRED_COLUMNS and empty.any():
            found.add(
                "error",
                "missing_value",
                f"{int(empty.sum())} empty cell(s) in a required column",
                frame.loc[empty, LINE],
                column,
            )
        negative = values < 0
        if negative.any():
            found.add(
                "error",
                "negative",
                f"{int(negative.sum())} negative value(s)",
                frame.loc[negative, LINE],
                column,
            )
        if column in COUNT_COLUMNS:
            fractional = values.notna() & (np.abs(values - np.round(values)) > 1e-9)
            if fractional.any():
                found.add(
                    "warning",
                    "fractional_count",
                    f"{int(fractional.sum())} count(s) are not whole numbers",
                    frame.loc[fractional, LINE],
                    column,
                )
        out[column] = values
    return pd.DataFrame(out, index=frame.index)


def _level(code: str, accept: dict[str, str]) -> tuple[Literal["error", "warning"], str]:
    return ("warning" if code in accept else "error"), code


def _accepted_note(code: str, accept: dict[str, str]) -> str:
    return f" (accepted by the mapping: {accept[code]})" if code in accept else ""


def _check_consistency(
    frame: pd.DataFrame, nums: pd.DataFrame, found: _Findings, accept: dict[str, str]
) -> pd.Series:
    """Row-level funnel checks; returns a per-row 'consistent' mask for the quality score."""
    ok = pd.Series(True, index=frame.index)
    if {"clicks", "impressions"} <= set(nums.columns):
        bad = nums["clicks"] > nums["impressions"]
        if bad.any():
            found.add(
                *_level("clicks_above_impressions", accept),
                f"{int(bad.sum())} row(s) have more clicks than impressions"
                + _accepted_note("clicks_above_impressions", accept),
                frame.loc[bad, LINE],
                "clicks",
            )
        ok &= ~bad
    if {"conversions", "clicks"} <= set(nums.columns):
        bad = nums["conversions"] > nums["clicks"]
        if bad.any():
            found.add(
                *_level("conversions_above_clicks", accept),
                f"{int(bad.sum())} row(s) have more conversions than clicks"
                + _accepted_note("conversions_above_clicks", accept),
                frame.loc[bad, LINE],
                "conversions",
            )
        ok &= ~bad
    if {"spend", "impressions"} <= set(nums.columns):
        bad = (nums["spend"] > 0) & (nums["impressions"] == 0)
        if bad.any():
            found.add(
                "warning",
                "spend_without_impressions",
                f"{int(bad.sum())} row(s) have spend but no impressions",
                frame.loc[bad, LINE],
                "spend",
            )
        ok &= ~bad
    return ok


def _quality(
    daily: pd.DataFrame,
    consistency_by_campaign: pd.Series,
    reference_day: pd.Timestamp,
    found: _Findings,
) -> list[CampaignQuality]:
    out = []
    for cid, g in daily.groupby("campaign_id", sort=True):
        days = pd.DatetimeIndex(g["date"].unique()).sort_values()
        span = int((days[-1] - days[0]).days) + 1
        missing = span - len(days)
        completeness = len(days) / span
        consistency = float(consistency_by_campaign.get(cid, 1.0))
        history = min(1.0, len(days) / FULL_HISTORY_DAYS)
        stale = int((reference_day - days[-1]).days)
        recency = float(np.clip(1 - (stale - 2) / 28, 0, 1))
        reasons = []
        if missing:
            gaps = days.to_series().diff().dt.days.fillna(1)
            first_gap = days[int(np.argmax(gaps.to_numpy() > 1))]
            reasons.append(
                f"{missing} missing day(s) in {span} (first gap ends {first_gap.date()})"
            )
            found.add(
                "warning",
                "gaps",
                f"{missing} day(s) missing between {days[0].date()} and {days[-1].date()}",
                campaign_id=str(cid),
            )
        if consistency < 1:
            reasons.append(f"{(1 - consistency):.1%} of source rows fail funnel consistency checks")
        if len(days) < FULL_HISTORY_DAYS:
            reasons.append(f"{len(days)} days of history (full score from {FULL_HISTORY_DAYS})")
        if len(days) < MIN_HISTORY_DAYS:
            found.add(
                "warning",
                "short_history",
                f"only {len(days)} days of history: forecasts need at least "
                f"{MIN_HISTORY_DAYS} and work best from {FULL_HISTORY_DAYS}",
                campaign_id=str(cid),
            )
        if recency < 1:
            reasons.append(f"last data {stale} day(s) before {reference_day.date()}")
        score = 100 * (0.3 * completeness + 0.3 * consistency + 0.25 * history + 0.15 * recency)
        out.append(
            CampaignQuality(
                campaign_id=str(cid),
                days=len(days),
                first_date=days[0].date(),
                last_date=days[-1].date(),
                quality_score=float(score),
                completeness=float(completeness),
                consistency=consistency,
                history=history,
                recency=recency,
                missing_days=missing,
                reasons=tuple(reasons),
            )
        )
    return out


def validate(
    imported: ImportResult,
    *,
    today: date | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check an import against the contract; return the clean frame and the report.

    The clean frame has a ``datetime64`` ``date``, float metrics and one row per key
    (``date`` x ``campaign_id`` x the breakdown columns present).  Rows summed over the
    mapping's ``sum_over`` columns are recorded as a repair.  ``today`` (default: the real
    date) is used for the future-date check; the recency score is measured against the
    latest date in the file, so an old file is not penalised for being old.
    """
    frame = imported.data
    found = _Findings(imported.file)
    repairs = list(imported.repairs)
    if frame.empty:
        found.add("error", "empty", "the file has a header but no data rows")
    _check_columns(frame, found, imported.sum_over)
    if any(i.code == "missing_column" for i in found.items) or frame.empty:
        return pd.DataFrame(columns=list(REQUIRED_COLUMNS)), _report(
            imported, found, [], 0, repairs
        )

    dates, date_note = _parse_dates(frame, found)
    if date_note is not None:
        repairs.append(date_note)
    nums = _numeric(frame, found)
    ids = frame["campaign_id"].astype(str).str.strip()
    blank_id = ids.isin(["", "nan", "None"])
    if blank_id.any():
        found.add(
            "error",
            "missing_value",
            f"{int(blank_id.sum())} row(s) have no campaign_id",
            frame.loc[blank_id, LINE],
            "campaign_id",
        )
    if imported.on_bad_rows == "skip" and found.bad_lines:
        keep = ~frame[LINE].isin(list(found.bad_lines))
        repairs.append(_skipped(imported.file, found))
        found.items = [i for i in found.items if not (i.level == "error" and i.code in SKIPPABLE)]
        frame, dates, nums, ids = frame.loc[keep], dates[keep], nums.loc[keep], ids[keep]
        if frame.empty:
            found.add("error", "empty", "every row was skipped as bad (on_bad_rows: skip)")
            return pd.DataFrame(columns=list(REQUIRED_COLUMNS)), _report(
                imported, found, [], 0, repairs
            )
    today_ts = pd.Timestamp(today or date.today())
    future = dates > today_ts
    if future.any():
        found.add(
            "error",
            "future_date",
            f"{int(future.sum())} row(s) are dated after today ({today_ts.date()})",
            frame.loc[future, LINE],
            "date",
        )
    consistent = _check_consistency(frame, nums, found, imported.accept)
    consistency_by_campaign = consistent.groupby(ids).mean()

    clean = nums.copy()
    clean.insert(0, "campaign_id", ids)
    clean.insert(0, "date", dates)
    clean[LINE] = frame[LINE]
    for column in OPTIONAL_TEXT_COLUMNS:
        if column in frame.columns:
            clean[column] = frame[column].astype(str).str.strip()
    for column in imported.sum_over:
        if column not in frame.columns:
            found.add(
                "error",
                "missing_column",
                f"the mapping sums over column '{column}' which is not in the file"
                f"{did_you_mean(column, list(frame.columns))}",
                column=column,
            )
    if any(i.level == "error" for i in found.items):
        return clean, _report(imported, found, [], len(clean), repairs)

    keys = ["date", "campaign_id"] + [
        c for c in OPTIONAL_TEXT_COLUMNS if c in clean.columns and c not in imported.sum_over
    ]
    if imported.sum_over:
        n_before = len(clean)
        text_cols = [c for c in OPTIONAL_TEXT_COLUMNS if c in clean.columns and c not in keys]
        agg: dict[str, Any] = {
            c: "sum"
            for c in nums.columns
            if c in ("spend", "impressions", "clicks", "conversions", "revenue", "reach", "budget")
        }
        agg.update({c: "first" for c in text_cols})
        agg[LINE] = "min"
        clean = clean.groupby(keys, sort=True).agg(agg).reset_index()
        for column in ("frequency", "impression_share"):
            if column in nums.columns:
                found.add(
                    "warning",
                    "dropped_ratio",
                    f"'{column}' cannot be summed over {list(imported.sum_over)} and was left out",
                    column=column,
                )
        repairs.append(
            Repair(
                "summed_breakdowns",
                f"summed {n_before} rows over {list(imported.sum_over)} into {len(clean)} "
                f"rows of {' x '.join(keys)}",
                rows=n_before,
            )
        )
    else:
        dup = clean.duplicated(keys, keep=False)
        if dup.any():
            first = clean.loc[dup].sort_values(keys).iloc[0]
            found.add(
                "error",
                "duplicate_day",
                f"{int(dup.sum())} rows share a {' x '.join(keys)} key, e.g. campaign "
                f"{first['campaign_id']} on {first['date'].date()}; sum them in a mapping "
                "(sum_over) or remove the duplicates",
                clean.loc[dup, LINE],
                "date",
            )
            return clean, _report(imported, found, [], len(clean), repairs)

    clean = clean.sort_values(keys).reset_index(drop=True)
    quality = _quality(clean, consistency_by_campaign, clean["date"].max(), found)
    return clean, _report(imported, found, quality, len(clean), repairs)


def _skipped(file: str, found: _Findings) -> Repair:
    """The record of the rows ``on_bad_rows: skip`` left out: file, each line, why."""
    lines = sorted(found.bad_lines)
    listed = "; ".join(
        f"line {line}: {', '.join(dict.fromkeys(found.bad_lines[line]))}"
        for line in lines[: _MAX_LISTED * 2]
    )
    more = f"; and {len(lines) - _MAX_LISTED * 2} more" if len(lines) > _MAX_LISTED * 2 else ""
    return Repair(
        "skipped_bad_rows",
        f"skipped {len(lines)} bad row(s) of {Path(file).name} (on_bad_rows: skip): {listed}{more}",
        rows=len(lines),
        lines=tuple(lines),
    )


def _report(
    imported: ImportResult,
    found: _Findings,
    quality: list[CampaignQuality],
    n_rows: int,
    repairs: list[Repair],
) -> ValidationReport:
    return ValidationReport(
        file=imported.file,
        source=imported.source,
        n_rows_read=imported.n_rows_read,
        n_rows=n_rows,
        errors=tuple(i for i in found.items if i.level == "error"),
        warnings=tuple(i for i in found.items if i.level == "warning"),
        campaigns=tuple(quality),
        mapped=dict(imported.mapped),
        repairs=tuple(repairs),
    )


#: Metadata files read in this process, by path, modification time and size (last few):
#: a batch's worker resolves the metadata of every campaign for each report, and a
#: 1,000-campaign sidecar took 0.85 s to parse each time (issue 21).
_METADATA_READ: OrderedDict[tuple[str, int, int], pd.DataFrame] = OrderedDict()
_METADATA_READ_MAX = 4
#: libyaml's parser when PyYAML has it (about 10x faster; same safe subset), else PyYAML's.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_metadata(path: str | Path) -> pd.DataFrame:
    """Campaign metadata from YAML (``campaigns: [...]``) or CSV, one row per campaign.

    A file read before and unchanged since (same modification time and size) is not parsed
    again; every call gets its own copy of the table."""
    path = Path(path)
    if not path.is_file():
        raise DataError("metadata file not found", file=str(path))
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    meta = _METADATA_READ.get(key)
    if meta is None:
        meta = _read_metadata(path)
        _METADATA_READ[key] = meta
        while len(_METADATA_READ) > _METADATA_READ_MAX:
            _METADATA_READ.popitem(last=False)
    else:
        _METADATA_READ.move_to_end(key)
    return meta.copy()


def _read_metadata(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            raw = yaml.load(path.read_text(), Loader=_YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            raise DataError(f"not valid YAML: {exc}", file=str(path)) from None
        records = raw.get("campaigns") if isinstance(raw, dict) else None
        if not isinstance(records, list):
            raise DataError("expected a top-level 'campaigns:' list", file=str(path))
        meta = pd.DataFrame(records)
    else:
        meta = pd.read_csv(path)
    unknown = [c for c in meta.columns if c not in METADATA_FIELDS and c != "platform"]
    if "campaign_id" not in meta.columns:
        raise DataError(
            "metadata needs a 'campaign_id' for every campaign",
            file=str(path),
            column="campaign_id",
        )
    if unknown:
        hints = "; ".join(f"'{c}'{did_you_mean(c, METADATA_FIELDS)}" for c in unknown)
        raise DataError(f"unknown metadata field(s): {hints}", file=str(path))
    meta["campaign_id"] = meta["campaign_id"].astype(str)
    return meta


def find_metadata(path: Path) -> Path | None:
    """The metadata file that sits beside a data file (``<stem>_meta.yaml`` or ``.csv``)."""
    for candidate in (
        path.with_name(path.stem + "_meta.yaml"),
        path.with_name(path.stem + "_meta.csv"),
    ):
        if candidate.is_file():
            return candidate
    return None


def load(
    path: str | Path,
    *,
    mapping: ColumnMapping | str | Path | None = None,
    source: str | None = None,
    metadata: str | Path | None = None,
    today: date | None = None,
    on_bad_rows: OnBadRows | None = None,
) -> LoadedData:
    """Import, validate and return clean data; raise :class:`DataError` listing all errors.

    Metadata comes from ``metadata``, or from ``<stem>_meta.yaml``/``.csv`` beside the data
    when present, or from the ``channel`` column.  ``on_bad_rows`` (default: the
    mapping's, else ``"error"``) says whether rows with unreadable or empty required cells
    fail the load or are skipped, each listed in ``report.repairs``.

    Examples
    --------
    >>> loaded = load("demo-data/campaigns.csv")  # doctest: +SKIP
    >>> loaded.report.campaigns[0].quality_score  # doctest: +SKIP
    """
    path = Path(path)
    imported = import_file(path, mapping=mapping, source=source, on_bad_rows=on_bad_rows)
    clean, report = validate(imported, today=today)
    if not report.ok:
        listed = "\n".join(f"  - {e}" for e in report.errors)
        hint = (
            "\n  (to leave such rows out, each listed in the repairs: on_bad_rows: skip in "
            "the mapping or --on-bad-rows skip)"
            if any(e.code in SKIPPABLE for e in report.errors)
            else ""
        )
        raise DataError(f"{len(report.errors)} error(s):\n{listed}{hint}", file=str(path))
    meta_path = Path(metadata) if metadata else find_metadata(path)
    if meta_path is not None:
        meta = load_metadata(meta_path)
    elif "channel" in clean.columns:
        meta = clean.groupby("campaign_id", as_index=False)["channel"].first()
    else:
        meta = pd.DataFrame({"campaign_id": sorted(clean["campaign_id"].unique())})
    return LoadedData(data=clean.drop(columns=[LINE]), campaigns=meta, report=report)
