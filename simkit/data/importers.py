"""Importers: map platform exports and arbitrary CSV/Parquet files onto the data contract.

Each source is a small :class:`Source` in the ``SOURCES`` registry.  A source knows the
column names its platform writes (used both to detect it from a header and to rename the
columns), how to read its numbers (``"1,234"``, ``"--"``, ``"85.3%"``), and which rows are
not data (the title lines above an export's table and its totals rows below it).

Nothing is dropped silently: every skipped line, every summed breakdown and every renamed
column is recorded in the :class:`ImportResult`'s ``mapped`` and ``repairs`` lists.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simkit._suggest import did_you_mean
from simkit.data.schema import ALL_COLUMNS, METRIC_COLUMNS, NUMERIC_COLUMNS, REQUIRED_COLUMNS
from simkit.errors import DataError, ParamsError, yaml_problem

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

#: Columns that are shares (0-1), which exports may write as percentages ('85.3%').
PERCENT_COLUMNS: tuple[str, ...] = ("impression_share",)

#: Column holding the 1-based line of the source file each row came from.
LINE = "_line"

#: Separators the sniffer chooses from.
SEPARATORS = ",;\t|"

OnBadRows = Literal["error", "skip"]


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
    on_bad_rows: OnBadRows = "error"


class DateSpec(BaseModel):
    """How to build ``date``: one column with a format, or several joined with spaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    columns: list[str] = Field(min_length=1)
    format: str | None = None
    #: ``None``: detected from the whole column (an ambiguous column is an error).
    dayfirst: bool | None = None


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
    separator: str | None = Field(
        None, description="the field separator; default: sniffed from , ; tab |"
    )
    encoding: str | None = Field(
        None, description="the text encoding; default: detected (UTF-8, UTF-16, cp1252...)"
    )
    decimal: Literal[".", ","] | None = Field(
        None,
        description="the decimal mark; default: detected from the numbers where unambiguous "
        "(an ambiguous file such as one with only '1,234' is an error asking for it)",
    )
    thousands: Literal[",", ".", " ", "'"] | None = Field(
        None, description="the thousands separator, if the numbers have one"
    )
    on_bad_rows: OnBadRows = Field(
        "error",
        description="rows with unreadable or empty required cells: 'error' (default) fails "
        "the load naming them; 'skip' leaves them out and lists each in the repairs",
    )
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

    @field_validator("separator")
    @classmethod
    def _one_separator(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"a separator is one character, got {value!r}")
        return value

    @field_validator("thousands")
    @classmethod
    def _thousands_not_decimal(cls, value: str | None, info: Any) -> str | None:
        if value is not None and value == info.data.get("decimal"):
            raise ValueError(f"thousands and decimal cannot both be {value!r}")
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
    dayfirst: bool | None = None
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    #: The platform leaves a metric cell blank when it is zero (Meta does for "Results").
    blank_means_zero: bool = False
    #: How the platform writes numbers (``None``: detected from the file).
    decimal: str | None = None
    thousands: str | None = None
    #: The export writes its totals row with the date and campaign cells blank (Meta).
    totals_with_blank_keys: bool = False

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
        decimal=".",
        thousands=",",
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
        decimal=".",
        thousands=",",
        totals_with_blank_keys=True,
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
        raw = yaml.safe_load(path.read_bytes().decode("utf-8-sig")) or {}
    except UnicodeDecodeError as exc:
        raise ParamsError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"not valid YAML: {yaml_problem(exc)}", file=str(path)) from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
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


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, list[Repair]]:
    """The file's text: a declared encoding, a byte-order mark, UTF-8, or a detected one."""
    if encoding:
        try:
            return raw.decode(encoding), []
        except (LookupError, UnicodeDecodeError) as exc:
            raise DataError(
                f"cannot be read as {encoding} (the mapping's encoding): {exc}", file=str(path)
            ) from None
    for bom, name, label in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(name), []
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"starts with a {label} byte-order mark but byte {exc.start} is not "
                    f"{label} ({exc.reason}); re-save the file in one encoding",
                    file=str(path),
                ) from None
    head = raw[:4096]
    if b"\x00" in head:
        # UTF-16 without a byte-order mark has a NUL in every other byte of ASCII text
        for offset, name in ((1, "utf-16-le"), (0, "utf-16-be")):
            if head[offset::2].count(0) > 0.9 * len(head[offset::2]):
                try:
                    return raw.decode(name), [
                        Repair("decoded", f"read {path.name} as {name} (no byte-order mark)")
                    ]
                except UnicodeDecodeError:
                    break
        raise DataError(
            "this is a binary file, not a CSV (expected text with a header row)",
            file=str(path),
        )
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        _refuse_mixed_utf8(raw, exc, path)
    # cp1252 first: the usual non-UTF-8 export (Excel on Windows), and statistical
    # detection guesses wrong on a few accented names (it read 'Café €' as cp1257)
    try:
        name, text = "cp1252", raw.decode("cp1252")
    except UnicodeDecodeError:
        name, text = _detected_encoding(raw)
    return text, [
        Repair(
            "decoded", f"read {path.name} as {name}: it is not UTF-8 (set encoding: to override)"
        )
    ]


#: A multi-byte UTF-8 sequence (RFC 3629); cp1252 text almost never holds one.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _refuse_mixed_utf8(raw: bytes, exc: UnicodeDecodeError, path: Path) -> None:
    """A file with UTF-8 text *and* bytes that are not UTF-8 mixes encodings (rows pasted
    from two exports): decoding it all as cp1252 would garble every UTF-8 name."""
    utf8 = _UTF8_MULTIBYTE.search(raw)
    if utf8 is None:
        return
    good_line = raw[: utf8.start()].count(b"\n") + 1
    bad_line = raw[: exc.start].count(b"\n") + 1
    raise DataError(
        f"mixes encodings: line {good_line} holds UTF-8 text "
        f"({utf8.group().decode('utf-8')!r}) but line {bad_line} has byte "
        f"0x{raw[exc.start]:02x}, which is not UTF-8; re-save the file in one encoding or "
        "set encoding: in a mapping",
        file=str(path),
        row=bad_line,
    )


def _detected_encoding(raw: bytes) -> tuple[str, str]:
    """Encoding by charset-normalizer when installed, else latin-1 (decodes any bytes)."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional dependency
        return "latin-1", raw.decode("latin-1")
    best = from_bytes(raw).best()
    if best is None or not best.encoding:
        return "latin-1", raw.decode("latin-1")
    return best.encoding, str(best)


def _sniff_lines(path: Path, encoding: str | None = None) -> tuple[list[str], str, list[Repair]]:
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError("the file is empty", file=str(path))
    text, repairs = _decode(raw, path, encoding)
    return text.splitlines(), text, repairs


def _fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [])


def _sniff_separator(lines: list[str]) -> str:
    """The separator that splits the most lines into the same number (>1) of fields.

    Counting agreement over lines (rather than :class:`csv.Sniffer`) survives short rows
    such as ``Campaign;5.08.2019;1835;`` and decimal commas inside ``;`` rows; ties go to
    the separator that gives more fields, then to the order of ``SEPARATORS``.
    """
    sample = [line for line in lines[:60] if line.strip()]
    best, best_score = ",", (0, 0)
    for sep in SEPARATORS:
        counts = Counter(len(_fields(line, sep)) for line in sample)
        n_fields, n_lines = counts.most_common(1)[0] if counts else (0, 0)
        if n_fields < 2:
            continue
        if (n_lines, n_fields) > best_score:
            best, best_score = sep, (n_lines, n_fields)
    return best


def _find_header(lines: list[str], sep: str) -> int:
    """Index of the header line: the first line whose cells include a known column name."""
    known = {c.lower() for s in SOURCES.values() for c in s.renames} | set(ALL_COLUMNS)
    best, best_hits = 0, 0
    for i, line in enumerate(lines[:30]):
        cells = [c.strip().strip('"').lower() for c in _fields(line, sep)]
        hits = sum(c in known for c in cells)
        if hits > best_hits:
            best, best_hits = i, hits
        if hits >= 3:
            return i
    return best


def _read_text_table(
    path: Path, mapping: ColumnMapping | None
) -> tuple[pd.DataFrame, list[Repair], str]:
    skip_lines = mapping.skip_lines if mapping else 0
    lines, _, repairs = _sniff_lines(path, mapping.encoding if mapping else None)
    separator = mapping.separator if mapping and mapping.separator else None
    if separator is None:
        separator = _sniff_separator(lines[skip_lines:])
    header_at = skip_lines + _find_header(lines[skip_lines:], separator)
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
    _refuse_twice_named(
        [c.strip() for c in _fields(lines[header_at], separator)] if header_at < len(lines) else [],
        mapping,
        str(path),
        header_at + 1,
    )
    body = "\n".join(lines[header_at:])
    try:
        # header=None: with the header as a row, a data row with more cells than the header
        # is an error; pandas would otherwise make the first column the index and shift
        # every value one column left (and rename a second 'spend' to 'spend.1')
        frame = pd.read_csv(
            io.StringIO(body),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            header=None,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        too_many = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if too_many:
            n_header, at, n_cells = (int(x) for x in too_many.groups())
            raise DataError(
                f"{n_cells} cells but the header has {n_header} (a stray separator or "
                "quote?); fix the line",
                file=str(path),
                row=header_at + at,
            ) from None
        raise DataError(f"could not parse as CSV: {_one_line(exc)}", file=str(path)) from None
    frame = frame.fillna("")  # cells missing at the end of a short row are empty, not NaN
    frame = frame.iloc[1:].set_axis(_column_names(list(frame.iloc[0])), axis=1)
    # cells missing at the end of a short row are empty cells, not NaN
    frame = frame.fillna("")
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
    return frame, repairs, separator


def _refuse_twice_named(
    header: list[str], mapping: ColumnMapping | None, file: str, line: int | None = None
) -> None:
    """A column the import reads, named twice in the header: which one is meant cannot be
    known (pandas would rename the second 'spend.1' and the first would win silently)."""
    meaningful = {c.lower() for s in SOURCES.values() for c in s.renames} | set(ALL_COLUMNS)
    if mapping is not None:
        meaningful |= {c.lower() for c in mapping.renames} | {c.lower() for c in mapping.sum_over}
        meaningful |= {c.lower() for c in (mapping.date.columns if mapping.date else [])}
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        key = name.lower()
        if key in seen and key in meaningful:
            raise DataError(
                f"the header names column '{name}' twice (columns {seen[key]} and {position}): "
                "which one holds the data cannot be known; rename or remove one",
                file=file,
                row=line,
                column=name,
            )
        seen.setdefault(key, position)


def _column_names(header: list[str]) -> list[str]:
    """Header cells as column names: stripped, unique ('x', 'x.1'), blanks 'Unnamed: i'."""
    names: list[str] = []
    for i, cell in enumerate(header):
        name = str(cell).strip() or f"Unnamed: {i}"
        base, n = name, 0
        while name in names:
            n += 1
            name = f"{base}.{n}"
        names.append(name)
    return names


def _one_line(exc: object) -> str:
    """A library's error message on one line (pandas and pyarrow end theirs with newlines)."""
    return " ".join(str(exc).split())


def _parquet_text(values: pd.Series, column: str, file: str) -> pd.Series:
    """A column as text, missing cells (None, NaN, NaT) empty; binary cells are UTF-8 text
    or an error naming the row.  (``astype(str)`` would keep NaN as NaN in pandas 3.)"""

    def text(value: object, row: int) -> str:
        if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            return ""
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(
                    f"binary value {value[:16]!r} is not UTF-8 text",
                    file=file,
                    row=row,
                    column=column,
                ) from None
        return str(value)

    return pd.Series(
        [text(v, i) for i, v in enumerate(values, start=1)], index=values.index, dtype=object
    )


#: The largest data file read, in MiB (``SIMKIT_MAX_INPUT_MB`` overrides, read at call time):
#: a bigger file is refused with a message rather than exhausting the machine's memory.
MAX_INPUT_MB = 2048


def _check_size(path: Path) -> None:
    try:
        limit_mb = float(os.environ.get("SIMKIT_MAX_INPUT_MB", MAX_INPUT_MB))
    except ValueError:
        limit_mb = MAX_INPUT_MB
    size = path.stat().st_size
    if size > limit_mb * 2**20:
        raise DataError(
            f"is {size / 2**20:,.1f} MiB; the input limit is {limit_mb:,.0f} MiB (split the "
            "file, or raise the limit with SIMKIT_MAX_INPUT_MB)",
            file=str(path),
        )


def _read_raw(
    path: Path, mapping: ColumnMapping | None
) -> tuple[pd.DataFrame, list[Repair], str | None]:
    if not path.exists():
        raise DataError("file not found", file=str(path))
    if path.is_dir():
        raise DataError("is a directory, expected a CSV or Parquet file", file=str(path))
    _check_size(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a bad file
            raise DataError(
                f"could not read as Parquet: {_one_line(exc)}", file=str(path)
            ) from None
        frame.columns = [str(c) for c in frame.columns]
        _refuse_twice_named(list(frame.columns), mapping, str(path))
        for column in frame.columns:
            if column not in NUMERIC_COLUMNS or not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = _parquet_text(frame[column], column, str(path))
        frame[LINE] = range(1, len(frame) + 1)
        return frame, [], None
    return _read_text_table(path, mapping)


def _columns_found(columns: list[str], separator: str | None) -> str:
    """The columns found, and the separator the header seems to use when it is another."""
    found = [c for c in columns if c != LINE]
    text = f"; columns found: {found}"
    others = [s for s in SEPARATORS if s != separator and any(s in c for c in found)]
    if others:
        shown = "\\t" if others[0] == "\t" else others[0]
        text += f" (the header looks '{shown}'-separated: set separator: '{shown}' in the mapping)"
    return text


def detect_source(header: list[str]) -> str:
    """Name of the registered source whose signature best matches ``header``."""
    scores = {name: src.matches(header) for name, src in SOURCES.items()}
    best = max(scores, key=lambda n: scores[n])
    return best if scores[best] >= 0.6 else "generic"


_TOTAL_LABEL = re.compile(r"^total\b[^:]{0,60}:", re.IGNORECASE)
_NO_VALUE = ("", "--", "nan")


def _drop_totals(
    frame: pd.DataFrame, id_column: str | None, source: Source | None, file: str
) -> tuple[pd.DataFrame, list[Repair]]:
    """Drop the totals rows exports put below the table, by the export's own signature.

    A totals row has a first cell labelled ``Total...:`` ("Total: Account") *and* no date
    or campaign (blank or ``--``), or, for sources that write it so (Meta), blank date and
    campaign cells.  A campaign *named* "Total Gym Search" is data and is kept.
    """
    first = [c for c in frame.columns if c != LINE][0]
    keys = [c for c in ("date", id_column) if c and c in frame.columns and c != first]

    def no_value(column: str) -> pd.Series:
        return frame[column].astype(str).str.strip().str.lower().isin(_NO_VALUE)

    blank_keys = pd.Series(True, index=frame.index)
    for column in keys:
        blank_keys &= no_value(column)
    labelled = frame[first].astype(str).str.strip().str.match(_TOTAL_LABEL)
    is_total = labelled & blank_keys
    reason = f"first cell 'Total...:' and {' and '.join(keys) or 'no key column'} blank"
    if source is not None and source.totals_with_blank_keys and id_column:
        both = no_value("date") & no_value(id_column) if "date" in frame.columns else None
        if both is not None and both.any():
            is_total |= both
            reason += f"; or date and {id_column} blank ({source.name} totals row)"
    if not is_total.any():
        return frame, []
    lines = tuple(int(x) for x in frame.loc[is_total, LINE])
    return frame.loc[~is_total], [
        Repair(
            "dropped_totals",
            f"dropped {len(lines)} totals row(s) written by the export below the table "
            f"({Path(file).name} line(s) {', '.join(map(str, lines))}: {reason})",
            rows=len(lines),
            lines=lines,
        )
    ]


# Number shapes, on the text without sign, currency or percent sign.
_COMMA_DECIMAL = re.compile(r"^\d{1,3}(\.\d{3})+,\d+$|^\d{1,3}(\.\d{3}){2,}$")
_POINT_DECIMAL = re.compile(r"^\d{1,3}(,\d{3})+\.\d+$|^\d{1,3}(,\d{3}){2,}$")
_ONE_MARK = re.compile(r"^(\d+)([.,])(\d+)$")


def _number_text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text of the number (sign kept, no currency, bounds or %), and which cells had %."""
    s = series.astype(str).str.strip()
    s = s.str.replace(r"^(--|-|N/A|n/a|—)$", "", regex=True)
    s = s.str.replace(r"^[<>]\s*", "", regex=True)
    pct = s.str.endswith("%")
    s = s.str.replace(r"\s*%$", "", regex=True)
    s = s.str.replace(r"^([+-]?)\s*[$€£]\s*", r"\1", regex=True)
    return s, pct


def _shapes(text: pd.Series) -> dict[str, pd.Series]:
    """Masks of the cells whose text shows a decimal 'comma' or 'point', or is 'ambiguous'.

    ``1,234`` and ``1.234`` read either way; ``498,68``, ``0,5``, ``1234,567`` and
    ``1.234,5`` cannot be thousands, so they show a decimal comma (and the mirror images a
    decimal point).
    """
    t = text.str.lstrip("+-")
    comma = t.str.match(_COMMA_DECIMAL)
    point = t.str.match(_POINT_DECIMAL)
    parts = t.str.extract(_ONE_MARK)
    one = parts[0].notna()
    grouped = (
        one
        & (parts[2].str.len() == 3)
        & (parts[0].str.len() <= 3)
        & ~parts[0].fillna("").str.startswith("0")
    )
    return {
        "comma": comma | (one & ~grouped & (parts[1] == ",")),
        "point": point | (one & ~grouped & (parts[1] == ".")),
        "ambiguous": grouped,
    }


def _decide_number_format(
    texts: dict[str, pd.Series], lines: pd.Series, separator: str | None, file: str
) -> tuple[str, str | None, Repair | None]:
    """The decimal mark and thousands separator of a file, from all of its numbers.

    A ``1,234`` with nothing else to decide it is an error, never a guess; so is a file
    mixing ``498,68`` and ``1,234.5``.  The choice made is returned as a repair.
    """
    evidence: dict[str, tuple[str, str, int]] = {}
    ambiguous: tuple[str, str, int] | None = None
    for column, text in texts.items():
        masks = _shapes(text)
        for shape in ("comma", "point"):
            if shape not in evidence and masks[shape].any():
                index = masks[shape].idxmax()
                evidence[shape] = (column, text[index], int(lines[index]))
        # a lone '1.234' in a ',' file is a decimal point: commas would have been quoted
        undecided = masks["ambiguous"] & (
            text.str.contains(",", regex=False) | (separator not in (",", None))
        )
        if ambiguous is None and undecided.any():
            index = undecided.idxmax()
            ambiguous = (column, text[index], int(lines[index]))
    if len(evidence) == 2:
        (c1, v1, l1), (c2, v2, l2) = evidence["comma"], evidence["point"]
        raise DataError(
            f"numbers mix decimal commas ('{v1}', column '{c1}', line {l1}) and decimal "
            f"points ('{v2}', column '{c2}', line {l2}); set decimal: (and thousands:) in "
            "a mapping",
            file=file,
            row=l1,
            column=c1,
        )
    if "comma" in evidence:
        column, value, line = evidence["comma"]
        return (
            ",",
            ".",
            Repair(
                "read_decimal_comma",
                f"read numbers with ',' as the decimal mark and '.' as the thousands separator, "
                f"as '{value}' (column '{column}', line {line}) shows (set decimal: to override)",
            ),
        )
    if "point" in evidence:
        with_comma = [
            (column, text[text.str.contains(",", regex=False)]) for column, text in texts.items()
        ]
        with_comma = [(column, hits) for column, hits in with_comma if len(hits)]
        if not with_comma:
            return ".", None, None
        column, value, line = evidence["point"]
        c_column, c_hits = with_comma[0]
        return (
            ".",
            ",",
            Repair(
                "read_thousands_comma",
                f"read ',' as the thousands separator (e.g. '{c_hits.iloc[0]}', column "
                f"'{c_column}', line {int(lines[c_hits.index[0]])}): '.' is the decimal mark, "
                f"as '{value}' (column '{column}', line {line}) shows (set decimal: to override)",
            ),
        )
    if ambiguous is not None:
        column, value, line = ambiguous
        mark = "," if "," in value else "."
        raise DataError(
            f"'{value}' could be {value.replace(mark, '')} ('{mark}' as thousands separator) "
            f"or {value.replace(mark, '.')} ('{mark}' as decimal mark), and no other number "
            "in the file decides; set decimal: (and thousands:) in a mapping",
            file=file,
            row=line,
            column=column,
        )
    return ".", None, None


def _apply_number_format(
    text: pd.Series,
    pct: pd.Series,
    decimal: str,
    thousands: str | None,
    column: str,
    lines: pd.Series,
    file: str,
) -> pd.Series:
    """Plain ``1234.5`` text from the file's format; a mark the format does not allow is
    an error naming the line (never read as something else)."""
    s = text
    numeric_text = s.str.fullmatch(r"[+-]?[\d.,' ]+")
    if thousands:
        t, d = re.escape(thousands), re.escape(decimal)
        grouped = s.str.fullmatch(rf"[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d*)?")
        misgrouped = s.str.contains(thousands, regex=False) & ~grouped & numeric_text
        if misgrouped.any():
            index = misgrouped.idxmax()
            raise DataError(
                f"'{text[index]}' is not a number grouped in thousands by '{thousands}' "
                f"(decimal mark '{decimal}'); fix the cell or set decimal: and thousands: "
                "in the mapping",
                file=file,
                row=int(lines[index]),
                column=column,
            )
        s = s.where(~grouped, s.str.replace(thousands, "", regex=False))
    other = "." if decimal == "," else ","
    stray = s.str.contains(other, regex=False) & numeric_text
    if stray.any():
        index = stray.idxmax()
        raise DataError(
            f"'{text[index]}' has a '{other}' but the numbers' decimal mark is '{decimal}' "
            f"and the thousands separator is {repr(thousands) if thousands else 'none'}; "
            "set decimal: and thousands: in the mapping",
            file=file,
            row=int(lines[index]),
            column=column,
        )
    if decimal == ",":
        s = s.str.replace(",", ".", regex=False)
    numeric = pd.to_numeric(s, errors="coerce")
    if column not in PERCENT_COLUMNS:
        # '12%' in spend or clicks is not a number of that column: left for validation
        # to report as non-numeric, never divided by 100 silently
        return s.where(~pct, s + "%")
    return s.where(~(pct & numeric.notna()), (numeric / 100).astype(str))


def _declared_number_format(
    mapping: ColumnMapping | None, src: Source | None
) -> tuple[str | None, str | None]:
    """The number format the mapping or the source declares; ``(None, None)``: detect it."""
    if mapping is not None and mapping.decimal is not None:
        return mapping.decimal, mapping.thousands
    if mapping is not None and mapping.thousands is not None:
        return ("," if mapping.thousands == "." else "."), mapping.thousands
    if src is not None and src.decimal is not None:
        return src.decimal, src.thousands
    return None, None


def import_file(
    path: str | Path,
    *,
    mapping: ColumnMapping | str | Path | None = None,
    source: str | None = None,
    on_bad_rows: OnBadRows | None = None,
) -> ImportResult:
    """Read a file and map it onto the contract (no validation yet: see :func:`load`).

    Parameters
    ----------
    path
        CSV (separator sniffed from ``, ; tab |``; UTF-8, UTF-16 or cp1252; with or without
        export title lines) or Parquet.
    mapping
        A :class:`ColumnMapping` or the path of its YAML; implies the ``generic`` source.
    source
        Force a registered source (``simkit``, ``google_ads``, ``meta_ads``, ``generic``)
        instead of detecting it from the header.
    on_bad_rows
        Overrides the mapping's ``on_bad_rows`` (default ``"error"``).
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
    if on_bad_rows is not None and on_bad_rows not in ("error", "skip"):
        raise ParamsError(
            f"on_bad_rows is 'error' or 'skip', not '{on_bad_rows}'", field="on_bad_rows"
        )
    frame, repairs, separator = _read_raw(path, mapping)
    n_read = len(frame)
    header = [c for c in frame.columns if c != LINE]
    chosen = source or (mapping.source if mapping else None) or detect_source(header)

    renames: dict[str, str] = {}
    constants: dict[str, Any] = {}
    date_spec: DateSpec | None = None
    src = SOURCES.get(chosen)
    if src is not None:
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
                    f"mapping drops columns that are not in the file: {missing}"
                    + _columns_found(list(frame.columns), separator),
                    file=str(path),
                )
            frame = frame.drop(columns=mapping.drop_columns)
            repairs.append(Repair("dropped_columns", f"dropped {mapping.drop_columns} (mapping)"))

    absent = [k for k in renames if k not in frame.columns]
    if absent and mapping is not None:
        raise DataError(
            f"mapping renames columns that are not in the file: {absent}"
            + _columns_found(list(frame.columns), separator),
            file=str(path),
        )
    targets = Counter(renames.get(c, c) for c in frame.columns)
    twice = [target for target, n in targets.items() if n > 1]
    if twice:
        origin = [c for c in frame.columns if renames.get(c, c) == twice[0]]
        raise DataError(
            f"columns {origin} would all become '{twice[0]}' (renamed by the {chosen} "
            "source or the mapping); drop all but one in a mapping (drop_columns)",
            file=str(path),
            column=str(twice[0]),
        )
    frame = frame.rename(columns=renames)
    id_col = "campaign_id" if "campaign_id" in frame.columns else None
    frame, total_repairs = _drop_totals(frame, id_col, src, str(path))
    repairs += total_repairs
    for key, value in constants.items():
        frame[key] = value

    # date built from one or several columns; the parts are parsed in validation
    if date_spec and (date_spec.columns != ["date"] or date_spec.format):
        missing = [c for c in date_spec.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"date is built from columns that are missing: {missing}"
                + _columns_found(list(frame.columns), separator),
                file=str(path),
                column=missing[0],
            )
        parts = frame[date_spec.columns].astype(str).agg(" ".join, axis=1)
        frame = frame.drop(columns=[c for c in date_spec.columns if c != "date"])
        frame["date"] = parts
    frame.attrs["date_format"] = date_spec.format if date_spec else None
    frame.attrs["dayfirst"] = date_spec.dayfirst if date_spec else None

    texts: dict[str, pd.Series] = {}
    percent: dict[str, pd.Series] = {}
    for column in NUMERIC_COLUMNS:
        if column in frame.columns and not pd.api.types.is_numeric_dtype(frame[column]):
            texts[column], percent[column] = _number_text(frame[column])
    decimal, thousands = _declared_number_format(mapping, src)
    if decimal is None and texts:
        decimal, thousands, note = _decide_number_format(texts, frame[LINE], separator, str(path))
        if note is not None:
            repairs.append(note)
    for column, text in texts.items():
        frame[column] = _apply_number_format(
            text, percent[column], decimal or ".", thousands, column, frame[LINE], str(path)
        )
    if src is not None and src.blank_means_zero:
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
        on_bad_rows=on_bad_rows or (mapping.on_bad_rows if mapping else "error"),
    )
