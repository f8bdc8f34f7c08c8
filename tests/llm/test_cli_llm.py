"""``simkit llm prompt`` and ``simkit simulate --llm-scenarios``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app

from .conftest import SENTINEL_KEY
from .fake_openai import MODEL, FakeOpenAI


@pytest.fixture
def params_file(tmp_path: Path, test_data: Path) -> Path:
    path = tmp_path / "p.yaml"
    values = {
        "data": str(test_data / "report" / "campaigns.csv"),
        "members": ["seasonal_naive"],
        "backtest_cutoffs": 1,
        "n_paths": 200,
        "horizon_days": 14,
        "output_dir": str(tmp_path / "out"),
        "llm": True,
    }
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.slow
def test_prompt_prints_the_messages_and_sends_nothing(
    fake_openai: FakeOpenAI, params_file: Path, monkeypatch, tmp_path: Path
):
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(
        app, ["llm", "prompt", "C002", "--params", str(params_file), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["campaign_id"] == "C002" and payload["model"] == "gpt-4o"
    scen, narr = payload["messages"]["scenarios"], payload["messages"]["narrative"]
    assert [m["role"] for m in scen] == ["system", "user"] == [m["role"] for m in narr]
    facts = json.loads(scen[1]["content"].split("\n", 1)[1])
    assert facts["campaign_id"] == "C002" and facts["horizon_days"] == 14
    assert "data" not in facts and str(params_file.parent) not in out.stdout  # no path
    assert fake_openai.requests == []
    assert SENTINEL_KEY not in out.output


def test_prompt_table_and_unknown_campaign(params_file: Path, monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(app, ["llm", "prompt", "C001", "--params", str(params_file)])
    assert out.exit_code == 0, out.output
    assert "nothing was sent" in out.stdout and "scenarios: system" in out.stdout
    bad = CliRunner().invoke(app, ["llm", "prompt", "C0O1", "--params", str(params_file)])
    assert bad.exit_code == 1
    assert "not in the data: 'C0O1'" in bad.output


def _simulate(test_data: Path, *more: str):
    return CliRunner().invoke(
        app,
        [
            "simulate",
            str(test_data / "report" / "campaigns.csv"),
            "--campaign",
            "C001",
            "--horizon",
            "14",
            "--paths",
            "300",
            "--llm-scenarios",
            *more,
        ],
    )


@pytest.mark.slow
def test_simulate_llm_scenarios_json(
    fake_openai: FakeOpenAI, test_data: Path, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    out = _simulate(test_data, "--format", "json")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    scen = payload["llm_scenarios"]
    assert scen["status"] == "ok" and scen["model"] == MODEL
    first = scen["assumptions"][0]
    assert first["label"] == f"proposed by {MODEL}, quantified by simkit"
    conv = first["delta"]["conversions"]
    assert conv["p10"] <= conv["p50"] <= conv["p90"]
    assert 0 <= first["probability_better"] <= 1
    assert "totals" in payload  # the simulation itself is unchanged


def test_simulate_llm_scenarios_without_a_key(test_data: Path, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = _simulate(test_data, "--format", "json")
    assert out.exit_code == 0, out.output
    scen = json.loads(out.stdout)["llm_scenarios"]
    assert scen == {
        "status": "failed",
        "model": "gpt-4o",
        "reason": "no OPENAI_API_KEY is set, so no model was asked",
        "checks": [],
        "assumptions": [],
    }
