"""Write the forecast-ledger fixture in ``tests/data/ledger`` (the model-performance
notebook's default parameters and its nbval test read it).

Two generated campaigns (84 days, no injected events); each is forecast as of day 49 and
day 56 for 21 days with the budget that then ran, by the champion (seasonal naive) and by a
challenger in shadow (``persistent_90``: the simulation's ``persistent_share`` 0.9), and one
reader's feedback is stored.  ``campaigns.csv`` holds all 84 days, so every forecast has its
actuals.  Run: ``.venv/bin/python scripts/make_ledger_fixture.py`` and commit both files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simkit._rng import make_rng
from simkit.data.synthetic import generate
from simkit.ledger import ForecastRecord, Ledger, capturing_forecaster, give_feedback
from simkit.simulate import simulate_campaign
from simkit.simulate.budget import BudgetPlan
from simkit.simulate.engine import EngineConfig

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "ledger"
HORIZON = 21


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / "registry.sqlite"
    database.unlink(missing_ok=True)
    world = generate(2, 84, rng=make_rng(4), events=None)
    data = world.data.copy()
    data["date"] = pd.to_datetime(data["date"])
    ledger = Ledger(f"sqlite:///{database}")
    first = data["date"].min()
    ids = []
    for cid in sorted(data["campaign_id"].unique()):
        for day in (48, 55):
            as_of = first + pd.Timedelta(days=day)
            future = data[(data["campaign_id"] == cid) & (data["date"] > as_of)]
            budget = BudgetPlan(
                future.sort_values("date")["budget"].to_numpy(float)[:HORIZON], None, "plan_file"
            )
            fn, kept = capturing_forecaster(members=["seasonal_naive"], cache=False)
            for name, config in (
                ("champion", None),
                ("persistent_90", EngineConfig(persistent_share=0.9)),
            ):
                sim = simulate_campaign(
                    data,
                    cid,
                    HORIZON,
                    as_of=as_of,
                    budget=budget,
                    n_paths=1000,
                    seed=3,
                    forecast_fn=fn if not kept else None,
                    drivers=kept[0].drivers if kept else None,
                    config=config,
                )
                record = ForecastRecord.from_simulation(
                    sim,
                    forecast=kept[0],
                    config=name,
                    source="fixture",
                    params_hash="0" * 64,
                    data_hash="0" * 64,
                )
                ledger.add_forecast(record.to_dict())
                ids.append(record.forecast_id)
    give_feedback(ids[0], useful=True, note="close to what happened", by="fixture", ledger=ledger)
    ledger.dispose()
    out = data.copy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    out.to_csv(OUT / "campaigns.csv", index=False)
    print(f"wrote {OUT / 'campaigns.csv'} and {database} ({len(ids)} forecasts)")


if __name__ == "__main__":
    main()
