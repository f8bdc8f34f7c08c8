"""``simkit run`` with ``llm: true`` against the fake server, as a process.

One run covers the model narrative (C001, whose paragraph is grounded) and the template
fallback (C002, whose paragraph has a number simkit did not compute); a second identical
run is answered from the reply cache; a third, with a failing server, still exits 0.  The
sentinel key is then searched for in every file the runs wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simkit.paths import safe_name
from simkit.registry import Registry

from .conftest import SENTINEL_KEY
from .fake_openai import MODEL, FakeOpenAI

pytestmark = pytest.mark.slow

LEAN = {"members": ["seasonal_naive", "ets"], "backtest_cutoffs": 1, "n_paths": 300}


def _params(tmp_path: Path, test_data: Path, name: str, **extra: object) -> Path:
    path = tmp_path / f"{name}.yaml"
    values = {
        "data": str(test_data / "report" / "campaigns.csv"),
        "campaigns": ["C001", "C002"],
        "horizon_days": 21,
        "output_dir": "reports",
        "llm": True,
        **LEAN,
        **extra,
    }
    path.write_text(yaml.safe_dump(values))
    return path


def _run(params: Path, tmp_path: Path, server: FakeOpenAI) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OPENAI_API_KEY": SENTINEL_KEY,
        "OPENAI_BASE_URL": server.base_url,
        "TQDM_DISABLE": "1",
    }
    env.pop("SIMKIT_LLM_DEADLINE_AT", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "simkit.cli",
            "run",
            str(params),
            "--registry",
            f"sqlite:///{tmp_path / 'registry.sqlite'}",
            "--workers",
            "2",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _summary(tmp_path: Path, cid: str) -> dict:
    return json.loads((tmp_path / "reports" / safe_name(cid) / "summary.json").read_text())


def _html(tmp_path: Path, cid: str) -> str:
    return (tmp_path / "reports" / safe_name(cid) / "report.html").read_text()


def test_run_with_llm_narrative_fallback_cache_failure_and_no_leak(
    fake_openai: FakeOpenAI, tmp_path: Path, test_data: Path
):
    fake_openai.behaviour.wrong_number_for = {"C002"}
    params = _params(tmp_path, test_data, "llm")

    first = _run(params, tmp_path, fake_openai)
    assert first.returncode == 0, first.stderr
    sent = len(fake_openai.requests)
    assert sorted(fake_openai.schemas()) == ["NarrativeReply"] * 2 + ["ScenarioReply"] * 2

    good, bad = _summary(tmp_path, "C001"), _summary(tmp_path, "C002")
    assert good["narrative"] == {"source": "llm", "model": MODEL, "reason": None}
    assert bad["narrative"] == {
        "source": "template",
        "model": MODEL,
        "reason": "the model's text has number(s) simkit did not compute: '37.5%'",
    }
    page = _html(tmp_path, "C001")
    assert f"This paragraph was written by {MODEL}" in page
    assert f"Scenarios proposed by {MODEL}, quantified by simkit" in page
    page = _html(tmp_path, "C002")
    assert "simkit's template (the model's text has number(s) simkit did not compute" in page
    assert "Competitors will raise prices" not in page  # the rejected paragraph

    manifest = json.loads((tmp_path / "reports" / "run.json").read_text())
    usage = manifest["llm"]
    assert usage["requests"] == sent == 4
    assert usage["prompt_tokens"] == 4 * 1200 and usage["cost_usd"] > 0
    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    run = registry.get_run(manifest["run_id"])
    assert run["llm_usage"]["requests"] == 4
    assert run["llm_usage"]["cost_usd"] == usage["cost_usd"]

    # the same run again: every reply from the cache, no request
    second = _run(params, tmp_path, fake_openai)
    assert second.returncode == 0, second.stderr
    assert len(fake_openai.requests) == sent
    again = json.loads((tmp_path / "reports" / "run.json").read_text())["llm"]
    assert (again["requests"], again["cache_hits"]) == (0, 4)
    assert _summary(tmp_path, "C001")["narrative"]["source"] == "llm"

    # a failing server: the run still succeeds, with the template and a note
    fake_openai.behaviour.default = "500"
    failing = _params(
        tmp_path,
        test_data,
        "failing",
        campaigns=["C001"],
        llm_options={"cache": False, "max_retries": 0},
    )
    third = _run(failing, tmp_path, fake_openai)
    assert third.returncode == 0, third.stderr
    narrative = _summary(tmp_path, "C001")["narrative"]
    assert narrative["source"] == "template"
    assert narrative["reason"] == "the model call failed (http: the server answered HTTP 500)"
    assert "Model scenarios: none (http: the server answered HTTP 500)" in _html(tmp_path, "C001")

    # the key is in no file any run wrote: reports, run.json, registry, cache, logs
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(".simkit-cache/llm" in str(p) for p in files)
    assert any(".simkit-cache/logs" in str(p) for p in files)
    leaks = [p for p in files if SENTINEL_KEY.encode() in p.read_bytes()]
    assert leaks == []
    for proc in (first, second, third):
        assert SENTINEL_KEY not in proc.stdout + proc.stderr
