"""General meetings (総会): the association's rules, each meeting with its agenda, and the
voter list of the record date.

The association's rules are kept once (``meeting_rules``) and copied into each meeting when it
is made, so changing them later leaves past meetings as they were counted. A meeting's voter
list is a snapshot of the roster on its record date (基準日), taken when the meeting is made:

- a household is on it when it joined on or before the record date (no joining date counts as
  always a member) and had not withdrawn on or before it; one that withdrew *after* the record
  date stays on it (the bylaws count the record date), one that joined after it is not;
- one vote per household: the voter's key is the household number (世帯番号);
- one vote per member: every member of those households, as the roster has them when the list
  is made (the roster keeps no dates for members); the key is the member's id (32 hex digits),
  the number the household's. A typed ``0012-2`` is the 2nd member of household 0012 (see
  :func:`desktop.domain.meeting.entries.find_voter`).

The list is ordered for the 班長: 班 in the order of the group tree, then the 回覧板 route, then
the number (households in no 班 last). It is taken again when the record date or the voting
unit changes, or on :func:`refresh_voters`, but only while nothing has been entered: entries
name voters by key.

Every function takes a session and plain values; the caller's transaction makes each call
all-or-nothing (``AssociationFile.write``).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from desktop.domain import audit
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import group_tree
from desktop.domain.ids import uuid7
from desktop.domain.meeting import store_rows
from desktop.domain.meeting.rules import MAJORITY_OF_PRESENT, Base, Majority, Rules, VotingUnit
from desktop.domain.meeting.tally import AgendaItem, EntryKind, Voter
from desktop.domain.models import (
    Meeting,
    MeetingEntry,
    MeetingFloorVote,
    MeetingItem,
    MeetingRules,
    MeetingVoter,
)
from desktop.domain.wareki import format_dual
from desktop.i18n import _
from sync import outbox

__all__ = [
    "MAX_ITEMS",
    "MAX_TITLE_LENGTH",
    "MIN_REFERENCE_LENGTH",
    "ItemData",
    "ItemRecord",
    "MeetingData",
    "MeetingRecord",
    "MeetingSummary",
    "add_item",
    "clean_item",
    "clean_meeting",
    "create_meeting",
    "delete_meeting",
    "entry_count",
    "find_meeting",
    "get_meeting",
    "get_rules",
    "item_records",
    "list_meetings",
    "mark_forms_printed",
    "meeting_rules",
    "meeting_voters",
    "refresh_voters",
    "remove_item",
    "returned_count",
    "save_rules",
    "set_chair",
    "set_rules",
    "update_item",
    "update_meeting",
]

MAX_TITLE_LENGTH = 100
MAX_ITEMS = 20  # what one written-vote form (書面議決書) can list legibly
MIN_REFERENCE_LENGTH = 4
_RULES_ROW = 1


@dataclass(frozen=True, slots=True)
class ItemData:
    """An agenda item (議案) as the editor gives it."""

    title: str
    majority: Majority = MAJORITY_OF_PRESENT


@dataclass(frozen=True, slots=True)
class MeetingData:
    """The editable facts of a meeting."""

    title: str
    held_on: date
    place: str
    record_date: date  # 基準日: the voter list is the roster of this day
    online_forms: bool = False  # residents may send their forms on the relay's page


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A saved agenda item; ``index`` (from 0) is its place in every written vote."""

    index: int
    title: str
    majority: Majority
    added_after_forms: bool

    @property
    def agenda_item(self) -> AgendaItem:
        """The item as the tally engine takes it."""
        return AgendaItem(self.title, self.majority, self.added_after_forms)


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    """A saved meeting, as :func:`get_meeting` returns it."""

    id: uuid.UUID
    data: MeetingData
    rules: Rules
    items: tuple[ItemRecord, ...]
    voters: int
    chair_key: str | None
    forms_printed_at: datetime | None
    entries: int  # every entry typed, cancels included


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    """One line of the list of meetings."""

    id: uuid.UUID
    title: str
    held_on: date
    voters: int
    returned: int  # voters with an entry that is not cancelled


# ---------------------------------------------------------------- the association's rules


def _rules_json(rules: Rules) -> dict[str, object]:
    return rules.as_dict()


def get_rules(session: Session) -> Rules:
    """The association's meeting rules (the defaults until they are saved)."""
    row = session.get(MeetingRules, _RULES_ROW)
    return Rules() if row is None else Rules.from_dict(dict(row.rules))


def save_rules(session: Session, *, rules: Rules) -> None:
    """Keep ``rules`` as the association's; meetings made from now on start with them."""
    row = session.get(MeetingRules, _RULES_ROW)
    if row is None:
        row = MeetingRules(id=_RULES_ROW)
        session.add(row)
    row.rules = _rules_json(rules)
    row.updated_at = datetime.now(UTC).replace(microsecond=0)
    session.flush()


# ---------------------------------------------------------------- validation


def _single_line(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def clean_meeting(data: MeetingData) -> MeetingData:
    """The meeting as it will be stored, or :class:`ValidationError` naming the field."""
    title = _single_line(data.title)
    if not title:
        raise ValidationError(
            _("The title is empty. Type a title such as 令和8年度 定期総会."), field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationError(
            _("The title is longer than {count} characters. Shorten it.").format(
                count=MAX_TITLE_LENGTH), field="title")
    place = _single_line(data.place)
    if len(place) > MAX_TITLE_LENGTH:
        raise ValidationError(
            _("The place is longer than {count} characters. Shorten it.").format(
                count=MAX_TITLE_LENGTH), field="place")
    if data.record_date > data.held_on:
        raise ValidationError(
            _("The record date {record} is after the meeting ({held}). The voter list is "
              "taken on or before the day of the meeting: choose an earlier record date.")
            .format(record=format_dual(data.record_date), held=format_dual(data.held_on)),
            field="record_date")
    return MeetingData(title=title, held_on=data.held_on, place=place,
                       record_date=data.record_date, online_forms=bool(data.online_forms))


def clean_item(number: int, item: ItemData) -> ItemData:
    """Agenda item ``number`` (from 1) as it will be stored, or :class:`ValidationError`."""
    title = _single_line(item.title)
    if not title:
        raise ValidationError(
            _("Item {number} has no title. Type its title, for example 令和7年度事業報告の承認"
              "について, or remove it.").format(number=number), field="items")
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationError(
            _("The title of item {number} is longer than {count} characters. Shorten it.")
            .format(number=number, count=MAX_TITLE_LENGTH), field="items")
    if not isinstance(item.majority, Majority):
        raise TypeError(f"item {number}: the majority must be a Majority")
    return ItemData(title=title, majority=item.majority)


def _check_item_count(count: int) -> None:
    if count > MAX_ITEMS:
        raise ValidationError(
            _("A meeting can have at most {count} agenda items on its forms.").format(
                count=MAX_ITEMS), field="items")


def _majority_json(majority: Majority) -> dict[str, object]:
    return asdict(majority)


def _majority_of(stored: dict[str, Any]) -> Majority:
    return Majority(int(stored["numerator"]), int(stored["denominator"]),
                    strict=bool(stored["strict"]), base=Base(stored["base"]))


# ---------------------------------------------------------------- stored form


def _meeting(session: Session, meeting_id: uuid.UUID) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(_("This meeting no longer exists. Reload the list of meetings."))
    return meeting


def meeting_rules(meeting: Meeting) -> Rules:
    """A meeting's own copy of the rules."""
    return Rules.from_dict(dict(meeting.rules))


def _items(session: Session, meeting_id: uuid.UUID) -> list[MeetingItem]:
    return list(session.exec(select(MeetingItem).where(MeetingItem.meeting_id == meeting_id)
                             .order_by(col(MeetingItem.position))).all())


def item_records(session: Session, meeting_id: uuid.UUID) -> tuple[ItemRecord, ...]:
    """The agenda of a meeting, in order."""
    return tuple(ItemRecord(item.position, item.title, _majority_of(dict(item.majority)),
                            item.added_after_forms)
                 for item in _items(session, meeting_id))


def _count(session: Session, table: type[MeetingVoter] | type[MeetingEntry],
           meeting_id: uuid.UUID) -> int:
    return int(session.exec(select(func.count()).select_from(table)
                            .where(col(table.meeting_id) == meeting_id)).one())


def entry_count(session: Session, meeting_id: uuid.UUID) -> int:
    """How many entries the meeting has (cancels included)."""
    return _count(session, MeetingEntry, meeting_id)


def _check_no_entries(session: Session, meeting: Meeting, message: str) -> None:
    count = entry_count(session, meeting.id)
    if count:
        raise ConflictError(message.format(title=meeting.title, count=count))


# ---------------------------------------------------------------- the voter list


_HOUSEHOLD_VOTERS = (
    "SELECT h.id, NULL, h.number, h.display_name, h.group_id, h.circulation_order, 0 "
    "FROM household AS h "
    "WHERE (h.joined_on IS NULL OR h.joined_on <= ?) "
    "AND (h.left_on IS NULL OR h.left_on > ?)")
_MEMBER_VOTERS = (
    "SELECT h.id, m.id, h.number, m.name, h.group_id, h.circulation_order, m.position "
    "FROM household AS h JOIN member AS m ON m.household_id = h.id "
    "WHERE (h.joined_on IS NULL OR h.joined_on <= ?) "
    "AND (h.left_on IS NULL OR h.left_on > ?)")


def _group_places(session: Session) -> dict[str, tuple[int, str]]:
    """Each group's place in the group tree and the name the chase list uses: the 班's own
    name, or ``地区 班`` where two 班 of different 地区 share a name."""
    nodes = group_tree(session, counts={})
    names = {node.id: node.name for node in nodes}
    shared = {name for name, count in Counter(names.values()).items() if count > 1}
    places: dict[str, tuple[int, str]] = {}
    for place, node in enumerate(nodes, start=1):
        name = node.name
        if name in shared and node.parent_id is not None:
            name = f"{names[node.parent_id]} {name}"
        places[node.id.hex] = (place, name)
    return places


def _voter_rows(session: Session, record_date: date,
                unit: VotingUnit) -> list[store_rows.VoterRow]:
    """The voter list of ``record_date`` in list order, as stored."""
    sql = _MEMBER_VOTERS if unit is VotingUnit.MEMBER else _HOUSEHOLD_VOTERS
    places = _group_places(session)
    no_group = (0, "")
    found = []
    day = record_date.isoformat()
    for household, member, number, name, group, order, member_place in store_rows.fetch(
            session, sql, (day, day)):
        place, group_name = places.get(group, no_group) if group else no_group
        found.append((place == 0, place, order, number, member_place, member or "",
                      household, member, name, group_name))
    found.sort(key=lambda row: row[:6])  # 班, route, number, member: never a tie
    return [(number if member is None else member, household, member, number, name,
             group_name, place, order, position)
            for position, (_none, place, order, number, _mp, _m, household, member, name,
                           group_name) in enumerate(found)]


def _snapshot(session: Session, meeting: Meeting, unit: VotingUnit) -> int:
    """Take the voter list of the meeting's record date again; returns its length."""
    before = _count(session, MeetingVoter, meeting.id)
    session.execute(delete(MeetingVoter).where(col(MeetingVoter.meeting_id) == meeting.id))
    rows = _voter_rows(session, meeting.record_date, unit)
    store_rows.insert_voters(session, meeting.id, rows)
    _record_voters(session, meeting, before, len(rows))
    if meeting.chair_key is not None and meeting.chair_key not in {row[0] for row in rows}:
        meeting.chair_key = None  # the chair is chosen again from the new list
    session.flush()
    return len(rows)


def _record_voters(session: Session, meeting: Meeting, before: int, after: int) -> None:
    """The audit record of a voter list taken or dropped: how many, not who (it is a
    snapshot of the roster, whose changes are recorded themselves)."""
    if not before and not after:
        return
    audit.record(session, action="update" if before and after else
                 "insert" if after else "delete", entity=MeetingVoter.__tablename__,
                 entity_id=meeting.id.hex, summary=meeting.title,
                 changes={"voters": (before or None, after or None)})


def refresh_voters(session: Session, *, meeting_id: uuid.UUID) -> int:
    """Take the voter list again from the roster as it is now (households added or corrected
    since the meeting was made); returns how many voters. Refused once anything is entered."""
    meeting = _meeting(session, meeting_id)
    _check_no_entries(session, meeting, _(
        "The voter list of 「{title}」 cannot be made again: {count} entries are recorded "
        "against it, so the list stays as it was taken."))
    return _snapshot(session, meeting, meeting_rules(meeting).voting_unit)


def meeting_voters(session: Session, *, meeting_id: uuid.UUID) -> list[Voter]:
    """The voter list, in 班 order then route order (then member order)."""
    _meeting(session, meeting_id)
    return store_rows.load_voters(session, meeting_id)


# ---------------------------------------------------------------- writing


def create_meeting(session: Session, *, data: MeetingData, items: Sequence[ItemData]) -> uuid.UUID:
    """Save a new meeting with its agenda and the association's rules, and take its voter
    list (see the module's docstring); returns its id."""
    data = clean_meeting(data)
    cleaned = [clean_item(number, item) for number, item in enumerate(items, start=1)]
    _check_item_count(len(cleaned))
    rules = get_rules(session)
    meeting = Meeting(id=uuid7(), title=data.title, held_on=data.held_on, place=data.place,
                      record_date=data.record_date, rules=_rules_json(rules),
                      online_forms=data.online_forms)
    session.add(meeting)
    session.flush()
    for position, item in enumerate(cleaned):
        session.add(MeetingItem(id=uuid7(), meeting_id=meeting.id, position=position,
                                title=item.title, majority=_majority_json(item.majority)))
    _snapshot(session, meeting, rules.voting_unit)
    return meeting.id


def update_meeting(session: Session, *, meeting_id: uuid.UUID, data: MeetingData) -> None:
    """Change the title, date, place or record date. A new record date takes the voter list
    again, which is refused once anything is entered (:class:`ConflictError`)."""
    meeting = _meeting(session, meeting_id)
    data = clean_meeting(data)
    new_date = data.record_date != meeting.record_date
    if new_date:
        _check_no_entries(session, meeting, _(
            "The record date of 「{title}」 cannot change: {count} entries are recorded "
            "against the voter list of the present record date."))
    meeting.title = data.title
    meeting.held_on = data.held_on
    meeting.place = data.place
    meeting.record_date = data.record_date
    was_online, meeting.online_forms = meeting.online_forms, data.online_forms
    session.flush()
    if new_date:
        _snapshot(session, meeting, meeting_rules(meeting).voting_unit)
    if was_online or meeting.online_forms:
        _republish(session, meeting)


def set_rules(session: Session, *, meeting_id: uuid.UUID, rules: Rules) -> None:
    """Change this meeting's rules; the tally is counted again from the entries. Changing
    the voting unit takes the voter list again, so it is refused once anything is entered."""
    meeting = _meeting(session, meeting_id)
    new_unit = rules.voting_unit is not meeting_rules(meeting).voting_unit
    if new_unit:
        _check_no_entries(session, meeting, _(
            "The voting unit of 「{title}」 cannot change: {count} entries are recorded "
            "against its voter list. Keep the voting unit, or make a new meeting."))
    meeting.rules = _rules_json(rules)
    session.flush()
    if new_unit:
        _snapshot(session, meeting, rules.voting_unit)


def _written_votes(session: Session, meeting_id: uuid.UUID) -> int:
    return int(session.exec(select(func.count()).select_from(MeetingEntry).where(
        MeetingEntry.meeting_id == meeting_id, MeetingEntry.kind == EntryKind.WRITTEN)).one())


def add_item(session: Session, *, meeting_id: uuid.UUID, item: ItemData) -> int:
    """Add an item at the end of the agenda; returns its index. Once the forms are printed
    (or written votes are entered, say from the relay) it is marked as added after the
    forms: the written votes made without it have no answer for it and are not counted on
    it, rather than read as blank."""
    meeting = _meeting(session, meeting_id)
    count = len(_items(session, meeting_id))
    cleaned = clean_item(count + 1, item)
    _check_item_count(count + 1)
    late = meeting.forms_printed_at is not None or _written_votes(session, meeting_id) > 0
    session.add(MeetingItem(id=uuid7(), meeting_id=meeting_id, position=count,
                            title=cleaned.title, majority=_majority_json(cleaned.majority),
                            added_after_forms=late))
    session.flush()
    if meeting.online_forms:
        _republish(session, meeting)
    return count


def _item(session: Session, meeting_id: uuid.UUID, index: int) -> MeetingItem:
    item = session.exec(select(MeetingItem).where(MeetingItem.meeting_id == meeting_id,
                                                  MeetingItem.position == index)).first()
    if item is None:
        raise NotFoundError(
            _("Item {number} is not on the agenda. Reload the meeting.").format(
                number=index + 1), field="items")
    return item


def update_item(session: Session, *, meeting_id: uuid.UUID, index: int, item: ItemData) -> None:
    """Change an item's title or majority (the tally is counted again)."""
    meeting = _meeting(session, meeting_id)
    stored = _item(session, meeting_id, index)
    cleaned = clean_item(index + 1, item)
    retitled = stored.title != cleaned.title
    stored.title = cleaned.title
    stored.majority = _majority_json(cleaned.majority)
    session.flush()
    if retitled and meeting.online_forms:
        _republish(session, meeting)


def remove_item(session: Session, *, meeting_id: uuid.UUID, index: int) -> None:
    """Take an item off the agenda; the later ones move up. Refused once the forms are
    printed or written votes or show-of-hands counts are recorded: their answers are kept by
    the items' places."""
    meeting = _meeting(session, meeting_id)
    stored = _item(session, meeting_id, index)
    if meeting.forms_printed_at is not None:
        raise ConflictError(
            _("Item {number} is printed on the forms already and cannot be removed. If it "
              "is withdrawn, leave it on the agenda and record that in the minutes.").format(
                  number=index + 1), field="items")
    counted = session.exec(select(func.count()).select_from(MeetingFloorVote).where(
        MeetingFloorVote.meeting_id == meeting_id)).one()
    if _written_votes(session, meeting_id) or counted:
        raise ConflictError(
            _("Item {number} cannot be removed: written votes or a show of hands are already "
              "recorded for the agenda as it is.").format(number=index + 1), field="items")
    session.delete(stored)
    for later in _items(session, meeting_id):
        if later.position > index:
            later.position -= 1
    session.flush()


def delete_meeting(session: Session, *, meeting_id: uuid.UUID) -> None:
    """Delete a meeting made by mistake, with its agenda and voter list. Refused once
    anything is entered: the entries are the record of the meeting."""
    meeting = _meeting(session, meeting_id)
    _check_no_entries(session, meeting, _(
        "「{title}」 cannot be deleted: {count} entries are recorded for it, and they are the "
        "record of the meeting."))
    counted = session.exec(select(func.count()).select_from(MeetingFloorVote).where(
        MeetingFloorVote.meeting_id == meeting_id)).one()
    if counted:
        raise ConflictError(
            _("「{title}」 cannot be deleted: the show of hands is recorded for it.").format(
                title=meeting.title))
    if meeting.forms_printed_at is not None and meeting.online_forms:
        outbox.meeting_retracted(session, meeting_id=meeting_id)
    _record_voters(session, meeting, _count(session, MeetingVoter, meeting_id), 0)
    audit.record_deletions(session, MeetingItem, col(MeetingItem.meeting_id) == meeting_id)
    for table in (MeetingVoter, MeetingItem):
        session.execute(delete(table).where(col(table.meeting_id) == meeting_id))
    session.delete(meeting)
    session.flush()


def mark_forms_printed(session: Session, *, meeting_id: uuid.UUID, at: datetime) -> None:
    """Record that the forms were printed (an aware datetime). The first printing counts:
    items added afterwards are marked as not on the forms."""
    if at.utcoffset() is None:
        raise ValueError("the printing time must be timezone-aware")
    meeting = _meeting(session, meeting_id)
    if meeting.forms_printed_at is None:
        meeting.forms_printed_at = at
        session.flush()
    if meeting.online_forms:
        outbox.meeting_published(session, meeting_id=meeting_id)


def _republish(session: Session, meeting: Meeting) -> None:
    """After a change the resident page shows (title, day, agenda, the online flag): send
    the meeting again once its forms are out; before that nothing is on the relay."""
    if meeting.forms_printed_at is not None:
        outbox.meeting_published(session, meeting_id=meeting.id)


def set_chair(session: Session, *, meeting_id: uuid.UUID, voter_key: str | None) -> None:
    """Name the voter chairing the meeting (議長), or nobody: a proxy naming the chair's
    household counts as left to the chair."""
    meeting = _meeting(session, meeting_id)
    if voter_key is not None and session.get(MeetingVoter, (meeting_id, voter_key)) is None:
        raise NotFoundError(
            _("The chosen chair is not on the voter list of 「{title}」. Choose the chair "
              "from the list.").format(title=meeting.title), field="chair")
    meeting.chair_key = voter_key
    session.flush()


# ---------------------------------------------------------------- reading


def get_meeting(session: Session, *, meeting_id: uuid.UUID) -> MeetingRecord:
    """A meeting with its rules, agenda, and how many voters and entries it has."""
    meeting = _meeting(session, meeting_id)
    data = MeetingData(meeting.title, meeting.held_on, meeting.place, meeting.record_date,
                       meeting.online_forms)
    return MeetingRecord(
        id=meeting.id, data=data, rules=meeting_rules(meeting),
        items=item_records(session, meeting_id),
        voters=_count(session, MeetingVoter, meeting_id), chair_key=meeting.chair_key,
        forms_printed_at=meeting.forms_printed_at, entries=entry_count(session, meeting_id))


_RETURNED = (
    "SELECT count(DISTINCT voter_key) FROM meeting_entry "
    "WHERE meeting_id = ? AND kind != 'cancel' AND sequence NOT IN ("
    "SELECT cancels FROM meeting_entry WHERE meeting_id = ? AND kind = 'cancel')")


def returned_count(session: Session, meeting_id: uuid.UUID) -> int:
    """Voters with at least one entry that is not cancelled."""
    [(count,)] = store_rows.fetch(session, _RETURNED, (meeting_id.hex, meeting_id.hex))
    return int(count)


def list_meetings(session: Session) -> list[MeetingSummary]:
    """Every meeting, newest first, with how many voters it has and how many returned."""
    meetings = session.exec(select(Meeting).order_by(col(Meeting.held_on).desc(),
                                                     col(Meeting.id).desc())).all()
    voters = dict(session.exec(select(MeetingVoter.meeting_id, func.count())
                               .group_by(col(MeetingVoter.meeting_id))).all())
    return [MeetingSummary(meeting.id, meeting.title, meeting.held_on,
                           voters.get(meeting.id, 0), returned_count(session, meeting.id))
            for meeting in meetings]


def find_meeting(session: Session, *, reference: str) -> uuid.UUID:
    """The meeting a full id or a unique hex prefix of at least 4 digits names (for the CLI)."""
    typed = unicodedata.normalize("NFKC", reference).strip().lower().replace("-", "")
    if len(typed) < MIN_REFERENCE_LENGTH or any(c not in "0123456789abcdef" for c in typed):
        raise ValidationError(
            _("「{reference}」 is not a meeting id. Type at least the first {count} characters "
              "of the id shown by kairan meeting list.").format(
                reference=reference, count=MIN_REFERENCE_LENGTH), field="reference")
    matches = [meeting_id for meeting_id in session.exec(select(Meeting.id)).all()
               if meeting_id.hex.startswith(typed)]
    if not matches:
        raise NotFoundError(
            _("No meeting has an id starting with {reference}. Check the id with kairan "
              "meeting list.").format(reference=reference.strip()), field="reference")
    if len(matches) > 1:
        raise ValidationError(
            _("{count} meetings have an id starting with {reference}. Type more of the id.")
            .format(count=len(matches), reference=reference.strip()), field="reference")
    return matches[0]
