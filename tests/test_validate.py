"""Validation: every kind of bad input gets a located, clear message; nothing is dropped."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.data import import_file, load, validate
from simkit.errors import DataError

HEADER = "date,campaign_id,spend,impressions,clicks,conversions,revenue"


def _rows(n: int = 20, campaign: str = "A", start: date = date(2025, 1, 1)) -> list[str]:
    return [f"{start + timedelta(days=i)},{campaign},100,10000,200,10,500" for i in range(n)]


def _write(tmp_path, lines: list[str], header: str = HEADER, name: str = "d.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def _report(path, **kwargs):
    return validate(import_file(path, **kwargs), today=date(2026, 1, 1))[1]


def _only(report, code):
    found = [i for i in (*report.errors, *report.warnings) if i.code == code]
    assert found, f"no {code} in {[i.code for i in (*report.errors, *report.warnings)]}"
    return found[0]


def test_clean_file_is_ok(tmp_path):
    report = _report(_write(tmp_path, _rows()))
    assert report.ok and not report.warnings
    assert report.campaigns[0].days == 20


def test_missing_column_suggests_the_misspelt_one(tmp_path):
    path = _write(
        tmp_path,
        ["2025-01-01,A,1,10,1,0,0"],
        header="date,campaign_id,spend,impressions,clciks,conversions,revenue",
    )
    report = _report(path, source="simkit")
    issue = _only(report, "missing_column")
    assert issue.level == "error" and issue.column == "clicks"
    assert "did you mean 'clciks'" in issue.message
    assert _only(report, "unknown_column").column == "clciks"


def test_non_numeric_cell_names_row_and_column(tmp_path):
    rows = _rows(5)
    rows[2] = "2025-01-03,A,12O.5,10000,200,10,500"
    issue = _only(_report(_write(tmp_path, rows)), "non_numeric")
    assert issue.rows == (4,) and issue.column == "spend" and "12O.5" in issue.message


def test_bad_date(tmp_path):
    rows = _rows(5)
    rows[1] = "2025-13-45,A,100,10000,200,10,500"
    issue = _only(_report(_write(tmp_path, rows)), "bad_date")
    assert issue.rows == (3,) and issue.column == "date"


def test_negative_value(tmp_path):
    rows = _rows(5)
    rows[4] = f"{date(2025, 1, 5)},A,-3,10000,200,10,500"
    issue = _only(_report(_write(tmp_path, rows)), "negative")
    assert issue.level == "error" and issue.rows == (6,) and issue.column == "spend"


def test_clicks_above_impressions(tmp_path):
    rows = _rows(5)
    rows[0] = f"{date(2025, 1, 1)},A,100,100,200,10,500"
    issue = _only(_report(_write(tmp_path, rows)), "clicks_above_impressions")
    assert issue.level == "error" and issue.rows == (2,)


def test_conversions_above_clicks_is_an_error_unless_the_mapping_accepts_it(tmp_path):
    rows = _rows(5)
    rows[3] = f"{date(2025, 1, 4)},A,100,10000,20,30,500"
    path = _write(tmp_path, rows)
    assert _only(_report(path), "conversions_above_clicks").level == "error"
    mapping = tmp_path / "m.yaml"
    mapping.write_text("source: simkit\naccept: {conversions_above_clicks: post-click}\n")
    issue = _only(_report(path, mapping=mapping), "conversions_above_clicks")
    assert issue.level == "warning" and "post-click" in issue.message


def test_duplicate_campaign_day(tmp_path):
    rows = _rows(5) + [f"{date(2025, 1, 2)},A,1,10,1,0,0"]
    issue = _only(_report(_write(tmp_path, rows)), "duplicate_day")
    assert issue.level == "error" and set(issue.rows) == {3, 7}


def test_gaps_are_warned_and_lower_the_score(tmp_path):
    rows = _rows(30)
    del rows[10:13]
    report = _report(_write(tmp_path, rows))
    assert report.ok
    assert "3 day(s) missing" in _only(report, "gaps").message
    quality = report.campaigns[0]
    assert quality.missing_days == 3 and quality.completeness == pytest.approx(27 / 30)
    assert any("missing day" in r for r in quality.reasons)


def test_future_dates(tmp_path):
    rows = [f"{date(2026, 1, 10)},A,100,10000,200,10,500"]
    issue = _only(_report(_write(tmp_path, _rows(5) + rows)), "future_date")
    assert issue.rows == (7,)


def test_short_history_warning(tmp_path):
    report = _report(_write(tmp_path, _rows(5)))
    assert report.ok and "only 5 days" in _only(report, "short_history").message


def test_header_only_file(tmp_path):
    assert _only(_report(_write(tmp_path, [])), "empty").level == "error"


def test_empty_and_binary_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        import_file(empty)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary\x00stuff")
    with pytest.raises(DataError, match="binary"):
        import_file(binary)


def test_load_raises_with_every_error_listed(tmp_path):
    rows = _rows(5)
    rows[0] = f"{date(2025, 1, 1)},A,-1,10000,200,10,500"
    rows[1] = "2025-01-02,A,100,10000,x,10,500"
    with pytest.raises(DataError) as err:
        load(_write(tmp_path, rows), today=date(2026, 1, 1))
    text = str(err.value)
    assert "2 error(s)" in text and "row 2" in text and "column 'clicks'" in text


def test_quality_score_orders_campaigns(tmp_path):
    good = _rows(60, "good", start=date(2025, 3, 1))
    short = _rows(10, "short", start=date(2025, 4, 20))
    report = _report(_write(tmp_path, good + short))
    scores = {c.campaign_id: c.quality_score for c in report.campaigns}
    assert scores["good"] == pytest.approx(100)
    assert scores["short"] < 85


runner = CliRunner()


def test_cli_validate_bad_file_exits_nonzero_with_json(tmp_path):
    rows = _rows(5)
    rows[2] = "2025-01-03,A,100,10000,abc,10,500"
    result = runner.invoke(app, ["validate", str(_write(tmp_path, rows)), "--format", "json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert payload["errors"][0]["column"] == "clicks" and payload["errors"][0]["rows"] == [4]


def test_cli_missing_file_is_a_message_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "file not found" in result.stderr and "Traceback" not in result.output


@pytest.mark.shared_data
def test_cli_validate_real_data_reports_three_campaigns(shared_data, repo_root):
    path = shared_data / "online_ad_performance" / "online_advertising_performance_data.csv"
    mapping = repo_root / "params" / "sources" / "online_ad_performance.yaml"
    result = runner.invoke(
        app, ["validate", str(path), "--mapping", str(mapping), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    days = {c["campaign_id"]: c["days"] for c in payload["campaigns"]}
    assert days == {"camp 1": 91, "camp 2": 30, "camp 3": 91}
    assert all(0 <= c["quality_score"] <= 100 for c in payload["campaigns"])
