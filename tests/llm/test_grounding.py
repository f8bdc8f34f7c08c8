"""Every number in a model's text must be one simkit computed (or derived from two)."""

from __future__ import annotations

import pytest

from simkit.llm import check_grounded
from simkit.llm.grounding import find_numbers

FACTS = {
    "recent.cpa": 3.0357,
    "recent.spend": 12345.6,
    "recent.conversions": 4067.0,
    "forecast.cpa.p50": 3.4012,
    "forecast.conversions.p50": 1234.4,
    "forecast.conversions.p10": 1010.0,
    "top_risk.probability": 0.43,
    "horizon_days": 30,
}


@pytest.mark.parametrize(
    "text",
    [
        "Expect 1,234 conversions over 30 days.",  # thousands separator, rounded
        "Expect 1.2k conversions.",  # k suffix within its rounding (1,150 to 1,250)
        "The main risk has a probability of 43%.",  # a fraction written as a percentage
        "CPA rises to $3.40.",  # currency
    ],
)
def test_grounded_forms(text: str):
    result = check_grounded(text, FACTS)
    assert result.ok, result.reason


def test_percentage_change_and_difference_of_one_metric_are_grounded():
    # (3.4012 - 3.0357) / 3.0357 = +12.04%; 3.4012 - 3.0357 = 0.3655
    assert check_grounded("CPA up 12% (+$0.37)", FACTS).ok
    assert check_grounded("CPA up +12.0%", FACTS).ok


def test_differences_across_metrics_are_not_grounded():
    # conversions p50 - cpa is meaningless: not a derived value simkit accepts
    result = check_grounded("a gap of 1,231", FACTS)
    assert not result.ok
    assert result.ungrounded == ("1,231",)


def test_a_wrong_number_is_rejected_with_the_reason():
    result = check_grounded("Expect 1,234 conversions; competitors raise prices 37.5%.", FACTS)
    assert not result.ok
    assert result.ungrounded == ("37.5%",)
    assert result.reason == "the model's text has number(s) simkit did not compute: '37.5%'"


def test_rounding_is_bounded_by_the_written_precision():
    assert not check_grounded("CPA $3.42", FACTS).ok  # 3.4012 is $3.40
    assert not check_grounded("1.3k conversions", FACTS).ok  # 1.3k is 1,250 to 1,350
    assert check_grounded("12,300 spent", FACTS).ok  # 12,345.6 to the hundred (trailing zeros)
    assert not check_grounded("12,400 spent", FACTS).ok


def test_an_explicit_sign_must_match():
    assert check_grounded("CPA changes by +12%", FACTS).ok
    assert not check_grounded("CPA changes by -12%", FACTS).ok


def test_dates_must_be_context_dates_and_names_are_not_numbers():
    text = "From 2026-03-01 the Summer 2026 campaign C001 expects 1,234 conversions."
    assert not check_grounded(text, FACTS).ok
    result = check_grounded(text, FACTS, dates=["2026-03-01"], names=["Summer 2026", "C001"])
    assert result.ok, result.reason
    assert not check_grounded("on 2026-03-02", FACTS, dates=["2026-03-01"]).ok


def test_find_numbers_reads_the_forms_people_write():
    found = {w.text: (w.value, w.percent) for w in find_numbers("$3.40, 1.2k, 12%, -5, 2.1x, 3M")}
    assert found == {
        "$3.40": (3.4, False),
        "1.2k": (1200.0, False),
        "12%": (12.0, True),
        "-5": (-5.0, False),
        "2.1x": (2.1, False),
        "3M": (3e6, False),
    }


def test_no_numbers_is_grounded():
    assert check_grounded("The campaign is steady.", FACTS).ok


def test_quantiles_of_one_forecast_are_not_compared_with_each_other():
    facts = {"forecast.cpa.p50": 20.0, "forecast.cpa.p90": 27.5, "recent.cpa": 16.0}
    assert not check_grounded("37.5%", facts).ok  # p90 against p50: not a change anyone made
    assert check_grounded("25%", facts).ok  # the forecast's median against the recent CPA
