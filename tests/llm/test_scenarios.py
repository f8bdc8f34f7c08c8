"""Model assumptions simulated by simkit against the baseline, on common random numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simkit.llm import LLMClient
from simkit.params import LLMOptions
from simkit.simulate.llm_scenarios import assumption_pivot, llm_scenarios, scenario_facts
from simkit.simulate.session import WhatIfSession

from .fake_openai import MODEL, FakeOpenAI


@pytest.fixture(scope="module")
def session(test_data: Path) -> WhatIfSession:
    data = pd.read_csv(test_data / "report" / "campaigns.csv")
    return WhatIfSession(
        data, "C001", 21, seed=7, n_paths=400, members=["seasonal_naive"], max_cutoffs=1
    )


def _client(tmp_path: Path) -> LLMClient:
    return LLMClient("gpt-4o", LLMOptions(max_retries=0), state_dir=tmp_path / "llm")


def test_facts_are_aggregates_of_the_allowlist(session: WhatIfSession):
    facts = scenario_facts(session)
    assert facts["horizon_start"] == "2026-02-10" and facts["horizon_days"] == 21
    assert facts["recent.days"] == 28
    assert facts["recent.cpa"] == pytest.approx(facts["recent.spend"] / facts["recent.conversions"])
    assert {"week_start", "spend", "conversions", "cpa"} == set(facts["weekly"][0])
    assert "forecast.conversions.p50" in facts


def test_assumptions_are_quantified_against_the_baseline(
    fake_openai: FakeOpenAI, session: WhatIfSession, tmp_path: Path
):
    result = llm_scenarios(session, _client(tmp_path))
    assert result.status == "ok", result.reason
    assert [q.assumption.name for q in result.items] == [
        "Competitor promotion week",
        "Creative wear-out",
    ]
    promo, wear = result.items
    assert promo.label == f"proposed by {MODEL}, quantified by simkit"
    # dearer impressions and fewer clicks in week one: fewer conversions on most paths
    conv = promo.delta["conversions"]
    assert conv["p10"] <= conv["p50"] <= conv["p90"] and conv["p50"] < 0
    assert promo.probability_worse > 0.8
    # a whole-horizon CTR drop costs more than a one-week shock of similar size
    assert wear.delta["conversions"]["p50"] < conv["p50"]
    d = promo.to_dict()
    assert d["proposed_by"] == MODEL and d["quantified_by"] == "simkit"
    assert d["shifts"]["cpm"] == {"low": 0.1, "high": 0.3}


def test_same_seed_same_numbers(fake_openai: FakeOpenAI, session: WhatIfSession, tmp_path: Path):
    a = llm_scenarios(session, _client(tmp_path))
    b = llm_scenarios(session, _client(tmp_path))
    assert a.to_dict() == b.to_dict()


def test_out_of_range_assumptions_are_clipped_or_refused_and_said(
    fake_openai: FakeOpenAI, session: WhatIfSession, tmp_path: Path
):
    fake_openai.behaviour.out_of_range = True
    result = llm_scenarios(session, _client(tmp_path))
    assert result.status == "ok"
    assert len(result.items) == 2
    promo = result.items[0]
    assert (promo.assumption.cpm.low, promo.assumption.cpm.high) == (0.5, 1.0)
    assert any("cpm range +50% to +400% clipped to +50% to +100%" in n for n in promo.notes)
    refused = [m for m in result.messages if m.startswith("'Tracking outage' refused")]
    assert refused == [
        "'Tracking outage' refused: its days 2026-03-12 to 2026-03-22 are outside the "
        "horizon 2026-02-10 to 2026-03-02"
    ]


@pytest.mark.parametrize("mode", ["500", "schema", "not_json_content"])
def test_a_failing_model_gives_a_reason_not_an_error(
    mode: str, fake_openai: FakeOpenAI, session: WhatIfSession, tmp_path: Path
):
    fake_openai.behaviour.default = mode
    result = llm_scenarios(session, _client(tmp_path))
    assert result.status == "failed" and result.items == ()
    assert result.reason.split(":")[0] in {"http", "schema", "malformed"}


def test_spend_shift_changes_the_plan_on_its_days_only(session: WhatIfSession):
    from datetime import date

    from simkit.llm import ScenarioAssumption, Shift

    a = ScenarioAssumption(
        name="Budget cut",
        rationale="r",
        start=date(2026, 2, 12),
        end=date(2026, 2, 13),
        cpm=None,
        ctr=None,
        cvr=None,
        demand=Shift(low=0.0, high=0.2),
        spend=Shift(low=-0.6, high=-0.4),
    )
    pivot = assumption_pivot(a, session.dates, session.plan)
    ratio = pivot.budget.daily / session.plan.daily
    assert ratio[2:4] == pytest.approx([0.5, 0.5])
    assert ratio[[0, 1, 4, 5]] == pytest.approx([1, 1, 1, 1])
    assert [f.kind for f in pivot.add] == ["demand_shift"]
