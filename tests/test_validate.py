"""Validation: every kind of bad input gets a located, clear message; nothing is dropped."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
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


# --- dates, non-finite values and bad rows (issue 15 item 3, issue 14 item 5) ------------


def _fixture(test_data, name):
    return test_data / "imports" / name


def test_day_first_dates_are_detected_from_the_whole_column(test_data):
    report = _report(_fixture(test_data, "dates_dayfirst.csv"))
    assert report.ok, [str(e) for e in report.errors]
    quality = report.campaigns[0]
    assert (quality.first_date, quality.last_date) == (date(2025, 1, 1), date(2025, 2, 28))
    assert quality.days == 59 and quality.missing_days == 0
    note = next(r for r in report.repairs if r.action == "read_dates")
    assert "day-first (%d/%m/%Y)" in note.detail


def test_d_mm_yyyy_dates_parse_without_a_format(test_data):
    report = _report(_fixture(test_data, "dates_dmy_dots.csv"))
    assert report.ok and report.campaigns[0].first_date == date(2019, 8, 1)
    assert report.campaigns[0].last_date == date(2019, 8, 20)


def test_month_first_dates_are_detected_too(tmp_path):
    rows = [
        f"{d:%m/%d/%Y},A,100,10000,200,10,500"
        for d in (date(2025, 1, 1) + timedelta(days=i) for i in range(20))
    ]
    report = _report(_write(tmp_path, rows))
    assert report.ok and report.campaigns[0].last_date == date(2025, 1, 20)
    assert "month-first" in _only_repair(report, "read_dates")


def _only_repair(report, action):
    return next(r.detail for r in report.repairs if r.action == action)


def test_dates_no_value_decides_are_an_error_asking_for_a_format(test_data):
    issue = _only(_report(_fixture(test_data, "dates_ambiguous.csv")), "ambiguous_date")
    assert issue.level == "error" and issue.column == "date"
    text = str(issue)
    assert "dates_ambiguous.csv" in text and "set date.format" in text
    assert "'01/03/2025' (line 2)" in text


def test_day_first_and_month_first_in_one_column_is_an_error(tmp_path):
    rows = _rows(3) + ["25/01/2025,A,100,10000,200,10,500", "01/26/2025,A,100,10000,200,10,500"]
    rows = rows[3:]
    issue = _only(_report(_write(tmp_path, rows)), "mixed_date_formats")
    assert issue.rows == (2, 3) and "'25/01/2025' (line 2)" in issue.message


def test_mixed_date_formats_are_an_error_naming_the_rows(test_data):
    report = _report(_fixture(test_data, "dates_mixed.csv"))
    issue = _only(report, "mixed_date_formats")
    assert issue.level == "error" and issue.column == "date"
    assert issue.rows == (22, 23, 24, 25, 26) and "'21/01/2025' (line 22)" in issue.message
    assert not [i for i in report.errors if i.code in ("bad_date", "future_date")]


def test_declared_dayfirst_contradicted_by_the_data_is_an_error(tmp_path):
    rows = ["01/25/2025,A,100,10000,200,10,500"]
    mapping = tmp_path / "m.yaml"
    mapping.write_text("source: simkit\ndate: {columns: [date], dayfirst: true}\n")
    path = _write(tmp_path, rows)
    issue = _only(_report(path, mapping=mapping), "date_order")
    assert "month-first, but the mapping says dayfirst: true" in issue.message
    # a contradicted declaration is not a bad row that skipping could hide
    skipped = validate(import_file(path, mapping=mapping, on_bad_rows="skip"))[1]
    assert _only(skipped, "date_order").level == "error"


def test_non_finite_and_absurd_values_are_errors_naming_line_and_column(test_data):
    report = _report(_fixture(test_data, "non_finite.csv"))
    found = {(i.code, i.column): i.rows for i in report.errors}
    assert found == {
        ("non_finite", "spend"): (3,),
        ("non_finite", "impressions"): (5,),
        ("non_finite", "conversions"): (6,),
        ("absurd_value", "revenue"): (8,),
    }
    text = str(next(i for i in report.errors if i.column == "revenue"))
    assert text.startswith(str(_fixture(test_data, "non_finite.csv")) + ", row 8")
    assert "'1e308'" in text and "above 1e+12" in text


def test_bad_rows_are_an_error_by_default_naming_the_line(test_data):
    with pytest.raises(DataError) as err:
        load(_fixture(test_data, "bad_rows.csv"), today=date(2026, 1, 1))
    text = str(err.value)
    assert "row 6, column 'impressions': 1 empty cell(s)" in text
    assert "--on-bad-rows skip" in text


def test_bad_rows_skipped_on_request_are_listed(test_data, tmp_path):
    loaded = load(_fixture(test_data, "bad_rows.csv"), today=date(2026, 1, 1), on_bad_rows="skip")
    assert len(loaded.data) == 15 and pd.Timestamp("2025-01-05") not in set(loaded.data["date"])
    skipped = next(r for r in loaded.report.repairs if r.action == "skipped_bad_rows")
    assert skipped.lines == (6,) and skipped.rows == 1
    assert skipped.detail.startswith("skipped 1 bad row(s) of bad_rows.csv (on_bad_rows: skip)")
    assert "line 6: empty impressions, empty clicks" in skipped.detail
    mapping = tmp_path / "m.yaml"
    mapping.write_text("source: simkit\non_bad_rows: skip\n")
    by_mapping = load(_fixture(test_data, "bad_rows.csv"), mapping=mapping)
    assert len(by_mapping.data) == 15
    with pytest.raises(DataError, match="row 6, column 'clicks'"):
        load(_fixture(test_data, "bad_rows.csv"), mapping=mapping, on_bad_rows="error")


def test_skip_does_not_hide_rows_that_disagree(tmp_path):
    rows = _rows(5)
    rows[1] = f"{date(2025, 1, 2)},A,100,100,200,10,500"
    report = validate(import_file(_write(tmp_path, rows), on_bad_rows="skip"))[1]
    assert _only(report, "clicks_above_impressions").level == "error"


def test_cli_on_bad_rows_option(test_data):
    path = str(_fixture(test_data, "bad_rows.csv"))
    failed = runner.invoke(app, ["validate", path, "--format", "json"])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["errors"][0]["rows"] == [6]
    skipped = runner.invoke(app, ["validate", path, "--on-bad-rows", "skip", "--format", "json"])
    assert skipped.exit_code == 0, skipped.output
    payload = json.loads(skipped.stdout)
    repair = next(r for r in payload["repairs"] if r["action"] == "skipped_bad_rows")
    assert repair["lines"] == [6] and payload["rows"] == 15


def test_run_params_on_bad_rows_reaches_the_report_data_quality_section(test_data):
    from simkit.params import RunParams
    from simkit.report.context import load_campaign
    from simkit.report.sections import data_quality

    path = str(_fixture(test_data, "bad_rows.csv"))
    with pytest.raises(DataError, match="row 6, column 'impressions'"):
        load_campaign(RunParams(data=path, campaigns=["Brand Search"]), today=date(2026, 1, 1))
    params = RunParams(data=path, campaigns=["Brand Search"], on_bad_rows="skip")
    ctx = load_campaign(params, today=date(2026, 1, 1))
    assert len(ctx.daily) == 15
    section = data_quality(ctx)
    repairs = dict(section.tables)["Repairs made on import (nothing was dropped silently)"]
    detail = repairs.loc[repairs["repair"] == "skipped_bad_rows", "detail"].iloc[0]
    assert "bad_rows.csv" in detail and "line 6: empty impressions" in detail


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["benchmarks"],
        ["risks"],
        ["simulate", "-c", "Brand Search", "--horizon", "10"],
        ["backtest", "-c", "Brand Search"],
        ["pivots", "--horizon", "10"],
    ],
    ids=lambda a: a[0],
)
def test_every_data_loading_command_takes_on_bad_rows(test_data, args):
    path = str(_fixture(test_data, "bad_rows.csv"))
    result = runner.invoke(app, [args[0], path, *args[1:], "--on-bad-rows", "never"])
    assert result.exit_code == 1
    assert "--on-bad-rows is 'error' or 'skip', not 'never'" in result.stderr


def test_risks_loads_with_bad_rows_skipped_and_fails_without(test_data):
    path = str(_fixture(test_data, "bad_rows.csv"))
    failed = runner.invoke(app, ["risks", path, "--format", "json"])
    assert failed.exit_code == 1 and "row 6, column 'impressions'" in failed.stderr
    skipped = runner.invoke(app, ["risks", path, "--on-bad-rows", "skip", "--format", "json"])
    assert skipped.exit_code == 0, skipped.output
    assert json.loads(skipped.stdout)["as_of"] == "2025-01-16"


def test_one_column_header_suggests_its_separator(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(HEADER.replace(",", ";") + "\n2025-01-01;A;1;10;1;0;0\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text('source: simkit\nseparator: ","\n')
    issue = _only(_report(path, mapping=mapping), "missing_column")
    assert "looks ';'-separated: set separator: ';'" in issue.message


def test_a_cell_holding_a_line_break_is_shown_escaped_on_one_line(tmp_path):
    """Found by tests/test_fuzz_imports.py: the message was cut in two by the cell's newline."""
    path = tmp_path / "x.csv"
    path.write_text(
        "date,campaign_id,spend,impressions,clicks,conversions,revenue\n"
        '2025-01-01,A,"12\n34",10,1,0,0\n'
    )
    with pytest.raises(
        DataError, match=r"column 'spend': 1 cell\(s\) are not numbers, e\.g\. '12\\n34'"
    ) as info:
        load(path, today=None)
    assert all(line.startswith(("file", "  ")) for line in str(info.value).splitlines())
