"""``forecast_campaign(..., fallback=...)``: the one place the fallback member is used."""

from __future__ import annotations

from typing import Any

import pytest

import simkit.forecast.api as api
from simkit.errors import ForecastError, ParamsError
from simkit.forecast import FALLBACK, forecast_campaign

_real = api._run


def _failing(monkeypatch: pytest.MonkeyPatch, error: Exception, *, fallback_too: bool = False):
    calls: list[list[str] | None] = []

    def fake(*args: Any, members: list[str] | None, **kwargs: Any) -> Any:
        calls.append(members)
        if members != [FALLBACK] or fallback_too:
            raise error
        return _real(*args, members=members, **kwargs)

    monkeypatch.setattr(api, "_run", fake)
    return calls


def test_the_fallback_is_reported_in_a_typed_field(campaign, monkeypatch) -> None:
    one_campaign, cid = campaign
    calls = _failing(monkeypatch, ValueError("scale must be non-negative"))
    fc = forecast_campaign(
        one_campaign, cid, 14, members=["seasonal_naive", "ets"], cache=False, fallback=FALLBACK
    )
    assert calls == [["seasonal_naive", "ets"], [FALLBACK]]
    assert fc.fallback is not None
    assert fc.fallback.member == FALLBACK
    assert fc.fallback.requested == ("seasonal_naive", "ets")
    assert fc.fallback.error == "ValueError: scale must be non-negative"
    assert "fallback member seasonal_naive alone" in fc.fallback.message
    assert fc.to_dict()["fallback"]["member"] == FALLBACK
    assert fc.drivers.horizon_days == 14


def test_without_a_fallback_the_failure_is_raised(campaign, monkeypatch) -> None:
    one_campaign, cid = campaign
    _failing(monkeypatch, ValueError("scale must be non-negative"))
    with pytest.raises(ValueError, match="scale must be non-negative"):
        forecast_campaign(one_campaign, cid, 14, members=["seasonal_naive", "ets"], cache=False)


def test_a_forecast_that_works_has_no_fallback(campaign) -> None:
    one_campaign, cid = campaign
    fc = forecast_campaign(
        one_campaign, cid, 14, members=[FALLBACK], cache=False, fallback=FALLBACK
    )
    assert fc.fallback is None


def test_bad_parameters_are_not_hidden_by_the_fallback(campaign, monkeypatch) -> None:
    one_campaign, cid = campaign
    calls = _failing(monkeypatch, ParamsError("unknown member 'etz'", field="members"))
    with pytest.raises(ParamsError, match="etz"):
        forecast_campaign(one_campaign, cid, 14, members=["etz"], cache=False, fallback=FALLBACK)
    assert len(calls) == 1


def test_when_the_fallback_fails_too_both_failures_are_named(campaign, monkeypatch) -> None:
    one_campaign, cid = campaign
    _failing(monkeypatch, ValueError("bad scale"), fallback_too=True)
    with pytest.raises(ForecastError, match="seasonal_naive, ets .*bad scale.*fallback"):
        forecast_campaign(
            one_campaign,
            cid,
            14,
            members=["seasonal_naive", "ets"],
            cache=False,
            fallback=FALLBACK,
        )


def test_a_validation_error_is_a_bug_not_a_numerical_failure(campaign, monkeypatch) -> None:
    """pydantic's ValidationError is a ValueError, but a member that builds a bad settings
    object has a bug that the fallback must not hide."""
    one_campaign, cid = campaign
    from pydantic import BaseModel

    class Settings(BaseModel):
        order: int

    try:
        Settings(order="high")
    except ValueError as exc:  # the ValidationError, as a member would raise it
        error = exc
    calls = _failing(monkeypatch, error)
    with pytest.raises(ValueError, match="order"):
        forecast_campaign(
            one_campaign,
            cid,
            14,
            members=["seasonal_naive", "ets"],
            cache=False,
            fallback=FALLBACK,
        )
    assert calls == [["seasonal_naive", "ets"]]
