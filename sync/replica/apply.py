"""Other PCs' shared changes, applied in the relay's order so every PC ends the same.

The rule is last-writer-wins per field, with the relay's sequence number as the clock (never
the PCs' clocks). Applying the log in order gives every PC the same rows, with one twist: a
field this PC changed itself, whose operation has not come back in the log yet, keeps this
PC's value — its operation comes later in the relay's order, so it wins everywhere. The value
held back is kept in ``replica_shadow`` until then, so that the overwritten value can still be
shown.

Nothing is resolved silently: each change carries the values its PC saw (its *base*); when
the relay's order shows someone else changed the field meanwhile, the value that lost is
listed in 変更の確認 (``replica_review``). A delete racing an edit, an edit of a deleted row,
a role given to more people than it has seats and a duplicate household number or role name
are listed there too. Every PC derives the same list from the same log. Deleted rows leave a
tombstone, so a late edit never brings a row back; only the officer's 「元に戻す」 does.

Runs in the caller's transaction (with the cursor), with the change-recording triggers off.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session

from desktop.domain.models import OutboxState
from desktop.store.replica_triggers import quoted
from sync.replica.capture import KEYS_TABLE, REPLICA_KIND, REVIEWS_TABLE, Change, muted
from sync.replica.schema import Schema, row_exists, schema

# Kinds of review (変更の確認).
OVERWRITTEN = "overwritten"  # two PCs changed one field; the later one in the relay's order won
DELETED_EDIT = "deleted_edit"  # a row was deleted although another PC had changed it meanwhile
EDIT_AFTER_DELETE = "edit_after_delete"  # a change came for a row another PC had deleted
ROLE_TWICE = "role_twice"  # a role has more holders than seats (two PCs assigned it)
DUPLICATE = "duplicate_value"  # two PCs gave two rows one number or name; the later was renamed

_REVIEW_NAMESPACE = uuid.UUID("6b1d7a52-41c4-4c6e-9a55-0d7c4cc1a0e1")


@dataclass(frozen=True, slots=True)
class SharedOp:
    """One shared operation as read from the log: who made it and its changes."""

    seq: int
    op_id: str
    device_id: str
    changes: tuple[Change, ...]
    device_name: str = ""  # as the PC was named when it paired

    @property
    def made_by(self) -> str:
        """Who to name in the review list: the PC's name, or its id."""
        return self.device_name or self.device_id


@dataclass(frozen=True, slots=True)
class SharedApplied:
    """What applying some shared operations did here."""

    rows: int = 0  # rows added, changed or deleted
    reviews: int = 0  # new entries in 変更の確認
    echoed: int = 0  # this PC's own operations that came back

    def __add__(self, other: SharedApplied) -> SharedApplied:
        return SharedApplied(self.rows + other.rows, self.reviews + other.reviews,
                             self.echoed + other.echoed)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass
class _OwnChanges:
    """This PC's shared changes not yet back from the relay: which fields of which rows."""

    ops: dict[str, tuple[Change, ...]] = field(default_factory=dict)
    fields: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict))
    # What the rows were before this PC's first change still on its way (its base).
    bases: dict[tuple[str, str], dict[str, Any]] = field(
        default_factory=lambda: defaultdict(dict))

    def add(self, op_id: str, changes: tuple[Change, ...], sign: int = 1) -> None:
        for change in changes:
            counts = self.fields[(change.table, change.key)]
            base = self.bases[(change.table, change.key)]
            if sign > 0:
                for name, value in change.base.items():
                    base.setdefault(name, value)
            names = change.values.keys() if change.op != "d" else ("",)
            for name in names:
                counts[name] = counts.get(name, 0) + sign
                if counts[name] <= 0:
                    del counts[name]
        if sign > 0:
            self.ops[op_id] = changes
            return
        self.ops.pop(op_id, None)
        rows = {(change.table, change.key) for change in changes}
        for row in rows:
            self.bases.pop(row, None)
        for later in self.ops.values():  # the bases of the changes still on their way
            for change in later:
                if (change.table, change.key) in rows:
                    base = self.bases[(change.table, change.key)]
                    for name, value in change.base.items():
                        base.setdefault(name, value)

    def holds(self, table: str, key: str, name: str) -> bool:
        return name in self.fields.get((table, key), ())

    def touches(self, table: str, key: str) -> bool:
        return bool(self.fields.get((table, key)))


def own_changes(session: Session) -> _OwnChanges:
    """This PC's shared changes still queued or sent but not yet back in the log."""
    own = _OwnChanges()
    rows = session.connection().exec_driver_sql(
        "SELECT id, body FROM outbox_op WHERE kind = ? AND state IN (?, ?) ORDER BY position",
        (REPLICA_KIND, OutboxState.PENDING.value, OutboxState.SENT.value)).all()
    for op_id, body in rows:
        data = json.loads(body) if isinstance(body, str) else body
        own.add(str(uuid.UUID(hex=op_id)),
                tuple(Change.from_json(change) for change in data.get("changes", ())))
    return own


class _Applier:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection: Connection = session.connection()
        self.schema: Schema = schema()
        self.own = own_changes(session)
        self.rows = 0
        self.reviews = 0
        self.echoed = 0
        self.assignments: set[str] = set()  # role_assignment keys touched (seats checked)
        self.recompute: set[str] = set()  # households whose derived columns need refreshing

    # ------------------------------------------------------------ reading and writing rows

    def _sql(self, statement: str, parameters: Sequence[object] = ()) -> Any:
        return self.connection.exec_driver_sql(statement, tuple(parameters))

    def row(self, table: str, key: str) -> dict[str, Any] | None:
        info = self.schema.tables[table]
        found = self._sql(f"SELECT {info.select} FROM {info.quoted} WHERE {info.where}",
                          json.loads(key)).first()
        return dict(zip(info.columns, found, strict=True)) if found is not None else None

    def insert(self, table: str, values: Mapping[str, Any]) -> None:
        info = self.schema.tables[table]
        names = [name for name in values if name in info.column_set]
        self._sql(info.insert_sql(names), [values[n] for n in names])
        self.rows += 1

    def update(self, table: str, key: str, values: Mapping[str, Any]) -> None:
        if not values:
            return
        info = self.schema.tables[table]
        names = [name for name in values if name in info.column_set]
        self._sql(info.update_sql(names), [values[n] for n in names] + json.loads(key))
        self.rows += 1

    def delete(self, table: str, key: str) -> None:
        info = self.schema.tables[table]
        self._sql(f"DELETE FROM {info.quoted} WHERE {info.where}", json.loads(key))
        self.rows += 1

    def tombstone(self, table: str, key: str) -> dict[str, Any] | None:
        found = self._sql("SELECT row FROM replica_tombstone WHERE tbl = ? AND pk = ?",
                          (table, key)).first()
        return json.loads(found[0]) if found is not None else None

    def bury(self, op: SharedOp, table: str, key: str, row: Mapping[str, Any]) -> None:
        self._sql("INSERT OR REPLACE INTO replica_tombstone (tbl, pk, seq, device_id, row) "
                  "VALUES (?, ?, ?, ?, ?)", (table, key, op.seq, op.device_id, _json(row)))

    def review(self, op: SharedOp, *, kind: str, table: str, key: str, name: str = "",
               kept: object = None, lost: object = None, ident: str | None = None) -> None:
        review_key = ident or f"{kind}:{table}:{key}:{name}:{op.seq}"
        if isinstance(lost, dict) and table in self.schema.tables:
            # A lost row without the columns each PC works out itself (search text, counts,
            # time stamps): every PC lists the same entry; bringing it back works them out.
            derived = self.schema.tables[table].derived
            lost = {column: value for column, value in lost.items() if column not in derived}
        added = self._sql(
            "INSERT OR IGNORE INTO replica_review (id, key, kind, tbl, pk, field, kept, lost, "
            "by_device, seq, created_at, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
            (uuid.uuid5(_REVIEW_NAMESPACE, review_key).hex, review_key, kind, table, key, name,
             _json(kept), _json(lost), op.made_by, op.seq,
             datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")))
        self.reviews += added.rowcount

    # ------------------------------------------------------------ other PCs' changes

    def remote(self, op: SharedOp) -> None:
        for change in op.changes:
            if change.table == KEYS_TABLE:
                self.keys_fact(change)
                continue
            if change.table == REVIEWS_TABLE:
                self.decided(change)
                continue
            if change.table not in self.schema.tables:
                continue  # a table this version does not share (checked by schema first)
            if change.op == "d":
                self.remote_delete(op, change)
            else:
                self.remote_write(op, change)

    def keys_fact(self, change: Change) -> None:
        """A fact about the keys another PC shared: the recovery sheet's public key (new
        key generations are wrapped for it too)."""
        value = change.values.get("recovery_public_key")
        if isinstance(value, str) and value:
            self._sql("UPDATE sync_state SET recovery_public_key = ? WHERE id = 1", (value,))

    def decided(self, change: Change) -> None:
        """Another PC's officer decided an entry of 変更の確認: it is closed here too (every
        PC made the same entry, under the same key, before this decision in the log)."""
        decision = change.values.get("decision")
        if isinstance(decision, str):
            self._sql("UPDATE replica_review SET decided_at = ?, decision = ? "
                      "WHERE key = ? AND decided_at IS NULL",
                      (datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "), decision,
                       change.key))

    def remote_delete(self, op: SharedOp, change: Change) -> None:
        table, key = change.table, change.key
        row = self.row(table, key)
        # The row as the relay's order has it: this PC's own later changes taken back.
        ordered = {**(row or {}), **self.own.bases.get((table, key), {}),
                   **self.shadows(table, key)}
        self._sql("DELETE FROM replica_shadow WHERE tbl = ? AND pk = ?", (table, key))
        present = row is not None or self.own.holds(table, key, "")
        if present and self.differs(table, ordered, change.base) \
                and self.tombstone(table, key) is None:
            self.review(op, kind=DELETED_EDIT, table=table, key=key, kept=None,
                        lost={**change.base, **ordered})
        if row is not None:
            self.delete(table, key)
        if self.tombstone(table, key) is None:
            self.bury(op, table, key, {**change.base, **ordered})

    def differs(self, table: str, values: Mapping[str, Any], seen: Mapping[str, Any]) -> bool:
        """Whether ``values`` differ from what a PC saw, in a field that is not derived."""
        derived = self.schema.tables[table].derived
        return any(name in seen and seen[name] != value and name not in derived
                   for name, value in values.items())

    def shadows(self, table: str, key: str) -> dict[str, Any]:
        """Other PCs' values of a row held back for this PC's own later changes."""
        return {name: json.loads(value) for name, value in self._sql(
            "SELECT field, value FROM replica_shadow WHERE tbl = ? AND pk = ?",
            (table, key)).all()}

    def remote_write(self, op: SharedOp, change: Change) -> None:
        table, key = change.table, change.key
        if change.op == "r":
            self._sql("DELETE FROM replica_tombstone WHERE tbl = ? AND pk = ?", (table, key))
        elif self.tombstone(table, key) is not None:
            self.review(op, kind=EDIT_AFTER_DELETE, table=table, key=key, lost=change.values)
            return
        row = self.row(table, key)
        if row is not None:
            self.remote_update(op, change, row)
        elif self.own.holds(table, key, ""):  # this PC's delete of it comes later
            for name, value in change.values.items():
                self.hold_back(op, change, name, value, None)
        elif change.op == "u":  # its row went with a parent another PC deleted
            self.review(op, kind=EDIT_AFTER_DELETE, table=table, key=key, lost=change.values)
        else:
            values = dict(change.values)
            if self.parents_exist(op, change, values):
                self.make_unique(op, table, key, values)
                self.insert(table, values)
                self.touched(table, key, values)

    def remote_update(self, op: SharedOp, change: Change, row: Mapping[str, Any]) -> None:
        table, key = change.table, change.key
        info = self.schema.tables[table]
        updates: dict[str, Any] = {}
        for name, value in change.values.items():
            if name not in info.column_set or name in info.key:
                continue
            if self.own.holds(table, key, name):  # ours comes later in the relay's order
                self.hold_back(op, change, name, value, row)
                continue
            current = row[name]
            if current == value:
                continue
            if change.op == "u" and name in change.base and change.base[name] != current:
                self.overwritten(op, table, key, name, kept=value, lost=current, row=row)
            updates[name] = value
        if not self.parents_exist(op, change, updates):
            return
        self.make_unique(op, table, key, updates)
        self.update(table, key, updates)
        self.touched(table, key, {**row, **updates})

    def hold_back(self, op: SharedOp, change: Change, name: str, value: object,
                  row: Mapping[str, Any] | None) -> None:
        """Keep another PC's value of a field this PC's own later change will overwrite,
        and list it if it overwrote a value in the relay's order, as every PC does."""
        table, key = change.table, change.key
        found = self._sql("SELECT value FROM replica_shadow WHERE tbl = ? AND pk = ? "
                          "AND field = ?", (table, key, name)).first()
        bases = self.own.bases.get((table, key), {})
        if found is not None:
            before = json.loads(found[0])
        elif name in bases:
            before = bases[name]
        else:
            before = (row or {}).get(name)
        if change.op == "u" and name in change.base and change.base[name] != before \
                and before != value:
            self.overwritten(op, table, key, name, kept=value, lost=before, row=row)
        self._sql("INSERT OR REPLACE INTO replica_shadow (tbl, pk, field, value, seq, "
                  "device_id) VALUES (?, ?, ?, ?, ?, ?)",
                  (table, key, name, _json(value), op.seq, op.device_id))

    def overwritten(self, op: SharedOp, table: str, key: str, name: str, *, kept: object,
                    lost: object, row: Mapping[str, Any] | None) -> None:
        """Two PCs changed one field: a derived one is worked out again, any other listed."""
        if name in self.schema.tables[table].derived:
            self.recompute_for(table, key, row)
        else:
            self.review(op, kind=OVERWRITTEN, table=table, key=key, name=name, kept=kept,
                        lost=lost)

    # ------------------------------------------------------------ this PC's changes, back

    def echo(self, op: SharedOp, changes: tuple[Change, ...]) -> None:
        """This PC's operation came back: the relay's order is now known for it."""
        self.own.add(op.op_id, changes, sign=-1)
        self._sql("DELETE FROM outbox_op WHERE id = ?", (uuid.UUID(op.op_id).hex,))
        self.echoed += 1
        for change in changes:
            if change.table in self.schema.tables:
                self.echo_change(op, change)

    def echo_change(self, op: SharedOp, change: Change) -> None:
        table, key = change.table, change.key
        shadows = self.shadows(table, key)
        if change.op == "d":
            if self.tombstone(table, key) is None and self.differs(table, change.base, shadows):
                # Another PC changed the row while this PC's delete was on its way.
                self.review(op, kind=DELETED_EDIT, table=table, key=key,
                            lost={**change.base, **shadows})
            self.bury(op, table, key, {**change.base, **shadows})
            self._sql("DELETE FROM replica_shadow WHERE tbl = ? AND pk = ?", (table, key))
            return
        elif change.op != "r" and self.tombstone(table, key) is not None:
            # Another PC deleted the row before this change reached the relay.
            self.review(op, kind=EDIT_AFTER_DELETE, table=table, key=key, lost=change.values)
        else:
            for name, lost in shadows.items():
                if change.op == "u" and name in change.values \
                        and change.base.get(name) != lost and lost != change.values[name]:
                    self.overwritten(op, table, key, name, kept=change.values[name],
                                     lost=lost, row=None)
            row = self.row(table, key)
            if row is not None:
                self.settle_unique(op, table, key, row)
                self.touched(table, key, row)
        # This change is now in the relay's order after the values held back for it.
        for name in change.values:
            self._sql("DELETE FROM replica_shadow WHERE tbl = ? AND pk = ? AND field = ?",
                      (table, key, name))
        if change.op == "r":
            self._sql("DELETE FROM replica_tombstone WHERE tbl = ? AND pk = ?", (table, key))

    # ------------------------------------------------------------ rules of the tables

    def parents_exist(self, op: SharedOp, change: Change, values: dict[str, Any]) -> bool:
        """Whether every row ``values`` refer to exists. A missing parent was deleted by
        another PC: a new row is not added (listed instead); a changed reference is left
        as it was (listed too)."""
        info = self.schema.tables[change.table]
        for column, (parent, parent_column) in info.references.items():
            value = values.get(column)
            if value is None:
                continue
            if row_exists(self.connection, parent, parent_column, value):
                continue
            if change.op in ("i", "r"):
                self.review(op, kind=EDIT_AFTER_DELETE, table=change.table, key=change.key,
                            lost=change.values)
                return False
            self.review(op, kind=EDIT_AFTER_DELETE, table=change.table, key=change.key,
                        name=column, lost=value)
            del values[column]
        return True

    def _holder(self, table: str, key: str, columns: Sequence[str],
                values: Mapping[str, Any]) -> str | None:
        info = self.schema.tables[table]
        found = self._sql(
            f"SELECT {info.key_json} FROM {info.quoted} WHERE "
            + " AND ".join(f"{quoted(c)} = ?" for c in columns)
            + f" AND {info.key_json} != ?",
            [values[c] for c in columns] + [key]).first()
        return str(found[0]) if found is not None else None

    def make_unique(self, op: SharedOp, table: str, key: str, values: dict[str, Any]) -> None:
        """Give way when a row of another PC takes a number or name that a row here holds:
        the row later in the relay's order is renamed (this PC's own, not yet sent, row
        gives way now; it is settled again when its operation comes back)."""
        info = self.schema.tables[table]
        current = self.row(table, key) or {}
        for columns in info.unique:
            if not any(c in values for c in columns):
                continue
            wanted = {c: values.get(c, current.get(c)) for c in columns}
            if any(v is None for v in wanted.values()):
                continue
            holder = self._holder(table, key, columns, wanted)
            if holder is None:
                continue
            if self.own.touches(table, holder):
                other = self.row(table, holder) or {}
                renamed = self.free_value(table, holder, columns, other)
                self.update(table, holder, renamed)
            else:
                renamed = self.free_value(table, key, columns, {**current, **values})
                values.update(renamed)
                self.review(op, kind=DUPLICATE, table=table, key=key, name=columns[-1],
                            kept=renamed[columns[-1]], lost=wanted[columns[-1]],
                            ident=f"{DUPLICATE}:{table}:{key}:{columns[-1]}")

    def settle_unique(self, op: SharedOp, table: str, key: str, row: Mapping[str, Any]
                      ) -> None:
        """This PC's row is now in the relay's order: if a row before it holds its number or
        name, it is the one renamed, as on every other PC."""
        if table not in self.schema.tables:
            return
        for columns in self.schema.tables[table].unique:
            original = {c: row[c] for c in columns}
            if any(v is None for v in original.values()):
                continue
            if self._holder(table, key, columns, original) is None:
                continue
            renamed = self.free_value(table, key, columns, row)
            self.update(table, key, renamed)
            self.review(op, kind=DUPLICATE, table=table, key=key, name=columns[-1],
                        kept=renamed[columns[-1]], lost=original[columns[-1]],
                        ident=f"{DUPLICATE}:{table}:{key}:{columns[-1]}")

    def free_value(self, table: str, key: str, columns: Sequence[str],
                   row: Mapping[str, Any]) -> dict[str, Any]:
        """The last unique column of ``row`` changed to a value nobody holds: text gets
        「（2）」, 「（3）」…; a number the next free one."""
        last = columns[-1]
        base = {c: row.get(c) for c in columns}
        for attempt in range(2, 10_000):
            value = row.get(last)
            candidate = (f"{value}（{attempt}）" if isinstance(value, str)
                         else int(value or 0) + attempt - 1)
            trial = {**base, last: candidate}
            if self._holder(table, key, columns, trial) is None:
                return {last: candidate}
        raise RuntimeError("no free value")  # 10,000 duplicates of one number: a bug

    def touched(self, table: str, key: str, row: Mapping[str, Any]) -> None:
        if table == "role_assignment":
            self.assignments.add(key)

    def recompute_for(self, table: str, key: str, row: Mapping[str, Any] | None) -> None:
        if table == "household":
            self.recompute.add(json.loads(key)[0])
        elif table == "member" and row is not None:
            self.recompute.add(str(row.get("household_id")))

    def check_seats(self, op: SharedOp | None) -> None:
        """A role with more holders than seats in one year (two PCs gave it away)."""
        if not self.assignments or op is None:
            return
        keys = [json.loads(key)[0] for key in self.assignments]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            over = self._sql(
                "SELECT a.role_id, a.year, coalesce(a.group_id, ''), count(*), r.max_holders "
                "FROM role_assignment a JOIN role r ON r.id = a.role_id "
                "WHERE EXISTS (SELECT 1 FROM role_assignment t WHERE t.id IN "
                f"({', '.join('?' * len(chunk))}) AND t.role_id = a.role_id "
                "AND t.year = a.year AND coalesce(t.group_id, '') = coalesce(a.group_id, '')) "
                "GROUP BY a.role_id, a.year, coalesce(a.group_id, '') "
                "HAVING r.max_holders IS NOT NULL AND count(*) > r.max_holders", chunk).all()
            for role_id, year, group_id, count, seats in over:
                ident = f"{ROLE_TWICE}:{role_id}:{year}:{group_id}"
                self.review(op, kind=ROLE_TWICE, table="role", key=_json([role_id]),
                            name=str(year), kept=count, lost=seats, ident=ident)
        self.assignments.clear()

    def repair_references(self, op: SharedOp | None) -> None:
        """Rows left pointing at a row another PC deleted (checks are deferred while
        applying): an optional reference is cleared, a row that needs its parent goes, and
        both are listed. The same on every PC, as the log is."""
        if op is None:
            return
        broken = self._sql("PRAGMA foreign_key_check").all()
        for table, rowid, _parent, fk_index in broken:
            info = self.schema.tables.get(table)
            found = self._sql(f"SELECT {info.key_json} FROM {info.quoted} WHERE rowid = ?",
                              (rowid,)).first() \
                if info is not None else None
            if info is None or found is None:
                continue
            key = str(found[0])
            columns = [row[3] for row in self._sql(f"PRAGMA foreign_key_list({quoted(table)})")
                       if row[0] == fk_index]
            row = self.row(table, key) or {}
            if all(column in info.nullable for column in columns):
                self.update(table, key, dict.fromkeys(columns))
                self.review(op, kind=EDIT_AFTER_DELETE, table=table, key=key,
                            name=columns[0], lost=row.get(columns[0]))
            else:
                self.delete(table, key)
                self.bury(op, table, key, row)
                self.review(op, kind=EDIT_AFTER_DELETE, table=table, key=key, lost=row)

    def refresh_households(self) -> None:
        """Derived columns of households whose facts two PCs changed at once."""
        if not self.recompute:
            return
        from desktop.domain.households import refresh_derived

        refresh_derived(self.session, household_ids=[uuid.UUID(hex=h) for h in self.recompute])
        self.recompute.clear()


def apply_shared(session: Session, ops: Iterable[SharedOp]) -> SharedApplied:
    """Apply shared operations in the relay's order (the caller's transaction)."""
    applier = _Applier(session)
    applier._sql("PRAGMA defer_foreign_keys = ON")  # checked and repaired at the end
    last: SharedOp | None = None
    with muted(session):
        for op in ops:
            last = op
            mine = applier.own.ops.get(op.op_id)
            if mine is not None:
                applier.echo(op, mine)
            else:
                applier.remote(op)
            applier.check_seats(op)
        applier.repair_references(last)
        applier.refresh_households()
    session.expire_all()
    return SharedApplied(applier.rows, applier.reviews, applier.echoed)
