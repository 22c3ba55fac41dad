"""Alembic environment: runs migrations on the connection the store hands over.

From the command line (``alembic revision --autogenerate``, see alembic.ini) it opens the
scratch database named there instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import desktop.domain.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "alembic.ini names no sqlalchemy.url for command-line use"
    with create_engine(url).connect() as scratch:
        _run(scratch)


_main()
