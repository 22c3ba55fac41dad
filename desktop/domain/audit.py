"""The audit trail: who changed what and when (old → new), append-only and hash-chained.

Every ORM write to the tables in :data:`TRACKED` is recorded by itself: Session events read
each flush (new rows, the attribute history of changed ones, deleted rows) and append one
record per row, in the same transaction, under the actor :func:`attach` named for the
session (``AssociationFile.write()`` attaches the file's actor; without one the actor is
""). Writes that bypass the ORM (bulk inserts with the driver's ``executemany``, Core
``update``/``delete``) record themselves with :func:`record_many` (one ``executemany``) or
:func:`record_deletions`. Inside :func:`paused` nothing is recorded (a bundle import restores
the trail itself).

A record tied to a household keeps the household's personal data only in ``changes`` (values
and the :data:`~desktop.domain.audit_chain.LABEL_KEY` name), which a purge can redact; its
``summary``, covered by the hash, holds only the household number or the thing's own name.
Not recorded: the sync tables, import mappings, read markers (``circular_read``: residents'
page views, many and not changes of record), attachments' data, and the trail itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, event, inspect, select
from sqlalchemy.orm import InstanceState, SessionTransaction, UOWTransaction
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from desktop.domain import audit_chain
from desktop.domain.audit_chain import (
    LABEL_KEY,
    AuditEntryData,
    ChainProblem,
    ChainReport,
    plain,
    redact_household,
    verify_chain,
)
from desktop.domain.audit_history import RELAY_ACTOR, AuditEntry, export_history, history

__all__ = [
    "LABEL_KEY",
    "RELAY",
    "Actor",
    "AuditEntry",
    "AuditEntryData",
    "ChainProblem",
    "ChainReport",
    "attach",
    "current_actor",
    "export_history",
    "history",
    "is_paused",
    "paused",
    "record",
    "record_deletions",
    "record_inserts",
    "record_many",
    "redact_household",
    "verify_chain",
]

_ACTOR = "kairan_audit_actor"
_PAUSED = "kairan_audit_paused"
_PENDING = "kairan_audit_pending"
_TAIL = "kairan_audit_tail"


@dataclass(frozen=True)
class Actor:
    """Who is writing: an officer profile's name (and id), or a name alone."""

    name: str
    profile_id: uuid.UUID | None = None


# What residents did, applied from the relay (their answers, read on the resident page), is
# recorded under this actor rather than the officer at the PC.
RELAY = Actor(name=RELAY_ACTOR)


def attach(session: Session, actor: Actor | None) -> None:
    """Record the changes of ``session`` under ``actor`` (None: no one named, actor "")."""
    session.info[_ACTOR] = actor


def current_actor(session: Session) -> Actor | None:
    """The actor attached to ``session``."""
    actor = session.info.get(_ACTOR)
    return actor if isinstance(actor, Actor) else None


@contextmanager
def paused(session: Session) -> Iterator[None]:
    """Writes inside are not recorded (restoring a bundle, whose trail comes with it)."""
    session.flush()  # what was written before the pause is recorded as usual
    session.info[_PAUSED] = session.info.get(_PAUSED, 0) + 1
    try:
        yield
    finally:
        session.flush()  # still paused: what was written inside is not recorded
        session.info[_PAUSED] -= 1
        session.info.pop(_TAIL, None)  # records may have been written directly meanwhile


def is_paused(session: Session) -> bool:
    """Whether recording is paused for ``session``."""
    return bool(session.info.get(_PAUSED, 0))


def record(session: Session, *, action: str, entity: str, entity_id: str,
           household_id: uuid.UUID | None = None, summary: str = "",
           changes: Mapping[str, tuple[object, object]] | None = None) -> None:
    """Record one change written without the ORM (Core or driver statements)."""
    record_many(session, [AuditEntryData(action, entity, entity_id, household_id, summary,
                                         dict(changes or {}))])


def record_many(session: Session, entries: Iterable[AuditEntryData], *,
                already_plain: bool = False) -> int:
    """Record changes written without the ORM, with one ``executemany``; returns how many.

    ``already_plain``: the changes hold plain JSON values only (str, int, float, bool, None,
    lists and string-keyed dicts of them), so the conversion of ids, dates and enumerations
    is skipped (bulk paths that build them so).
    """
    if is_paused(session):
        return 0
    batch = list(entries)
    if not batch:
        return 0
    actor = current_actor(session)
    after = session.info.get(_TAIL) or audit_chain.tail(session)
    session.info[_TAIL] = audit_chain.append(
        session, batch, after=after, actor=actor.name if actor else "",
        profile_id=actor.profile_id if actor else None, at=datetime.now(UTC),
        already_plain=already_plain)
    return len(batch)


# ---------------------------------------------------------------- what each table records


_PREFETCH_CHUNK = 900  # ids per query: below SQLite's bound-parameter limit


class _Lookup:
    """Names of related rows for summaries (the session's objects first, then the file)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[str, object], tuple[Any, ...] | None] = {}
        self.pending = {(type(obj).__name__, _key_of(obj)): obj for obj in session.new}

    def row(self, model: type[SQLModel], key: object, *names: str) -> tuple[Any, ...] | None:
        """``names`` of the ``model`` row whose id is ``key`` (None if there is none)."""
        if key is None:
            return None
        cache_key = (f"{model.__name__}:{','.join(names)}", key)
        if cache_key in self.cache:
            return self.cache[cache_key]
        obj = self.session.identity_map.get((model, (key,), None)) or self.pending.get(
            (model.__name__, (key,)))
        found: tuple[Any, ...] | None
        if obj is not None:
            found = tuple(getattr(obj, name) for name in names)
        else:
            table = _table_of(model)
            row = self.session.connection().exec_driver_sql(
                f"SELECT {', '.join(names)} FROM {table} WHERE id = ?",
                (key.hex if isinstance(key, uuid.UUID) else key,)).fetchone()
            found = tuple(row) if row is not None else None
        self.cache[cache_key] = found
        return found

    def prefetch(self, model: type[SQLModel], keys: Iterable[object], *names: str) -> None:
        """Read ``names`` of many ``model`` rows at once, for :meth:`row` to find (a pull
        from the relay records tens of thousands of answers, one household each)."""
        table = _table_of(model)
        prefix = f"{model.__name__}:{','.join(names)}"
        identity = self.session.identity_map
        wanted = {key for key in keys if isinstance(key, uuid.UUID)
                  and (prefix, key) not in self.cache  # the session's own objects come first
                  and identity.get((model, (key,), None)) is None
                  and (model.__name__, (key,)) not in self.pending}
        by_hex = {key.hex: key for key in wanted}
        hexes = sorted(by_hex)
        for start in range(0, len(hexes), _PREFETCH_CHUNK):
            chunk = hexes[start:start + _PREFETCH_CHUNK]
            found = self.session.connection().exec_driver_sql(
                f"SELECT id, {', '.join(names)} FROM {table} "
                f"WHERE id IN ({', '.join('?' * len(chunk))})", tuple(chunk)).fetchall()
            for row in found:
                self.cache[(prefix, by_hex[row[0]])] = tuple(row[1:])
        for key in wanted:
            self.cache.setdefault((prefix, key), None)

    def one(self, model: type[SQLModel], key: object, name: str) -> Any:
        """One column of a related row, or None."""
        row = self.row(model, key, name)
        return row[0] if row is not None else None


def _key_of(obj: object) -> tuple[object, ...]:
    mapper = inspect(type(obj))
    return tuple(getattr(obj, column.key) for column in mapper.primary_key)


Values = Mapping[str, Any]


@dataclass(frozen=True)
class _Spec:
    """How rows of one table are recorded."""

    household: Callable[[Values, _Lookup], object] = lambda _v, _l: None
    summary: Callable[[Values, _Lookup], object] = lambda _v, _l: ""
    label: Callable[[Values, _Lookup], object] | None = None  # personal: kept in changes
    skip: frozenset[str] = frozenset()


_MODELS: dict[str, type[SQLModel]] = {}


def _table_of(model: type[SQLModel]) -> str:
    return str(model.__table__.name)  # type: ignore[attr-defined]


def _models() -> dict[str, type[SQLModel]]:
    if not _MODELS:
        from desktop.domain import models

        _MODELS.update({_table_of(cls): cls for cls in vars(models).values()
                        if isinstance(cls, type) and issubclass(cls, SQLModel)
                        and hasattr(cls, "__table__")})
    return _MODELS


def _tracked() -> dict[str, _Spec]:
    from desktop.domain.models import Circular, Household, Meeting, Member, Role

    def number(household_id: object, lookup: _Lookup) -> object:
        return lookup.one(Household, household_id, "number") or ""

    def member_household(member_id: object, lookup: _Lookup) -> object:
        household = lookup.one(Member, member_id, "household_id")
        return uuid.UUID(hex=household) if isinstance(household, str) else household

    def voter(v: Values, lookup: _Lookup) -> tuple[Any, ...] | None:
        meeting_id = v.get("meeting_id")
        if meeting_id is None:
            return None
        key = ("voter", (meeting_id, v.get("voter_key")))
        if key not in lookup.cache:
            lookup.cache[key] = lookup.session.connection().exec_driver_sql(
                "SELECT household_id, number, name FROM meeting_voter "
                "WHERE meeting_id = ? AND key = ?",
                (meeting_id.hex, v.get("voter_key"))).fetchone()
        return lookup.cache[key]

    def circular(v: Values, lookup: _Lookup) -> object:
        return lookup.one(Circular, v.get("circular_id"), "title") or ""

    def meeting(v: Values, lookup: _Lookup) -> object:
        return lookup.one(Meeting, v.get("meeting_id"), "title") or ""

    def role(role_id: object, lookup: _Lookup) -> str:
        return str(lookup.one(Role, role_id, "name") or "")

    own = _Spec(summary=lambda v, _l: v.get("name", ""))
    return {
        "association": own,
        "household": _Spec(
            household=lambda v, _l: v.get("id"), summary=lambda v, _l: v.get("number", ""),
            label=lambda v, _l: v.get("display_name"),
            skip=frozenset({"search_text", "furigana_key", "member_count"})),
        "member": _Spec(
            household=lambda v, _l: v.get("household_id"),
            summary=lambda v, lookup: number(v.get("household_id"), lookup),
            label=lambda v, _l: v.get("name")),
        "roster_group": own,
        "role": own,
        "role_assignment": _Spec(
            household=lambda v, lookup: member_household(v.get("member_id"), lookup),
            summary=lambda v, lookup: f"{role(v.get('role_id'), lookup)} {v.get('year')}",
            label=lambda v, lookup: lookup.one(Member, v.get("member_id"), "name")),
        "role_conflict": _Spec(summary=lambda v, lookup: (
            f"{role(v.get('role_id'), lookup)} / {role(v.get('other_role_id'), lookup)}")),
        "circular": _Spec(summary=lambda v, _l: v.get("title", "")),
        # The picture or PDF itself is not copied into the trail: its name, kind and place.
        "circular_attachment": _Spec(
            summary=lambda v, lookup: f"{circular(v, lookup)} {v.get('file_name', '')}".strip(),
            skip=frozenset({"data"})),
        "meeting_rules": _Spec(),  # one row: the history names the table
        "reply": _Spec(household=lambda v, _l: v.get("household_id"), summary=circular),
        "meeting": _Spec(summary=lambda v, _l: v.get("title", "")),
        "meeting_item": _Spec(summary=lambda v, _l: v.get("title", "")),
        "meeting_voter": _Spec(household=lambda v, _l: v.get("household_id"),
                               summary=lambda v, _l: v.get("number", ""),
                               label=lambda v, _l: v.get("name")),
        "meeting_entry": _Spec(
            household=lambda v, lookup: _hex_id((voter(v, lookup) or (None,))[0]),
            summary=lambda v, lookup: f"{meeting(v, lookup)} {(voter(v, lookup) or ('', ''))[1]}"
            .strip(),
            label=lambda v, lookup: (voter(v, lookup) or (None, None, None))[2]),
        "meeting_floor_vote": _Spec(summary=meeting),
        "safety_answer": _Spec(household=lambda v, _l: v.get("household_id"),
                               summary=lambda v, lookup: number(v.get("household_id"), lookup)),
        "disaster_event": _Spec(summary=lambda v, _l: str(v.get("message") or "")[:60]),
        "handover": _Spec(summary=lambda v, _l: str(v.get("year", ""))),
        "handover_memo": _Spec(summary=lambda v, lookup: (
            f"{v.get('year', '')} {role(v.get('role_id'), lookup)}").strip()),
        "officer_profile": _Spec(summary=lambda v, _l: v.get("name", "")),
    }


def _hex_id(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID) or value is None:
        return value
    return uuid.UUID(hex=str(value))


_SPECS: dict[str, _Spec] = {}


def tracked_tables() -> frozenset[str]:
    """The tables whose ORM writes are recorded."""
    return frozenset(_specs())


def _specs() -> dict[str, _Spec]:
    if not _SPECS:
        _SPECS.update(_tracked())
    return _SPECS


# Secrets are recorded only as whether there is one: (table, column) → the name recorded.
_SECRETS = {("officer_profile", "pin_hash"): "pin"}


def _without_secrets(table: str, pairs: Mapping[str, tuple[object, object]]
                     ) -> dict[str, tuple[object, object]]:
    shown: dict[str, tuple[object, object]] = {}
    for key, (old, new) in pairs.items():
        name = _SECRETS.get((table, key))
        if name is None:
            shown[key] = (old, new)
        else:
            shown[name] = (None if old is None else bool(old), None if new is None else bool(new))
    return shown


def _empty(value: object) -> bool:
    """Left out of an added or deleted row's record: nothing to say (False is the default)."""
    return value is None or value is False or value in ("", [], {})


# Never recorded as changes: time stamps the record has itself, and the household link the
# record keeps in its own ``household_id``.
_ALWAYS_SKIPPED = frozenset({"created_at", "updated_at", "household_id"})


@dataclass(frozen=True, slots=True)
class _Shape:
    """What :func:`entry_for` needs of a tracked table, worked out once per table."""

    spec: _Spec
    keys: tuple[str, ...]  # the primary key's columns
    leave_out: frozenset[str]  # never recorded as changes
    has_secrets: bool


_SHAPES: dict[str, _Shape] = {}


def _shape(table: str) -> _Shape:
    shape = _SHAPES.get(table)
    if shape is None:
        spec = _specs()[table]
        keys = tuple(column.key for column in inspect(_models()[table]).primary_key)
        shape = _SHAPES[table] = _Shape(
            spec, keys, spec.skip | _ALWAYS_SKIPPED | frozenset(keys),
            any(secret_table == table for secret_table, _column in _SECRETS))
    return shape


def entry_for(session: Session, table: str, action: str, values: Values,
              changes: Mapping[str, tuple[object, object]] | None = None, *,
              lookup: _Lookup | None = None) -> AuditEntryData:
    """The record of one row of a tracked ``table``: ``values`` are its columns (the old
    ones for a delete), ``changes`` the (old, new) of an update. An added or deleted row's
    changes come out as plain JSON values (see ``record_many``'s ``already_plain``)."""
    shape = _shape(table)
    lookup = lookup or _Lookup(session)
    entity_id = ":".join(str(plain(values.get(key))) for key in shape.keys)
    recorded: dict[str, object]
    pairs: dict[str, tuple[object, object]]
    if changes is None:  # bulk inserts run through here, tens of thousands of rows at once
        inserted = action == "insert"
        pairs = {key: (None, plain(value)) if inserted else (plain(value), None)
                 for key, value in values.items() if key not in shape.leave_out}
        if shape.has_secrets:
            pairs = _without_secrets(table, pairs)
        recorded = {key: [old, new] for key, (old, new) in pairs.items()
                    if not _empty(new if inserted else old)}
    else:
        pairs = {key: pair for key, pair in changes.items() if key not in shape.leave_out}
        if shape.has_secrets:
            pairs = _without_secrets(table, pairs)
        recorded = {key: [old, new] for key, (old, new) in pairs.items()}
    spec = shape.spec
    if spec.label is not None:
        label = spec.label(values, lookup)
        if label:
            recorded[LABEL_KEY] = str(label)
    household = spec.household(values, lookup)
    return AuditEntryData(action, table, entity_id, _hex_id(household),
                          str(spec.summary(values, lookup) or ""), recorded)


def record_deletions(session: Session, model: type[SQLModel],
                     *where: ColumnElement[bool]) -> int:
    """Record the rows of ``model`` matching ``where`` as deleted: call it just before a
    Core ``delete`` with the same conditions. Returns how many."""
    if is_paused(session):
        return 0
    table = _table_of(model)
    columns = list(model.__table__.columns)  # type: ignore[attr-defined]
    rows = [dict(row) for row in session.execute(select(*columns).where(*where)).mappings()]
    lookup = _Lookup(session)
    return record_many(session, [entry_for(session, table, "delete", row, lookup=lookup)
                                 for row in rows], already_plain=True)


def record_inserts(session: Session, model: type[SQLModel],
                   rows: Sequence[Mapping[str, object]]) -> int:
    """Record rows of ``model`` inserted with a Core ``insert`` (values as given to it, by
    attribute name, ids as UUIDs). Returns how many."""
    if is_paused(session):
        return 0
    table = _table_of(model)
    lookup = _Lookup(session)
    if rows and "household_id" in rows[0]:  # their summaries name the household's number
        from desktop.domain.models import Household

        lookup.prefetch(Household, (row.get("household_id") for row in rows), "number")
    return record_many(session, [entry_for(session, table, "insert", row, lookup=lookup)
                                 for row in rows], already_plain=True)


# ---------------------------------------------------------------- the ORM's writes


def _columns(state: InstanceState[Any]) -> list[str]:
    return [attr.key for attr in state.mapper.column_attrs]


def _updated(state: InstanceState[Any]) -> dict[str, tuple[object, object]]:
    changes: dict[str, tuple[object, object]] = {}
    for key in _columns(state):
        history = state.attrs[key].load_history()
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if plain(old) != plain(new):
            changes[key] = (old, new)
    return changes


def _capture(session: Session) -> list[AuditEntryData]:
    specs = _specs()
    lookup = _Lookup(session)
    entries: list[AuditEntryData] = []
    for obj in list(session.new):
        state = inspect(obj)
        table = state.mapper.local_table.name
        if table in specs:
            values = {key: getattr(obj, key) for key in _columns(state)}
            entries.append(entry_for(session, table, "insert", values, lookup=lookup))
    for obj in list(session.dirty):
        state = inspect(obj)
        table = _table_of(state.class_)
        if table not in specs:
            continue
        changes = _updated(state)
        spec = specs[table]
        if any(key not in spec.skip and key not in _ALWAYS_SKIPPED for key in changes):
            values = {key: getattr(obj, key) for key in _columns(state)}
            entries.append(entry_for(session, table, "update", values, changes, lookup=lookup))
    for obj in list(session.deleted):
        state = inspect(obj)
        table = state.mapper.local_table.name
        if table in specs:
            values = {key: _committed(state, key) for key in _columns(state)}
            entries.append(entry_for(session, table, "delete", values, lookup=lookup))
    return entries


def _committed(state: InstanceState[Any], key: str) -> object:
    """The value a deleted row had in the file (before any change made in this session)."""
    history = state.attrs[key].load_history()
    if history.deleted:
        return history.deleted[0]
    return state.attrs[key].value


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    if is_paused(session):
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = _capture(session)


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    entries: Sequence[AuditEntryData] = session.info.pop(_PENDING, ())
    if entries:
        record_many(session, entries)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_tail(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint or transaction that ends may take its records with it: read the tail
    # again. (Each flush runs in a subtransaction of its own; those keep the tail.)
    if transaction.nested or transaction.parent is None:
        session.info.pop(_TAIL, None)
        session.info.pop(_PENDING, None)
