"""Two ``simkit run`` processes on one registry at the same time (different output
folders) lose nothing and block nothing, on SQLite and on Postgres."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from simkit.registry import Registry

from .conftest import LEAN

pytestmark = pytest.mark.slow


def _start(tmp_path: Path, test_data: Path, name: str, db_url: str) -> subprocess.Popen[str]:
    params = tmp_path / f"{name}.yaml"
    params.write_text(
        yaml.safe_dump(
            {
                "data": str(test_data / "report" / "campaigns.csv"),
                "campaigns": ["C001"],
                "output_dir": str(tmp_path / name),
                **LEAN,
            }
        )
    )
    return subprocess.Popen(
        [sys.executable, "-m", "simkit.cli", "run", str(params), "--summary-only"]
        + ["--workers", "1", "--registry", db_url, "--format", "json"],
        cwd=tmp_path,
        env={**os.environ, "TQDM_DISABLE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_two_runs_on_one_registry_at_once(db_url: str, tmp_path: Path, test_data: Path) -> None:
    Registry(db_url).close()  # the schema exists before both start (as after `db upgrade`)
    first = _start(tmp_path, test_data, "one", db_url)
    second = _start(tmp_path, test_data, "two", db_url)
    results = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    reg = Registry(db_url)
    try:
        runs = [reg.get_run(r["run_id"]) for r in results]
        listed = {r["run_id"] for r in reg.list_runs()}
    finally:
        reg.close()
    assert listed == {r["run_id"] for r in results}
    for run in runs:
        assert run["status"] == "succeeded"
        assert [(c["campaign_id"], c["status"]) for c in run["campaigns"]] == [
            ("C001", "succeeded")
        ]
        assert all(c["summary_path"] and c["finished_at"] for c in run["campaigns"])
    # neither waited for the other: their campaigns were running at the same time
    a, b = (
        (
            min(_t(c["started_at"]) for c in r["campaigns"]),
            max(_t(c["finished_at"]) for c in r["campaigns"]),
        )
        for r in runs
    )
    assert a[0] < b[1] and b[0] < a[1], (a, b)
