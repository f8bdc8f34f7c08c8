"""SEMrush keyword data: ``phrase_this`` for each phrase, sparing API units.

``GET /?type=phrase_this&key=...&phrase=...&database=us&export_columns=Ph,Nq,Cp,Co``
answers a ``;``-separated table (a header line, then one line per phrase:
``Keyword;Search Volume;CPC;Competition``).  A body starting ``ERROR`` is an error even
with HTTP 200: ``ERROR 50 :: NOTHING FOUND`` means SEMrush has no data for the phrase
(kept as a row with ``status = "nothing found"``; the other phrases go on),
``ERROR 120``-``122`` a wrong key, ``ERROR 132``/``134`` no API units left (both stop the
fetch).  Each phrase is asked once, and only when the cache has no fresh reply for it
(the cache key leaves out ``key=``; the logged URLs are scrubbed of it).  ``Nq`` is the
average monthly search volume over the last 12 months, ``Cp`` the average CPC (USD),
``Co`` the competitive density of advertisers (0-1).
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from simkit.connectors.base import ApiError, AuthError, Connector, ConnectorError, SourceSpec
from simkit.errors import DataError

__all__ = [
    "SEMRUSH",
    "KeywordData",
    "NothingFoundError",
    "SemrushConnector",
    "check_database",
    "fetch_keywords",
    "parse_phrase_this",
    "read_phrases",
]

SEMRUSH = SourceSpec(
    name="semrush",
    base_url="https://api.semrush.com",
    key_name="SEMRUSH_API_KEY",
    auth_param="key",
    requests_per_second=8,
    cache_ttl_seconds=30 * 24 * 3600,
    timeout_seconds=30.0,
    deadline_seconds=600.0,
    max_attempts=5,
    backoff_seconds=1.0,
    backoff_max_seconds=60.0,
    paging="none: one request per phrase (phrase_this), cache first",
    limits="10 requests per second; each line returned costs API units (10 per phrase_this line)",
)

EXPORT_COLUMNS = "Ph,Nq,Cp,Co"
_ERROR = re.compile(r"^\s*ERROR\s+(\d+)\s*::\s*(.*)$", re.S)
_AUTH_CODES = {120, 121, 122, 135}
_NO_UNITS = {130, 131, 132, 133, 134}
_NOTHING_FOUND = 50
_HEADER_NAMES = {
    "keyword": "phrase",
    "search volume": "search_volume",
    "cpc": "cpc",
    "competition": "competition",
}


class NothingFoundError(ApiError):
    """``ERROR 50 :: NOTHING FOUND``: SEMrush has no data for this phrase."""


class SemrushConnector(Connector):
    """SEMrush's ``ERROR nn :: TEXT`` bodies, HTTP 200 or not."""

    def check(self, response: httpx.Response) -> None:
        match = _ERROR.match(response.text[:500])
        if match is None:
            super().check(response)
            return
        code, text = int(match.group(1)), match.group(2).strip().splitlines()[0][:200]
        message = f"ERROR {code} :: {text}"
        status = response.status_code
        if code == _NOTHING_FOUND:
            raise NothingFoundError(message, source=self.spec.name, status=status)
        if code in _AUTH_CODES:
            raise AuthError(
                f"{message}; check SEMRUSH_API_KEY (`simkit keys set SEMRUSH_API_KEY`)",
                source=self.spec.name,
                status=status,
            )
        if code in _NO_UNITS:
            raise ApiError(
                f"{message}: no API units or request quota left",
                source=self.spec.name,
                status=status,
            )
        if status >= 500 or status == 429:
            super().check(response)
        raise ApiError(message, source=self.spec.name, status=status)


def parse_phrase_this(text: str) -> list[dict[str, Any]]:
    """The ``;``-separated reply as rows ``phrase, search_volume, cpc, competition``."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0].split(";")]
    names = [_HEADER_NAMES.get(h) for h in header]
    if "phrase" not in names:
        raise ConnectorError(
            f"unexpected reply header {lines[0][:80]!r} (expected Keyword;Search Volume;...)",
            source="semrush",
        )
    rows = []
    for line in lines[1:]:
        cells = line.split(";")
        row: dict[str, Any] = {}
        for name, cell in zip(names, cells, strict=False):
            if name is None:
                continue
            if name == "phrase":
                row[name] = cell.strip()
                continue
            try:
                row[name] = float(cell) if cell.strip() else None
            except ValueError:
                raise ConnectorError(
                    f"column {name!r} holds {cell[:20]!r}, not a number", source="semrush"
                ) from None
        rows.append(row)
    return rows


def read_phrases(path: str | Path) -> list[str]:
    """Phrases from a text file (one a line, ``#`` comments) or a CSV with a ``phrase``
    column; duplicates (case and spaces aside) are asked once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the phrases ({type(exc).__name__})", file=str(path)) from None
    lines = text.splitlines()
    first = lines[0].strip().lower() if lines else ""
    if first.split(",")[0] == "phrase":
        reader = csv.DictReader(io.StringIO(text))
        raw = [row.get("phrase") or "" for row in reader]
    else:
        raw = [line.split("#", 1)[0] for line in lines]
    phrases: list[str] = []
    seen: set[str] = set()
    for item in raw:
        phrase = " ".join(item.split())
        if phrase and phrase.lower() not in seen:
            seen.add(phrase.lower())
            phrases.append(phrase)
    if not phrases:
        raise DataError("no phrases in the file (one a line, or a 'phrase' column)", file=str(path))
    return phrases


@dataclass
class KeywordData:
    """One row per phrase: its volume, CPC and competition, or why it has none."""

    data: pd.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)


def check_database(database: str) -> str:
    """``database`` if it is a SEMrush database code (``us``, ``uk``, ``fr``, ...)."""
    if not re.fullmatch(r"[a-z]{2}(-[a-z]{2,4})?", database):
        raise ConnectorError(
            f"--database {database!r} is not a SEMrush database code (us, uk, fr, ...)",
            source="semrush",
        )
    return database


def fetch_keywords(
    connector: SemrushConnector, *, phrases: list[str], database: str = "us"
) -> KeywordData:
    """``phrase_this`` for each phrase: cache first, then one request per phrase."""
    check_database(database)
    connector.start_fetch()
    rows: list[dict[str, Any]] = []
    not_found: list[str] = []
    for phrase in phrases:
        params = {
            "type": "phrase_this",
            "phrase": phrase,
            "database": database,
            "export_columns": EXPORT_COLUMNS,
        }
        try:
            reply = connector.get("/", params)
        except NothingFoundError:
            not_found.append(phrase)
            rows.append(
                {
                    "phrase": phrase,
                    "database": database,
                    "search_volume": None,
                    "cpc": None,
                    "competition": None,
                    "status": "nothing found",
                    "fetched_at": _iso(time.time()),
                    "from_cache": False,
                    "stale": False,
                }
            )
            continue
        parsed = parse_phrase_this(reply.text)
        found = parsed[0] if parsed else {}
        rows.append(
            {
                "phrase": phrase,
                "database": database,
                "search_volume": found.get("search_volume"),
                "cpc": found.get("cpc"),
                "competition": found.get("competition"),
                "status": "ok" if found else "nothing found",
                "fetched_at": _iso(time.time() - reply.age_seconds),
                "from_cache": reply.from_cache,
                "stale": reply.stale,
            }
        )
    data = pd.DataFrame(rows)
    provenance = {
        "source": "semrush",
        "endpoint": "GET /?type=phrase_this",
        "base_url": connector.base_url,
        "database": database,
        "export_columns": EXPORT_COLUMNS,
        "phrases": len(phrases),
        "nothing_found": not_found,
        "mapping": {
            "phrase": "Ph (Keyword)",
            "search_volume": "Nq (average monthly searches, last 12 months)",
            "cpc": "Cp (average CPC, USD)",
            "competition": "Co (competitive density, 0-1)",
        },
        "fetch": connector.stats.to_dict(),
    }
    return KeywordData(data, provenance)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).replace(microsecond=0).isoformat()
