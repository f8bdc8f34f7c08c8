"""Is every number in a model's text one that simkit computed?

:func:`check_grounded` finds every number in a text, in the forms people write them
(``1,234``, ``1.2k``, ``3.4M``, ``12%``, ``$3.40``, ``+5.1%``, ``2.3x``), and looks for it
in the context that was sent to the model, within the rounding its written precision
allows (``1.2k`` is any value from 1,150 to 1,250; ``$3.40`` from 3.395 to 3.405).  A
number is grounded when it matches

* a context value (a fraction such as a probability also matches as a percentage:
  0.43 is ``43%``), or
* a difference or a percentage change of two context values that compare: the same
  metric from two sources, at the same quantile (the forecast's median CPA against the
  last 28 days' CPA, say; not the forecast's p90 CPA against its own p50): :func:`_key`.

A number written with a sign (``+12%``, ``-40``) must match with that sign; one written
without may be either (``a drop of 12%``).  ISO dates (``2026-11-01``) must be dates of the
context.  Numbers inside the context's own names (a campaign called "Summer 2026") are not
numbers of the text.

The check is deliberately strict: a paragraph with one number simkit cannot find is not
published.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Grounding", "check_grounded", "find_numbers"]

_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_NUMBER = re.compile(
    r"""
    (?<![\w.,])
    (?P<sign>[+\-\u2212])?
    (?P<cur>[$\u20ac\u00a3])?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?P<scale>\s?(?:k|K|M|bn|B)(?![A-Za-z]))?
    (?P<pct>\s?(?:%|percent(?![A-Za-z])|pp(?![A-Za-z])))?
    (?P<times>x(?![A-Za-z]))?
    (?![A-Za-z0-9_])
    """,
    re.X,
)
_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "bn": 1e9, "B": 1e9}
#: Metric names a context value's name may hold; differences pair values of one metric.
_METRICS = (
    "spend",
    "impressions",
    "clicks",
    "conversions",
    "revenue",
    "cpa",
    "roas",
    "cpm",
    "ctr",
    "cvr",
    "cpc",
)


@dataclass(frozen=True)
class _Written:
    text: str
    value: float
    tolerance: float
    percent: bool
    signed: bool


@dataclass(frozen=True)
class Grounding:
    """The verdict: ``ok`` when every number found is grounded; ``ungrounded`` lists the
    numbers (as written) that are not."""

    ok: bool
    numbers: tuple[str, ...]
    ungrounded: tuple[str, ...]

    @property
    def reason(self) -> str | None:
        if self.ok:
            return None
        shown = ", ".join(f"'{n}'" for n in self.ungrounded[:5])
        return f"the model's text has number(s) simkit did not compute: {shown}"


def find_numbers(text: str) -> list[_Written]:
    """Every number written in ``text`` (dates left out), with its rounding tolerance."""
    out = []
    for m in _NUMBER.finditer(_DATE.sub(" ", text)):
        digits = m["num"].replace(",", "")
        value = float(digits)
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        scale = _SCALES[m["scale"].strip()] if m["scale"] else 1.0
        if decimals:
            tol = 0.5 * 10.0**-decimals
        else:
            stripped = digits.rstrip("0")
            zeros = len(digits) - len(stripped) if value >= 1000 else 0
            tol = 0.5 * 10.0**zeros
        sign = -1.0 if m["sign"] in ("-", "\u2212") else 1.0
        out.append(
            _Written(
                text=m.group(0).strip(),
                value=sign * value * scale,
                tolerance=tol * scale * (1 + 1e-9) + 1e-12,
                percent=bool(m["pct"]),
                signed=bool(m["sign"]),
            )
        )
    return out


_QUANTILE = re.compile(r"^p\d{1,2}$")


def _key(name: str) -> tuple[str, str, str | None] | None:
    """``(metric, source, quantile)`` of a context value's name, ``None`` without a metric.

    The source is the name's first part (``recent``, ``forecast``, ``best_pivot``...), the
    quantile its ``pNN`` part if any."""
    parts = re.split(r"[._\s]+", name.lower())
    metric = next((m for m in _METRICS if m in parts), None)
    if metric is None:
        return None
    quantile = next((p for p in parts if _QUANTILE.match(p)), None)
    return metric, parts[0], quantile


def _compare(a: tuple[str, str, str | None], b: tuple[str, str, str | None]) -> bool:
    return a[0] == b[0] and a[1] != b[1] and (a[2] == b[2] or a[2] is None or b[2] is None)


def _candidates(values: Mapping[str, float]) -> tuple[list[float], list[float]]:
    """``(plain, percent)``: the values a number may equal, without and with a % sign."""
    clean = {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}
    plain = list(clean.values())
    percent = [*plain, *(v * 100 for v in plain)]
    keyed = [(k, v) for name, v in clean.items() if (k := _key(name)) is not None]
    for (ka, a), (kb, b) in itertools.permutations(keyed, 2):
        if not _compare(ka, kb):
            continue
        plain.append(a - b)
        if b != 0:
            change = (a - b) / abs(b)
            percent.extend((change * 100, change))
            plain.append(change * 100)
    return plain, percent


def check_grounded(
    text: str,
    values: Mapping[str, float],
    *,
    dates: Iterable[str] = (),
    names: Iterable[str] = (),
) -> Grounding:
    """Whether every number in ``text`` is a value of ``values`` or derived from two of
    them (module docstring); ``dates``: the ISO dates the text may name; ``names``: the
    context's strings whose digits are not numbers (campaign names and ids).

    Examples
    --------
    >>> check_grounded("CPA $3.40, up 12% on 1.2k conversions",
    ...     {"recent.cpa": 3.0357, "forecast.cpa.p50": 3.4012, "forecast.conversions": 1234}).ok
    True
    >>> check_grounded("about 1,500 conversions", {"forecast.conversions": 1234}).reason
    "the model's text has number(s) simkit did not compute: '1,500'"
    """
    allowed_dates = set(dates)
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, " ")
    bad_dates = [d for d in _DATE.findall(text) if d not in allowed_dates]
    plain, percent = _candidates(values)
    written = find_numbers(text)
    ungrounded = list(bad_dates)
    for w in written:
        pool = percent if w.percent else plain
        if not any(_matches(w, c) for c in pool):
            ungrounded.append(w.text)
    return Grounding(
        ok=not ungrounded,
        numbers=tuple([*_DATE.findall(text), *(w.text for w in written)]),
        ungrounded=tuple(ungrounded),
    )


def _matches(w: _Written, c: float) -> bool:
    if w.signed:
        return abs(w.value - c) <= w.tolerance
    return abs(abs(w.value) - abs(c)) <= w.tolerance
