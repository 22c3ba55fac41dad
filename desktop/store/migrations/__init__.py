"""Alembic migrations of the association file, generated from ``desktop.domain.models``."""
