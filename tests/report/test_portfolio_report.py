"""How the portfolio index reads: its one-glance top line and formatted campaign table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from simkit.report import format as fmt
from simkit.report import load_run, portfolio_headline, portfolio_sections


@pytest.fixture()
def run_dir(test_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(test_data / "report" / "run", out)
    return out


def test_the_index_opens_with_one_line_per_fact(run_dir: Path) -> None:
    run = load_run(run_dir)
    top = portfolio_headline(run, horizon_days=30)
    totals = [s["numbers"]["forecast"]["totals"] for s in run.summaries.values()]
    spend = sum(t["spend"]["p50"] for t in totals)
    conv = {q: sum(t["conversions"][q] for t in totals) for q in ("p10", "p50", "p90")}
    lines = top.numbers["lines"]
    assert lines[0] == "3 campaigns: 3 succeeded, 0 failed."
    assert lines[1].startswith(
        f"Forecast over the next 30 days: {fmt.money(spend)} of spend for "
        f"{fmt.count(conv['p50'])} conversions (sum of the campaigns' 80% ranges "
        f"{fmt.interval(conv, 'count')}), a CPA of {fmt.money(spend / conv['p50'])}"
    )
    assert top.numbers["spend"]["p50"] == pytest.approx(spend), "full precision kept"
    assert all(line.split(": ", 1)[0] in top.html[0] for line in lines)


def test_failed_and_other_statuses_are_counted(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "run.json").read_text())
    manifest["campaigns"][1].update(status="failed", error="ParamsError: no <industry>")
    manifest["campaigns"][2].update(status="stopped")
    (run_dir / "run.json").write_text(json.dumps(manifest))
    run = load_run(run_dir)
    lines = portfolio_headline(run).numbers["lines"]
    assert lines[0] == "3 campaigns: 1 succeeded, 1 failed, 1 stopped."
    assert lines[1].startswith("Forecast over the horizon: ")
    assert lines[1].endswith("; 1 of 3 campaigns have a forecast.")
    overview = portfolio_sections(run)["campaigns"].html[0]
    assert "ParamsError: no &lt;industry&gt;" in overview, "errors shown once-escaped"
    assert "&amp;lt;" not in overview


def test_the_campaign_table_is_formatted(run_dir: Path) -> None:
    run = load_run(run_dir)
    overview = portfolio_sections(run)["campaigns"].html[0]
    first = run.summaries["C001"]["numbers"]
    assert f">{fmt.money(round(first['history']['last_28_days']['spend']))}<" in overview
    assert f">{fmt.probability(first['risks']['max_probability'])}<" in overview
    assert '<a href="C001/report.html">C001</a>' in overview
    assert ">error<" not in overview, "no error column when nothing failed"
    assert ">Succeeded<" in overview
