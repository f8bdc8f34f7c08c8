"""Benchmark of the forecast ledger (issue 17's bars), and how well its alerts work.

Speed
    * recording: what recording adds to one simulation, as ``simkit simulate`` does it
      (open the SQLite ledger, build the record from the result, insert it), median of
      repeated recordings of distinct forecasts of a 28-day, 10,000-path simulation, beside
      the simulation's own wall time (bar: <= 50 ms);
    * scoring: ``score_ledger`` over 1,000 recorded forecasts of 28 days (50 campaigns x 20
      forecast dates, a week apart) against data with actuals: read the ledger, score,
      pool, test for alerts and append the 1,000 score rows (bar: <= 5 s).

Alerts (``--alerts``)
    Generated campaigns (no injected events) are forecast on day 120 with the plan that
    then ran, and their true next 28 days appended; then each campaign in turn has its
    actual conversions cut by 40% after the forecast.  Printed: the share of dropped
    campaigns alerted (power) and the share of untouched campaigns alerted, on the truth
    and beside a drop (false alarms).

Run: ``.venv/bin/python bench/ledger.py [--alerts] [--worlds 5]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from simkit._rng import make_rng
from simkit.data.synthetic import generate
from simkit.ledger import ForecastRecord, Ledger, capturing_forecaster, score_ledger
from simkit.simulate import simulate_campaign
from simkit.simulate.budget import BudgetPlan

LEVELS = {"p5": -1.645, "p10": -1.2816, "p25": -0.6745, "p50": 0.0, "p75": 0.6745}
LEVELS |= {"p90": 1.2816, "p95": 1.645}


def bench_recording(folder: Path, repeats: int) -> None:
    world = generate(1, 120, rng=make_rng(5), events=None)
    fn, kept = capturing_forecaster(members=["seasonal_naive", "ets"], cache=False)
    t0 = time.perf_counter()
    sim = simulate_campaign(world.data, "C001", 28, n_paths=10_000, seed=1, forecast_fn=fn)
    fit_and_simulate = time.perf_counter() - t0
    drivers = kept[0].drivers
    t0 = time.perf_counter()
    simulate_campaign(world.data, "C001", 28, n_paths=10_000, seed=1, drivers=drivers)
    simulate_only = time.perf_counter() - t0
    template = folder / "registry.sqlite"
    Ledger(f"sqlite:///{template}").dispose()  # the tables exist, as after a first command

    def record_once(url: str, seed: int) -> float:
        t0 = time.perf_counter()
        record = ForecastRecord.from_simulation(
            dataclasses.replace(sim, seed=seed),
            forecast=kept[0],
            source="bench",
            params_hash="p" * 64,
            data_hash="d" * 64,
        )
        ledger = Ledger(url)
        ledger.add_forecast(record.to_dict())
        ledger.dispose()
        return time.perf_counter() - t0

    # a process's first recording (simkit simulate records once): a database this process
    # has not opened yet, so its engine is made and its statements compiled
    first = []
    for i in range(repeats):
        copy = folder / f"first-{i}.sqlite"
        shutil.copyfile(template, copy)
        first.append(record_once(f"sqlite:///{copy}", i))
    # later recordings in one process (simkit run's parent, the dashboard)
    times = [record_once(f"sqlite:///{template}", i) for i in range(repeats)]
    commits = []
    raw = sqlite3.connect(folder / "raw.sqlite")
    raw.execute("create table t (x text)")
    raw.commit()
    for _ in range(repeats):
        t0 = time.perf_counter()
        raw.execute("insert into t values (?)", ("x" * 20_000,))
        raw.commit()
        commits.append(time.perf_counter() - t0)
    raw.close()
    print("## Recording (one forecast of 28 days, 10,000 paths)")
    print(
        f"fit + simulate: {fit_and_simulate:.2f} s; simulate with fitted drivers: "
        f"{simulate_only * 1000:.0f} ms"
    )
    print(
        f"recording, first in a process (simkit simulate): median "
        f"{statistics.median(first) * 1000:.1f} ms, worst {max(first) * 1000:.1f} ms of "
        f"{repeats} (bar: <= 50 ms)"
    )
    print(
        f"recording, later in the same process (simkit run, dashboard): median "
        f"{statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms of {repeats}"
    )
    print(
        f"  of which the disk's own cost: one bare SQLite commit of 20 KB (default journal, "
        f"fsync) takes {statistics.median(commits) * 1000:.1f} ms (median) on this disk now"
    )


def bench_scoring(folder: Path, n_campaigns: int, n_dates: int) -> None:
    days = 120 + 7 * n_dates + 28
    world = generate(n_campaigns, days, rng=make_rng(6), events=None)
    data = world.data
    rng = make_rng(7)
    url = f"sqlite:///{folder / 'scoring.sqlite'}"
    ledger = Ledger(url)
    first = pd.Timestamp(data["date"].min())
    by_campaign = {
        cid: g.set_index("date")["conversions"].astype(float)
        for cid, g in data.groupby("campaign_id")
    }
    t0 = time.perf_counter()
    for cid, series in by_campaign.items():
        for k in range(n_dates):
            as_of = first + pd.Timedelta(days=119 + 7 * k)
            dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=28)
            level = series[series.index <= as_of].tail(28).mean() * rng.lognormal(0, 0.1)
            sd = 0.25 * level + 1.0
            daily = {"date": [d.date().isoformat() for d in dates], "mean": [level] * 28}
            daily |= {name: [max(level + z * sd, 0.0)] * 28 for name, z in LEVELS.items()}
            record = ForecastRecord(
                campaign_id=str(cid),
                config="champion",
                source="bench",
                as_of=as_of.date().isoformat(),
                start_date=dates[0].date().isoformat(),
                horizon_days=28,
                metric="conversions",
                daily=daily,
                totals={"conversions": {"p50": 28 * level}},
                members=["seasonal_naive"],
                weights={},
                plan={"kind": "bench", "spend": [100.0] * 28},
                params_hash="p" * 64,
                data_hash="d" * 64,
                seed=k,
            )
            ledger.add_forecast(record.to_dict())
    written = time.perf_counter() - t0
    n = len(ledger.list_forecasts())
    ledger.dispose()
    t0 = time.perf_counter()
    result = score_ledger(data, url=url, cache_dir=None)
    seconds = time.perf_counter() - t0
    print(f"## Scoring ({n} recorded forecasts of 28 days, {n_campaigns} campaigns)")
    print(f"(recording them took {written:.1f} s)")
    print(
        f"score_ledger: {seconds:.2f} s for {len(result.forecasts)} forecasts scored, "
        f"{sum(s.days_scored for s in result.forecasts):,} forecast days, "
        f"{len(result.alerts)} alerts, scores appended (bar: <= 5 s)"
    )


def bench_alerts(n_worlds: int) -> None:
    dropped_hits = dropped_n = false_truth = false_beside = n_truth = n_beside = 0
    for seed in range(1, n_worlds + 1):
        world = generate(4, 148, rng=make_rng(seed), events=None)
        truth = world.data.copy()
        truth["date"] = pd.to_datetime(truth["date"])
        as_of = truth["date"].min() + pd.Timedelta(days=119)
        ledger = Ledger("sqlite://")
        ids = sorted(truth["campaign_id"].unique())
        for cid in ids:
            fn, kept = capturing_forecaster(members=["seasonal_naive", "ets"], cache=False)
            future = truth[(truth["campaign_id"] == cid) & (truth["date"] > as_of)]
            budget = future.sort_values("date")["budget"].to_numpy(float)
            sim = simulate_campaign(
                truth,
                cid,
                28,
                as_of=as_of,
                n_paths=2000,
                seed=1,
                forecast_fn=fn,
                budget=BudgetPlan(budget, None, "plan_file"),
            )
            record = ForecastRecord.from_simulation(
                sim, forecast=kept[0], source="bench", params_hash="p", data_hash="d"
            )
            ledger.add_forecast(record.to_dict())
        base = {a["campaign_id"] for a in score_ledger(truth, ledger=ledger, record=False).alerts}
        false_truth += len(base)
        n_truth += len(ids)
        for cid in ids:
            cut = truth.copy()
            after = (cut["campaign_id"] == cid) & (cut["date"] > as_of)
            cut.loc[after, "conversions"] = np.round(cut.loc[after, "conversions"] * 0.6)
            alerted = {
                a["campaign_id"] for a in score_ledger(cut, ledger=ledger, record=False).alerts
            }
            dropped_n += 1
            dropped_hits += cid in alerted
            false_beside += len(alerted - {cid})
            n_beside += len(ids) - 1
        print(f"world {seed}: alerted on the truth: {sorted(base) or 'none'}", flush=True)
    print(f"## Alerts ({n_worlds} worlds x 4 campaigns, 28 days after a forecast on day 120)")
    print(f"40% drop alerted: {dropped_hits}/{dropped_n} ({dropped_hits / dropped_n:.0%})")
    print(
        f"untouched campaigns alerted: {false_truth}/{n_truth} on the truth, "
        f"{false_beside}/{n_beside} beside a dropped campaign"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--dates", type=int, default=20)
    parser.add_argument("--alerts", action="store_true", help="also the alerts' power")
    parser.add_argument("--worlds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        bench_recording(Path(scratch), args.repeats)
        bench_scoring(Path(scratch), args.campaigns, args.dates)
    if args.alerts:
        bench_alerts(args.worlds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
