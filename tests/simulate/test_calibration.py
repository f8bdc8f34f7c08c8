"""Seeded calibration test of ``simulate_campaign`` (issues 16 and 23).

Held-out generated campaigns of both world families (``simkit.data.synthetic``, family A,
and ``simkit.data.worlds``, family B), seeds disjoint from the benches': each history of
84 days is forecast with the project's ensemble (seasonal naive, ETS, SARIMAX: the
bench's members) and simulated over the next 28 days under a plan that moves the budget
by +-30-50% (as in ``bench/simulation.py``); the truth is the 28-day total conversions of
the generated future.  Nothing is tuned here: the engine's defaults.

Tolerance from binomial sampling error, not tuned to pass: if the 80% intervals are
calibrated, the number of campaigns whose truth falls inside is ``X ~ Binomial(n, 0.8)``
(campaigns are independent draws).  The test accepts ``X`` inside the central 99.8%
interval of that law, ``[binom.ppf(0.001, n, 0.8), binom.ppf(0.999, n, 0.8)]``, so a
calibrated engine fails it with probability at most 0.2%; pooled over both families
(``n = 2 x N_PER_FAMILY = 48``: 29..46 campaigns, i.e. coverage 60.4%-95.8%) and, with
the same rule, on each family alone (``n = 24``: 13..24, 54%-100%: one family's test
catches only under-coverage; the pooled one both).  What each test saw is
printed (run with ``-s``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from simkit.data.worlds import CHANNELS
from simkit.data.worlds import family as world_family
from simkit.forecast import forecast_campaign
from simkit.simulate import BudgetPlan, simulate_campaign
from simkit.simulate.campaign import campaign_state

pytestmark = pytest.mark.slow

N_PER_FAMILY = 24
HISTORY_DAYS = 84
HORIZON = 28
SEED = 23  # the benches use 2026 (scored) and 2027 (calibration)
MEMBERS = ["seasonal_naive", "ets", "sarimax"]


def _case(family: str, i: int) -> tuple[pd.DataFrame, np.ndarray, pd.Timestamp, float]:
    """History and future of one campaign, its plan's budget, the split, the truth."""
    generate = world_family(family)
    channels = ("search", "social", "display") if family == "a" else CHANNELS
    extra = {"drop_missing": False} if family == "b" else {}
    n_days = HISTORY_DAYS + HORIZON
    kw = dict(events=None, channels=[channels[i % len(channels)]], **extra)
    first = generate(1, n_days, rng=np.random.default_rng([SEED, i]), **kw)
    (cid,) = first.truth
    plan_rng = np.random.default_rng([SEED, i, 1])
    recent = float(first.data["spend"].iloc[HISTORY_DAYS - HORIZON : HISTORY_DAYS].mean())
    move = plan_rng.uniform(0.3, 0.5) * (1 if plan_rng.random() < 0.5 else -1)
    kept = getattr(first.truth[cid], "budget", None)
    budget = np.asarray(kept if kept else first.data["budget"], dtype=float).copy()
    budget[HISTORY_DAYS:] = round(recent * (1 + move), 2)
    world = generate(1, n_days, rng=np.random.default_rng([SEED, i]), budgets={cid: budget}, **kw)
    split = world.data["date"].iloc[0] + pd.Timedelta(days=HISTORY_DAYS)
    missing = pd.to_datetime(list(getattr(world.truth[cid], "missing_dates", ())))
    data = world.data[~(world.data["date"].isin(missing) & (world.data["date"] < split))]
    truth = float(data.loc[data["date"] >= split, "conversions"].sum())
    return data.reset_index(drop=True), budget[HISTORY_DAYS:], split, truth


def _covered(family: str, i: int) -> bool:
    data, plan_budget, split, truth = _case(family, i)
    history = data[data["date"] < split]
    cid = str(data["campaign_id"].iloc[0])
    spend = plan_budget * campaign_state(history).delivery.ratio
    drivers = forecast_campaign(
        history, cid, HORIZON, plan=spend, members=MEMBERS, seed=i, cache=False, max_cutoffs=3
    ).drivers
    result = simulate_campaign(
        data,
        cid,
        HORIZON,
        as_of=(split - pd.Timedelta(days=1)).date(),
        budget=BudgetPlan(plan_budget, None, "plan_file"),
        n_paths=2000,
        seed=i,
        drivers=drivers,
    )
    total = result.totals["conversions"]
    return bool(total["p10"] <= truth <= total["p90"])


@pytest.fixture(scope="module")
def hits() -> dict[str, np.ndarray]:
    return {f: np.array([_covered(f, i) for i in range(N_PER_FAMILY)]) for f in ("a", "b")}


def _bounds(n: int) -> tuple[int, int]:
    return int(binom.ppf(0.001, n, 0.8)), int(binom.ppf(0.999, n, 0.8))


def test_pooled_80_percent_coverage_of_28_day_totals_is_binomially_consistent(hits):
    x = np.concatenate(list(hits.values()))
    lo, hi = _bounds(x.size)
    print(f"\npooled: {x.sum()}/{x.size} covered ({x.mean():.1%}); accepted {lo}..{hi}")
    assert lo <= x.sum() <= hi


@pytest.mark.parametrize("family", ["a", "b"])
def test_each_family_80_percent_coverage_is_binomially_consistent(hits, family):
    x = hits[family]
    lo, hi = _bounds(x.size)
    print(f"\nfamily {family}: {x.sum()}/{x.size} covered ({x.mean():.1%}); accepted {lo}..{hi}")
    assert lo <= x.sum() <= hi
