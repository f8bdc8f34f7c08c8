"""The ``llm`` member is backtested and weighted like any member: it earns its weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simkit
from simkit.forecast import forecast_campaign
from simkit.forecast.drivers import driver_history
from simkit.llm import LLMClient, llm_session
from simkit.params import LLMOptions

from .fake_openai import FakeOpenAI, drivers

MEMBERS = ["seasonal_naive", "ets", "llm"]


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, str]:
    world = simkit.generate_synthetic(2, 100, rng=simkit.make_rng(11))
    data = world.data
    return data, sorted(data["campaign_id"].astype(str).unique())[0]


def _truth(data: pd.DataFrame, cid: str) -> pd.DataFrame:
    hist = driver_history(data, cid)
    v = hist.drivers.to_numpy()
    return pd.DataFrame(
        {
            "cpm": np.exp(v[:, 0]),
            "ctr": 1 / (1 + np.exp(-v[:, 1])),
            "cvr": 1 / (1 + np.exp(-v[:, 2])),
            "revenue_per_conversion": np.exp(v[:, 3]),
        },
        index=[d.date().isoformat() for d in hist.dates],
    )


def _forecast(data: pd.DataFrame, cid: str, tmp_path: Path):
    client = LLMClient("gpt-4o", LLMOptions(max_retries=0), state_dir=tmp_path / "llm")
    with llm_session(client):
        fc = forecast_campaign(data, cid, 14, members=MEMBERS, seed=7, max_cutoffs=2, cache=False)
    return fc, client


@pytest.mark.slow
def test_an_accurate_model_earns_weight(fake_openai: FakeOpenAI, world, tmp_path: Path):
    """A model that knows the future (an oracle, to make the point) wins the backtest."""
    data, cid = world
    truth = _truth(data, cid)

    def oracle(schema: str, facts: dict) -> dict:
        days = drivers(facts)  # beyond the data: the last week's values
        for day in days:
            if day["date"] in truth.index:
                day.update(truth.loc[day["date"]].to_dict())
        return {"days": days}

    fake_openai.behaviour.content = oracle
    fc, client = _forecast(data, cid, tmp_path)
    # one call per backtest fold and one for the final fit
    assert fake_openai.schemas() == ["DriverReply"] * (len(fc.backtest.cutoffs) + 1)
    assert "llm" in fc.backtest.members
    w = fc.weights["llm"]
    assert min(w.values()) > 0.5, fc.weights
    assert fc.backtest.members["llm"].mase < fc.backtest.members["seasonal_naive"].mase
    assert client.usage.requests == len(fc.backtest.cutoffs) + 1
    assert client.usage.total_tokens > 0


def test_a_poor_model_gets_no_weight(fake_openai: FakeOpenAI, world, tmp_path: Path):
    data, cid = world
    # CPM 70% too low: three times the conversions (the weights are chosen on conversions)
    fake_openai.behaviour.driver_bias = -0.7
    fc, _ = _forecast(data, cid, tmp_path)
    assert fc.weights["llm"]["log_cpm"] == 0.0
    assert fc.backtest.members["llm"].mase > fc.backtest.members["ets"].mase


def test_without_a_session_the_fallback_stands_in_with_a_warning(world):
    data, cid = world
    fc = forecast_campaign(data, cid, 14, members=MEMBERS, seed=7, max_cutoffs=1, cache=False)
    assert any("member 'llm' failed" in w and "no model client" in w for w in fc.backtest.warnings)


def test_a_failing_server_falls_back_with_a_warning(fake_openai: FakeOpenAI, world, tmp_path: Path):
    data, cid = world
    fake_openai.behaviour.default = "500"
    fc, client = _forecast(data, cid, tmp_path)
    warnings = [*fc.backtest.warnings, *fc.warnings]
    assert any("member 'llm' failed" in w and "HTTP 500" in w for w in warnings)
    assert client.usage.failures >= 1
