"""Importer for Google Ads auction-insights exports.

The export (Google Ads > Insights > Auction insights > Download, CSV) looks like::

    Auction insights report
    "April 1, 2026 - July 27, 2026"
    Display URL domain,Impression share,Overlap rate,Position above rate,Top of page rate,Abs. Top of page rate,Outranking share
    competitor-one.co.uk,< 10%,9.64%,52.27%,73.51%,25.17%,35.49%
    You,37.37%, --, --,69.77%,26.83%, --

A title line, a date-range line, then one row per domain; the advertiser's own row is
``You``.  Percentages are strings; ``< 10%`` (and ``> 90%``) are censored values and ``--``
means "not applicable" (for ``You``: overlap, position above and outranking share).  When the
report is segmented by time, a leading ``Day``, ``Week``, ``Month`` or ``Quarter`` column
gives the period of each row; otherwise the date-range line is the period.  Several files
(one per date range) can be read together to make a time series.

Units: every rate becomes a fraction in [0, 1].  A censored value becomes the middle of its
interval (``< 10%`` -> 0.05, ``> 90%`` -> 0.95), flagged in ``<metric>_censored``; ``--``
and blanks become NaN.  Rows that are not data (a ``Total`` line, blank lines) are skipped
and recorded in :attr:`AuctionInsights.notes`; anything else that cannot be read raises a
:class:`~simkit.errors.DataError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dateutil import parser as date_parser

from simkit._suggest import did_you_mean
from simkit.errors import DataError

__all__ = ["AUCTION_METRICS", "AuctionInsights", "parse_auction_insights", "read_auction_insights"]

#: The rate columns, by simkit name, each with the header spellings Google uses.
AUCTION_METRICS: dict[str, tuple[str, ...]] = {
    "impression_share": ("Impression share", "Impr. share", "Search impr. share"),
    "overlap_rate": ("Overlap rate",),
    "position_above_rate": ("Position above rate",),
    "top_of_page_rate": ("Top of page rate", "Top of page rate (Search)"),
    "abs_top_of_page_rate": ("Abs. top of page rate", "Absolute top of page rate"),
    "outranking_share": ("Outranking share",),
}
_DOMAIN_HEADERS = ("Display URL domain", "Store display name", "Domain")
_OPTIONAL_HEADERS = {"Campaign": "campaign", "Ad group": "ad_group"}


def _period_day(value: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    return value, value


def _period_week(value: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    return value, value + pd.Timedelta(days=6)


def _period_month(value: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = value.to_period("M").start_time
    return start, value.to_period("M").end_time.normalize()


def _period_quarter(value: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    return value.to_period("Q").start_time, value.to_period("Q").end_time.normalize()


#: Time-segment columns -> how a value becomes a (first day, last day) period.
_SEGMENTS = {
    "Day": _period_day,
    "Week": _period_week,
    "Month": _period_month,
    "Quarter": _period_quarter,
}

_MISSING = {"", "--", "-", "n/a", "na"}
_PERCENT = re.compile(r"^\s*([<>])?\s*(-?[0-9]+(?:[.,][0-9]+)?)\s*%?\s*$")


@dataclass(frozen=True)
class AuctionInsights:
    """Auction-insights rows from one or more exports, one row per period x domain.

    ``frame`` columns: ``period_start``, ``period_end`` (Timestamps; NaT when the export
    gave no usable date range), ``domain``, ``is_you``, the six rates of
    :data:`AUCTION_METRICS` as fractions (NaN = ``--``), ``<rate>_censored``, ``file`` and
    ``line`` (where each row came from), and ``campaign``/``ad_group`` when the export had
    them.  ``notes`` records every skipped row and censored value.
    """

    frame: pd.DataFrame
    files: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def periods(self) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """The distinct (first day, last day) periods, in time order."""
        pairs = self.frame[["period_start", "period_end"]].drop_duplicates()
        pairs = pairs.sort_values("period_start")
        return list(zip(pairs["period_start"], pairs["period_end"], strict=True))

    @property
    def competitors(self) -> list[str]:
        """Every competitor domain (not ``You``), sorted."""
        return sorted(self.frame.loc[~self.frame["is_you"], "domain"].unique())

    def to_dict(self) -> dict[str, Any]:
        frame = self.frame.copy()
        for column in ("period_start", "period_end"):
            frame[column] = frame[column].map(
                lambda t: None if pd.isna(t) else t.date().isoformat()
            )
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return {"files": list(self.files), "notes": list(self.notes), "rows": records}


def _decode(raw: bytes, file: str) -> str:
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        if raw.startswith(b"\xef\xbb\xbf"):
            return raw[3:].decode("utf-8")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot be decoded as {exc.encoding} (byte {exc.start}: {exc.reason}); "
            "re-save the export as CSV (UTF-8 or UTF-16)",
            file=file,
        ) from None


def _parse_date(text: str) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(date_parser.parse(text.strip().strip('"'))).normalize()
    except (ValueError, OverflowError):
        return None


def _parse_range(line: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    text = line.strip().strip(",").strip().strip('"').strip()
    for pattern in (r"\s+[-–]\s+", r"(?<=\d{4})\s*[-–]\s*(?=\D)", r"\s*[–]\s*"):
        parts = re.split(pattern, text)
        if len(parts) == 2:
            start, end = _parse_date(parts[0]), _parse_date(parts[1])
            if start is not None and end is not None and start <= end:
                return start, end
    return None


def _rate(text: str, *, decimal_comma: bool) -> tuple[float, bool] | None:
    """(fraction, censored) for a percentage string; None when it is not one."""
    cell = text.strip()
    if cell.lower() in _MISSING:
        return float("nan"), False
    match = _PERCENT.match(cell)
    if match is None:
        return None
    sign, number = match.groups()
    number = number.replace(",", ".") if decimal_comma or "." not in number else number
    value = float(number) / 100.0
    if sign == "<":
        return value / 2.0, True
    if sign == ">":
        return (value + 1.0) / 2.0, True
    return value, False


def _header_map(header: list[str], file: str, line: int) -> dict[int, str]:
    lookup: dict[str, str] = {}
    for name, spellings in AUCTION_METRICS.items():
        for spelling in spellings:
            lookup[spelling.lower()] = name
    for spelling in _DOMAIN_HEADERS:
        lookup[spelling.lower()] = "domain"
    for spelling, name in _OPTIONAL_HEADERS.items():
        lookup[spelling.lower()] = name
    for spelling in _SEGMENTS:
        lookup[spelling.lower()] = "segment:" + spelling
    mapped: dict[int, str] = {}
    for i, column in enumerate(header):
        name = lookup.get(column.strip().lower())
        if name is not None:
            mapped[i] = name
    needed = {"domain", "impression_share"}
    missing = needed - set(mapped.values())
    if missing:
        known = [s for spellings in AUCTION_METRICS.values() for s in spellings]
        hints = "; ".join(
            f"no '{m}' column" + (did_you_mean(m, header) if m == "domain" else "")
            for m in sorted(missing)
        )
        raise DataError(
            f"not an auction-insights export: {hints} (expected e.g. 'Display URL domain', "
            f"{', '.join(repr(k) for k in known[:2])})",
            file=file,
            row=line,
        )
    return mapped


def _find_header(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[:20]):
        lowered = line.lower()
        if any(h.lower() in lowered for h in _DOMAIN_HEADERS) and "share" in lowered:
            return i
    return None


def parse_auction_insights(text: str, *, file: str = "<text>") -> AuctionInsights:
    """Parse the text of one auction-insights export (see the module docstring)."""
    lines = text.splitlines()
    head = _find_header(lines)
    if head is None:
        raise DataError(
            "not an auction-insights export: no header line with 'Display URL domain' and "
            "'Impression share' in the first 20 lines",
            file=file,
        )
    header_line = lines[head]
    delimiter = (
        "\t"
        if "\t" in header_line
        else (";" if header_line.count(";") > header_line.count(",") else ",")
    )
    decimal_comma = delimiter == ";"
    header = next(csv.reader([header_line], delimiter=delimiter))
    mapped = _header_map(header, file, head + 1)
    segment = next((v.split(":", 1)[1] for v in mapped.values() if v.startswith("segment:")), None)
    date_range = next((r for r in map(_parse_range, lines[:head]) if r is not None), None)
    notes: list[str] = []
    if segment is None and date_range is None:
        notes.append(
            f"{file}: no date range above the table and no time column; its rows have no period"
        )
    body = "\n".join(lines[head + 1 :])
    records: list[dict[str, Any]] = []
    skipped: list[int] = []
    for offset, cells in enumerate(csv.reader(io.StringIO(body), delimiter=delimiter)):
        line = head + 2 + offset
        if not cells or all(not c.strip() for c in cells):
            continue
        row: dict[str, Any] = {"file": file, "line": line}
        values = {mapped[i]: c for i, c in enumerate(cells) if i in mapped}
        domain = values.get("domain", "").strip()
        if domain.lower().startswith("total") or (
            not domain and all(not c.strip() or c.strip() == "--" for c in cells)
        ):
            skipped.append(line)
            continue
        if not domain:
            raise DataError(
                "empty domain",
                file=file,
                row=line,
                column=header[next(i for i, v in mapped.items() if v == "domain")],
            )
        if len(cells) > len(header):
            raise DataError(
                f"{len(cells)} cells but the header has {len(header)}", file=file, row=line
            )
        row["domain"] = domain
        row["is_you"] = domain.lower() == "you"
        for i, name in mapped.items():
            if name in AUCTION_METRICS:
                cell = cells[i] if i < len(cells) else ""
                parsed = _rate(cell, decimal_comma=decimal_comma)
                if parsed is None:
                    raise DataError(
                        f"'{cell.strip()}' is not a percentage",
                        file=file,
                        row=line,
                        column=header[i],
                    )
                value, censored = parsed
                if np.isfinite(value) and not 0.0 <= value <= 1.0:
                    raise DataError(
                        f"'{cell.strip()}' is outside 0-100%", file=file, row=line, column=header[i]
                    )
                row[name], row[name + "_censored"] = value, censored
            elif name in _OPTIONAL_HEADERS.values():
                row[name] = cells[i].strip() if i < len(cells) else ""
            elif name.startswith("segment:"):
                stamp = _parse_date(cells[i]) if i < len(cells) else None
                if stamp is None:
                    raise DataError(
                        f"'{cells[i] if i < len(cells) else ''}' is not a date",
                        file=file,
                        row=line,
                        column=header[i],
                    )
                row["period_start"], row["period_end"] = _SEGMENTS[segment](stamp)  # type: ignore[index]
        if segment is None:
            row["period_start"], row["period_end"] = date_range or (pd.NaT, pd.NaT)
        records.append(row)
    if skipped:
        notes.append(
            f"{file}: skipped {len(skipped)} non-data row(s) (totals or empty) at "
            f"line(s) {', '.join(map(str, skipped))}"
        )
    if not records:
        raise DataError("the export has a header but no rows", file=file, row=head + 1)
    frame = pd.DataFrame.from_records(records)
    for name in AUCTION_METRICS:
        if name not in frame.columns:
            frame[name], frame[name + "_censored"] = np.nan, False
        n_censored = int(frame[name + "_censored"].sum())
        if n_censored:
            notes.append(
                f"{file}: {n_censored} censored {name} value(s) ('< 10%' / '> 90%') "
                "set to the middle of their interval"
            )
    keys = ["period_start", "domain"] + [c for c in ("campaign", "ad_group") if c in frame]
    duplicated = frame.duplicated(keys, keep="first")
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise DataError(
            f"domain '{first['domain']}' appears twice in the same period",
            file=file,
            row=int(first["line"]),
        )
    return AuctionInsights(frame=_ordered(frame), files=(file,), notes=tuple(notes))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["is_you"] = frame["is_you"].astype(bool)
    for name in AUCTION_METRICS:
        frame[name] = frame[name].astype(float)
        frame[name + "_censored"] = frame[name + "_censored"].astype(bool)
    first = ["period_start", "period_end", "domain", "is_you"]
    rates = [c for name in AUCTION_METRICS for c in (name, name + "_censored")]
    rest = [c for c in frame.columns if c not in first + rates]
    return (
        frame[first + rates + rest]
        .sort_values(
            ["period_start", "is_you", "domain"], ascending=[True, False, True], kind="mergesort"
        )
        .reset_index(drop=True)
    )


def read_auction_insights(paths: str | Path | Sequence[str | Path]) -> AuctionInsights:
    """Read one or more auction-insights exports into one :class:`AuctionInsights`.

    Parameters
    ----------
    paths
        A CSV/TSV export (UTF-8, UTF-8 with BOM or UTF-16 as Google's "Excel CSV" writes),
        or several (for example one per month) to build a time series.

    Raises
    ------
    DataError
        A file that is missing or not an auction-insights export, a cell that is not a
        percentage, or the same domain twice in one period (within or across files); the
        message names the file, line and column.

    Examples
    --------
    >>> auction = read_auction_insights(["2026-04.csv", "2026-05.csv"])  # doctest: +SKIP
    >>> auction.competitors  # doctest: +SKIP
    ['rival.com', 'newcomer.io']
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        raise DataError("no auction-insights file given")
    parts: list[AuctionInsights] = []
    for item in items:
        path = Path(item)
        if not path.is_file():
            raise DataError("auction-insights file not found", file=str(path))
        parts.append(parse_auction_insights(_decode(path.read_bytes(), str(path)), file=str(path)))
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    keys = ["period_start", "domain"] + [c for c in ("campaign", "ad_group") if c in frame]
    clash = frame[frame.duplicated(keys, keep=False) & frame["period_start"].notna()]
    if len(clash) and clash["file"].nunique() > 1:
        a, b = clash.iloc[0], clash.iloc[1]
        raise DataError(
            f"domain '{a['domain']}' has two rows for the period starting "
            f"{a['period_start'].date()}: {a['file']} line {a['line']} and {b['file']} line "
            f"{b['line']}",
            file=str(b["file"]),
            row=int(b["line"]),
        )
    notes = tuple(n for p in parts for n in p.notes)
    return AuctionInsights(
        frame=_ordered(frame), files=tuple(str(Path(i)) for i in items), notes=notes
    )
