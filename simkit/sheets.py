"""The one way simkit writes a CSV file: with spreadsheet formula injection neutralised.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``), so such a cell is written with a leading apostrophe, as OWASP's
"CSV Injection" advice says; the spreadsheet shows the text as it was.  Numbers are
written as numbers (a negative number is not text and is left alone).

Every CSV writer of simkit goes through :func:`write_csv` (a test checks that nothing else
calls ``to_csv`` or ``csv.writer``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "csv_text", "neutralise", "neutralise_frame", "write_csv"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell made safe for spreadsheets (other values unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame, **kwargs: Any) -> str:
    """``frame`` as CSV text (no index), neutralised, for a writer that adds its own step
    (scrubbing, an atomic write)."""
    return neutralise_frame(frame).to_csv(index=False, **kwargs)


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``frame`` as CSV (no index, UTF-8), neutralised, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    neutralise_frame(frame).to_csv(tmp, index=False, **kwargs)
    os.replace(tmp, path)
    return path
