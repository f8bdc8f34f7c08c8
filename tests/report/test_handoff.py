"""Engine results handed from the batch worker to the report kernel (issue 14, speed):
taken only when made for the same campaign, parameters, data and day; otherwise the kernel
computes them as a notebook run alone does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simkit.data import worlds
from simkit.report import RunParams, handoff, load_campaign
from simkit.report.engines import EngineResults, run_engines

_LEAN = {"members": ["seasonal_naive", "ets"], "backtest_cutoffs": 1, "n_paths": 300}


@pytest.fixture(scope="module", params=["a-full-metadata", "family-b"])
def shape(
    request: pytest.FixtureRequest, test_data: Path, tmp_path_factory
) -> tuple[str, str, str]:
    """The data file and its two campaigns: the committed family-A file with its metadata,
    or a family-B file with none beside it (issue 23: the shape table counts each)."""
    if request.param == "a-full-metadata":
        return str(test_data / "report" / "campaigns.csv"), "C001", "C002"
    world = worlds.generate(2, 90, rng=np.random.default_rng(23))
    path = tmp_path_factory.mktemp("family_b") / "ads.csv"
    world.data.assign(date=world.data["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return str(path), "B001", "B002"


def _ctx(shape: tuple[str, str, str], **override):
    data, first, _ = shape
    return load_campaign(RunParams(data=data, **{"campaigns": [first], **_LEAN, **override}))


@pytest.fixture(scope="module")
def ctx(shape):
    return _ctx(shape)


def _marked() -> EngineResults:
    """Results no engine would return, so a test can tell they were handed over."""
    return EngineResults(absent={"forecast": "handed over by the worker"})


def test_results_made_for_the_same_inputs_are_taken(
    ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "engines.pickle"
    handoff.save(path, ctx, _marked())
    monkeypatch.setenv(handoff.ENV_VAR, str(path))
    taken = run_engines(ctx)
    assert taken.absent == {"forecast": "handed over by the worker"}


def test_results_made_for_another_seed_are_not_taken(
    ctx, shape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "engines.pickle"
    handoff.save(path, _ctx(shape, seed=ctx.params.seed + 1), _marked())
    monkeypatch.setenv(handoff.ENV_VAR, str(path))
    assert handoff.load(ctx) is None


def test_results_made_for_another_campaign_are_not_taken(
    ctx, shape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "engines.pickle"
    handoff.save(path, _ctx(shape, campaigns=[shape[2]]), _marked())
    monkeypatch.setenv(handoff.ENV_VAR, str(path))
    assert handoff.load(ctx) is None


@pytest.mark.parametrize("content", [None, b"", b"not a pickle"])
def test_no_file_or_an_unreadable_one_means_compute(
    ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None
) -> None:
    path = tmp_path / "engines.pickle"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv(handoff.ENV_VAR, str(path))
    assert handoff.load(ctx) is None


def test_without_the_variable_nothing_is_read(ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(handoff.ENV_VAR, raising=False)
    assert handoff.load(ctx) is None
