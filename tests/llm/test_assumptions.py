"""Assumptions are bounded and dated inside the horizon: clipped or refused, and said so."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from simkit.llm import ScenarioAssumption, ScenarioReply, Shift, check_assumptions

START, END = date(2026, 3, 1), date(2026, 3, 30)


def _a(name: str = "Sale", **kw: object) -> ScenarioAssumption:
    base: dict[str, object] = {
        "name": name,
        "rationale": "because",
        "start": date(2026, 3, 5),
        "end": date(2026, 3, 11),
        "cpm": None,
        "ctr": None,
        "cvr": None,
        "demand": None,
        "spend": None,
    }
    base.update(kw)
    return ScenarioAssumption(**base)


def _check(*items: ScenarioAssumption):
    return check_assumptions(ScenarioReply(assumptions=list(items)), start=START, end=END)


def test_in_range_assumptions_are_kept_unchanged():
    a = _a(cpm=Shift(low=0.1, high=0.3))
    b = _a("Wear-out", ctr=Shift(low=-0.2, high=-0.05))
    check = _check(a, b)
    assert [c.assumption for c in check.kept] == [a, b]
    assert check.refused == () and check.messages() == []


def test_out_of_range_shift_is_clipped_and_says_so():
    check = _check(_a(cpm=Shift(low=0.5, high=4.0)), _a("B", cvr=Shift(low=-0.9, high=-0.6)))
    cpm = check.kept[0].assumption.cpm
    assert (cpm.low, cpm.high) == (0.5, 1.0)
    cvr = check.kept[1].assumption.cvr
    assert (cvr.low, cvr.high) == (-0.5, -0.5)
    msgs = check.messages()
    assert "'Sale': cpm range +50% to +400% clipped to +50% to +100%" in msgs[0]
    assert "'B': cvr range -90% to -60% clipped to -50% to -50%" in msgs[1]


def test_inverted_or_infinite_range_is_refused():
    check = _check(
        _a(ctr=Shift(low=0.2, high=-0.1)), _a("Inf", cpm=Shift(low=0.0, high=float("inf")))
    )
    assert check.kept == ()
    assert check.refused == (
        ("Sale", "its ctr range runs from +20% down to -10%"),
        ("Inf", "its cpm range is not finite"),
    )


def test_dates_partly_outside_the_horizon_are_clipped():
    check = _check(_a(start=date(2026, 2, 20), end=date(2026, 3, 3), cpm=Shift(low=0, high=0.1)))
    a = check.kept[0].assumption
    assert (a.start, a.end) == (START, date(2026, 3, 3))
    assert (
        "days 2026-02-20 to 2026-03-03 clipped to the horizon: 2026-03-01 to 2026-03-03"
        in (check.messages()[1])
    )


def test_dates_outside_or_reversed_are_refused():
    check = _check(
        _a(start=date(2026, 4, 5), end=date(2026, 4, 9), cpm=Shift(low=0, high=0.1)),
        _a("Backwards", start=date(2026, 3, 9), end=date(2026, 3, 5), cpm=Shift(low=0, high=0.1)),
    )
    assert check.kept == ()
    assert check.refused[0] == (
        "Sale",
        "its days 2026-04-05 to 2026-04-09 are outside the horizon 2026-03-01 to 2026-03-30",
    )
    assert check.refused[1] == ("Backwards", "it ends (2026-03-05) before it starts (2026-03-09)")


def test_nothing_shifted_duplicates_and_too_many_are_refused():
    items = [_a("Empty")] + [_a(f"A{i}", cpm=Shift(low=0, high=0.1)) for i in range(6)]
    items.append(_a("A0", cpm=Shift(low=0, high=0.1)))
    check = _check(*items)
    assert [c.assumption.name for c in check.kept] == ["A0", "A1", "A2", "A3", "A4"]
    assert dict(check.refused) == {
        "Empty": "it changes nothing simkit simulates",
        "A5": "simkit simulates at most 5 assumptions",
        "A0": "it repeats the name of an earlier assumption",
    }


def test_too_few_is_noted():
    check = _check(_a(cpm=Shift(low=0, high=0.1)))
    assert len(check.kept) == 1
    assert check.messages() == ["the model proposed 1 assumption(s); 2 to 5 were asked for"]


def test_unknown_fields_break_the_schema():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ScenarioAssumption.model_validate({**_a().model_dump(), "budget_multiplier": 3})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Shift.model_validate({"low": 0, "high": 1, "mid": 0.5})
