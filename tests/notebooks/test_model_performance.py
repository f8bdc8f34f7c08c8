"""notebooks/model_performance.ipynb: thin, stripped, tagged, runs under nbval, and what it
shows is the ledger fixture's truth."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from simkit.data import load
from simkit.ledger import model_performance

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "model_performance.ipynb"
FIXTURE = REPO / "tests" / "data" / "ledger"
_FORBIDDEN = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.For,
    ast.While,
    ast.ListComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.With,
    ast.Try,
)


def test_the_notebook_is_thin_stripped_and_tagged():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert [c for c in code if "parameters" in c.metadata.get("tags", [])] == [code[0]]
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, _FORBIDDEN), cell.source
            if isinstance(node, ast.Import):
                assert all(a.name == "simkit" for a in node.names)
            if isinstance(node, ast.ImportFrom):
                assert node.module == "simkit"
    params = pm.inspect_notebook(str(NOTEBOOK))
    assert set(params) == {"data", "mapping", "registry"}
    assert (NOTEBOOK.parent / ast.literal_eval(params["data"]["default"])).is_file()


def test_the_fixture_scores_as_the_notebook_shows(monkeypatch):
    monkeypatch.chdir(NOTEBOOK.parent)
    before = (FIXTURE / "registry.sqlite").read_bytes()
    perf = model_performance(
        load("../tests/data/ledger/campaigns.csv").data,
        url="sqlite:///../tests/data/ledger/registry.sqlite",
    )
    assert perf.n_forecasts == 8 and len(perf.scores.forecasts) == 8
    summary = perf.summary_table()
    assert summary["config"].tolist() == ["champion", "persistent_90"]
    assert summary["days_scored"].tolist() == [4 * 21, 4 * 21]
    calibration = perf.calibration_frame()
    assert len(calibration) == 6 and calibration["observed"].between(0, 1).all()
    pit = perf.pit_frame()
    assert pit.groupby("config")["share"].sum().round(12).tolist() == [1.0, 1.0]
    (comparison,) = perf.comparisons
    assert comparison.challenger == "persistent_90" and comparison.pairs == 4 * 21
    assert perf.feedback_table()["note"].tolist() == ["close to what happened"]
    assert (FIXTURE / "registry.sqlite").read_bytes() == before  # read-only


@pytest.mark.slow
def test_nbval_runs_the_model_performance_notebook():
    env = {**os.environ, "TQDM_DISABLE": "1"}
    env.pop("SIMKIT_REGISTRY_URL", None)
    before = (FIXTURE / "registry.sqlite").read_bytes()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::DeprecationWarning",
            "-o",
            "addopts=",
            str(NOTEBOOK),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert (FIXTURE / "registry.sqlite").read_bytes() == before
