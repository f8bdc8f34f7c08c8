from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from simkit.cli import app

from ._coverage import assert_coverage_is_a_backtest_proportion, assert_coverage_near_nominal


@pytest.fixture(scope="module")
def data_file(world, tmp_path_factory):
    """The generated campaigns as a plain CSV, no metadata beside it: the backtest reads
    none, and this is the file most users bring (issue 23)."""
    path = tmp_path_factory.mktemp("bt") / "ads.csv"
    world.data.assign(date=world.data["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return path


def test_backtest_json_for_one_campaign(data_file, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            str(data_file),
            "--campaign",
            "C001",
            "--horizon",
            "7",
            "--members",
            "seasonal_naive,sarimax",
            "--format",
            "json",
            "--cache-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["campaign_id"] == "C001" and out["horizon"] == 7
    assert set(out["members"]) == {"seasonal_naive", "sarimax"}
    # coverage_80 is the share of the backtest's points inside the 80% interval: a proportion
    # of n_points (cutoffs x horizon), nested between the 50% and 95% coverages, and on this
    # stationary generated campaign within the binomial 99.9% range around 0.8
    for scores in [*out["members"].values(), out["ensemble"]]:
        assert_coverage_is_a_backtest_proportion(scores, len(out["cutoffs"]) * 7)
    assert_coverage_near_nominal(out["ensemble"])


def test_backtest_all_gives_a_list_and_the_table_reports_the_cache(data_file, tmp_path):
    args = [
        "backtest",
        str(data_file),
        "--all",
        "--horizon",
        "7",
        "--members",
        "seasonal_naive",
        "--cache-dir",
        str(tmp_path),
    ]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["campaign_id"] for r in json.loads(result.stdout)] == ["C001", "C002"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0 and "2 hit(s)" in table.stdout


def test_backtest_errors_are_one_line_and_exit_1(data_file):
    result = CliRunner().invoke(app, ["backtest", str(data_file), "--campaign", "C009"])
    assert result.exit_code == 1
    assert "campaign 'C009'" in result.output and "Traceback" not in result.output
    both = CliRunner().invoke(app, ["backtest", str(data_file), "--campaign", "C001", "--all"])
    assert both.exit_code == 1
