from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from simkit.params import RunParams
from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.report import PIVOTS_FILE, build_campaign_report, data_hash
from simkit.report.pivots import compute_run_pivots, pivot_key
from simkit.runner import NOTEBOOKS, order_campaigns, run_batch

from .conftest import LEAN, RecordingRegistry
from .html_checks import external_references

pytestmark = pytest.mark.slow


def test_every_campaign_is_published_with_an_index(published) -> None:
    result, _, _ = published
    assert result.ok, [o.error for o in result.failed]
    out = result.output_dir
    for cid in ("C001", "C002"):
        assert {p.name for p in (out / safe_name(cid)).iterdir()} == {
            "report.html",
            "report.ipynb",
            "summary.json",
        }
    index = (out / "index.html").read_text()
    for cid in ("C001", "C002"):
        assert f'href="{safe_name(cid)}/report.html"' in index
    assert not (out / ".staging").exists(), "staging is cleaned up"
    for page in (
        out / "index.html",
        *(out / safe_name(c) / "report.html" for c in ("C001", "C002")),
    ):
        text = page.read_text()
        assert f'<meta name="simkit-run-id" content="{result.run_id}">' in text, page
        assert f"simkit run {result.run_id}</p>" in text, "the run id is shown"
    assert json.loads((out / "run.json").read_text())["pivots"] == PIVOTS_FILE


def test_pivots_are_computed_once_and_read_by_every_report(published) -> None:
    result, _, params = published
    out = result.output_dir
    payload = json.loads((out / PIVOTS_FILE).read_text())
    assert payload["status"] == "ok", payload.get("error")
    assert payload["key"] == pivot_key(params, data_hash(params.data))
    # the workers made the campaigns' sessions; the parent alone makes the same payload
    from simkit.data import load

    alone = compute_run_pivots(params, load(params.data), data_hash(params.data))
    assert payload == alone
    alloc = payload["result"]["allocation"]
    for cid in ("C001", "C002"):
        summary = json.loads((out / safe_name(cid) / "summary.json").read_text())
        pivots = summary["numbers"]["pivots"]
        assert pivots["status"] == "ok" and pivots["as_of"] == payload["result"]["as_of"]
        assert pivots["budget_daily"]["allocation"] == alloc[cid]
        report = (out / safe_name(cid) / "report.html").read_text()
        assert "<h2>Pivots</h2>" in report and f"Optimal daily budget for {cid}" in report
    index = (out / "index.html").read_text()
    assert "<h2>Budget reallocation</h2>" in index and "optimal / day" in index
    assert "P(gain &gt; 0)" in index


def test_registry_marks_each_campaign_running_when_its_worker_starts(published) -> None:
    result, registry, _ = published
    for outcome in result.outcomes:
        mine = [e for e in registry.events if e[1] == outcome.campaign_id]
        assert [kind for kind, *_ in mine] == ["running", "done"], mine
        assert mine[0][2] == pytest.approx(outcome.started_at), "the worker's own start time"


def test_published_html_fetches_nothing_from_a_cdn(published) -> None:
    result, _, _ = published
    for page in [result.index_path, *result.output_dir.glob("*/report.html")]:
        html = page.read_text()
        assert external_references(html) == [], page
        assert "cdn.jsdelivr" not in html and "require.js" not in html
    report = (result.output_dir / safe_name("C001") / "report.html").read_text()
    assert 'data-mime-type="image/svg+xml"' in report, "the chart is an inline SVG"
    assert "import simkit" not in report, "input cells are hidden"


def test_no_absolute_path_in_published_notebooks(published) -> None:
    result, _, _ = published
    for path in result.output_dir.glob("*/report.ipynb"):
        text = path.read_text()
        nb = nbformat.reads(text, as_version=4)
        meta = json.dumps(nb.metadata)
        assert not re.search(r'"/(?:tmp|home|root|work|usr|opt)/', meta), meta
        assert str(result.output_dir) not in text
        if path.parent.name != "_portfolio":
            [cid] = nb.metadata["papermill"]["parameters"]["campaigns"]
            assert safe_name(cid) == path.parent.name


def test_summary_json_equals_an_in_process_build(published) -> None:
    """Same parameters and seed give the same summary.json numbers."""
    result, _, params = published
    published_summary = json.loads(
        (result.output_dir / safe_name("C002") / "summary.json").read_text()
    )
    assert published_summary.pop("run_id") == result.run_id, "the runner stamps its run id"
    again = build_campaign_report(params.model_copy(update={"campaigns": ["C002"]}))
    assert published_summary == json.loads(json.dumps(again.summary))


def test_registry_records_the_run(published) -> None:
    result, registry, _ = published
    run = registry.get_run(result.run_id)
    assert run["status"] == "succeeded"
    assert run["index_path"] == str(result.index_path)
    assert {c["campaign_id"]: c["status"] for c in run["campaigns"]} == {
        "C001": "succeeded",
        "C002": "succeeded",
    }
    assert all(c["report_path"].endswith("report.html") for c in run["campaigns"])


def test_priority_order() -> None:
    spend = {"A": 10.0, "B": 30.0, "C": 20.0}
    base = RunParams(data="x", campaigns=["A", "B", "C"])
    assert order_campaigns(base, spend, ["A", "B", "C"]) == ["B", "C", "A"]
    listed = base.model_copy(update={"priority": "listed"})
    assert order_campaigns(listed, spend, ["A", "B", "C"]) == ["A", "B", "C"]
    first = base.model_copy(update={"priority": ["A"]})
    assert order_campaigns(first, spend, ["A", "B", "C"]) == ["A", "B", "C"]


def _failing_notebook(path: Path) -> Path:
    """The real campaign notebook plus a cell that times out on C002 and SIGKILLs C003's
    kernel (as the out-of-memory killer would)."""
    nb = nbformat.read(NOTEBOOKS["campaign"], as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(
        at + 1,
        nbformat.v4.new_code_cell(
            "import os, time\n"
            "if campaigns == ['C002']:\n    time.sleep(300)\n"
            "if campaigns == ['C003']:\n    os.kill(os.getpid(), 9)\n"
        ),
    )
    nbformat.write(nb, path)
    return path


def test_failures_are_labelled_while_others_succeed(tmp_path: Path, test_data: Path) -> None:
    raw = pd.read_csv(test_data / "report" / "campaigns.csv")
    broken = raw[raw.campaign_id == "C001"].head(5).assign(campaign_id="C004")
    data = tmp_path / "campaigns.csv"
    pd.concat([raw, broken]).to_csv(data, index=False)  # no metadata beside it
    params = RunParams(
        data=str(data), output_dir=str(tmp_path / "out"), timeout_seconds=30, retries=1, **LEAN
    )
    registry = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    result = run_batch(
        params,
        workers=2,
        registry=registry,
        progress=False,
        notebook=_failing_notebook(tmp_path / "nb.ipynb"),
    )
    by_id = {o.campaign_id: o for o in result.outcomes}
    assert by_id["C001"].status == "succeeded"
    assert (by_id["C002"].status, by_id["C002"].kind) == ("failed", "timeout")
    assert "30 s limit" in by_id["C002"].error and "code cell 2" in by_id["C002"].error
    assert (by_id["C003"].status, by_id["C003"].kind) == ("failed", "kernel_died")
    assert "the kernel was killed in code cell 2 (signal 9, SIGKILL; out of memory?)" in (
        by_id["C003"].error
    )
    assert "138" not in by_id["C003"].error and by_id["C003"].attempts == 2
    assert (by_id["C004"].status, by_id["C004"].kind) == ("failed", "error")
    assert "DataError" in by_id["C004"].error and "C004 has 5 day" in by_id["C004"].error
    out = result.output_dir
    assert (out / safe_name("C001") / "report.html").is_file()
    for cid in ("C002", "C003", "C004"):
        assert not (out / safe_name(cid)).exists(), f"{cid}: nothing half-written is published"
    index = (out / "index.html").read_text()
    for cid in ("C002", "C003", "C004"):
        assert cid in index and f'href="{safe_name(cid)}/report.html"' not in index
    assert "timed out" in index and "kernel was killed" in index and "C004 has 5 day" in index
    for cid in ("C002", "C003", "C004"):
        kept = out / ".failed" / safe_name(cid) / "report.ipynb"
        text = kept.read_text()
        assert str(tmp_path) not in text and "/work/" not in text and "site-packages" not in text
        errors = [
            o
            for c in nbformat.reads(text, as_version=4).cells
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        assert all(len(o["traceback"]) == 1 for o in errors), cid
    assert [p.name for p in tmp_path.iterdir() if p.name == ".failed"] == [], "none outside"
    statuses = {
        c["campaign_id"]: (c["status"], c["error"])
        for c in registry.get_run(result.run_id)["campaigns"]
    }
    assert statuses["C001"] == ("succeeded", None)
    assert statuses["C003"][0] == "failed" and "kernel was killed" in statuses["C003"][1]
    detail = {
        c["campaign_id"]: c["error_detail"] for c in registry.get_run(result.run_id)["campaigns"]
    }
    assert "Traceback" in detail["C004"] and "DataError" in detail["C004"], "kept, in the registry"
    assert registry.get_run(result.run_id)["status"] == "failed"


def test_dask_local_cluster_runs_the_same_batch(tmp_path: Path, test_data: Path) -> None:
    distributed = pytest.importorskip("distributed")
    params = RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=["C003"],
        output_dir=str(tmp_path / "out"),
        **LEAN,
    )
    registry = RecordingRegistry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_batch(
            params,
            scheduler=cluster.scheduler_address,
            progress=False,
            registry=registry,
        )
    assert result.ok, [o.error for o in result.failed]
    assert [(kind, cid) for kind, cid, _ in registry.events] == [
        ("running", "C003"),
        ("done", "C003"),
    ], "the worker's start reaches the registry through a Dask worker event"
    folder = result.output_dir / safe_name("C003")
    assert (folder / "report.html").is_file()
    assert json.loads((folder / "summary.json").read_text())["campaign_id"] == "C003"


def test_a_failed_rerun_keeps_the_earlier_report_linked(tmp_path: Path, test_data: Path) -> None:
    params = RunParams(
        data=str(test_data / "report" / "campaigns.csv"),
        campaigns=["C001"],
        output_dir=str(tmp_path / "out"),
        retries=0,
        **LEAN,
    )
    registry = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    first = run_batch(params, workers=1, registry=registry, progress=False)
    assert first.ok, [o.error for o in first.failed]
    report = first.output_dir / safe_name("C001") / "report.html"
    before = report.read_text()
    nb = nbformat.read(NOTEBOOKS["campaign"], as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("raise ValueError('the export is late')"))
    nbformat.write(nb, tmp_path / "broken.ipynb")
    second = run_batch(
        params, workers=1, registry=registry, progress=False, notebook=tmp_path / "broken.ipynb"
    )
    assert [o.status for o in second.outcomes] == ["failed"]
    assert report.read_text() == before, "the published report is untouched"
    index = (second.output_dir / "index.html").read_text()
    assert f'href="{safe_name("C001")}/report.html"' in index, "still linked"
    assert "the export is late" in index and second.run_id in index
    assert "earlier report" in index
    manifest = json.loads((second.output_dir / "run.json").read_text())
    [item] = manifest["campaigns"]
    assert item["previous_report"] == {
        "report": f"{safe_name('C001')}/report.html",
        "run_id": first.run_id,
    }
