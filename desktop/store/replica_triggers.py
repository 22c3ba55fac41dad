"""The triggers that record changes of the shared tables for the association's other PCs.

Every write to a shared table — through the ORM, Core or the driver's ``executemany`` of a
bulk import, and the rows a foreign key's ``ON DELETE CASCADE`` removes — fires a trigger that
appends a row to ``replica_change`` with the row's primary key and its columns before and
after, as SQLite stores them. The triggers do nothing unless ``sync_state.replica_capture`` is
set (sharing is on) so a file that does not share pays one lookup per row written.
:mod:`sync.replica.capture` turns the recorded rows into shared operations before the
transaction commits, and applies other PCs' operations with capture switched off.

The tables and columns are written down in the migration that installs the triggers, so a
later migration that adds a column to a shared table re-installs them (a test compares the
installed triggers with the models).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True, slots=True)
class SharedTable:
    """A table shared between office PCs: its primary key and every column."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]


_CAPTURING = "(SELECT replica_capture FROM sync_state WHERE id = 1) = 1"


def quoted(name: str) -> str:
    """``name`` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _object(row: str, columns: Sequence[str]) -> str:
    return "json_object(" + ", ".join(f"'{column}', {row}.{quoted(column)}"
                                      for column in columns) + ")"


def _key(row: str, key: Sequence[str]) -> str:
    return "json_array(" + ", ".join(f"{row}.{quoted(column)}" for column in key) + ")"


def trigger_names(table: str) -> tuple[str, str, str]:
    """The names of the insert, update and delete triggers of ``table``."""
    return (f"replica_{table}_insert", f"replica_{table}_update", f"replica_{table}_delete")


def trigger_statements(table: SharedTable) -> list[str]:
    """``CREATE TRIGGER`` statements recording inserts, updates and deletes of ``table``."""
    insert, update, delete = trigger_names(table.name)
    name = quoted(table.name)
    changed = " OR ".join(f"OLD.{quoted(c)} IS NOT NEW.{quoted(c)}" for c in table.columns)
    return [
        f"CREATE TRIGGER {insert} AFTER INSERT ON {name} WHEN {_CAPTURING} BEGIN "
        f"INSERT INTO replica_change (tbl, pk, op, old, new) VALUES ('{table.name}', "
        f"{_key('NEW', table.key)}, 'i', NULL, {_object('NEW', table.columns)}); END",
        f"CREATE TRIGGER {update} AFTER UPDATE ON {name} WHEN {_CAPTURING} AND ({changed}) "
        f"BEGIN INSERT INTO replica_change (tbl, pk, op, old, new) VALUES ('{table.name}', "
        f"{_key('NEW', table.key)}, 'u', {_object('OLD', table.columns)}, "
        f"{_object('NEW', table.columns)}); END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {name} WHEN {_CAPTURING} BEGIN "
        f"INSERT INTO replica_change (tbl, pk, op, old, new) VALUES ('{table.name}', "
        f"{_key('OLD', table.key)}, 'd', {_object('OLD', table.columns)}, NULL); END",
    ]


def install_triggers(connection: Connection, tables: Mapping[str, SharedTable]) -> None:
    """(Re)create the triggers of ``tables`` (a migration calls this with its own list)."""
    for table in tables.values():
        for name in trigger_names(table.name):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for statement in trigger_statements(table):
            connection.execute(text(statement))


def drop_triggers(connection: Connection, tables: Sequence[str]) -> None:
    """Remove the triggers of ``tables`` (a migration's downgrade)."""
    for table in tables:
        for name in trigger_names(table):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


# The tables an association's office PCs share, parents before children (a snapshot is loaded
# in this order). Not shared: what each PC keeps for itself (officer profiles, the audit trail,
# import mappings, the sync tables), what reaches the other PCs through the relay's own
# operations already (answers, read markers, safety answers, disaster events), and circulars'
# attachments (their bytes; the circular itself is shared).
SHARED_TABLES = (
    "association", "roster_group", "household", "member", "role", "role_assignment",
    "role_conflict", "circular", "circular_recipient", "meeting_rules", "meeting",
    "meeting_item", "meeting_voter", "meeting_entry", "meeting_floor_vote", "handover",
    "handover_memo",
)


def shared_tables_of_models() -> dict[str, SharedTable]:
    """The shared tables as the models define them now."""
    from sqlmodel import SQLModel

    import desktop.domain.models  # noqa: F401  (the tables register themselves)

    tables: dict[str, SharedTable] = {}
    for name in SHARED_TABLES:
        table = SQLModel.metadata.tables[name]
        tables[name] = SharedTable(name, tuple(c.name for c in table.primary_key.columns),
                                   tuple(c.name for c in table.columns))
    return tables
