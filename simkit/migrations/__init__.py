"""Schema migrations of simkit's SQL tables (Alembic), run programmatically.

The run registry (:mod:`simkit.registry`) calls :func:`upgrade` when it opens a
database; ``simkit db upgrade`` does it explicitly and ``simkit db current`` shows where a
database stands.  No ``alembic.ini`` is needed: the scripts are this package
(``env.py``, ``versions/``) and the connection is handed to Alembic.

* A new database gets every revision in order.
* A database made before migrations existed (its ``runs`` table is there, with no
  ``alembic_version``) is recognised by its tables and upgraded in place by the baseline,
  which only adds the columns it lacks: nothing is dropped or recreated.
* A database at a revision this simkit does not know (made by a newer simkit) is refused
  with a message, never touched.
* Two processes opening one database at once do not both migrate it: SQLite takes a file
  lock beside the database, Postgres a transaction-scoped advisory lock.

Adding a revision for another module's tables (the forecast ledger's, say)
--------------------------------------------------------------------------
All of simkit's tables live in one database and one version history, so revisions form
one line:

1. Copy ``script.py.mako``'s shape into ``versions/NNNN_<what>.py`` with
   ``revision = "NNNN"`` and ``down_revision`` the current head (``simkit db current``
   prints it; today ``0003``).
2. Write ``upgrade()`` with ``op.create_table(...)`` / ``op.add_column(...)`` naming the
   module's tables and columns literally: a revision never imports the module's
   ``MetaData``, so later edits to the module cannot change what an old revision did.
3. Make the module stop calling ``metadata.create_all()``; open its engine through
   :func:`upgrade` (or a :class:`simkit.registry.Registry` on the same URL) instead.
4. Test it: ``tests/runner/test_migrations.py`` upgrades an empty and an old database
   on SQLite and, with ``SIMKIT_TEST_POSTGRES_URL``, on Postgres.

(With a developer's checkout, ``alembic -x ... revision`` is not needed: the files are small
enough to write by hand.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simkit.errors import SimkitError

__all__ = ["HEAD", "VERSION_TABLE", "current", "head", "script_dir", "upgrade"]

VERSION_TABLE = "alembic_version"
#: The newest revision, written out so that opening an up-to-date database needs one query
#: and no Alembic import (a test checks it equals the scripts' head).
HEAD = "0003"
#: The tables a database made before migrations has: it is upgraded by the baseline.
_LEGACY_TABLES = ("runs",)


def script_dir() -> Path:
    """This package's folder: Alembic's script location."""
    return Path(__file__).resolve().parent


def _config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_dir()))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision this simkit knows."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_config()).get_heads()
    if len(heads) != 1:
        raise SimkitError(f"simkit's migrations have {len(heads)} heads: {heads}")
    return heads[0]


def _known() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def current(engine: Any) -> str | None:
    """The database's revision (``None``: no version table, an empty or a legacy one)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def state(engine: Any) -> dict[str, Any]:
    """``{"current", "head", "legacy"}``: where the database stands (``legacy``: tables
    made before migrations, waiting for :func:`upgrade`)."""
    from sqlalchemy import inspect

    rev = current(engine)
    with engine.connect() as conn:
        legacy = rev is None and any(inspect(conn).has_table(t) for t in _LEGACY_TABLES)
    return {"current": rev, "head": head(), "legacy": legacy}


@contextmanager
def _migration_lock(engine: Any, connection: Any) -> Iterator[None]:
    """One migrating process at a time per database."""
    backend = engine.dialect.name
    if backend == "postgresql":
        from sqlalchemy import text

        key = int.from_bytes(hashlib.sha256(b"simkit-migrations").digest()[:4], "big")
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        yield
        return
    database = engine.url.database if backend == "sqlite" else None
    if database in (None, "", ":memory:"):
        yield
        return
    import tempfile

    from filelock import FileLock

    # a lock file per database in the temporary folder, not beside it: the folder of the
    # database is the user's (a committed fixture, a backup), and a SQLite file is local to
    # its host, as is the temporary folder
    digest = hashlib.sha256(str(Path(database).resolve()).encode()).hexdigest()[:16]
    with FileLock(Path(tempfile.gettempdir()) / f"simkit-migrate-{digest}.lock", timeout=120):
        yield


def upgrade(engine: Any, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to ``revision`` (default the newest); returns ``(before,
    after)``.  Fast when it is already there (one query, Alembic not loaded).

    Raises
    ------
    SimkitError
        When the database is at a revision this simkit does not know (a newer simkit
        made it), or a migration fails (the message names the revision).
    """
    target = HEAD if revision == "head" else revision
    before = current(engine)
    if before == target:
        return before, target
    if before is not None and before not in _known():
        raise SimkitError(
            f"the database is at schema revision {before}, which this simkit does not know "
            f"(its newest is {target}): it was upgraded by a newer simkit; upgrade simkit"
        )
    from alembic import command

    with engine.begin() as connection:
        with _migration_lock(engine, connection):
            cfg = _config(connection)
            try:
                command.upgrade(cfg, target)
            except Exception as exc:  # noqa: BLE001 - named, with the database untouched
                raise SimkitError(
                    f"schema migration to {target} failed: {type(exc).__name__}: {exc}"
                ) from exc
    return before, current(engine) or target
