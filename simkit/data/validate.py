"""Validation of imported data against the contract, and a data-quality score per campaign.

Validation never drops a row silently.  It returns a :class:`ValidationReport` whose errors
and warnings each name the file, the source line and the column, and a score per campaign
that says what lowers it.  :func:`load` is the one entry point most code needs: import,
validate, and either return clean typed data or raise a :class:`~simkit.errors.DataError`
that lists the errors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from simkit._suggest import did_you_mean
from simkit.data.importers import LINE, ColumnMapping, ImportResult, Repair, import_file
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


def _parse_dates(frame: pd.DataFrame, found: _Findings) -> pd.Series:
    text = frame["date"].astype(str).str.strip()
    fmt = frame.attrs.get("date_format")
    dayfirst = frame.attrs.get("dayfirst", False)
    if fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    else:
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        retry = parsed.isna() & (text != "")
        if retry.any():
            parsed[retry] = pd.to_datetime(
                text[retry], errors="coerce", dayfirst=dayfirst, format="mixed"
            )
    bad = parsed.isna()
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
    return parsed.dt.normalize()


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
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            hint = did_you_mean(column, unknown)
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
        text = raw.astype(str).str.strip() if raw.dtype == object or raw.dtype == "str" else None
        values = pd.to_numeric(raw, errors="coerce")
        empty = (text == "") | text.isin(["nan", "None"]) if text is not None else raw.isna()
        bad = values.isna() & ~empty
        if bad.any():
            example = raw[bad].iloc[0]
            found.add(
                "error",
                "non_numeric",
                f"{int(bad.sum())} cell(s) are not numbers, e.g. '{example}'",
                frame.loc[bad, LINE],
                column,
            )
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

    dates = _parse_dates(frame, found)
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


def load_metadata(path: str | Path) -> pd.DataFrame:
    """Campaign metadata from YAML (``campaigns: [...]``) or CSV, one row per campaign."""
    path = Path(path)
    if not path.is_file():
        raise DataError("metadata file not found", file=str(path))
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(path.read_text()) or {}
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
) -> LoadedData:
    """Import, validate and return clean data; raise :class:`DataError` listing all errors.

    Metadata comes from ``metadata``, or from ``<stem>_meta.yaml``/``.csv`` beside the data
    when present, or from the ``channel`` column.

    Examples
    --------
    >>> loaded = load("demo-data/campaigns.csv")  # doctest: +SKIP
    >>> loaded.report.campaigns[0].quality_score  # doctest: +SKIP
    """
    path = Path(path)
    imported = import_file(path, mapping=mapping, source=source)
    clean, report = validate(imported, today=today)
    if not report.ok:
        listed = "\n".join(f"  - {e}" for e in report.errors)
        raise DataError(f"{len(report.errors)} error(s):\n{listed}", file=str(path))
    meta_path = Path(metadata) if metadata else find_metadata(path)
    if meta_path is not None:
        meta = load_metadata(meta_path)
    elif "channel" in clean.columns:
        meta = clean.groupby("campaign_id", as_index=False)["channel"].first()
    else:
        meta = pd.DataFrame({"campaign_id": sorted(clean["campaign_id"].unique())})
    return LoadedData(data=clean.drop(columns=[LINE]), campaigns=meta, report=report)
