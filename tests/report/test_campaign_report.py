from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from simkit._browser import CHROMIUM
from simkit.errors import DataError, ParamsError
from simkit.report import RunParams, build_campaign_report, data_hash, load_campaign
from simkit.report import format as fmt
from simkit.report.campaign import headline, summary_section
from simkit.report.section import Section, missing


@pytest.fixture(scope="module")
def tiny(test_data: Path) -> Path:
    return test_data / "report" / "campaigns.csv"


@pytest.fixture(scope="module")
def lean(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> RunParams:
    """Real engines at a small cost: two fast members, one backtest fold, few paths."""
    return RunParams(
        data=str(tiny),
        campaigns=["C001"],
        members=["seasonal_naive", "ets"],
        backtest_cutoffs=1,
        n_paths=300,
        output_dir=str(tmp_path_factory.mktemp("out")),
    )


@pytest.fixture(scope="module")
def built(lean: RunParams):
    return build_campaign_report(lean)


def test_report_has_every_section_in_order(built) -> None:
    assert list(built.sections) == [
        "summary",
        "data_quality",
        "history",
        "forecast",
        "scenarios",
        "risks",
        "pivots",
        "market",
        "diagnostics",
        "ledger",
        "provenance",
    ]
    for section in built.sections.values():
        assert section.status in ("ok", "missing", "failed")
        if section.status != "ok":  # says what is missing or failed, shows nothing invented
            assert section.text and not section.tables and not section.charts
    assert built["pivots"].status == "ok", built["pivots"].text
    assert built.summary["numbers"]["pivots"]["budget_daily"]["allocation"] > 0


def test_history_numbers_match_the_data(built, tiny: Path) -> None:
    raw = pd.read_csv(tiny)
    last = raw[raw.campaign_id == "C001"].sort_values("date").tail(28)
    numbers = built["history"].numbers["last_28_days"]
    assert numbers["spend"] == pytest.approx(last.spend.sum())
    assert numbers["cpa"] == pytest.approx(last.spend.sum() / last.conversions.sum())
    assert built["history"].charts, "the history section draws a chart"


def test_without_charts_draws_none_and_changes_no_number(built) -> None:
    """The summary-only batch path skips the charts (issue 21); the summary is the same."""
    from simkit.report.campaign import assemble_campaign_report
    from simkit.report.engines import compute_engines
    from simkit.report.section import without_charts

    ctx = built.context
    results = compute_engines(ctx)
    with without_charts():
        bare = assemble_campaign_report(ctx, results)
    drawn = assemble_campaign_report(ctx, results)  # the switch does not outlive the block
    assert not any(s.charts for s in bare.sections.values())
    assert drawn["history"].charts and drawn["forecast"].charts
    assert json.dumps(bare.summary, sort_keys=True, default=str) == json.dumps(
        drawn.summary, sort_keys=True, default=str
    )


def test_data_quality_reports_the_score(built) -> None:
    q = built["data_quality"]
    assert 0 <= q.numbers["quality_score"] <= 100
    assert "Data-quality score" in q.text[0]


def test_summary_is_json_and_reproducible(built, lean: RunParams, tiny: Path) -> None:
    again = build_campaign_report(lean)
    assert json.dumps(built.summary, sort_keys=True) == json.dumps(again.summary, sort_keys=True)
    assert built.summary["provenance"]["data_hash"] == data_hash(tiny)


def test_provenance_records_hashes_seed_and_versions(built) -> None:
    p = built["provenance"].numbers
    assert len(p["params_hash"]) == 64 and len(p["data_hash"]) == 64
    assert p["seed"] == 7
    assert {"simkit", "numpy", "pandas", "altair"} <= set(p["versions"])
    shown = built["provenance"].tables[0][1]
    assert not any(str(v).startswith("/") for v in shown["value"]), "no absolute paths shown"


def test_a_report_needs_exactly_one_campaign(tiny: Path) -> None:
    with pytest.raises(ParamsError, match="exactly one campaign"):
        load_campaign(RunParams(data=str(tiny)))
    with pytest.raises(ParamsError, match="not in the data"):
        load_campaign(RunParams(data=str(tiny), campaigns=["C999"]))


def test_a_campaign_with_too_little_data_is_refused(tmp_path: Path, tiny: Path) -> None:
    raw = pd.read_csv(tiny)
    short = raw[raw.campaign_id == "C001"].head(5).assign(campaign_id="C009")
    path = tmp_path / "c.csv"
    pd.concat([raw, short]).to_csv(path, index=False)
    with pytest.raises(DataError, match="C009 has 5 day"):
        load_campaign(RunParams(data=str(path), campaigns=["C009"]))


def test_data_hash_covers_data_and_metadata(tmp_path: Path, tiny: Path) -> None:
    shutil.copy(tiny, tmp_path / "campaigns.csv")
    h1 = data_hash(tmp_path / "campaigns.csv")
    shutil.copy(tiny.with_name("campaigns_meta.yaml"), tmp_path / "campaigns_meta.yaml")
    assert data_hash(tmp_path / "campaigns.csv") != h1


def test_plan_file_is_used_and_checked(tmp_path: Path, tiny: Path) -> None:
    plan = tmp_path / "plan.csv"
    dates = pd.date_range("2026-02-10", periods=7)
    pd.DataFrame({"date": dates, "campaign_id": "C001", "spend": 100.0}).to_csv(plan, index=False)
    ctx = load_campaign(
        RunParams(data=str(tiny), campaigns=["C001"], plan=str(plan), horizon_days=7)
    )
    assert (ctx.plan == 100.0).all() and len(ctx.plan) == 7
    with pytest.raises(ParamsError, match="plan has no spend"):
        load_campaign(RunParams(data=str(tiny), campaigns=["C001"], plan=str(plan), horizon_days=8))


def test_section_html_escapes_text() -> None:
    html = Section("x", "T <b>", text=("a < b",))._repr_html_()
    assert "&lt;b&gt;" in html and "a &lt; b" in html
    assert missing("k", "K", "engine absent").status == "missing"


def test_the_report_opens_with_a_headline_card(built) -> None:
    """Where the campaign is heading, its main risk and best pivot, each with numbers."""
    card = built["summary"].numbers["headline"]
    conv = built["forecast"].numbers["totals"]["conversions"]
    assert card["outlook"].startswith(
        f"Over the next 30 days: {fmt.count(conv['p50'])} conversions (80% interval "
        f"{fmt.interval(conv, 'count')}) at a CPA of $"
    )
    assert "P(CPA ≤ $20.65 target)" in card["outlook"], "the metadata's target is shown"
    # the fixture's C001: no risk reaches 50%, and a pivot with a positive score
    alerts = built["risks"].numbers["alerts"]
    top = max(alerts, key=alerts.get)
    assert alerts[top] < 0.5
    assert card["risk"] == (
        f"No risk found: no detector reaches 50% (the highest is {fmt.label(top).lower()}, "
        f"{fmt.probability(alerts[top])})."
    )
    best = built["pivots"].numbers["recommendations"][0]
    gain = best["impact"]["conversions"]
    assert best["score"] > 0
    assert card["pivot"] == (
        f"Best pivot: {fmt.label(best['type']).lower()}, {fmt.count(gain['p50'], signed=True)} "
        f"conversions over 30 days (80% interval {fmt.interval(gain, 'count', signed=True)}), "
        f"P(gain > 0) {fmt.probability(best['confidence'])}."
    )
    assert built["summary"].text[:4] == (
        card["outlook"],
        card["risk"],
        card["pivot"],
        card["recent"],
    )
    shown = built["summary"]._repr_html_()
    assert "<b>Over the next 30 days:</b>" in shown
    assert shown.index("Over the next") < shown.index("No risk found") < shown.index("Best pivot")


def test_the_headline_says_plainly_when_a_part_is_absent(built) -> None:
    sections = dict(built.sections)
    sections["risks"] = replace(
        built["risks"], numbers={"alerts": {"performance_dip": 0.08, "budget_pacing": 0.0}}
    )
    sections["pivots"] = replace(
        built["pivots"],
        status="failed",
        text=("The pivot engine could not run on this data: no spend variation.",),
        tables=(),
        numbers={"status": "failed"},
    )
    sections["forecast"] = missing(
        "forecast", "Forecast", "No forecast fan chart: simkit.forecast is not available."
    )
    card = headline(built.context, sections)
    assert card.risk == (
        "No risk found: no detector reaches 50% (the highest is performance dip, 8%)."
    )
    assert card.pivot == (
        "No pivot computed: the pivot engine could not run on this data: no spend variation."
    )
    assert card.outlook == "No forecast: simkit.forecast is not available."
    assert any("Forecast" in w for w in card.warnings), "the missing section is named"
    sections["pivots"] = replace(built["pivots"], numbers={"recommendations": []})
    assert headline(built.context, sections).pivot == (
        "No pivot computed: none touching C001 clears the engine's bar."
    )


def test_no_target_no_target_probability_and_the_metadatas_currency(
    tmp_path: Path, tiny: Path
) -> None:
    """A campaign given no target CPA/ROAS shows no P(CPA <= target) anywhere; money is in
    the currency its metadata names."""
    shutil.copy(tiny, tmp_path / "campaigns.csv")
    meta = tiny.with_name("campaigns_meta.yaml").read_text()
    kept = [ln for ln in meta.splitlines() if "target_" not in ln]
    assert len(kept) < len(meta.splitlines()), "the fixture's metadata had targets"
    kept = [
        ln + ("\n  currency: EUR" if ln.startswith("- campaign_id: C001") else "") for ln in kept
    ]
    (tmp_path / "campaigns_meta.yaml").write_text("\n".join(kept) + "\n")
    report = build_campaign_report(
        RunParams(
            data=str(tmp_path / "campaigns.csv"),
            campaigns=["C001"],
            members=["seasonal_naive"],
            backtest_cutoffs=1,
            n_paths=200,
            output_dir=str(tmp_path / "out"),
        )
    )
    assert report.context.target_cpa is None and report.context.target_roas is None
    shown = "".join(s._repr_html_() for s in report.sections.values())
    assert "P(below plan)" in shown, "the probabilities that were asked for are shown"
    assert "target" not in report["summary"].numbers["headline"]["outlook"]
    assert "p_cpa_le_target" not in shown and "CPA ≤" not in shown and "ROAS ≥" not in shown
    spend = report["history"].numbers["last_28_days"]["spend"]
    assert f">{fmt.money(spend, 'EUR')}</td>" in shown and fmt.money(spend, "EUR").startswith("€")
    assert "$" not in report["summary"]._repr_html_() + report["history"]._repr_html_()


def test_report_tables_read_as_formatted_numbers(built) -> None:
    """Counts without .0, rates as percentages, money with its currency, human labels."""
    history = built["history"]._repr_html_()
    last = built["history"].numbers["last_28_days"]
    assert f">{fmt.count(last['conversions'])}</td>" in history
    assert f">{fmt.money(last['spend'])}</td>" in history
    assert f">{fmt.percent(last['ctr'], 2)}</td>" in history
    assert ">CTR</td>" in history and ">ctr<" not in history
    risks = built["risks"]._repr_html_()
    assert "audience_fatigue" not in risks and "budget_pacing" not in risks
    assert not re.search(r">\d+\.0</td>", "".join(s._repr_html_() for s in built.sections.values()))


def _executed_notebook(built):
    """A notebook as Papermill leaves it: the report's HTML outputs and the summary."""
    import nbformat

    from simkit.report.section import SUMMARY_MIME

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell("report.show(campaign['summary'])")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": s._repr_html_()}, metadata={})
        for s in built.sections.values()
    ] + [nbformat.v4.new_output("display_data", data={SUMMARY_MIME: built.summary})]
    nb.cells.append(cell)
    return nb


_NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian chromium package (/usr/bin/chromium); apt-get install -y chromium",
)


@pytest.mark.browser
@_NEEDS_CHROMIUM
def test_a_pdf_of_the_report_is_printed_by_the_system_chromium(built) -> None:
    from simkit.runner.publish import render_pdf

    pdf = render_pdf(_executed_notebook(built))
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2, "the whole report, not a blank page"


@pytest.mark.browser
@_NEEDS_CHROMIUM
def test_the_publish_step_writes_a_pdf_only_when_asked(built, tmp_path: Path) -> None:
    import nbformat

    from simkit.runner.execute import CampaignJob, _publish

    for pdf in (True, False):
        staging, final = tmp_path / f"staging-{pdf}", tmp_path / f"out-{pdf}" / "C001"
        staging.mkdir()
        nbformat.write(_executed_notebook(built), staging / "report.ipynb")
        job = CampaignJob(
            campaign_id="C001",
            notebook="unused.ipynb",
            parameters={**built.context.params.to_dict(), "pdf": pdf},
            staging_dir=str(staging),
            final_dir=str(final),
            cwd=str(tmp_path),
            timeout_seconds=60,
            retries=0,
        )
        _publish(job, staging / "report.ipynb", {})
        assert (final / "report.html").is_file()
        assert (final / "report.pdf").is_file() is pdf
    assert (tmp_path / "out-True" / "C001" / "report.pdf").read_bytes().startswith(b"%PDF")


def test_the_page_is_titled_after_its_campaign(built) -> None:
    from simkit.runner.publish import render_html

    assert "<title>Education search C001 · simkit</title>" in render_html(_executed_notebook(built))


def test_pdf_without_chromium_says_how_to_get_it(built, monkeypatch) -> None:
    from simkit import _browser
    from simkit.errors import SimkitError
    from simkit.runner.publish import render_pdf

    monkeypatch.setattr(_browser, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(SimkitError, match=r"needs Chromium at /nonexistent/chromium.*pdf: false"):
        render_pdf(_executed_notebook(built))


def test_pdf_is_a_run_parameter_off_by_default(tiny: Path) -> None:
    assert RunParams(data=str(tiny)).pdf is False
    assert RunParams(data=str(tiny), pdf=True).pdf is True
    with pytest.raises(ValueError, match="pdf"):
        RunParams(data=str(tiny), pdf="sometimes")


class _StoppedContext:
    """The report context of a campaign that ended before the file's last day (the
    stopped-campaign fields of issue 14 item 2 over this fixture's real context)."""

    def __init__(self, ctx) -> None:
        self._ctx = ctx
        self.stopped = True
        self.last_date = pd.Timestamp("2026-02-03")
        self.file_last_date = pd.Timestamp("2026-02-09")

    def __getattr__(self, name: str):
        return getattr(self._ctx, name)


def test_a_stopped_campaigns_card_says_it_stopped(built) -> None:
    sections = dict(built.sections)
    for key, title in (("forecast", "Forecast"), ("risks", "Risks"), ("pivots", "Pivots")):
        sections[key] = Section(key, title, status="skipped", text=(f"No {key}: stopped.",))
    stopped = _StoppedContext(built.context)
    card = headline(stopped, sections)
    assert card.outlook == (
        "This campaign has stopped: its last day with spend is 2026-02-03, and the data run "
        "to 2026-02-09. Its history, data quality and benchmark comparison are below; the "
        "forward-looking sections are not computed."
    )
    assert (card.risk, card.pivot) == ("", ""), "no forward-looking lines"
    assert card.recent.startswith("Last 28 days: $")
    assert not any("Not shown" in w for w in card.warnings), "the card already says why"
    summary = summary_section(stopped, sections)
    assert summary.text[:2] == (card.outlook, card.recent)
    assert "Main risk" not in summary._repr_html_() and "Best pivot" not in summary._repr_html_()
    running = headline(built.context, sections)
    assert running.warnings[-1] == (
        "Not shown for this campaign (the section says why): Forecast, Risks, Pivots."
    )
    assert running.outlook == "No forecast: stopped."
