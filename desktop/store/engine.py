"""SQLAlchemy engine for an association file, with the connection settings SQLite needs.

WAL, ``synchronous=FULL``, foreign keys on and a busy timeout on every connection; writes take
the lock up front (``BEGIN IMMEDIATE``) so two writers never deadlock half-way through.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

BUSY_TIMEOUT_MS = 5000
# "KRAN" in ASCII: marks the SQLite file as a Kairan association file (PRAGMA application_id).
APPLICATION_ID = 0x4B52414E
IMMEDIATE = "kairan_immediate"


def configure_connection(connection: sqlite3.Connection, *, foreign_keys: bool = True) -> None:
    """Apply Kairan's durability and integrity settings to a raw sqlite3 connection."""
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")


def make_engine(path: Path, *, foreign_keys: bool = True) -> Engine:
    """An engine over ``path``; use ``engine.execution_options(kairan_immediate=True)`` to write.

    ``foreign_keys=False`` is only for schema migrations, which rebuild tables.
    """
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        configure_connection(dbapi_connection, foreign_keys=foreign_keys)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
