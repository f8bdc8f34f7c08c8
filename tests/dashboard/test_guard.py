"""The dashboard's abuse limits and what it records (audit log by token identity, metrics)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from simkit import audit, metrics
from simkit.dashboard import guard
from simkit.dashboard.app import DashboardApp


def test_concurrent_simulations_are_limited_per_kernel() -> None:
    slots = guard.SimulationSlots(limit=1)
    with slots.hold():
        with pytest.raises(guard.LimitReached, match="1 simulations are already running"):
            with slots.hold():
                pass
    with slots.hold():  # released: free again
        pass


def test_runs_per_hour_from_the_form_are_limited(tmp_path: Path) -> None:
    t0 = 1_800_000_000.0
    assert [guard.claim_run_slot(tmp_path, limit=2, now=t0 + i) for i in range(2)] == [1, 2]
    with pytest.raises(guard.LimitReached, match="at most 2 runs an hour .* next one can start"):
        guard.claim_run_slot(tmp_path, limit=2, now=t0 + 10)
    assert guard.claim_run_slot(tmp_path, limit=2, now=t0 + 3600.5) == 2  # the first left


def test_a_preview_beyond_the_limit_shows_a_message(model, tmp_path: Path) -> None:
    app = DashboardApp(model, cards_in_background=False, workdir=tmp_path)
    app.start()
    app.slots = guard.SimulationSlots(limit=1)
    started, release = threading.Event(), threading.Event()

    def busy() -> None:
        with app.slots.hold():
            started.set()
            release.wait(10)

    worker = threading.Thread(target=busy)
    worker.start()
    started.wait(10)
    try:
        app._guard("The preview", app._on_preview)()
    finally:
        release.set()
        worker.join()
    assert "simulations are already running in this page" in app.status.value


def test_previews_are_audited_by_token_identity_and_counted(
    model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit.ENV_VAR, raising=False)
    monkeypatch.delenv("SIMKIT_REGISTRY_URL", raising=False)
    monkeypatch.setenv(guard.TOKEN_ID_VAR, audit.token_id("SENTINEL-token-0123456789"))
    before = metrics.DASHBOARD_PREVIEWS._value.get()
    app = DashboardApp(model, cards_in_background=False, workdir=tmp_path)
    app.start()
    app._on_preview()
    log = tmp_path / ".simkit-cache" / "audit.jsonl"
    (entry,) = audit.entries(log)
    assert entry["event"] == "dashboard.preview"
    assert entry["token_id"] == audit.token_id("SENTINEL-token-0123456789")
    assert entry["campaign_id"] == app.campaign.value
    assert "SENTINEL" not in log.read_text()
    assert metrics.DASHBOARD_PREVIEWS._value.get() == before + 1
