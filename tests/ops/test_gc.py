from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update

from simkit import audit
from simkit.errors import ParamsError
from simkit.ops import Stores, gc
from simkit.params import validate_params
from simkit.paths import safe_name
from simkit.registry import Registry, campaign_runs, runs


def _world(tmp_path: Path) -> tuple[Stores, Path]:
    db = tmp_path / ".simkit-cache" / "registry.sqlite"
    reg = Registry(f"sqlite:///{db}")
    out = tmp_path / "reports"
    for run_id, age_days, cid in (
        ("20250101T000000Z-aaaaaa", 400, "OLD1"),
        ("20261201T000000Z-bbbbbb", 1, "NEW1"),
    ):
        reg.create_run(
            run_id, params={"data": "x.csv"}, params_hash="h", output_dir=str(out), campaigns=[cid]
        )
        reg.finish_run(run_id, status="succeeded")
        with reg._engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(created_at=datetime.now(UTC) - timedelta(days=age_days))
            )
        folder = out / safe_name(cid)
        folder.mkdir(parents=True)
        (folder / "summary.json").write_text(json.dumps({"run_id": run_id, "campaign_id": cid}))
        (folder / "report.html").write_text("<p>report</p>")
    old_entry = tmp_path / ".simkit-cache" / "joblib" / "f" / "_compute" / "abc"
    old_entry.mkdir(parents=True)
    (old_entry / "output.pkl").write_bytes(b"fit")
    stamp = time.time() - 400 * 86400
    os.utime(old_entry / "output.pkl", (stamp, stamp))
    new_entry = old_entry.with_name("def")
    new_entry.mkdir()
    (new_entry / "output.pkl").write_bytes(b"fit")
    return Stores.open(f"sqlite:///{db}"), out


def test_gc_removes_what_is_older_than_the_retention(tmp_path: Path) -> None:
    stores, out = _world(tmp_path)
    dry = gc(stores, retention_days=30, dry_run=True)
    assert dry.runs == ["20250101T000000Z-aaaaaa"] and dry.cache_entries == 1
    assert (out / safe_name("OLD1")).is_dir() and not stores.audit_log.exists()
    done = gc(stores, retention_days=30)
    assert done.reports == [str(out / safe_name("OLD1"))]
    assert not (out / safe_name("OLD1")).exists() and (out / safe_name("NEW1")).is_dir()
    reg = Registry(stores.registry)
    assert [r["run_id"] for r in reg.list_runs()] == ["20261201T000000Z-bbbbbb"]
    with reg._engine.connect() as conn:
        left = {r.campaign_id for r in conn.execute(campaign_runs.select())}
    assert left == {"NEW1"}
    assert [p.name for p in (stores.cache_dir / "f" / "_compute").iterdir()] == ["def"]
    (entry,) = audit.entries(stores.audit_log)
    assert (entry["event"], entry["n_runs"], entry["n_cache_entries"]) == ("gc", 1, 1)


@pytest.mark.slow  # two `simkit` processes: about 10 s on the shared machine
def test_gc_command_reads_retention_days_from_params(tmp_path: Path) -> None:
    stores, _ = _world(tmp_path)
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"data": "x.csv", "retention_days": 30}))
    cmd = [sys.executable, "-m", "simkit.cli", "gc", "--registry", stores.registry]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMKIT_")}
    dry = subprocess.run(
        [*cmd, str(params), "--dry-run"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would remove 1 runs, 1 reports, 1 cache entries")
    none = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert none.returncode == 1
    assert none.stderr.strip() == (
        "simkit gc: error: no retention: set retention_days in the params file, or give --days N"
    )


def test_retention_days_is_validated() -> None:
    with pytest.raises(ParamsError, match="field 'retention_days'"):
        validate_params({"data": "x.csv", "retention_days": 0})
