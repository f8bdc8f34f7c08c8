"""Every CLI error is one line on stderr with exit code 1, and no third-party log noise.

The usage-error cases run ``simkit`` in a subprocess through its real entry point
(:func:`simkit.cli.main`), so what is checked is what a user's terminal or a cron mail shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from simkit._resources import dashboard_sample
from simkit.cli import app, error_line, handle_errors, main
from simkit.errors import OutOfMemoryError, SimkitError
from simkit.simulate import _memory
from simkit.simulate._memory import BYTES_PER_PATH, BYTES_PER_PATH_DAY, check_paths_fit

SAMPLE = str(dashboard_sample())


def _simkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "prefix", "names"),
    [
        (["simulate", SAMPLE, "--bogus"], "simkit simulate: error: ", "--bogus"),
        (["generate"], "simkit generate: error: ", "'output_dir'"),
        (["simulate", SAMPLE, "--horizon", "7"], "simkit simulate: error: ", "'--campaign'"),
        (
            ["simulate", SAMPLE, "-c", "C001", "--horizon", "7", "--paths", "10000000"],
            "simkit simulate: error: ",
            "'--paths'",
        ),
        (
            ["simulate", SAMPLE, "-c", "C001", "--horizon", "x"],
            "simkit simulate: error: ",
            "'--horizon'",
        ),
        (["validate", SAMPLE, "--format", "xml"], "simkit validate: error: ", "'--format'"),
        (["runs", "show"], "simkit runs show: error: ", "'run_id'"),
        (["bogus"], "simkit: error: ", "'bogus'"),
    ],
    ids=[
        "unknown-option",
        "missing-argument",
        "missing-option",
        "out-of-range",
        "not-a-number",
        "bad-choice",
        "subcommand-missing-argument",
        "unknown-command",
    ],
)
def test_usage_errors_are_one_line_with_exit_1(args: list[str], prefix: str, names: str) -> None:
    done = _simkit(*args)
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert names in lines[0], lines[0]
    assert done.stdout == ""


def test_a_simkit_error_from_a_command_is_one_line_naming_the_command(tmp_path: Path) -> None:
    done = _simkit("validate", str(tmp_path / "absent.csv"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"simkit validate: error: file {tmp_path / 'absent.csv'}: file not found"
    ]


def test_help_still_exits_0_on_stdout() -> None:
    done = _simkit("simulate", "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: simkit simulate" in done.stdout and "--paths" in done.stdout
    assert done.stderr == ""


def test_no_command_prints_the_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="^0$"):
        main([])
    out, err = capsys.readouterr()
    assert "Usage: simkit" in out and "simulate" in out
    assert err == ""


def test_main_exits_1_with_one_line_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="^1$"):
        main(["generate", "--campaigns", "0", "out"])
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("simkit generate: error: Invalid value for '--campaigns'")


def test_an_unexpected_exception_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import simkit.cli.data

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(simkit.cli.data, "import_file", broken)
    with pytest.raises(SystemExit, match="^1$"):
        main(["validate", SAMPLE])
    _, err = capsys.readouterr()
    assert err == (
        "simkit: error: unexpected RuntimeError: boom second line (--verbose shows where)\n"
    )


def test_an_unexpected_message_never_shows_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import simkit.cli.data

    from simkit.keys import register_secret

    sentinel = "SENTINEL-dashboard-token-4711"
    monkeypatch.setenv("SIMKIT_DASHBOARD_TOKEN", sentinel)
    register_secret("SENTINEL-connector-key-0815")  # as get_key does for a key it reads

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(
            f"cannot reach postgresql://simkit:pw-SENTINEL-9@db:5432/x?token={sentinel} "
            "with SENTINEL-connector-key-0815"
        )

    monkeypatch.setattr(simkit.cli.data, "import_file", broken)
    with pytest.raises(SystemExit, match="^1$"):
        main(["validate", SAMPLE])
    _, err = capsys.readouterr()
    assert "SENTINEL" not in err
    assert err.startswith("simkit: error: unexpected RuntimeError: cannot reach postgresql://")


def test_error_line_joins_the_message_lines() -> None:
    assert error_line("first\n  second\n\n", "simkit x") == "simkit x: error: first second"
    assert error_line(SimkitError("bad"), "simkit y") == "simkit y: error: bad"


def test_a_memory_error_in_a_command_is_one_line() -> None:
    demo = typer.Typer()

    @demo.command()
    @handle_errors
    def hungry() -> None:
        raise MemoryError

    result = CliRunner().invoke(demo, [])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "hungry: error: out of memory (ask for less: fewer paths, a shorter horizon)"
    ]


# --- how many paths fit -------------------------------------------------------------------


def test_check_paths_fit_says_how_many_would_fit() -> None:
    per_path = 30 * BYTES_PER_PATH_DAY + BYTES_PER_PATH
    available = 10_000 * per_path  # 80% of it is usable: 8,000 paths
    check_paths_fit(8_000, 30, available=available)
    with pytest.raises(OutOfMemoryError, match=r"about 8,000 paths would fit") as info:
        check_paths_fit(8_001, 30, available=available)
    assert info.value.n_fit == 8_000 and isinstance(info.value, MemoryError)
    assert info.value.needed_bytes == 8_001 * per_path
    with pytest.raises(
        OutOfMemoryError, match=r"^1,000,000 paths over 730 days need about 23\.4 GB"
    ):
        check_paths_fit(1_000_000, 730, available=16 * 10**9)


def test_check_paths_fit_is_skipped_when_memory_is_unknown(monkeypatch) -> None:
    monkeypatch.setattr(_memory, "available_memory_bytes", lambda: None)
    check_paths_fit(10**12, 730)


def test_available_memory_is_read_from_the_machine() -> None:
    available = _memory.available_memory_bytes()
    assert available is not None and 10**8 < available < 10**15


@pytest.mark.slow
def test_simulate_too_large_says_how_many_paths_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine checks before it allocates; the CLI prints that as one line."""
    monkeypatch.setattr(_memory, "available_memory_bytes", lambda: 2 * 10**9)
    result = CliRunner().invoke(
        app, ["simulate", SAMPLE, "-c", "C001", "--horizon", "60", "--paths", "1000000"]
    )
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == [
        "simkit simulate: error: 1,000,000 paths over 60 days need about 2.0 GB of memory and "
        "2.0 GB is available: about 800,000 paths would fit"
    ]
    assert "Traceback" not in result.output


# --- third-party log noise ----------------------------------------------------------------


@pytest.mark.slow
def test_a_prophet_fit_logs_nothing_at_the_default_level(tmp_path: Path) -> None:
    """Neither prophet's "Importing plotly failed" ERROR nor cmdstanpy's INFO lines."""
    done = _simkit(
        "backtest",
        SAMPLE,
        "-c",
        "C001",
        "--members",
        "prophet",
        "--horizon",
        "7",
        "--no-cache",
        "-f",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert '"prophet"' in done.stdout, "prophet was fitted"
    assert "plotly" not in done.stderr
    assert "cmdstanpy" not in done.stderr


def test_a_cgroup_limit_below_the_machines_memory_is_what_is_available(
    monkeypatch, tmp_path
) -> None:
    (tmp_path / "memory.max").write_text("1000000000\n")
    (tmp_path / "memory.current").write_text("400000000\n")
    monkeypatch.setattr(_memory, "_CGROUP", tmp_path)
    assert _memory.available_memory_bytes() == 600_000_000
    (tmp_path / "memory.max").write_text("max\n")
    assert _memory.available_memory_bytes() > 600_000_000  # no limit: the machine's figure


def test_unknown_memory_is_not_reported_as_zero_gigabytes() -> None:
    message = str(_memory.paths_error(10_000_000, 90, 0))
    assert "0.0 GB is available" not in message and "try fewer paths" in message
