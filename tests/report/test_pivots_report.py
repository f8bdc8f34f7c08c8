from __future__ import annotations

import json
from pathlib import Path

import pytest

from simkit.data import load
from simkit.params import RunParams
from simkit.report import data_hash
from simkit.report import pivots as report_pivots
from simkit.report.pivots import (
    PIVOTS_FILE,
    compute_run_pivots,
    pivot_key,
    pivots_section,
    reallocation_section,
    run_pivots,
    write_run_pivots,
)


@pytest.fixture(scope="module")
def tiny(test_data: Path) -> Path:
    return test_data / "report" / "campaigns.csv"


@pytest.fixture(scope="module")
def loaded(tiny: Path):
    return load(tiny)


@pytest.fixture(scope="module")
def payload(tiny: Path, loaded) -> dict:
    return compute_run_pivots(RunParams(data=str(tiny)), loaded, data_hash(tiny))


def test_payload_is_json_and_covers_every_campaign(payload: dict, tiny: Path) -> None:
    assert payload["status"] == "ok"
    assert json.loads(json.dumps(payload)) == payload
    res = payload["result"]
    assert set(res["allocation"]) == {"C001", "C002", "C003"}
    assert sum(res["allocation"].values()) <= res["total_budget"] * (1 + 1e-9)
    assert payload["key"] == pivot_key(RunParams(data=str(tiny)), data_hash(tiny))
    for rec in res["recommendations"]:
        q = rec["expected_impact"]["conversions"]
        assert q["p10"] <= q["p50"] <= q["p90"]
        assert 0.0 <= rec["confidence"] <= 1.0


def test_same_seed_same_pivots_other_seed_differs(payload: dict, tiny: Path, loaded) -> None:
    again = compute_run_pivots(RunParams(data=str(tiny)), loaded, data_hash(tiny))
    assert again == payload
    other = compute_run_pivots(RunParams(data=str(tiny), seed=8), loaded, data_hash(tiny))
    assert other["result"]["allocation"] != payload["result"]["allocation"]


def test_run_pivots_reads_a_matching_file_and_ignores_a_stale_one(
    tmp_path: Path, payload: dict, tiny: Path, loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = RunParams(data=str(tiny), output_dir=str(tmp_path))
    path = write_run_pivots(tmp_path, payload)
    assert path == tmp_path / PIVOTS_FILE
    computed: list[RunParams] = []

    def fake(p: RunParams, *_: object) -> dict:
        computed.append(p)
        return {"key": "fresh", "status": "ok"}

    monkeypatch.setattr(report_pivots, "compute_run_pivots", fake)
    assert run_pivots(params, loaded, data_hash(tiny)) == payload and not computed
    # another seed (or other data) must not reuse the file
    assert run_pivots(params.model_copy(update={"seed": 9}), loaded, data_hash(tiny)) == {
        "key": "fresh",
        "status": "ok",
    }
    assert run_pivots(params, loaded, "other-data")["key"] == "fresh"
    path.write_text("{not json")
    assert run_pivots(params, loaded, data_hash(tiny))["key"] == "fresh"


def test_campaign_section_shows_its_pivots_with_impact(payload: dict) -> None:
    section = pivots_section("C002", payload)
    assert section.status == "ok"
    recs = [r for r in payload["result"]["recommendations"] if "C002" in r["campaign_ids"]]
    assert [r["type"] for r in section.numbers["recommendations"]] == [r["type"] for r in recs]
    assert section.numbers["budget_daily"]["allocation"] == pytest.approx(
        payload["result"]["allocation"]["C002"]
    )
    text = " ".join(section.text)
    assert "Optimal daily budget for C002" in text and "80% interval" in text
    assert recs, "the fixture's pivots touch C002"
    (_, table), *_ = section.tables
    assert {"conversions p10", "conversions p50", "conversions p90", "P(gain > 0)"} <= set(
        table.columns
    )
    assert len(table) == len(recs)
    assert all(r["rationale"] in text for r in recs)
    json.dumps(section.numbers)


def test_engine_failure_leaves_a_failed_section(
    tiny: Path, loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simkit.report.pivots

    def boom(*_: object, **__: object) -> None:
        raise ValueError("curve fit went wrong")

    monkeypatch.setattr(simkit.report.pivots, "find_pivots", boom)
    failed = compute_run_pivots(RunParams(data=str(tiny)), loaded, data_hash(tiny))
    assert failed["status"] == "failed" and failed["error"] == "ValueError: curve fit went wrong"
    for section in (pivots_section("C001", failed), reallocation_section(failed)):
        assert section.status == "failed" and not section.tables
        assert "curve fit went wrong" in section.text[0]


def test_reallocation_section_compares_status_quo_and_allocation(payload: dict) -> None:
    section = reallocation_section(payload)
    assert section.status == "ok"
    caption, table = section.tables[0]
    assert list(table["campaign"]) == list(payload["result"]["allocation"])
    assert {"budget now / day", "optimal / day", "change / day"} <= set(table.columns)
    gain = section.numbers["gain_daily"]
    assert {"p10", "p50", "p90", "p_gain_positive"} <= set(gain["conversions"]) | set(gain)
    assert "P(gain > 0)" in " ".join(section.text)
    assert reallocation_section(None).status == "missing"


def test_portfolio_report_reads_the_runs_pivots(test_data: Path) -> None:
    from simkit.report import load_run, portfolio_sections

    run = load_run(test_data / "report" / "run")
    assert run.pivots is not None and run.pivots["status"] == "ok"
    sections = portfolio_sections(run)
    assert sections["reallocation"].status == "ok"
    overview = sections["campaigns"].html[0]
    assert "optimal budget / day" in overview


def test_portfolio_totals_add_only_volumes(test_data):
    from simkit.report import load_run, portfolio_sections

    totals = portfolio_sections(load_run(test_data / "report" / "run"))["totals"]
    rows = {r["metric"]: r for r in totals.numbers["totals"]}
    assert set(rows) <= {"spend", "impressions", "clicks", "conversions", "revenue"}
    assert {"spend", "conversions"} <= set(rows)
    assert all(r["p10 (sum)"] <= r["p50 (sum)"] <= r["p90 (sum)"] for r in rows.values())
    assert "portfolio's CPA" in " ".join(totals.text)


def test_sessions_made_by_workers_give_the_same_pivots(payload: dict, tiny: Path, loaded) -> None:
    # a batch's workers make the sessions with prepare_pivot_session and the parent takes
    # them (None: the parent makes that one itself); the payload must not change
    from simkit.runner.execute import prepare_pivot_session

    given: list[str] = []

    def provider(key: str):
        if key == "C002":
            return None
        session = prepare_pivot_session({"data": str(tiny)}, str(tiny.parent), key)
        assert session is not None, key
        given.append(key)
        return session

    shared = compute_run_pivots(
        RunParams(data=str(tiny)), loaded, data_hash(tiny), session_provider=provider
    )
    assert sorted(given) == ["C001", "C003"]
    assert shared == payload


def test_a_worker_that_cannot_make_a_session_says_none(tiny: Path) -> None:
    from simkit.runner.execute import prepare_pivot_session

    assert prepare_pivot_session({"data": str(tiny)}, str(tiny.parent), "NOPE") is None
    assert prepare_pivot_session({"data": "missing.csv"}, str(tiny.parent), "C001") is None
