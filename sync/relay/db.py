"""The relay's database: engines for SQLite and PostgreSQL, transactions, the log and the epoch.

SQLite (the default, one association hosting itself) runs with WAL, ``synchronous=FULL``,
foreign keys and a busy timeout, and every write starts with ``BEGIN IMMEDIATE`` so writers queue
instead of deadlocking. PostgreSQL (a hosted relay, several processes) serialises the writers of
one association on its counter row (``SELECT … FOR UPDATE``). Either way a log sequence number is
taken while that lock is held and committed with the rows it numbers, so a reader paging by
cursor can never see seq n+1 before seq n.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from sync.relay import tables

if TYPE_CHECKING:
    from alembic.config import Config

BUSY_TIMEOUT_MS = 10_000
IMMEDIATE = "relay_immediate"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any fixed number: relay processes starting together on PostgreSQL upgrade one at a time.
_UPGRADE_LOCK_KEY = 0x4B52_4C59


def now() -> datetime:
    """The current time in UTC (aware)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC time (SQLite hands back naive times written as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    """``value`` in ISO 8601 UTC with milliseconds, as log items carry it."""
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalise_url(url: str) -> str:
    """``url`` with PostgreSQL routed to psycopg 3 (``postgresql://`` → ``postgresql+psycopg://``)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the relay's connection settings; see :class:`Database`."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        dbapi_connection.isolation_level = None  # the "begin" event below starts transactions
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA synchronous = FULL")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True, slots=True)
class Database:
    """The relay's engine with its two kinds of transaction: ``read()`` and ``write()``."""

    engine: Engine
    # Made once: every write begins on it, and an option engine is not free to make.
    _writer: Engine = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        writer = self.engine.execution_options(**{IMMEDIATE: True}) if self.is_sqlite \
            else self.engine
        object.__setattr__(self, "_writer", writer)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is SQLite (one writer at a time for the whole file)."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (committed on leaving; nothing should be written in it)."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite; committed on leaving, rolled
        back on an exception."""
        with self._writer.begin() as connection:
            yield connection

    def writer_connection(self) -> Connection:
        """A connection kept for many write transactions (``with connection.begin()``, which
        is ``BEGIN IMMEDIATE`` on SQLite), for a process that only writes: it is checked out,
        and pinged, once instead of once per transaction. The caller closes it."""
        return self._writer.connect()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """psycopg's pipeline mode on ``connection`` for the block, unless it is in it already:
    statements whose results nobody reads yet go to the server together, in one round trip
    with the next one read (or with the ``COMMIT``, when the transaction ends in the block).
    Nothing on SQLite, whose driver has no such mode."""
    raw = connection.connection.driver_connection
    pgconn = getattr(raw, "pgconn", None)
    if pgconn is None or pgconn.pipeline_status:  # not psycopg, or pipelined already
        yield
        return
    with raw.pipeline():  # type: ignore[union-attr]
        yield


def open_database(url: str) -> Database:
    """A :class:`Database` over ``url`` (SQLite path URL or ``postgresql://…``)."""
    return Database(make_engine(url))


# Built once: every write runs these, and building a statement costs more than running it.
_READ_COUNTER = select(tables.association.c.last_seq).where(
    tables.association.c.id == bindparam("p_association_id"))
_LOCK_COUNTER = _READ_COUNTER.with_for_update()
_SET_COUNTER = (update(tables.association)
                .where(tables.association.c.id == bindparam("p_association_id"))
                .values(last_seq=bindparam("p_last_seq")))


def lock_counter(connection: Connection, association_id: str) -> int | None:
    """Lock the association's counter row for the rest of this write transaction and return
    its last sequence number (None when there is no such association)."""
    # SQLite's BEGIN IMMEDIATE already holds the whole file; PostgreSQL locks the row.
    query = _READ_COUNTER if connection.dialect.name == "sqlite" else _LOCK_COUNTER
    value = connection.execute(query, {"p_association_id": association_id}).scalar_one_or_none()
    return None if value is None else int(value)


def set_counter(connection: Connection, association_id: str, last_seq: int) -> None:
    """Store the counter after numbering new log items (the row is locked by
    :func:`lock_counter` in the same transaction)."""
    connection.execute(_SET_COUNTER, {"p_association_id": association_id,
                                      "p_last_seq": last_seq})


def append_log(connection: Connection, *, association_id: str, kind: str,
               body: Mapping[str, Any], household_id: str | None = None,
               at: datetime | None = None) -> int:
    """Append one item to the association's log inside a write transaction; return its seq.

    For items the relay makes itself (a resident's answer, read mark, safety answer): pass the
    household so that purging it removes the item. Ops pushed in batches number their items
    with :func:`lock_counter`/:func:`set_counter` instead, one counter update per batch.
    """
    last = lock_counter(connection, association_id)
    if last is None:
        raise LookupError(f"no association {association_id} on this relay")
    seq = last + 1
    connection.execute(insert(tables.log).values(
        association_id=association_id, seq=seq, kind=kind, body=dict(body),
        at=iso(at or now()), household_id=household_id,
    ))
    set_counter(connection, association_id, seq)
    return seq


def current_epoch(connection: Connection) -> str:
    """The epoch of this database (made by the first migration; new after a restore)."""
    value = connection.execute(
        select(tables.relay_meta.c.value).where(tables.relay_meta.c.key == tables.EPOCH_KEY)
    ).scalar_one()
    return str(value)


def new_epoch(connection: Connection) -> str:
    """Give the database a new epoch: office PCs then pull the whole log again. Run it after
    restoring a backup, so that no PC keeps a cursor into a log that was rolled back."""
    epoch = uuid.uuid4().hex
    connection.execute(
        update(tables.relay_meta)
        .where(tables.relay_meta.c.key == tables.EPOCH_KEY)
        .values(value=epoch)
    )
    return epoch


# ---------------------------------------------------------------- migrations


def alembic_config() -> Config:
    """An Alembic configuration over the relay's migration scripts (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this relay knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or None for an empty one."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the database to ``revision`` in one transaction (relay processes starting at the
    same time on PostgreSQL take turns on an advisory lock)."""
    from alembic import command

    with database.write() as connection:
        if not database.is_sqlite:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_KEY})")
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# ---------------------------------------------------------------- statements for the driver
# The hot paths (the disaster burst's safety answers, pushed ops, queued mails) write some
# statements out for the driver: building and binding Core statements cost more there than the
# database's own work.


def param_mark(dialect: Any) -> str:
    """The driver's parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def driver_value(column: Any, dialect: Any) -> Callable[[Any], Any]:
    """How ``column``'s SQLAlchemy type hands a value to ``dialect``'s driver."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _as_is


def _as_is(value: Any) -> Any:
    return value
