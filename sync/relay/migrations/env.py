"""Alembic environment of the relay: runs migrations on the connection ``db.upgrade`` hands over.

For developers writing a new revision (``alembic -c sync/relay/alembic.ini revision
--autogenerate``) it opens the database named by ``sqlalchemy.url`` instead. Imported outside a
migration (a test importing every module) it does nothing.
"""

from __future__ import annotations

import importlib
import importlib.util

from alembic import context
from alembic.config import Config
from sqlalchemy import Connection, create_engine

from sync.relay.tables import metadata

# Modules that add tables to the relay's metadata; the resident pages' tables are optional so
# that the core runs (and its first migration can be checked) without them.
_TABLE_MODULES = ("sync.relay.resident_tables", "sync.relay.mail_tables")


def _load_tables() -> None:
    for name in _TABLE_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main(config: Config) -> None:
    _load_tables()
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "name the database with -x or sqlalchemy.url for command-line use"
    with create_engine(url).connect() as scratch:
        _run(scratch)


_config = getattr(context, "config", None)  # present only while Alembic runs this file
if _config is not None:
    _main(_config)
