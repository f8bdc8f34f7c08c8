"""The report formatting layer: how numbers, labels and tables read (issue 14 item 9)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from simkit.report import format as fmt


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (38.2, "USD", "$38.20"),
        (14101.76, "USD", "$14,102"),
        (-4.5, "USD", "−$4.50"),
        (1234.5, "EUR", "€1,234"),
        (99.0, "CHF", "99.00 CHF"),
        (None, "USD", "–"),
        (float("nan"), "USD", "–"),
    ],
)
def test_money_reads_in_the_campaigns_currency(value, currency, expected) -> None:
    assert fmt.money(value, currency) == expected


def test_counts_have_separators_and_no_trailing_decimals() -> None:
    assert fmt.count(84.0) == "84"
    assert fmt.count(1240.4) == "1,240"
    assert fmt.count(3.4) == "3.4", "a small fractional forecast is not rounded to 3"
    assert fmt.count(99.1, signed=True) == "+99"
    assert fmt.count(-12.3, signed=True) == "−12"


def test_rates_and_probabilities_are_percentages() -> None:
    assert fmt.percent(0.0387, 2) == "3.87%"
    assert fmt.probability(0.507) == "51%"
    assert fmt.probability(0.004) == "<1%", "never rounded to a false 0%"
    assert fmt.probability(0.998) == ">99%", "never rounded to a false certainty"
    assert fmt.probability(0.0) == "0%"
    assert fmt.probability(1.0) == "100%"


def test_intervals() -> None:
    q = {"p10": 1050.2, "p50": 1240.0, "p90": 1430.7}
    assert fmt.interval(q, "count") == "1,050–1,431"
    assert fmt.interval({"p10": -5.0, "p90": 10.0}, "count", signed=True) == "−5 to +10"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("p_below_plan", "P(below plan)"),
        ("budget_exhausted", "P(budget runs out)"),
        ("p_budget_exhausted", "P(budget runs out)"),
        ("audience_fatigue", "Audience fatigue"),
        ("cpa", "CPA"),
        ("some_new_key", "Some new key"),
        ("C001", "C001"),
    ],
)
def test_keys_read_as_human_labels(key, expected) -> None:
    assert fmt.label(key) == expected


def _cells(html: str) -> list[tuple[str, str]]:
    """(alignment, text) of every body cell."""
    return re.findall(r'<td style="[^"]*text-align:(\w+)[^"]*">([^<]*)</td>', html)


def test_a_metric_table_formats_each_row_by_its_metric() -> None:
    table = pd.DataFrame(
        {
            "metric": ["spend", "conversions", "ctr", "cpa", "roas"],
            "last 28 days": [11064.78, 84.0, 0.0386577, 37.7637, 3.5713],
            "change %": [51.3, -17.46, -33.1, 83.4, None],
        }
    )
    cells = _cells(fmt.table_html(table))
    texts = [t for _, t in cells]
    assert texts == [
        "Spend", "$11,065", "+51%",
        "Conversions", "84", "−17%",
        "CTR", "3.87%", "−33%",
        "CPA", "$37.76", "+83%",
        "ROAS", "3.57", "–",
    ]  # fmt: skip
    assert {a for a, t in cells if t in ("Spend", "CTR")} == {"left"}
    assert {a for a, t in cells if t in ("$11,065", "3.87%", "+51%")} == {"right"}


def test_long_text_is_left_aligned_and_escaped() -> None:
    table = pd.DataFrame(
        {
            "risk": ["budget_pacing"],
            "probability": [0.0000533],
            "what we see": ["Spending 94% of the daily budget <over> the last 7 days"],
            "pivots to simulate": ["budget_adjustment, budget_reallocation"],
        }
    )
    cells = _cells(fmt.table_html(table))
    assert cells == [
        ("left", "Budget pacing"),
        ("right", "&lt;1%"),
        ("left", "Spending 94% of the daily budget &lt;over&gt; the last 7 days"),
        ("left", "Budget adjustment, Budget reallocation"),
    ]


def test_only_the_probabilities_that_were_asked_for_are_shown() -> None:
    table = pd.DataFrame(
        {
            "event": ["p_below_plan", "p_cpa_le_target", "p_roas_ge_target"],
            "probability": [0.006, 0.621, 0.645],
        }
    )
    without = fmt.table_html(table, fmt.Display())
    assert "P(below plan)" in without
    assert "target" not in without, "no target given: no P(CPA <= target) row"
    with_cpa = fmt.table_html(table, fmt.Display(currency="EUR", target_cpa=26.51))
    assert "P(CPA ≤ €26.51 target)" in with_cpa and "62%" in with_cpa
    assert "ROAS" not in with_cpa


def test_trusted_html_columns_are_kept_and_others_escaped() -> None:
    table = pd.DataFrame({"campaign": ['<a href="C1/report.html">C1</a>'], "note": ["<b>"]})
    out = fmt.table_html(table, html_columns=("campaign",))
    assert '<a href="C1/report.html">C1</a>' in out
    assert "&lt;b&gt;" in out


def test_a_money_column_of_whole_amounts_shows_no_cents() -> None:
    table = pd.DataFrame({"campaign": ["C1", "C2"], "optimal / day": [799.0, 1396.0]})
    assert [t for _, t in _cells(fmt.table_html(table))] == ["C1", "$799", "C2", "$1,396"]


def test_absent_text_reads_as_one_dash() -> None:
    table = pd.DataFrame({"top risk": ["-", "audience_fatigue"], "onset": [None, "2026-10-27"]})
    texts = [t for _, t in _cells(fmt.table_html(table))]
    assert texts == ["–", "–", "Audience fatigue", "2026-10-27"]


def test_a_card_bolds_short_lead_phrases_only() -> None:
    out = fmt.card_html(
        [
            "Over the next 365 days: 1,240 conversions",
            "This campaign has stopped: its last day with spend is 2020-04-30.",
            "Warning: the ensemble failed <badly>.",
        ]
    )
    assert "<b>Over the next 365 days:</b> 1,240 conversions" in out
    assert "This campaign has stopped: its last day with spend is 2020-04-30." in out
    assert "<b>Warning:</b> the ensemble failed &lt;badly&gt;." in out
    assert out.count("color:#8a6d3b") == 1, "the warning line is amber"
