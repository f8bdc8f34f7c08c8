"""The dashboard records the baselines it shows; its ledger tab shows health and takes
feedback."""

from __future__ import annotations

import pytest

from simkit.dashboard.app import DashboardApp
from simkit.dashboard.ledger import LedgerView
from simkit.ledger import Ledger


@pytest.mark.slow  # two baselines simulated and drawn (about 10 s)
def test_baselines_are_recorded_once_and_feedback_is_stored(model, tmp_path, monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv("SIMKIT_REGISTRY_URL", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "reader-1")
    view = LedgerView(model, workdir=tmp_path)
    app = DashboardApp(model, extra_tabs=[("Forecast ledger", view.tab)])
    view.attach(app)
    app.start()
    first = view.record(app.baseline_view)
    ledger = Ledger(f"sqlite:///{tmp_path / '.simkit-cache' / 'registry.sqlite'}")
    rows = ledger.list_forecasts(full=True)
    assert [r["forecast_id"] for r in rows] == [first]
    assert rows[0]["source"] == "dashboard" and rows[0]["campaign_id"] == app.campaign.value
    assert rows[0]["members"] == list(model.settings.members)
    assert rows[0]["horizon_days"] == app.baseline_view.horizon_days
    assert view.record(app.baseline_view) == first  # the same baseline: one record
    others = [c for c in app.campaign.options if c[1] != app.campaign.value]
    app.campaign.value = others[0][1]  # the app draws the new baseline, the view records it
    assert len(ledger.list_forecasts()) == 2
    view.show()
    assert "simkit-ledger" in view.table.value and "not scored yet" in view.table.value
    assert len(view.forecast.options) == 2
    view.forecast.value = first
    view.verdict.value = "not useful"
    view.note.value = "budget moved"
    row = view.send_feedback()
    assert row["target_id"] == first and row["useful"] is False
    assert row["given_by"] == "reader-1 (dashboard)" and row["note"] == "budget moved"
    assert [f["note"] for f in ledger.list_feedback()] == ["budget moved"]
    assert "feedback stored" in view.message.value
