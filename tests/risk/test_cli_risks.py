from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from simkit.cli import app
from simkit.data.synthetic import SyntheticData


def test_risks_json_with_as_of_and_campaign(world: SyntheticData, tmp_path: Path) -> None:
    data_path, _ = world.write(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "risks",
            str(data_path),
            "--as-of",
            "2026-04-27",
            "--campaign",
            "C004",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2026-04-27"
    assert [a["type"] for a in payload["alerts"]] == ["budget_pacing"]
    assert payload["alerts"][0]["campaign_id"] == "C004"


def test_risks_table_and_bad_date(world: SyntheticData, tmp_path: Path) -> None:
    data_path, _ = world.write(tmp_path)
    ok = CliRunner().invoke(app, ["risks", str(data_path), "--as-of", "2026-04-27"])
    assert ok.exit_code == 0 and "Risks as of 2026-04-27" in ok.stdout
    bad = CliRunner().invoke(app, ["risks", str(data_path), "--as-of", "27/04/2026"])
    assert bad.exit_code == 1
    assert "not a date" in bad.output
