"""`simkit run` end to end on a user-shaped export (issue 23, shape diversity): a
`;`-separated file with decimal commas and day-first dates, no metadata, a video and a
shopping campaign, a campaign without creative ids and one without a budget (family B)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.data import worlds
from simkit.paths import safe_name

pytestmark = pytest.mark.slow

CHANNELS = ["video", "shopping", "search", "social"]


def _export(path: Path) -> dict[str, float]:
    """Write the world as a European spreadsheet export; return each campaign's spend."""
    world = worlds.generate(
        4,
        100,
        rng=np.random.default_rng(23),
        channels=CHANNELS,
        without_creative=["B003"],
        without_budget=["B004"],
    )
    frame = world.data.copy()
    frame["date"] = frame["date"].dt.strftime("%d/%m/%Y")
    frame.to_csv(path, sep=";", decimal=",", index=False)
    last = world.data["date"].max()
    recent = world.data[world.data["date"] > last - np.timedelta64(28, "D")]
    return recent.groupby("campaign_id")["spend"].sum().to_dict()


def test_a_semicolon_export_without_metadata_publishes_every_campaign(tmp_path: Path) -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")
    data = tmp_path / "export.csv"
    spend = _export(data)
    assert "," in data.read_text().splitlines()[1], "the export uses decimal commas"
    out = tmp_path / "out"
    params = tmp_path / "run.yaml"
    params.write_text(yaml.safe_dump({"data": str(data), "output_dir": str(out), "n_paths": 1000}))
    registry = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    result = CliRunner().invoke(
        app, ["run", str(params), "--workers", "2", "--registry", registry, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    for cid, channel in zip(("B001", "B002", "B003", "B004"), CHANNELS, strict=True):
        folder = out / safe_name(cid)
        assert (folder / "report.html").is_file(), cid
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["campaign_state"] == "active", cid
        sections = summary["sections"]
        # video has no benchmarks: the market section says so, skipped
        market = "skipped" if channel == "video" else "ok"
        assert sections.pop("market") == market, (cid, summary["numbers"]["market"])
        assert set(sections.values()) == {"ok"}, (cid, sections)
        # decimal commas read as decimals: the report's spend is the file's, to the cent
        got = summary["numbers"]["history"]["last_28_days"]["spend"]
        assert got == pytest.approx(spend[cid], abs=0.01), cid
