from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from simkit.cli import app


@pytest.fixture(scope="module")
def data_file(tmp_path_factory, world):
    path, _ = world.write(tmp_path_factory.mktemp("pivots"))
    return path


@pytest.mark.slow
def test_pivots_json(data_file):
    out = CliRunner().invoke(
        app,
        [
            "pivots",
            str(data_file),
            "--horizon",
            "14",
            "--max-change",
            "0.3",
            "--paths",
            "200",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert {"allocation", "status_quo", "expected", "recommendations"} <= set(d)
    assert sum(d["allocation"].values()) <= d["total_budget"]
    for k, v in d["allocation"].items():
        assert abs(v / d["status_quo"][k] - 1) <= 0.3 + 1e-9
    assert d["expected"]["conversions"]["p10"] <= d["expected"]["conversions"]["p90"]


def test_pivots_table_and_options(data_file):
    out = CliRunner().invoke(
        app,
        [
            "pivots",
            str(data_file),
            "--horizon",
            "7",
            "--objective",
            "revenue",
            "--total-budget",
            "3000",
            "--paths",
            "100",
            "--pivot",
            "budget_reallocation",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "objective revenue" in out.stdout and "3,000.00/day" in out.stdout
    assert "Budget allocation" in out.stdout


def test_pivots_errors_are_one_line(data_file):
    runner = CliRunner()
    bad_date = runner.invoke(
        app, ["pivots", str(data_file), "--horizon", "7", "--as-of", "yesterday"]
    )
    assert bad_date.exit_code == 1
    assert "not a date" in bad_date.output and "Traceback" not in bad_date.output
    too_small = runner.invoke(
        app, ["pivots", str(data_file), "--horizon", "7", "--total-budget", "1"]
    )
    assert too_small.exit_code == 1 and "total budget" in too_small.output
    missing = runner.invoke(app, ["pivots", str(data_file)])
    assert missing.exit_code != 0
