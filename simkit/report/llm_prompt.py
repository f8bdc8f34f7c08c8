"""The exact messages a report would send to a model, without sending them.

``simkit llm prompt CAMPAIGN`` prints them, so a user sees what leaves the machine: the
scenario prompt and the narrative prompt of that campaign's report, built from the same
computed facts (:mod:`simkit.report.llm`).  Nothing is sent and no key is read.
"""

from __future__ import annotations

from typing import Any

from simkit.llm import narrative_messages, scenario_messages
from simkit.params import RunParams
from simkit.report.campaign import SECTIONS
from simkit.report.context import load_campaign
from simkit.report.engines import compute_engines
from simkit.report.llm import narrative_facts
from simkit.simulate.llm_scenarios import scenario_facts
from simkit.simulate.session import WhatIfSession

__all__ = ["report_prompts"]


def report_prompts(params: RunParams, campaign_id: str) -> dict[str, Any]:
    """``{campaign_id, model, messages: {scenarios, narrative}, notes}`` for one campaign.

    The engines run as in the report (same seed, forecast and paths); the narrative's
    ``model_scenarios`` fact, which holds the model's own assumptions once simkit has
    simulated them, is left out here because it needs the model's reply.
    """
    quiet = params.model_copy(
        update={"campaigns": [campaign_id], "llm": False, "llm_member": False}
    )
    ctx = load_campaign(quiet)
    results = compute_engines(ctx)
    out: dict[str, Any] = {
        "campaign_id": ctx.campaign_id,
        "model": params.llm_model,
        "messages": {},
        "notes": [
            "the narrative prompt also lists the model's scenario assumptions as simkit "
            "quantified them (model_scenarios), which needs the scenario reply first"
        ],
    }
    if results.forecast is None or results.simulation is None:
        out["notes"].append("no scenario prompt: the campaign is not forecast (it stopped)")
    else:
        p = ctx.params
        session = WhatIfSession(
            ctx.rows,
            ctx.campaign_id,
            p.horizon_days,
            seed=int(ctx.rng_seed.generate_state(1)[0]),
            n_paths=p.n_paths,
            plan_file=p.plan,
            drivers=results.forecast.drivers,
            target_cpa=ctx.target_cpa,
            target_roas=ctx.target_roas,
        )
        out["messages"]["scenarios"] = scenario_messages(scenario_facts(session, meta=ctx.meta))
    sections = {key: build(ctx, results) for key, build in SECTIONS.items()}
    out["messages"]["narrative"] = narrative_messages(narrative_facts(ctx, sections, results))
    return out
