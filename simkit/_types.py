"""Types shared by the public API, and the one parser of an ``as_of`` value.

Every public function that cuts data at a day takes ``as_of: AsOf``: a ``datetime.date``,
an ISO ``YYYY-MM-DD`` string or a ``pandas.Timestamp`` (time of day ignored), or ``None``
for "the last day of the data".  :func:`parse_as_of` turns any of them into a normalised
``Timestamp`` and rejects anything else with a one-line :class:`~simkit.errors.ParamsError`
naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

import pandas as pd

from simkit.errors import ParamsError

__all__ = ["AsOf", "as_of_date", "parse_as_of"]

#: The accepted types of an ``as_of`` argument (``None``: the data's last day).
AsOf: TypeAlias = date | str | pd.Timestamp | None


def parse_as_of(value: AsOf, *, field: str = "as_of") -> pd.Timestamp | None:
    """``value`` as a midnight ``Timestamp`` (``None`` stays ``None``).

    Raises
    ------
    ParamsError
        When ``value`` is not a date, an ISO date string or a Timestamp (``field`` named).

    >>> parse_as_of("2026-03-01") == parse_as_of(date(2026, 3, 1))
    True
    """
    if value is None:
        return None
    if value is pd.NaT:
        raise ParamsError("NaT is not a date", field=field)
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise ParamsError(f"'{value}' is not a date (YYYY-MM-DD)", field=field) from None
        return pd.Timestamp(parsed)
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).normalize() if value.tzinfo else value.normalize()
    if isinstance(value, datetime):
        return pd.Timestamp(value.replace(tzinfo=None)).normalize()
    if isinstance(value, date):
        return pd.Timestamp(value)
    raise ParamsError(
        f"{value!r} is not a date (a datetime.date, 'YYYY-MM-DD' or pandas.Timestamp)",
        field=field,
    )


def as_of_date(value: AsOf, *, field: str = "as_of") -> date | None:
    """:func:`parse_as_of` as a plain ``datetime.date`` (for the engines that count days)."""
    cut = parse_as_of(value, field=field)
    return None if cut is None else cut.date()
