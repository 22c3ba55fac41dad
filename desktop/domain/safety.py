"""Disaster mode (災害モード) and the safety check (安否確認).

An officer switches disaster mode on (it reaches the relay like any change, through the
outbox), the resident page turns into the safety check, and the answers come back: 問題なし,
連絡要, 至急支援要, with a note and whether anyone at home needs help. Officers enter the
answers they gather by phone or at the door. The board shows, per 班, who has answered since
the event started, who has not, who needs contact and who needs help now; the newest answer
of a household is its state. Switching back keeps every event and answer.

Every function takes a session and plain values; the caller's transaction makes each call
all-or-nothing.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import group_tree
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    DisasterEvent,
    GroupKind,
    Household,
    ReplyChannel,
    SafetyAnswer,
    SafetyStatus,
)
from desktop.i18n import N_, _
from sync import outbox

MAX_MESSAGE_LENGTH = 400
MAX_NOTE_LENGTH = 400

_STATUS_LABELS: dict[SafetyStatus, str] = {
    SafetyStatus.OK: N_("Safe (問題なし)"),
    SafetyStatus.CONTACT: N_("Needs contact (連絡要)"),
    SafetyStatus.URGENT: N_("Needs help now (至急支援要)"),
}


def status_label(status: SafetyStatus) -> str:
    """A safety status in the officer's language."""
    return _(_STATUS_LABELS[SafetyStatus(status)])


@dataclass(frozen=True, slots=True)
class DisasterState:
    """The newest disaster event: on while ``ended_at`` is None."""

    event_id: uuid.UUID
    message: str
    started_at: datetime
    ended_at: datetime | None

    @property
    def on(self) -> bool:
        """Whether disaster mode is on now."""
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class HouseholdSafety:
    """One household on the board, with its newest answer since the event started."""

    household_id: uuid.UUID
    number: str
    display_name: str
    address: str
    phone: str
    status: SafetyStatus | None  # None: no answer yet
    needs_help: bool
    note: str
    channel: ReplyChannel | None
    at: datetime | None

    @property
    def needs_contact(self) -> bool:
        """連絡要, or safe but someone at home needs help: an officer should get in touch."""
        return self.status == SafetyStatus.CONTACT or (
            self.status == SafetyStatus.OK and self.needs_help)


@dataclass(frozen=True, slots=True)
class GroupSafety:
    """One 班's line on the board (households in no 班: group None, name "")."""

    group_id: uuid.UUID | None
    group_name: str
    households: tuple[HouseholdSafety, ...]

    @property
    def answered(self) -> int:
        """Households with an answer since the event started."""
        return sum(h.status is not None for h in self.households)

    @property
    def unanswered(self) -> tuple[HouseholdSafety, ...]:
        """Households still to check, in route order."""
        return tuple(h for h in self.households if h.status is None)

    @property
    def needs_contact(self) -> int:
        """Households an officer should get in touch with."""
        return sum(h.needs_contact for h in self.households)

    @property
    def needs_help_now(self) -> int:
        """Households that asked for help now (至急支援要)."""
        return sum(h.status == SafetyStatus.URGENT for h in self.households)


@dataclass(frozen=True, slots=True)
class SafetyBoard:
    """The board of one disaster event, per 班 in the group tree's order."""

    state: DisasterState | None
    groups: tuple[GroupSafety, ...]


# ---------------------------------------------------------------- disaster mode


def _state(event: DisasterEvent) -> DisasterState:
    return DisasterState(event.id, event.message, event.started_at, event.ended_at)


def _latest(session: Session) -> DisasterEvent | None:
    return session.exec(select(DisasterEvent).order_by(
        col(DisasterEvent.started_at).desc(), col(DisasterEvent.id).desc())).first()


def disaster_state(session: Session) -> DisasterState | None:
    """The newest disaster event (on or over), or None when there has never been one."""
    event = _latest(session)
    return _state(event) if event is not None else None


def disaster_events(session: Session) -> list[DisasterState]:
    """Every disaster event, newest first (the record of past safety checks)."""
    events = session.exec(select(DisasterEvent).order_by(
        col(DisasterEvent.started_at).desc(), col(DisasterEvent.id).desc())).all()
    return [_state(event) for event in events]


def _switch(session: Session, *, on: bool, message: str, at: datetime, by: str) -> bool:
    event = _latest(session)
    if on and (event is None or event.ended_at is not None):
        session.add(DisasterEvent(id=uuid7(), message=message, started_at=at, started_by=by))
    elif on and event is not None:
        if event.message == message:
            return False
        event.message = message  # still on: only the message to residents changes
    elif event is not None and event.ended_at is None:
        event.ended_at = at
    else:
        return False
    session.flush()
    return True


def set_disaster_mode(session: Session, *, on: bool, message: str = "", at: datetime,
                      by: str = "") -> None:
    """Switch disaster mode on (a new event starts) or off (the record stays); ``message`` is
    what the resident page shows above the safety check. The relay follows."""
    message = " ".join(unicodedata.normalize("NFC", message).split())
    if len(message) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            _("The message is longer than {count} characters. Keep it short: residents read "
              "it on a phone.").format(count=MAX_MESSAGE_LENGTH), field="message")
    if _switch(session, on=on, message=message, at=at, by=by.strip()):
        outbox.disaster_switched(session, on=on, message=message)


def follow_relay_disaster_mode(session: Session, *, on: bool, message: str,
                               at: datetime) -> bool:
    """Take over a switch made on another office PC (nothing is queued); True if it changed
    anything here."""
    return _switch(session, on=on, message=message, at=at, by="")


# ---------------------------------------------------------------- answers


def _household_by_number(session: Session, entry: str) -> Household:
    number = unicodedata.normalize("NFKC", entry).strip()
    if not number:
        raise ValidationError(_("Type the household number (世帯番号)."), field="entry")
    household = session.exec(select(Household).where(Household.number == number)).first()
    if household is None and number.isascii() and number.isdigit() and len(number) <= 15:
        candidates = session.exec(select(Household).where(  # "12" for 0012
            text("household.number != '' AND household.number NOT GLOB '*[^0-9]*' "
                 "AND length(household.number) <= 15 "
                 "AND CAST(household.number AS INTEGER) = :value"))
            .params(value=int(number))).all()
        household = candidates[0] if len(candidates) == 1 else None
    if household is None:
        raise NotFoundError(
            _("No household has the number {number}. Check the number and type it again.")
            .format(number=number), field="entry")
    if household.left_on is not None:
        raise ConflictError(
            _("{number} {name} has withdrawn from the association.").format(
                number=household.number, name=household.display_name), field="entry")
    return household


def record_safety_answer(
    session: Session,
    *,
    entry: str,
    status: SafetyStatus,
    at: datetime,
    channel: ReplyChannel = ReplyChannel.PHONE,
    needs_help: bool = False,
    note: str = "",
    entered_by: str = "",
) -> HouseholdSafety:
    """Record an answer an officer gathered (by phone, at the door…) for the household with
    number ``entry``; it becomes the household's state on the board."""
    if disaster_state(session) is None:
        raise ConflictError(
            _("Disaster mode has never been switched on, so there is no safety check to "
              "record answers for. Switch it on first."))
    household = _household_by_number(session, entry)
    note = " ".join(unicodedata.normalize("NFC", note).split())
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(
            _("The note is longer than {count} characters. Shorten it.").format(
                count=MAX_NOTE_LENGTH), field="note")
    answer = SafetyAnswer(id=uuid7(), household_id=household.id, status=SafetyStatus(status),
                          note=note, needs_help=needs_help, channel=ReplyChannel(channel),
                          at=at, entered_by=entered_by.strip())
    session.add(answer)
    session.flush()
    outbox.safety_recorded(session, answer=answer)
    return HouseholdSafety(household.id, household.number, household.display_name,
                           household.address, household.phone, answer.status, needs_help,
                           note, answer.channel, at)


# ---------------------------------------------------------------- the board


_NO_ANSWER = (None, False, "", None, None)


def safety_board(session: Session, *, event_id: uuid.UUID | None = None) -> SafetyBoard:
    """Every current household per 班 (tree order, then circulation order) with its newest
    answer since the event started (the newest event unless ``event_id`` is given)."""
    event = session.get(DisasterEvent, event_id) if event_id is not None else _latest(session)
    state = _state(event) if event is not None else None
    latest: dict[uuid.UUID, tuple[SafetyStatus | None, bool, str, ReplyChannel | None,
                                  datetime | None]] = {}
    if event is not None:
        newest = (select(SafetyAnswer.household_id, func.max(SafetyAnswer.at).label("at"))
                  .where(col(SafetyAnswer.at) >= event.started_at))
        if event.ended_at is not None:
            newest = newest.where(col(SafetyAnswer.at) <= event.ended_at)
        newest_sub = newest.group_by(col(SafetyAnswer.household_id)).subquery()
        rows = session.exec(
            select(SafetyAnswer).join(
                newest_sub, (col(SafetyAnswer.household_id) == newest_sub.c.household_id)
                & (col(SafetyAnswer.at) == newest_sub.c.at))
            .order_by(col(SafetyAnswer.id))).all()
        for answer in rows:  # two answers in the same second: the later id wins
            latest[answer.household_id] = (SafetyStatus(answer.status), answer.needs_help,
                                           answer.note, ReplyChannel(answer.channel),
                                           answer.at)
    households = session.exec(
        select(Household).where(col(Household.left_on).is_(None))
        .order_by(col(Household.circulation_order), col(Household.number))).all()
    by_group: dict[uuid.UUID | None, list[HouseholdSafety]] = {}
    for household in households:
        by_group.setdefault(household.group_id, []).append(HouseholdSafety(
            household.id, household.number, household.display_name, household.address,
            household.phone, *latest.get(household.id, _NO_ANSWER)))
    groups = [GroupSafety(node.id, node.name, tuple(by_group[node.id]))
              for node in group_tree(session, counts={})
              if node.kind == GroupKind.HAN and node.id in by_group]
    if None in by_group:
        groups.append(GroupSafety(None, "", tuple(by_group[None])))
    return SafetyBoard(state, tuple(groups))
