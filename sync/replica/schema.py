"""What replication needs to know of each shared table, read once from the models: its
columns, key, references, unique columns and derived columns."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import UniqueConstraint
from sqlmodel import SQLModel

from desktop.store.replica_triggers import SHARED_TABLES

# Columns kept up to date from others (sort keys, search text, counts, time stamps): when
# two PCs changed them at once, they are worked out again rather than listed for review.
DERIVED: dict[str, frozenset[str]] = {
    "household": frozenset({"search_text", "furigana_key", "member_count", "updated_at"}),
    "circular": frozenset({"updated_at"}),
    "meeting_rules": frozenset({"updated_at"}),
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
        return _q(self.name)

    @property
    def column_set(self) -> frozenset[str]:
        """The columns, as a set."""
        return frozenset(self.columns)

    @property
    def select(self) -> str:
        """Every column, for SELECT."""
        return ", ".join(map(_q, self.columns))

    @property
    def where(self) -> str:
        """The condition naming one row by its key."""
        return " AND ".join(f"{_q(column)} = ?" for column in self.key)


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
