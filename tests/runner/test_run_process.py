"""``simkit run`` as a process: stopped by signals, killed, refused, and quiet.

Each run gets a marker in its environment, which its workers, kernels and the
multiprocessing resource tracker inherit, so "nothing of it is left" can be checked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

import psutil
import pytest
import yaml

from simkit.paths import safe_name
from simkit.registry import Registry
from simkit.runner.lock import RunLock

from .conftest import LEAN

pytestmark = pytest.mark.slow

_MARK = "SIMKIT_TEST_RUN_MARK"


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(_MARK) == mark:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _kernels(mark: str) -> list[psutil.Process]:
    out = []
    for proc in _marked(mark):
        try:
            if "ipykernel" in " ".join(proc.cmdline()):
                out.append(proc)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return out


def _params(tmp_path: Path, test_data: Path, name: str, **extra: object) -> Path:
    values = {
        "data": str(test_data / "report" / "campaigns.csv"),
        "output_dir": str(tmp_path / name),
        "priority": "listed",
        **LEAN,
        **extra,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def _run(
    params: Path, tmp_path: Path, *more: str, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """``simkit run PARAMS`` to its end, on this test's registry, its output captured."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "simkit.cli",
            "run",
            str(params),
            "--registry",
            f"sqlite:///{tmp_path / 'r.sqlite'}",
            *more,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _start(
    params: Path, registry: str, mark: str, tmp_path: Path, *more: str
) -> subprocess.Popen[bytes]:
    env = {**os.environ, _MARK: mark}
    env.pop("TQDM_DISABLE", None)
    with (tmp_path / f"{mark}.err").open("wb") as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simkit.cli",
                "run",
                str(params),
                "--registry",
                registry,
                *more,
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def _wait_for(check, timeout: float, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _gone_within(mark: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [(p.pid, " ".join(p.cmdline())[:80]) for p in _marked(mark)]
    for proc in _marked(mark):  # never leave them running, whatever the outcome
        proc.kill()
    assert left == [], f"still running {seconds} s after the kill: {left}"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("html", "body"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("html", "body") and self.open and self.open[-1] == tag:
            self.open.pop()


def _whole(folder: Path) -> None:
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>"), folder
    parser = _Html()
    parser.feed(page)
    parser.close()
    assert parser.open == [], f"{folder}: unclosed {parser.open}"
    assert isinstance(json.loads((folder / "summary.json").read_text()), dict)


def test_sigterm_then_sigkill_leave_nothing_running_and_the_registry_says_so(
    tmp_path: Path, test_data: Path
) -> None:
    registry = f"sqlite:///{tmp_path / 'r.sqlite'}"
    first = [safe_name(c) for c in ("C001", "C002", "C003")]

    # SIGTERM once the first report is published and the second is being made
    mark = uuid.uuid4().hex
    term = _start(_params(tmp_path, test_data, "term"), registry, mark, tmp_path, "-w", "1")
    out = tmp_path / "term"
    _wait_for(lambda: (out / first[0] / "report.html").is_file(), 180, "the first report")
    _wait_for(lambda: _kernels(mark), 60, "the second campaign's kernel")
    term.send_signal(signal.SIGTERM)
    assert term.wait(15) == 130
    _gone_within(mark, 10)
    run = Registry(registry).list_runs()[0]
    assert run["status"] == "interrupted", run
    detail = Registry(registry).get_run(run["run_id"])
    statuses = {c["campaign_id"]: c["status"] for c in detail["campaigns"]}
    assert statuses["C001"] == "succeeded" and statuses["C003"] == "interrupted", statuses
    _whole(out / first[0])
    manifest = json.loads((out / "run.json").read_text())
    assert (manifest["run_id"], manifest["status"]) == (run["run_id"], "interrupted")
    index = (out / "index.html").read_text()
    assert f'href="{first[0]}/report.html"' in index and index.endswith("</html>")
    assert not list((out / ".staging").glob("*")), "the run's staging folder is removed"
    stderr = (tmp_path / f"{mark}.err").read_text()
    assert "Traceback" not in stderr and "interrupted: the reports already published" in stderr

    # SIGKILL of the parent while a kernel runs: workers, kernels and tracker follow
    mark = uuid.uuid4().hex
    kill = _start(_params(tmp_path, test_data, "kill"), registry, mark, tmp_path, "-w", "2")
    _wait_for(lambda: _kernels(mark), 120, "a kernel of the second run")
    assert len(_marked(mark)) >= 4, "parent, workers, resource tracker and kernels"
    kill.send_signal(signal.SIGKILL)
    kill.wait(5)
    _gone_within(mark, 10)
    listed = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "runs", "list", "--registry", registry, "-f", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = {r["output_dir"]: r for r in json.loads(listed.stdout)}
    assert runs[str(tmp_path / "kill")]["status"] == "interrupted"
    assert runs[str(tmp_path / "term")]["status"] == "interrupted"
    for folder in (tmp_path / "kill").glob("*/report.html"):
        _whole(folder.parent)


def test_a_second_run_into_a_busy_folder_is_refused_in_one_line(
    tmp_path: Path, test_data: Path
) -> None:
    params = _params(tmp_path, test_data, "busy")
    (tmp_path / "busy").mkdir()
    lock = RunLock(tmp_path / "busy" / ".simkit.lock", "20260101T000000Z-aaaaaa")
    lock.acquire()
    try:
        done = _run(params, tmp_path)
    finally:
        lock.release()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "run 20260101T000000Z-aaaaaa (pid" in lines[0], done.stderr
    assert "--wait" in lines[0]
    [run] = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}").list_runs()
    assert run["status"] == "failed" and "is writing to" in run["error"]


def test_output_dir_that_is_a_file_is_one_line_and_a_failed_run(
    tmp_path: Path, test_data: Path
) -> None:
    (tmp_path / "afile").write_text("not a folder")
    params = _params(tmp_path, test_data, "afile")
    done = _run(params, tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.endswith(f"error: output_dir {tmp_path / 'afile'} is a file, not a folder"), line
    [run] = Registry(f"sqlite:///{tmp_path / 'r.sqlite'}").get_run(
        Registry(f"sqlite:///{tmp_path / 'r.sqlite'}").list_runs()[0]["run_id"]
    )["campaigns"][:1]
    assert run["status"] == "failed"


def test_a_run_prints_a_progress_bar_and_one_line_per_campaign(
    tmp_path: Path, test_data: Path
) -> None:
    params = _params(tmp_path, test_data, "quiet", campaigns=["C001", "C002"])
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    done = _run(params, tmp_path, "-w", "2", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    pieces = [p.strip() for p in done.stderr.replace("\r", "\n").splitlines() if p.strip()]
    other = [p for p in pieces if not p.startswith("campaign reports:")]
    assert sorted(p.split(":")[0] for p in other) == ["C001", "C002"], other
    assert all(": published in " in p for p in other), other
    assert any(p.startswith("campaign reports: 100%") for p in pieces)
    logs = list((tmp_path / ".simkit-cache" / "logs").glob("*.log"))
    assert len(logs) == 1 and "IPKernelApp" in logs[0].read_text(), "the chatter is kept, aside"


def test_a_waiting_run_stopped_by_sigterm_touches_nothing_of_the_holder(
    tmp_path: Path, test_data: Path
) -> None:
    registry = f"sqlite:///{tmp_path / 'r.sqlite'}"
    params = _params(tmp_path, test_data, "held")
    (tmp_path / "held").mkdir()
    (tmp_path / "held" / "index.html").write_text("the holder's index")
    lock = RunLock(tmp_path / "held" / ".simkit.lock", "20260101T000000Z-aaaaaa")
    lock.acquire()
    mark = uuid.uuid4().hex
    try:
        waiting = _start(params, registry, mark, tmp_path, "--wait")
        err = tmp_path / f"{mark}.err"
        _wait_for(lambda: "waiting for run 20260101T000000Z-aaaaaa" in err.read_text(), 60, "wait")
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(10) == 130
    finally:
        lock.release()
    _gone_within(mark, 10)
    [run] = Registry(registry).list_runs()
    assert run["status"] == "interrupted"
    assert sorted(p.name for p in (tmp_path / "held").iterdir()) == [".simkit.lock", "index.html"]
    assert (tmp_path / "held" / "index.html").read_text() == "the holder's index"
