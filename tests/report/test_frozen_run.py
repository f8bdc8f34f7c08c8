"""The frozen run in tests/data/report/run is what the code computes (issue 23).

The portfolio-report tests and the notebooks' defaults read that folder; it is rebuilt here
with the script that wrote it and compared number by number (STYLE.md 15).  After an
intended engine change: ``.venv/bin/python scripts/freeze_report_run.py`` and commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

REGENERATE = "run .venv/bin/python scripts/freeze_report_run.py and commit the diff"


def _freeze_script(repo_root: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        "freeze_report_run", repo_root / "scripts" / "freeze_report_run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_same(frozen: Any, fresh: Any, where: str) -> None:
    """Equal structure and text; numbers equal to a relative 1e-6 (platform float noise)."""
    if isinstance(frozen, dict):
        assert isinstance(fresh, dict) and sorted(frozen) == sorted(fresh), where
        for key in frozen:
            _assert_same(frozen[key], fresh[key], f"{where}/{key}")
    elif isinstance(frozen, list):
        assert isinstance(fresh, list) and len(frozen) == len(fresh), where
        for i, (a, b) in enumerate(zip(frozen, fresh, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(frozen, float) or (isinstance(frozen, int) and not isinstance(frozen, bool)):
        assert fresh == pytest.approx(frozen, rel=1e-6, abs=1e-12), f"{where}: {REGENERATE}"
    else:
        assert fresh == frozen, f"{where}: {REGENERATE}"


@pytest.mark.slow
def test_the_frozen_run_is_what_the_code_computes(repo_root, test_data, tmp_path):
    fresh = _freeze_script(repo_root).freeze(tmp_path / "run")
    folder = test_data / "report" / "run"
    committed = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    assert committed == sorted(fresh)
    for name, value in fresh.items():
        _assert_same(json.loads((folder / name).read_text()), value, name)


def test_the_comparison_catches_a_changed_number():
    frozen = {"totals": {"conversions": {"p50": 917.0}}, "notes": ["a"]}
    _assert_same(frozen, {"totals": {"conversions": {"p50": 917.0000001}}, "notes": ["a"]}, "")
    with pytest.raises(AssertionError, match="totals/conversions/p50"):
        _assert_same(frozen, {"totals": {"conversions": {"p50": 918.0}}, "notes": ["a"]}, "")
    with pytest.raises(AssertionError, match="notes"):
        _assert_same(frozen, {"totals": {"conversions": {"p50": 917.0}}, "notes": []}, "")
