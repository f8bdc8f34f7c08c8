"""The index's content: this run's reports, stopped campaigns, and what survives a failure."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from simkit.params import RunParams
from simkit.paths import PathOutsideRootError, safe_name
from simkit.report.portfolio import load_run, portfolio_sections
from simkit.runner.batch import _manifest, _plain_index, present_reports
from simkit.runner.execute import CampaignOutcome
from simkit.runner.layout import RunLayout

RUN = "20260102T000000Z-bbbbbb"
EARLIER = "20260101T000000Z-aaaaaa"


def _report(out: Path, cid: str, run_id: str, **summary: object) -> None:
    folder = out / safe_name(cid)
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html><body>r</body></html>")
    (folder / "summary.json").write_text(
        json.dumps({"campaign_id": cid, "run_id": run_id, "numbers": {}, **summary})
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs)["href"] or "")


def _links(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return parser.links


def test_a_failed_rerun_keeps_the_surviving_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _report(out, "<b>A</b>", EARLIER)  # failed in this run: its earlier report survives
    _report(out, "B", RUN, campaign_state="stopped", campaign_last_date="2019-04-30")
    _report(out, "Z", EARLIER)  # not in this run at all
    outcomes = {
        "<b>A</b>": CampaignOutcome("<b>A</b>", "failed", 1, 1.0, 2.0, error="DataError: bad"),
        "B": CampaignOutcome(
            "B",
            "succeeded",
            1,
            1.0,
            2.0,
            summary={"campaign_state": "stopped", "campaign_last_date": "2019-04-30"},
        ),
    }
    layout = RunLayout(out, RUN)
    manifest = _manifest(
        RUN, "failed", RunParams(data="x"), "d", None, layout, ["<b>A</b>", "B"], outcomes
    )
    a, b = manifest["campaigns"]
    assert (a["status"], a["report"]) == ("failed", None)
    assert a["previous_report"] == {
        "report": f"{safe_name('<b>A</b>')}/report.html",
        "run_id": EARLIER,
    }
    assert (b["status"], b["campaign_state"], b["last_date"]) == (
        "succeeded",
        "stopped",
        "2019-04-30",
    )
    assert b["report"] == f"{safe_name('B')}/report.html"
    assert [(e["campaign_id"], e["run_id"]) for e in manifest["earlier"]] == [("Z", EARLIER)]

    (out / "run.json").write_text(json.dumps(manifest))
    sections = portfolio_sections(load_run(out))
    words = " ".join(sections["campaigns"].text)
    page = "".join(sections["campaigns"].html)
    assert "1 of 2 campaign reports published (1 of them for campaigns that have stopped)" in words
    assert "<b>A</b>: DataError: bad" in words
    assert "The report of an earlier run is still linked for: <b>A</b>" in words
    assert "stopped (last day 2019-04-30)" in page and "earlier run " + EARLIER in page
    assert "&lt;b&gt;A&lt;/b&gt;" in page and "<b>A</b>" not in page, "ids are escaped"
    assert set(_links(page)) == {f"{safe_name(c)}/report.html" for c in ("<b>A</b>", "B", "Z")}, (
        "every report still on disk is linked, by its safe folder"
    )
    assert "issue" not in words + page and "spend 0" not in words

    plain = _plain_index(manifest, None)
    assert set(_links(plain)) == set(_links(page))
    assert "stopped (last day 2019-04-30)" in plain and plain.endswith("</html>")


def test_present_reports_ignores_hidden_and_symlinked_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _report(out, "A", EARLIER)
    (out / ".staging" / "x").mkdir(parents=True)
    (out / ".staging" / "x" / "report.html").write_text("half")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "report.html").write_text("not ours")
    (out / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert list(present_reports(out)) == [safe_name("A")]


def test_nothing_published_says_so_without_made_up_totals(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outcomes = {"A": CampaignOutcome("A", "failed", 1, 1.0, 2.0, error="boom")}
    manifest = _manifest(
        RUN, "failed", RunParams(data="x"), "d", None, RunLayout(out, RUN), ["A"], outcomes
    )
    (out / "run.json").write_text(json.dumps(manifest))
    totals = portfolio_sections(load_run(out))["totals"]
    text = " ".join(totals.text) if totals.text else str(totals)
    assert "No campaign report of this run was published" in text
    assert "spend 0" not in text


def test_staging_left_by_dead_runs_is_removed_inside_the_folder_only(tmp_path: Path) -> None:
    from simkit.runner.batch import _clean_dead_staging

    out = tmp_path / "out"
    (out / ".staging" / EARLIER / safe_name("A")).mkdir(parents=True)
    (out / ".staging" / EARLIER / safe_name("A") / "report.ipynb").write_text("{}")
    (out / f".{safe_name('A')}.old-0123").mkdir()
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "keep.txt").write_text("mine")
    (out / ".staging" / "planted").symlink_to(tmp_path / "victim", target_is_directory=True)
    _report(out, "A", EARLIER)
    with pytest.raises(PathOutsideRootError, match="refusing to touch"):
        _clean_dead_staging(RunLayout(out, RUN))
    (out / ".staging" / "planted").unlink()
    _clean_dead_staging(RunLayout(out, RUN))
    assert list((out / ".staging").iterdir()) == []
    assert not (out / f".{safe_name('A')}.old-0123").exists()
    assert (tmp_path / "victim" / "keep.txt").read_text() == "mine"
    assert (out / safe_name("A") / "report.html").is_file(), "published reports stay"
