"""Schema migrations of the registry (simkit.migrations), on SQLite and on Postgres."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from simkit import migrations
from simkit.cli import app
from simkit.errors import SimkitError
from simkit.registry import Registry

# the registry of simkit before migrations, without the columns added since
_OLD_SCHEMA = [
    """CREATE TABLE runs (run_id VARCHAR(64) PRIMARY KEY, status VARCHAR(16) NOT NULL,
      created_at TIMESTAMP NOT NULL, started_at TIMESTAMP, finished_at TIMESTAMP,
      params_file TEXT, params TEXT NOT NULL, params_hash VARCHAR(64) NOT NULL,
      data_hash VARCHAR(64), output_dir TEXT NOT NULL, index_path TEXT,
      n_campaigns INTEGER NOT NULL, error TEXT)""",
    """CREATE TABLE campaign_runs (id {serial},
      run_id VARCHAR(64) NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
      campaign_id VARCHAR(128) NOT NULL, rank INTEGER NOT NULL, status VARCHAR(16) NOT NULL,
      attempts INTEGER NOT NULL, started_at TIMESTAMP, finished_at TIMESTAMP,
      duration_seconds FLOAT, report_path TEXT, summary_path TEXT, error TEXT)""",
    """INSERT INTO runs VALUES ('old', 'succeeded', '2026-01-01 00:00:00', NULL, NULL, NULL,
      '{}', 'h', NULL, 'o', NULL, 1, NULL)""",
    """INSERT INTO campaign_runs (run_id, campaign_id, rank, status, attempts)
      VALUES ('old', 'A', 0, 'succeeded', 1)""",
]


def _make_old(url: str) -> None:
    """The tables as simkit's SQLAlchemy ``create_all`` made them on each backend."""
    engine = create_engine(url)
    pg = engine.dialect.name == "postgresql"
    serial = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
    stamp = "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME"
    with engine.begin() as conn:
        for statement in _OLD_SCHEMA:
            sql = statement.replace("{serial}", serial).replace("TIMESTAMP", stamp)
            conn.execute(text(sql))
    engine.dispose()


def test_a_new_database_is_at_the_newest_revision(db_url: str) -> None:
    reg = Registry(db_url)
    try:
        assert reg.schema()["current"] == migrations.head() == "0003"
        engine = create_engine(db_url)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
        ledger = {"forecasts", "scores", "alerts", "retrains", "feedback"}
        assert {"runs", "campaign_runs", migrations.VERSION_TABLE} | ledger <= tables
    finally:
        reg.close()


def test_an_old_database_is_upgraded_in_place_not_recreated(db_url: str) -> None:
    Registry.inspect_schema(db_url)  # a SQLite file's folder need not exist yet
    if db_url.startswith("sqlite"):
        from pathlib import Path

        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    _make_old(db_url)
    before = Registry.inspect_schema(db_url)
    assert (before["current"], before["legacy"]) == (None, True)
    reg = Registry(db_url)
    try:
        old = reg.get_run("old")
        assert old["status"] == "succeeded" and old["pid"] is None, "the old row is kept"
        assert old["campaigns"][0]["campaign_state"] is None
        assert reg.schema()["current"] == migrations.head()
        reg.create_run("new", params={}, params_hash="h", output_dir="o", campaigns=["B"])
        assert {r["run_id"] for r in reg.list_runs()} == {"old", "new"}
    finally:
        reg.close()


def test_a_database_from_a_newer_simkit_is_refused(db_url: str) -> None:
    Registry(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(SimkitError, match="revision 0999, which this simkit does not know"):
        Registry(db_url)


def test_simkit_db_current_and_upgrade(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    _make_old(url)
    runner = CliRunner()
    current = runner.invoke(app, ["db", "current", "--registry", url, "--format", "json"])
    assert current.exit_code == 0, current.output
    assert json.loads(current.stdout)["legacy"] is True
    assert json.loads(current.stdout)["current"] is None, "current reads, never migrates"
    upgraded = runner.invoke(app, ["db", "upgrade", "--registry", url, "--format", "json"])
    assert upgraded.exit_code == 0, upgraded.output
    state = json.loads(upgraded.stdout)
    assert (state["before"], state["current"], state["head"]) == (None, "0003", "0003")
    table = runner.invoke(app, ["db", "current", "--registry", url])
    assert "schema revision 0003 (up to date)" in table.stdout


def test_the_written_out_head_is_the_scripts_head() -> None:
    assert migrations.HEAD == migrations.head()


def test_ledger_tables_made_before_their_revision_keep_their_rows(db_url: str) -> None:
    """A database at 0001 whose ledger tables ``create_all`` made (the ledger before its
    revision) is upgraded to 0002 with its rows kept and the missing indexes added."""
    from simkit.ledger.store import metadata as ledger_metadata

    if db_url.startswith("sqlite"):
        from pathlib import Path

        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(db_url)
    try:
        migrations.upgrade(engine, "0001")
        ledger_metadata.tables["retrains"].create(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO retrains (campaign_id, requested_at, reason, invalidated) "
                "VALUES ('C001', '2026-12-01 00:00:00+00:00', 'coverage', 0)"
            )
        assert migrations.upgrade(engine) == ("0001", "0003")
        with engine.connect() as conn:
            kept = conn.exec_driver_sql("SELECT campaign_id, reason FROM retrains").all()
        assert [tuple(r) for r in kept] == [("C001", "coverage")]
        indexes = {i["name"] for i in inspect(engine).get_indexes("forecasts")}
        assert "ix_forecasts_campaign_id" in indexes
    finally:
        engine.dispose()
