"""`simkit run` end to end on data shaped like users' data: no metadata file, a campaign
that stopped before the file's last day, a channel with no benchmarks (issue 14)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.data.synthetic import generate
from simkit.paths import safe_name

pytestmark = pytest.mark.slow

runner = CliRunner()


def _run(params: dict, tmp_path: Path) -> tuple[int, str, Path]:
    os.environ.setdefault("TQDM_DISABLE", "1")
    out = tmp_path / "out"
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({**params, "output_dir": str(out)}))
    registry = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    result = runner.invoke(
        app, ["run", str(path), "--workers", "2", "--registry", registry, "--format", "json"]
    )
    return result.exit_code, result.output, out


def _summary(out: Path, campaign_id: str) -> dict:
    return json.loads((out / safe_name(campaign_id) / "summary.json").read_text())


@pytest.mark.shared_data
def test_the_real_file_with_its_mapping_and_no_metadata_publishes_every_report(
    shared_data: Path, test_data: Path, tmp_path: Path
) -> None:
    # on main: 0 of 3 published (ParamsError "has no industry in its metadata"; camp 2:
    # "no data for campaign 'camp 2' (did you mean 'camp 3'?)")
    spec = test_data / "runs" / "online_ad_performance.yaml"
    params = yaml.safe_load(spec.read_text())
    params["data"] = str(shared_data / params["data"])
    params["mapping"] = str((spec.parent / params["mapping"]).resolve())
    data = Path(params["data"])
    assert not list(data.parent.glob(f"{data.stem}_meta.*")), "the run must have no metadata"
    code, output, out = _run(params, tmp_path)
    assert code == 0, output
    for cid in ("camp 1", "camp 2", "camp 3"):
        assert (out / safe_name(cid) / "report.html").is_file(), cid
    stopped = _summary(out, "camp 2")
    assert (stopped["campaign_state"], stopped["campaign_last_date"]) == ("stopped", "2020-04-30")
    assert stopped["sections"]["forecast"] == "skipped"
    assert stopped["sections"]["history"] == stopped["sections"]["data_quality"] == "ok"
    manifest = {
        c["campaign_id"]: c for c in json.loads((out / "run.json").read_text())["campaigns"]
    }
    assert (manifest["camp 2"]["status"], manifest["camp 2"]["campaign_state"]) == (
        "succeeded",
        "stopped",
    )
    assert manifest["camp 2"]["last_date"] == "2020-04-30"
    assert "stopped (last day 2020-04-30)" in (out / "index.html").read_text()
    html = (out / safe_name("camp 2") / "report.html").read_text()
    assert "This campaign has stopped: its last day with spend is 2020-04-30" in html
    # validation warnings name the data file, not the machine's path to it
    assert "online_advertising_performance_data.csv, rows 176, 4684" in html
    assert "shared/data/online_ad_performance" not in html
    for cid in ("camp 1", "camp 3"):
        active = _summary(out, cid)
        assert (active["campaign_state"], active["campaign_last_date"]) == ("active", "2020-06-30")
        assert set(active["sections"].values()) == {"ok"}, active["sections"]
        assert active["numbers"]["market"]["industry"] == "All industries"


def test_a_generated_file_with_a_video_campaign_and_no_metadata_reports_every_campaign(
    tmp_path: Path,
) -> None:
    # on main: every campaign failed with "has no industry in its metadata"
    world = generate(
        4,
        70,
        rng=np.random.default_rng(14),
        events=None,
        channels=["search", "social", "display", "search"],
    )
    data = world.data.copy()
    data.loc[data["campaign_id"] == "C004", "channel"] = "video"  # the generator makes none
    data["date"] = data["date"].dt.strftime("%Y-%m-%d")
    path = tmp_path / "campaigns.csv"  # and no campaigns_meta.yaml beside it
    data.to_csv(path, index=False)
    params = {"data": str(path), "members": ["seasonal_naive", "ets"], "backtest_cutoffs": 1}
    code, output, out = _run({**params, "n_paths": 300, "retries": 0}, tmp_path)
    assert code == 0, output
    channels = {}
    for cid in ("C001", "C002", "C003", "C004"):
        summary = _summary(out, cid)
        assert (out / safe_name(cid) / "report.html").is_file(), cid
        assert summary["campaign_state"] == "active"
        channels[cid] = summary["numbers"]["market"]
    assert [channels[c]["compared"] for c in ("C001", "C002", "C003")] == [True] * 3
    assert channels["C004"]["compared"] is False and channels["C004"]["channel"] == "video"
    assert "'video' has no published benchmarks" in channels["C004"]["reason"]
