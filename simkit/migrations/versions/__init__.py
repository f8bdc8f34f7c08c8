"""Alembic revisions of simkit's schema (a package, so that wheels carry them)."""
