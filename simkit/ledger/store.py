"""The forecast ledger's tables, in the run registry's database, and the one class that reads
and writes them.

Tables (SQLAlchemy Core, their own :data:`metadata`; the schema is made and upgraded by the
registry's migrations, :mod:`simkit.migrations`, revision ``0002``):

* ``forecasts``: one row per issued forecast, never updated or deleted by simkit's ledger
  (append-only).  The daily quantiles of the forecast metric, the horizon totals, the
  ensemble members and weights, the plan and the cache keys of the fits are JSON text.
* ``scores``: one row per scoring of a forecast (a forecast scored again later, with more
  actuals, gets a new row: earlier scores are kept).
* ``alerts``: degradation and drift alerts as they were raised, and ``retrains``: the
  refits they asked for, marked done by the run that refitted.
* ``feedback``: a stakeholder's "useful / not useful" on a forecast or a pivot, with who
  and when.

Every table has a ``campaign_id`` column (exports and purges find a campaign's rows by it).
The URL is the run registry's (:func:`simkit.registry.registry_url`: ``--registry``, else
``SIMKIT_REGISTRY_URL``, else ``sqlite:///.simkit-cache/registry.sqlite``).  A URL may hold a
password: it is shown only masked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from simkit import audit, migrations, telemetry
from simkit.errors import SimkitError
from simkit.registry import registry_url

__all__ = [
    "Ledger",
    "LedgerError",
    "alerts",
    "feedback",
    "forecasts",
    "ledger_exists",
    "metadata",
    "retrains",
    "scores",
]

log = logging.getLogger(__name__)

metadata = MetaData()

forecasts = Table(
    "forecasts",
    metadata,
    Column("forecast_id", String(64), primary_key=True),
    Column("campaign_id", Text, nullable=False, index=True),
    Column("config", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("source", String(32), nullable=False),
    Column("run_id", String(64)),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("metric", String(32), nullable=False),
    Column("daily", Text, nullable=False),
    Column("totals", Text, nullable=False),
    Column("members", Text, nullable=False),
    Column("weights", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("params_hash", String(64), nullable=False),
    Column("data_hash", String(64), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("simkit_version", String(32), nullable=False),
    Column("cache_keys", Text, nullable=False),
)
scores = Table(
    "scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scoring_id", String(64), nullable=False, index=True),
    Column("forecast_id", String(64), nullable=False, index=True),
    Column("campaign_id", Text, nullable=False, index=True),
    Column("config", String(128), nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Column("data_hash", String(64), nullable=False),
    Column("days_scored", Integer, nullable=False),
    Column("coverage_50", Float),
    Column("coverage_80", Float),
    Column("coverage_90", Float),
    Column("mase", Float),
    Column("crps", Float),
    Column("bias", Float),
    Column("pit", Text, nullable=False),
    Column("per_day", Text, nullable=False),
)
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scoring_id", String(64), nullable=False, index=True),
    Column("campaign_id", Text, nullable=False, index=True),
    Column("metric", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("since", String(10), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
)
retrains = Table(
    "retrains",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Text, nullable=False, index=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("invalidated", Integer, nullable=False, default=0),
    Column("done_at", DateTime(timezone=True)),
    Column("done_run_id", String(64)),
)
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(128), nullable=False, index=True),
    Column("campaign_id", Text, nullable=False, index=True),
    Column("useful", Boolean, nullable=False),
    Column("note", Text),
    Column("given_by", String(255), nullable=False),
    Column("given_at", DateTime(timezone=True), nullable=False),
)

_JSON_COLUMNS = {
    "daily",
    "totals",
    "members",
    "weights",
    "plan",
    "cache_keys",
    "pit",
    "per_day",
    "evidence",
    "reason",
}


#: Dialects with ``INSERT ... ON CONFLICT DO NOTHING``.
_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class LedgerError(SimkitError):
    """The ledger cannot be opened, or holds no such forecast."""


def _now() -> datetime:
    return datetime.now(UTC)


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        elif key in _JSON_COLUMNS and isinstance(value, str):
            out[key] = json.loads(value)
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _alert_row(scoring_id: str, alert: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "scoring_id": scoring_id,
        "campaign_id": alert["campaign_id"],
        "metric": alert["metric"],
        "kind": alert["kind"],
        "since": alert["since"],
        "evidence": _dumps(alert["evidence"]),
        "raised_at": now,
    }


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


#: One engine per database in a process (a SQLite file by its absolute path and inode, or a
#: server URL; never ``:memory:``), so that its compiled statements are reused: the runner
#: records one report after another.
_ENGINES: dict[str, tuple[Engine, int | None]] = {}


def _engine_for(url: str) -> Engine:
    """The engine of ``url`` with its schema migrated (:mod:`simkit.migrations`): the process's
    one engine for a file or a server (tables checked again when the SQLite file was
    replaced), a new one for an in-memory database (each is its own database)."""
    parsed = make_url(url)
    path = _sqlite_file(url)
    if parsed.get_backend_name() == "sqlite" and path is None:
        engine = create_engine(url)
        migrations.upgrade(engine)
        return engine
    if path is not None:
        parsed = parsed.set(database=str(path.resolve()))
    key = parsed.render_as_string(hide_password=False)
    inode = path.stat().st_ino if path is not None and path.is_file() else None
    engine, known = _ENGINES.get(key, (None, None))
    if engine is None or (path is not None and (inode is None or inode != known)):
        engine = engine or create_engine(parsed)
        migrations.upgrade(engine)  # one query when the schema is current
        inode = path.stat().st_ino if path is not None else None
        _ENGINES[key] = (engine, inode)
    return engine


def ledger_exists(url: str | None = None) -> bool:
    """Whether there may be a ledger at ``url`` to read (a SQLite file that is not there
    holds nothing; other databases are asked when opened)."""
    path = _sqlite_file(registry_url(url))
    return path is None or path.is_file()


@dataclass
class Ledger:
    """Issued forecasts, their scores, alerts, refits and feedback, in SQL.

    Examples
    --------
    >>> ledger = Ledger("sqlite:///:memory:")
    >>> ledger.list_forecasts()
    []
    """

    url: str | None = None

    def __post_init__(self) -> None:
        self.url = registry_url(self.url)
        path = _sqlite_file(self.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._engine: Engine = _engine_for(self.url)
        except SQLAlchemyError as exc:
            raise LedgerError(
                f"cannot open the forecast ledger at {self.display_url}: {type(exc).__name__}"
            ) from None

    @property
    def display_url(self) -> str:
        """The URL with any password masked."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close the pooled connections (a SQLite file can then be removed); the engine and
        its compiled statements stay for the next :class:`Ledger` of this URL."""
        self._engine.dispose()

    # forecasts -------------------------------------------------------------------------

    def add_forecast(self, row: dict[str, Any]) -> bool:
        """Insert one forecast row (see :class:`~simkit.ledger.record.ForecastRecord`);
        ``False`` when a forecast with that id is already there (the same forecast issued
        again: it is one record, never rewritten)."""
        values = {k: (_dumps(v) if k in _JSON_COLUMNS else v) for k, v in row.items()}
        values.setdefault("issued_at", _now())
        dialect = self._engine.dialect.name
        try:
            with self._engine.begin() as conn:
                if dialect in _UPSERT:  # one statement: insert unless the id is there
                    statement = _UPSERT[dialect](forecasts).values(**values)
                    done = conn.execute(statement.on_conflict_do_nothing())
                    return bool(done.rowcount)
                exists = conn.execute(
                    select(forecasts.c.forecast_id).where(
                        forecasts.c.forecast_id == values["forecast_id"]
                    )
                ).first()
                if exists is not None:
                    return False
                conn.execute(insert(forecasts).values(**values))
        except IntegrityError:  # a concurrent writer recorded the same forecast first
            return False
        return True

    def list_forecasts(
        self,
        *,
        campaign_id: str | None = None,
        config: str | None = None,
        limit: int | None = None,
        full: bool = False,
    ) -> list[dict[str, Any]]:
        """Forecasts, newest issued first; ``full`` includes the daily quantiles and plan."""
        columns = (
            list(forecasts.c)
            if full
            else [
                c
                for c in forecasts.c
                if c.name not in ("daily", "plan", "weights", "cache_keys", "totals")
            ]
        )
        query = select(*columns).order_by(
            forecasts.c.issued_at.desc(), forecasts.c.forecast_id.desc()
        )
        if campaign_id is not None:
            query = query.where(forecasts.c.campaign_id == campaign_id)
        if config is not None:
            query = query.where(forecasts.c.config == config)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def get_forecast(self, forecast_id: str) -> dict[str, Any]:
        """One forecast, all of it; a unique prefix of the id is enough."""
        with self._engine.connect() as conn:
            matches = conn.execute(
                select(forecasts).where(
                    forecasts.c.forecast_id.startswith(forecast_id, autoescape=True)
                )
            ).fetchall()
        if not matches:
            raise LedgerError(f"no forecast '{forecast_id}' in the ledger ({self.display_url})")
        if len(matches) > 1:
            raise LedgerError(f"forecast id prefix '{forecast_id}' matches {len(matches)}")
        return _row(matches[0])

    # scores and alerts -----------------------------------------------------------------

    def add_scores(self, rows: list[dict[str, Any]]) -> None:
        """Append score rows (never replacing earlier ones)."""
        if not rows:
            return
        now = _now()
        values = [
            {
                **{k: (_dumps(v) if k in _JSON_COLUMNS else v) for k, v in r.items()},
                "scored_at": now,
            }
            for r in rows
        ]
        with self._engine.begin() as conn:
            conn.execute(insert(scores), values)

    def add_scoring(
        self,
        scoring_id: str,
        score_rows: list[dict[str, Any]],
        alert_rows: list[dict[str, Any]],
        refits: list[tuple[str, list[dict[str, Any]], int]],
    ) -> None:
        """One scoring, in one transaction: its score rows, its alerts, and the refits the
        alerts ask for (campaign, reason, cache entries removed)."""
        now = _now()
        with self._engine.begin() as conn:
            if score_rows:
                conn.execute(
                    insert(scores),
                    [
                        {
                            **{k: (_dumps(v) if k in _JSON_COLUMNS else v) for k, v in r.items()},
                            "scored_at": now,
                        }
                        for r in score_rows
                    ],
                )
            if alert_rows:
                conn.execute(insert(alerts), [_alert_row(scoring_id, a, now) for a in alert_rows])
            if refits:
                conn.execute(
                    insert(retrains),
                    [
                        {
                            "campaign_id": cid,
                            "requested_at": now,
                            "reason": _dumps(reason),
                            "invalidated": removed,
                        }
                        for cid, reason, removed in refits
                    ],
                )

    def list_scores(
        self, *, forecast_id: str | None = None, campaign_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Score rows, oldest first."""
        query = select(scores).order_by(scores.c.id)
        if forecast_id is not None:
            query = query.where(scores.c.forecast_id == forecast_id)
        if campaign_id is not None:
            query = query.where(scores.c.campaign_id == campaign_id)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def add_alerts(self, scoring_id: str, items: list[dict[str, Any]]) -> None:
        """Append the alerts one scoring raised."""
        if not items:
            return
        now = _now()
        with self._engine.begin() as conn:
            conn.execute(insert(alerts), [_alert_row(scoring_id, a, now) for a in items])

    def list_alerts(self, *, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Alerts as raised, newest first."""
        query = select(alerts).order_by(alerts.c.id.desc())
        if campaign_id is not None:
            query = query.where(alerts.c.campaign_id == campaign_id)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    # refits ----------------------------------------------------------------------------

    def request_retrain(self, campaign_id: str, reason: list[dict[str, Any]], invalidated: int):
        """Record that ``campaign_id``'s fits were invalidated (``invalidated`` cache
        entries removed) and its next run must refit, for ``reason`` (the alerts)."""
        with self._engine.begin() as conn:
            conn.execute(
                insert(retrains).values(
                    campaign_id=campaign_id,
                    requested_at=_now(),
                    reason=_dumps(reason),
                    invalidated=invalidated,
                )
            )

    def pending_retrains(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Refits asked for and not yet done, oldest first."""
        query = select(retrains).where(retrains.c.done_at.is_(None)).order_by(retrains.c.id)
        if campaign_id is not None:
            query = query.where(retrains.c.campaign_id == campaign_id)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def retrains_done(self, campaign_id: str, run_id: str | None, ids: list[int]) -> None:
        """Mark refit requests ``ids`` of ``campaign_id`` done by ``run_id``."""
        if not ids:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(retrains)
                .where(
                    (retrains.c.campaign_id == campaign_id)
                    & retrains.c.id.in_(ids)
                    & retrains.c.done_at.is_(None)
                )
                .values(done_at=_now(), done_run_id=run_id)
            )

    # feedback --------------------------------------------------------------------------

    def add_feedback(
        self,
        *,
        target_kind: str,
        target_id: str,
        campaign_id: str,
        useful: bool,
        note: str | None,
        given_by: str,
    ) -> dict[str, Any]:
        """Store one piece of feedback; returns the stored row."""
        values = {
            "target_kind": target_kind,
            "target_id": target_id,
            "campaign_id": campaign_id,
            "useful": bool(useful),
            "note": note,
            "given_by": given_by,
            "given_at": _now(),
        }
        with self._engine.begin() as conn:
            result = conn.execute(insert(feedback).values(**values))
            new_id = result.inserted_primary_key[0]
        try:  # the audit log (simkit.audit), beside this database; the note stays here
            audit.record(
                "ledger.feedback",
                path=audit.audit_path(self.url),
                campaign_id=campaign_id,
                target_kind=target_kind,
                # a pivot's id holds the campaign id in clear: the pseudonymised field says it
                target_id=None if target_kind == "pivot" else target_id,
                useful=bool(useful),
                given_by=given_by,
            )
        except audit.AuditError as exc:
            log.warning("audit log: %s", exc)
        telemetry.track("feedback", useful=bool(useful))
        return {"id": new_id, **values, "given_at": values["given_at"].isoformat()}

    def list_feedback(
        self, *, campaign_id: str | None = None, target_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Feedback, newest first."""
        query = select(feedback).order_by(feedback.c.id.desc())
        if campaign_id is not None:
            query = query.where(feedback.c.campaign_id == campaign_id)
        if target_id is not None:
            query = query.where(feedback.c.target_id == target_id)
        with self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]
