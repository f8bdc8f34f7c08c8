from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from simkit.errors import DataError
from simkit.market import read_auction_insights

REAL_UK_SHAPE = "\n".join(
    [
        "Auction insights report",
        '"April 1, 2026 - July 27, 2026"',
        "Display URL domain,Impression share,Overlap rate,Position above rate,Top of page rate,"
        "Abs. Top of page rate,Outranking share",
        "competitor-one.co.uk,< 10%,9.64%,52.27%,73.51%,25.17%,35.49%",
        "You,37.37%, --, --,69.77%,26.83%, --",
        "competitor-two.co.uk,13.22%,19.17%,76.00%,76.47%,40.56%,31.93%",
        "",
    ]
)


def test_reads_the_real_export_layout(tmp_path):
    path = tmp_path / "auction.csv"
    path.write_text(REAL_UK_SHAPE, encoding="utf-8")
    auction = read_auction_insights(path)
    frame = auction.frame.set_index("domain")
    assert auction.competitors == ["competitor-one.co.uk", "competitor-two.co.uk"]
    assert frame.loc["You", "is_you"] and frame.loc["You", "impression_share"] == 0.3737
    assert np.isnan(frame.loc["You", "overlap_rate"])
    assert frame.loc["competitor-one.co.uk", "impression_share"] == 0.05
    assert frame.loc["competitor-one.co.uk", "impression_share_censored"]
    assert frame.loc["competitor-two.co.uk", "position_above_rate"] == 0.76
    assert auction.periods == [(pd.Timestamp("2026-04-01"), pd.Timestamp("2026-07-27"))]
    assert any("censored" in n for n in auction.notes)
    assert frame.loc["competitor-two.co.uk", "line"] == 6


@pytest.mark.parametrize(
    "range_line",
    [
        "Jan 1, 2026-Jan 31, 2026",
        "1 January 2026 - 31 January 2026",
        '"January 1, 2026 - January 31, 2026"',
    ],
)
def test_date_range_spellings(tmp_path, range_line):
    lines = REAL_UK_SHAPE.splitlines()
    lines[1] = range_line
    path = tmp_path / "a.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert read_auction_insights(path).periods == [
        (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-31"))
    ]


def test_utf16_tab_export_with_total_row_and_impr_share_header(tmp_path):
    text = REAL_UK_SHAPE.replace(",", "\t").replace("Impression share", "Impr. share")
    text += "Total\t--\t--\t--\t--\t--\t--\n"
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("utf-16"))
    auction = read_auction_insights(path)
    assert len(auction.frame) == 3
    assert any("skipped 1 non-data row" in n for n in auction.notes)


def test_semicolon_export_with_decimal_commas(tmp_path):
    text = REAL_UK_SHAPE.replace(",", ";").replace("9.64%", "9,64%").replace("2026;", "2026,")
    path = tmp_path / "de.csv"
    path.write_text(text, encoding="utf-8")
    frame = read_auction_insights(path).frame.set_index("domain")
    assert frame.loc["competitor-one.co.uk", "overlap_rate"] == pytest.approx(0.0964)


def test_weekly_segment_in_both_date_styles(tmp_path, auction_kit, world_and_weeks):
    weeks = world_and_weeks[1]
    iso = read_auction_insights(auction_kit.write_segmented_export(tmp_path / "a.csv", weeks))
    text = read_auction_insights(
        auction_kit.write_segmented_export(tmp_path / "b.csv", weeks, date_style="text")
    )
    assert len(iso.periods) == 16 and iso.periods == text.periods
    first = iso.periods[0]
    assert first == (pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-11"))
    pd.testing.assert_frame_equal(iso.frame.drop(columns="file"), text.frame.drop(columns="file"))


def test_several_files_make_a_series_and_clashes_are_named(tmp_path, auction_kit):
    rows = {
        "You": {"impression_share": 0.4},
        "rival.com": {
            "impression_share": 0.3,
            "overlap_rate": 0.5,
            "position_above_rate": 0.4,
            "top_of_page_rate": 0.7,
            "abs_top_of_page_rate": 0.2,
            "outranking_share": 0.3,
        },
    }
    a = auction_kit.write_export(
        tmp_path / "m1.csv", rows, start=date(2026, 1, 1), end=date(2026, 1, 31)
    )
    b = auction_kit.write_export(
        tmp_path / "m2.csv",
        rows,
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
        encoding="utf-8-sig",
    )
    auction = read_auction_insights([a, b])
    assert [p[0].month for p in auction.periods] == [1, 2]
    again = auction_kit.write_export(
        tmp_path / "m2b.csv", rows, start=date(2026, 2, 1), end=date(2026, 2, 28)
    )
    with pytest.raises(DataError, match="two rows for the period starting 2026-02-01"):
        read_auction_insights([a, b, again])


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("rival.com,lots,1%,1%,1%,1%,1%", r"row 4, column 'Impression share': 'lots' is not a"),
        ("rival.com,140%,1%,1%,1%,1%,1%", r"row 4.*outside 0-100%"),
        (",10%,1%,1%,1%,1%,1%", r"row 4.*empty domain"),
        ("rival.com,10%,1%,1%,1%,1%,1%,9%,9%", r"row 4.*cells but the header"),
    ],
)
def test_row_level_errors(tmp_path, bad_line, message):
    lines = REAL_UK_SHAPE.splitlines()
    lines.insert(3, bad_line)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_auction_insights(path)


def test_not_an_export_duplicates_and_missing_file(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("date,campaign_id,spend\n2026-01-01,a,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="not an auction-insights export"):
        read_auction_insights(path)
    dup = tmp_path / "dup.csv"
    dup.write_text(REAL_UK_SHAPE + "You,10%, --, --,1%,1%, --\n", encoding="utf-8")
    with pytest.raises(DataError, match="'You' appears twice"):
        read_auction_insights(dup)
    with pytest.raises(DataError, match="not found"):
        read_auction_insights(tmp_path / "missing.csv")


def test_committed_fixture_is_the_generated_one(test_data, tmp_path, auction_kit):
    """tests/data/auction_insights_weekly.csv is regenerated from the seed, byte for byte."""
    world, weeks = auction_kit.competitor_world(np.random.default_rng(20260105))
    fresh = auction_kit.write_segmented_export(tmp_path / "w.csv", weeks)
    assert fresh.read_bytes() == (test_data / "auction_insights_weekly.csv").read_bytes()
    ours = world.data[world.data["campaign_id"] == "C001"].copy()
    ours["date"] = ours["date"].dt.strftime("%Y-%m-%d")
    committed = pd.read_csv(test_data / "auction_campaign.csv")
    pd.testing.assert_frame_equal(committed, ours.reset_index(drop=True), check_dtype=False)
