"""A target of 0 is a typo: `simkit simulate` refuses it in one line naming the option
(through the real entry point, in a subprocess, as a user's terminal shows it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("option", ["--target-cpa", "--target-roas"])
def test_a_target_must_be_above_zero(option: str, tmp_path: Path) -> None:
    data = tmp_path / "none.csv"  # never read: the option is refused first
    args = ["simulate", str(data), "--campaign", "C001", "--horizon", "7", option, "0"]
    done = subprocess.run(
        [sys.executable, "-m", "simkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    assert done.returncode == 1  # every CLI error exits 1 (tests/test_cli_errors.py)
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"simkit simulate: error: Invalid value for '{option}': must be above 0, not 0"
    ]
