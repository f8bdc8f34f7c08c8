"""Importers: map platform exports and arbitrary CSV/Parquet files onto the data contract.

Each source is a small :class:`Source` in the ``SOURCES`` registry.  A source knows the
column names its platform writes (used both to detect it from a header and to rename the
columns), how to read its numbers (``"1,234"``, ``"--"``, ``"85.3%"``), and which rows are
not data (the title lines above an export's table and its totals rows below it).

Nothing is dropped silently: every skipped line, every summed breakdown and every renamed
column is recorded in the :class:`ImportResult`'s ``mapped`` and ``repairs`` lists.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simkit._suggest import did_you_mean
from simkit.data.schema import ALL_COLUMNS, METRIC_COLUMNS, NUMERIC_COLUMNS, REQUIRED_COLUMNS
from simkit.errors import DataError, ParamsError

__all__ = [
    "SOURCES",
    "ColumnMapping",
    "DateSpec",
    "ImportResult",
    "Repair",
    "Source",
    "detect_source",
    "import_file",
    "load_mapping",
]

#: Validation codes a mapping may accept as known quirks of its source (warnings, not errors).
ACCEPTABLE_ISSUES: tuple[str, ...] = (
    "clicks_above_impressions",
    "conversions_above_clicks",
    "spend_without_impressions",
)

#: Column holding the 1-based line of the source file each row came from.
LINE = "_line"


@dataclass(frozen=True)
class Repair:
    """One explicit change the importer made to the data, with where and why."""

    action: str
    detail: str
    rows: int = 0
    lines: tuple[int, ...] = ()


@dataclass
class ImportResult:
    """A raw import mapped onto the contract, before validation.

    ``data`` keeps a ``_line`` column (the source line of each row; for aggregated rows the
    first line summed into it) so validation can name rows.
    """

    data: pd.DataFrame
    file: str
    source: str
    mapped: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    repairs: list[Repair] = field(default_factory=list)
    n_rows_read: int = 0
    accept: dict[str, str] = field(default_factory=dict)
    sum_over: tuple[str, ...] = ()


class DateSpec(BaseModel):
    """How to build ``date``: one column with a format, or several joined with spaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    columns: list[str] = Field(min_length=1)
    format: str | None = None
    dayfirst: bool = False


class ColumnMapping(BaseModel):
    """A generic CSV/Parquet mapping, read from YAML.

    Example (``params/sources/online_ad_performance.yaml``)::

        renames: {campaign_number: campaign_id, displays: impressions}
        constants: {year: 2020, channel: display}
        date: {columns: [year, month, day], format: "%Y %B %d"}
        sum_over: [user_engagement, banner, placement]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = "generic"
    description: str | None = None
    separator: str | None = None
    skip_lines: int = Field(0, ge=0)
    renames: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | int | float] = Field(default_factory=dict)
    date: DateSpec | None = None
    sum_over: list[str] = Field(default_factory=list)
    drop_columns: list[str] = Field(default_factory=list)
    metadata: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="Campaign metadata for every campaign of this source (industry, "
        "platform, target_cpa, ...); checked and merged by simkit.metadata.",
    )
    accept: dict[str, str] = Field(
        default_factory=dict,
        description="Known quirks of this source, by issue code, each with the reason: the "
        "rows are kept and reported as warnings instead of errors. Only funnel-consistency "
        "codes can be accepted (see ACCEPTABLE_ISSUES).",
    )

    @field_validator("accept")
    @classmethod
    def _acceptable(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            if code not in ACCEPTABLE_ISSUES:
                raise ValueError(
                    f"'{code}' cannot be accepted{did_you_mean(code, ACCEPTABLE_ISSUES)}; "
                    f"acceptable: {', '.join(ACCEPTABLE_ISSUES)}"
                )
        return value


@dataclass(frozen=True)
class Source:
    """A known export format: its column names and how it writes numbers."""

    name: str
    description: str
    renames: dict[str, str]
    signature: tuple[str, ...]
    constants: dict[str, Any] = field(default_factory=dict)
    date_format: str | None = None
    dayfirst: bool = False
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    #: The platform leaves a metric cell blank when it is zero (Meta does for "Results").
    blank_means_zero: bool = False

    def matches(self, header: list[str]) -> float:
        """Share of this source's signature columns present in ``header``."""
        names = {h.strip().lower() for h in header}
        return sum(s.lower() in names for s in self.signature) / len(self.signature)


def _channel_from_campaign_type(frame: pd.DataFrame) -> pd.DataFrame:
    if "Campaign type" in frame.columns and "channel" not in frame.columns:
        frame = frame.assign(channel=frame["Campaign type"].astype(str).str.strip().str.lower())
        frame = frame.drop(columns=["Campaign type"])
    return frame


SOURCES: dict[str, Source] = {
    "simkit": Source(
        name="simkit",
        description="A file already in the data contract's column names",
        renames={},
        signature=REQUIRED_COLUMNS,
    ),
    "google_ads": Source(
        name="google_ads",
        description="Google Ads report download (Campaign report by Day)",
        renames={
            "Day": "date",
            "Campaign": "campaign_id",
            "Cost": "spend",
            "Impr.": "impressions",
            "Impressions": "impressions",
            "Clicks": "clicks",
            "Conversions": "conversions",
            "Conv. value": "revenue",
            "Search impr. share": "impression_share",
            "Budget": "budget",
        },
        signature=("Day", "Campaign", "Cost", "Impr.", "Clicks", "Conversions", "Conv. value"),
        constants={"platform": "google"},
        prepare=_channel_from_campaign_type,
    ),
    "meta_ads": Source(
        name="meta_ads",
        description="Meta Ads Manager export (campaigns, breakdown by day)",
        renames={
            "Reporting starts": "date",
            "Campaign name": "campaign_id",
            "Amount spent (USD)": "spend",
            "Impressions": "impressions",
            "Reach": "reach",
            "Frequency": "frequency",
            "Link clicks": "clicks",
            "Results": "conversions",
            "Purchases conversion value": "revenue",
        },
        signature=(
            "Reporting starts",
            "Campaign name",
            "Amount spent (USD)",
            "Impressions",
            "Link clicks",
            "Results",
            "Purchases conversion value",
        ),
        constants={"channel": "social", "platform": "meta"},
        blank_means_zero=True,
    ),
}

# Columns of the exports that carry no contract meaning and are dropped with a record.
_KNOWN_EXTRA = {"Reporting ends", "Result indicator", "Currency", "Campaign ID", "Campaign status"}


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and validate a mapping YAML; errors name the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError("mapping file not found", file=str(path))
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"not valid YAML: {exc}", file=str(path)) from None
    if not isinstance(raw, dict):
        raise ParamsError("a mapping must be a YAML mapping of keys", file=str(path))
    try:
        return ColumnMapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field_name = ".".join(str(p) for p in first["loc"])
        hint = ""
        if first["type"] == "extra_forbidden":
            hint = did_you_mean(str(first["loc"][-1]), ColumnMapping.model_fields)
        raise ParamsError(f"{first['msg']}{hint}", file=str(path), field=field_name) from None


def _sniff_lines(path: Path) -> tuple[list[str], str]:
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError("the file is empty", file=str(path))
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = raw.decode("utf-16")
    else:
        head = raw[:4096]
        if b"\x00" in head:
            raise DataError(
                "this is a binary file, not a CSV (expected text with a header row)",
                file=str(path),
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    return text.splitlines(), text


def _find_header(lines: list[str], sep: str) -> int:
    """Index of the header line: the first line whose cells include a known column name."""
    known = {c.lower() for s in SOURCES.values() for c in s.renames} | set(ALL_COLUMNS)
    best, best_hits = 0, 0
    for i, line in enumerate(lines[:30]):
        cells = [c.strip().strip('"').lower() for c in next(csv.reader([line], delimiter=sep))]
        hits = sum(c in known for c in cells)
        if hits > best_hits:
            best, best_hits = i, hits
        if hits >= 3:
            return i
    return best


def _read_text_table(
    path: Path, separator: str | None, skip_lines: int
) -> tuple[pd.DataFrame, list[Repair]]:
    lines, text = _sniff_lines(path)
    if separator is None:
        try:
            separator = (
                csv.Sniffer()
                .sniff("\n".join(lines[skip_lines : skip_lines + 20]), delimiters=",;\t|")
                .delimiter
            )
        except csv.Error:
            separator = ","
    header_at = skip_lines + _find_header(lines[skip_lines:], separator)
    repairs = []
    if header_at:
        repairs.append(
            Repair(
                "skipped_preamble",
                f"skipped {header_at} line(s) above the header: "
                + " | ".join(line.strip()[:60] for line in lines[:header_at]),
                rows=header_at,
                lines=tuple(range(1, header_at + 1)),
            )
        )
    body = "\n".join(lines[header_at:])
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"could not parse as CSV: {exc}", file=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame[LINE] = range(header_at + 2, header_at + 2 + len(frame))
    blank = frame.drop(columns=[LINE]).apply(lambda col: col.str.strip() == "").all(axis=1)
    if blank.any():
        repairs.append(
            Repair(
                "dropped_blank_rows",
                "dropped empty lines",
                rows=int(blank.sum()),
                lines=tuple(frame.loc[blank, LINE]),
            )
        )
        frame = frame.loc[~blank]
    return frame, repairs


def _read_raw(path: Path, mapping: ColumnMapping | None) -> tuple[pd.DataFrame, list[Repair]]:
    if not path.exists():
        raise DataError("file not found", file=str(path))
    if path.is_dir():
        raise DataError("is a directory, expected a CSV or Parquet file", file=str(path))
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a bad file
            raise DataError(f"could not read as Parquet: {exc}", file=str(path)) from None
        frame = frame.astype({c: str for c in frame.columns if frame[c].dtype == object})
        frame[LINE] = range(1, len(frame) + 1)
        return frame, []
    return _read_text_table(
        path, mapping.separator if mapping else None, mapping.skip_lines if mapping else 0
    )


def detect_source(header: list[str]) -> str:
    """Name of the registered source whose signature best matches ``header``."""
    scores = {name: src.matches(header) for name, src in SOURCES.items()}
    best = max(scores, key=lambda n: scores[n])
    return best if scores[best] >= 0.6 else "generic"


def _drop_totals(frame: pd.DataFrame, id_column: str | None) -> tuple[pd.DataFrame, list[Repair]]:
    """Drop the totals rows exports put below the table ("Total: Account", ...)."""
    first = [c for c in frame.columns if c != LINE][0]
    text_cols = [first] + ([id_column] if id_column and id_column in frame.columns else [])
    is_total = pd.Series(False, index=frame.index)
    for col in text_cols:
        is_total |= frame[col].astype(str).str.strip().str.lower().str.startswith("total")
    if id_column and {"date", id_column} <= set(frame.columns):
        # Meta writes its totals row with neither a date nor a campaign name
        blank = [frame[c].astype(str).str.strip().isin(["", "nan"]) for c in ("date", id_column)]
        is_total |= blank[0] & blank[1]
    if not is_total.any():
        return frame, []
    return frame.loc[~is_total], [
        Repair(
            "dropped_totals",
            "dropped totals rows written by the export below the table",
            rows=int(is_total.sum()),
            lines=tuple(int(x) for x in frame.loc[is_total, LINE]),
        )
    ]


def _clean_number_text(series: pd.Series) -> pd.Series:
    """Platform number formats to plain text pandas can parse: 1,234 / -- / 85.3% / < 10%."""
    s = series.astype(str).str.strip()
    s = s.str.replace(r"^(--|-|N/A|n/a|—)$", "", regex=True)
    s = s.str.replace(r"^[<>]\s*", "", regex=True)
    pct = s.str.endswith("%")
    s = s.str.replace(",", "", regex=False).str.replace("%", "", regex=False)
    s = s.str.replace(r"^[$€£]", "", regex=True)
    numeric = pd.to_numeric(s, errors="coerce")
    s = s.where(~(pct & numeric.notna()), (numeric / 100).astype(str))
    return s


def import_file(
    path: str | Path,
    *,
    mapping: ColumnMapping | str | Path | None = None,
    source: str | None = None,
) -> ImportResult:
    """Read a file and map it onto the contract (no validation yet: see :func:`load`).

    Parameters
    ----------
    path
        CSV (any common separator, UTF-8/UTF-16, with or without export title lines) or
        Parquet.
    mapping
        A :class:`ColumnMapping` or the path of its YAML; implies the ``generic`` source.
    source
        Force a registered source (``simkit``, ``google_ads``, ``meta_ads``, ``generic``)
        instead of detecting it from the header.
    """
    path = Path(path)
    if isinstance(mapping, str | Path):
        mapping = load_mapping(mapping)
    if source is not None and source not in SOURCES and source != "generic":
        raise ParamsError(
            f"unknown source '{source}'{did_you_mean(source, [*SOURCES, 'generic'])}; "
            f"known: {', '.join([*SOURCES, 'generic'])}",
            field="source",
        )
    frame, repairs = _read_raw(path, mapping)
    n_read = len(frame)
    header = [c for c in frame.columns if c != LINE]
    chosen = source or (mapping.source if mapping else None) or detect_source(header)

    renames: dict[str, str] = {}
    constants: dict[str, Any] = {}
    date_spec: DateSpec | None = None
    if chosen in SOURCES:
        src = SOURCES[chosen]
        if src.prepare:
            frame = src.prepare(frame)
        lower = {c.lower(): c for c in frame.columns}
        renames = {lower[k.lower()]: v for k, v in src.renames.items() if k.lower() in lower}
        constants = {k: v for k, v in src.constants.items() if k not in frame.columns}
        date_spec = DateSpec(columns=["date"], format=src.date_format, dayfirst=src.dayfirst)
        drop = [c for c in frame.columns if c in _KNOWN_EXTRA]
        if drop:
            frame = frame.drop(columns=drop)
            repairs.append(Repair("dropped_columns", f"ignored export columns {drop}"))
    if mapping is not None:
        renames.update(mapping.renames)
        constants.update(mapping.constants)
        date_spec = mapping.date or date_spec
        if mapping.drop_columns:
            missing = [c for c in mapping.drop_columns if c not in frame.columns]
            if missing:
                raise DataError(
                    f"mapping drops columns that are not in the file: {missing}", file=str(path)
                )
            frame = frame.drop(columns=mapping.drop_columns)
            repairs.append(Repair("dropped_columns", f"dropped {mapping.drop_columns} (mapping)"))

    absent = [k for k in renames if k not in frame.columns]
    if absent and mapping is not None:
        raise DataError(
            f"mapping renames columns that are not in the file: {absent}", file=str(path)
        )
    frame = frame.rename(columns=renames)
    id_col = "campaign_id" if "campaign_id" in frame.columns else None
    frame, total_repairs = _drop_totals(frame, id_col)
    repairs += total_repairs
    for key, value in constants.items():
        frame[key] = value

    # date built from one or several columns; the parts are parsed in validation
    if date_spec and (date_spec.columns != ["date"] or date_spec.format):
        missing = [c for c in date_spec.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"date is built from columns that are missing: {missing}",
                file=str(path),
                column=missing[0],
            )
        parts = frame[date_spec.columns].astype(str).agg(" ".join, axis=1)
        frame = frame.drop(columns=[c for c in date_spec.columns if c != "date"])
        frame["date"] = parts
    frame.attrs["date_format"] = date_spec.format if date_spec else None
    frame.attrs["dayfirst"] = bool(date_spec.dayfirst) if date_spec else False

    for column in NUMERIC_COLUMNS:
        if column in frame.columns and not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = _clean_number_text(frame[column])
    if chosen in SOURCES and SOURCES[chosen].blank_means_zero:
        for column in METRIC_COLUMNS:
            if column in frame.columns and not pd.api.types.is_numeric_dtype(frame[column]):
                blank = frame[column].astype(str).str.strip() == ""
                if blank.any():
                    frame.loc[blank, column] = "0"
                    repairs.append(
                        Repair(
                            "filled_blank_zero",
                            f"read {int(blank.sum())} blank '{column}' cell(s) as 0 "
                            f"({chosen} leaves zero cells blank)",
                            rows=int(blank.sum()),
                            lines=tuple(int(x) for x in frame.loc[blank, LINE]),
                        )
                    )

    return ImportResult(
        data=frame.reset_index(drop=True),
        file=str(path),
        source=chosen,
        mapped=renames,
        constants=constants,
        repairs=repairs,
        n_rows_read=n_read,
        accept=dict(mapping.accept) if mapping else {},
        sum_over=tuple(mapping.sum_over) if mapping else (),
    )
