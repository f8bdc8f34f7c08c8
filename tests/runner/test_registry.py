from __future__ import annotations

from pathlib import Path

import pytest

from simkit.errors import SimkitError
from simkit.registry import Registry, registry_url
from simkit.runner.execute import CampaignOutcome


@pytest.fixture()
def reg(db_url: str):
    """A new registry, on SQLite and on Postgres (``db_url`` of tests/conftest.py)."""
    registry = Registry(db_url)
    yield registry
    registry.close()


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


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_run_whose_process_is_gone_is_marked_interrupted(reg: Registry) -> None:
    from sqlalchemy import update

    from simkit.registry import runs

    reg.create_run("dead", params={}, params_hash="h", output_dir="o", campaigns=["A", "B"])
    reg.start_run("dead")
    reg.campaign_done("dead", CampaignOutcome("A", "succeeded", 1, 1.0, 2.0))
    reg.campaign_running("dead", "B")
    reg.create_run("alive", params={}, params_hash="h", output_dir="o2", campaigns=["A"])
    reg.start_run("alive")
    with reg._engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.run_id == "dead").values(pid=_dead_pid()))
    assert reg.recover_dead_runs() == ["dead"]
    run = reg.get_run("dead")
    assert run["status"] == "interrupted"
    assert [(c["campaign_id"], c["status"]) for c in run["campaigns"]] == [
        ("A", "succeeded"),
        ("B", "interrupted"),
    ]
    assert reg.get_run("alive")["status"] == "running", "this process is alive"


def test_a_queued_run_waiting_for_the_lock_is_not_taken_for_dead(reg: Registry) -> None:
    reg.create_run("waiting", params={}, params_hash="h", output_dir="o", campaigns=["A"])
    reg.create_run("holder", params={}, params_hash="h", output_dir="o", campaigns=["A"])
    reg.start_run("holder")
    assert reg.recover_dead_runs(output_dir="o", exclude="new") == ["holder"]
    assert reg.get_run("waiting")["status"] == "queued"


def test_an_old_database_gets_the_new_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE runs (run_id VARCHAR(64) PRIMARY KEY, status VARCHAR(16) NOT NULL,
          created_at DATETIME NOT NULL, started_at DATETIME, finished_at DATETIME,
          params_file TEXT, params TEXT NOT NULL, params_hash VARCHAR(64) NOT NULL,
          data_hash VARCHAR(64), output_dir TEXT NOT NULL, index_path TEXT,
          n_campaigns INTEGER NOT NULL, error TEXT);
        CREATE TABLE campaign_runs (id INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id VARCHAR(64) NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
          campaign_id VARCHAR(128) NOT NULL, rank INTEGER NOT NULL, status VARCHAR(16) NOT NULL,
          attempts INTEGER NOT NULL, started_at DATETIME, finished_at DATETIME,
          duration_seconds FLOAT, report_path TEXT, summary_path TEXT, error TEXT);
        INSERT INTO runs VALUES ('old', 'succeeded', '2026-01-01 00:00:00', NULL, NULL, NULL,
          '{}', 'h', NULL, 'o', NULL, 1, NULL);
        INSERT INTO campaign_runs (run_id, campaign_id, rank, status, attempts)
          VALUES ('old', 'A', 0, 'succeeded', 1);
        """
    )
    con.close()
    reg = Registry(f"sqlite:///{path}")
    old = reg.get_run("old")
    assert old["status"] == "succeeded" and old["pid"] is None
    assert old["campaigns"][0]["campaign_state"] is None
    reg.create_run("new", params={}, params_hash="h", output_dir="o", campaigns=["S"])
    stopped = CampaignOutcome(
        "S",
        "succeeded",
        1,
        1.0,
        2.0,
        summary={"campaign_state": "stopped", "campaign_last_date": "2019-04-30"},
    )
    reg.campaign_done("new", stopped)
    [s] = reg.get_run("new")["campaigns"]
    assert (s["status"], s["campaign_state"], s["last_date"]) == (
        "succeeded",
        "stopped",
        "2019-04-30",
    )


def test_a_failed_campaign_keeps_its_full_error_in_the_registry(reg: Registry) -> None:
    reg.create_run("r3", params={}, params_hash="h", output_dir="o", campaigns=["A"])
    outcome = CampaignOutcome(
        "A", "failed", 1, 1.0, 2.0, error="ValueError: x (code cell 3)", detail="Traceback\n..."
    )
    reg.campaign_done("r3", outcome)
    [a] = reg.get_run("r3")["campaigns"]
    assert (a["error"], a["error_detail"]) == ("ValueError: x (code cell 3)", "Traceback\n...")
    assert "detail" not in outcome.to_dict(), "the full error never reaches run.json"


def test_a_reused_pid_does_not_keep_a_dead_run_alive(reg: Registry) -> None:
    import os
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from simkit.registry import _pid_alive, runs

    me = os.getpid()
    assert _pid_alive(me, datetime.now(UTC)), "this process, started before now"
    assert not _pid_alive(me, datetime.now(UTC) - timedelta(days=3650)), "started after"
    reg.create_run("old", params={}, params_hash="h", output_dir="o", campaigns=["A"])
    reg.start_run("old")
    long_ago = datetime.now(UTC) - timedelta(days=3650)
    with reg._engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.run_id == "old").values(created_at=long_ago))
    assert reg.recover_dead_runs() == ["old"], "its pid now belongs to a younger process"
