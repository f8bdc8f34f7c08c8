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
        f"Next 30 days: {fmt.money(spend)} of spend forecast for "
        f"{fmt.count(conv['p50'])} conversions (sum of the campaigns' 80% ranges "
        f"{fmt.interval(conv, 'count')}), a CPA of {fmt.money(spend / conv['p50'])}"
    )
    assert top.numbers["spend"]["p50"] == pytest.approx(spend), "full precision kept"
    assert all(f"<b>{line.split(': ', 1)[0]}:</b>" in top.html[0] for line in lines)


def test_failed_and_other_statuses_are_counted(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "run.json").read_text())
    manifest["campaigns"][1].update(status="failed", error="ParamsError: no <industry>")
    manifest["campaigns"][2].update(status="stopped")
    (run_dir / "run.json").write_text(json.dumps(manifest))
    run = load_run(run_dir)
    lines = portfolio_headline(run).numbers["lines"]
    assert lines[0] == "3 campaigns: 1 succeeded, 1 failed, 1 stopped."
    assert lines[1].startswith("Over the horizon: $")
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
    assert ">succeeded<" in overview, "statuses are the runner's words, as they are"


def _set_currency(run_dir: Path, currencies: dict[str, str]) -> None:
    for cid, currency in currencies.items():
        path = run_dir / cid / "summary.json"
        summary = json.loads(path.read_text())
        summary["currency"] = currency
        path.write_text(json.dumps(summary))


def test_the_index_shows_the_reports_currency(run_dir: Path) -> None:
    _set_currency(run_dir, {"C001": "EUR", "C002": "EUR", "C003": "EUR"})
    run = load_run(run_dir)
    line = portfolio_headline(run).numbers["lines"][1]
    assert line.startswith("Over the horizon: €")
    sections = portfolio_sections(run)
    assert "€" in sections["campaigns"].html[0]
    assert "€" in sections["totals"]._repr_html_() and "$" not in sections["totals"]._repr_html_()


def test_spend_in_several_currencies_is_not_added_up(run_dir: Path) -> None:
    _set_currency(run_dir, {"C001": "EUR"})
    top = portfolio_headline(load_run(run_dir))
    assert top.numbers["lines"][1] == (
        "Forecast: not added up, the reports are in 2 currencies (EUR, USD); each report has "
        "its own."
    )
    assert "spend" not in top.numbers and top.numbers["currency"] is None


def test_a_damaged_summary_leaves_its_campaign_out_not_the_index(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "run.json").read_text())
    first = manifest["campaigns"][0]
    folder = first.get("folder") or first["campaign_id"]
    (run_dir / folder / "summary.json").write_text('{"numbers": ')  # cut short
    run = load_run(run_dir)
    assert first["campaign_id"] not in run.summaries
    assert len(run.summaries) == len(manifest["campaigns"]) - 1
    assert portfolio_sections(run)["campaigns"].status == "ok"


def test_a_damaged_run_json_is_one_line_naming_it(run_dir: Path) -> None:
    from simkit.errors import SimkitError

    (run_dir / "run.json").write_text("{")
    with pytest.raises(SimkitError, match=r"^run.json in run is not readable: "):
        load_run(run_dir)
