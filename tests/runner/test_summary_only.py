"""The summary-only batch path (``publish: summary`` / ``--summary-only``) and
``publish: flagged``: engines in the worker, summary.json for every campaign, HTML only
where a campaign is flagged, and an index that links every campaign."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simkit.params import RunParams
from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.report import build_campaign_report
from simkit.runner import run_batch
from simkit.runner.execute import flag_reasons

from .conftest import LEAN

IDS = ["C001", "C002", "C003"]


def _params(test_data: Path, out: Path, **kw) -> RunParams:
    return RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=IDS,
        output_dir=str(out),
        **LEAN,
        **kw,
    )


@pytest.fixture(scope="module")
def summary_run(tmp_path_factory: pytest.TempPathFactory, test_data: Path):
    os.environ.setdefault("TQDM_DISABLE", "1")
    out = tmp_path_factory.mktemp("summary")
    registry = Registry(f"sqlite:///{out / 'registry.sqlite'}")
    params = _params(test_data, out / "reports", publish="summary")
    result = run_batch(params, workers=2, registry=registry, progress=False)
    return result, registry, params


@pytest.mark.slow
def test_summary_only_writes_summary_json_and_no_report(summary_run) -> None:
    result, registry, _ = summary_run
    assert result.ok, [o.error for o in result.failed]
    out = result.output_dir
    for cid in IDS:
        assert {p.name for p in (out / safe_name(cid)).iterdir()} == {"summary.json"}
    index = (out / "index.html").read_text()
    for cid in IDS:
        assert f'href="{safe_name(cid)}/summary.json"' in index, "the index links the summary"
    manifest = json.loads((out / "run.json").read_text())
    assert [c["published"] for c in manifest["campaigns"]] == ["summary"] * 3
    assert {c["campaign_id"] for c in manifest["campaigns"]} == set(IDS)
    run = registry.get_run(result.run_id)
    assert [c["report_path"] for c in run["campaigns"]] == [None] * 3
    assert all(c["summary_path"].endswith("summary.json") for c in run["campaigns"])
    assert not (out / ".staging").exists()


@pytest.mark.slow
def test_summary_only_numbers_equal_the_notebook_build(summary_run) -> None:
    """The worker builds the same summary as the report notebook would (same engines,
    same sections, same seed)."""
    result, _, params = summary_run
    published = json.loads((result.output_dir / safe_name("C002") / "summary.json").read_text())
    assert published.pop("run_id") == result.run_id
    again = build_campaign_report(params.model_copy(update={"campaigns": ["C002"]}))
    assert published == json.loads(json.dumps(again.summary))


@pytest.mark.slow
def test_outcomes_reach_the_parent_without_their_summary(summary_run) -> None:
    """Results stream to disk: the parent receives only the campaign's state."""
    result, _, _ = summary_run
    for outcome in result.outcomes:
        assert set(outcome.summary) == {"campaign_id", "campaign_state", "campaign_last_date"}


@pytest.mark.slow
def test_flagged_renders_html_only_for_flagged_campaigns(
    summary_run, tmp_path: Path, test_data: Path
) -> None:
    first, _, _ = summary_run
    summaries = {
        cid: json.loads((first.output_dir / safe_name(cid) / "summary.json").read_text())
        for cid in IDS
    }
    expected = {cid for cid, s in summaries.items() if flag_reasons(s, 0.5, 0.25)}
    assert 0 < len(expected) < len(IDS), "the fixture data flag some campaigns, not all"
    params = _params(test_data, tmp_path / "reports", publish="flagged")
    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    result = run_batch(params, workers=2, registry=registry, progress=False)
    assert result.ok, [o.error for o in result.failed]
    out = result.output_dir
    with_html = {cid for cid in IDS if (out / safe_name(cid) / "report.html").is_file()}
    assert with_html == expected
    for cid in IDS:
        assert (out / safe_name(cid) / "summary.json").is_file()
    index = (out / "index.html").read_text()
    for cid in IDS:
        page = "report.html" if cid in expected else "summary.json"
        assert f'href="{safe_name(cid)}/{page}"' in index
    manifest = {
        c["campaign_id"]: c for c in json.loads((out / "run.json").read_text())["campaigns"]
    }
    assert {c for c, item in manifest.items() if item["flags"]} == expected
    assert {c for c, item in manifest.items() if item["published"] == "report"} == expected
    # a flagged report's summary is the one the summary-only run wrote (handed over)
    flagged = sorted(expected)[0]
    again = json.loads((out / safe_name(flagged) / "summary.json").read_text())
    before = summaries[flagged]
    assert again.pop("numbers") == before.pop("numbers")
    # the parameters differ in publish only, and so does their hash
    assert again["provenance"].pop("params_hash") != before["provenance"].pop("params_hash")
    assert {k: v for k, v in again.items() if k != "run_id"} == {
        k: v for k, v in before.items() if k != "run_id"
    }


def _summary(alerts: dict, recs: list, forecast_p50: float = 100.0) -> dict:
    return {
        "numbers": {
            "risks": {"alerts": alerts},
            "pivots": {"recommendations": recs},
            "forecast": {"totals": {"conversions": {"p50": forecast_p50}}},
        }
    }


def test_flag_reasons_risk_and_pivot_thresholds() -> None:
    quiet = _summary({"audience_fatigue": 0.49, "budget_pacing": None}, [])
    assert flag_reasons(quiet, 0.5, 0.25) == ()
    risky = _summary({"audience_fatigue": 0.5, "performance_dip": 0.9}, [])
    assert flag_reasons(risky, 0.5, 0.25) == (
        "risk performance_dip: p = 0.90",
        "risk audience_fatigue: p = 0.50",
    )
    pivot = {"type": "creative_refresh", "score": 3.0, "impact": {"conversions": {"p50": 25.0}}}
    assert flag_reasons(_summary({}, [pivot]), 0.5, 0.25) == (
        "pivot creative_refresh: +25 conversions (25% of the forecast)",
    )
    assert flag_reasons(_summary({}, [pivot]), 0.5, 0.3) == ()
    losing = {**pivot, "score": -1.0}
    assert flag_reasons(_summary({}, [losing]), 0.5, 0.1) == ()
    assert flag_reasons({}, 0.5, 0.25) == ()


def test_publish_is_validated() -> None:
    with pytest.raises(ValueError, match="publish"):
        RunParams(data="x", publish="html")
    with pytest.raises(ValueError, match="flag_threshold"):
        RunParams(data="x", flag_threshold=0)


def test_a_worker_loads_the_data_once_until_the_file_changes(
    test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simkit.runner import execute

    data = tmp_path / "campaigns.csv"
    data.write_bytes((test_data / "report" / "campaigns.csv").read_bytes())
    calls: list[str] = []
    real = execute.load

    def counting(path, **kw):
        calls.append(str(path))
        return real(path, **kw)

    monkeypatch.setattr(execute, "load", counting)
    monkeypatch.setattr(execute, "_loaded", {})
    first = execute._load_once(RunParams(data=str(data), campaigns=["C001"]))
    again = execute._load_once(RunParams(data=str(data), campaigns=["C002"]))
    assert again is first and len(calls) == 1
    skip = execute._load_once(RunParams(data=str(data), campaigns=["C002"], on_bad_rows="skip"))
    assert skip is not first and len(calls) == 2
    data.write_text(data.read_text().replace("C003", "C004"))
    changed = execute._load_once(RunParams(data=str(data), campaigns=["C001"]))
    assert len(calls) == 3 and "C004" in changed.campaign_ids


def _numbers(out: Path, cid: str) -> dict:
    summary = json.loads((out / safe_name(cid) / "summary.json").read_text())
    summary.pop("run_id")
    return summary


@pytest.mark.slow
def test_dask_local_cluster_gives_the_pool_s_summaries(
    summary_run, tmp_path: Path, test_data: Path
) -> None:
    """The same batch on a 2-worker LocalCluster: identical summary.json files."""
    distributed = pytest.importorskip("distributed")
    pool, _, _ = summary_run
    params = _params(test_data, tmp_path / "reports", publish="summary")
    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_batch(
            params, scheduler=cluster.scheduler_address, registry=registry, progress=False
        )
    assert result.ok, [o.error for o in result.failed]
    for cid in IDS:
        assert {p.name for p in (result.output_dir / safe_name(cid)).iterdir()} == {"summary.json"}
        assert _numbers(result.output_dir, cid) == _numbers(pool.output_dir, cid), cid


@pytest.mark.slow
def test_dask_adaptive_cluster(summary_run, tmp_path: Path, test_data: Path) -> None:
    """``cluster.adapt(minimum=1, maximum=2)``: the batch runs on the workers the cluster
    adds (from none at the start), within the bounds, with the pool's numbers."""
    distributed = pytest.importorskip("distributed")
    pool, _, _ = summary_run
    params = _params(test_data, tmp_path / "reports", publish="summary").model_copy(
        update={"campaigns": ["C001"]}
    )
    registry = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    with distributed.LocalCluster(
        n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert len(cluster.workers) == 0
        cluster.adapt(minimum=1, maximum=2, interval="200ms")
        result = run_batch(
            params, scheduler=cluster.scheduler_address, registry=registry, progress=False
        )
        assert 1 <= len(cluster.workers) <= 2
    assert result.ok, [o.error for o in result.failed]
    assert _numbers(result.output_dir, "C001") == _numbers(pool.output_dir, "C001")
