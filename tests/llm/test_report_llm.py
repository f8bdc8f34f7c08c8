"""A campaign report with ``llm: true``: model scenarios, and a narrative that cannot lie."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from simkit.data import worlds
from simkit.params import RunParams
from simkit.report import build_campaign_report, load_campaign
from simkit.report import llm as report_llm
from simkit.report.campaign import SECTIONS
from simkit.report.engines import compute_engines

from .conftest import SENTINEL_KEY
from .fake_openai import MODEL, FakeOpenAI


@pytest.fixture(scope="module")
def served(fake_server: FakeOpenAI, tmp_path_factory) -> Iterator[tuple[FakeOpenAI, Path]]:
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as mp:
        fake_server.reset()
        mp.setenv("OPENAI_BASE_URL", fake_server.base_url)
        mp.setenv("OPENAI_API_KEY", SENTINEL_KEY)
        mp.delenv("SIMKIT_LLM_DEADLINE_AT", raising=False)
        mp.chdir(work)  # the reply cache goes to ./.simkit-cache/llm
        yield fake_server, work


#: the campaign reported on: family B's, from a file with no metadata beside it, so the LLM
#: report is checked on data other than the first generator's with its sidecar (issue 23)
CID = "B002"


@pytest.fixture(scope="module")
def params(tmp_path_factory) -> RunParams:
    world = worlds.generate(3, 100, rng=np.random.default_rng(17))
    data = tmp_path_factory.mktemp("data") / "ads.csv"
    frame = world.data.assign(date=world.data["date"].dt.strftime("%Y-%m-%d"))
    frame.to_csv(data, index=False)  # no campaigns_meta.yaml beside it
    return RunParams(
        data=str(data),
        campaigns=[CID],
        members=["seasonal_naive", "ets"],
        backtest_cutoffs=1,
        n_paths=300,
        horizon_days=21,
        output_dir=str(tmp_path_factory.mktemp("out")),
        llm=True,
    )


@pytest.fixture(scope="module")
def engines(served, params: RunParams):
    ctx = load_campaign(params)
    results = compute_engines(ctx)
    sections = {key: build(ctx, results) for key, build in SECTIONS.items()}
    return ctx, results, sections


def test_scenarios_section_shows_model_assumptions_quantified_by_simkit(engines):
    _, results, sections = engines
    assert results.llm.scenarios.status == "ok"
    section = sections["scenarios"]
    title, table = section.tables[-1]
    assert title == f"Scenarios proposed by {MODEL}, quantified by simkit"
    assert list(table["assumption"]) == ["Competitor promotion week", "Creative wear-out"]
    assert (table["Δ conversions p10"] <= table["Δ conversions p90"]).all()
    assert any(f"proposed by {MODEL}, quantified by simkit" in t for t in section.text)
    numbers = section.numbers["model_scenarios"]
    assert numbers["assumptions"][0]["quantified_by"] == "simkit"


def test_grounded_narrative_is_published(served, engines):
    ctx, results, sections = engines
    narrative = report_llm.narrate(ctx, sections, results)
    assert narrative.source == "llm", narrative.reason
    assert narrative.model == MODEL and narrative.reason is None
    assert "conversions" in narrative.text


def test_narrative_with_a_wrong_number_is_rejected(served, engines):
    server, _ = served
    ctx, results, sections = engines
    server.behaviour.wrong_number_for = {CID}
    opts = results.llm.options
    results.llm.options = opts.model_copy(update={"cache": False})  # the cache has a good one
    try:
        narrative = report_llm.narrate(ctx, sections, results)
    finally:
        server.behaviour.wrong_number_for = set()
        results.llm.options = opts
    assert narrative.source == "template"
    assert narrative.reason == "the model's text has number(s) simkit did not compute: '37.5%'"
    summary = report_llm.with_narrative(sections["history"], narrative, results)
    assert summary.text[-1] == (
        "Summary: simkit's template (the model's text has number(s) simkit did not "
        "compute: '37.5%')."
    )


@pytest.mark.parametrize("mode", ["500", "429", "timeout", "schema", "not_json_content"])
def test_failing_model_gives_the_template_with_the_reason(served, engines, mode: str):
    server, _ = served
    ctx, results, sections = engines
    server.behaviour.default = mode
    server.behaviour.script = []
    opts = results.llm.options
    results.llm.options = opts.model_copy(
        update={"max_retries": 0, "cache": False, "timeout_seconds": 0.5}
    )
    try:
        narrative = report_llm.narrate(ctx, sections, results)
    finally:
        server.behaviour.default = "ok"
        results.llm.options = opts
    assert narrative.source == "template"
    kind = {"500": "http", "429": "rate_limit", "timeout": "timeout"}.get(mode, "")
    kind = kind or {"schema": "schema", "not_json_content": "malformed"}[mode]
    assert narrative.reason.startswith(f"the model call failed ({kind}: ")


def test_narrative_facts_are_the_allowlist(engines):
    from simkit.llm.prompts import NARRATIVE_FIELDS

    ctx, results, sections = engines
    facts = report_llm.narrative_facts(ctx, sections, results)
    assert set(facts) <= set(NARRATIVE_FIELDS)
    assert (
        facts["forecast.conversions.p50"]
        == sections["forecast"].numbers["totals"]["conversions"]["p50"]
    )
    assert facts["model_scenarios"][0]["name"] == "Competitor promotion week"


@pytest.mark.slow
def test_summary_json_records_narrative_and_usage(served, params: RunParams):
    built = build_campaign_report(params)
    s = built.summary
    assert s["narrative"] == {"source": "llm", "model": MODEL, "reason": None}
    usage = s["llm"]["usage"]
    assert usage["requests"] + usage["cache_hits"] >= 2  # scenarios and narrative
    assert usage["models"] == [MODEL] or usage["cache_hits"] >= 2
    text = built["summary"].text
    assert text[1].startswith(f"This paragraph was written by {MODEL}")
    assert SENTINEL_KEY not in json.dumps(s)


def test_without_a_key_the_template_says_so(served, params: RunParams, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    server, _ = served
    before = len(server.requests)
    built = build_campaign_report(params)
    assert len(server.requests) == before
    assert built.summary["narrative"] == {
        "source": "template",
        "model": None,
        "reason": "no OPENAI_API_KEY is set, so no model was asked",
    }
    assert built["summary"].text[-1] == (
        "Summary: simkit's template (no OPENAI_API_KEY is set, so no model was asked)."
    )
    assert any("Model scenarios: none (no OPENAI_API_KEY" in t for t in built["scenarios"].text)


def test_llm_off_records_the_template_and_adds_no_line(params: RunParams, engines):
    off = params.model_copy(update={"llm": False})
    ctx, results, sections = engines
    ctx_off = type(ctx)(**{**ctx.__dict__, "params": off})
    narrative = report_llm.narrate(ctx_off, sections, results)
    assert narrative.to_dict() == {
        "source": "template",
        "model": None,
        "reason": "llm is off (params: llm: false)",
    }
