"""Bench: how close the budget allocation gets to the true optimum, fatigue recovery, speed.

Run: ``.venv/bin/python bench/pivot_regret.py [--portfolios 20] [--campaigns 10]``

1. **Regret.**  Synthetic portfolios (``simkit.data.synthetic.generate(..., events=None)``)
   have known true response curves (``CampaignTruth.expected_daily_conversions``).  For each,
   the curves are fitted from the data, the budget is optimised (+-50% per campaign, total =
   sum of today's budgets), and the allocation, the status quo and the *true* optimum under
   the same bounds and total (water-filling on the true curves) are scored on the true
   curves at the delivered spend (the generator paces at about 0.95 x budget).  Printed:
   the share of the true optimum's expected conversions reached by each, and any overspend.
   ``find_pivots`` is the same through the pivot engine (what ``simkit pivots`` runs), whose
   optimiser also prices each campaign at its current creative state.
2. **Injected fatigue.**  A fatigue event on one campaign; pivots as of 14-24 days into it
   (before any scheduled refresh).  The true uplift of refreshing now versus keeping the
   current creative over the horizon comes from the generator's truth (CTR fatigue factors,
   day-of-week, CPM at the status-quo spend).  Printed: whether a ``creative_refresh`` was
   recommended and whether its 80% interval (p10-p90) covers the true uplift.
3. **Speed** of a 50-campaign curve fit + optimisation with 200 curve draws each.

Bars (issue 6): share >= 97% of the true optimum; never over the total; the fatigue
interval covers the truth; 50 campaigns in <= 10 s.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import date, timedelta

import numpy as np

from simkit.data.synthetic import CampaignTruth, InjectedEvent, generate
from simkit.pivots import find_pivots, fit_portfolio, optimize_budget, water_fill

GENERATOR_START = date(2026, 1, 5)  # generate()'s default first day
PACING = 0.95  # mean delivery of the generator: clip(N(0.95, 0.03), 0.85, 1.0)


def _true_daily(truth: CampaignTruth, budget: float) -> float:
    return float(truth.expected_daily_conversions(PACING * budget))


def regret(n_portfolios: int, n_campaigns: int, n_days: int, seed: int) -> None:
    print(f"== regret: {n_portfolios} portfolios x {n_campaigns} campaigns x {n_days} days ==")
    print(
        f"{'seed':>5} {'allocation':>11} {'status quo':>11} {'find_pivots':>11} "
        f"{'P(gain>0)':>10} {'spent/total':>12} {'fit s':>6} {'opt s':>6}"
    )
    shares, sq_shares, fp_shares, over = [], [], [], 0
    for i in range(n_portfolios):
        world = generate(n_campaigns, n_days, rng=np.random.default_rng(seed + i), events=None)
        t0 = time.perf_counter()
        pf = fit_portfolio(world.data, rng=np.random.default_rng(10_000 + seed + i))
        t1 = time.perf_counter()
        alloc = optimize_budget(pf)
        t2 = time.perf_counter()
        keys = pf.keys
        grids = [np.linspace(alloc.lower[k], alloc.upper[k], 20_001) for k in keys]
        margs = [
            np.gradient(world.truth[k].expected_daily_conversions(PACING * g), g)
            for k, g in zip(keys, grids, strict=True)
        ]
        x, _ = water_fill(grids, margs, alloc.total_budget)
        best = sum(_true_daily(world.truth[k], v) for k, v in zip(keys, x, strict=True))
        got = sum(_true_daily(world.truth[k], alloc.allocation[k]) for k in keys)
        sq = sum(_true_daily(world.truth[k], alloc.status_quo[k]) for k in keys)
        spent = sum(alloc.allocation.values())
        delivered = sum(pf.delivery[k] * alloc.allocation[k] for k in keys)
        over += spent > alloc.total_budget or delivered > alloc.total_budget
        # what the CLI does: the same, with curves priced at the creative state expected over
        # the horizon (natural wear of the current creatives)
        full = find_pivots(
            world.data,
            seed=20_000 + seed + i,
            horizon_days=28,
            n_paths=200,
            pivot_types=["budget_reallocation"],
        ).allocation
        fp = sum(_true_daily(world.truth[k], full.allocation[k]) for k in keys)
        over += sum(full.allocation.values()) > full.total_budget
        fp_shares.append(fp / best)
        shares.append(got / best)
        sq_shares.append(sq / best)
        print(
            f"{seed + i:>5} {got / best:>11.2%} {sq / best:>11.2%} {fp / best:>11.2%} "
            f"{alloc.gain['p_gain_positive']:>10.2f} {spent / alloc.total_budget:>12.9f} "
            f"{t1 - t0:>6.2f} {t2 - t1:>6.2f}"
        )
    s, q, f = np.array(shares), np.array(sq_shares), np.array(fp_shares)
    print(
        f"allocation: mean {s.mean():.2%}, median {np.median(s):.2%}, min {s.min():.2%}, "
        f"share of portfolios >= 97%: {np.mean(s >= 0.97):.0%}"
    )
    print(
        f"status quo: mean {q.mean():.2%}, median {np.median(q):.2%}, min {q.min():.2%}, "
        f"max {q.max():.2%}"
    )
    print(
        f"find_pivots: mean {f.mean():.2%}, median {np.median(f):.2%}, min {f.min():.2%}, "
        f"share of portfolios >= 97%: {np.mean(f >= 0.97):.0%}"
    )
    print(
        f"allocation better than status quo (true curves): {np.mean(s > q):.0%}; "
        f"allocations over the total (budgets or delivered spend): {over}"
    )


def _true_fatigue_uplift(
    truth: CampaignTruth, event: InjectedEvent, world_days, as_of, budget: float, horizon: int
) -> float:
    """True expected extra conversions over the horizon from refreshing on day 1."""
    d = np.array([x for x in world_days if x <= as_of])
    refresh = np.zeros(len(d), dtype=int)
    for r in truth.refresh_dates:
        refresh += d >= r
    age_last = 0
    for t in range(1, len(d)):
        age_last = 0 if refresh[t] != refresh[t - 1] else age_last + 1
    s = PACING * budget
    noise = math.exp(1.5 * truth.noise_sd**2)  # E[exp(AR noise)] of CPM^-1, CTR and CVR
    base_rate = (
        1000.0
        * s
        / (truth.base_cpm * (s / truth.reference_spend) ** truth.cpm_spend_elasticity)
        * truth.base_ctr
        * truth.base_cvr
        * noise
    )
    total = 0.0
    for h in range(1, horizon + 1):
        day = as_of + timedelta(days=h)
        dow = day.weekday()
        scale = base_rate * truth.dow_ctr[dow] * truth.dow_cvr[dow] / truth.dow_cpm[dow]
        elapsed = (day - event.start).days
        keep = max(
            math.exp(-truth.fatigue_rate_per_day * (age_last + h))
            * math.exp(-event.magnitude * elapsed),
            0.4,
        )
        fresh = max(math.exp(-truth.fatigue_rate_per_day * (h - 1)), 0.4)
        total += scale * (fresh - keep)
    return total


def fatigue(n_trials: int, seed: int, horizon: int) -> None:
    print(f"\n== injected fatigue: {n_trials} worlds, horizon {horizon} days ==")
    print(
        f"{'seed':>5} {'magnitude':>9} {'days in':>7} {'found':>5} {'true uplift':>11} "
        f"{'p10':>9} {'p50':>9} {'p90':>9} {'covers':>6} {'rank':>4}"
    )
    found = covered = 0
    for i in range(n_trials):
        rng = np.random.default_rng(seed + i)
        n_days = 120
        start_day = int(rng.integers(70, 85))
        into = int(rng.integers(14, 25))
        magnitude = float(rng.uniform(0.015, 0.04))
        start = GENERATOR_START + timedelta(days=start_day)
        event = InjectedEvent("fatigue", "C001", start, magnitude)
        world = generate(5, n_days, rng=rng, events=[event])
        as_of = start + timedelta(days=into)
        result = find_pivots(
            world.data,
            world.campaigns,
            seed=seed + i,
            as_of=as_of,
            horizon_days=horizon,
            n_paths=2000,
        )
        recs = [
            r
            for r in result.recommendations
            if r.type == "creative_refresh" and r.campaign_ids == ("C001",)
        ]
        days = world.data.loc[world.data["campaign_id"] == "C001", "date"]
        truth = _true_fatigue_uplift(
            world.truth["C001"],
            event,
            list(days.dt.date),
            as_of,
            result.allocation.status_quo["C001"],
            horizon,
        )
        if recs:
            found += 1
            q = recs[0].expected_impact["conversions"]
            ok = q["p10"] <= truth <= q["p90"]
            covered += ok
            rank = [r.type for r in result.recommendations].index("creative_refresh") + 1
            print(
                f"{seed + i:>5} {magnitude:>9.3f} {into:>7} {'yes':>5} {truth:>11.1f} "
                f"{q['p10']:>9.1f} {q['p50']:>9.1f} {q['p90']:>9.1f} {str(ok):>6} {rank:>4}"
            )
        else:
            print(f"{seed + i:>5} {magnitude:>9.3f} {into:>7} {'no':>5} {truth:>11.1f}")
    print(
        f"creative_refresh recommended in {found}/{n_trials}; "
        f"80% interval covers the true uplift in {covered}/{found}"
    )


def speed(n_campaigns: int, seed: int) -> None:
    print(f"\n== speed: {n_campaigns} campaigns x 120 days, 200 curve draws ==")
    world = generate(n_campaigns, 120, rng=np.random.default_rng(seed), events=None)
    t0, c0 = time.perf_counter(), time.process_time()
    pf = fit_portfolio(world.data, rng=np.random.default_rng(seed))
    t1 = time.perf_counter()
    alloc = optimize_budget(pf)
    t2, c2 = time.perf_counter(), time.process_time()
    print(
        f"fit {t1 - t0:.2f} s + optimise with uncertainty {t2 - t1:.2f} s = {t2 - t0:.2f} s "
        f"wall, {c2 - c0:.2f} s CPU (P(gain > 0) = {alloc.gain['p_gain_positive']:.2f})"
    )
    t3, c3 = time.perf_counter(), time.process_time()
    find_pivots(world.data, world.campaigns, seed=seed, horizon_days=28)
    print(
        f"full find_pivots (all pivot types, 1000 paths x 28 days): "
        f"{time.perf_counter() - t3:.2f} s wall, {time.process_time() - c3:.2f} s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=20)
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--fatigue-trials", type=int, default=10)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    regret(args.portfolios, args.campaigns, args.days, args.seed)
    fatigue(args.fatigue_trials, args.seed + 1000, args.horizon)
    speed(50, args.seed + 2000)


if __name__ == "__main__":
    main()
