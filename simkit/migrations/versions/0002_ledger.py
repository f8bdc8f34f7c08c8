"""The forecast ledger's tables: ``forecasts``, ``scores``, ``alerts``, ``retrains`` and
``feedback`` (:mod:`simkit.ledger.store`), in the registry's database.

Written out literally (a revision never imports the module's ``MetaData``).  A database
whose ledger tables were made before this revision (by ``create_all``) keeps them with
their rows; only missing tables and indexes are added.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def _tables() -> dict[str, list[sa.Column]]:
    return {
        "forecasts": [
            sa.Column("forecast_id", sa.String(64), primary_key=True),
            sa.Column("campaign_id", sa.Text, nullable=False),
            sa.Column("config", sa.String(128), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("source", sa.String(32), nullable=False),
            sa.Column("run_id", sa.String(64)),
            sa.Column("issued_at", _UTC, nullable=False),
            sa.Column("as_of", sa.String(10), nullable=False),
            sa.Column("start_date", sa.String(10), nullable=False),
            sa.Column("horizon_days", sa.Integer, nullable=False),
            sa.Column("metric", sa.String(32), nullable=False),
            sa.Column("daily", sa.Text, nullable=False),
            sa.Column("totals", sa.Text, nullable=False),
            sa.Column("members", sa.Text, nullable=False),
            sa.Column("weights", sa.Text, nullable=False),
            sa.Column("plan", sa.Text, nullable=False),
            sa.Column("params_hash", sa.String(64), nullable=False),
            sa.Column("data_hash", sa.String(64), nullable=False),
            sa.Column("seed", sa.Integer, nullable=False),
            sa.Column("simkit_version", sa.String(32), nullable=False),
            sa.Column("cache_keys", sa.Text, nullable=False),
        ],
        "scores": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scoring_id", sa.String(64), nullable=False),
            sa.Column("forecast_id", sa.String(64), nullable=False),
            sa.Column("campaign_id", sa.Text, nullable=False),
            sa.Column("config", sa.String(128), nullable=False),
            sa.Column("scored_at", _UTC, nullable=False),
            sa.Column("data_hash", sa.String(64), nullable=False),
            sa.Column("days_scored", sa.Integer, nullable=False),
            sa.Column("coverage_50", sa.Float),
            sa.Column("coverage_80", sa.Float),
            sa.Column("coverage_90", sa.Float),
            sa.Column("mase", sa.Float),
            sa.Column("crps", sa.Float),
            sa.Column("bias", sa.Float),
            sa.Column("pit", sa.Text, nullable=False),
            sa.Column("per_day", sa.Text, nullable=False),
        ],
        "alerts": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scoring_id", sa.String(64), nullable=False),
            sa.Column("campaign_id", sa.Text, nullable=False),
            sa.Column("metric", sa.String(32), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("since", sa.String(10), nullable=False),
            sa.Column("evidence", sa.Text, nullable=False),
            sa.Column("raised_at", _UTC, nullable=False),
        ],
        "retrains": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("campaign_id", sa.Text, nullable=False),
            sa.Column("requested_at", _UTC, nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("invalidated", sa.Integer, nullable=False, server_default="0"),
            sa.Column("done_at", _UTC),
            sa.Column("done_run_id", sa.String(64)),
        ],
        "feedback": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("target_kind", sa.String(16), nullable=False),
            sa.Column("target_id", sa.String(128), nullable=False),
            sa.Column("campaign_id", sa.Text, nullable=False),
            sa.Column("useful", sa.Boolean, nullable=False),
            sa.Column("note", sa.Text),
            sa.Column("given_by", sa.String(255), nullable=False),
            sa.Column("given_at", _UTC, nullable=False),
        ],
    }


#: The indexed columns, named as ``Column(..., index=True)`` names them (ix_<table>_<col>).
_INDEXES = {
    "forecasts": ("campaign_id",),
    "scores": ("scoring_id", "forecast_id", "campaign_id"),
    "alerts": ("scoring_id", "campaign_id"),
    "retrains": ("campaign_id",),
    "feedback": ("target_id", "campaign_id"),
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, columns in _tables().items():
        if not inspector.has_table(name):
            op.create_table(name, *columns)
        have = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(name)}
        for column in _INDEXES[name]:
            index = f"ix_{name}_{column}"
            if index not in have:
                op.create_index(index, name, [column])


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
