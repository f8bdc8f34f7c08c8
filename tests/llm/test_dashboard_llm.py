"""The dashboard shows the model scenarios its latest run recorded (it calls no model)."""

from __future__ import annotations

import json
from pathlib import Path

from simkit.dashboard.llm import model_scenarios_html


def _summary(tmp_path: Path, record: dict) -> str:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"numbers": {"scenarios": {"model_scenarios": record}}}))
    return str(path)


def test_recorded_assumptions_are_shown_as_quantified_by_simkit(tmp_path: Path):
    record = {
        "status": "ok",
        "model": "gpt-4o",
        "assumptions": [
            {
                "name": "Promo <week>",
                "start": "2026-03-01",
                "end": "2026-03-07",
                "delta": {"conversions": {"p10": -40.2, "p50": -21.7, "p90": -3.1}},
                "probability_better": 0.04,
            }
        ],
    }
    out = model_scenarios_html(_summary(tmp_path, record))
    assert "Scenarios proposed by gpt-4o, quantified by simkit" in out
    assert "<b>Promo &lt;week&gt;</b> (2026-03-01 to 2026-03-07): Δ conversions -22 " in out
    assert "(80% interval -40 to -3), P(better) 4%" in out


def test_failed_missing_and_absent_records(tmp_path: Path):
    failed = {"status": "failed", "model": "gpt-4o", "reason": "http: HTTP 500"}
    assert model_scenarios_html(_summary(tmp_path, failed)) == (
        "<div class='simkit-llm'>Model scenarios: none (http: HTTP 500).</div>"
    )
    assert model_scenarios_html(None) == ""
    assert model_scenarios_html(str(tmp_path / "nope.json")) == ""
    (tmp_path / "plain.json").write_text(json.dumps({"numbers": {}}))
    assert model_scenarios_html(str(tmp_path / "plain.json")) == ""
