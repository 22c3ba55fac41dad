"""The office API (protocol v1): pairing, pushing operations, pulling the log, and the newest
Kairan release the relay's operator recorded (``GET /release``).

``POST /ops`` applies a batch in one write transaction: each op is looked up by its id (the
idempotency key) first — a repeat answers ``duplicate`` with the stored result, a reused id with
another body ``id_reused`` — then checked and applied. A bad op is rejected with a code and a
message and the rest go on: handlers check what they need before writing anything, so one op
never leaves a half-done change that would force the whole batch back. Every applied op gets the
next sequence number of the association's log in the same transaction.

Pipelined pushes: the body may also carry ``"batch": "<uuid>"`` and ``"after": "<uuid of the
previous batch>"`` (both optional; without them a push is applied as it always was). A batch with
``after`` is applied only once the batch ``after`` of the same device token was applied (answered)
by this relay process: it waits for it up to :data:`sync.protocol.CHAIN_WAIT_SECONDS`, and when that
batch stays unknown, or was refused as a whole (400, 401, 409, 413, 429 …), it is answered 409
``out_of_order`` and nothing of it is applied. The pushes ready to go are applied by
:mod:`sync.relay.push_queue`, several in one write transaction with one commit, each answered
after that commit; per-op results are the same as for a push on its own. The hot writes (the log,
the op records, households, invitations, recipients) are written out for the driver, a few
multi-row statements per batch (see :func:`_driver_sql`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from desktop.i18n import _
from sync.protocol import (
    AFTER_FIELD,
    BATCH_FIELD,
    CHANNELS,
    DEFAULT_LOG_LIMIT,
    LOG_PATH,
    MAX_ADDRESS,
    MAX_AGENDA_ITEMS,
    MAX_LOG_LIMIT,
    MAX_MAIL_ADDRESSES,
    MAX_OPS_PER_REQUEST,
    OPENAPI_PATH,
    OPS_PATH,
    PAIR_PATH,
    SAFETY_STATUSES,
    ErrorCode,
    LogPage,
    Op,
    OpKind,
    OpResult,
    OpStatus,
    ProtocolError,
    RejectCode,
    check_op,
    is_batch_id,
    text_fingerprint,
)
from sync.relay import releases, replica_api, tables
from sync.relay.auth import (
    RequestRefused,
    bearer_token,
    office_holder,
    office_token,
    redeem_pairing_code,
)
from sync.relay.db import Database, current_epoch, driver_value, iso, now, param_mark
from sync.relay.mail.enqueue import MailPlan
from sync.relay.ratelimit import RateLimiter

MAX_DEVICE_NAME = 200


# ---------------------------------------------------------------- applying ops


@dataclass(frozen=True, slots=True)
class _Statements:
    """The writes ops make, built once per dialect and run with many parameter sets each."""

    household_upsert: Any
    household_delete: Any
    log_delete_households: Any
    recipients_delete_household: Any
    invitation_upsert: Any
    invitation_delete: Any
    tokens_delete: Any
    circular_upsert: Any
    recipients_delete_circular: Any
    recipients_insert: Any
    circular_delete: Any
    disaster_update: Any
    profile_update: Any


def _upsert_statement(dialect_name: str, table: Table, keys: tuple[str, ...]) -> Any:
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    statement = dialect.insert(table)
    changes = {c.name: statement.excluded[c.name] for c in table.c if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)


def _delete_by(table: Table, *columns: str) -> Any:
    statement = delete(table)
    for name in columns:
        statement = statement.where(table.c[name] == bindparam(f"p_{name}"))
    return statement


@cache
def _statements(dialect_name: str) -> _Statements:
    t = tables
    return _Statements(
        household_upsert=_upsert_statement(dialect_name, t.household,
                                           ("association_id", "household_id")),
        household_delete=_delete_by(t.household, "association_id", "household_id"),
        log_delete_households=(
            delete(t.log).where(t.log.c.association_id == bindparam("p_association_id"))
            .where(t.log.c.household_id.in_(bindparam("p_household_ids", expanding=True)))),
        recipients_delete_household=_delete_by(t.circular_recipient, "association_id",
                                               "household_id"),
        invitation_upsert=_upsert_statement(dialect_name, t.invitation,
                                            ("association_id", "household_id")),
        invitation_delete=_delete_by(t.invitation, "association_id", "household_id"),
        tokens_delete=_delete_by(t.token, "association_id", "household_id"),
        circular_upsert=_upsert_statement(dialect_name, t.circular,
                                          ("association_id", "circular_id")),
        recipients_delete_circular=_delete_by(t.circular_recipient, "association_id",
                                              "circular_id"),
        recipients_insert=insert(t.circular_recipient),
        circular_delete=_delete_by(t.circular, "association_id", "circular_id"),
        disaster_update=(update(t.association)
                         .where(t.association.c.id == bindparam("p_association_id"))
                         .values(disaster_on=bindparam("p_on"),
                                 disaster_message=bindparam("p_message"),
                                 disaster_changed_at=bindparam("p_at"))),
        profile_update=(update(t.association)
                        .where(t.association.c.id == bindparam("p_association_id"))
                        .values(purpose_statement=bindparam("p_purpose_statement"))),
    )


# The statements every batch runs, written out for the driver (``exec_driver_sql``) with one
# VALUES row per op: building and binding Core statements per row cost more than SQLite's own
# work, and one step into the driver per statement (not one per row, as executemany takes)
# leaves the GIL fewer times while the event loop serves other requests.
_HOUSEHOLD_COLUMNS = ("association_id", "household_id", "number", "display_name", "group_id",
                      "group_name", "updated_at")
_INVITATION_COLUMNS = ("association_id", "household_id", "code_hash", "issued_at")
_LOG_COLUMNS = ("association_id", "seq", "kind", "body", "at", "household_id")
_APPLIED_COLUMNS = ("association_id", "op_id", "fingerprint", "seq", "applied_at")
_RECIPIENT_COLUMNS = ("association_id", "circular_id", "household_id")
# Rows per statement: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters.
_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True, slots=True)
class _DriverSql:
    """One dialect's raw forms of the hot statements (see :func:`_driver_sql`)."""

    mark: str  # the driver's parameter marker
    household_upsert: str  # … VALUES + rows + conflict clause
    invitation_upsert: str
    log_insert: str
    applied_insert: str
    recipients_insert: str
    earlier_ops: str  # … IN ( + marks + )
    existing_households: str
    lock_counter: str  # as sync.relay.db.lock_counter: the row locked on PostgreSQL
    set_counter: str
    to_driver_time: Callable[[Any], Any]  # a DateTime(timezone=True) value as bound


def _insert_head(table: Table, columns: tuple[str, ...], quote: Callable[[str], str]) -> str:
    return f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "


def _on_conflict(keys: tuple[str, ...], columns: tuple[str, ...],
                 quote: Callable[[str], str]) -> str:
    changes = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in keys)
    return f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {changes}"


@cache
def _driver_sql(dialect: Any) -> _DriverSql:
    """The hot statements for ``dialect`` (SQLite and PostgreSQL share the SQL: both know
    ``ON CONFLICT … DO UPDATE``); values are bound as the columns' SQLAlchemy types would."""
    quote = dialect.identifier_preparer.quote
    t = tables
    key = ("association_id", "household_id")
    mark = param_mark(dialect)
    return _DriverSql(
        mark=mark,
        household_upsert=_insert_head(t.household, _HOUSEHOLD_COLUMNS, quote) + "{rows}"
        + _on_conflict(key, _HOUSEHOLD_COLUMNS, quote),
        invitation_upsert=_insert_head(t.invitation, _INVITATION_COLUMNS, quote) + "{rows}"
        + _on_conflict(key, _INVITATION_COLUMNS, quote),
        log_insert=_insert_head(t.log, _LOG_COLUMNS, quote) + "{rows}",
        applied_insert=_insert_head(t.applied_op, _APPLIED_COLUMNS, quote) + "{rows}",
        recipients_insert=_insert_head(t.circular_recipient, _RECIPIENT_COLUMNS, quote)
        + "{rows}",
        earlier_ops=(f"SELECT {quote('op_id')}, {quote('fingerprint')}, {quote('seq')} FROM "
                     f"{quote(t.applied_op.name)} WHERE {quote('association_id')} = {{mark}} "
                     f"AND {quote('op_id')} IN ({{marks}})"),
        existing_households=(f"SELECT {quote('household_id')} FROM {quote(t.household.name)} "
                             f"WHERE {quote('association_id')} = {{mark}} AND "
                             f"{quote('household_id')} IN ({{marks}})"),
        lock_counter=(f"SELECT {quote('last_seq')} FROM {quote(t.association.name)} WHERE "
                      f"{quote('id')} = {mark}" + ("" if dialect.name == "sqlite"
                                                   else " FOR UPDATE")),
        set_counter=(f"UPDATE {quote(t.association.name)} SET {quote('last_seq')} = {mark} "
                     f"WHERE {quote('id')} = {mark}"),
        to_driver_time=driver_value(t.applied_op.c.applied_at, dialect),
    )


def _insert_rows(connection: Connection, template: str, mark: str,
                 rows: list[tuple[Any, ...]]) -> None:
    """Run an INSERT ``template`` (``{rows}`` to fill) over ``rows``, many rows a statement."""
    if not rows:
        return
    row = f"({', '.join([mark] * len(rows[0]))})"
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        part = rows[start:start + _ROWS_PER_STATEMENT]
        connection.exec_driver_sql(template.format(rows=", ".join([row] * len(part))),
                                   tuple(value for one in part for value in one))


def _select_in(connection: Connection, template: str, mark: str, first: str,
               keys: list[str]) -> list[Any]:
    """Rows of a SELECT ``template`` for ``first`` (the association) and ``keys``."""
    found: list[Any] = []
    for start in range(0, len(keys), _ROWS_PER_STATEMENT):
        part = keys[start:start + _ROWS_PER_STATEMENT]
        found += connection.exec_driver_sql(
            template.format(mark=mark, marks=", ".join([mark] * len(part))),
            (first, *part)).all()
    return found


@dataclass(slots=True)
class _Batch:
    """The net effect of one batch of ops on the residents' tables, written at the end with
    one executemany per statement, so a batch costs a handful of statements however long.

    Ops are planned in order; what a later op undoes is dropped from the plan (a purge drops
    the household's pending upsert, invitation and recipient rows). The writes then run in
    phases that keep every order that matters: deletes first (they commute with each other),
    then the newest values of households and circulars, then the rows that depend on them
    (invitations, recipients), then the disaster flag, the log and the op records.

    ``households`` tracks which households exist as the batch goes (read once for the ones
    invitations and mail addresses name), and ``circulars`` the circulars re-sends name, so
    that checks see the effects of earlier ops of the same batch. ``mail`` plans the e-mail
    channel's share (addresses, mails queued or cancelled), written last, in op order."""

    association_id: str
    at: datetime
    sql: _Statements
    raw: _DriverSql
    bound_at: Any  # ``at`` as the driver takes it for a timestamp column
    households: dict[str, bool]
    mail: MailPlan
    circulars: dict[str, bool] = field(default_factory=dict)
    deletes: dict[tuple[str, str], Any] = field(default_factory=dict)  # (statement, key)
    household_rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # as bound
    circular_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    invitation_rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # as bound
    recipients: dict[str, list[str]] = field(default_factory=dict)
    disaster: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    purged: set[str] = field(default_factory=set)
    meetings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (kind, body)
    # As bound, in _LOG_COLUMNS' and _APPLIED_COLUMNS' order (the log's household last).
    log_rows: list[tuple[Any, ...]] = field(default_factory=list)
    applied_rows: list[tuple[Any, ...]] = field(default_factory=list)

    def delete(self, name: str, **key: str) -> None:
        """Plan the delete statement ``name`` of ``_Statements`` for one key."""
        ((column, value),) = key.items()
        self.deletes[(name, value)] = {"p_association_id": self.association_id,
                                       f"p_{column}": value}

    def run(self, connection: Connection) -> None:
        """Write the plan (inside the batch's transaction)."""
        self.mail.prepare(connection)
        by_statement: dict[str, list[dict[str, Any]]] = {}
        for (name, _key), parameters in self.deletes.items():
            by_statement.setdefault(name, []).append(parameters)
        for name, rows in by_statement.items():
            connection.execute(getattr(self.sql, name), rows)
        if self.purged:
            connection.execute(self.sql.log_delete_households, {
                "p_association_id": self.association_id,
                "p_household_ids": sorted(self.purged)})
        raw, mark = self.raw, self.raw.mark
        recipient_rows = [
            (self.association_id, circular_id, household_id)
            for circular_id, households in self.recipients.items()
            for household_id in sorted(set(households))]
        _insert_rows(connection, raw.household_upsert, mark, list(self.household_rows.values()))
        if self.circular_rows:
            connection.execute(self.sql.circular_upsert, list(self.circular_rows.values()))
        _insert_rows(connection, raw.invitation_upsert, mark,
                     list(self.invitation_rows.values()))
        _insert_rows(connection, raw.recipients_insert, mark, recipient_rows)
        for statement, rows in (
            (self.sql.disaster_update, [self.disaster] if self.disaster else []),
            (self.sql.profile_update, [self.profile] if self.profile else []),
        ):
            if rows:
                connection.execute(statement, rows)
        # Meetings are few and write a row per voter household: their handlers (R3's, in the
        # residents' module) run one by one in op order, once the households they list exist.
        for kind, body in self.meetings:
            _meeting_handlers()[kind](connection, self.association_id, body, self.at)
        # Mails are queued in the same transaction as the circular or safety check they carry.
        self.mail.run(connection, recipients=self.recipients)
        _insert_rows(connection, raw.log_insert, mark, self.log_rows)
        _insert_rows(connection, raw.applied_insert, mark, self.applied_rows)


# An op handler plans the writes of a checked body and returns the household its log item is
# about (None when it is about none), or raises ProtocolError to reject the op.
_Handler = Callable[[_Batch, dict[str, Any]], str | None]


def _household_upsert(batch: _Batch, body: dict[str, Any]) -> str:
    household_id: str = body["household_id"]
    batch.household_rows[household_id] = (
        batch.association_id, household_id, body["number"], body["display_name"],
        body["group_id"], body["group_name"], batch.bound_at)
    batch.households[household_id] = True
    return household_id


def _household_purge(batch: _Batch, body: dict[str, Any]) -> None:
    """Every trace: its log items (those of this batch too), its place on circulars' recipient
    lists, the household row and through it (ON DELETE CASCADE) its invitation, resident
    sessions and answers. The purge item itself names the household only by its random id."""
    household_id: str = body["household_id"]
    batch.purged.add(household_id)
    for name in ("recipients_delete_household", "household_delete"):
        batch.delete(name, household_id=household_id)
    batch.household_rows.pop(household_id, None)
    batch.invitation_rows.pop(household_id, None)
    for households in batch.recipients.values():
        while household_id in households:
            households.remove(household_id)
    batch.log_rows = [row for row in batch.log_rows if row[-1] != household_id]
    batch.households[household_id] = False
    batch.mail.purge(household_id)


def _invitation_issue(batch: _Batch, body: dict[str, Any]) -> str:
    household_id: str = body["household_id"]
    if not batch.households.get(household_id, False):
        raise ProtocolError(RejectCode.NOT_FOUND, _(
            "The relay has no household {id}: send the household before its invitation."
        ).format(id=household_id))
    batch.invitation_rows[household_id] = (batch.association_id, household_id,
                                           body["code_hash"], batch.bound_at)
    return household_id


def _invitation_revoke(batch: _Batch, body: dict[str, Any]) -> str:
    """The code stops working and the household's phones are signed out (their session
    tokens are deleted: they answer 401 from now on)."""
    household_id: str = body["household_id"]
    batch.invitation_rows.pop(household_id, None)
    batch.delete("invitation_delete", household_id=household_id)
    batch.delete("tokens_delete", household_id=household_id)
    return household_id


def _circular_publish(batch: _Batch, body: dict[str, Any]) -> None:
    """Publishing again replaces the circular and its recipient list."""
    circular_id: str = body["circular_id"]
    batch.circular_rows[circular_id] = {
        "association_id": batch.association_id, "circular_id": circular_id,
        "title": body["title"], "body": body["body"], "issued_on": body["issued_on"],
        "issuer": body["issuer"], "ask": body["ask"], "questions": body["questions"],
        "deadline": body["deadline"], "published_at": batch.at}
    batch.delete("recipients_delete_circular", circular_id=circular_id)
    batch.recipients[circular_id] = list(body["household_ids"])
    batch.circulars[circular_id] = True
    batch.mail.publish(circular_id)


def _circular_retract(batch: _Batch, body: dict[str, Any]) -> None:
    """Its recipients and residents' answers go with it (ON DELETE CASCADE); its mails not
    yet sent are cancelled."""
    circular_id: str = body["circular_id"]
    batch.circular_rows.pop(circular_id, None)
    batch.recipients.pop(circular_id, None)
    batch.delete("circular_delete", circular_id=circular_id)
    batch.circulars[circular_id] = False
    batch.mail.retract(circular_id)


def _disaster_set(batch: _Batch, body: dict[str, Any]) -> None:
    """Switching it on mails the safety check to every household with an address."""
    batch.disaster = {"p_association_id": batch.association_id, "p_on": body["on"],
                      "p_message": body["message"], "p_at": batch.at}
    batch.mail.disaster(bool(body["on"]))


def _mail_addresses(batch: _Batch, body: dict[str, Any]) -> str:
    """The household's addresses replace its list (``[]``: it is not on e-mail)."""
    household_id: str = body["household_id"]
    if body["addresses"] and not batch.households.get(household_id, False):
        raise ProtocolError(RejectCode.NOT_FOUND, _(
            "The relay has no household {id}: send the household before its e-mail "
            "addresses.").format(id=household_id))
    batch.mail.addresses(household_id, body["addresses"])
    return household_id


def _mail_resend(batch: _Batch, body: dict[str, Any]) -> None:
    """The circular is mailed again to those of the households it was sent to."""
    circular_id: str = body["circular_id"]
    if not batch.circulars.get(circular_id, False):
        raise ProtocolError(RejectCode.NOT_FOUND, _(
            "The relay has no circular {id} (it was retracted or never published), so it "
            "cannot be mailed again.").format(id=circular_id))
    batch.mail.resend(circular_id, body["household_ids"])


def _answer_record(_batch: _Batch, body: dict[str, Any]) -> str:
    """Only the log: other office PCs of the association learn the answer (or the safety
    answer an officer gathered) from it."""
    return str(body["household_id"])


def _association_profile(batch: _Batch, body: dict[str, Any]) -> None:
    batch.profile = {"p_association_id": batch.association_id,
                     "p_purpose_statement": body["purpose_statement"]}


def _meeting_op(batch: _Batch, body: dict[str, Any], *, kind: str) -> None:
    """``meeting.publish`` / ``meeting.retract``: planned here, written by the residents'
    module at the end of the batch (see :meth:`_Batch.run`)."""
    batch.meetings.append((kind, body))


@cache
def _meeting_handlers() -> Mapping[str, Callable[[Connection, str, Mapping[str, Any], datetime],
                                                 None]]:
    # Imported late: the residents' module brings its templates and is optional for the app.
    from sync.relay.residents import MEETING_HANDLERS

    return MEETING_HANDLERS


HANDLERS: dict[str, _Handler] = {
    OpKind.HOUSEHOLD_UPSERT: _household_upsert,
    OpKind.HOUSEHOLD_PURGE: _household_purge,
    OpKind.INVITATION_ISSUE: _invitation_issue,
    OpKind.INVITATION_REVOKE: _invitation_revoke,
    OpKind.CIRCULAR_PUBLISH: _circular_publish,
    OpKind.CIRCULAR_RETRACT: _circular_retract,
    OpKind.DISASTER_SET: _disaster_set,
    OpKind.ANSWER_RECORD: _answer_record,
    OpKind.SAFETY_RECORD: _answer_record,
    OpKind.ASSOCIATION_PROFILE: _association_profile,
    OpKind.MEETING_PUBLISH: partial(_meeting_op, kind=OpKind.MEETING_PUBLISH),
    OpKind.MEETING_RETRACT: partial(_meeting_op, kind=OpKind.MEETING_RETRACT),
    OpKind.MAIL_ADDRESSES: _mail_addresses,
    OpKind.MAIL_RESEND: _mail_resend,
}

# Ids in bodies are stored in one form (lower case), whatever case the office sent.
_ID_FIELDS = ("household_id", "circular_id", "group_id", "meeting_id", "answer_id")


def _canonical_body(body: Mapping[str, Any]) -> dict[str, Any]:
    canonical = dict(body)
    for name in _ID_FIELDS:
        value = canonical.get(name)
        if isinstance(value, str):
            canonical[name] = value.lower()
    if isinstance(canonical.get("household_ids"), list):
        canonical["household_ids"] = [h.lower() for h in canonical["household_ids"]]
    if isinstance(canonical.get("items"), list):  # a meeting's agenda
        canonical["items"] = [{**item, "item_id": item["item_id"].lower()}
                              for item in canonical["items"]]
    return canonical


_canonical_text = json.JSONEncoder(sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode  # = sync.protocol.canonical_json


def _sent_id(raw: Any) -> str:
    """The op id as the client sent it (echoed in its result), or "" when there is none."""
    sent = raw.get("id") if isinstance(raw, dict) else None
    return sent if isinstance(sent, str) else ""


def _repeated(sent: str, stored: tuple[str, int], fingerprint: str) -> OpResult:
    """The answer to an op id applied before: its stored result, or ``id_reused``."""
    if stored[0] == fingerprint:
        return OpResult(id=sent, status=OpStatus.DUPLICATE, seq=stored[1])
    return _rejected(sent, ProtocolError(RejectCode.ID_REUSED, _(
        "Operation id {id} was used before for a different change; the relay keeps the "
        "first one. This one was not applied.").format(id=sent)))


def _rejected(op_id: str, problem: ProtocolError) -> OpResult:
    return OpResult(id=op_id, status=OpStatus.REJECTED, code=problem.code,
                    message=problem.message)


def _earlier_ops(connection: Connection, association_id: str,
                 keys: list[str]) -> dict[str, tuple[str, int]]:
    if not keys:
        return {}
    raw = _driver_sql(connection.dialect)
    rows = _select_in(connection, raw.earlier_ops, raw.mark, association_id, keys)
    return {op_id: (fingerprint, int(seq)) for op_id, fingerprint, seq in rows}


def _named(raw_ops: list[Any], kinds: tuple[str, ...], field_name: str) -> list[str]:
    """The ids in ``field_name`` of the batch's ops of ``kinds`` (lower case, sorted)."""
    return sorted({str(raw["body"][field_name]).lower() for raw in raw_ops
                   if isinstance(raw, dict) and raw.get("kind") in kinds
                   and isinstance(raw.get("body"), dict)
                   and isinstance(raw["body"].get(field_name), str)})


def _existing_households(connection: Connection, association_id: str,
                         raw_ops: list[Any]) -> dict[str, bool]:
    """Which households named by the batch's invitations and mail addresses exist before it
    (one query)."""
    named = _named(raw_ops, (OpKind.INVITATION_ISSUE, OpKind.MAIL_ADDRESSES), "household_id")
    if not named:
        return {}
    raw = _driver_sql(connection.dialect)
    found = _select_in(connection, raw.existing_households, raw.mark, association_id, named)
    return {row[0]: True for row in found}


def _existing_circulars(connection: Connection, association_id: str,
                        raw_ops: list[Any]) -> dict[str, bool]:
    """Which circulars named by the batch's re-sends exist before it (one query)."""
    named = _named(raw_ops, (OpKind.MAIL_RESEND,), "circular_id")
    if not named:
        return {}
    found = connection.execute(_EXISTING_CIRCULARS, {"p_association_id": association_id,
                                                     "p_circular_ids": named})
    return dict.fromkeys(found.scalars(), True)


_EXISTING_CIRCULARS = (
    select(tables.circular.c.circular_id)
    .where(tables.circular.c.association_id == bindparam("p_association_id"))
    .where(tables.circular.c.circular_id.in_(bindparam("p_circular_ids", expanding=True)))
)


def _lock_counter(connection: Connection, raw_sql: _DriverSql, association_id: str) -> int:
    """:func:`sync.relay.db.lock_counter`, written out for the driver (SQLite's BEGIN
    IMMEDIATE holds the whole file already; PostgreSQL locks the counter row for the rest of
    the transaction); 401 when the association is gone."""
    counter = connection.exec_driver_sql(raw_sql.lock_counter, (association_id,)).first()
    if counter is None:  # the association was deleted while its token was still valid
        raise RequestRefused(401, ErrorCode.UNAUTHORIZED,
                             _("This association no longer exists on the relay."))
    return int(counter[0])


def _new_batch(connection: Connection, association_id: str, raw_ops: list[Any]) -> _Batch:
    at = now()
    raw_sql = _driver_sql(connection.dialect)
    return _Batch(association_id=association_id, at=at, sql=_statements(connection.dialect.name),
                  raw=raw_sql, bound_at=raw_sql.to_driver_time(at),
                  households=_existing_households(connection, association_id, raw_ops),
                  mail=MailPlan(association_id=association_id, at=at),
                  circulars=_existing_circulars(connection, association_id, raw_ops))


class _PreparedOp(NamedTuple):
    """One op of a batch checked and put in its canonical form (the work that needs no
    database); ``problem`` is why it is rejected (the other fields are then empty)."""

    sent: str  # the id as the client sent it
    problem: ProtocolError | None
    key: str  # the id as stored (lower case)
    kind: str
    body: dict[str, Any]  # canonical: ids in lower case
    text: str  # the body's canonical JSON
    fingerprint: str


def _prepare_ops(raw_ops: list[Any]) -> list[_PreparedOp]:
    """Check a batch's ops (as parsed from JSON) and put them in canonical form, in request
    order. (Doing it on the event loop as a request comes in, outside the write queue's
    thread, measured no faster: both hold the same GIL.)"""
    prepared: list[_PreparedOp] = []
    for raw in raw_ops:
        sent = _sent_id(raw)
        try:
            op = Op.from_json(raw)
            check_op(op)
        except ProtocolError as problem:
            prepared.append(_PreparedOp(sent, problem, "", "", {}, "", ""))
            continue
        body = _canonical_body(op.body)
        text = _canonical_text(body)
        prepared.append(_PreparedOp(sent, None, sent.lower(), op.kind, body, text,
                                   text_fingerprint(op.kind, text)))
    return prepared


def apply_ops_in(connection: Connection, *, association_id: str, raw_ops: list[Any],
                 device_id: str | None = None) -> list[OpResult]:
    """Apply a batch of ops (as parsed from JSON) inside a write transaction; results in
    request order. ``device_id`` is the pushing office device's (from its token): replica
    ops are stored under it, and refused without it."""
    ops = _prepare_ops(raw_ops)
    raw_sql = _driver_sql(connection.dialect)
    last = _lock_counter(connection, raw_sql, association_id)
    first = last
    batch = _new_batch(connection, association_id, raw_ops)
    at_text, bound_at = iso(batch.at), batch.bound_at
    earlier = _earlier_ops(connection, association_id,
                           sorted({op.key for op in ops if op.key}))
    results: list[OpResult] = []
    replica: replica_api.ReplicaGate | None = None
    log_rows, applied_rows = batch.log_rows, batch.applied_rows
    handlers = HANDLERS
    for op in ops:
        sent, key, kind, text = op.sent, op.key, op.kind, op.text
        if op.problem is not None:
            results.append(_rejected(sent, op.problem))
            continue
        stored = earlier.get(key)
        if stored is not None:
            results.append(_repeated(sent, stored, op.fingerprint))
            continue
        try:
            if kind == OpKind.REPLICA:
                # Encrypted for the other office PCs: the relay stores it with the pushing
                # device's id (from its token, never from the body) and touches nothing else.
                replica = replica or replica_api.replica_gate(
                    connection, association_id=association_id, device_id=device_id)
                text = replica.admit(sent, op.body)  # the id as sealed by the PC
                household_id = None
            else:
                household_id = handlers[kind](batch, op.body)
        except ProtocolError as problem:
            results.append(_rejected(sent, problem))
            continue
        last += 1
        if log_rows is not batch.log_rows:  # a purge filtered the list: follow it
            log_rows = batch.log_rows
        log_rows.append((association_id, last, kind, text, at_text, household_id))
        applied_rows.append((association_id, key, op.fingerprint, last, bound_at))
        earlier[key] = (op.fingerprint, last)
        results.append(OpResult(id=sent, status=OpStatus.APPLIED, seq=last))
    batch.run(connection)
    if replica is not None:
        replica.finish(connection)
    if last != first:
        connection.exec_driver_sql(raw_sql.set_counter, (last, association_id))
    return results


def apply_ops(database: Database, *, association_id: str, raw_ops: list[Any]) -> list[OpResult]:
    """Apply a batch of ops for the association in its own write transaction."""
    with database.write() as connection:
        return apply_ops_in(connection, association_id=association_id, raw_ops=raw_ops)


def read_log_in(connection: Connection, *, association_id: str, after: int, limit: int,
                epoch: str | None) -> str:
    """A page of the association's log after ``after`` as the JSON text of a :class:`LogPage`
    (bodies are stored as JSON text and copied, not parsed); 409 when ``epoch`` is not
    current."""
    log = tables.log
    current = current_epoch(connection)
    if epoch is not None and epoch != current:
        raise RequestRefused(409, ErrorCode.EPOCH_MISMATCH, _(
            "The relay's data was restored or replaced: pull everything again from the "
            "start."), extra={"epoch": current})
    rows = connection.execute(
        select(log.c.seq, log.c.kind, log.c.body, log.c.at)
        .where(log.c.association_id == association_id)
        .where(log.c.seq > after)
        .order_by(log.c.seq)
        .limit(limit + 1)
    ).all()
    dumps = json.dumps
    items = ",".join(
        f'{{"seq":{int(seq)},"kind":{dumps(kind)},"body":{body},"at":{dumps(at)}}}'
        for seq, kind, body, at in rows[:limit])
    more = "true" if len(rows) > limit else "false"
    return f'{{"epoch":{dumps(current)},"items":[{items}],"more":{more}}}'


def read_log(database: Database, *, association_id: str, after: int, limit: int,
             epoch: str | None) -> LogPage:
    """A page of the association's log after ``after``; 409 when ``epoch`` is not current."""
    with database.read() as connection:
        text = read_log_in(connection, association_id=association_id, after=after,
                           limit=limit, epoch=epoch)
    return LogPage.from_json(json.loads(text))


# ---------------------------------------------------------------- HTTP


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, _(
            "The request body is not valid JSON ({problem}).").format(problem=error)) from error


async def _json_body(request: Request) -> Any:
    return _parse_json(await request.body())


def _bad_request(message: str) -> RequestRefused:
    return RequestRefused(400, ErrorCode.BAD_REQUEST, message)


def _int_parameter(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _bad_request(_("Parameter {name} must be a whole number from {low} to {high}.")
                           .format(name=name, low=low, high=high))
    return value


@dataclass(frozen=True, slots=True)
class _PushBody:
    ops: list[Any]
    batch: str | None  # lower case
    after: str | None


def _chain_id(data: Any, name: str) -> str | None:
    """The batch id ``name`` (``batch`` or ``after``) of a push body, lower case; None when
    there is none or it is not a UUID."""
    value = data.get(name) if isinstance(data, dict) else None
    return value.lower() if isinstance(value, str) and is_batch_id(value) else None


def _push_of(data: Any) -> _PushBody:
    """The ops and batch ids of a ``POST /ops`` body (parsed JSON); 400 when malformed."""
    ops = data.get("ops") if isinstance(data, dict) else None
    if not isinstance(ops, list) or len(ops) > MAX_OPS_PER_REQUEST:
        raise _bad_request(_('The request needs "ops": a list of at most {n} operations.')
                           .format(n=MAX_OPS_PER_REQUEST))
    assert isinstance(data, dict)
    for name in (BATCH_FIELD, AFTER_FIELD):
        if data.get(name) is not None and _chain_id(data, name) is None:
            raise _bad_request(_('"{name}" must be a batch id (a UUID).').format(name=name))
    return _PushBody(ops=ops, batch=_chain_id(data, BATCH_FIELD),
                     after=_chain_id(data, AFTER_FIELD))


def _results_json(results: list[OpResult]) -> str:
    """The answer to ``POST /ops`` (``{"results": [...]}``), written out directly."""
    dumps = json.dumps
    items: list[str] = []
    for result in results:
        text = f'{{"id":{dumps(result.id)},"status":"{result.status.value}"'
        if result.code is not None:
            text += f',"code":{dumps(result.code)}'
        if result.message is not None:
            text += f',"message":{dumps(result.message)}'
        if result.seq is not None:
            text += f',"seq":{int(result.seq)}'
        items.append(text + "}")
    return f'{{"results":[{",".join(items)}]}}'


_Endpoint = Callable[[Request], Awaitable[Response]]


def _refusals_as_json(endpoint: _Endpoint) -> _Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except RequestRefused as refused:
            return refused.response()

    guarded.__name__ = endpoint.__name__
    guarded.__doc__ = endpoint.__doc__
    return guarded


def _push_endpoint(database: Database, limiter: RateLimiter) -> _Endpoint:
    """``POST /ops`` over ``database``, with its queue (:mod:`sync.relay.push_queue`)."""
    # Imported here: the queue applies batches with this module's apply_ops_in.
    from sync.relay.push_queue import Push, PushQueue

    pushes = PushQueue(database)

    @_refusals_as_json
    async def push(request: Request) -> Response:
        """``POST /ops``: apply a batch of operations, each exactly once; a batch that names
        the one it follows (``after``) waits for it (see :mod:`sync.relay.push_queue`)."""
        raw = await request.body()
        batch: str | None = None
        try:
            data = _parse_json(raw)
            batch = _chain_id(data, BATCH_FIELD)  # known even when the rest is refused
            parsed: _PushBody | RequestRefused = _push_of(data)
        except RequestRefused as refused:
            parsed = refused
        try:
            token = office_token(request, limiter)
        except RequestRefused:
            sent_token = bearer_token(request)
            if sent_token is not None:
                pushes.refused(sent_token, batch)
            raise
        if isinstance(parsed, RequestRefused):
            # A malformed body still answers 401/403 first to a stranger or a resident.
            def check() -> None:
                with database.read() as connection:
                    office_holder(connection, token)

            pushes.refused(token, batch)
            await run_in_threadpool(check)
            raise parsed
        try:
            results = await pushes.push(Push(token=token, ops=parsed.ops, batch=batch,
                                             after=parsed.after))
        except RequestRefused:
            pushes.refused(token, batch)
            raise
        return Response(_results_json(results), media_type="application/json")

    return push


def routes(database: Database, *, limiter: RateLimiter,
           pair_limiter: RateLimiter) -> list[BaseRoute]:
    """The office API's routes over ``database``."""

    @_refusals_as_json
    async def pair(request: Request) -> Response:
        """``POST /pair``: a one-time pairing code for an office device token."""
        address = request.client.host if request.client else "-"
        wait = pair_limiter.acquire("p:" + address)
        if wait:
            raise RequestRefused(429, ErrorCode.RATE_LIMITED, _(
                "Too many pairing attempts; wait {seconds} s and try again.").format(
                    seconds=wait), headers={"Retry-After": str(wait)})
        data = await _json_body(request)
        code = data.get("code") if isinstance(data, dict) else None
        device = data.get("device_name") if isinstance(data, dict) else None
        if not isinstance(code, str) or not isinstance(device, str) \
                or not device.strip() or len(device) > MAX_DEVICE_NAME:
            raise _bad_request(_('Pairing needs "code" and "device_name" (1 to {n} characters).')
                               .format(n=MAX_DEVICE_NAME))

        def redeem() -> Any:
            with database.write() as connection:
                return redeem_pairing_code(connection, code=code, device_name=device.strip())

        paired = await run_in_threadpool(redeem)
        if paired is None:
            raise RequestRefused(400, ErrorCode.PAIRING_CODE, _(
                "This pairing code is unknown, already used or expired. Ask the relay's "
                "administrator for a new one."))
        return JSONResponse(paired.to_json())

    push = _push_endpoint(database, limiter)

    @_refusals_as_json
    async def pull(request: Request) -> Response:
        """``GET /log``: the association's log after a cursor, in pages."""
        token = office_token(request, limiter)
        try:
            after: int | RequestRefused = _int_parameter(request, "after", 0, 0, 2**62)
            limit = _int_parameter(request, "limit", DEFAULT_LOG_LIMIT, 1, MAX_LOG_LIMIT)
        except RequestRefused as refused:
            after, limit = refused, 0
        epoch = request.query_params.get("epoch") or None

        def work() -> str:
            with database.read() as connection:
                principal = office_holder(connection, token)
                if isinstance(after, RequestRefused):
                    raise after
                return read_log_in(connection, association_id=principal.association_id,
                                   after=after, limit=limit, epoch=epoch)

        page = await run_in_threadpool(work)
        return Response(page, media_type="application/json")

    async def openapi(_request: Request) -> Response:
        """The OpenAPI 3 description of the office API (for fuzzing and for readers)."""
        return JSONResponse(openapi_document())

    return [
        Route(PAIR_PATH, pair, methods=["POST"]),
        Route(OPS_PATH, push, methods=["POST"]),
        Route(LOG_PATH, pull, methods=["GET"]),
        *releases.routes(database, limiter=limiter),
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        *replica_api.routes(database, limiter=limiter),
    ]


# ---------------------------------------------------------------- OpenAPI

_ID_SCHEMA = {"type": "string", "format": "uuid"}
_TEXT = {"type": "string"}


def _op_schema(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "kind", "body"],
        "properties": {
            "id": _ID_SCHEMA,
            "kind": {"type": "string", "enum": [kind]},
            "body": {"type": "object", "required": sorted(body), "properties": body,
                     "additionalProperties": False},
        },
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document() -> dict[str, Any]:
    """The office API as OpenAPI 3.0 (written by hand: the endpoints are few and fixed)."""
    nullable_id = {**_ID_SCHEMA, "nullable": True}
    date = {"type": "string", "format": "date"}
    op_bodies: dict[str, dict[str, Any]] = {
        OpKind.HOUSEHOLD_UPSERT: {"household_id": _ID_SCHEMA, "number": _TEXT,
                                  "display_name": _TEXT, "group_id": nullable_id,
                                  "group_name": _TEXT},
        OpKind.HOUSEHOLD_PURGE: {"household_id": _ID_SCHEMA},
        OpKind.INVITATION_ISSUE: {"household_id": _ID_SCHEMA,
                                  "code_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        OpKind.INVITATION_REVOKE: {"household_id": _ID_SCHEMA},
        OpKind.CIRCULAR_PUBLISH: {
            "circular_id": _ID_SCHEMA, "title": _TEXT, "body": _TEXT, "issued_on": date,
            "issuer": _TEXT, "ask": {"type": "string",
                                     "enum": ["nothing", "read", "attendance", "survey"]},
            "questions": {"type": "array", "items": {
                "type": "object", "required": ["text", "kind"],
                "properties": {"text": _TEXT, "kind": {"type": "string",
                                                       "enum": ["choice", "text"]},
                               "choices": {"type": "array", "items": _TEXT}}}},
            "deadline": {**date, "nullable": True},
            "household_ids": {"type": "array", "items": _ID_SCHEMA},
        },
        OpKind.CIRCULAR_RETRACT: {"circular_id": _ID_SCHEMA},
        OpKind.DISASTER_SET: {"on": {"type": "boolean"}, "message": _TEXT},
        OpKind.ANSWER_RECORD: {
            "circular_id": _ID_SCHEMA, "household_id": _ID_SCHEMA,
            "answers": {"type": "array", "items": {}},
            "channel": {"type": "string", "enum": list(CHANNELS)},
        },
        OpKind.MEETING_PUBLISH: {
            "meeting_id": _ID_SCHEMA, "title": _TEXT, "body": _TEXT, "held_on": date,
            "deadline": {**date, "nullable": True}, "online_forms": {"type": "boolean"},
            "items": {"type": "array", "maxItems": MAX_AGENDA_ITEMS, "items": {
                "type": "object", "required": ["item_id", "title"],
                "properties": {"item_id": _ID_SCHEMA, "title": _TEXT},
                "additionalProperties": False}},
            "household_ids": {"type": "array", "items": _ID_SCHEMA},
        },
        OpKind.MEETING_RETRACT: {"meeting_id": _ID_SCHEMA},
        OpKind.SAFETY_RECORD: {
            "answer_id": _ID_SCHEMA, "household_id": _ID_SCHEMA,
            "status": {"type": "string", "enum": list(SAFETY_STATUSES)}, "note": _TEXT,
            "needs_help": {"type": "boolean"},
            "channel": {"type": "string", "enum": list(CHANNELS)},
            "at": {"type": "string", "format": "date-time"},
        },
        OpKind.ASSOCIATION_PROFILE: {"purpose_statement": _TEXT},
        OpKind.MAIL_ADDRESSES: {
            "household_id": _ID_SCHEMA,
            "addresses": {"type": "array", "maxItems": MAX_MAIL_ADDRESSES, "items": {
                "type": "string", "format": "email", "maxLength": MAX_ADDRESS}},
        },
        OpKind.MAIL_RESEND: {"circular_id": _ID_SCHEMA,
                             "household_ids": {"type": "array", "items": _ID_SCHEMA}},
        OpKind.REPLICA: replica_api.REPLICA_OP_SCHEMA,
    }
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kairan relay — office API", "version": "1"},
        "paths": {
            PAIR_PATH: {"post": {
                "summary": "Exchange a one-time pairing code for an office device token",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["code", "device_name"],
                    "properties": {"code": _TEXT,
                                   "device_name": {"type": "string", "minLength": 1,
                                                   "maxLength": MAX_DEVICE_NAME}}}}}},
                "responses": {
                    "200": {"description": "Paired", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Paired"}}}},
                    "400": _error("Malformed request, or an unknown, used or expired code"),
                    "413": _error("Body too large"),
                    "429": _error("Too many attempts (see Retry-After)"),
                },
            }},
            OPS_PATH: {"post": {
                "summary": "Push operations; each is applied exactly once",
                "security": bearer,
                "description": (
                    "A pipelined push names its batch (batch, a UUID) and the batch it follows "
                    "(after). A batch with after is applied only once that batch of the same "
                    "device token was applied by this relay process; it waits for it a few "
                    "seconds, else answers 409 out_of_order and applies nothing. Without them "
                    "a push is applied on its own."),
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["ops"],
                    "properties": {"ops": {"type": "array", "maxItems": MAX_OPS_PER_REQUEST,
                                           "items": {"$ref": "#/components/schemas/Op"}},
                                   BATCH_FIELD: _ID_SCHEMA, AFTER_FIELD: _ID_SCHEMA}}}}},
                "responses": {
                    "200": {"description": "One result per op, in request order",
                            "content": {"application/json": {"schema": {
                                "$ref": "#/components/schemas/Results"}}}},
                    "400": _error("Malformed JSON, not a list of at most 500 ops, or a batch "
                                  "id that is not a UUID"),
                    "401": _error("No token, or an unknown or revoked one"),
                    "403": _error("A resident's token"),
                    "409": _error("out_of_order: the batch named by after is unknown to this "
                                  "relay process or was refused; nothing was applied"),
                    "413": _error("Body too large"),
                    "429": _error("Rate limit (see Retry-After)"),
                },
            }},
            LOG_PATH: {"get": {
                "summary": "The association's log after a cursor",
                "security": bearer,
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "integer",
                                                                "minimum": 0}},
                    {"name": "limit", "in": "query", "schema": {
                        "type": "integer", "minimum": 1, "maximum": MAX_LOG_LIMIT}},
                    {"name": "epoch", "in": "query", "schema": _TEXT},
                ],
                "responses": {
                    "200": {"description": "A page of the log", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Log"}}}},
                    "400": _error("Bad parameter"),
                    "401": _error("No token, or an unknown or revoked one"),
                    "403": _error("A resident's token"),
                    "409": _error("Epoch mismatch: pull again from 0"),
                    "429": _error("Rate limit (see Retry-After)"),
                },
            }},
            **releases.openapi_paths(),
            **replica_api.openapi_paths(),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": _TEXT, "message": _TEXT,
                                         "epoch": _TEXT}},
                "Paired": {"type": "object",
                           "required": ["token", "association_id", "association_name",
                                        "epoch", "device_id"],
                           "properties": {"token": _TEXT, "association_id": _ID_SCHEMA,
                                          "association_name": _TEXT, "epoch": _TEXT,
                                          "device_id": _ID_SCHEMA}},
                "Op": {"oneOf": [_op_schema(kind, body) for kind, body in op_bodies.items()]},
                "Results": {"type": "object", "required": ["results"], "properties": {
                    "results": {"type": "array", "items": {
                        "type": "object", "required": ["id", "status"],
                        "properties": {
                            "id": _TEXT,
                            "status": {"type": "string",
                                       "enum": [s.value for s in OpStatus]},
                            "code": _TEXT, "message": _TEXT, "seq": {"type": "integer"}}}}}},
                "Log": {"type": "object", "required": ["epoch", "items", "more"],
                        "properties": {
                            "epoch": _TEXT, "more": {"type": "boolean"},
                            "items": {"type": "array", "items": {
                                "type": "object", "required": ["seq", "kind", "body", "at"],
                                "properties": {"seq": {"type": "integer"}, "kind": _TEXT,
                                               "body": {"type": "object"},
                                               "at": {"type": "string",
                                                      "format": "date-time"}}}}}},
            },
        },
    }
