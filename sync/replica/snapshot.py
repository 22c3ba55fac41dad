"""Snapshots of the shared tables: what a new office PC starts from.

A snapshot is every shared row at one point of the relay's log (``upto_seq``), in parts of at
most :data:`ROWS_PER_PART` rows of one table, each part sealed with the association key and
bound to its snapshot, its place and the number of parts (the relay cannot drop, reorder or
mix parts). Values travel as SQLite stores them, and a new PC loads them with one
``executemany`` per part, in one transaction: a cancelled or failed load leaves nothing.
The first part carries what a PC needs besides rows: the recovery sheet's public key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from desktop.domain import audit
from desktop.store.replica_triggers import quoted
from sync.e2e.cipher import CipherError, aad_for, open_json, seal_json
from sync.e2e.keys import KeyRing
from sync.replica.schema import schema

ROWS_PER_PART = 4000
TOMBSTONES = "replica_tombstone"  # a part of tombstones: deleted rows stay deleted


@dataclass(frozen=True, slots=True)
class SnapshotPart:
    """Rows of one table (or the snapshot's own facts, ``table`` = "")."""

    table: str
    columns: tuple[str, ...]
    rows: list[list[Any]]
    facts: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The part as sealed."""
        data: dict[str, Any] = {"t": self.table, "c": list(self.columns), "r": self.rows}
        if self.facts is not None:
            data["f"] = dict(self.facts)
        return data

    @classmethod
    def from_json(cls, data: Any) -> SnapshotPart:
        """Read a part; :class:`CipherError` when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("t"), str) \
                or not isinstance(data.get("c"), list) or not isinstance(data.get("r"), list):
            raise CipherError("not a snapshot part")
        facts = data.get("f")
        return cls(data["t"], tuple(data["c"]), data["r"],
                   facts if isinstance(facts, dict) else None)


def read_parts(session: Session, *, recovery_public_key: str) -> list[SnapshotPart]:
    """Every shared row of the file, in parts (parents' tables first)."""
    connection = session.connection()
    parts = [SnapshotPart("", (), [], {"recovery_public_key": recovery_public_key})]
    tables = [(info.name, info.columns) for info in schema().tables.values()]
    tables.append((TOMBSTONES, ("tbl", "pk", "seq", "device_id", "row")))
    for name, columns in tables:
        rows = [list(row) for row in connection.exec_driver_sql(
            f"SELECT {', '.join(map(quoted, columns))} FROM {quoted(name)}").all()]
        for start in range(0, len(rows), ROWS_PER_PART):
            parts.append(SnapshotPart(name, columns, rows[start:start + ROWS_PER_PART]))
    return parts


def _aad(association_id: str, snapshot_id: str, index: int, count: int, gen: int) -> bytes:
    return aad_for(association_id, "snapshot", snapshot_id, index, count, gen)


def seal_parts(parts: list[SnapshotPart], ring: KeyRing, *, association_id: str,
               snapshot_id: str) -> Iterator[str]:
    """The parts sealed with the current key, in order."""
    count, gen = len(parts), ring.current
    for index, part in enumerate(parts):
        yield seal_json(ring.key(gen), part.to_json(),
                        aad=_aad(association_id, snapshot_id, index, count, gen))


def open_part(text: str, ring: KeyRing, *, association_id: str, snapshot_id: str,
              index: int, count: int, gen: int) -> SnapshotPart:
    """One sealed part opened (:class:`CipherError` when damaged or out of place)."""
    return SnapshotPart.from_json(open_json(
        ring.key(gen), text, aad=_aad(association_id, snapshot_id, index, count, gen)))


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a snapshot brought."""

    rows: int
    facts: Mapping[str, Any]


def load_parts(session: Session, parts: Iterable[SnapshotPart], *,
               cancelled: Callable[[], bool] = lambda: False) -> Loaded:
    """Replace the shared tables of the file with the snapshot's rows (the caller's
    transaction; the file should be new). Unknown tables or columns are refused."""
    known = schema().tables
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    for info in reversed(list(known.values())):
        connection.exec_driver_sql(f"DELETE FROM {info.quoted}")
    rows, facts = 0, {}
    for part in parts:
        if cancelled():
            raise InterruptedError
        if part.table == "":
            facts = dict(part.facts or {})
            continue
        allowed = known[part.table].column_set if part.table in known else (
            frozenset({"tbl", "pk", "seq", "device_id", "row"}) if part.table == TOMBSTONES
            else frozenset())
        if not part.columns or not set(part.columns) <= allowed:
            raise CipherError(f"unknown table or columns in the snapshot: {part.table}")
        driver.executemany(
            f"INSERT INTO {quoted(part.table)} ({', '.join(map(quoted, part.columns))}) "
            f"VALUES ({', '.join('?' * len(part.columns))})", part.rows)
        rows += len(part.rows)
    audit.record(session, action="insert", entity="association", entity_id="snapshot",
                 changes={"rows": (None, rows)})  # one record for the whole roster received
    return Loaded(rows, facts)
