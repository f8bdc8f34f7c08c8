from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simkit._rng import make_rng
from simkit.data.synthetic import generate
from simkit.ledger import ForecastRecord, Ledger, capturing_forecaster
from simkit.simulate import simulate_campaign
from simkit.simulate.budget import BudgetPlan

HORIZON = 28
HISTORY_DAYS = 120
MEMBERS = ["seasonal_naive", "ets"]
DROPPED = "C001"


@dataclass(frozen=True)
class IssuedWorld:
    """Four generated campaigns forecast on day 120 with the plan that then ran, and the
    true 28 days after it, with C001's conversions cut by 40% (a degradation)."""

    folder: Path
    url: str
    cache_dir: Path
    as_of: pd.Timestamp
    history: pd.DataFrame
    truth: pd.DataFrame
    with_drop: pd.DataFrame
    history_csv: Path
    drop_csv: Path
    records: dict[str, ForecastRecord]


def issue(
    data: pd.DataFrame,
    campaign_id: str,
    as_of: pd.Timestamp,
    *,
    cache_dir: Path | None,
    seed: int = 1,
) -> tuple[object, object]:
    """A 28-day simulation from ``as_of`` with the budget that then ran (the plan known)."""
    fn, kept = capturing_forecaster(members=MEMBERS, cache=cache_dir or False)
    future = data[(data["campaign_id"] == campaign_id) & (data["date"] > as_of)]
    budget = future.sort_values("date")["budget"].to_numpy(float)[:HORIZON]
    sim = simulate_campaign(
        data,
        campaign_id,
        HORIZON,
        as_of=as_of,
        budget=BudgetPlan(budget, None, "plan_file"),
        n_paths=2000,
        seed=seed,
        forecast_fn=fn,
    )
    return sim, kept[0]


@pytest.fixture(scope="session")
def issued(tmp_path_factory) -> IssuedWorld:
    folder = tmp_path_factory.mktemp("ledger")
    world = generate(4, HISTORY_DAYS + HORIZON, rng=make_rng(2), events=None)
    truth = world.data.copy()
    truth["date"] = pd.to_datetime(truth["date"])
    as_of = truth["date"].min() + pd.Timedelta(days=HISTORY_DAYS - 1)
    url = f"sqlite:///{folder / 'registry.sqlite'}"
    ledger = Ledger(url)
    cache_dir = folder / "cache"
    records = {}
    for cid in sorted(truth["campaign_id"].unique()):
        sim, forecast = issue(truth, cid, as_of, cache_dir=cache_dir)
        record = ForecastRecord.from_simulation(
            sim, forecast=forecast, source="test", params_hash="p" * 64, data_hash="d" * 64
        )
        assert ledger.add_forecast(record.to_dict())
        records[cid] = record
    ledger.dispose()
    with_drop = truth.copy()
    after = (with_drop["campaign_id"] == DROPPED) & (with_drop["date"] > as_of)
    with_drop.loc[after, "conversions"] = np.round(with_drop.loc[after, "conversions"] * 0.6)
    with_drop.loc[after, "revenue"] = with_drop.loc[after, "revenue"] * 0.6
    history = truth[truth["date"] <= as_of]
    history_csv, drop_csv = folder / "history.csv", folder / "with_drop.csv"
    for frame, path in ((history, history_csv), (with_drop, drop_csv)):
        out = frame.copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        out.to_csv(path, index=False)
    return IssuedWorld(
        folder=folder,
        url=url,
        cache_dir=cache_dir,
        as_of=as_of,
        history=history,
        truth=truth,
        with_drop=with_drop,
        history_csv=history_csv,
        drop_csv=drop_csv,
        records=records,
    )


@pytest.fixture
def ledger_copy(issued, tmp_path) -> str:
    """A private copy of the issued world's ledger (tests that score write to it)."""
    target = tmp_path / "registry.sqlite"
    target.write_bytes((issued.folder / "registry.sqlite").read_bytes())
    return f"sqlite:///{target}"
