"""Benchmark of the Monte Carlo funnel simulation: speed and accuracy (issue 4's bars).

Speed
    * one campaign, 10,000 paths x 90 days, drivers already fitted: median wall time of
      the engine alone and with the full summary (bar: engine <= 50 ms);
    * 1,000 campaigns x 1,000 paths x 90 days on 2 processes, seeds from
      ``SeedSequence(seed).spawn`` so results do not depend on the worker count (checked),
      with peak memory (bar: <= 10 s, <= 1 GB).

Accuracy
    Synthetic campaigns (``simkit.data.synthetic``) whose last 28 days follow a plan that
    moves the budget by +-30-50% from recent spend.  Each is forecast as of the split with
    the plan known (``simkit.forecast.forecast_campaign``), simulated, and the 28-day total
    conversions compared with the truth: pooled coverage of the 80% interval (bar: 75-85%),
    and the p50's error, side by side with

    * statsforecast AutoARIMA (season_length=7) on daily conversions with log-spend as an
      exogenous regressor.  statsforecast 2.0.1 has no ``StatsForecast.simulate``, so its
      paths are drawn from the fitted model itself: the MA(inf) (psi-weight) form of the
      fitted ARIMA, including its differencing, with Gaussian innovations of the fitted
      variance, added to its mean forecast; each path is summed over the 28 days;
    * the naive baseline: last 28 days' conversions x planned spend / last 28 days' spend.

Families: ``--family a|b|both`` (default both) scores the accuracy on world family A
(:mod:`simkit.data.synthetic`, the generator the engine was tuned on) and/or B
(:mod:`simkit.data.worlds`, written apart from it: 5 channels, rotating creatives, lagged
conversions, missing days, campaigns without budget or creative id), each under its own
heading.  The engine's default persistent (level) share of the drivers' errors is each
campaign's own, fitted on its own backtests (nothing learned on any family): the row
"simkit simulate (own backtest shares)".  For comparison, a single ``persistent_share``
for all campaigns can be learned with ``--calibrate N`` on N campaigns of each family in
turn (seed + 1, disjoint from the scored ones) and scored on the *other* family, in both
directions (the blocks "trained on A, scored on B" and "trained on B, scored on A").
Each block also prints the p50's log error by channel and plan direction (its bias and
mean absolute size beside the naive's), to show where the error comes from.

Run: ``.venv/bin/python bench/simulation.py [--skip-speed] [--skip-accuracy] [--family b]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simkit.forecast.base import DriverForecast
from simkit.simulate import BudgetPlan, DeliveryModel, EngineConfig, simulate_paths, summarise
from simkit.simulate.budget import PACING_RULES

HORIZON_ACC = 28


# ------------------------------------------------------------------------------- speed


def _forecast(
    h: int, rng: np.random.Generator, campaign_id: str = "C", levels: tuple | None = None
) -> DriverForecast:
    """A realistic fitted driver forecast (levels drawn like the synthetic campaigns')."""
    cpm, ctr, cvr, spend = levels or (
        rng.uniform(4, 40),
        rng.uniform(0.004, 0.05),
        rng.uniform(0.02, 0.06),
        rng.uniform(300, 1500),
    )
    center = np.tile(
        [np.log(cpm), np.log(ctr / (1 - ctr)), np.log(cvr / (1 - cvr)), np.log(80.0)], (h, 1)
    )
    scale = np.tile([0.08, 0.09, 0.2, 0.07], (h, 1)) * np.sqrt(1 + np.arange(h) / 30)[:, None]
    corr = np.eye(4)
    corr[0, 1] = corr[1, 0] = -0.2
    return DriverForecast(
        campaign_id=campaign_id,
        dates=pd.date_range("2026-03-02", periods=h, freq="D"),
        spend_plan=np.full(h, spend),
        center=center,
        scale=scale,
        ar_coef=np.array([0.8, 0.7, 0.2, 0.1]),
        driver_corr=corr,
        spend_elasticity=np.array([0.35, 0.05, 0.0, 0.0]),
    )


def _speed_one(n_paths: int = 10_000, h: int = 90, repeats: int = 21) -> None:
    cases = {
        "typical (search-like, ~50 conversions/day)": (30.0, 0.04, 0.05, 800.0),
        "small (~5 conversions/day, exact counts)": (10.0, 0.01, 0.02, 250.0),
    }
    print(f"one campaign, {n_paths:,} paths x {h} days, drivers fitted (bar: median <= 50 ms)")
    for label, levels in cases.items():
        fc = _forecast(h, np.random.default_rng(0), levels=levels)
        plan = BudgetPlan.from_daily(float(fc.spend_plan[0]), h)
        delivery = DeliveryModel(0.95, 0.04, PACING_RULES["google"])
        for _ in range(3):
            simulate_paths(fc, plan, n_paths, np.random.default_rng(1), delivery=delivery)
        wall, cpu, full = [], [], []
        for i in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            paths = simulate_paths(fc, plan, n_paths, np.random.default_rng(i), delivery=delivery)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        one_thread, one_cpu = [], []
        single = EngineConfig(n_threads=1)
        for i in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            simulate_paths(
                fc, plan, n_paths, np.random.default_rng(i), delivery=delivery, config=single
            )
            one_thread.append(time.perf_counter() - t0)
            one_cpu.append(time.process_time() - c0)
        for i in range(5):
            t0 = time.perf_counter()
            summarise(
                simulate_paths(fc, plan, n_paths, np.random.default_rng(i), delivery=delivery),
                plan_value=1000.0,
                target_cpa=30.0,
            )
            full.append(time.perf_counter() - t0)
        print(f"  {label}: mean {paths.conversions.mean():.1f} conversions/day")
        print(
            f"    engine, 2 threads: median {1e3 * statistics.median(wall):6.1f} ms, "
            f"min {1e3 * min(wall):6.1f} ms (process cpu median "
            f"{1e3 * statistics.median(cpu):.1f} ms); 1 thread: median "
            f"{1e3 * statistics.median(one_thread):6.1f} ms (cpu median "
            f"{1e3 * statistics.median(one_cpu):.1f} ms); load avg {os.getloadavg()[0]:.2f}"
        )
        print(
            f"    engine + full summary (daily quantiles of 11 metrics, scenarios): "
            f"median {1e3 * statistics.median(full):.1f} ms"
        )


def _batch(args: tuple[int, list[np.random.SeedSequence], int, int]) -> tuple[list, int]:
    first, seeds, n_paths, h = args
    out = []
    for k, seq in enumerate(seeds):
        rng = np.random.default_rng(seq)
        fc = _forecast(h, rng, campaign_id=f"C{first + k}")
        plan = BudgetPlan.from_daily(float(fc.spend_plan[0]), h)
        paths = simulate_paths(
            fc,
            plan,
            n_paths,
            rng,
            delivery=DeliveryModel(0.95, 0.04, PACING_RULES["google"]),
            config=EngineConfig(n_threads=1),
        )
        total = paths.conversions.sum(axis=0, dtype=np.float64)
        out.append(np.quantile(total, [0.1, 0.5, 0.9]))
    return out, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _portfolio(n_campaigns: int, n_paths: int, h: int, workers: int, seed: int = 0) -> tuple:
    seqs = np.random.SeedSequence(seed).spawn(n_campaigns)
    size = -(-n_campaigns // workers)
    jobs = [(i, seqs[i : i + size], n_paths, h) for i in range(0, n_campaigns, size)]
    t0 = time.perf_counter()
    if workers == 1:
        parts = [_batch(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_batch, jobs))
    elapsed = time.perf_counter() - t0
    results = [r for part, _ in parts for r in part]
    peak_kb = max(rss for _, rss in parts)
    return elapsed, np.array(results), peak_kb


def _speed_portfolio(n_campaigns: int = 1000, n_paths: int = 1000, h: int = 90) -> None:
    _portfolio(20, n_paths, h, 2)  # warm the workers' imports out of the timing
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed, results, peak_kb = _portfolio(n_campaigns, n_paths, h, 2)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    _, check, _ = _portfolio(40, n_paths, h, 1)
    same = np.array_equal(check, results[:40])
    print(
        f"{n_campaigns:,} campaigns x {n_paths:,} paths x {h} days, 2 processes "
        f"(bar: <= 10 s, <= 1 GB)"
    )
    print(
        f"  wall {elapsed:.2f} s (workers' cpu {cpu:.2f} s, load avg "
        f"{os.getloadavg()[0]:.2f}); peak RSS per worker {peak_kb / 1024:.0f} MiB "
        f"(2 workers + parent {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
        f" MiB)"
    )
    print(f"  first 40 campaigns identical with 1 worker: {same}")


# ---------------------------------------------------------------------------- accuracy


def _world(i: int, seed: int, n_history: int, family: str = "a"):
    """One synthetic campaign of world ``family`` whose last 28 days follow a +-30-50%
    budget plan; returns the data, the plan, the move and the first horizon date.

    Family B (:mod:`simkit.data.worlds`) is generated with its missing days kept, and the
    history's missing days are then dropped here: the scored 28-day truth is whole, the
    history has the gaps an export has.
    """
    from simkit.data.worlds import CHANNELS
    from simkit.data.worlds import family as world_family

    generate = world_family(family)
    n_days = n_history + HORIZON_ACC
    channels = ("search", "social", "display") if family == "a" else CHANNELS
    channel = channels[i % len(channels)]
    extra = {"drop_missing": False} if family == "b" else {}
    plan_rng = np.random.default_rng([seed, i, 1])
    first = generate(
        1, n_days, rng=np.random.default_rng([seed, i]), events=None, channels=[channel], **extra
    )
    (cid,) = first.truth
    recent_spend = float(first.data["spend"].iloc[n_history - HORIZON_ACC : n_history].mean())
    move = plan_rng.uniform(0.3, 0.5) * (1 if plan_rng.random() < 0.5 else -1)
    truth_budget = getattr(first.truth[cid], "budget", None)  # family B keeps it in the truth
    budget = np.asarray(truth_budget if truth_budget else first.data["budget"], dtype=float).copy()
    budget[n_history:] = round(recent_spend * (1 + move), 2)
    world = generate(
        1,
        n_days,
        rng=np.random.default_rng([seed, i]),
        events=None,
        channels=[channel],
        budgets={cid: budget},
        **extra,
    )
    split = world.data["date"].iloc[0] + pd.Timedelta(days=n_history)
    data = world.data.assign(campaign_id=f"S{i:03d}")
    missing = pd.to_datetime(list(getattr(world.truth[cid], "missing_dates", ())))
    data = data[~(data["date"].isin(missing) & (data["date"] < split))].reset_index(drop=True)
    return data, budget[n_history:], move, split


def _arima_total(
    y: np.ndarray, x: np.ndarray, x_future: np.ndarray, rng: np.random.Generator, n: int
) -> np.ndarray:
    """AutoARIMA(7) with exogenous log-spend; ``n`` simulated 28-day totals."""
    from statsforecast.models import AutoARIMA

    model = AutoARIMA(season_length=7).fit(y, X=x[:, None])
    mean = model.predict(len(x_future), X=x_future[:, None])["mean"]
    spec = model.model_["model"]
    phi = np.asarray(spec["phi"], dtype=float)
    theta = np.asarray(spec["theta"], dtype=float)
    delta = np.asarray(spec["delta"], dtype=float)
    ar = np.convolve(np.r_[1.0, -phi], np.r_[1.0, -delta]) if delta.size else np.r_[1.0, -phi]
    ar = -ar[1:]
    h = len(x_future)
    psi = np.zeros(h)
    psi[0] = 1.0
    for j in range(1, h):
        value = theta[j - 1] if j - 1 < theta.size else 0.0
        value += sum(ar[i - 1] * psi[j - i] for i in range(1, min(j, ar.size) + 1))
        psi[j] = value
    e = rng.standard_normal((n, h)) * np.sqrt(model.model_["sigma2"])
    paths = mean[None, :] + np.stack([np.convolve(row, psi)[:h] for row in e])
    return np.maximum(paths, 0.0).sum(axis=1)


@dataclass
class _Case:
    family: str
    as_of: object
    cid: str
    channel: str
    move: float
    data: pd.DataFrame
    plan_budget: np.ndarray
    drivers: DriverForecast
    truth: float
    naive: float
    arima: np.ndarray
    seconds: float


def _prepare_case(
    i: int, seed: int, n_history: int, members: list[str], cutoffs: int, n: int, family: str
):
    from simkit.forecast import forecast_campaign
    from simkit.simulate.campaign import campaign_state

    data, plan_budget, move, split = _world(i, seed, n_history, family)
    cid = str(data["campaign_id"].iloc[0])
    history, future = data[data["date"] < split], data[data["date"] >= split]
    state = campaign_state(history)
    planned_spend = plan_budget * state.delivery.ratio
    t0 = time.perf_counter()
    drivers = forecast_campaign(
        history,
        cid,
        HORIZON_ACC,
        plan=planned_spend,
        members=members,
        seed=seed + i,
        cache=False,
        max_cutoffs=cutoffs,
    ).drivers
    seconds = time.perf_counter() - t0
    recent = history[history["date"] >= split - pd.Timedelta(days=HORIZON_ACC)]
    naive = float(recent["conversions"].sum() * planned_spend.sum() / recent["spend"].sum())
    # AutoARIMA needs a regular series: the history's missing days (family B) interpolated
    calendar = history.set_index("date")[["conversions", "spend"]].asfreq("D").interpolate()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arima = _arima_total(
            calendar["conversions"].to_numpy(float),
            np.log(np.maximum(calendar["spend"].to_numpy(float), 0.01)),
            np.log(planned_spend),
            np.random.default_rng([seed, i, 2]),
            n,
        )
    return _Case(
        family,
        (split - pd.Timedelta(days=1)).date(),
        cid,
        str(data["channel"].iloc[0]),
        move,
        data,
        plan_budget,
        drivers,
        float(future["conversions"].sum()),
        naive,
        arima,
        seconds,
    )


def _cases(indices, seed, n_history, members, cutoffs, n_paths, cache, family):  # noqa: ANN001
    """Prepared cases (forecasts are the slow part), kept in ``cache`` (a pickle) if given."""
    import pickle
    from pathlib import Path

    out = []
    for i in indices:
        name = f"case_{family}_{seed}_{i}_{n_history}_{cutoffs}.pkl"
        path = Path(cache) / name if cache else None
        if path is not None and path.exists():
            out.append(pickle.loads(path.read_bytes()))
            continue
        case = _prepare_case(i, seed, n_history, members, cutoffs, n_paths, family)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(case))
        out.append(case)
    return out


def _simulate_case(case: _Case, n_paths: int, seed: int, share: float | None) -> dict:
    from simkit.simulate import simulate_campaign

    result = simulate_campaign(
        case.data,
        case.cid,
        HORIZON_ACC,
        as_of=case.as_of,
        budget=BudgetPlan(case.plan_budget, None, "plan_file"),
        n_paths=n_paths,
        seed=seed,
        drivers=case.drivers,
        config=EngineConfig(persistent_share=share),
    )
    return result.totals["conversions"]


def _score(cases: list[_Case], sims: list[dict]) -> dict:
    truth = np.array([c.truth for c in cases])
    lo = np.array([s["p10"] for s in sims])
    mid = np.array([s["p50"] for s in sims])
    hi = np.array([s["p90"] for s in sims])
    return {
        "cover": float(np.mean((truth >= lo) & (truth <= hi))),
        "below": float(np.mean(truth < lo)),
        "above": float(np.mean(truth > hi)),
        "mae": float(np.mean(np.abs(mid - truth))),
        "rel": float(np.mean(np.abs(mid - truth) / truth)),
        "width": float(np.mean((hi - lo) / truth)),
    }


_SHARES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)


def _calibrate(
    n_calibration: int,
    n_paths: int,
    seed: int,
    members: list[str],
    cutoffs: int,
    n_history: int,
    cache: str | None,
    family: str,
) -> float:
    """``persistent_share`` learned on ``n_calibration`` campaigns of ``family``."""
    print(
        f"calibration of persistent_share on {n_calibration} family-{family.upper()} "
        f"campaigns (seed {seed + 1}, disjoint from the scored ones)"
    )
    cal = _cases(
        range(n_calibration), seed + 1, n_history, members, cutoffs, n_paths, cache, family
    )
    best = None
    for w in _SHARES:
        sc = _score(cal, [_simulate_case(c, n_paths, seed + k, w) for k, c in enumerate(cal)])
        print(
            f"  share {w:.2f}: cover80 {sc['cover']:.1%}  width/truth {sc['width']:.1%}  "
            f"MAE {sc['mae']:.1f}"
        )
        if best is None or abs(sc["cover"] - 0.8) < abs(best[1] - 0.8) - 1e-9:
            best = (w, sc["cover"])
    print(
        f"  -> learned persistent_share = {best[0]} on family {family.upper()} (engine "
        f"default {EngineConfig().persistent_share})"
    )
    return best[0]


def _accuracy(
    n_campaigns: int,
    n_paths: int,
    seed: int,
    members: list[str],
    cutoffs: int,
    n_history: int,
    share: float,
    tuned_on: str,
    cache: str | None = None,
    family: str = "a",
    learned: str = "engine default",
) -> dict:
    t_start = time.perf_counter()
    where = "cross-family" if family != tuned_on else "in-family"
    if share is None:
        title = f"scored on {family.upper()}"
        cross = "each campaign's own backtest shares, nothing learned across campaigns"
    else:
        title = f"trained on {tuned_on.upper()}, scored on {family.upper()}"
        cross = (
            f"own backtest shares; and persistent_share {share} ({learned}, trained on "
            f"{tuned_on.upper()}), {where}"
        )
    print(f"\n{'#' * 88}\n# {title.upper()}: {cross}\n{'#' * 88}")
    cases = _cases(range(n_campaigns), seed, n_history, members, cutoffs, n_paths, cache, family)
    sims = [_simulate_case(c, n_paths, seed + k, None) for k, c in enumerate(cases)]
    learned_sims = (
        [_simulate_case(c, n_paths, seed + k, share) for k, c in enumerate(cases)]
        if share is not None
        else None
    )
    sims0 = [_simulate_case(c, n_paths, seed + k, 0.0) for k, c in enumerate(cases)]
    print(
        f"  {'case':4s} {'channel':8s} {'plan':>9s} {'truth':>7s}  {'sim p10':>7s} {'p50':>7s} "
        f"{'p90':>7s}  {'arima p10':>9s} {'p50':>7s} {'p90':>7s}  {'naive':>7s}  "
        f"{'p50/tru':>7s} {'nv/tru':>6s}"
    )
    for c, s in zip(cases, sims, strict=True):
        print(
            f"  {c.cid} {c.channel:8s} plan {c.move:+.0%}  {c.truth:7.0f}  "
            f"{s['p10']:7.0f} {s['p50']:7.0f} {s['p90']:7.0f}  "
            f"{np.quantile(c.arima, 0.1):9.0f} {np.quantile(c.arima, 0.5):7.0f} "
            f"{np.quantile(c.arima, 0.9):7.0f}  {c.naive:7.0f}  "
            f"{s['p50'] / c.truth:7.2f} {c.naive / c.truth:6.2f}  (forecast {c.seconds:.1f} s)"
        )
    # where the p50's error comes from: its bias and spread by channel and plan direction
    log_err = np.log(np.array([s["p50"] / c.truth for c, s in zip(cases, sims, strict=True)]))
    log_nv = np.log(np.array([c.naive / c.truth for c in cases]))
    groups = [
        ("channel " + ch, [c.channel == ch for c in cases])
        for ch in dict.fromkeys(c.channel for c in cases)
    ] + [("plan up", [c.move > 0 for c in cases]), ("plan down", [c.move < 0 for c in cases])]
    print(
        f"  {'p50 log error by group':24s} {'n':>3s} {'bias':>7s} {'mean|e|':>8s} {'naive|e|':>9s}"
    )
    for label, sel in groups:
        sel = np.array(sel)
        if sel.any():
            print(
                f"  {label:24s} {sel.sum():3d} {log_err[sel].mean():+7.3f} "
                f"{np.abs(log_err[sel]).mean():8.3f} {np.abs(log_nv[sel]).mean():9.3f}"
            )
    arima = [
        {
            "p10": np.quantile(c.arima, 0.1),
            "p50": np.quantile(c.arima, 0.5),
            "p90": np.quantile(c.arima, 0.9),
        }
        for c in cases
    ]
    naive = [{"p10": np.nan, "p50": c.naive, "p90": np.nan} for c in cases]
    naive_mae = _score(cases, naive)["mae"]
    print()
    print(
        f"accuracy, {title} ({cross}): {len(cases)} synthetic campaigns, "
        f"28-day total conversions, plan moves budget +-30-50%; forecaster members "
        f"{','.join(members)}, {cutoffs} cutoffs, {n_paths} paths"
    )
    print(
        f"  {'method':40s} {'cover80':>8s} {'<p10':>6s} {'>p90':>6s} {'MAE':>8s} "
        f"{'rel.err':>8s} {'x naive':>8s}"
    )
    out = {}
    learned_row = (
        [(f"simkit simulate (persistent_share {share})", learned_sims, True)]
        if learned_sims is not None
        else []
    )
    for name, rows, has_interval in (
        ("simkit simulate (own backtest shares)", sims, True),
        *learned_row,
        ("simkit simulate (persistent_share 0)", sims0, True),
        ("AutoARIMA(7)+log-spend (paths)", arima, True),
        ("naive: last 28 d x plan/spend", naive, False),
    ):
        sc = _score(cases, rows)
        out.setdefault("simkit", sc)
        if rows is learned_sims:
            out["learned"] = sc
        cov = (
            f"{sc['cover']:8.1%} {sc['below']:6.1%} {sc['above']:6.1%}"
            if has_interval
            else f"{'-':>8s} {'-':>6s} {'-':>6s}"
        )
        print(f"  {name:40s} {cov} {sc['mae']:8.1f} {sc['rel']:8.1%} {sc['mae'] / naive_mae:8.2f}")
    print(
        f"  forecast seconds per campaign {np.mean([c.seconds for c in cases]):.1f}; "
        f"{title} total {time.perf_counter() - t_start:.0f} s"
    )
    return {
        "title": title,
        "share": share,
        "cover": out["simkit"]["cover"],
        "x_naive": out["simkit"]["mae"] / naive_mae,
        "learned_cover": out["learned"]["cover"] if "learned" in out else None,
        "learned_x_naive": out["learned"]["mae"] / naive_mae if "learned" in out else None,
        "n": len(cases),
    }


def _bars(blocks: list[dict]) -> None:
    print(f"\n{'=' * 88}\nsummary (bars: 80% coverage within 72-88%, p50 error <= 0.72x naive)")
    for b in blocks:
        rows = [("own backtest shares", b["cover"], b["x_naive"])]
        if b["learned_cover"] is not None:
            rows.append(
                (f"persistent_share {b['share']}", b["learned_cover"], b["learned_x_naive"])
            )
        for label, cover, x_naive in rows:
            ok_cover = 0.72 <= cover <= 0.88
            ok_p50 = x_naive <= 0.72
            print(
                f"  {b['title']:26s} {label:22s} n={b['n']:3d}  cover80 "
                f"{cover:6.1%} [{'met' if ok_cover else 'MISSED'}]  p50 "
                f"{x_naive:.2f}x naive [{'met' if ok_p50 else 'MISSED'}]"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--campaigns", type=int, default=40)
    parser.add_argument("--paths", type=int, default=4000)
    parser.add_argument("--history-days", type=int, default=112)
    parser.add_argument("--members", default="seasonal_naive,ets,sarimax")
    parser.add_argument("--cutoffs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--calibrate",
        type=int,
        default=0,
        metavar="N",
        help="first learn persistent_share on N other campaigns",
    )
    parser.add_argument("--cache", default=None, help="folder to keep prepared forecasts in")
    parser.add_argument(
        "--family",
        choices=("a", "b", "both"),
        default="both",
        help="world family scored (a: simkit.data.synthetic, b: simkit.data.worlds)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.CRITICAL)
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    print(
        f"simkit simulation bench  (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load avg {os.getloadavg()[0]:.2f})"
    )
    if not args.skip_speed:
        _speed_one()
        _speed_portfolio()
    if not args.skip_accuracy:
        members = args.members.split(",")
        common = (args.paths, args.seed, members, args.cutoffs, args.history_days)
        families = ("a", "b") if args.family == "both" else (args.family,)
        blocks = []
        if args.calibrate:
            # learned on one family, scored on the other: both directions
            for train in ("a", "b"):
                share = _calibrate(args.calibrate, *common, args.cache, train)
                for scored in families:
                    if scored != train:
                        blocks.append(
                            _accuracy(
                                args.campaigns,
                                *common,
                                share,
                                train,
                                args.cache,
                                scored,
                                learned="--calibrate",
                            )
                        )
        else:
            # the engine default: each campaign's own backtest shares, nothing learned
            share = EngineConfig().persistent_share
            for scored in families:
                blocks.append(_accuracy(args.campaigns, *common, share, "a", args.cache, scored))
        _bars(blocks)


if __name__ == "__main__":
    main()
