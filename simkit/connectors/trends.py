"""Google Trends, read from the CSV exports the Trends site writes, behind a source interface.

Google has no stable public Trends API, so simkit reads the files the site exports
("multiTimeline.csv") from a folder the user keeps current.  An export is a title line
(``Category: All categories``, ``Catégorie : Toutes catégories``, ...), a blank line, a
header (``Week,yeezy: (United States)``, ``Mois,diet: (Dans tous les pays),gym: ...``),
then one line per period with an index 0-100 per term (``<1`` for a share below one,
read as 0.5 and flagged).  The period column's name depends on the site's language
(:data:`PERIOD_WORDS` lists English, French, German, Spanish, Italian, Portuguese and
Dutch); the frequency is read from the dates themselves (``YYYY-MM`` monthly; ``YYYY-MM-DD``
seven days apart weekly, one day apart daily), so an unlisted language still reads.

:class:`TrendsFolderSource` implements :class:`MarketSeriesSource`, which an API client can
implement later (``series()`` returns :class:`MarketSeries`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from simkit.connectors.health import HealthState
from simkit.errors import DataError

__all__ = [
    "PERIOD_WORDS",
    "MarketSeries",
    "MarketSeriesSource",
    "TrendsFolderSource",
    "read_trends_export",
]

#: The period column's name in the Trends site's languages -> the frequency it names.
PERIOD_WORDS: dict[str, str] = {
    "month": "monthly",
    "mois": "monthly",
    "monat": "monthly",
    "mes": "monthly",
    "mese": "monthly",
    "mês": "monthly",
    "maand": "monthly",
    "week": "weekly",
    "semaine": "weekly",
    "woche": "weekly",
    "semana": "weekly",
    "settimana": "weekly",
    "day": "daily",
    "jour": "daily",
    "tag": "daily",
    "día": "daily",
    "dia": "daily",
    "giorno": "daily",
    "dag": "daily",
}
_LANGUAGE = {
    "month": "en", "week": "en", "day": "en",
    "mois": "fr", "semaine": "fr", "jour": "fr",
    "monat": "de", "woche": "de", "tag": "de",
    "mes": "es", "semana": "es", "día": "es",
    "mese": "it", "settimana": "it", "giorno": "it",
    "mês": "pt", "dia": "pt",
    "maand": "nl", "dag": "nl",
}  # fmt: skip
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_TERM = re.compile(r"^(?P<term>.*?)\s*:\s*\((?P<geo>.*)\)\s*$")
#: Reliability of a Trends index (0-1): a sampled, rescaled, integer-rounded index.
TRENDS_RELIABILITY = 0.8


@dataclass(frozen=True)
class MarketSeries:
    """One market series: a term's values per period, with where it came from.

    Attributes
    ----------
    source
        ``trends`` (or an API's name later).
    term, geo
        What was searched, and where (as the export names it).
    frequency
        ``daily``, ``weekly`` or ``monthly``.
    dates
        Each period's first day.
    values
        The index per period (NaN where the export has no value).
    below_one
        ``True`` where the export said ``<1`` (read as 0.5).
    file
        The export it was read from.
    modified
        When that file was last written (epoch seconds): how fresh the export is.
    reliability
        The source's reliability (0-1), used by the quality score.
    language
        The export's language, from its period column (``None`` when not recognised).
    """

    source: str
    term: str
    geo: str
    frequency: str
    dates: pd.DatetimeIndex
    values: np.ndarray
    below_one: np.ndarray
    file: str
    modified: float
    reliability: float = TRENDS_RELIABILITY
    language: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def period_days(self) -> int:
        return {"daily": 1, "weekly": 7, "monthly": 31}[self.frequency]

    @property
    def last_day(self) -> pd.Timestamp:
        """The last day the last period covers."""
        start = self.dates[-1]
        if self.frequency == "monthly":
            return start + pd.offsets.MonthEnd(0)
        return start + pd.Timedelta(days=self.period_days - 1)


class MarketSeriesSource(Protocol):
    """What enrichment needs of a source of market series (files today, an API later)."""

    name: str

    def series(self) -> list[MarketSeries]: ...


def _frequency(dates: list[str], where: str) -> str:
    if all(len(d) == 7 for d in dates):
        return "monthly"
    if not all(len(d) == 10 for d in dates):
        raise DataError("the period column mixes YYYY-MM and YYYY-MM-DD dates", file=where)
    if len(dates) < 2:
        return "daily"
    steps = np.diff(pd.to_datetime(dates).values).astype("timedelta64[D]").astype(int)
    step = int(np.median(steps))
    if step == 7:
        return "weekly"
    if step == 1:
        return "daily"
    raise DataError(f"periods {step} days apart: not a daily, weekly or monthly export", file=where)


def read_trends_export(path: str | Path) -> list[MarketSeries]:
    """Every term of one Trends CSV export.

    Raises
    ------
    DataError
        When the file is not a Trends export (no header followed by dated lines), or a
        value is neither a number nor ``<1``.
    """
    path = Path(path)
    raw = path.read_bytes()
    text = None
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise DataError("cannot decode the file", file=str(path))
    lines = [line.rstrip("\r") for line in text.split("\n")]
    header_at = None
    for i in range(len(lines) - 1):
        first_next = re.split(r"[,;\t]", lines[i + 1].strip(), maxsplit=1)[0]
        if _DATE.match(first_next) and re.search(r"[,;\t]", lines[i]):
            header_at = i
            break
    if header_at is None:
        raise DataError(
            "not a Google Trends export: no header line followed by dated lines", file=str(path)
        )
    header_line = lines[header_at]
    sep = max((",", ";", "\t"), key=header_line.count)
    header = [h.strip() for h in header_line.split(sep)]
    if len(header) < 2 or not any(_TERM.match(name) for name in header[1:]):
        # every Trends export names its columns "term: (region)"; a dated CSV without
        # them (campaign data left in the folder, ...) is not one
        raise DataError(
            "not a Google Trends export: no column is named 'term: (region)' "
            f"(header {header_line[:80]!r})",
            file=str(path),
        )
    period_word = header[0].strip().lower()
    language = _LANGUAGE.get(period_word)
    body = [line.split(sep) for line in lines[header_at + 1 :] if line.strip()]
    dates = [cells[0].strip() for cells in body]
    frequency = _frequency(dates, str(path))
    named = PERIOD_WORDS.get(period_word)
    notes: list[str] = []
    if named is not None and named != frequency:
        notes.append(f"the header says {header[0]!r} ({named}) but the dates are {frequency}")
    index = pd.DatetimeIndex(
        pd.to_datetime(dates, format="%Y-%m" if frequency == "monthly" else "%Y-%m-%d")
    )
    modified = path.stat().st_mtime
    out = []
    for j, name in enumerate(header[1:], start=1):
        match = _TERM.match(name)
        term, geo = (match["term"], match["geo"]) if match else (name, "")
        values = np.full(len(body), np.nan)
        below = np.zeros(len(body), dtype=bool)
        for i, cells in enumerate(body):
            # French exports write "<\xa01" (a no-break space)
            cell = "".join(cells[j].split()) if j < len(cells) else ""
            if cell == "":
                continue
            if cell == "<1":
                values[i], below[i] = 0.5, True
                continue
            try:
                values[i] = float(cell)
            except ValueError:
                raise DataError(
                    f"{cell!r} is not an index value (0-100 or <1)",
                    file=str(path),
                    row=header_at + 2 + i,
                    column=name,
                ) from None
        out.append(
            MarketSeries(
                source="trends",
                term=term.strip(),
                geo=geo.strip(),
                frequency=frequency,
                dates=index,
                values=values,
                below_one=below,
                file=str(path),
                modified=modified,
                language=language,
                notes=tuple(notes),
            )
        )
    return out


class TrendsFolderSource:
    """Every Trends export (``*.csv``) under a folder the user keeps current.

    When two exports hold the same term and geo, the one reaching the later period wins
    (an export refreshed beside an old one); the other is noted.
    """

    name = "trends"

    def __init__(self, folder: str | Path, *, cache_dir: str | Path | None = None) -> None:
        self.folder = Path(folder)
        self.health = HealthState(cache_dir)
        self.notes: list[str] = []

    def series(self) -> list[MarketSeries]:
        if not self.folder.is_dir():
            message = f"the Trends folder {self.folder} does not exist"
            self.health.record_read(self.name, ok=False, error=message)
            raise DataError(message, file=str(self.folder))
        files = sorted(p for p in self.folder.rglob("*.csv") if p.is_file())
        if not files:
            message = f"no Trends exports (*.csv) under {self.folder}"
            self.health.record_read(self.name, ok=False, error=message)
            raise DataError(message, file=str(self.folder))
        chosen: dict[tuple[str, str], MarketSeries] = {}
        try:
            for path in files:
                for s in read_trends_export(path):
                    key = (s.term.lower(), s.geo.lower())
                    kept = chosen.get(key)
                    if kept is None or s.last_day > kept.last_day:
                        if kept is not None:
                            self.notes.append(f"{s.term}: {s.file} replaces older {kept.file}")
                        chosen[key] = s
                    else:
                        self.notes.append(f"{s.term}: {s.file} is older than {kept.file}; unused")
        except DataError as exc:
            self.health.record_read(self.name, ok=False, error=str(exc))
            raise
        self.health.record_read(self.name, ok=True)
        return sorted(chosen.values(), key=lambda s: (s.term.lower(), s.geo.lower()))

    def newest_age_seconds(self) -> float | None:
        if not self.folder.is_dir():
            return None
        times = [p.stat().st_mtime for p in self.folder.rglob("*.csv") if p.is_file()]
        return time.time() - max(times) if times else None
