"""Backup and restore of a Postgres registry (pg_dump / pg_restore) on a throwaway server.

The server is Debian's PostgreSQL 15, started for this test on a Unix socket in a temporary
folder (no TCP port), as the ``postgres`` user when the tests run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from simkit.ops import Stores, backup, restore
from simkit.registry import Registry

pytestmark = pytest.mark.slow  # starts a Postgres server: a few seconds

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if not (BIN / "initdb").is_file() or shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL 15 server binaries or pg_dump are not installed")
    # not under pytest's folder: the postgres user may not enter root's private folders
    root = Path(tempfile.mkdtemp(prefix="simkit-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run(
        _as_postgres([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            [
                str(BIN / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(root / "log"),
                "-o",
                f"-k {sock} -c listen_addresses='' -p 5439",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        admin = create_engine(
            f"postgresql+psycopg://postgres@/postgres?host={sock}&port=5439",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE simkit"))
        admin.dispose()
        yield f"postgresql+psycopg://postgres:SENTINEL-pw@/simkit?host={sock}&port=5439"
    finally:
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: sorted(conn.execute(text(f"select * from {t}")).fetchall(), key=repr)
                for t in ("runs", "campaign_runs")
            }
    finally:
        engine.dispose()


def test_postgres_backup_wipe_restore(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIMKIT_AUDIT_PATH", str(tmp_path / "audit.jsonl"))
    reg = Registry(postgres)
    out = tmp_path / "reports"
    (out / "C001-x").mkdir(parents=True)
    (out / "C001-x" / "report.html").write_text("<p>C001</p>")
    reg.create_run(
        "20261202T000000Z-abcdef",
        params={"data": "x.csv"},
        params_hash="h",
        output_dir=str(out),
        campaigns=["C001", "C002"],
    )
    reg._engine.dispose()  # no connection left open when the server stops
    before = _rows(postgres)
    stores = Stores.open(postgres)
    manifest = backup(stores, tmp_path / "b")
    assert (tmp_path / "b" / "registry.pgdump").is_file()
    assert (manifest["rows"]["runs"], manifest["rows"]["campaign_runs"]) == (1, 2)
    assert "SENTINEL-pw" not in (tmp_path / "b" / "manifest.json").read_text()
    engine = create_engine(postgres)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE campaign_runs; DROP TABLE runs"))
    engine.dispose()
    shutil.rmtree(out)
    restore(stores, tmp_path / "b")
    assert _rows(postgres) == before
    assert (out / "C001-x" / "report.html").read_text() == "<p>C001</p>"
