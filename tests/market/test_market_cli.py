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
