"""Monte Carlo funnel simulation: trajectories, scenarios with probabilities, what-ifs.

From a :class:`~simkit.forecast.base.DriverForecast` and a budget plan, the engine
(:func:`simulate_paths`) draws thousands of coherent daily funnel paths (spend ->
impressions -> clicks -> conversions -> revenue); :func:`summarise` turns them into daily
quantiles, totals, pessimistic/realistic/optimistic scenarios, outcome bands and goal
probabilities; :func:`simulate_pair` runs a what-if on common random numbers.
:func:`simulate_campaign` / :func:`what_if_campaign` do all of it from a campaign's data;
a :class:`WhatIfSession` prepares a campaign once and previews many pivots on it.

Example
-------
>>> import numpy as np
>>> from simkit.simulate import BudgetPlan, simulate, simulate_paths
>>> result = simulate(fc, BudgetPlan.from_daily(500.0, fc.horizon_days), 10_000,
...                   np.random.default_rng(7))  # doctest: +SKIP
>>> result.totals["conversions"]["p50"]  # doctest: +SKIP
"""

from __future__ import annotations

from simkit.simulate.budget import (
    PACING_RULES,
    BudgetPlan,
    DeliveryModel,
    PacingRule,
    fit_delivery,
    pacing_rule_for,
    read_plan_file,
    recent_spend_level,
)
from simkit.simulate.campaign import (
    CampaignState,
    campaign_state,
    simulate_campaign,
    what_if_campaign,
)
from simkit.simulate.engine import EngineConfig, SimulationPaths, simulate_paths
from simkit.simulate.factors import (
    FACTORS,
    CompetitionFactor,
    FatigueFactor,
    MarketFactor,
    SeasonalFactor,
    fit_fatigue,
    make_factor,
)
from simkit.simulate.session import (
    SESSION_CUTOFFS,
    SESSION_MEMBERS,
    DriverShiftFactor,
    SpendResponse,
    SpendResponseFactor,
    WhatIfPivot,
    WhatIfSession,
)
from simkit.simulate.summary import (
    QUANTILES,
    SCENARIO_CUTS,
    Scenario,
    SimulationResult,
    partition_scenarios,
    summarise,
)
from simkit.simulate.whatif import (
    PairedDeltas,
    WhatIfResult,
    paired_deltas,
    simulate_pair,
    what_if_from_paths,
)

__all__ = [
    "FACTORS",
    "PACING_RULES",
    "QUANTILES",
    "SCENARIO_CUTS",
    "SESSION_CUTOFFS",
    "SESSION_MEMBERS",
    "BudgetPlan",
    "CampaignState",
    "CompetitionFactor",
    "DeliveryModel",
    "DriverShiftFactor",
    "EngineConfig",
    "FatigueFactor",
    "MarketFactor",
    "PacingRule",
    "PairedDeltas",
    "Scenario",
    "SeasonalFactor",
    "SimulationPaths",
    "SimulationResult",
    "SpendResponse",
    "SpendResponseFactor",
    "WhatIfPivot",
    "WhatIfResult",
    "WhatIfSession",
    "campaign_state",
    "fit_delivery",
    "fit_fatigue",
    "make_factor",
    "paired_deltas",
    "pacing_rule_for",
    "partition_scenarios",
    "read_plan_file",
    "recent_spend_level",
    "simulate",
    "simulate_campaign",
    "simulate_pair",
    "simulate_paths",
    "summarise",
    "what_if",
    "what_if_campaign",
    "what_if_from_paths",
]


def simulate(drivers, plan, n_paths, rng, **kwargs):  # type: ignore[no-untyped-def]
    """Simulate and summarise in one call: :func:`simulate_paths` then :func:`summarise`.

    Keyword arguments ``delivery``, ``factors`` and ``config`` go to the engine; the rest
    (``outcome``, ``plan_value``, ``target_cpa``, ...) to :func:`summarise`.
    """
    engine_keys = {"delivery", "factors", "config"}
    engine_kw = {k: v for k, v in kwargs.items() if k in engine_keys}
    summary_kw = {k: v for k, v in kwargs.items() if k not in engine_keys}
    return summarise(simulate_paths(drivers, plan, n_paths, rng, **engine_kw), **summary_kw)


def what_if(drivers, n_paths, rng, *, baseline_plan, outcome="conversions", **kwargs):  # type: ignore[no-untyped-def]
    """A what-if from a driver forecast: :func:`simulate_pair` then the per-path deltas."""
    base, pivot = simulate_pair(drivers, n_paths, rng, baseline_plan=baseline_plan, **kwargs)
    return what_if_from_paths(
        base,
        pivot,
        summarise(base, outcome=outcome),
        summarise(pivot, outcome=outcome),
        outcome=outcome,
    )
