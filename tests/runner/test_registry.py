from __future__ import annotations

from pathlib import Path

import pytest

from simkit.errors import SimkitError
from simkit.registry import Registry, registry_url
from simkit.runner.execute import CampaignOutcome


@pytest.fixture()
def reg(tmp_path: Path) -> Registry:
    return Registry(f"sqlite:///{tmp_path / 'sub' / 'registry.sqlite'}")


def test_run_lifecycle(reg: Registry) -> None:
    reg.create_run(
        "r1",
        params={"data": "d.csv", "seed": 7},
        params_hash="h" * 64,
        output_dir="out",
        campaigns=["A", "B"],
        data_hash="d" * 64,
    )
    assert reg.get_run("r1")["status"] == "queued"
    reg.start_run("r1")
    reg.campaign_running("r1", "A")
    reg.campaign_done(
        "r1",
        CampaignOutcome("A", "succeeded", 1, 10.0, 12.5, report_path="out/A/report.html"),
        "out/A/s.json",
    )
    reg.campaign_done(
        "r1", CampaignOutcome("B", "failed", 2, 10.0, 11.0, error="boom", kind="error")
    )
    reg.finish_run("r1", status="failed", index_path="out/index.html", error="B: boom")
    run = reg.get_run("r1")
    assert run["status"] == "failed" and run["params"] == {"data": "d.csv", "seed": 7}
    a, b = run["campaigns"]
    assert (a["campaign_id"], a["status"], a["duration_seconds"]) == ("A", "succeeded", 2.5)
    assert (b["status"], b["attempts"], b["error"]) == ("failed", 2, "boom")
    assert reg.list_runs()[0]["campaigns"] == {"failed": 1, "succeeded": 1}


def test_prefix_lookup_and_delete(reg: Registry) -> None:
    for rid in ("20260101-a", "20260101-b"):
        reg.create_run(rid, params={}, params_hash="h", output_dir="o", campaigns=["A"])
    with pytest.raises(SimkitError, match="matches 2 runs"):
        reg.get_run("2026")
    assert reg.delete_run("20260101-a") == "20260101-a"
    assert [r["run_id"] for r in reg.list_runs()] == ["20260101-b"]
    with pytest.raises(SimkitError, match="no run"):
        reg.get_run("20260101-a")


def test_url_from_environment_and_password_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SIMKIT_REGISTRY_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    assert registry_url() == f"sqlite:///{tmp_path / 'env.sqlite'}"
    assert Registry().display_url.endswith("env.sqlite")
    reg = Registry.__new__(Registry)
    reg.url = "postgresql://user:hunter2@db.example/simkit"
    assert "hunter2" not in reg.display_url


def test_a_campaign_is_running_from_its_worker_start_until_done(reg: Registry) -> None:
    reg.create_run("r2", params={}, params_hash="h", output_dir="o", campaigns=["A", "B"])
    reg.start_run("r2")
    reg.campaign_running("r2", "A", started_at=1_800_000_000.0)
    a, b = reg.get_run("r2")["campaigns"]
    assert (a["status"], a["started_at"]) == ("running", "2027-01-15T08:00:00+00:00")
    assert (b["status"], b["started_at"]) == ("queued", None), "not started: still queued"
    reg.campaign_done("r2", CampaignOutcome("A", "succeeded", 1, 1_800_000_000.0, 1_800_000_005.0))
    reg.campaign_running("r2", "A", started_at=1_800_000_001.0)  # a late notice
    a, _ = reg.get_run("r2")["campaigns"]
    assert (a["status"], a["started_at"]) == ("succeeded", "2027-01-15T08:00:00+00:00")
