"""The one way a command reads data: the shared options, then :func:`simkit.data.load`.

Apart from :mod:`simkit.cli.options` because it imports the data layer (pandas): the
commands that read no data (``simkit runs list``, ``simkit --help``) import the options
only, and start in a fraction of a second (issue 21).
"""

from __future__ import annotations

from pathlib import Path

from simkit.cli.options import check_on_bad_rows
from simkit.data import LoadedData, load

__all__ = ["load_data"]


def load_data(
    data: Path, *, mapping: Path | None, source: str | None, on_bad_rows: str | None
) -> LoadedData:
    """``data`` imported and validated from the shared options (:func:`simkit.data.load`)."""
    return load(data, mapping=mapping, source=source, on_bad_rows=check_on_bad_rows(on_bad_rows))
