"""Alembic's environment for simkit's schema: run by :func:`simkit.migrations.upgrade`.

It is handed an open connection (``config.attributes["connection"]``), so no alembic.ini
and no URL are needed at run time; the version table is ``alembic_version``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
