from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from simkit.report.section import SUMMARY_MIME
from simkit.runner.execute import classify_failure
from simkit.runner.publish import (
    atomic_replace_dir,
    extract_summary,
    render_html,
    scrub_paths,
)

from .html_checks import external_references


def _notebook(tmp: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"read {tmp}/data/c.csv\n"),
        nbformat.v4.new_output(
            "display_data", data={SUMMARY_MIME: {"a": 1}, "text/plain": "{'a': 1}"}
        ),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>hello</p>"}),
    ]
    nb.cells = [cell]
    nb.metadata["papermill"] = {
        "input_path": "/opt/simkit/notebooks/campaign_report.ipynb",
        "output_path": f"{tmp}/out/.staging/r/C1/report.ipynb",
        "parameters": {"data": f"{tmp}/data/c.csv", "seed": 7},
    }
    return nb


def test_scrub_removes_absolute_paths_from_metadata_and_outputs(tmp_path: Path) -> None:
    nb = scrub_paths(_notebook(str(tmp_path)), [tmp_path])
    meta = nb.metadata["papermill"]
    assert meta["input_path"] == "campaign_report.ipynb"  # unknown root: cut to the name
    assert meta["output_path"] == "out/.staging/r/C1/report.ipynb"
    assert meta["parameters"] == {"data": "data/c.csv", "seed": 7}
    assert str(tmp_path) not in nb.cells[0].outputs[0]["text"]
    assert str(tmp_path) not in nbformat.writes(nb)


def test_summary_is_extracted_and_not_rendered(tmp_path: Path) -> None:
    nb = _notebook(str(tmp_path))
    assert extract_summary(nb) == {"a": 1}
    html = render_html(nb)
    assert "<p>hello</p>" in html
    assert SUMMARY_MIME not in html
    assert external_references(html) == []


def test_atomic_replace_dir_swaps_a_complete_folder(tmp_path: Path) -> None:
    final, staged = tmp_path / "C1", tmp_path / ".staging" / "C1"
    final.mkdir()
    (final / "report.html").write_text("old")
    staged.mkdir(parents=True)
    (staged / "report.html").write_text("new")
    atomic_replace_dir(staged, final)
    assert (final / "report.html").read_text() == "new"
    assert not staged.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".C1")] == []


def test_failures_without_a_banner_are_labelled() -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    kind, msg, transient = classify_failure(DeadKernelError("Kernel died"), timeout_seconds=5)
    assert kind == "kernel_died" and "kernel died" in msg and transient
    kind, msg, transient = classify_failure(CellTimeoutError("x"), timeout_seconds=5)
    assert kind == "timeout" and "5 s" in msg and not transient
    err = PapermillExecutionError(2, 1, "x", "DataError", "bad \x1b[31mrow\x1b[0m", [])
    kind, msg, transient = classify_failure(err, timeout_seconds=5)
    assert kind == "error" and msg.startswith("DataError: bad row") and not transient
    err = PapermillExecutionError(2, 1, "x", "ValidationError", "1 error\n  campaigns\n  bad", [])
    assert classify_failure(err, timeout_seconds=5)[1] == (
        "ValidationError: 1 error campaigns bad (code cell 2)"
    ), "the published error is one line"


@pytest.mark.parametrize(
    "html,bad",
    [
        ('<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>', True),
        ('<link rel="stylesheet" href="//cdnjs.cloudflare.com/x.css">', True),
        ('<script src="data:text/javascript,1"></script>', False),
        ('<a href="C1/report.html">C1</a><script>var a = 1;</script>', False),
    ],
)
def test_external_reference_check_itself(html: str, bad: bool) -> None:
    assert bool(external_references(html)) is bad


def test_a_dead_kernel_is_named_by_its_signal_or_exit_status() -> None:
    from nbclient.exceptions import DeadKernelError

    def message(returncode: int | None) -> str:
        return classify_failure(
            DeadKernelError("Kernel died"), timeout_seconds=5, kernel_returncode=returncode
        )[1]

    assert message(-9).startswith("the kernel was killed (signal 9, SIGKILL; out of memory?)")
    assert message(-15).startswith("the kernel was killed (signal 15, SIGTERM)")
    assert message(138).startswith("the kernel stopped unexpectedly (it exited with status 138)")
    assert message(None).startswith("the kernel died (killed or crashed; out of memory?)")
