"""``simkit simulate DATA --campaign all``: one JSON list, every campaign simulated as
``--campaign ID`` would be, their fits going through one shared forecast cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import simkit.forecast.api as forecast_api
from simkit.cli import app


@pytest.mark.slow
def test_campaign_all_is_a_list_equal_to_single_runs(
    test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the forecast cache goes to ./.simkit-cache
    # two cheap members: the numbers are real, only the cost is small
    monkeypatch.setattr(forecast_api, "DEFAULT_MEMBERS", ("seasonal_naive", "ets"))
    data = str(test_data / "report" / "campaigns.csv")
    args = ["simulate", data, "--horizon", "7", "--paths", "500", "--seed", "3"]
    runner = CliRunner()
    every = runner.invoke(app, [*args, "--campaign", "all", "--format", "json"])
    assert every.exit_code == 0, every.output
    listed = json.loads(every.stdout)
    assert [r["campaign_id"] for r in listed] == ["C001", "C002", "C003"]
    one = runner.invoke(app, [*args, "--campaign", "C002", "--format", "json"])
    assert one.exit_code == 0, one.output
    assert listed[1] == json.loads(one.stdout)
    # the fits are shared: a second `all` finds every campaign's forecast in the cache
    table = runner.invoke(app, [*args, "--campaign", "all"])
    assert table.exit_code == 0, table.output
    assert "3 hit(s), 0 miss(es)" in table.stdout


def test_campaign_all_lists_a_campaign_that_cannot_be_simulated(
    test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(forecast_api, "DEFAULT_MEMBERS", ("seasonal_naive",))
    frame = (test_data / "report" / "campaigns.csv").read_text().splitlines()
    header, rows = frame[0], frame[1:]
    # C003 with 10 days only: too short to forecast, an entry with its error
    short = [r for r in rows if ",C003," not in f",{r}," or r.split(",")[0] >= "2026-01-31"]
    path = tmp_path / "short.csv"
    path.write_text("\n".join([header, *short]) + "\n")
    result = CliRunner().invoke(
        app,
        ["simulate", str(path), "--campaign", "all", "--horizon", "5", "--paths", "200"]
        + ["--format", "json"],
    )
    assert result.exit_code == 1
    listed = json.loads(result.stdout)
    assert [r["campaign_id"] for r in listed] == ["C001", "C002", "C003"]
    assert set(listed[2]) == {"campaign_id", "error"}
    assert "totals" in listed[0]
