"""The operations issue's "done when", on real runs of ``simkit run`` (two campaigns).

One module-scoped world: two identical runs with ``metrics_textfile`` and ``webhook_url``
set, then export, backup-wipe-restore and purge in that order (each test checks the state
it starts from, so a failure upstream is not mistaken for one here).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from simkit import audit

from .conftest import Sink, serve

pytestmark = pytest.mark.slow  # two real runs (Papermill, nbconvert): about a minute

LEAN = {"members": ["seasonal_naive", "ets"], "backtest_cutoffs": 1, "n_paths": 300}


@dataclass
class World:
    root: Path
    params: Path
    registry: str
    sink: Sink
    posts_after_first_run: int
    runs: list[subprocess.CompletedProcess[str]]

    @property
    def db(self) -> Path:
        return self.root / ".simkit-cache" / "registry.sqlite"

    @property
    def log(self) -> Path:
        return self.root / ".simkit-cache" / "audit.jsonl"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def simkit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _simkit(self.root, *args, "--registry", self.registry)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMKIT_")}
    env["TQDM_DISABLE"] = "1"
    return env


def _simkit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simkit.cli", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Iterator[World]:
    root = tmp_path_factory.mktemp("ops-world")
    with serve() as sink:
        values = {
            "data": str(test_data / "report" / "campaigns.csv"),
            "campaigns": ["C001", "C003"],
            "priority": "listed",
            "output_dir": "reports",
            "campaign_meta": {"C003": {"client": "Acme Travel"}},
            "metrics_textfile": "prom/simkit.prom",
            "webhook_url": sink.url,
            # low, so that the run's risk detectors surely raise alerts to send
            "alert_threshold": 0.0001,
            **LEAN,
        }
        params = root / "params.yaml"
        params.write_text(yaml.safe_dump(values))
        registry = f"sqlite:///{root / '.simkit-cache' / 'registry.sqlite'}"
        first = _simkit(root, "run", str(params), "--registry", registry)
        n_first = len(sink.posts)
        second = _simkit(root, "run", str(params), "--registry", registry)
        yield World(root, params, registry, sink, n_first, [first, second])


def test_a_run_writes_its_metrics_and_sends_its_alerts_once(world: World) -> None:
    assert [r.returncode for r in world.runs] == [0, 0], [r.stderr[-2000:] for r in world.runs]
    prom = (world.root / "prom" / "simkit.prom").read_text()
    assert 'simkit_runs_total{status="succeeded"}' in prom
    assert 'simkit_report_duration_seconds_count{status="succeeded"} 2.0' in prom
    assert world.posts_after_first_run > 0
    texts = [p["text"] for p in world.sink.posts]
    assert all(t.startswith("simkit risk: ") for t in texts), texts
    assert any("C003" in t for t in texts) and any("C001" in t for t in texts)
    # the second, identical run the same day sent nothing
    assert len(world.sink.posts) == world.posts_after_first_run
    assert len(set(texts)) == len(texts)


def test_the_webhook_url_is_stored_nowhere(world: World) -> None:
    for path in world.root.rglob("*"):
        if path.is_file() and path != world.params:
            assert b"SENTINEL" not in path.read_bytes(), path


def test_the_audit_log_records_both_runs(world: World) -> None:
    events = [e["event"] for e in audit.entries(world.log)]
    assert events.count("run.started") == 2 and events.count("run.finished") == 2
    assert events.count("report.published") == 4
    assert audit.verify(world.log).ok
    shown = world.simkit("audit", "show", "--campaign", "C003", "--format", "json")
    rows = json.loads(shown.stdout)
    assert {r["event"] for r in rows} == {"run.started", "report.published"}


def test_export_gathers_a_campaign_and_a_client(world: World) -> None:
    out = world.root / "exports" / "c003.zip"
    done = world.simkit("export", "--campaign", "C003", "--output", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for name, info in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == info["sha256"], name
        names = set(zf.namelist())
        rows = json.loads(zf.read("registry/campaign_runs.json"))
        entries = zf.read("audit.jsonl").decode().splitlines()
    assert {r["campaign_id"] for r in rows} == {"C003"} and len(rows) == 2
    assert any(n.startswith("reports/0/C003-") and n.endswith("report.html") for n in names)
    assert not any("C001-" in n for n in names)
    assert len(entries) == 4  # two run starts, two reports published
    by_client = world.root / "exports" / "acme.zip"
    done = world.simkit("export", "--client", "Acme Travel", "--output", str(by_client))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(by_client) as zf:
        assert json.loads(zf.read("manifest.json"))["subject"]["campaigns"] == ["C003"]
    nobody = world.simkit("export", "--client", "Nobody", "--output", str(by_client))
    assert nobody.returncode == 1
    assert nobody.stderr.startswith("simkit export: error: no recorded campaign has client")


def _rows(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {n: sorted(con.execute(f"select * from {n}").fetchall(), key=repr) for n in names}
    finally:
        con.close()


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_backup_wipe_restore_brings_everything_back(world: World) -> None:
    rows, files = _rows(world.db), _hashes(world.reports)
    log_before = world.log.read_text()
    assert len(rows["campaign_runs"]) == 4 and files
    backup_dir = world.root / "backups" / "b1"
    done = world.simkit("backup", str(backup_dir))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["rows"]["runs"] == 2 and manifest["rows"]["campaign_runs"] == 4
    # wipe: the registry, the reports, the audit log
    world.db.unlink()
    shutil.rmtree(world.reports)
    for suffix in ("", ".head", ".subjects"):
        world.log.with_name(world.log.name + suffix).unlink()
    done = world.simkit("restore", str(backup_dir))
    assert done.returncode == 0, done.stderr
    assert _rows(world.db) == rows
    assert _hashes(world.reports) == files
    restored = world.log.read_text()
    assert restored.startswith(log_before)  # plus the restore's own entry
    assert [e["event"] for e in audit.entries(world.log)][-2:] == ["backup", "restore"]
    assert audit.verify(world.log).ok
    again = world.simkit("restore", str(backup_dir))
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr
    # a changed backup file is named, and nothing is restored
    victim = next(p for p in (backup_dir / "reports").rglob("summary.json"))
    victim.write_text("{}")
    bad = world.simkit("restore", str(backup_dir), "--force")
    assert bad.returncode == 1
    assert "does not match its SHA-256" in bad.stderr and "summary.json" in bad.stderr


def _stores_text(world: World) -> dict[Path, bytes]:
    """Every file simkit wrote in the world (not the user's own params file)."""
    return {
        p: p.read_bytes()
        for p in world.root.rglob("*")
        if p.is_file() and p != world.params and "backups" not in p.parts
        and "exports" not in p.parts
    }  # fmt: skip


def test_purge_leaves_only_its_audit_entry(world: World) -> None:
    assert any(b"C003" in blob for blob in _stores_text(world).values())
    refused = world.simkit("purge", "--campaign", "C003")
    assert refused.returncode == 1 and "add --yes" in refused.stderr
    done = world.simkit("purge", "--campaign", "C003", "--yes")
    assert done.returncode == 0, done.stderr
    holding = sorted(str(p) for p, blob in _stores_text(world).items() if b"C003" in blob)
    assert holding == [str(world.log)]
    lines = [line for line in world.log.read_text().splitlines() if "C003" in line]
    assert len(lines) == 1 and json.loads(lines[0])["event"] == "purge"
    # the name of the campaign went too, and C001 is all there
    assert not any(b"Travel display" in b for b in _stores_text(world).values())
    rows = _rows(world.db)
    assert {r[2] for r in rows["campaign_runs"]} == {"C001"} and len(rows["runs"]) == 2
    assert (world.reports / "run.json").is_file()
    verify = world.simkit("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    # change one audit line: verify fails and names it
    text = world.log.read_text().splitlines()
    text[2] = (
        text[2]
        .replace('"run.finished"', '"run.finishe"', 1)
        .replace('"report.published"', '"report.publishe"', 1)
    )
    world.log.write_text("\n".join(text) + "\n")
    failed = world.simkit("audit", "verify")
    assert failed.returncode == 1
    assert failed.stderr.strip().endswith("line 3 was changed (its hash differs)")
