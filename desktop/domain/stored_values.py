"""Values as the ORM writes them into the association file's SQLite, for the paths that hand
rows straight to the driver (bulk imports, pulled pages, the audit trail) and must store
exactly what a row added through the ORM would hold."""

from __future__ import annotations

from datetime import UTC, datetime


def stored_time(at: datetime) -> str:
    """A time as the ORM stores it: UTC, no zone, microseconds (a naive time is taken to be
    UTC already, as the ORM takes it)."""
    if at.utcoffset() is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")
