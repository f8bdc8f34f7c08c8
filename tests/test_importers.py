"""Importers: each source maps its export's columns and records what it repaired."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.data import import_file, load, load_mapping
from simkit.data.importers import ColumnMapping, detect_source
from simkit.errors import DataError, ParamsError


def test_google_ads_export_skips_title_lines_and_totals(test_data):
    loaded = load(test_data / "imports" / "google_ads_campaigns_by_day.csv", today=None)
    report = loaded.report
    assert report.source == "google_ads"
    actions = {r.action: r for r in report.repairs}
    assert actions["skipped_preamble"].rows == 2
    assert actions["dropped_totals"].rows == 2
    assert actions["dropped_totals"].lines == (10, 11)
    data = loaded.data
    assert len(data) == 6
    brand = data[data.campaign_id == "Brand - Search"].set_index("date")
    assert brand.loc["2024-11-01", "spend"] == pytest.approx(1180.50)
    assert brand.loc["2024-11-01", "impressions"] == 12004
    assert brand.loc["2024-11-02", "conversions"] == pytest.approx(38.5)
    assert brand.loc["2024-11-01", "impression_share"] == pytest.approx(0.853)
    # "< 10%" is read as its bound, "--" as missing
    assert brand.loc["2024-11-02", "impression_share"] == pytest.approx(0.10)
    display = data[data.campaign_id == "Prospecting - Display"]
    assert display["impression_share"].isna().all()
    assert set(data["channel"]) == {"search", "display"}
    assert data["budget"].tolist()[0] == pytest.approx(200.0)


def test_meta_export_reads_blank_results_as_zero_and_drops_totals(test_data):
    loaded = load(test_data / "imports" / "meta_ads_export.csv")
    assert loaded.report.source == "meta_ads"
    data = loaded.data.set_index(["campaign_id", "date"])
    row = data.loc[("Spring Sale - Prospecting", pd.Timestamp("2024-11-03"))]
    assert row["conversions"] == 0 and row["revenue"] == 0
    assert row["clicks"] == 520  # Link clicks, not all clicks
    assert row["reach"] == 29550 and row["frequency"] == pytest.approx(1.39)
    repairs = [r.action for r in loaded.report.repairs]
    assert "dropped_totals" in repairs and repairs.count("filled_blank_zero") == 2
    assert len(loaded.data) == 6
    assert (loaded.data["channel"] == "social").all()


def test_generic_mapping_sums_breakdowns_and_parses_dates(test_data):
    mapping = test_data / "imports" / "generic_breakdown_mapping.yaml"
    loaded = load(test_data / "imports" / "generic_breakdown.csv", mapping=mapping)
    data = loaded.data.set_index(["campaign_id", "date"])
    control = data.loc[("Control Campaign", pd.Timestamp("2019-08-01"))]
    assert control["spend"] == 2280 and control["impressions"] == 82702
    assert control["clicks"] == 7016 and control["conversions"] == 618
    assert loaded.report.mapped["Website Clicks"] == "clicks"
    summed = [r for r in loaded.report.repairs if r.action == "summed_breakdowns"]
    assert summed and summed[0].rows == 8
    assert loaded.report.n_rows == 4


def test_detect_source_by_header():
    assert (
        detect_source(["Day", "Campaign", "Cost", "Impr.", "Clicks", "Conversions", "Conv. value"])
        == "google_ads"
    )
    assert (
        detect_source(
            ["date", "campaign_id", "spend", "impressions", "clicks", "conversions", "revenue"]
        )
        == "simkit"
    )
    assert detect_source(["when", "what"]) == "generic"


def test_forced_source_overrides_detection(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "Day,Campaign,Cost,Impr.,Clicks,Conversions,Conv. value\n2024-01-01,A,1,10,1,0,0\n"
    )
    assert import_file(path, source="google_ads").source == "google_ads"
    with pytest.raises(ParamsError, match="did you mean 'google_ads'"):
        import_file(path, source="googl_ads")


def test_mapping_typo_names_file_and_field(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("renamess: {a: b}\n")
    with pytest.raises(ParamsError) as err:
        load_mapping(bad)
    assert "m.yaml" in str(err.value) and "renamess" in str(err.value)
    assert "did you mean 'renames'" in str(err.value)


def test_mapping_accepts_only_consistency_codes():
    with pytest.raises(ValueError, match="cannot be accepted"):
        ColumnMapping(accept={"negative": "because"})


def test_mapping_renaming_absent_column_is_an_error(tmp_path, test_data):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("renames: {Nope: spend}\n")
    with pytest.raises(DataError, match="Nope"):
        import_file(test_data / "imports" / "generic_breakdown.csv", mapping=mapping)


@pytest.mark.shared_data
def test_real_online_ad_performance_maps_to_three_campaigns(shared_data, repo_root):
    path = shared_data / "online_ad_performance" / "online_advertising_performance_data.csv"
    loaded = load(path, mapping=repo_root / "params/sources/online_ad_performance.yaml")
    quality = {c.campaign_id: c for c in loaded.report.campaigns}
    assert sorted(quality) == ["camp 1", "camp 2", "camp 3"]
    assert quality["camp 1"].days == 91 and quality["camp 3"].days == 91
    assert quality["camp 2"].days == 30
    # nothing is lost: the summed campaign-days keep every display and every dollar
    raw = pd.read_csv(path)
    assert loaded.data["impressions"].sum() == raw["displays"].sum()
    assert loaded.data["spend"].sum() == pytest.approx(raw["revenue"].sum())
    assert loaded.data["revenue"].sum() == pytest.approx(raw["post_click_sales_amount"].sum())
    codes = {w.code for w in loaded.report.warnings}
    assert {"conversions_above_clicks", "clicks_above_impressions"} <= codes


def test_parquet_file_and_metadata_beside_it(tmp_path):
    import numpy as np

    from simkit.data.synthetic import generate

    world = generate(2, 30, rng=np.random.default_rng(4))
    csv_path, _ = world.write(tmp_path)
    parquet = tmp_path / "campaigns.parquet"
    world.data.to_parquet(parquet)
    (tmp_path / "campaigns_meta.yaml").rename(tmp_path / "campaigns_meta.yaml.bak")
    from_parquet = load(parquet)
    (tmp_path / "campaigns_meta.yaml.bak").rename(tmp_path / "campaigns_meta.yaml")
    from_csv = load(csv_path)
    pd.testing.assert_series_equal(
        from_parquet.data["clicks"].astype(float), from_csv.data["clicks"].astype(float)
    )
    assert set(from_csv.campaigns.columns) >= {"industry", "target_cpa", "flight_end"}
    assert list(from_parquet.campaigns.columns) == ["campaign_id", "channel"]


def test_cli_generate_writes_data_that_validates(tmp_path):
    import json

    from typer.testing import CliRunner

    from simkit.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "generate",
            str(tmp_path),
            "--campaigns",
            "3",
            "--days",
            "40",
            "--end",
            "2025-06-30",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert [e["kind"] for e in summary["events"]] == ["fatigue", "competitor_entry", "tracking_dip"]
    checked = runner.invoke(app, ["validate", summary["data"], "--format", "json"])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["campaigns"][0]["days"] == 40
    assert runner.invoke(app, ["generate", str(tmp_path), "--end", "June"]).exit_code == 1


# --- imports that never guess (issue 15 item 3, issue 14 items 4-5) ----------------------


IMPORTS = "imports"


def _import(test_data, name: str, **kwargs):
    return import_file(test_data / IMPORTS / name, **kwargs)


def test_decimal_commas_in_a_semicolon_file_are_detected(test_data):
    loaded = load(test_data / IMPORTS / "decimal_comma_semicolon.csv", today=None)
    assert loaded.data["spend"].iloc[0] == pytest.approx(498.60)
    assert loaded.data["spend"].max() < 500
    # '.' is the thousands separator once the file shows decimal commas
    assert loaded.data["revenue"].iloc[0] == pytest.approx(1234.50)
    note = next(r for r in loaded.report.repairs if r.action == "read_decimal_comma")
    assert "'498,60'" in note.detail and "line 2" in note.detail


def test_quoted_decimal_commas_in_a_comma_file_are_detected(test_data):
    loaded = load(test_data / IMPORTS / "decimal_comma_quoted.csv", today=None)
    assert loaded.data["spend"].iloc[1] == pytest.approx(498.61)
    assert loaded.data["revenue"].iloc[0] == pytest.approx(2100.25)


def test_declared_decimal_comma_reads_the_file(test_data):
    mapping = ColumnMapping(source="simkit", decimal=",", thousands=".")
    data = load(test_data / IMPORTS / "decimal_comma_semicolon.csv", mapping=mapping).data
    assert data["spend"].iloc[2] == pytest.approx(498.62)
    assert data["revenue"].iloc[2] == pytest.approx(1234.50)


def test_declared_decimal_without_thousands_rejects_a_grouped_number(test_data):
    mapping = ColumnMapping(source="simkit", decimal=",")
    with pytest.raises(DataError, match=r"row 2, column 'revenue': '1\.234,50' has a '\.'"):
        _import(test_data, "decimal_comma_semicolon.csv", mapping=mapping)


def test_ambiguous_thousands_comma_is_an_error_asking_for_decimal(test_data):
    with pytest.raises(DataError) as err:
        _import(test_data, "thousands_ambiguous.csv")
    text = str(err.value)
    assert "thousands_ambiguous.csv" in text and "row 2" in text
    assert "column 'spend'" in text and "'1,200' could be 1200" in text
    assert "set decimal:" in text and "\n" not in text
    mapping = ColumnMapping(source="simkit", thousands=",")
    data = load(test_data / IMPORTS / "thousands_ambiguous.csv", mapping=mapping).data
    assert data["spend"].iloc[0] == 1200 and data["revenue"].iloc[0] == 3500


def test_mixed_decimal_marks_are_an_error(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "date,campaign_id,spend,impressions,clicks,conversions,revenue\n"
        '2025-01-01,A,"498,60",100,10,1,"1,234.50"\n'
    )
    with pytest.raises(DataError, match=r"mix decimal commas \('498,60', column 'spend', line 2"):
        import_file(path)


def test_a_campaign_named_total_is_kept_with_all_its_rows(test_data):
    loaded = load(test_data / IMPORTS / "total_gym_search.csv", today=None)
    gym = loaded.data[loaded.data["campaign_id"] == "Total Gym Search"]
    assert len(gym) == 3 and gym["spend"].sum() == pytest.approx(95.10 + 97.40 + 99.00)
    assert len(loaded.data) == 6
    totals = [r for r in loaded.report.repairs if r.action == "dropped_totals"]
    assert len(totals) == 1 and totals[0].lines == (10,)
    assert "total_gym_search.csv line(s) 10" in totals[0].detail
    assert "'Total...:'" in totals[0].detail


def test_total_label_with_a_campaign_is_data_not_a_totals_row(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "Campaign,Day,Cost,Impr.,Clicks,Conversions,Conv. value\n"
        "Total: Gym,2025-01-01,10,100,5,1,20\n"
        "Total: Account,--,10,100,5,1,20\n"
    )
    imported = import_file(path)
    assert imported.data["campaign_id"].tolist() == ["Total: Gym"]
    assert [r.lines for r in imported.repairs if r.action == "dropped_totals"] == [(3,)]


def test_semicolon_export_is_read_without_declaring_the_separator(test_data, repo_root):
    mapping = repo_root / "params" / "sources" / "ab_test_bidding.yaml"
    assert "separator" not in (mapping.read_text().split("# Searches")[0].split("renames")[1])
    loaded = load(test_data / IMPORTS / "ab_bidding_semicolon.csv", mapping=mapping)
    assert len(loaded.data) == 15 and loaded.data["spend"].iloc[0] == 2000
    assert loaded.data["date"].iloc[-1] == pd.Timestamp("2019-08-16")
    skipped = next(r for r in loaded.report.repairs if r.action == "skipped_bad_rows")
    assert skipped.lines == (6,) and "ab_bidding_semicolon.csv" in skipped.detail
    assert "line 6: empty impressions" in skipped.detail


def test_missing_mapped_columns_list_the_columns_found_and_the_separator(test_data, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        'separator: ","\nrenames: {Campaign Name: campaign_id, "Spend [USD]": spend}\n'
    )
    with pytest.raises(DataError) as err:
        _import(test_data, "ab_bidding_semicolon.csv", mapping=mapping)
    text = str(err.value)
    assert "columns found: ['Campaign Name;Date;Spend [USD];" in text
    assert "set separator: ';'" in text


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-le", b""), ("cp1252", b"")],
)
def test_encodings_are_detected(tmp_path, encoding, bom):
    text = "date;campaign_id;spend;impressions;clicks;conversions;revenue\r\n" + "".join(
        f"2025-01-{d:02d};Café €uro;12,5;100;10;1;20\r\n" for d in range(1, 4)
    )
    path = tmp_path / "x.csv"
    path.write_bytes(bom + text.encode(encoding))
    imported = import_file(path)
    assert imported.data["campaign_id"].tolist() == ["Café €uro"] * 3
    assert imported.data["spend"].tolist() == ["12.5"] * 3


@pytest.mark.shared_data
def test_real_ab_test_control_group_through_its_mapping(shared_data, repo_root):
    path = shared_data / "ab_test_bidding_daily" / "control_group.csv"
    mapping = repo_root / "params" / "sources" / "ab_test_bidding.yaml"
    loaded = load(path, mapping=mapping)
    data = loaded.data
    assert data["campaign_id"].unique().tolist() == ["Control Campaign"]
    assert len(data) == 29 and pd.Timestamp("2019-08-05") not in set(data["date"])
    assert data["date"].min() == pd.Timestamp("2019-08-01")
    assert data["date"].max() == pd.Timestamp("2019-08-30")
    first = data.iloc[0]
    assert (first["spend"], first["impressions"], first["clicks"], first["conversions"]) == (
        2280,
        82702,
        7016,
        618,
    )
    skipped = next(r for r in loaded.report.repairs if r.action == "skipped_bad_rows")
    assert skipped.lines == (6,) and "control_group.csv" in skipped.detail
    with pytest.raises(DataError, match=r"rows? 6, column 'impressions'"):
        load(path, mapping=mapping, on_bad_rows="error")


def _european(value: float) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.floats(min_value=0, max_value=5e6, allow_nan=False).map(lambda v: round(v, 2)),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["european", "us"]),
)
def test_formatted_numbers_read_back_exactly(tmp_path_factory, values, style):
    """Numbers written with grouping and two decimals, either convention, read back."""
    path = tmp_path_factory.mktemp("fmt") / "x.csv"
    head = "date;campaign_id;spend;impressions;clicks;conversions;revenue"
    if style == "european":
        rows = [f"2025-01-{i + 1:02d};A;{_european(v)};10;1;0;0" for i, v in enumerate(values)]
        text = "\n".join([head, *rows])
    else:
        rows = [f'2025-01-{i + 1:02d},A,"{v:,.2f}",10,1,0,0' for i, v in enumerate(values)]
        text = "\n".join([head.replace(";", ","), *rows])
    path.write_text(text + "\n")
    spend = pd.to_numeric(import_file(path).data["spend"])
    assert spend.tolist() == pytest.approx(values)


def test_a_misgrouped_number_is_an_error_not_a_silent_number(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "date;campaign_id;spend;impressions;clicks;conversions;revenue\n"
        "2025-01-01;A;498,60;1.234.5;10;1;0\n"
    )
    with pytest.raises(DataError, match=r"row 2, column 'impressions': '1\.234\.5' is not a"):
        import_file(path)


def test_mapping_number_format_fields_are_checked(tmp_path):
    with pytest.raises(ValueError, match="thousands and decimal cannot both be ','"):
        ColumnMapping(decimal=",", thousands=",")
    with pytest.raises(ValueError, match="a separator is one character"):
        ColumnMapping(separator=";;")
    bad = tmp_path / "m.yaml"
    bad.write_text("on_bad_rows: drop\n")
    with pytest.raises(ParamsError, match=r"field 'on_bad_rows'.*'error' or 'skip'"):
        load_mapping(bad)


# --- regressions found by tests/test_fuzz_imports.py -------------------------------------

HEAD = "date,campaign_id,spend,impressions,clicks,conversions,revenue"


def test_a_bom_file_with_bytes_of_another_encoding_is_a_data_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode() + b"\n2025-01-01,Caf\xe9,1.00,10,1,0,0\n")
    with pytest.raises(DataError, match=r"x\.csv: starts with a UTF-8 byte-order mark but byte"):
        import_file(path)
    path.write_bytes(HEAD.encode("utf-16") + b"\x00")  # odd length: not UTF-16
    with pytest.raises(DataError, match=r"starts with a UTF-16 byte-order mark"):
        import_file(path)


def test_utf8_and_cp1252_rows_in_one_file_are_refused_not_garbled(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(
        (HEAD + "\n2025-01-01,Café,1.00,10,1,0,0\n").encode()
        + "2025-01-02,Crème,1.00,10,1,0,0\n".encode("cp1252")
    )
    with pytest.raises(
        DataError, match=r"row 3: mixes encodings: line 2 holds UTF-8 text \('é'\) but line 3"
    ):
        import_file(path)


def test_a_pure_cp1252_file_is_still_read(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes((HEAD + "\n2025-01-01,Crème €,1.00,10,1,0,0\n").encode("cp1252"))
    assert load(path).data["campaign_id"].tolist() == ["Crème €"]


def test_a_column_named_twice_in_the_header_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(HEAD + ",spend\n2025-01-01,A,1.00,10,1,0,0,999.00\n")
    with pytest.raises(DataError, match=r"names column 'spend' twice \(columns 3 and 8\)"):
        import_file(path)


def test_two_columns_renamed_to_one_are_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Day,Campaign,Cost,Impr.,Impressions,Clicks,Conversions,Conv. value\n")
    with pytest.raises(DataError, match=r"columns \['Impr\.', 'Impressions'\] would all become"):
        import_file(path)


def test_a_row_with_one_cell_more_than_the_header_is_refused_not_shifted(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(HEAD + "\n2025-01-01,A,1.00,10,1,0,0,7\n2025-01-02,A,1.00,10,1,0,0,7\n")
    with pytest.raises(DataError, match=r"x\.csv, row 2: 8 cells but the header has 7"):
        import_file(path)


@pytest.mark.parametrize("column", ["spend", "clicks", "budget"])
def test_a_percentage_outside_a_share_column_is_not_divided_by_100(tmp_path, column):
    path = tmp_path / "x.csv"
    cells = {"spend": "1.00", "clicks": "1", "budget": "5.00"}
    cells[column] = "12%"
    path.write_text(
        HEAD + ",budget\n"
        f"2025-01-01,A,{cells['spend']},10,{cells['clicks']},0,0,{cells['budget']}\n"
    )
    with pytest.raises(
        DataError, match=rf"column '{column}': 1 cell\(s\) are not numbers, e.g. '12%'"
    ):
        load(path, today=None)


def test_impression_share_percentages_are_still_shares(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(HEAD + ",impression_share\n2025-01-01,A,1.00,10,1,0,0,85.5%\n")
    assert load(path).data["impression_share"].tolist() == [pytest.approx(0.855)]


def test_parquet_binary_and_missing_cells_are_data_errors(tmp_path):
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-01-01", None]),
            "campaign_id": ["A", "A"],
            "spend": [1.0, 1.0],
            "impressions": [10, 10],
            "clicks": [1, 1],
            "conversions": [0, 0],
            "revenue": [0.0, 0.0],
        }
    )
    frame.to_parquet(tmp_path / "nat.parquet")
    with pytest.raises(DataError, match=r"row 2, column 'date': 1 value\(s\) are not dates"):
        load(tmp_path / "nat.parquet", today=None)
    frame["date"] = ["2025-01-01", "2025-01-02"]
    frame["campaign_id"] = [b"A", b"\xe9\xff"]
    frame.to_parquet(tmp_path / "bin.parquet")
    with pytest.raises(DataError, match=r"row 2, column 'campaign_id': binary value .* not UTF-8"):
        load(tmp_path / "bin.parquet", today=None)


def test_mapping_yaml_errors_are_one_line(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("renames: {a: b\nsource: x\n")
    with pytest.raises(ParamsError, match=r"m\.yaml: not valid YAML: .*\(line \d+, column \d+\)$"):
        load_mapping(path)
    path.write_bytes(b"renames: {a: \xff}\n")
    with pytest.raises(ParamsError, match=r"m\.yaml: not UTF-8 text \(byte 13\)"):
        load_mapping(path)
