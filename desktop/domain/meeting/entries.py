"""Entering a general meeting's returns: who a typed number or scanned form is, the entries
themselves (出席・欠席・委任・書面議決), cancels, the show of hands, and the live tally.

Entries are append-only: a correction is a new entry that the tally reads as replacing the
earlier one of its kind, a mistake is voided by a cancel entry, and no row ever changes, so
the record shows who entered what and when. Entering the same form again writes nothing
(``UNCHANGED``); a different form of a kind already entered needs ``correct=True``.

Finding a voter (:func:`find_voter`) takes what the officer types or scans:

- a household number, in full or half width, with or without its leading zeros (``12`` for
  ``0012`` when only one number on the list reads so), or a form's QR code
  (:func:`meeting_slip_code`), whose tag catches a form of another meeting or a circular's
  reply slip;
- with one vote per member, ``0012-2`` (or ``0012/2``) for the 2nd member of household 0012
  on the voter list; the number alone finds the member when the household has only one, and
  otherwise the message lists them, numbered so;
- a voter key (as the entry screen's lists give).

A number that is not on the voter list gets a message saying why, when the roster knows:
the household joined after the record date, or withdrew on or before it, or no household has
that number. A household that withdrew *after* the record date is still a voter (the bylaws
count the record date); :func:`voter_note` says so for the screen to show.
"""

from __future__ import annotations

import enum
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from desktop.domain import gc_pause
from desktop.domain.errors import ConflictError, KairanError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.meeting import store_rows
from desktop.domain.meeting.meetings import item_records, meeting_rules
from desktop.domain.meeting.rules import AbsentHolder, VotingUnit
from desktop.domain.meeting.tally import (
    Entry,
    EntryKind,
    FloorVote,
    Source,
    Tally,
    Vote,
    Voter,
    tally,
)
from desktop.domain.models import (
    Circular,
    Household,
    Meeting,
    MeetingEntry,
    MeetingFloorVote,
    MeetingVoter,
)
from desktop.domain.slips import circular_tag, parse_slip_code, slip_code
from desktop.domain.wareki import format_dual
from desktop.i18n import N_, _

__all__ = [
    "AlreadyEntered",
    "EntryOutcome",
    "cancel_entry",
    "describe_entry",
    "find_voter",
    "meeting_slip_code",
    "meeting_tally",
    "record_entry",
    "record_floor_vote",
    "vote_label",
    "voter_entries",
    "voter_note",
]

_LONGEST_NUMBER = 15  # digits compared as an integer (leading zeros dropped) in SQLite
_MEMBER_PLACE = re.compile(r"(.+?)\s*[-/]\s*(\d{1,3})")
_CHAIR_WORDS = frozenset({"議長", "ぎちょう", "ギチョウ", "chair", "the chair"})
_MAX_COUNT = 1_000_000  # a show of hands larger than this is a typing slip


class EntryOutcome(enum.StrEnum):
    """What entering a form did."""

    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # the same form again: nothing written


class AlreadyEntered(ConflictError):
    """The voter has a different form of this kind already; enter it as a correction to
    replace it (the earlier entry stays on record)."""

    def __init__(self, message: str, *, existing: Entry) -> None:
        super().__init__(message, field="entry")
        self.existing = existing


_VOTE_LABELS: dict[Vote, str] = {
    Vote.FOR: N_("For"),
    Vote.AGAINST: N_("Against"),
    Vote.ABSTAIN: N_("Abstain"),
    Vote.BLANK: N_("Blank"),
    Vote.SPOILED: N_("Both ticked"),
}


def vote_label(vote: Vote | None) -> str:
    """One written answer in words (賛成, 反対 …); ``—`` for no answer."""
    return "—" if vote is None else _(_VOTE_LABELS[Vote(vote)])


def describe_entry(entry: Entry, *, holder: Voter | None = None) -> str:
    """An entry in a few words, as messages and the voter's history show it; ``holder`` is
    the proxy's holder when on the list (else its key is shown)."""
    if entry.kind is EntryKind.ATTEND:
        return _("Present in person")
    if entry.kind is EntryKind.ABSENT:
        return _("Absent")
    if entry.kind is EntryKind.PROXY:
        if entry.holder_key is None:
            return _("Proxy to the chair (blank)")
        name = holder.label if holder is not None else entry.holder_key
        return _("Proxy to {holder}").format(holder=name)
    if entry.kind is EntryKind.WRITTEN:
        return _("Written vote: {answers}").format(
            answers=" / ".join(vote_label(vote) for vote in entry.votes))
    return _("Cancels entry {sequence}").format(sequence=entry.cancels)


def meeting_slip_code(meeting_id: uuid.UUID, number: str) -> str:
    """The text of the QR code on a household's forms for one meeting."""
    return slip_code(meeting_id, number)


# ---------------------------------------------------------------- finding a voter


def _meeting(session: Session, meeting_id: uuid.UUID) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(_("This meeting no longer exists. Reload the list of meetings."))
    return meeting


_VOTER_FIELDS = "key, number, name, group_name, household_id"
_BY_KEY = f"SELECT {_VOTER_FIELDS} FROM meeting_voter WHERE meeting_id = ? AND key = ?"
_BY_NUMBER = (f"SELECT {_VOTER_FIELDS} FROM meeting_voter WHERE meeting_id = ? AND number = ? "
              "ORDER BY position")
_BY_VALUE = (f"SELECT {_VOTER_FIELDS} FROM meeting_voter WHERE meeting_id = ? "
             "AND number != '' AND number NOT GLOB '*[^0-9]*' AND length(number) <= ? "
             "AND CAST(number AS INTEGER) = ? ORDER BY position")


def _voters(session: Session, sql: str, parameters: Sequence[object]) -> list[Voter]:
    return [Voter(key, number, name, group, uuid.UUID(hex=household))
            for key, number, name, group, household in store_rows.fetch(session, sql,
                                                                         parameters)]


_HOUSEHOLD_BY_VALUE = ("SELECT id FROM household WHERE number != '' "
                       "AND number NOT GLOB '*[^0-9]*' AND length(number) <= ? "
                       "AND CAST(number AS INTEGER) = ?")


def _is_value(number: str) -> bool:
    return number.isascii() and number.isdigit() and len(number) <= _LONGEST_NUMBER


def _household_voters(session: Session, meeting_id: uuid.UUID, number: str) -> list[Voter]:
    """The voters of the household numbered ``number`` (``12`` finds ``0012`` when no
    other number on the list reads 12)."""
    found = _voters(session, _BY_NUMBER, (meeting_id.hex, number))
    if found or not _is_value(number):
        return found
    found = _voters(session, _BY_VALUE, (meeting_id.hex, _LONGEST_NUMBER, int(number)))
    return found if len({voter.number for voter in found}) == 1 else []


@dataclass(frozen=True, slots=True)
class _Found:
    """What a typed text names: the voters found (one, or a household's members) and the
    household number it was read as."""

    voters: list[Voter]
    number: str
    place: int | None = None  # the member's place asked for (``0012-2``)


def _lookup(session: Session, meeting: Meeting, typed: str) -> _Found:
    by_key = _voters(session, _BY_KEY, (meeting.id.hex, typed))
    if by_key:
        return _Found(by_key, by_key[0].number)
    found = _household_voters(session, meeting.id, typed)
    if found:
        return _Found(found, typed)
    unit = meeting_rules(meeting).voting_unit
    parts = _MEMBER_PLACE.fullmatch(typed)
    if unit is VotingUnit.MEMBER and parts is not None:
        number, place = parts[1], int(parts[2])
        return _Found(_household_voters(session, meeting.id, number), number, place)
    return _Found([], typed)


def _household(session: Session, number: str) -> Household | None:
    household = session.exec(select(Household).where(Household.number == number)).first()
    if household is not None or not _is_value(number):
        return household
    candidates = store_rows.fetch(session, _HOUSEHOLD_BY_VALUE, (_LONGEST_NUMBER, int(number)))
    return (session.get(Household, uuid.UUID(hex=candidates[0][0])) if len(candidates) == 1
            else None)


def _why_not_a_voter(session: Session, meeting: Meeting, number: str) -> KairanError:
    """Why ``number`` is not on the meeting's voter list, as the roster tells it."""
    household = _household(session, number)
    record = format_dual(meeting.record_date)
    if household is None:
        return NotFoundError(
            _("No household has the number {number}.").format(number=number), field="entry")
    who = f"{household.number} {household.display_name}"
    if household.joined_on is not None and household.joined_on > meeting.record_date:
        message = _("{who} joined on {joined}, after the record date {record}, so it is not "
                    "on the voter list of 「{title}」.").format(
            who=who, joined=format_dual(household.joined_on), record=record,
            title=meeting.title)
    elif household.left_on is not None and household.left_on <= meeting.record_date:
        message = _("{who} withdrew on {left}, on or before the record date {record}, so it "
                    "is not on the voter list of 「{title}」.").format(
            who=who, left=format_dual(household.left_on), record=record, title=meeting.title)
    elif meeting_rules(meeting).voting_unit is VotingUnit.MEMBER:
        message = _("{who} has no member on the voter list of 「{title}」 (it had no members "
                    "on the roster when the list was made).").format(who=who,
                                                                      title=meeting.title)
    else:
        message = _("{who} is not on the voter list of 「{title}」: it was added to the roster "
                    "after the list was made (the list can be made again until the first "
                    "entry).").format(who=who, title=meeting.title)
    return ValidationError(message, field="entry")


def _members_text(voters: Sequence[Voter]) -> str:
    return "、".join(f"{voter.number}-{place} {voter.name}"
                    for place, voter in enumerate(voters, start=1))


def _one_voter(found: _Found) -> Voter:
    """The voter ``found`` names, or the error asking which member."""
    voters, number = found.voters, found.number
    if found.place is not None:
        if 1 <= found.place <= len(voters):
            return voters[found.place - 1]
        raise ValidationError(
            _("Household {number} has {count} members on the voter list: {members}. Type "
              "one of these.").format(number=number, count=len(voters),
                                      members=_members_text(voters)), field="entry")
    if len(voters) > 1:
        raise ValidationError(
            _("Household {number} has {count} members on the voter list: {members}. Type the "
              "number with the member's place, for example {example}.").format(
                number=voters[0].number, count=len(voters), members=_members_text(voters),
                example=f"{voters[0].number}-2"), field="entry")
    return voters[0]


def _check_form_tag(session: Session, meeting: Meeting, tag: str | None) -> None:
    if tag is None or tag == circular_tag(meeting.id):
        return
    other = next((title for meeting_id, title in session.exec(
        select(Meeting.id, Meeting.title)).all() if circular_tag(meeting_id) == tag), None)
    if other is not None:
        raise ValidationError(
            _("This form belongs to 「{other}」, not to 「{title}」. Enter it on 「{other}」.")
            .format(other=other, title=meeting.title), field="entry")
    circular = next((title for circular_id, title in session.exec(
        select(Circular.id, Circular.title)).all() if circular_tag(circular_id) == tag), None)
    if circular is not None:
        raise ValidationError(
            _("This is a reply slip of the circular 「{circular}」, not a form of 「{title}」. "
              "Enter it on the replies of the circular.").format(circular=circular,
                                                                 title=meeting.title),
            field="entry")
    raise ValidationError(
        _("This form belongs to a meeting that is not in this file, not to 「{title}」. Check "
          "the form.").format(title=meeting.title), field="entry")


def find_voter(session: Session, *, meeting_id: uuid.UUID, entry: str) -> Voter:
    """The voter a typed number or a scanned form names (see the module's docstring).

    :class:`NotFoundError` when no household has the number; :class:`ValidationError` when
    the household is not on the voter list (saying why), when the form is another meeting's
    or a circular's, or, with one vote per member, to ask which member.
    """
    meeting = _meeting(session, meeting_id)
    slip = parse_slip_code(entry)
    _check_form_tag(session, meeting, slip.circular_tag)
    found = _lookup(session, meeting, slip.household_number)
    if found.voters:
        return _one_voter(found)
    error = _why_not_a_voter(session, meeting, found.number)
    advice = (_("Check the number on the form and type it again.")
              if isinstance(error, NotFoundError) else
              _("This form does not count: set it aside."))
    raise type(error)(f"{error.message} {advice}", field="entry")


def voter_note(session: Session, *, meeting_id: uuid.UUID, voter_key: str) -> str:
    """A word for the entry screen about a voter whose household has changed since the
    record date (withdrawn after it, or removed from the roster); empty when nothing."""
    meeting = _meeting(session, meeting_id)
    voter = session.get(MeetingVoter, (meeting_id, voter_key))
    if voter is None:
        return ""
    who = f"{voter.number} {voter.name}"
    household = session.get(Household, voter.household_id)
    if household is None:
        return _("{who} is no longer on the roster, but was a member on the record date: "
                 "still a voter at this meeting.").format(who=who)
    if household.left_on is not None:
        return _("{who} withdrew on {left}, after the record date {record}: still a voter at "
                 "this meeting.").format(who=who, left=format_dual(household.left_on),
                                         record=format_dual(meeting.record_date))
    return ""


# ---------------------------------------------------------------- entries


def _voter(session: Session, meeting: Meeting, voter_key: str) -> Voter:
    found = _voters(session, _BY_KEY, (meeting.id.hex, voter_key))
    if not found:
        raise NotFoundError(
            _("The voter {key} is not on the voter list of 「{title}」. Find the voter by the "
              "number on the form.").format(key=voter_key, title=meeting.title),
            field="entry")
    return found[0]


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _holder_key(session: Session, meeting: Meeting, giver: Voter, holder: str | None) -> str | None:
    """The voter key a proxy's holder is stored as: None for a blank proxy (白紙委任); the
    chair's key (when chosen) for a proxy written to 議長."""
    typed = unicodedata.normalize("NFKC", holder or "").strip()
    if not typed:
        return None
    if _folded(typed) in _CHAIR_WORDS:
        return meeting.chair_key
    slip = parse_slip_code(typed)
    found = _lookup(session, meeting, slip.household_number)
    if not found.voters:
        reason = _why_not_a_voter(session, meeting, found.number)
        if meeting_rules(meeting).absent_holder is AbsentHolder.TO_CHAIR:
            advice = _("A proxy can only go to a member on the voter list. If the form really "
                       "names someone else, the rules give the proxy to the chair: enter it "
                       "with the holder left empty.")
        else:
            advice = _("A proxy can only go to a member on the voter list. If the form really "
                       "names someone else, the rules let the proxy lapse: enter the form as "
                       "absent.")
        raise ValidationError(
            _("The proxy holder: {reason} {advice}").format(reason=reason.message,
                                                            advice=advice),
            field="holder")
    try:
        chosen = _one_voter(found)
    except ValidationError as error:
        raise ValidationError(_("The proxy holder: {reason}").format(reason=error.message),
                              field="holder") from None
    if chosen.key == giver.key:
        raise ValidationError(
            _("The proxy of {who} names {who} as the holder. A proxy goes to someone else: "
              "check the holder's number, or leave it empty for the chair.").format(
                who=giver.label), field="holder")
    return chosen.key


def _clean_votes(meeting: Meeting, session: Session,
                 votes: Sequence[Vote | int | None]) -> tuple[Vote | None, ...]:
    """A written vote's answers as stored: one per item printed on the forms (a missing
    answer on those is blank), then answers for items added later where there are some."""
    items = item_records(session, meeting.id)
    if not items:
        raise ValidationError(
            _("「{title}」 has no agenda items yet, so a written vote has nothing to answer. "
              "Add the items first.").format(title=meeting.title), field="votes")
    printed = sum(not item.added_after_forms for item in items)
    if len(votes) < printed:
        raise ValidationError(
            _("The written vote has answers for {count} items, but the forms list {printed}. "
              "Type an answer for every item (0 for one left blank).").format(
                count=len(votes), printed=printed), field="votes")
    if len(votes) > len(items):
        raise ValidationError(
            _("The written vote has answers for {count} items, but the agenda has only "
              "{items}.").format(count=len(votes), items=len(items)), field="votes")
    cleaned: list[Vote | None] = []
    for number, vote in enumerate(votes, start=1):
        if vote is None:
            cleaned.append(Vote.BLANK if number <= printed else None)
            continue
        try:
            cleaned.append(Vote(vote))
        except ValueError:
            raise ValidationError(
                _("Item {number}: {value} is not an answer. Use for, against, abstain, blank "
                  "or both ticked.").format(number=number, value=vote),
                field="votes") from None
    while len(cleaned) > printed and cleaned[-1] is None:
        cleaned.pop()
    return tuple(cleaned)


def _live_entries(entries: Sequence[Entry]) -> list[Entry]:
    """The entries not cancelled (cancels left out), latest last."""
    cancelled = {entry.cancels for entry in entries if entry.kind is EntryKind.CANCEL}
    live = [entry for entry in entries
            if entry.kind is not EntryKind.CANCEL and entry.sequence not in cancelled]
    return sorted(live, key=lambda entry: (entry.entered_at, entry.sequence))


def _next_sequence(session: Session, table: type[MeetingEntry] | type[MeetingFloorVote],
                   meeting_id: uuid.UUID) -> int:
    sql = f"SELECT coalesce(max(sequence), 0) + 1 FROM {table.__tablename__} WHERE meeting_id = ?"
    [(sequence,)] = store_rows.fetch(session, sql, (meeting_id.hex,))
    return int(sequence)


def _stored_time(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError("entry times must be timezone-aware")
    return value.astimezone(UTC)


def _append(session: Session, meeting: Meeting, entry: Entry) -> None:
    session.add(MeetingEntry(
        id=uuid7(), meeting_id=meeting.id, sequence=entry.sequence, voter_key=entry.voter_key,
        kind=entry.kind, holder_key=entry.holder_key,
        votes=[None if vote is None else int(vote) for vote in entry.votes],
        source=entry.source, cancels=entry.cancels, entered_at=entry.entered_at,
        entered_by=entry.entered_by))
    session.flush()


def record_entry(
    session: Session,
    *,
    meeting_id: uuid.UUID,
    voter_key: str,
    kind: EntryKind,
    holder: str | None = None,
    votes: Sequence[Vote | None] = (),
    source: Source = Source.FORM,
    entered_by: str,
    entered_at: datetime,
    correct: bool = False,
) -> tuple[EntryOutcome, Entry]:
    """Record one form (or a check-in at the door) for the voter with ``voter_key``.

    ``holder`` is a proxy's holder as typed: empty for a blank proxy (白紙委任, to the chair),
    議長 for the chair, else a number (``0012``, ``0012-2``) or key of a voter on the list —
    anyone else is refused with what to do instead. ``votes`` is a written vote's answer per
    agenda item: one for every item printed on the forms (``None`` there is blank), and for
    items added after the forms only where the form has them. The same form again is
    ``UNCHANGED`` (nothing written); a different one of a kind already entered raises
    :class:`AlreadyEntered` unless ``correct``, which appends it as the newer entry.
    """
    meeting = _meeting(session, meeting_id)
    kind = EntryKind(kind)
    if kind is EntryKind.CANCEL:
        raise ValueError("use cancel_entry to cancel an entry")
    if holder and kind is not EntryKind.PROXY:
        raise ValueError("only a proxy names a holder")
    if votes and kind is not EntryKind.WRITTEN:
        raise ValueError("only a written vote has answers")
    voter = _voter(session, meeting, voter_key)
    holder_key = (_holder_key(session, meeting, voter, holder) if kind is EntryKind.PROXY
                  else None)
    answers = _clean_votes(meeting, session, votes) if kind is EntryKind.WRITTEN else ()
    at = _stored_time(entered_at)
    by = " ".join(entered_by.split())
    history = store_rows.voter_entries(session, meeting_id, voter.key)
    earlier = [entry for entry in _live_entries(history) if entry.kind is kind]
    if earlier:
        latest = earlier[-1]
        if (latest.holder_key, latest.votes) == (holder_key, answers):
            return EntryOutcome.UNCHANGED, latest
        if not correct:
            named = [key for key in {latest.holder_key, holder_key} if key is not None]
            holders = {found.key: found
                       for found in store_rows.load_voters(session, meeting_id, named)}
            new = Entry(voter.key, kind, 0, at, by, holder_key, answers, source)
            raise AlreadyEntered(
                _("{who} already has 「{existing}」 (entry {sequence}, {date}{by}). To replace "
                  "it with 「{new}」, enter it again as a correction; the earlier entry stays "
                  "on record.").format(
                    who=voter.label,
                    existing=describe_entry(latest, holder=holders.get(latest.holder_key or "")),
                    sequence=latest.sequence,
                    date=format_dual(latest.entered_at.astimezone().date()),
                    by=f", {latest.entered_by}" if latest.entered_by else "",
                    new=describe_entry(new, holder=holders.get(holder_key or ""))),
                existing=latest)
    entry = Entry(voter.key, kind, _next_sequence(session, MeetingEntry, meeting_id), at, by,
                  holder_key, answers, source)
    _append(session, meeting, entry)
    return EntryOutcome.RECORDED, entry


def cancel_entry(session: Session, *, meeting_id: uuid.UUID, sequence: int, entered_by: str,
                 entered_at: datetime) -> Entry:
    """Void entry ``sequence`` (typed by mistake) with a cancel entry; returns the cancel.
    The voter then counts by their other entries, as if the cancelled one had not been typed."""
    meeting = _meeting(session, meeting_id)
    target = store_rows.entry_at(session, meeting_id, sequence)
    if target is None:
        raise NotFoundError(
            _("「{title}」 has no entry {sequence}. Check the entry number in the voter's "
              "history.").format(title=meeting.title, sequence=sequence), field="sequence")
    if target.kind is EntryKind.CANCEL:
        raise ValidationError(
            _("Entry {sequence} is itself a cancel and cannot be cancelled. Enter the form "
              "again instead.").format(sequence=sequence), field="sequence")
    earlier = [entry for entry in store_rows.voter_entries(session, meeting_id, target.voter_key)
               if entry.kind is EntryKind.CANCEL and entry.cancels == sequence]
    if earlier:
        raise ConflictError(
            _("Entry {sequence} was already cancelled by entry {cancel}.").format(
                sequence=sequence, cancel=earlier[0].sequence), field="sequence")
    entry = Entry(target.voter_key, EntryKind.CANCEL,
                  _next_sequence(session, MeetingEntry, meeting_id), _stored_time(entered_at),
                  " ".join(entered_by.split()), cancels=sequence)
    _append(session, meeting, entry)
    return entry


def record_floor_vote(session: Session, *, meeting_id: uuid.UUID, item_index: int, for_: int,
                      against: int, abstain: int, entered_by: str,
                      entered_at: datetime) -> FloorVote:
    """Record the show of hands (挙手) on one item; a recount is recorded the same way and the
    latest counts."""
    meeting = _meeting(session, meeting_id)
    items = item_records(session, meeting_id)
    if not 0 <= item_index < len(items):
        raise NotFoundError(
            _("Item {number} is not on the agenda of 「{title}」. Reload the meeting.").format(
                number=item_index + 1, title=meeting.title), field="items")
    for count in (for_, against, abstain):
        if not 0 <= count <= _MAX_COUNT:
            raise ValidationError(
                _("A show of hands counts from 0 upwards; {count} cannot be right. Count "
                  "again and type the number of hands.").format(count=count), field="floor")
    vote = FloorVote(item_index, for_, against, abstain,
                     _next_sequence(session, MeetingFloorVote, meeting_id))
    session.add(MeetingFloorVote(
        id=uuid7(), meeting_id=meeting_id, item_index=item_index, for_=for_, against=against,
        abstain=abstain, sequence=vote.sequence, entered_at=_stored_time(entered_at),
        entered_by=" ".join(entered_by.split())))
    session.flush()
    return vote


# ---------------------------------------------------------------- reading


def voter_entries(session: Session, *, meeting_id: uuid.UUID, voter_key: str) -> list[Entry]:
    """Every entry typed for one voter, cancels included, in the order they were typed."""
    _meeting(session, meeting_id)
    return store_rows.voter_entries(session, meeting_id, voter_key)


def meeting_tally(session: Session, *, meeting_id: uuid.UUID) -> Tally:
    """The tally of the meeting now, by its own rules, from every entry ever typed."""
    meeting = _meeting(session, meeting_id)
    items = [item.agenda_item for item in item_records(session, meeting_id)]
    with gc_pause.no_gc_pauses():  # the whole count makes no cycles
        return tally(voters=store_rows.load_voters(session, meeting_id),
                     entries=store_rows.load_entries(session, meeting_id), items=items,
                     rules=meeting_rules(meeting),
                     floor_votes=store_rows.load_floor_votes(session, meeting_id),
                     chair_key=meeting.chair_key)
