"""The language model's usage per run: ``runs.llm_usage`` (JSON text, nullable).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}
    if "llm_usage" not in have:
        with op.batch_alter_table("runs") as batch:
            batch.add_column(sa.Column("llm_usage", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("llm_usage")
