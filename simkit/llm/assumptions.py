"""Scenario assumptions from a model, checked before simkit simulates any of them.

A model's assumption is only a proposal.  :func:`check_assumptions` keeps what the engine
can honestly simulate and says what it changed:

* every shift is bounded (:data:`SHIFT_BOUNDS`); a range that reaches beyond its bound is
  **clipped** to it, and the assumption carries a note saying so;
* a range whose low end is above its high end, or that is not finite, is **refused**;
* the dates must fall inside the horizon: a period partly outside is clipped to it (with
  a note), one wholly outside or ending before it starts is refused;
* an assumption that shifts nothing, or repeats an earlier one's name, is refused;
* at most :data:`MAX_ASSUMPTIONS` are kept (the rest are refused, in order).

Unknown fields never get this far: they break the reply's schema
(:mod:`simkit.llm.schemas`), and the whole reply is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from simkit.llm.schemas import ScenarioAssumption, ScenarioReply, Shift

__all__ = [
    "MAX_ASSUMPTIONS",
    "MIN_ASSUMPTIONS",
    "SHIFTS",
    "SHIFT_BOUNDS",
    "AssumptionCheck",
    "CheckedAssumption",
    "check_assumptions",
]

MIN_ASSUMPTIONS, MAX_ASSUMPTIONS = 2, 5
SHIFTS = ("cpm", "ctr", "cvr", "demand", "spend")
#: The widest relative change simkit simulates for each shift (``-0.5`` = -50%).
SHIFT_BOUNDS: dict[str, tuple[float, float]] = {
    "cpm": (-0.5, 1.0),
    "ctr": (-0.5, 0.5),
    "cvr": (-0.5, 0.5),
    "demand": (-0.5, 0.5),
    "spend": (-1.0, 1.0),
}
_NAME_CHARS, _RATIONALE_CHARS = 80, 400


@dataclass(frozen=True)
class CheckedAssumption:
    """An assumption simkit will simulate (clipped where ``notes`` say so)."""

    assumption: ScenarioAssumption
    notes: tuple[str, ...] = ()

    @property
    def clipped(self) -> bool:
        return bool(self.notes)

    def to_dict(self) -> dict[str, Any]:
        return {**self.assumption.model_dump(mode="json"), "notes": list(self.notes)}


@dataclass(frozen=True)
class AssumptionCheck:
    """What :func:`check_assumptions` kept, and what it refused with the reason."""

    kept: tuple[CheckedAssumption, ...]
    refused: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default=())

    def messages(self) -> list[str]:
        """Every clip and refusal as a sentence, for the report."""
        out = list(self.notes)
        for c in self.kept:
            out += [f"'{c.assumption.name}': {n}" for n in c.notes]
        out += [f"'{name}' refused: {why}" for name, why in self.refused]
        return out


def _pct(x: float) -> str:
    return f"{x:+.0%}"


def _check_shift(name: str, shift: Shift) -> tuple[Shift | None, str | None, str | None]:
    """``(shift, clip note, refusal)`` for one shift."""
    lo, hi = shift.low, shift.high
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None, None, f"its {name} range is not finite"
    if lo > hi:
        return None, None, f"its {name} range runs from {_pct(lo)} down to {_pct(hi)}"
    bound_lo, bound_hi = SHIFT_BOUNDS[name]
    c_lo, c_hi = min(max(lo, bound_lo), bound_hi), min(max(hi, bound_lo), bound_hi)
    if (c_lo, c_hi) == (lo, hi):
        return shift, None, None
    note = (
        f"{name} range {_pct(lo)} to {_pct(hi)} clipped to {_pct(c_lo)} to {_pct(c_hi)} "
        f"(simkit simulates {name} shifts from {_pct(bound_lo)} to {_pct(bound_hi)})"
    )
    return Shift(low=c_lo, high=c_hi), note, None


def _check_one(
    a: ScenarioAssumption, start: date, end: date
) -> tuple[CheckedAssumption | None, str | None]:
    notes: list[str] = []
    if a.start > a.end:
        return None, f"it ends ({a.end}) before it starts ({a.start})"
    if a.end < start or a.start > end:
        return None, f"its days {a.start} to {a.end} are outside the horizon {start} to {end}"
    first, last = max(a.start, start), min(a.end, end)
    if (first, last) != (a.start, a.end):
        notes.append(f"days {a.start} to {a.end} clipped to the horizon: {first} to {last}")
    shifts: dict[str, Shift | None] = {}
    for name in SHIFTS:
        value = getattr(a, name)
        if value is None:
            shifts[name] = None
            continue
        checked, note, refusal = _check_shift(name, value)
        if refusal is not None:
            return None, refusal
        shifts[name] = checked
        if note:
            notes.append(note)
    if all(s is None or (s.low == 0 and s.high == 0) for s in shifts.values()):
        return None, "it changes nothing simkit simulates"
    clean = a.model_copy(
        update={
            "name": " ".join(a.name.split())[:_NAME_CHARS] or "unnamed",
            "rationale": " ".join(a.rationale.split())[:_RATIONALE_CHARS],
            "start": first,
            "end": last,
            **shifts,
        }
    )
    return CheckedAssumption(clean, tuple(notes)), None


def check_assumptions(reply: ScenarioReply, *, start: date, end: date) -> AssumptionCheck:
    """Keep, clip or refuse each assumption of ``reply`` for the horizon ``start..end``.

    Examples
    --------
    >>> from datetime import date
    >>> a = ScenarioAssumption(name="Sale", rationale="r", start=date(2026, 1, 3),
    ...     end=date(2026, 1, 9), cpm=Shift(low=0.1, high=3.0), ctr=None, cvr=None,
    ...     demand=None, spend=None)
    >>> check = check_assumptions(ScenarioReply(assumptions=[a, a]),
    ...     start=date(2026, 1, 1), end=date(2026, 1, 30))
    >>> check.kept[0].assumption.cpm.high, check.refused[0][1]
    (1.0, 'it repeats the name of an earlier assumption')
    """
    kept: list[CheckedAssumption] = []
    refused: list[tuple[str, str]] = []
    notes: list[str] = []
    seen: set[str] = set()
    for a in reply.assumptions:
        label = " ".join(a.name.split())[:_NAME_CHARS] or "unnamed"
        if label.lower() in seen:
            refused.append((label, "it repeats the name of an earlier assumption"))
            continue
        if len(kept) >= MAX_ASSUMPTIONS:
            refused.append((label, f"simkit simulates at most {MAX_ASSUMPTIONS} assumptions"))
            continue
        checked, why = _check_one(a, start, end)
        if checked is None:
            refused.append((label, why or "refused"))
            continue
        seen.add(label.lower())
        kept.append(checked)
    if len(reply.assumptions) < MIN_ASSUMPTIONS:
        notes.append(
            f"the model proposed {len(reply.assumptions)} assumption(s); "
            f"{MIN_ASSUMPTIONS} to {MAX_ASSUMPTIONS} were asked for"
        )
    return AssumptionCheck(tuple(kept), tuple(refused), tuple(notes))
