"""What replication needs to know of each shared table, read once from the models: its
columns, key, references, unique columns and derived columns."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, UniqueConstraint
from sqlmodel import SQLModel

from desktop.store.replica_triggers import SHARED_TABLES, quoted

# Columns kept up to date from others (sort keys, search text, counts, time stamps): when
# two PCs changed them at once, they are worked out again rather than listed for review.
DERIVED: dict[str, frozenset[str]] = {
    "household": frozenset({"search_text", "furigana_key", "member_count", "updated_at"}),
    "circular": frozenset({"updated_at"}),
    "meeting_rules": frozenset({"updated_at"}),
}


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One shared table, with its SQL pieces ready."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    references: dict[str, tuple[str, str]]  # column → (parent table, parent column)
    unique: tuple[tuple[str, ...], ...]
    derived: frozenset[str]
    nullable: frozenset[str]

    @property
    def quoted(self) -> str:
        """The table's name, quoted."""
        return quoted(self.name)

    @property
    def column_set(self) -> frozenset[str]:
        """The columns, as a set."""
        return frozenset(self.columns)

    @property
    def select(self) -> str:
        """Every column, for SELECT."""
        return ", ".join(map(quoted, self.columns))

    @property
    def where(self) -> str:
        """The condition naming one row by its key."""
        return " AND ".join(f"{quoted(column)} = ?" for column in self.key)

    @property
    def key_json(self) -> str:
        """The key as a JSON array (a change's ``key``), for SELECT."""
        return f"json_array({', '.join(map(quoted, self.key))})"

    def insert_sql(self, names: Sequence[str]) -> str:
        """INSERT of the columns ``names`` (one ``?`` each)."""
        return (f"INSERT INTO {self.quoted} ({', '.join(map(quoted, names))}) "
                f"VALUES ({', '.join('?' * len(names))})")

    def update_sql(self, names: Sequence[str]) -> str:
        """UPDATE of the columns ``names`` of one row (their values, then the key's)."""
        return (f"UPDATE {self.quoted} SET {', '.join(f'{quoted(n)} = ?' for n in names)} "
                f"WHERE {self.where}")


def row_exists(connection: Connection, table: str, column: str, value: object) -> bool:
    """Whether ``table`` has a row whose ``column`` is ``value`` (a reference's parent)."""
    return connection.exec_driver_sql(
        f"SELECT 1 FROM {quoted(table)} WHERE {quoted(column)} = ?", (value,)).first() \
        is not None


@dataclass(frozen=True, slots=True)
class Schema:
    """The shared tables, in the order a snapshot loads them (parents first)."""

    tables: dict[str, TableInfo]


@functools.cache
def schema() -> Schema:
    """The shared tables as this version of Kairan defines them."""
    import desktop.domain.models  # noqa: F401  (the tables register themselves)

    tables: dict[str, TableInfo] = {}
    for name in SHARED_TABLES:
        table = SQLModel.metadata.tables[name]
        references = {fk.parent.name: (fk.column.table.name, fk.column.name)
                      for fk in table.foreign_keys}
        unique = tuple(tuple(column.name for column in constraint.columns)
                       for constraint in table.constraints
                       if isinstance(constraint, UniqueConstraint))
        unique += tuple((column.name,) for column in table.columns
                        if column.unique and (column.name,) not in unique)
        tables[name] = TableInfo(name, tuple(c.name for c in table.columns),
                                 tuple(c.name for c in table.primary_key.columns),
                                 references, unique, DERIVED.get(name, frozenset()),
                                 frozenset(c.name for c in table.columns if c.nullable))
    return Schema(tables)
