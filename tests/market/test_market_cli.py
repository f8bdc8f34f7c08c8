from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.data.synthetic import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    world = generate(
        2, 40, rng=np.random.default_rng(5), events=None, channels=["search", "social"]
    )
    data_path, _ = world.write(tmp_path_factory.mktemp("world"))
    return data_path


def test_benchmarks_json(data_file):
    result = runner.invoke(
        app, ["benchmarks", str(data_file), "--industry", "travel", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    first = payload["campaigns"][0]
    assert first["campaign_id"] == "C001" and first["channel"] == "search"
    ctr = first["metrics"]["ctr"]
    assert {"value", "benchmark", "deviation_pct", "source", "year"} <= set(ctr)
    assert ctr["source"].startswith("http") and first["explanation"]
    assert payload["campaigns"][1]["channel"] == "social"


def test_benchmarks_table_platform_and_window(data_file):
    result = runner.invoke(
        app,
        [
            "benchmarks",
            str(data_file),
            "--industry",
            "Real Estate",
            "--platform",
            "display",
            "--last-days",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Real Estate (display)" in result.output


def test_benchmarks_unknown_industry_is_one_line_error(data_file):
    result = runner.invoke(app, ["benchmarks", str(data_file), "--industry", "Travle"])
    assert result.exit_code == 1
    assert "did you mean 'Travel'" in result.output
    assert "Traceback" not in result.output


def test_competitors_json_with_regression(test_data):
    result = runner.invoke(
        app,
        [
            "competitors",
            str(test_data / "auction_insights_weekly.csv"),
            "--data",
            str(test_data / "auction_campaign.csv"),
            "--campaign",
            "C001",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["competitors"][0]["domain"] == "newrival.com"
    assert payload["new_entrants"] == ["newrival.com"]
    assert payload["pressure_regression"]["named_competitor"] == "newrival.com"


def test_competitors_table_and_bad_file(test_data, tmp_path):
    result = runner.invoke(app, ["competitors", str(test_data / "auction_insights_weekly.csv")])
    assert result.exit_code == 0 and "newrival.com" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n", encoding="utf-8")
    result = runner.invoke(app, ["competitors", str(bad)])
    assert result.exit_code == 1 and "not an auction-insights export" in result.output


def test_benchmarks_with_a_video_campaign_exits_0_and_keeps_its_row(tmp_path):
    # on main: exit 1, "field 'platform': campaign 'C003': its channel 'video' is not ..."
    world = generate(
        3, 40, rng=np.random.default_rng(6), events=None, channels=["search", "social", "display"]
    )
    data = world.data.copy()
    data.loc[data["campaign_id"] == "C003", "channel"] = "video"
    path = tmp_path / "no_meta.csv"  # no metadata beside it
    data.to_csv(path, index=False)
    result = runner.invoke(app, ["benchmarks", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = {c["campaign_id"]: c for c in payload["campaigns"]}
    assert rows["C003"]["reason"].startswith("its channel 'video' has no published benchmarks")
    assert rows["C003"]["metrics"]["ctr"]["value"] > 0
    assert rows["C001"]["reason"] is None and rows["C001"]["metrics"]["ctr"]["benchmark"] > 0
    assert "--industry" in rows["C001"]["notes"][0] and "--metadata" in rows["C001"]["notes"][0]
    assert "warning: C003: its channel 'video'" in result.stderr


def test_benchmarks_reads_a_named_metadata_file(data_file, tmp_path):
    meta = tmp_path / "meta.yaml"
    meta.write_text("campaigns:\n- campaign_id: C001\n  industry: Real Estate\n")
    result = runner.invoke(
        app, ["benchmarks", str(data_file), "--metadata", str(meta), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["campaigns"][0]
    assert first["industry"] == "Real Estate" and first["industry_known"] is True
