"""Log items from the relay, applied to the association file.

What residents did comes back as ``answer`` (into the same ``reply`` table as the paper
answers, channel APP), ``read`` (read markers), ``safety`` (safety answers) and
``meeting_answer`` (a general meeting's online form, entered as a meeting entry with source
RELAY; one that cannot be entered here is listed among the sync problems). What became of
the mails the relay sent comes back as ``mail`` (:func:`mail`): the latest event per
circular, household and address in ``mail_delivery``, bounced and stopped addresses in
``mail_problem``; an opened personal link is a read marker too, as opening the circular on
the resident page is. Operations
of the association's office PCs come back too, this PC's own among them: ``answer.record``,
``safety.record`` and ``disaster.set`` are taken over; households, circulars, invitations and
the association's profile are ignored, since this file is their source.

Applying is idempotent (a page may be applied again after a crash or an epoch change) and
follows the log's order, with one exception: while a change made here still waits in the
outbox, it is newer than anything in the log, so log items about the same thing are skipped.
Unknown kinds and items naming households or circulars this file does not hold are skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from desktop.domain import audit
from desktop.domain.errors import KairanError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.meeting.entries import (
    EntryOutcome,
    cancel_entry,
    record_entry,
    voter_entries,
)
from desktop.domain.meeting.tally import EntryKind, Source, Vote
from desktop.domain.models import (
    Circular,
    CircularRead,
    CircularRecipient,
    Household,
    MailDelivery,
    MailEvent,
    MailProblem,
    MailProblemKind,
    Meeting,
    MeetingItem,
    MeetingVoter,
    OutboxOp,
    OutboxState,
    Reply,
    ReplyChannel,
    SafetyAnswer,
    SafetyStatus,
)
from desktop.domain.safety import follow_relay_disaster_mode
from desktop.domain.stored_values import stored_time
from desktop.i18n import _
from sync import outbox
from sync.protocol import LogItem, LogKind, OpKind

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Applied:
    """What one page of the log changed here."""

    answers: int = 0
    reads: int = 0
    safety: int = 0
    disaster: int = 0
    skipped: int = 0
    meeting_answers: int = 0
    mail: int = 0  # mail events that changed what the office sees of a mail

    def __add__(self, other: Applied) -> Applied:
        return Applied(self.answers + other.answers, self.reads + other.reads,
                       self.safety + other.safety, self.disaster + other.disaster,
                       self.skipped + other.skipped,
                       self.meeting_answers + other.meeting_answers, self.mail + other.mail)

    @property
    def changed(self) -> int:
        """How many things changed here."""
        return (self.answers + self.reads + self.safety + self.disaster
                + self.meeting_answers + self.mail)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return fallback
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _answers(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return ["" if answer is None else str(answer) for answer in value]


def _existing(session: Session, ids: Iterable[uuid.UUID], column: Any) -> set[uuid.UUID]:
    wanted = list(set(ids))
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(session.exec(select(column).where(
            column.in_(wanted[start:start + _CHUNK]))).all())
    return found


class _Page:
    """One page being applied: what exists here, and what the outbox still holds."""

    def __init__(self, session: Session, items: Sequence[LogItem]) -> None:
        self.session = session
        households: set[uuid.UUID] = set()
        circulars: set[uuid.UUID] = set()
        for item in items:
            if (household := _uuid(item.body.get("household_id"))) is not None:
                households.add(household)
            if (circular := _uuid(item.body.get("circular_id"))) is not None:
                circulars.add(circular)
        self.households = _existing(session, households, col(Household.id))
        self.circulars = _existing(session, circulars, col(Circular.id))
        self.local_answers: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.local_disaster = False
        waiting = session.exec(select(OutboxOp.kind, OutboxOp.body).where(
            OutboxOp.state == OutboxState.PENDING,
            col(OutboxOp.kind).in_([OpKind.ANSWER_RECORD, OpKind.DISASTER_SET]))).all()
        for kind, body in waiting:
            if kind == OpKind.DISASTER_SET:
                self.local_disaster = True
            elif (pair := self._pair(body)) is not None:
                self.local_answers.add(pair)

    @staticmethod
    def _pair(body: Mapping[str, Any]) -> tuple[uuid.UUID, uuid.UUID] | None:
        circular, household = _uuid(body.get("circular_id")), _uuid(body.get("household_id"))
        return (circular, household) if circular and household else None

    def answer(self, body: Mapping[str, Any], *, channel: ReplyChannel, at: datetime,
               marks_read: bool) -> bool:
        pair = self._pair(body)
        if pair is None or pair in self.local_answers:
            return False
        circular_id, household_id = pair
        if circular_id not in self.circulars or household_id not in self.households:
            return False
        session = self.session
        if session.get(CircularRecipient, pair) is None:
            return False
        answers = _answers(body.get("answers"))
        reply = session.exec(select(Reply).where(Reply.circular_id == circular_id,
                                                 Reply.household_id == household_id)).first()
        if reply is None:
            session.add(Reply(id=uuid7(), circular_id=circular_id, household_id=household_id,
                              answers=answers, channel=channel, received_at=at))
        elif reply.answers != answers or reply.channel != channel:
            reply.answers = answers
            reply.channel = channel
            reply.received_at = at
            reply.updated_at = datetime.now(UTC).replace(microsecond=0)
        else:
            return False
        if marks_read:
            self.read(body, at=at)
        session.flush()
        return True

    def read(self, body: Mapping[str, Any], *, at: datetime) -> bool:
        pair = self._pair(body)
        if pair is None or pair[0] not in self.circulars or pair[1] not in self.households:
            return False
        if self.session.get(CircularRead, pair) is not None:
            return False  # the first reading counts
        self.session.add(CircularRead(circular_id=pair[0], household_id=pair[1], read_at=at,
                                      channel=ReplyChannel.APP))
        self.session.flush()
        return True

    def mail(self, body: Mapping[str, Any], *, at: datetime) -> tuple[bool, bool]:
        """Record a mail event; returns whether it changed what the office sees of the
        mail, and whether it marked the circular read (an opened personal link)."""
        household_id = _uuid(body.get("household_id"))
        circular_id = None
        if body.get("circular_id") is not None:
            circular_id = _uuid(body.get("circular_id"))
            if circular_id not in self.circulars:
                return False, False  # deleted here since (or never sent from this file)
        try:
            event = MailEvent(str(body.get("event")))
        except ValueError:
            return False, False  # an event this version does not know
        if household_id not in self.households:
            return False, False  # purged here, or unknown
        assert household_id is not None
        address = str(body.get("address") or "").strip()
        detail = " ".join(str(body.get("detail") or "").split())[:_DETAIL]
        changed = _delivery(self.session, circular_id=circular_id, household_id=household_id,
                            address=address, event=event, detail=detail, at=at)
        if event in (MailEvent.BOUNCED, MailEvent.UNSUBSCRIBED):
            changed |= _problems(self.session, household_id=household_id, address=address,
                                 problem=MailProblemKind(event.value), detail=detail, at=at)
        read = False
        if event is MailEvent.OPENED and circular_id is not None:
            read = self.read({"circular_id": str(circular_id),
                              "household_id": str(household_id)}, at=at)
        return changed, read

    def disaster(self, body: Mapping[str, Any], *, at: datetime) -> bool:
        if self.local_disaster or not isinstance(body.get("on"), bool):
            return False
        return follow_relay_disaster_mode(self.session, on=bool(body["on"]),
                                          message=str(body.get("message", "")), at=at)

    def safety(self, items: Sequence[tuple[Mapping[str, Any], datetime, ReplyChannel]]) -> int:
        """Insert the safety answers not here yet (residents' from the page, and those other
        office PCs' officers gathered by phone or at the door), in one statement."""
        rows: dict[uuid.UUID, dict[str, Any]] = {}
        for body, at, channel in items:
            answer_id, household_id = _uuid(body.get("answer_id")), _uuid(
                body.get("household_id"))
            try:
                status = SafetyStatus(str(body.get("status")))
            except ValueError:
                continue
            if answer_id is None or household_id not in self.households:
                continue
            rows[answer_id] = {
                "id": answer_id, "household_id": household_id, "status": status,
                "note": str(body.get("note") or ""), "needs_help": body.get("needs_help") is True,
                "channel": channel, "at": _time(body.get("at"), at), "entered_by": "",
            }
        known = _existing(self.session, rows, col(SafetyAnswer.id))
        new = [row for answer_id, row in rows.items() if answer_id not in known]
        if new:
            # Straight to the driver, stored as the ORM stores them: a pull after a disaster
            # brings tens of thousands at once, and the ORM's bulk insert cost more than
            # SQLite did.
            self.session.flush()
            driver = self.session.connection().connection.driver_connection
            assert driver is not None
            driver.executemany(_SAFETY_INSERT, [
                (row["id"].hex, row["household_id"].hex, row["status"].value, row["note"],
                 row["needs_help"], row["channel"].value, stored_time(row["at"]),
                 row["entered_by"]) for row in new])
            audit.record_inserts(self.session, SafetyAnswer, new)
        return len(new)


_SAFETY_INSERT = ("INSERT INTO safety_answer (id, household_id, status, note, needs_help, "
                  "channel, at, entered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


_DETAIL = 500  # characters of an SMTP answer kept (they can run to several lines)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _delivery(session: Session, *, circular_id: uuid.UUID | None, household_id: uuid.UUID,
              address: str, event: MailEvent, detail: str, at: datetime) -> bool:
    """Keep the latest event of one mail. "Latest" goes by the event's time, not by the
    order applied: a page applied again (after an epoch change) must not put an older
    event back over a newer one."""
    circular = (col(MailDelivery.circular_id).is_(None) if circular_id is None
                else col(MailDelivery.circular_id) == circular_id)
    row = session.exec(select(MailDelivery).where(
        circular, MailDelivery.household_id == household_id,
        MailDelivery.address == address)).first()
    if row is None:
        session.add(MailDelivery(id=uuid7(), circular_id=circular_id, household_id=household_id,
                                 address=address, event=event, detail=detail, at=at))
        session.flush()
        return True
    if _aware(row.at) > at or (row.event, row.detail, _aware(row.at)) == (event, detail, at):
        return False
    row.event, row.detail, row.at = event, detail, at
    session.flush()
    return True


def _problems(session: Session, *, household_id: uuid.UUID, address: str,
              problem: MailProblemKind, detail: str, at: datetime) -> bool:
    """Note a bounced or stopped address (address "": every address of the household).

    Only addresses the relay is still given count: one the officer has since removed, or a
    household switched to another way meanwhile, has nothing left to fix."""
    household = session.get(Household, household_id)
    if household is None:
        return False
    current = outbox.mail_addresses(channel=household.channel, emails=household.emails,
                                    left_on=household.left_on)
    changed = False
    for each in (current if not address else [address] if address in current else []):
        row = session.get(MailProblem, (household_id, each))
        if row is None:
            session.add(MailProblem(household_id=household_id, address=each, problem=problem,
                                    detail=detail, at=at))
        elif _aware(row.at) <= at and (row.problem, row.detail) != (problem, detail):
            row.problem, row.detail, row.at = problem, detail, at
        else:
            continue
        changed = True
    if changed:
        session.flush()
    return changed


def _channel(body: Mapping[str, Any], default: ReplyChannel) -> ReplyChannel:
    try:
        return ReplyChannel(str(body.get("channel")))
    except ValueError:
        return default


def apply_items(session: Session, items: Sequence[LogItem]) -> Applied:
    """Apply one page of log items in the caller's transaction (with the cursor)."""
    page = _Page(session, items)
    answers = reads = disaster = skipped = meetings = mails = 0
    safety: list[tuple[Mapping[str, Any], datetime, ReplyChannel]] = []
    now = datetime.now(UTC)
    for item in items:
        at = _time(item.at, now)
        body = item.body if isinstance(item.body, Mapping) else {}
        if item.kind == LogKind.SAFETY:
            safety.append((body, at, ReplyChannel.APP))
            continue
        if item.kind == OpKind.SAFETY_RECORD:
            safety.append((body, at, _channel(body, ReplyChannel.PHONE)))
            continue
        if item.kind == LogKind.ANSWER:
            changed = page.answer(body, channel=_channel(body, ReplyChannel.APP), marks_read=True,
                                  at=_time(body.get("at"), at))
            answers += changed
        elif item.kind == OpKind.ANSWER_RECORD:
            changed = page.answer(body, channel=_channel(body, ReplyChannel.PAPER), at=at,
                                  marks_read=False)
            answers += changed
        elif item.kind == LogKind.READ:
            changed = page.read(body, at=_time(body.get("at"), at))
            reads += changed
        elif item.kind == OpKind.DISASTER_SET:
            changed = page.disaster(body, at=at)
            disaster += changed
        elif item.kind == LogKind.MEETING_ANSWER:
            changed = meeting_answer(session, body, at=_time(body.get("at"), at))
            meetings += changed
        elif item.kind == LogKind.MAIL:
            mailed, read = page.mail(body, at=_time(body.get("at"), at))
            mails += mailed
            reads += read
            changed = mailed or read
        else:  # households, circulars, invitations: this file is their source
            changed = False
        skipped += not changed
    added = page.safety(safety)
    return Applied(answers, reads, added, disaster, skipped + len(safety) - added, meetings,
                   mails)


# ---------------------------------------------------------------- general meetings

_FORMS: dict[str, EntryKind | None] = {
    "attend": None,  # a notice of coming: presence is checked in at the door on the day
    "absent": EntryKind.ABSENT,
    "proxy": EntryKind.PROXY,
    "written": EntryKind.WRITTEN,
}
_VOTES = {"for": Vote.FOR, "against": Vote.AGAINST, "abstain": Vote.ABSTAIN}
PROBLEM_CODE = "meeting_answer"  # error_code of a meeting form listed among the sync problems


def _voter_of(session: Session, meeting: Meeting, household_id: uuid.UUID) -> str:
    """The voter key of the household's one vote, or :class:`ValidationError` saying why the
    online form cannot be entered."""
    keys = session.exec(select(MeetingVoter.key).where(
        MeetingVoter.meeting_id == meeting.id,
        MeetingVoter.household_id == household_id)).all()
    if len(keys) == 1:
        return keys[0]
    household = session.get(Household, household_id)
    who = household.number if household is not None else str(household_id)
    if not keys:
        raise ValidationError(_(
            "An online form for 「{title}」 came from household {who}, which is not on its "
            "voter list. Check the record date; if the household should vote, enter its "
            "form by hand.").format(title=meeting.title, who=who))
    raise ValidationError(_(
        "An online form for 「{title}」 came from household {who}, which has {count} votes "
        "(one per member): the form cannot say whose vote it is. Enter the members' forms "
        "by hand.").format(title=meeting.title, who=who, count=len(keys)))


def _written_votes(session: Session, meeting_id: uuid.UUID, sent: Any) -> list[Vote | None]:
    """The resident's answers in agenda order (by item id; an item they had no line for is
    left unanswered)."""
    answers = sent if isinstance(sent, Mapping) else {}
    item_ids = session.exec(select(MeetingItem.id).where(MeetingItem.meeting_id == meeting_id)
                            .order_by(col(MeetingItem.position))).all()
    return [_VOTES.get(str(answers.get(str(item_id)))) for item_id in item_ids]


def meeting_answer(session: Session, body: Mapping[str, Any], *, at: datetime) -> bool:
    """Enter a household's online meeting form (its latest replaces its earlier online
    ones); returns whether anything changed. An answer not newer than the household's latest
    relay entry was applied before (a page pulled again) and changes nothing."""
    meeting_id, household_id = _uuid(body.get("meeting_id")), _uuid(body.get("household_id"))
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None or household_id is None or str(body.get("form")) not in _FORMS:
        return False  # a meeting deleted here since, or an item this version does not know
    try:
        voter_key = _voter_of(session, meeting, household_id)
        history = voter_entries(session, meeting_id=meeting.id, voter_key=voter_key)
        if any(entry.source is Source.RELAY and entry.entered_at >= at for entry in history):
            return False
        kind = _FORMS[str(body.get("form"))]
        by = _("Resident page")
        changed = False
        if kind is not None:
            proxy_to = body.get("proxy_to") if kind is EntryKind.PROXY else None
            votes = (_written_votes(session, meeting.id, body.get("votes"))
                     if kind is EntryKind.WRITTEN else ())
            outcome, _entry = record_entry(
                session, meeting_id=meeting.id, voter_key=voter_key, kind=kind,
                holder=str(proxy_to or ""), votes=votes, source=Source.RELAY, entered_by=by,
                entered_at=at, correct=True)
            changed = outcome is EntryOutcome.RECORDED
        # The household's current online form is the one that counts: its earlier online
        # forms of other kinds are cancelled (paper forms and check-ins stay as typed).
        cancelled = {entry.cancels for entry in history if entry.kind is EntryKind.CANCEL}
        for entry in history:
            if (entry.source is Source.RELAY and entry.kind is not kind
                    and entry.kind is not EntryKind.CANCEL and entry.sequence not in cancelled):
                cancel_entry(session, meeting_id=meeting.id, sequence=entry.sequence,
                             entered_by=by, entered_at=at)
                changed = True
    except KairanError as problem:
        outbox.set_aside(session, kind=LogKind.MEETING_ANSWER, body=body, code=PROBLEM_CODE,
                         message=problem.message)
        return False
    return changed


def read_markers(session: Session, *, circular_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
    """When each household first read a circular on the resident page (unread: absent)."""
    return dict(session.exec(select(CircularRead.household_id, CircularRead.read_at).where(
        CircularRead.circular_id == circular_id)).all())
