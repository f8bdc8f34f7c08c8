"""The shape table's census (tests/conftest.py, issue 23) classifies what tests read."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from simkit.data.synthetic import generate

_spec = importlib.util.spec_from_file_location("_census", Path(__file__).parent / "conftest.py")
census = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(census)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("world = generate(2, 30, rng=rng)\nforecast(world.data)", census.A_PARTIAL),
        ("data_path, _ = world.write(tmp_path)\nrun(data_path)", census.A_FULL),
        ("detect_risks(world.data, world.campaigns)", census.A_FULL),
        ("compare_campaigns(world, industry='Travel')", census.A_FULL),
        (
            "loaded = load(DATA)\nWhatIfModel(loaded.data, s, campaigns=loaded.campaigns)",
            census.A_FULL,
        ),
        ('RunParams(data=str(test_data / "report" / "campaigns.csv"))', census.A_FULL),
        ('raw = pd.read_csv(test_data / "report" / "campaigns.csv")', census.A_PARTIAL),
        ('p.write_bytes((test_data / "report" / "campaigns.csv").read_bytes())', census.A_PARTIAL),
        ('world.write(p)\nframe = world.data.drop(columns=["creative_id"])', census.A_PARTIAL),
        ('world.write(p)\nframe = world.data.drop(columns="budget")', census.A_PARTIAL),
        ('runner.invoke(app, ["generate", str(tmp_path), "--days", "40"])', census.A_FULL),
    ],
)
def test_family_a_is_split_by_whether_its_metadata_reaches_the_code(text, label) -> None:
    assert census._FAMILY_A.search(text)
    assert census._family_a_label(text) == label


@pytest.mark.parametrize(
    "text",
    [
        "@dataclass(frozen=True)\nclass Box:\n    x: int = 1",
        'audit.record("report.published", path=log)',
        '{p.name for p in NOTEBOOKS} == {"portfolio_report.ipynb"}',
        'POSITIONAL = {"generate_synthetic": 0}',
    ],
)
def test_words_that_name_no_data_are_not_family_a(text) -> None:
    assert not census._FAMILY_A.search(text)


def _written(tmp_path: Path) -> Path:
    world = generate(1, 10, rng=np.random.default_rng(1), events=None)
    return world.write(tmp_path)[0]


@pytest.fixture()
def sample_path(tmp_path: Path) -> Path:
    return _written(tmp_path)


def test_helpers_a_fixture_calls_are_read(request, sample_path) -> None:
    # the sidecar is written in _written, which only the fixture names
    assert sample_path.with_name("campaigns_meta.yaml").is_file()
    assert "world.write(tmp_path)" in census._sources(request.node)
    assert census._shape_of(request.node) == census.A_FULL
