"""The run's deadline in the environment, and its usage added up from the campaigns."""

from __future__ import annotations

import os
import time

import pytest

from simkit.llm.client import DEADLINE_ENV
from simkit.params import LLMOptions, RunParams
from simkit.registry import Registry
from simkit.runner.llm import run_deadline, run_usage


def _params(**kw: object) -> RunParams:
    return RunParams(data="x.csv", **kw)


def test_deadline_is_set_for_the_run_and_restored(monkeypatch):
    monkeypatch.delenv(DEADLINE_ENV, raising=False)
    p = _params(llm=True, llm_options=LLMOptions(deadline_seconds=120))
    with run_deadline(p):
        assert float(os.environ[DEADLINE_ENV]) == pytest.approx(time.time() + 120, abs=5)
    assert DEADLINE_ENV not in os.environ
    with run_deadline(_params()):  # no model: nothing set
        assert DEADLINE_ENV not in os.environ


def test_usage_is_the_sum_of_the_campaigns():
    one = {
        "llm": {"usage": {"requests": 2, "prompt_tokens": 100, "cost_usd": 0.5, "models": ["m"]}}
    }
    two = {"llm": {"usage": {"requests": 1, "cache_hits": 3, "cost_usd": 0.25, "models": ["m"]}}}
    total = run_usage(_params(llm=True), [one, two, None, {}])
    assert total["requests"] == 3 and total["cache_hits"] == 3
    assert total["prompt_tokens"] == 100 and total["cost_usd"] == 0.75
    assert total["models"] == ["m"] and total["model"] == "gpt-4o"
    assert run_usage(_params(), [one]) is None


def test_registry_keeps_the_usage(tmp_path):
    reg = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    reg.create_run("r1", params={}, params_hash="h", output_dir="o", campaigns=["C1"])
    assert reg.get_run("r1")["llm_usage"] is None
    reg.record_llm_usage("r1", {"requests": 4, "cost_usd": 0.01})
    assert reg.get_run("r1")["llm_usage"] == {"cost_usd": 0.01, "requests": 4}
    assert reg.list_runs()[0]["llm_usage"] == {"cost_usd": 0.01, "requests": 4}
