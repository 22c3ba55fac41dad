"""Shared changes: the rows the triggers recorded become operations in the outbox.

Before a write transaction commits, the rows ``replica_change`` gathered (every insert, update
and delete of a shared table, see :mod:`desktop.store.replica_triggers`) are folded into one
:class:`Change` per row — the columns that changed, with the values they had before (the
*base*, which tells the other PCs whether someone else changed the same field meanwhile) —
and queued as ``replica`` operations of at most :data:`CHANGES_PER_OP` changes, in the same
transaction. They are sealed only when they are sent (:mod:`sync.replica.envelope`).

While other PCs' operations are applied the triggers are off, so nothing applied is sent back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from sync import outbox

REPLICA_KIND = "replica"  # the outbox and protocol kind of a shared change
KEYS_TABLE = "_keys"  # shared facts about the keys (the recovery sheet's public key), no table
REVIEWS_TABLE = "_review"  # an officer's decision on an entry of 変更の確認 (its key), no table
CHANGES_PER_OP = 200  # rows per operation: a 50,000-household import makes 250 of them

Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    """One row's change: ``op`` is "i" (added: ``values`` is the whole row), "u" (``values``
    are the changed columns, ``base`` what they were), "d" (deleted: ``base`` is the row as it
    was) or "r" (restored after a delete the officer undid: the whole row)."""

    table: str
    key: str  # JSON array of the primary key as stored
    op: str
    values: Values = field(default_factory=dict)
    base: Values = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The change as it travels (inside the sealed operation)."""
        data: dict[str, Any] = {"t": self.table, "k": self.key, "o": self.op}
        if self.values:
            data["s"] = self.values
        if self.base:
            data["b"] = self.base
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        """Read a change; ValueError when it is not one."""
        table, key, op = data.get("t"), data.get("k"), data.get("o")
        values, base = data.get("s", {}), data.get("b", {})
        if not (isinstance(table, str) and isinstance(key, str) and op in ("i", "u", "d", "r")
                and isinstance(values, dict) and isinstance(base, dict)):
            raise ValueError("not a change")
        return cls(table, key, str(op), values, base)


def fold(rows: Iterable[tuple[str, str, str, str | None, str | None]]) -> list[Change]:
    """One change per row from the trigger rows ``(table, key, op, old, new)`` in the order
    they were written: the state before the first and after the last decide."""
    firsts: dict[tuple[str, str], tuple[str, Values | None]] = {}
    lasts: dict[tuple[str, str], tuple[str, Values | None]] = {}
    for table, key, op, old, new in rows:
        ident = (table, key)
        if ident not in firsts:
            firsts[ident] = (op, json.loads(old) if old is not None else None)
        lasts[ident] = (op, json.loads(new) if new is not None else None)
    changes: list[Change] = []
    for ident, (first_op, before) in firsts.items():
        last_op, after = lasts[ident]
        # A row brought back from 変更の確認 (an insert marked "r") travels whole, as a
        # restore, so the other PCs lift their tombstone of it too.
        existed, exists = first_op not in ("i", "r"), last_op != "d"
        table, key = ident
        if not existed and exists and after is not None:
            changes.append(Change(table, key, "r" if first_op == "r" else "i", after))
        elif existed and not exists and before is not None:
            changes.append(Change(table, key, "d", base=before))
        elif existed and exists and before is not None and after is not None:
            changed = [name for name, value in after.items() if before.get(name) != value]
            if changed:
                changes.append(Change(table, key, "u", {name: after[name] for name in changed},
                                      {name: before.get(name) for name in changed}))
    return changes


def chunks(changes: Sequence[Change], size: int = CHANGES_PER_OP) -> Iterator[Sequence[Change]]:
    """``changes`` in operations of at most ``size``."""
    for start in range(0, len(changes), size):
        yield changes[start:start + size]


def queue_changes(session: Session, changes: Sequence[Change]) -> int:
    """Queue ``changes`` as shared operations in the session's transaction; how many ops."""
    return outbox.enqueue_many(session, (
        (REPLICA_KIND, {"changes": [change.to_json() for change in part]})
        for part in chunks(changes)))


@contextmanager
def muted(session: Session) -> Iterator[None]:
    """Writes inside are not recorded for the other PCs: what every PC derives itself from
    the relay's log (other PCs' changes, residents' answers), written in ``session``."""
    session.flush()
    connection = session.connection()
    capturing = connection.exec_driver_sql(
        "SELECT replica_capture FROM sync_state WHERE id = 1").scalar()
    connection.exec_driver_sql("UPDATE sync_state SET replica_capture = 0 WHERE id = 1")
    session.info[APPLYING] = True
    try:
        yield
        session.flush()  # written while the triggers are off
    finally:
        connection.exec_driver_sql("UPDATE sync_state SET replica_capture = ? WHERE id = 1",
                                   (capturing or 0,))
        session.info.pop(APPLYING, None)


def drain(session: Session) -> int:
    """Turn what the triggers recorded in this transaction into queued operations; returns
    how many operations were queued."""
    connection = session.connection()
    rows = connection.exec_driver_sql(
        "SELECT tbl, pk, op, old, new FROM replica_change ORDER BY seq").all()
    if not rows:
        return 0
    connection.exec_driver_sql("DELETE FROM replica_change")
    return queue_changes(session, fold(rows))


APPLYING = "kairan_replica_applying"  # session.info flag: other PCs' changes being applied
_SHARING_FILES: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def _records_changes(session: Session) -> bool:
    """Whether the session's database has the change-recording table (an association file;
    not a bundle being read, nor a test database of something else)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    known = _SHARING_FILES.get(engine)
    if known is None:
        known = engine.dialect.name == "sqlite" and session.connection().exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replica_change'"
        ).first() is not None
        _SHARING_FILES[engine] = known
    return known


@event.listens_for(OrmSession, "before_commit")
def _queue_before_commit(session: Session) -> None:
    if session.info.get(APPLYING) or not _records_changes(session):
        return
    session.flush()  # the ORM's last writes fire their triggers first
    drain(session)
