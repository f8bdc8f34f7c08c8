"""Campaigns view, runs view and the new-run form, over a real (SQLite) registry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from simkit.dashboard.views import (
    RunViews,
    campaign_history,
    campaign_rows,
    form_params,
    retry_params,
    run_rows,
    start_run,
    write_params,
)
from simkit.errors import ParamsError, SimkitError
from simkit.params import load_params
from simkit.registry import Registry
from simkit.runner.execute import CampaignOutcome


def _outcome(cid: str, status: str, seconds: float = 12.0, error: str | None = None):
    now = time.time()
    return CampaignOutcome(cid, status, 1, now - seconds, now, error=error)


@pytest.fixture()
def registry(tmp_path, fixture_data):
    reg = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    params = {
        "data": str(fixture_data),
        "campaigns": ["C001", "C002"],
        "horizon_days": 30,
        "output_dir": str(tmp_path / "reports"),
    }
    reg.create_run(
        "R1-done",
        params=params,
        params_hash="h",
        output_dir=str(tmp_path),
        campaigns=["C001", "C002"],
    )
    reg.start_run("R1-done")
    reg.campaign_done("R1-done", _outcome("C001", "succeeded"))
    reg.campaign_done("R1-done", _outcome("C002", "failed", error="KernelDied: out of memory"))
    reg.finish_run("R1-done", status="failed", error="1 of 2 campaigns failed")
    time.sleep(0.01)
    reg.create_run(
        "R2-running",
        params=params,
        params_hash="h",
        output_dir=str(tmp_path),
        campaigns=["C001", "C002", "C003"],
    )
    reg.start_run("R2-running")
    reg.campaign_done("R2-running", _outcome("C001", "succeeded"))
    return reg


def test_runs_view_has_progress_eta_and_errors(registry):
    rows = {r.run_id: r for r in run_rows(registry)}
    running, failed = rows["R2-running"], rows["R1-done"]
    assert running.status == "running" and running.done == 1 and running.n_campaigns == 3
    assert running.progress == pytest.approx(1 / 3)
    assert running.eta_seconds is not None and running.eta_seconds >= 0
    later = run_rows(registry, now=datetime.now(UTC) + timedelta(seconds=100))
    eta_later = {r.run_id: r for r in later}["R2-running"].eta_seconds
    assert eta_later > running.eta_seconds  # 2 left at the pace of one per elapsed time
    assert failed.failed == ("C002",) and "out of memory" in failed.errors["C002"]
    assert failed.eta_seconds is None and failed.error == "1 of 2 campaigns failed"


def test_campaigns_view_latest_run_risk_and_history(model, registry):
    risks = SimpleNamespace(
        alerts=(
            SimpleNamespace(
                campaign_id="C001",
                type="audience_fatigue",
                probability=0.9,
                severity="high",
                message="CTR fell",
            ),
            SimpleNamespace(
                campaign_id="C001",
                type="budget_pacing",
                probability=0.6,
                severity="low",
                message="x",
            ),
        )
    )
    rows = {r.campaign_id: r for r in campaign_rows(model, registry, risks)}
    assert set(rows) == {"C001", "C002", "C003"}
    assert rows["C001"].latest_run["run_id"] == "R2-running"  # newest first
    assert rows["C001"].risk["type"] == "audience_fatigue"
    assert rows["C003"].risk is None and rows["C003"].latest_run["status"] == "queued"
    history = campaign_history(registry, "C002")
    assert [h["run_id"] for h in history] == ["R2-running", "R1-done"]
    assert history[1]["status"] == "failed"


def test_retry_keeps_the_run_parameters_for_failed_campaigns_only(registry, tmp_path):
    params = retry_params(registry.get_run("R1-done"))
    assert params.campaigns == ["C002"] and params.horizon_days == 30
    with pytest.raises(SimkitError, match="no failed campaign"):
        retry_params(registry.get_run("R2-running"))


def test_form_is_validated_by_run_params_and_written_as_yaml(tmp_path, fixture_data):
    values = {
        "campaigns": ["C001", "C003"],
        "horizon_days": 21,
        "members": ["seasonal_naive"],
        "plan": "",
        "target_cpa": 0.0,
        "target_roas": 3.5,
        "n_paths": 500,
        "seed": 11,
        "output_dir": "reports/dash",
    }
    params = form_params(
        values,
        data=str(fixture_data),
        mapping=None,
        available=["C001", "C002", "C003"],
        workdir=tmp_path,
    )
    assert params.target_cpa is None and params.target_roas == 3.5
    assert Path(params.output_dir) == tmp_path / "reports" / "dash"
    path = write_params(params, tmp_path)
    assert path.parent == tmp_path / "params" / "dashboard"
    assert load_params(path) == params  # the same model reads it back
    assert yaml.safe_load(path.read_text())["campaigns"] == ["C001", "C003"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"campaigns": []}, "campaigns"),
        ({"campaigns": ["C009"]}, "campaigns"),
        ({"horizon_days": 120}, "horizon_days"),
        ({"n_paths": 10**6}, "n_paths"),
        ({"members": []}, "members"),
        ({"output_dir": "../../etc"}, "output_dir"),
        ({"plan": "/etc/passwd"}, "plan"),
        ({"plan": "missing.csv"}, "plan"),
        ({"seed": -1}, "seed"),
    ],
)
def test_form_refuses_bad_values_with_the_field(tmp_path, fixture_data, change, field):
    values = {
        "campaigns": ["C001"],
        "horizon_days": 30,
        "members": ["ets"],
        "n_paths": 500,
        "seed": 1,
        "output_dir": "reports",
        **change,
    }
    with pytest.raises(ParamsError, match=f"field '{field}'") as info:
        form_params(
            values,
            data=str(fixture_data),
            mapping=None,
            available=["C001", "C002", "C003"],
            workdir=tmp_path,
        )
    assert info.value.field == field or field in str(info.value)


def test_start_run_does_not_block(tmp_path, fixture_data, monkeypatch):
    """The run starts in the background; a missing params file makes it fail on its own."""
    monkeypatch.setenv("SIMKIT_REGISTRY_URL", f"sqlite:///{tmp_path / 'r.sqlite'}")
    t0 = time.perf_counter()
    process = start_run(tmp_path / "nope.yaml", tmp_path)
    assert time.perf_counter() - t0 < 2.0
    assert process.wait(timeout=120) == 1
    log = (tmp_path / ".simkit-cache" / "dashboard-runs" / "nope.log").read_text()
    assert "parameter file not found" in log


def test_views_widgets_render_and_refuse_bad_form_input(model, registry, tmp_path, monkeypatch):
    views = RunViews(model, workdir=tmp_path)
    views.registry = registry
    monkeypatch.setattr(
        "simkit.risk.detect_risks", lambda data, meta=None, **options: SimpleNamespace(alerts=())
    )
    views.show_campaigns()
    assert len(views.campaign_grid.children) == 1 + 3
    views.show_history("C002")
    assert "R1-done" in views.history.value
    views.show_runs()
    assert len(views.runs_box.children) == 2
    views.f_campaigns.value = ()
    views._guard("Starting the run", views.submit)()
    assert "simkit-error" in views.f_message.value and "campaign" in views.f_message.value
