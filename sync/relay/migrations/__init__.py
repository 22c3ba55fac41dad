"""Alembic migrations of the relay database, written from ``sync.relay.tables`` (and the
resident pages' tables on the same metadata)."""
