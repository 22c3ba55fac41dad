"""The office API (protocol v1): pairing, pushing operations, pulling the log, and the newest
Kairan release the relay's operator recorded (``GET /release``).

``POST /ops`` applies a batch in one write transaction: each op is looked up by its id (the
idempotency key) first — a repeat answers ``duplicate`` with the stored result, a reused id with
another body ``id_reused`` — then checked and applied. A bad op is rejected with a code and a
message and the rest go on: handlers check what they need before writing anything, so one op
never leaves a half-done change that would force the whole batch back. Every applied op gets the
next sequence number of the association's log in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from desktop.i18n import _
from sync.protocol import (
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
    canonical_json,
    check_op,
    text_fingerprint,
)
from sync.relay import releases, replica_api, tables
from sync.relay.auth import (
    RequestRefused,
    office_holder,
    office_token,
    redeem_pairing_code,
)
from sync.relay.db import Database, current_epoch, iso, lock_counter, now, set_counter
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
    log_insert: Any
    applied_insert: Any


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
        log_insert=insert(t.log),
        applied_insert=insert(t.applied_op),
    )


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
    households: dict[str, bool]
    mail: MailPlan
    circulars: dict[str, bool] = field(default_factory=dict)
    deletes: dict[tuple[str, str], Any] = field(default_factory=dict)  # (statement, key)
    household_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    circular_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    invitation_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    recipients: dict[str, list[str]] = field(default_factory=dict)
    disaster: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    purged: set[str] = field(default_factory=set)
    meetings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (kind, body)
    log_rows: list[dict[str, Any]] = field(default_factory=list)
    applied_rows: list[dict[str, Any]] = field(default_factory=list)

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
        recipient_rows = [
            {"association_id": self.association_id, "circular_id": circular_id,
             "household_id": household_id}
            for circular_id, households in self.recipients.items()
            for household_id in sorted(set(households))]
        for statement, rows in (
            (self.sql.household_upsert, list(self.household_rows.values())),
            (self.sql.circular_upsert, list(self.circular_rows.values())),
            (self.sql.invitation_upsert, list(self.invitation_rows.values())),
            (self.sql.recipients_insert, recipient_rows),
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
        for statement, rows in ((self.sql.log_insert, self.log_rows),
                                (self.sql.applied_insert, self.applied_rows)):
            if rows:
                connection.execute(statement, rows)


# An op handler plans the writes of a checked body and returns the household its log item is
# about (None when it is about none), or raises ProtocolError to reject the op.
_Handler = Callable[[_Batch, dict[str, Any]], str | None]


def _household_upsert(batch: _Batch, body: dict[str, Any]) -> str:
    household_id: str = body["household_id"]
    batch.household_rows[household_id] = {
        "association_id": batch.association_id, "household_id": household_id,
        "number": body["number"], "display_name": body["display_name"],
        "group_id": body["group_id"], "group_name": body["group_name"], "updated_at": batch.at,
    }
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
    batch.log_rows = [row for row in batch.log_rows if row["household_id"] != household_id]
    batch.households[household_id] = False
    batch.mail.purge(household_id)


def _invitation_issue(batch: _Batch, body: dict[str, Any]) -> str:
    household_id: str = body["household_id"]
    if not batch.households.get(household_id, False):
        raise ProtocolError(RejectCode.NOT_FOUND, _(
            "The relay has no household {id}: send the household before its invitation."
        ).format(id=household_id))
    batch.invitation_rows[household_id] = {
        "association_id": batch.association_id, "household_id": household_id,
        "code_hash": body["code_hash"], "issued_at": batch.at}
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


def _sent_id(raw: Any) -> str:
    """The op id as the client sent it (echoed in its result), or "" when there is none."""
    sent = raw.get("id") if isinstance(raw, dict) else None
    return sent if isinstance(sent, str) else ""


def _rejected(op_id: str, problem: ProtocolError) -> OpResult:
    return OpResult(id=op_id, status=OpStatus.REJECTED, code=problem.code,
                    message=problem.message)


_EARLIER_OPS = (
    select(tables.applied_op.c.op_id, tables.applied_op.c.fingerprint, tables.applied_op.c.seq)
    .where(tables.applied_op.c.association_id == bindparam("p_association_id"))
    .where(tables.applied_op.c.op_id.in_(bindparam("p_op_ids", expanding=True)))
)


def _earlier_ops(connection: Connection, association_id: str,
                 keys: list[str]) -> dict[str, tuple[str, int]]:
    if not keys:
        return {}
    rows = connection.execute(_EARLIER_OPS, {"p_association_id": association_id,
                                             "p_op_ids": keys})
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
    found = connection.execute(_EXISTING_HOUSEHOLDS, {"p_association_id": association_id,
                                                      "p_household_ids": named})
    return dict.fromkeys(found.scalars(), True)


def _existing_circulars(connection: Connection, association_id: str,
                        raw_ops: list[Any]) -> dict[str, bool]:
    """Which circulars named by the batch's re-sends exist before it (one query)."""
    named = _named(raw_ops, (OpKind.MAIL_RESEND,), "circular_id")
    if not named:
        return {}
    found = connection.execute(_EXISTING_CIRCULARS, {"p_association_id": association_id,
                                                     "p_circular_ids": named})
    return dict.fromkeys(found.scalars(), True)


_EXISTING_HOUSEHOLDS = (
    select(tables.household.c.household_id)
    .where(tables.household.c.association_id == bindparam("p_association_id"))
    .where(tables.household.c.household_id.in_(bindparam("p_household_ids", expanding=True)))
)
_EXISTING_CIRCULARS = (
    select(tables.circular.c.circular_id)
    .where(tables.circular.c.association_id == bindparam("p_association_id"))
    .where(tables.circular.c.circular_id.in_(bindparam("p_circular_ids", expanding=True)))
)


def apply_ops_in(connection: Connection, *, association_id: str, raw_ops: list[Any],
                 device_id: str | None = None) -> list[OpResult]:
    """Apply a batch of ops (as parsed from JSON) inside a write transaction; results in
    request order. ``device_id`` is the pushing office device's (from its token): replica
    ops are stored under it, and refused without it."""
    last = lock_counter(connection, association_id)
    if last is None:  # the association was deleted while its token was still valid
        raise RequestRefused(401, ErrorCode.UNAUTHORIZED,
                             _("This association no longer exists on the relay."))
    first = last
    at = now()
    at_text = iso(at)
    batch = _Batch(association_id=association_id, at=at, sql=_statements(connection.dialect.name),
                   households=_existing_households(connection, association_id, raw_ops),
                   mail=MailPlan(association_id=association_id, at=at),
                   circulars=_existing_circulars(connection, association_id, raw_ops))
    sent_ids = [_sent_id(raw) for raw in raw_ops]
    earlier = _earlier_ops(connection, association_id,
                           sorted({s.lower() for s in sent_ids if s}))
    results: list[OpResult] = []
    replica: replica_api.ReplicaGate | None = None
    for raw, sent in zip(raw_ops, sent_ids, strict=True):
        try:
            op = Op.from_json(raw)
            check_op(op)
        except ProtocolError as problem:
            results.append(_rejected(sent, problem))
            continue
        key = sent.lower()
        body = _canonical_body(op.body)
        text = canonical_json(body)
        fingerprint = text_fingerprint(op.kind, text)
        stored = earlier.get(key)
        if stored is not None:
            if stored[0] == fingerprint:
                results.append(OpResult(id=sent, status=OpStatus.DUPLICATE, seq=stored[1]))
            else:
                results.append(_rejected(sent, ProtocolError(RejectCode.ID_REUSED, _(
                    "Operation id {id} was used before for a different change; the relay "
                    "keeps the first one. This one was not applied.").format(id=sent))))
            continue
        try:
            if op.kind == OpKind.REPLICA:
                # Encrypted for the other office PCs: the relay stores it with the pushing
                # device's id (from its token, never from the body) and touches nothing else.
                if replica is None:
                    replica = replica_api.replica_gate(connection, association_id=association_id,
                                                       device_id=device_id)
                text = replica.admit(sent, body)  # the id as sealed by the PC
                household_id = None
            else:
                household_id = HANDLERS[op.kind](batch, body)
        except ProtocolError as problem:
            results.append(_rejected(sent, problem))
            continue
        last += 1
        batch.log_rows.append({"association_id": association_id, "seq": last, "kind": op.kind,
                               "body": text, "at": at_text, "household_id": household_id})
        batch.applied_rows.append({"association_id": association_id, "op_id": key,
                                   "fingerprint": fingerprint, "seq": last, "applied_at": at})
        earlier[key] = (fingerprint, last)
        results.append(OpResult(id=sent, status=OpStatus.APPLIED, seq=last))
    batch.run(connection)
    if replica is not None:
        replica.finish(connection)
    if last != first:
        set_counter(connection, association_id, last)
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


def _ops_of(raw: bytes) -> list[Any]:
    data = _parse_json(raw)
    ops = data.get("ops") if isinstance(data, dict) else None
    if not isinstance(ops, list) or len(ops) > MAX_OPS_PER_REQUEST:
        raise _bad_request(_('The request needs "ops": a list of at most {n} operations.')
                           .format(n=MAX_OPS_PER_REQUEST))
    return ops


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

    @_refusals_as_json
    async def push(request: Request) -> Response:
        """``POST /ops``: apply a batch of operations, each exactly once."""
        token = office_token(request, limiter)
        raw = await request.body()

        def work() -> list[OpResult]:
            # Parsed before the write lock is taken; a malformed body still answers 401/403
            # first to a stranger or a resident.
            try:
                ops: list[Any] | RequestRefused = _ops_of(raw)
            except RequestRefused as refused:
                ops = refused
            with database.write() as connection:
                principal = office_holder(connection, token)
                if isinstance(ops, RequestRefused):
                    raise ops
                device_id = (replica_api.device_in(connection, principal)
                             if replica_api.has_replica_ops(ops) else None)
                return apply_ops_in(connection, association_id=principal.association_id,
                                    raw_ops=ops, device_id=device_id)

        results = await run_in_threadpool(work)
        return JSONResponse({"results": [r.to_json() for r in results]})

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
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["ops"],
                    "properties": {"ops": {"type": "array", "maxItems": MAX_OPS_PER_REQUEST,
                                           "items": {"$ref": "#/components/schemas/Op"}}}}}}},
                "responses": {
                    "200": {"description": "One result per op, in request order",
                            "content": {"application/json": {"schema": {
                                "$ref": "#/components/schemas/Results"}}}},
                    "400": _error("Malformed JSON or not a list of at most 500 ops"),
                    "401": _error("No token, or an unknown or revoked one"),
                    "403": _error("A resident's token"),
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
