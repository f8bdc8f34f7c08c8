from __future__ import annotations

import importlib.util
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.errors import DataError
from simkit.market.benchmarks import (
    ALL_INDUSTRIES,
    BenchmarkTable,
    channel_of,
    load_benchmarks,
    normalise_published,
    resolve_conflicts,
)

COLUMNS = [
    "source",
    "year",
    "platform",
    "industry",
    "ctr",
    "avg_cpc_usd",
    "conversion_rate",
    "cost_per_conversion_usd",
]


def _raw(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


def _load_build_script(repo_root):
    spec = importlib.util.spec_from_file_location(
        "build_benchmarks", repo_root / "scripts" / "build_benchmarks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_percent_becomes_fraction_and_blank_cells_give_no_row():
    raw = _raw(
        [
            [
                "https://www.wordstream.com/a",
                2024,
                "Google Ads + Microsoft Ads (search)",
                "Travel",
                6.42,
                4.66,
                None,
                66.69,
            ]
        ]
    )
    figures = normalise_published(raw).set_index("metric")
    assert figures.loc["ctr", "value"] == 0.0642
    assert figures.loc["cpc", "value"] == 4.66
    assert figures.loc["cpa", "value"] == 66.69
    assert "cvr" not in figures.index
    assert set(figures["channel"]) == {"search"}
    assert set(figures["source_tier"]) == {"primary"}
    assert set(figures["source_line"]) == {2}


@pytest.mark.parametrize(
    ("label", "channel"),
    [
        ("Google Ads + Microsoft Ads (search)", "search"),
        ("Google Ads (display network)", "display"),
        ("Google AdWords (display network)", "display"),
        ("Facebook Ads (US)", "social"),
        ("Meta Ads (Traffic objective)", "social"),
        ("google_search", "search"),
        ("Display", "display"),
        ("instagram", "social"),
        ("tv", None),
    ],
)
def test_channel_of(label, channel):
    assert channel_of(label) == channel


def test_unknown_platform_and_bad_number_name_the_line():
    with pytest.raises(DataError, match="row 3.*platform"):
        normalise_published(
            _raw(
                [
                    ["https://a.com", 2024, "Facebook Ads", "Travel", 1.0, None, None, None],
                    ["https://a.com", 2024, "Billboards", "Travel", 1.0, None, None, None],
                ]
            )
        )
    with pytest.raises(DataError, match="row 2.*ctr"):
        normalise_published(
            _raw([["https://a.com", 2024, "Facebook Ads", "Travel", "lots", None, None, None]])
        )


def test_rule_newest_year_then_primary_then_whole_platform_then_fuller_row():
    raw = _raw(
        [
            # same year: primary (wordstream) beats secondary
            [
                "https://blog.example/x",
                2024,
                "Google Ads (search)",
                "Travel",
                5.0,
                None,
                None,
                None,
            ],
            [
                "https://www.wordstream.com/y",
                2024,
                "Google Ads (search)",
                "Travel",
                6.0,
                None,
                None,
                None,
            ],
            # older year loses even from the primary domain
            [
                "https://www.wordstream.com/z",
                2022,
                "Google Ads (search)",
                "Travel",
                9.0,
                None,
                None,
                None,
            ],
            # social, same year and tier: whole platform beats a US-only segment
            ["https://a.example", 2018, "Facebook Ads (US)", "Retail", None, 1.10, None, None],
            ["https://b.example", 2018, "Facebook Ads", "Retail", None, 1.50, None, None],
            # display, same year, tier and scope: the fuller row wins
            [
                "https://c.example",
                2018,
                "Google Ads (display network)",
                "B2B",
                0.4,
                None,
                None,
                None,
            ],
            [
                "https://d.example",
                2018,
                "Google Ads (display network)",
                "B2B",
                0.5,
                0.8,
                None,
                None,
            ],
        ]
    )
    table = resolve_conflicts(normalise_published(raw))
    chosen = table[table["selected"]].set_index(["channel", "industry", "metric"])["value"]
    assert chosen[("search", "Travel", "ctr")] == 0.06
    assert chosen[("social", "Retail", "cpc")] == 1.50
    assert chosen[("display", "B2B", "ctr")] == 0.005
    travel = table[(table["industry"] == "Travel")].sort_values("rank")
    assert list(travel["value"]) == [0.06, 0.05, 0.09]
    assert set(travel["range_min"]) == {0.05} and set(travel["range_max"]) == {0.09}
    assert set(travel["year_min"]) == {2022} and set(travel["year_max"]) == {2024}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "https://www.wordstream.com/a",
                    "https://x.example/b",
                    "https://www.superads.ai/c",
                    "https://www.mediapost.com/d",
                ]
            ),
            st.integers(2015, 2026),
            st.sampled_from(["Google Ads (search)", "Facebook Ads", "Facebook Ads (US)"]),
            st.sampled_from(["Travel", "Legal", "All industries"]),
            st.one_of(st.none(), st.floats(0.01, 20)),
            st.one_of(st.none(), st.floats(0.01, 20)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_rule_invariants(rows):
    raw = _raw([[s, y, p, i, ctr, cpc, None, None] for s, y, p, i, ctr, cpc in rows])
    figures = normalise_published(raw)
    table = resolve_conflicts(figures)
    assert len(table) == len(figures)  # nothing dropped
    for _, group in table.groupby(["channel", "industry", "metric"]):
        assert group["selected"].sum() == 1
        top = group[group["selected"]].iloc[0]
        assert top["year"] == group["year"].max()
        assert (group["range_min"] == group["value"].min()).all()
        assert (group["range_max"] == group["value"].max()).all()
        assert sorted(group["rank"]) == list(range(1, len(group) + 1))


def test_packaged_table_keeps_source_and_year_on_every_row():
    table = load_benchmarks()
    frame = table.frame
    assert len(frame) > 150
    assert frame["source"].str.startswith("http").all()
    assert frame["year"].between(2010, 2030).all()
    assert set(frame["channel"]) == {"search", "social", "display"}
    assert (frame.groupby(["channel", "industry", "metric"])["selected"].sum() == 1).all()
    rates = frame[frame["metric"].isin(["ctr", "cvr"])]["value"]
    assert rates.between(0, 1).all()  # fractions, not percent


def test_packaged_table_is_the_build_of_the_shared_file(shared_data, repo_root, tmp_path):
    build = _load_build_script(repo_root)
    source = shared_data / "benchmarks" / "industry_benchmarks.csv"
    out = build.build(source, tmp_path / "benchmarks.csv")
    assert (tmp_path / "benchmarks.csv").read_bytes() == (
        repo_root / "simkit" / "market" / "data" / "benchmarks.csv"
    ).read_bytes()
    raw = pd.read_csv(source)
    expected = int(
        raw[["ctr", "avg_cpc_usd", "conversion_rate", "cost_per_conversion_usd"]]
        .notna()
        .sum()
        .sum()
    )
    assert len(out) == expected  # one row per published figure
    assert out["source_line"].nunique() == len(raw)


def test_real_conflict_attorneys_ctr_2022_both_kept(shared_data, repo_root, tmp_path):
    build = _load_build_script(repo_root)
    out = build.build(shared_data / "benchmarks" / "industry_benchmarks.csv", tmp_path / "b.csv")
    group = out[
        (out["industry"] == "Attorneys & Legal Services")
        & (out["metric"] == "ctr")
        & (out["channel"] == "search")
    ]
    y2022 = group[group["year"] == 2022].set_index("source_domain")["value"]
    assert y2022.to_dict() == {"mediapost.com": 0.0424, "marketingcharts.com": 0.0471}
    top = group[group["selected"]].iloc[0]
    assert top["year"] == group["year"].max()  # newest year wins
    assert math.isclose(top["range_min"], group["value"].min())


def test_lookup_falls_back_to_all_industries_flagged():
    table = load_benchmarks()
    direct = table.figure("Travel", "search", "ctr")
    assert direct is not None and not direct.fallback and direct.industry == "Travel"
    fallback = table.figure("Retail", "search", "cvr")
    assert fallback is not None and fallback.fallback and fallback.industry == ALL_INDUSTRIES
    assert table.figure("Travel", "display", "cvr") is None  # nothing published at all


def test_industry_matching_aliases_case_and_suggestion():
    table = load_benchmarks()
    assert table.match_industry("legal").industry == "Attorneys & Legal Services"
    assert table.match_industry("ecommerce").industry == "E-commerce"
    assert table.match_industry("finance and insurance").industry == "Finance & Insurance"
    miss = table.match_industry("Finanse & Insurance")
    assert not miss.known and "Finance & Insurance" in miss.suggestion
    assert table.match_industry("Underwater basket weaving").suggestion == ""


def test_table_missing_columns_is_a_data_error():
    with pytest.raises(DataError, match="lacks column"):
        BenchmarkTable(pd.DataFrame({"channel": ["search"]}))
