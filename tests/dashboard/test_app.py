"""The widgets, driven without a browser: callbacks, untrusted input, short errors."""

from __future__ import annotations

import pytest

from simkit.dashboard.app import DashboardApp, open_dashboard, short_error
from simkit.errors import DataError


@pytest.fixture()
def app(model, monkeypatch):
    monkeypatch.setattr(model, "recommendations", lambda campaign_id: [])  # tested below
    app = DashboardApp(model, cards_in_background=False)
    app.start()
    return app


def test_start_draws_the_baseline_chart_and_scenarios(app):
    assert "simkit-error" not in app.status.value
    assert len(app.chart.outputs) == 1
    assert "image/svg+xml" in app.chart.outputs[0]["data"]
    assert "pessimistic" in app.scenarios.value and "optimistic" in app.scenarios.value
    assert "add up to 100%" in app.scenarios.value
    shown = [f"{r['probability']:.0%}" for r in app.baseline_view.scenario_rows()]
    assert all(f"<td>{p}</td>" in app.scenarios.value for p in shown)


def test_preview_fills_the_delta_panel(app):
    before = app.delta.value
    app.budget.value = 40.0
    app.preview_button.click()
    assert "simkit-error" not in app.status.value, app.status.value
    assert app.delta.value != before
    assert "budget +40%" in app.delta.value and "P(better)" in app.delta.value
    svg = app.chart.outputs[0]["data"]["image/svg+xml"]
    assert "budget +40%" in svg  # the pivot band is in the legend


def test_reset_and_recommendation_style_apply(app):
    app.apply_pivot({"competition_pct": 30, "creative_refresh": True})
    assert app.competition.value == 30 and app.refresh.value is True
    assert "competition +30%" in app.delta.value
    app.reset_button.click()
    assert app.competition.value == 0 and "Preview" in app.delta.value


def test_campaign_and_horizon_changes_redraw(app):
    app.campaign.value = "C003"
    assert "C003" in app.status.value and app.baseline_view.campaign_id == "C003"
    app.horizon.value = 14
    assert app.baseline_view.horizon_days == 14


def test_a_failing_callback_shows_a_short_message_not_a_traceback(app, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("internal detail /secret/path line 42")

    monkeypatch.setattr(app.model, "preview", boom)
    app.preview_button.click()
    assert "simkit-error" in app.status.value
    assert "RuntimeError" in app.status.value
    assert "Traceback" not in app.status.value and "/secret/path" not in app.status.value
    assert app.preview_button.disabled is False


def test_a_crafted_campaign_value_is_refused(app):
    handler = app._guard("Loading the campaign", app._on_baseline)
    app.campaign.options = [*app.campaign.options, ("evil", "../../etc/passwd")]
    app.campaign.value = "../../etc/passwd"
    handler()
    assert "no campaign" in app.status.value


def test_short_error_is_one_bounded_line():
    msg = short_error(DataError("bad\nfile " + "x" * 500), "Loading")
    assert "\n" not in msg and len(msg) <= 240


def test_open_dashboard_with_a_missing_file_shows_a_message(tmp_path):
    widget = open_dashboard(data=str(tmp_path / "nope.csv"), workdir=str(tmp_path))
    assert "simkit-error" in widget.value and "Traceback" not in widget.value


def test_recommendation_cards_carry_a_working_preview_button(model):
    app = DashboardApp(model, cards_in_background=False)
    app.start()
    app.campaign.value = "C001"
    buttons = [b for box in app.cards.children[1:] for b in box.children if hasattr(b, "on_click")]
    assert buttons, [c.value for c in app.cards.children if hasattr(c, "value")]
    enabled = [b for b in buttons if not b.disabled]
    enabled[0].click()
    assert "simkit-error" not in app.status.value, app.status.value
    assert "Preview:" in app.delta.value
