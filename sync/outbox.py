"""The outbox: changes that must reach the relay, queued in the same transaction as the change.

Domain services call the small helpers here (one line each) inside their own session, so a
change and its queued operation are committed together or not at all. Nothing is queued while
the file is not paired with a relay (no ``sync_state`` row): the office PC works the same
offline, and pairing later sends a fresh snapshot instead (:func:`enqueue_snapshot`).

Only what residents must see leaves the PC: a household's number, display name and 班 —
never its address, phone or members — and, for a household whose notices go by e-mail, its
e-mail addresses (``mail.addresses``, right after its ``household.upsert``), which the relay
needs to mail it. The relay holds a household's addresses only while its channel is e-mail:
switching to another way sends ``[]``. An address that is not plausible
(:func:`desktop.domain.text.is_plausible_email` and :func:`sync.protocol.is_mail_address`) is
never sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import String, Table, delete, event, func, inspect, type_coerce, update
from sqlalchemy import select as core_select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, UOWTransaction
from sqlmodel import Session, col, select

from desktop.domain.errors import ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    Association,
    Circular,
    CircularRecipient,
    CircularStatus,
    Household,
    MailProblem,
    Meeting,
    MeetingItem,
    MeetingVoter,
    NoticeChannel,
    OutboxOp,
    OutboxState,
    Reply,
    RosterGroup,
    SafetyAnswer,
    SyncState,
)
from desktop.domain.stored_values import stored_time
from desktop.domain.text import is_plausible_email
from desktop.i18n import _
from sync.protocol import MAX_LIST, MAX_MAIL_ADDRESSES, OpKind, is_mail_address

Body = dict[str, object]
_CHUNK = 500  # ids per IN (...) query, well under SQLite's limit on parameters


def is_paired(session: Session) -> bool:
    """Whether this file is paired with a relay (and so queues its changes)."""
    return session.get(SyncState, 1) is not None


def _next_position(session: Session) -> int:
    top = session.exec(select(func.max(OutboxOp.position))).one()
    return (top or 0) + 1


def enqueue(session: Session, *, kind: str, body: Mapping[str, object]) -> uuid.UUID | None:
    """Queue one operation in the caller's transaction; returns its id (its idempotency key
    on the relay), or None when the file is not paired and nothing was queued."""
    if not is_paired(session):
        return None
    op = OutboxOp(id=uuid7(), position=_next_position(session), kind=kind, body=dict(body),
                  created_at=_now())
    session.add(op)
    session.flush()
    return op.id


def enqueue_many(session: Session, ops: Iterable[tuple[str, Mapping[str, object]]]) -> int:
    """Queue many operations at once (pairing, a roster import); returns how many. Straight
    to the driver's ``executemany``, stored as the ORM stores them."""
    if not is_paired(session):
        return 0
    session.flush()
    position = _next_position(session)
    now = stored_time(_now())
    rows = [(uuid7().hex, position + index, str(kind), json.dumps(dict(body)), now,
             OutboxState.PENDING.value, 0, None, "", "")
            for index, (kind, body) in enumerate(ops)]
    driver = session.connection().connection.driver_connection
    assert driver is not None
    driver.executemany(
        "INSERT INTO outbox_op (id, position, kind, body, created_at, state, attempts, "
        "next_attempt_at, error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    return len(rows)


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- bodies of the operations


def _group_names(session: Session) -> dict[uuid.UUID, str]:
    return dict(session.exec(select(RosterGroup.id, RosterGroup.name)).all())


def _household_body(household: Household, groups: Mapping[uuid.UUID, str]) -> Body:
    group_id = household.group_id
    return {
        "household_id": str(household.id),
        "number": household.number,
        "display_name": household.display_name,
        "group_id": str(group_id) if group_id is not None else None,
        "group_name": groups.get(group_id, "") if group_id is not None else "",
    }


# ---------------------------------------------------------------- e-mail addresses

Addresses = tuple[str, ...]
_BEFORE = "kairan.outbox.mail_before"  # session.info: household id → what the relay held


def mail_addresses(*, channel: str, emails: Iterable[object],
                   left_on: date | None = None) -> Addresses:
    """The addresses the relay should mail for a household: its plausible ones (trimmed,
    each once, at most four) while its notices go by e-mail and it is a member; none
    otherwise. The roster refuses implausible addresses already; the check is repeated
    because a file written by an older Kairan (or an import that only flagged them) may
    still hold one, and the relay must never be given it."""
    if channel != NoticeChannel.EMAIL or left_on is not None:
        return ()
    plausible = (address for raw in emails if isinstance(raw, str)
                 for address in (raw.strip(),)
                 if is_plausible_email(address) and is_mail_address(address))
    return tuple(dict.fromkeys(plausible))[:MAX_MAIL_ADDRESSES]


def _addresses_of(household: Household) -> Addresses:
    return mail_addresses(channel=household.channel, emails=household.emails,
                          left_on=household.left_on)


def _mail_body(household_id: uuid.UUID, addresses: Addresses) -> Body:
    return {"household_id": str(household_id), "addresses": list(addresses)}


def _old_value(household: Household, name: str) -> object:
    """An attribute's value as last flushed (or loaded), before this flush's change."""
    history = inspect(household).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(household, name)  # not changed since it was loaded


@event.listens_for(OrmSession, "before_flush")
def _remember_mail_addresses(session: OrmSession, _context: UOWTransaction,
                             _instances: object) -> None:
    """Before a household's first change in a transaction is flushed, note the addresses
    the relay holds for it, so :func:`household_changed` sends ``mail.addresses`` only when
    they change (an edit of the name or a move sends nothing more). The flush forgets the
    old values, and the domain calls the outbox after flushing."""
    remembered: dict[uuid.UUID, Addresses] | None = None
    for instance in (*session.new, *session.dirty):
        if not isinstance(instance, Household):
            continue
        if remembered is None:
            remembered = session.info.setdefault(_BEFORE, {})
        if instance.id in remembered:
            continue
        if instance in session.new:
            remembered[instance.id] = ()  # the relay has never heard of it
            continue
        with session.no_autoflush:  # an expired value is loaded, never flushed again
            channel, emails, left_on = (_old_value(instance, name)
                                        for name in ("channel", "emails", "left_on"))
        remembered[instance.id] = mail_addresses(
            channel=str(channel), emails=emails if isinstance(emails, list) else (),
            left_on=left_on if isinstance(left_on, date) else None)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_mail_addresses(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_BEFORE, None)


def _clear_problems(session: Session, household_id: uuid.UUID, kept: Addresses) -> None:
    """Forget the mail problems of addresses the relay is no longer given: it drops their
    state too (switching to paper, or an address edited away, ends the problem)."""
    statement = delete(MailProblem).where(col(MailProblem.household_id) == household_id)
    if kept:
        statement = statement.where(col(MailProblem.address).not_in(kept))
    session.execute(statement)


def household_changed(session: Session, *, household_id: uuid.UUID) -> None:
    """A household was added, edited, moved or re-admitted: the relay gets its number, name
    and 班 (a withdrawn household stays purged from it), then its e-mail addresses when they
    (or its channel) changed."""
    household = session.get(Household, household_id)
    before = session.info.get(_BEFORE, {}).pop(household_id, None)
    if household is None or household.left_on is not None:
        return
    addresses = _addresses_of(household)
    _clear_problems(session, household_id, addresses)
    if not is_paired(session):
        return
    enqueue(session, kind=OpKind.HOUSEHOLD_UPSERT,
            body=_household_body(household, _group_names(session)))
    # Not known (changed without the ORM): sent anyway, the relay's replace is idempotent.
    if before is None or before != addresses:
        enqueue(session, kind=OpKind.MAIL_ADDRESSES, body=_mail_body(household_id, addresses))


def _current(session: Session, household_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Household]:
    found: dict[uuid.UUID, Household] = {}
    for start in range(0, len(household_ids), _CHUNK):
        found.update((h.id, h) for h in session.exec(select(Household).where(
            col(Household.id).in_(household_ids[start:start + _CHUNK]),
            col(Household.left_on).is_(None))).all())
    return found


def _household_ops(household: Household, groups: Mapping[uuid.UUID, str], *,
                   mail: bool) -> list[tuple[str, Mapping[str, object]]]:
    """A household's upsert, followed by its addresses when ``mail`` and it has some (a
    household the relay holds no addresses for needs no ``[]``)."""
    ops: list[tuple[str, Mapping[str, object]]] = [
        (OpKind.HOUSEHOLD_UPSERT, _household_body(household, groups))]
    if mail and (addresses := _addresses_of(household)):
        ops.append((OpKind.MAIL_ADDRESSES, _mail_body(household.id, addresses)))
    return ops


def households_added(session: Session, *, household_ids: Sequence[uuid.UUID]) -> None:
    """Many households were added at once (import, demo): new to the relay, so only those
    with e-mail addresses to give it get a ``mail.addresses``."""
    if not is_paired(session) or not household_ids:
        return
    groups = _group_names(session)
    found = _current(session, household_ids)
    enqueue_many(session, (op for h in household_ids if h in found
                           for op in _household_ops(found[h], groups, mail=True)))


def group_renamed(session: Session, *, group_id: uuid.UUID) -> None:
    """A 班 was renamed: its households carry the new name to the relay (their addresses
    did not change)."""
    if not is_paired(session):
        return
    household_ids = list(session.exec(select(Household.id).where(
        Household.group_id == group_id, col(Household.left_on).is_(None))
        .order_by(col(Household.circulation_order))).all())
    groups = _group_names(session)
    found = _current(session, household_ids)
    enqueue_many(session, (op for h in household_ids if h in found
                           for op in _household_ops(found[h], groups, mail=False)))


def household_removed(session: Session, *, household_id: uuid.UUID) -> None:
    """A household withdrew or was deleted: every trace of it goes from the relay (its
    e-mail addresses and their state too, so its mail problems end here as well)."""
    _clear_problems(session, household_id, ())
    # Re-admitted later in the same transaction: the relay will hold no addresses for it.
    session.info.setdefault(_BEFORE, {})[household_id] = ()
    enqueue(session, kind=OpKind.HOUSEHOLD_PURGE, body={"household_id": str(household_id)})


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def circular_body(session: Session, circular_id: uuid.UUID) -> Body:
    """What the resident page shows of a sent circular, and who it went to."""
    from desktop.domain.circulars import get_circular, questions_of  # circulars imports us

    data = get_circular(session, circular_id=circular_id).data
    household_ids = session.exec(select(CircularRecipient.household_id).where(
        CircularRecipient.circular_id == circular_id)).all()
    return {
        "circular_id": str(circular_id),
        "title": data.title,
        "body": data.body,
        "issued_on": data.issued_on.isoformat(),
        "issuer": data.issuer,
        "ask": str(data.ask),
        # An attendance call carries its one 出欠 question, so every answer is one per question.
        "questions": [{"text": q.text, "kind": str(q.kind), "choices": list(q.choices)}
                      for q in questions_of(data)],
        "deadline": _iso(data.deadline),
        "household_ids": [str(household_id) for household_id in household_ids],
    }


def circular_sent(session: Session, *, circular_id: uuid.UUID) -> None:
    """A circular was sent: publish it to the households it went to."""
    if is_paired(session):
        enqueue(session, kind=OpKind.CIRCULAR_PUBLISH, body=circular_body(session, circular_id))


def reply_recorded(session: Session, *, circular_id: uuid.UUID, household_id: uuid.UUID) -> None:
    """An officer entered (or corrected) a household's answer: other office PCs see it."""
    if not is_paired(session):
        return
    reply = session.exec(select(Reply).where(Reply.circular_id == circular_id,
                                             Reply.household_id == household_id)).first()
    if reply is None:
        return
    enqueue(session, kind=OpKind.ANSWER_RECORD, body={
        "circular_id": str(circular_id), "household_id": str(household_id),
        "answers": list(reply.answers), "channel": str(reply.channel)})


def mail_resend(session: Session, *, circular_id: uuid.UUID,
                household_ids: Sequence[uuid.UUID]) -> int:
    """Mail a circular again to these households (those that have not read it); returns
    how many operations were queued (a very long list is split)."""
    ids = [str(household_id) for household_id in household_ids]
    return enqueue_many(session, (
        (OpKind.MAIL_RESEND, {"circular_id": str(circular_id),
                              "household_ids": ids[start:start + MAX_LIST]})
        for start in range(0, len(ids), MAX_LIST)))


def circular_retracted(session: Session, *, circular_id: uuid.UUID) -> None:
    """A sent circular is taken back: it leaves the resident page."""
    enqueue(session, kind=OpKind.CIRCULAR_RETRACT, body={"circular_id": str(circular_id)})


def invitation_issued(session: Session, *, household_id: uuid.UUID, code_hash: str) -> None:
    """An invitation code was made for a household (printed or mailed by the office): only
    its sha256 (:func:`sync.protocol.hash_secret`) goes to the relay."""
    enqueue(session, kind=OpKind.INVITATION_ISSUE,
            body={"household_id": str(household_id), "code_hash": code_hash})


def invitation_revoked(session: Session, *, household_id: uuid.UUID) -> None:
    """A household's invitation stops working and its phones are signed out."""
    enqueue(session, kind=OpKind.INVITATION_REVOKE, body={"household_id": str(household_id)})


def safety_recorded(session: Session, *, answer: SafetyAnswer) -> None:
    """An officer entered a safety answer gathered by phone or at the door: the other office
    PCs' safety boards show it too."""
    enqueue(session, kind=OpKind.SAFETY_RECORD, body={
        "answer_id": str(answer.id), "household_id": str(answer.household_id),
        "status": str(answer.status), "note": answer.note, "needs_help": answer.needs_help,
        "channel": str(answer.channel), "at": _aware(answer.at).isoformat()})


def association_profile_changed(session: Session, *, purpose_statement: str) -> None:
    """The association's purpose statement changed: the resident page shows it."""
    enqueue(session, kind=OpKind.ASSOCIATION_PROFILE,
            body={"purpose_statement": purpose_statement})


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def disaster_switched(session: Session, *, on: bool, message: str) -> None:
    """Disaster mode was switched on or off: the resident page follows."""
    enqueue(session, kind=OpKind.DISASTER_SET, body={"on": on, "message": message})


def meeting_body(session: Session, meeting_id: uuid.UUID) -> Body:
    """What the resident page shows of a general meeting: its title, day, place and agenda,
    whether forms are taken online, and the households on its voter list (their ids only)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise ValueError(f"no meeting {meeting_id}")
    items = session.exec(select(MeetingItem.id, MeetingItem.title)
                         .where(MeetingItem.meeting_id == meeting_id)
                         .order_by(col(MeetingItem.position))).all()
    households = session.exec(select(MeetingVoter.household_id).distinct()
                              .where(MeetingVoter.meeting_id == meeting_id)).all()
    return {
        "meeting_id": str(meeting_id),
        "title": meeting.title,
        "body": _("Place: {place}").format(place=meeting.place) if meeting.place else "",
        "held_on": meeting.held_on.isoformat(),
        "deadline": None,  # the relay takes forms until the day before the meeting
        "online_forms": meeting.online_forms,
        "items": [{"item_id": str(item_id), "title": title} for item_id, title in items],
        "household_ids": sorted(str(household_id) for household_id in households),
    }


def meeting_published(session: Session, *, meeting_id: uuid.UUID) -> None:
    """A meeting's forms went out (or its agenda or online flag changed since): the resident
    page shows it, with the online forms when the meeting allows them."""
    if is_paired(session):
        enqueue(session, kind=OpKind.MEETING_PUBLISH, body=meeting_body(session, meeting_id))


def meeting_retracted(session: Session, *, meeting_id: uuid.UUID) -> None:
    """A published meeting was deleted: it leaves the resident page."""
    enqueue(session, kind=OpKind.MEETING_RETRACT, body={"meeting_id": str(meeting_id)})


def enqueue_snapshot(session: Session, *, today: date) -> int:
    """Queue what a newly paired relay needs: the association's purpose statement, every
    current household (with its e-mail addresses), and the sent circulars still collecting
    answers (deadline today or later). Returns how many."""
    groups = _group_names(session)
    households = session.exec(select(Household).where(col(Household.left_on).is_(None))
                              .order_by(col(Household.number))).all()
    # The relay may still hold addresses from an earlier pairing of the association: a
    # household that has addresses on record but no longer gets mail is told ``[]``.
    ops: list[tuple[str, Mapping[str, object]]] = []
    for household in households:
        ops += _household_ops(household, groups, mail=True)
        if household.emails and not _addresses_of(household):
            ops.append((OpKind.MAIL_ADDRESSES, _mail_body(household.id, ())))
    open_circulars = session.exec(select(Circular.id).where(
        Circular.status == CircularStatus.SENT, col(Circular.deadline).is_not(None),
        col(Circular.deadline) >= today).order_by(col(Circular.issued_on))).all()
    ops += [(OpKind.CIRCULAR_PUBLISH, circular_body(session, circular_id))
            for circular_id in open_circulars]
    statement = session.exec(select(Association.purpose_statement)).first()
    if statement:
        ops.insert(0, (OpKind.ASSOCIATION_PROFILE, {"purpose_statement": statement}))
    return enqueue_many(session, ops)


# ---------------------------------------------------------------- reading and tidying the queue


@dataclass(frozen=True, slots=True)
class QueuedOp:
    """An operation as the engine sends it and the problem list shows it."""

    id: uuid.UUID
    kind: str
    body: Mapping[str, object]
    created_at: datetime
    attempts: int
    error_code: str
    error_message: str
    position: int = 0  # its place in the queue


def _queued(op: OutboxOp) -> QueuedOp:
    return QueuedOp(op.id, op.kind, op.body, op.created_at, op.attempts, op.error_code,
                    op.error_message, op.position)


def pending(session: Session, *, limit: int, after_position: int | None = None
            ) -> list[QueuedOp]:
    """The oldest operations still to send, in the order they were made (those queued after
    ``after_position`` when given: the engine reads ahead of the batches in flight)."""
    query = select(OutboxOp).where(OutboxOp.state == OutboxState.PENDING)
    if after_position is not None:
        query = query.where(col(OutboxOp.position) > after_position)
    ops = session.exec(query.order_by(col(OutboxOp.position)).limit(limit)).all()
    return [_queued(op) for op in ops]


_OUTBOX: Table = OutboxOp.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class WireOp:
    """A queued operation as a pipelined push sends it, read without building model objects:
    ``key`` is its id as the file stores it (32 hex digits), ``op_id`` the same id as sent,
    ``body`` the JSON text the file keeps (sent as it is, not parsed again)."""

    key: str
    op_id: str
    position: int
    kind: str
    body: str

    @property
    def uuid(self) -> uuid.UUID:
        """The id as a UUID."""
        return uuid.UUID(hex=self.key)


def pending_wire(session: Session, *, limit: int, after_position: int | None = None
                 ) -> list[WireOp]:
    """:func:`pending` for the pipelined push: the operations still to send (after
    ``after_position``) as :class:`WireOp`, in the order they were made."""
    c = _OUTBOX.c
    query = (core_select(type_coerce(c.id, String), c.position, c.kind,
                         type_coerce(c.body, String))
             .where(c.state == OutboxState.PENDING))
    if after_position is not None:
        query = query.where(c.position > after_position)
    rows = session.execute(query.order_by(c.position).limit(limit)).all()
    return [WireOp(key, f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}",
                   position, kind, body) for key, position, kind, body in rows]


def remove_keys(session: Session, *, keys: Sequence[str]) -> None:
    """:func:`remove` by the ids as the file stores them (:attr:`WireOp.key`)."""
    connection = session.connection()
    for start in range(0, len(keys), 500):  # SQL written out: one statement, no ORM
        part = keys[start:start + 500]
        connection.exec_driver_sql(
            f"DELETE FROM {_OUTBOX.name} WHERE id IN ({', '.join('?' * len(part))})",
            tuple(part))


def counts(session: Session) -> tuple[int, int]:
    """How many operations wait to be sent, and how many the relay refused."""
    rows = dict(session.exec(select(OutboxOp.state, func.count())
                             .group_by(col(OutboxOp.state))).all())
    return rows.get(OutboxState.PENDING, 0), rows.get(OutboxState.REJECTED, 0)


def problems(session: Session) -> list[QueuedOp]:
    """The operations the relay refused, oldest first (同期の問題)."""
    ops = session.exec(select(OutboxOp).where(OutboxOp.state == OutboxState.REJECTED)
                       .order_by(col(OutboxOp.position))).all()
    return [_queued(op) for op in ops]


def remove(session: Session, *, op_ids: Sequence[uuid.UUID]) -> None:
    """Forget operations the relay has applied (or that the officer discards)."""
    if op_ids:
        session.execute(delete(OutboxOp).where(col(OutboxOp.id).in_(op_ids)))


def mark_sent(session: Session, *, op_ids: Sequence[uuid.UUID]) -> None:
    """Shared roster changes the relay took: kept (not counted as waiting) until they come
    back in the log, where their place in the relay's order is known."""
    if op_ids:
        session.execute(update(OutboxOp).where(col(OutboxOp.id).in_(op_ids)).values(
            state=OutboxState.SENT))


def reject(session: Session, *, op_id: uuid.UUID, code: str, message: str) -> None:
    """Set an operation aside: it is listed as a problem and never blocks the others."""
    session.execute(update(OutboxOp).where(col(OutboxOp.id) == op_id).values(
        state=OutboxState.REJECTED, error_code=code, error_message=message))


def postpone(session: Session, *, op_ids: Sequence[uuid.UUID], until: datetime,
             message: str) -> None:
    """Count a passing failure on operations that could not be sent."""
    if op_ids:
        session.execute(update(OutboxOp).where(col(OutboxOp.id).in_(op_ids)).values(
            attempts=OutboxOp.attempts + 1, next_attempt_at=until, error_message=message))


def set_aside(session: Session, *, kind: str, body: Mapping[str, object], code: str,
              message: str) -> bool:
    """List something pulled from the relay that could not be applied here among the sync
    problems (with the log item's kind and body; never sent). The same item again (same kind
    and ``answer_id``, or ``op_id``) is listed once; returns whether it was added."""
    key = body.get("answer_id", body.get("op_id"))
    for listed in session.exec(select(OutboxOp.body).where(
            OutboxOp.kind == kind, OutboxOp.state == OutboxState.REJECTED)).all():
        if listed.get("answer_id", listed.get("op_id")) == key:
            return False
    session.add(OutboxOp(id=uuid7(), position=_next_position(session), kind=kind,
                         body=dict(body), created_at=_now(), state=OutboxState.REJECTED,
                         error_code=code, error_message=message))
    session.flush()
    return True


def retry_problem(session: Session, *, op_id: uuid.UUID) -> None:
    """Send a refused operation again, after the officer fixed the cause. It gets a new id
    (the relay keeps its answer to the old one) and goes to the end of the queue."""
    op = session.get(OutboxOp, op_id)
    if op is None or op.state != OutboxState.REJECTED:
        return
    if op.kind not in set(OpKind):  # set aside from the relay (set_aside): nothing to send
        raise ValidationError(_(
            "This came from the relay and could not be entered here, so it cannot be sent "
            "again. Enter it by hand if it is still needed, then choose “Give up”."))
    session.execute(update(OutboxOp).where(col(OutboxOp.id) == op_id).values(
        id=uuid7(), position=_next_position(session), state=OutboxState.PENDING, attempts=0,
        next_attempt_at=None, error_code="", error_message=""))
    session.expire_all()


def discard_problem(session: Session, *, op_id: uuid.UUID) -> None:
    """Give up a refused operation."""
    session.execute(delete(OutboxOp).where(col(OutboxOp.id) == op_id,
                                           col(OutboxOp.state) == OutboxState.REJECTED))


def clear(session: Session) -> int:
    """Empty the queue (when the file is disconnected from the relay); returns how many."""
    pending_count, rejected_count = counts(session)
    session.execute(delete(OutboxOp))
    return pending_count + rejected_count
