from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import papermill as pm
import pytest

import simkit
from simkit.data.synthetic import generate
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


# -- the data scientist's notebooks (issue 22) -----------------------------------------------
WORKBENCH = [NOTEBOOK_DIR / f"{n}.ipynb" for n in ("quickstart", "compare_models", "what_if")]
#: The one cell allowed to define a class: the custom member is compare_models' lesson.
_LESSON_TAG = "custom-member"
REPO_SAMPLE = (NOTEBOOK_DIR.parent / "simkit" / "dashboard" / "sample" / "campaigns.csv").resolve()


@pytest.mark.parametrize("path", WORKBENCH, ids=lambda p: p.name)
def test_workbench_notebook_is_thin_stripped_and_parameterised(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert {"data", "mapping", "campaign"} <= set(pm.inspect_notebook(str(path)))
    for cell in code:
        if _LESSON_TAG in cell.metadata.get("tags", []):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, _FORBIDDEN), f"{path.name}: {type(node).__name__}"
            if isinstance(node, ast.Import):
                assert all(a.name == "simkit" for a in node.names), cell.source
            if isinstance(node, ast.ImportFrom):
                assert node.module == "simkit", cell.source
    lessons = [c for c in code if _LESSON_TAG in c.metadata.get("tags", [])]
    assert len(lessons) == (1 if path.name == "compare_models.ipynb" else 0)


def test_workbench_defaults_read_the_shipped_sample() -> None:
    """``data = None`` reads ``simkit.sample_data()``, which ships in the wheel too (a path
    relative to the notebook would not: the wheel bundles notebooks/ apart from the package)."""
    for path in WORKBENCH:
        assert pm.inspect_notebook(str(path))["data"]["default"] == "None"
        source = nbformat.read(path, as_version=4).cells
        assert any("simkit.load(data or simkit.sample_data()" in c.source for c in source)
    assert simkit.sample_data().resolve() == REPO_SAMPLE


@pytest.fixture(scope="module")
def unseen_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A generated file whose campaign ids no notebook has seen (nor the sample has)."""
    world = generate(2, 84, rng=np.random.default_rng(2207))
    data = world.data.assign(campaign_id=world.data["campaign_id"].map(lambda c: f"Z-{c}-new"))
    folder = tmp_path_factory.mktemp("unseen")
    path = folder / "never_seen.csv"
    data.to_csv(path, index=False)
    return path, "Z-C002-new"


_CHECKS = {
    "quickstart.ipynb": (
        "Simulation of Z-C002-new",
        "Forecast of Z-C002-new",
        "Risks as of",
        "Pivots as of",
    ),  # fmt: skip
    "compare_models.ipynb": ("Backtest of Z-C002-new", "Calibration of the ensemble", "auto_ets"),
    "what_if.ipynb": ("What-if on Z-C002-new", "Simulation of Z-C002-new"),
}


@pytest.mark.slow
@pytest.mark.parametrize("path", WORKBENCH, ids=lambda p: p.name)
def test_workbench_notebook_runs_on_a_file_and_campaign_it_has_never_seen(
    path: Path, unseen_file: tuple[Path, str], tmp_path: Path
) -> None:
    data, campaign = unseen_file
    out = tmp_path / path.name
    parameters = {"data": str(data), "mapping": None, "campaign": campaign, "horizon_days": 14}
    declared = pm.inspect_notebook(str(path))
    parameters.update({"n_paths": 300} if "n_paths" in declared else {})
    parameters.update({"members": ["seasonal_naive", "ets"]} if "members" in declared else {})
    pm.execute_notebook(
        str(path),
        str(out),
        parameters=parameters,
        cwd=str(tmp_path),  # the forecast cache goes here, not into the repository
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    html = "".join(
        o.get("data", {}).get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    for text in _CHECKS[path.name]:
        assert text in html, f"{path.name}: {text!r} not shown"
    assert "<svg" in html
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
