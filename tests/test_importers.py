"""Importers: each source maps its export's columns and records what it repaired."""

from __future__ import annotations

import pandas as pd
import pytest

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
