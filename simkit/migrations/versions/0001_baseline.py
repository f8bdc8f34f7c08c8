"""Baseline: the run registry's ``runs`` and ``campaign_runs`` tables.

A database made by simkit before migrations existed has these tables but no
``alembic_version`` row.  It is recognised by its ``runs`` table and upgraded in place:
the tables are kept with their rows, and only the nullable columns that simkit versions
added over time and that it lacks (``pid``, ``host``, ``error_detail``,
``campaign_state``, ``last_date``, ...) are added.  Nothing is ever dropped or recreated.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _runs_columns() -> list[sa.Column]:
    return [
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("params_file", sa.Text),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("data_hash", sa.String(64)),
        sa.Column("output_dir", sa.Text, nullable=False),
        sa.Column("index_path", sa.Text),
        sa.Column("n_campaigns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(255)),
    ]


def _campaign_runs_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("campaign_id", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_seconds", sa.Float),
        sa.Column("report_path", sa.Text),
        sa.Column("summary_path", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("error_detail", sa.Text),
        sa.Column("campaign_state", sa.String(16)),
        sa.Column("last_date", sa.String(32)),
    ]


def _create_or_complete(name: str, columns: list[sa.Column]) -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(name):
        op.create_table(name, *columns)
        return
    have = {c["name"] for c in inspector.get_columns(name)}
    missing = [c for c in columns if c.name not in have]
    for column in missing:
        if not column.nullable and column.server_default is None:
            raise RuntimeError(
                f"the registry's {name} table lacks the required column {column.name}: "
                "it was not made by simkit"
            )
    if missing:
        with op.batch_alter_table(name) as batch:
            for column in missing:
                batch.add_column(column)


def upgrade() -> None:
    _create_or_complete("runs", _runs_columns())
    _create_or_complete("campaign_runs", _campaign_runs_columns())
    inspector = sa.inspect(op.get_bind())
    indexes = {i["name"] for i in inspector.get_indexes("campaign_runs")}
    if "ix_campaign_runs_run_id" not in indexes:
        op.create_index("ix_campaign_runs_run_id", "campaign_runs", ["run_id"])
    if "ix_runs_created_at" not in {i["name"] for i in inspector.get_indexes("runs")}:
        # `simkit runs list` orders by it: an index keeps it fast with 10,000s of runs
        op.create_index("ix_runs_created_at", "runs", ["created_at"])


def downgrade() -> None:
    op.drop_table("campaign_runs")
    op.drop_table("runs")
