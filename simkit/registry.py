"""The run registry: every run and every campaign report, with status and provenance.

SQLAlchemy Core over SQLite by default (``.simkit-cache/registry.sqlite`` in the working
folder); any SQLAlchemy URL works, e.g. ``postgresql+psycopg://user@host/simkit``.  The URL
comes from ``--registry`` or the ``SIMKIT_REGISTRY_URL`` environment variable, read at call
time.  A URL may hold a password, so it is never logged, stored or shown unmasked.

Statuses: ``queued`` -> ``running`` -> ``succeeded`` | ``failed`` | ``interrupted``.  A run
is ``interrupted`` when it was stopped (SIGINT, SIGTERM), or when a later start finds it
still ``running`` although its process (same host) is gone.  A succeeded campaign whose
report says it stopped before the data's last day has ``campaign_state`` ``stopped``.

The schema is kept by Alembic migrations (:mod:`simkit.migrations`), applied when a
registry is opened (``simkit db upgrade`` does it explicitly, ``simkit db current`` shows
the revision): a database from an older simkit is upgraded in place, never recreated.  The
tables below are what the queries use; ``simkit/migrations/versions/`` is what creates them.
SQLite runs in write-ahead-log mode with a 30 s busy timeout, so several ``simkit run``
processes can share one registry file.
"""

from __future__ import annotations

import json
import os
import socket
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from simkit import migrations
from simkit.crypto import EncryptedText
from simkit.errors import SimkitError

__all__ = ["DEFAULT_URL", "STATUSES", "Registry", "registry_url"]

DEFAULT_URL = "sqlite:///.simkit-cache/registry.sqlite"
STATUSES = ("queued", "running", "succeeded", "failed", "interrupted")

_meta = MetaData()
runs = Table(
    "runs",
    _meta,
    Column("run_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("params_file", Text),
    Column("params", EncryptedText, nullable=False),
    Column("params_hash", String(64), nullable=False),
    Column("data_hash", String(64)),
    Column("output_dir", Text, nullable=False),
    Column("index_path", Text),
    Column("n_campaigns", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("pid", Integer),
    Column("host", String(255)),
    #: The run's model usage (tokens, cost, cache hits) as JSON, when it used a model.
    Column("llm_usage", Text),
)
campaign_runs = Table(
    "campaign_runs",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        String(64),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        index=True,
        nullable=False,
    ),
    Column("campaign_id", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("duration_seconds", Float),
    Column("report_path", Text),
    Column("summary_path", Text),
    Column("error", Text),
    Column("error_detail", EncryptedText),
    Column("campaign_state", String(16)),
    Column("last_date", String(32)),
)


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    """SQLite set up for several processes at once (two ``simkit run`` on one registry):
    write-ahead logging, so readers never wait for a writer, and a writer waits up to 30 s
    for another's lock instead of failing."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    if parsed.database not in (None, "", ":memory:"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), from /proc on Linux; else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        ticks = float(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _pid_alive(pid: int, since: datetime | None = None) -> bool:
    """Whether ``pid`` is the process that started a run at ``since`` (a process that
    started later only reuses the number)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _process_start(pid)
    if since is not None and started is not None:
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        return started <= since.timestamp() + 1.0
    return True


def registry_url(url: str | None = None) -> str:
    """The registry URL: the argument, else ``SIMKIT_REGISTRY_URL``, else SQLite."""
    return url or os.environ.get("SIMKIT_REGISTRY_URL") or DEFAULT_URL


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    for key in ("params", "llm_usage"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


@dataclass
class Registry:
    """Runs and campaign reports in a SQL database.

    Examples
    --------
    >>> reg = Registry("sqlite:///:memory:")
    >>> reg.list_runs()
    []
    """

    url: str | None = None

    def __post_init__(self) -> None:
        self.url = registry_url(self.url)
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._engine: Engine = _engine(self.url)
            # pooled connections are closed, not left to the garbage collector
            self._finalizer = weakref.finalize(self, self._engine.dispose)
            # the schema through its migrations (simkit.migrations): a new database gets
            # them all, an older one is upgraded in place, never recreated
            migrations.upgrade(self._engine)
        except SQLAlchemyError as exc:
            raise SimkitError(
                f"cannot open the run registry at {self.display_url}: {type(exc).__name__}"
            ) from None

    def close(self) -> None:
        """Close the registry's database connections (it reconnects if used again)."""
        self._engine.dispose()

    @staticmethod
    def inspect_schema(url: str | None = None) -> dict[str, Any]:
        """Where the database at ``url`` stands (``{"url", "current", "head", "legacy"}``),
        read without migrating it (``simkit db current``)."""
        url = registry_url(url)
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not Path(parsed.database).is_file():
                return {"url": shown, "current": None, "head": migrations.head(), "legacy": False}
        engine = _engine(url)
        try:
            return {"url": shown, **migrations.state(engine)}
        except SQLAlchemyError as exc:
            raise SimkitError(
                f"cannot open the run registry at {shown}: {type(exc).__name__}"
            ) from None
        finally:
            engine.dispose()

    def schema(self) -> dict[str, Any]:
        """``{"url", "current", "head", "legacy"}``: the database's schema revision."""
        return {"url": self.display_url, **migrations.state(self._engine)}

    @property
    def display_url(self) -> str:
        """The URL with any password masked."""
        return make_url(self.url).render_as_string(hide_password=True)

    def create_run(
        self,
        run_id: str,
        *,
        params: dict[str, Any],
        params_hash: str,
        output_dir: str,
        campaigns: list[str],
        params_file: str | None = None,
        data_hash: str | None = None,
    ) -> None:
        """Record a new run and its campaigns, all ``queued``."""
        with self._engine.begin() as conn:
            conn.execute(
                insert(runs).values(
                    run_id=run_id,
                    status="queued",
                    created_at=_now(),
                    params_file=params_file,
                    params=json.dumps(params, sort_keys=True),
                    params_hash=params_hash,
                    data_hash=data_hash,
                    output_dir=output_dir,
                    n_campaigns=len(campaigns),
                    pid=os.getpid(),
                    host=socket.gethostname(),
                )
            )
            if campaigns:
                conn.execute(
                    insert(campaign_runs),
                    [
                        {
                            "run_id": run_id,
                            "campaign_id": c,
                            "rank": i,
                            "status": "queued",
                            "attempts": 0,
                        }
                        for i, c in enumerate(campaigns)
                    ],
                )

    def start_run(self, run_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(status="running", started_at=_now())
            )

    def campaign_running(
        self, run_id: str, campaign_id: str, *, started_at: float | None = None
    ) -> None:
        """Mark a queued campaign ``running`` from ``started_at`` (epoch seconds; default
        now), as a worker starts it.  A campaign already finished is left as it is."""
        with self._engine.begin() as conn:
            conn.execute(
                update(campaign_runs)
                .where(
                    (campaign_runs.c.run_id == run_id)
                    & (campaign_runs.c.campaign_id == campaign_id)
                    & (campaign_runs.c.status.in_(("queued", "running")))
                )
                .values(
                    status="running",
                    started_at=_ts(started_at) if started_at is not None else _now(),
                )
            )

    def campaign_done(self, run_id: str, outcome: Any, summary_path: str | None = None) -> None:
        """Record a campaign's outcome (a :class:`~simkit.runner.CampaignOutcome`)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(campaign_runs)
                .where(
                    (campaign_runs.c.run_id == run_id)
                    & (campaign_runs.c.campaign_id == outcome.campaign_id)
                )
                .values(
                    status=outcome.status,
                    attempts=outcome.attempts,
                    started_at=_ts(outcome.started_at),
                    finished_at=_ts(outcome.finished_at),
                    duration_seconds=outcome.duration_seconds,
                    report_path=outcome.report_path,
                    summary_path=summary_path,
                    error=outcome.error,
                    error_detail=outcome.detail,
                    campaign_state=outcome.campaign_state
                    if outcome.status == "succeeded"
                    else None,
                    last_date=outcome.last_date,
                )
            )

    def campaign_published(self, run_id: str, campaign_id: str, report_path: str) -> None:
        """A campaign whose report was published although its outcome never arrived (the
        run was stopped while the worker was moving it into place)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(campaign_runs)
                .where(
                    (campaign_runs.c.run_id == run_id)
                    & (campaign_runs.c.campaign_id == campaign_id)
                    & (campaign_runs.c.status.in_(("queued", "running")))
                )
                .values(status="succeeded", report_path=report_path, finished_at=_now())
            )

    def abandon_campaigns(self, run_id: str, status: str, error: str) -> None:
        """Give every campaign of a run that is still queued or running ``status``."""
        with self._engine.begin() as conn:
            conn.execute(
                update(campaign_runs)
                .where(
                    (campaign_runs.c.run_id == run_id)
                    & (campaign_runs.c.status.in_(("queued", "running")))
                )
                .values(status=status, error=error)
            )

    def recover_dead_runs(
        self, *, output_dir: str | None = None, exclude: str | None = None
    ) -> list[str]:
        """Mark ``interrupted`` every run still ``queued`` or ``running`` on this host whose
        process is gone, and (``output_dir``, called while holding that folder's lock)
        every ``running`` run into that folder, whose lock it would hold if it were alive.
        Returns the run ids marked."""
        host = socket.gethostname()
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    runs.c.run_id,
                    runs.c.status,
                    runs.c.pid,
                    runs.c.host,
                    runs.c.output_dir,
                    runs.c.created_at,
                ).where(runs.c.status.in_(("queued", "running")))
            ).fetchall()
        dead = [
            r.run_id
            for r in rows
            if r.run_id != exclude
            and r.host == host
            and (
                (r.pid is not None and not _pid_alive(r.pid, r.created_at))
                # a queued run may be waiting for this lock; a running one holds it
                or (r.status == "running" and r.output_dir == output_dir)
            )
        ]
        for run_id in dead:
            self.finish_run(
                run_id, status="interrupted", error="the run's process ended before it finished"
            )
            self.abandon_campaigns(run_id, "interrupted", "the run was interrupted")
        return dead

    def finish_run(
        self, run_id: str, *, status: str, index_path: str | None = None, error: str | None = None
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(status=status, finished_at=_now(), index_path=index_path, error=error)
            )

    def record_llm_usage(self, run_id: str, usage: dict[str, Any]) -> None:
        """Record a run's model usage (:func:`simkit.runner.llm.run_usage`)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(llm_usage=json.dumps(usage, sort_keys=True))
            )

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs, newest first, with their campaign counts by status."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(runs).order_by(runs.c.created_at.desc()).limit(limit))
            out = [_row(r) for r in rows]
            # counted for the listed runs only: fast with any number of runs recorded
            counts = conn.execute(
                select(campaign_runs.c.run_id, campaign_runs.c.status, func.count())
                .where(campaign_runs.c.run_id.in_([r["run_id"] for r in out]))
                .group_by(campaign_runs.c.run_id, campaign_runs.c.status)
            )
            by_run: dict[str, dict[str, int]] = {}
            for run_id, status, n in counts:
                by_run.setdefault(run_id, {})[status] = n
        for run in out:
            run.pop("params", None)
            run["campaigns"] = by_run.get(run["run_id"], {})
        return out

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run with its campaigns; a unique prefix of the id is enough."""
        with self._engine.connect() as conn:
            matches = conn.execute(
                select(runs).where(runs.c.run_id.startswith(run_id, autoescape=True))
            ).fetchall()
            if not matches:
                raise SimkitError(f"no run '{run_id}' in the registry ({self.display_url})")
            if len(matches) > 1:
                raise SimkitError(f"run id prefix '{run_id}' matches {len(matches)} runs")
            run = _row(matches[0])
            rows = conn.execute(
                select(campaign_runs)
                .where(campaign_runs.c.run_id == run["run_id"])
                .order_by(campaign_runs.c.rank)
            )
            run["campaigns"] = [_row(r) for r in rows]
        return run

    def delete_run(self, run_id: str) -> str:
        """Delete a run's records (not its files); returns the full run id."""
        full = self.get_run(run_id)["run_id"]
        with self._engine.begin() as conn:
            conn.execute(delete(campaign_runs).where(campaign_runs.c.run_id == full))
            conn.execute(delete(runs).where(runs.c.run_id == full))
        return full
