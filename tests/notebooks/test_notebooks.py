from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from simkit.params import OPS_FIELDS, RunParams

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*_report.ipynb"))
_FORBIDDEN = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.With,
    ast.Try,
)


def test_both_report_notebooks_exist() -> None:
    assert {p.name for p in NOTEBOOKS} == {"campaign_report.ipynb", "portfolio_report.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin(path: Path) -> None:
    """Notebooks call simkit and display: no def, class, loop or import of anything else."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, _FORBIDDEN), (
                f"{path.name}: {type(node).__name__} in cell:\n{cell.source}"
            )
            if isinstance(node, ast.Import):
                assert all(a.name == "simkit" for a in node.names), cell.source
            if isinstance(node, ast.ImportFrom):
                assert node.module == "simkit", cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_stripped_with_parameters_tag(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameter_names_equal_the_model_fields(path: Path) -> None:
    names = set(pm.inspect_notebook(str(path)))
    assert names == set(RunParams.model_fields) - set(OPS_FIELDS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_default_parameters_validate(path: Path) -> None:
    defaults = {
        n: ast.literal_eval(p["default"]) for n, p in pm.inspect_notebook(str(path)).items()
    }
    params = RunParams(**defaults)
    assert (NOTEBOOK_DIR / params.data).is_file(), "defaults point at tiny fixture data"


@pytest.mark.slow
def test_nbval_runs_both_notebooks() -> None:
    """nbval (lax) in the current environment, with the notebooks' tiny default parameters."""
    env = {**os.environ, "TQDM_DISABLE": "1"}
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
            *map(str, NOTEBOOKS),
        ],
        cwd=NOTEBOOK_DIR.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
