"""A real ``simkit run`` records each report's forecast in the ledger, with its run id."""

from __future__ import annotations

import json

import pytest

from simkit.ledger import Ledger
from simkit.params import RunParams
from simkit.registry import Registry
from simkit.runner import run_batch

pytestmark = pytest.mark.slow  # Papermill and nbconvert on one campaign (about 30-60 s)


def test_run_records_each_report_forecast(tmp_path, test_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    monkeypatch.setenv("SIMKIT_REGISTRY_URL", url)
    params = RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=["C001"],
        output_dir=str(tmp_path / "reports"),
        members=["seasonal_naive", "ets"],
        backtest_cutoffs=1,
        n_paths=300,
        challengers=[{"name": "naive_only", "members": ["seasonal_naive"]}],
    )
    result = run_batch(params, workers=1, registry=Registry(url), progress=False)
    assert result.ok
    (folder,) = [p for p in (tmp_path / "reports").iterdir() if (p / "summary.json").is_file()]
    summary = json.loads((folder / "summary.json").read_text())
    rows = Ledger(url).list_forecasts()
    by_config = {r["config"]: r for r in rows}
    assert set(by_config) == {"champion", "naive_only"}
    assert by_config["champion"]["forecast_id"] == summary["forecast_id"]
    assert {r["run_id"] for r in rows} == {result.run_id}
    assert {r["source"] for r in rows} == {"run"}
    html = (folder / "report.html").read_text()
    assert "How our last forecasts did" in html and summary["forecast_id"] in html
