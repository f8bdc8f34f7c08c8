"""``simkit simulate`` records what it issued, with the forecast id in its JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import simkit.simulate.campaign as campaign_module
from simkit.cli.app import app
from simkit.data.synthetic import generate
from simkit.errors import ParamsError
from simkit.ledger import Ledger
from simkit.params import load_params


@pytest.fixture
def quick_forecaster(monkeypatch):
    """The project's forecaster with the seasonal naive member only (fast), patched where
    the simulation looks it up."""
    real = campaign_module.forecast_campaign

    def quick(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return real(*args, **{**kwargs, "members": ["seasonal_naive"], "max_cutoffs": 1})

    monkeypatch.setattr(campaign_module, "forecast_campaign", quick)


def test_simulate_records_the_forecast_and_prints_its_id(tmp_path, monkeypatch, quick_forecaster):
    monkeypatch.chdir(tmp_path)
    world = generate(2, 60, rng=np.random.default_rng(3), events=None)
    data_path, _ = world.write(tmp_path / "in")
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    args = ["simulate", str(data_path), "-c", "C002", "--horizon", "14", "--paths", "300"]
    runner = CliRunner()
    out = runner.invoke(app, [*args, "--registry", url, "--format", "json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    rows = Ledger(url).list_forecasts(full=True)
    assert [r["forecast_id"] for r in rows] == [payload["forecast_id"]]
    row = rows[0]
    assert row["campaign_id"] == "C002" and row["source"] == "simulate"
    assert row["as_of"] == payload["as_of"] and row["horizon_days"] == 14
    assert row["members"] == ["seasonal_naive"] and row["config"] == "champion"
    daily = [d for d in payload["daily"] if d["metric"] == "conversions"]
    assert row["daily"]["p90"] == pytest.approx([d["p90"] for d in daily], rel=1e-12)
    assert row["totals"]["conversions"] == pytest.approx(payload["totals"]["conversions"])
    assert len(row["plan"]["spend"]) == 14 and len(row["cache_keys"]) == 2
    assert len(row["data_hash"]) == 64 and len(row["params_hash"]) == 64
    # the same command again issues the same forecast: one record
    again = runner.invoke(app, [*args, "--registry", url, "--format", "json"])
    assert json.loads(again.stdout)["forecast_id"] == payload["forecast_id"]
    assert len(Ledger(url).list_forecasts()) == 1
    table = runner.invoke(app, [*args, "--registry", url])
    assert f"Recorded in the forecast ledger as {payload['forecast_id']}" in table.stdout
    skipped = runner.invoke(app, [*args, "--registry", url, "--no-record", "--format", "json"])
    assert "forecast_id" not in json.loads(skipped.stdout)
    other_seed = runner.invoke(app, [*args, "--registry", url, "--seed", "3", "-f", "json"])
    assert json.loads(other_seed.stdout)["forecast_id"] != payload["forecast_id"]
    assert len(Ledger(url).list_forecasts()) == 2


@pytest.mark.parametrize(
    ("challenger", "message"),
    [
        ("{name: champion, members: [ets]}", r"'champion' is not a challenger name"),
        ("{name: sticky}", r"a challenger changes members or persistent_share"),
        (
            "{name: sticky, persistant_share: 0.9}",
            r"field 'challengers\.0\.persistant_share': unknown key.*persistent_share",
        ),
        ("{name: sticky, persistent_share: 1.5}", r"challengers\.0\.persistent_share"),
    ],
)
def test_challenger_params_are_checked_where_they_enter(tmp_path, challenger, message):
    path = tmp_path / "run.yaml"
    path.write_text(f"data: x.csv\nchallengers: [{challenger}]\n")
    with pytest.raises(ParamsError, match=message):
        load_params(path)
