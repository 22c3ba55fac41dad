"""Households and their members: validation, create, edit, move, withdraw, re-admit, purge.

Every function takes a session and plain values; the caller's transaction makes each call
all-or-nothing (``AssociationFile.write``).
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from desktop.domain import audit
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    MAX_APP_MEMBERS,
    MAX_HOUSEHOLD_EMAILS,
    GroupKind,
    Household,
    Member,
    NoticeChannel,
    Role,
    RoleAssignment,
    RosterGroup,
)
from desktop.domain.stored_values import stored_time
from desktop.domain.text import (
    fold_for_search,
    is_kana_reading,
    is_plausible_email,
    kana_sort_key,
    normalise_furigana,
    normalise_postal_code,
    phone_digits,
)
from desktop.i18n import _
from sync import outbox

SEARCH_SEPARATOR = "\x1f"  # never produced by folding, so no match spans two fields


@dataclass(frozen=True, slots=True)
class MemberData:
    """A member as the editor shows it; ``id`` is None for a member not saved yet."""

    name: str
    furigana: str = ""
    relation: str = ""
    is_head: bool = False
    phone: str = ""
    email: str = ""
    app_access: bool = False
    notes: str = ""
    id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class HouseholdData:
    """The editable facts of a household."""

    number: str
    display_name: str
    furigana: str = ""
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    channel: NoticeChannel = NoticeChannel.PAPER
    emails: tuple[str, ...] = ()
    joined_on: date | None = None
    exempt_han_leader: bool = False
    exempt_duties: bool = False
    notes: str = ""


@dataclass(frozen=True, slots=True)
class HouseholdRecord:
    """A saved household with its members, as :func:`get_household` returns it."""

    id: uuid.UUID
    data: HouseholdData
    members: tuple[MemberData, ...]
    group_id: uuid.UUID | None
    circulation_order: int
    left_on: date | None


# ---------------------------------------------------------------- validation


def _check_furigana(value: str, *, field: str, where: str) -> str:
    reading = normalise_furigana(value)
    if reading and not is_kana_reading(reading):
        raise ValidationError(
            _("{where}: the furigana 「{value}」 is not a reading. "
              "Type it in hiragana or katakana (for example やまだ たろう).")
            .format(where=where, value=value),
            field=field,
        )
    return reading


def _check_phone(value: str, *, field: str, where: str) -> str:
    phone = value.strip()
    digits = phone_digits(phone)
    if phone and not (digits.startswith("0") and 10 <= len(digits) <= 11):
        raise ValidationError(
            _("{where}: 「{value}」 is not a telephone number. "
              "Type 10 or 11 digits starting with 0 (for example 03-1234-5678).")
            .format(where=where, value=value),
            field=field,
        )
    return phone  # shown as written; matched by its digits


def _check_email(value: str, *, field: str, where: str) -> str:
    email = unicodedata.normalize("NFKC", value).strip()
    if email and not is_plausible_email(email):
        raise ValidationError(
            _("{where}: 「{value}」 is not an e-mail address. Check it or leave it empty.")
            .format(where=where, value=value),
            field=field,
        )
    return email


def clean_household(data: HouseholdData) -> HouseholdData:
    """The household as it will be stored, or :class:`ValidationError` naming the field."""
    where = _("Household")
    number = unicodedata.normalize("NFKC", data.number).strip()
    if not number:
        raise ValidationError(
            _("The household number (世帯番号) is empty. Type the number the association uses."),
            field="number",
        )
    name = data.display_name.strip()
    if not name:
        raise ValidationError(
            _("The household name is empty. Type the name of the head of household."),
            field="display_name",
        )
    postal = data.postal_code.strip()
    if postal:
        try:
            postal = normalise_postal_code(postal)
        except ValueError:
            raise ValidationError(
                _("The postal code 「{value}」 is not 7 digits. Type it as 123-4567.")
                .format(value=data.postal_code),
                field="postal_code",
            ) from None
    emails = tuple(
        dict.fromkeys(
            email
            for raw in data.emails
            if (email := _check_email(raw, field="emails", where=where))
        )
    )
    if len(emails) > MAX_HOUSEHOLD_EMAILS:
        raise ValidationError(
            _("A household can have at most {count} e-mail addresses.").format(
                count=MAX_HOUSEHOLD_EMAILS
            ),
            field="emails",
        )
    if data.channel == NoticeChannel.EMAIL and not emails:
        raise ValidationError(
            _("This household receives notices by e-mail but has no e-mail address. "
              "Add an address or choose another way."),
            field="emails",
        )
    # Built whole rather than with dataclasses.replace, which costs more than all the checks
    # above when an import cleans 50,000 households.
    return HouseholdData(
        number=number,
        display_name=name,
        furigana=_check_furigana(data.furigana, field="furigana", where=where),
        postal_code=postal,
        address=data.address.strip(),
        phone=_check_phone(data.phone, field="phone", where=where),
        channel=data.channel,
        emails=emails,
        joined_on=data.joined_on,
        exempt_han_leader=data.exempt_han_leader,
        exempt_duties=data.exempt_duties,
        notes=data.notes.strip(),
    )


def clean_members(members: Sequence[MemberData]) -> tuple[MemberData, ...]:
    """The members as they will be stored, or :class:`ValidationError` naming the row."""
    cleaned = []
    for row, member in enumerate(members, start=1):
        where = _("Member {row}").format(row=row)
        name = member.name.strip()
        if not name:
            raise ValidationError(
                _("{where}: the name is empty. Type the member's name or remove the row.")
                .format(where=where),
                field="members",
            )
        # Built directly, not with dataclasses.replace: an import cleans 120,000 members.
        cleaned.append(
            MemberData(
                name=name,
                furigana=member.furigana and _check_furigana(
                    member.furigana, field="members", where=where),
                relation=member.relation.strip(),
                is_head=member.is_head,
                phone=member.phone and _check_phone(member.phone, field="members", where=where),
                email=member.email and _check_email(member.email, field="members", where=where),
                app_access=member.app_access,
                notes=member.notes.strip(),
                id=member.id,
            )
        )
    if sum(member.is_head for member in cleaned) > 1:
        raise ValidationError(
            _("Only one member can be the head of household (世帯主)."), field="members"
        )
    if sum(member.app_access for member in cleaned) > MAX_APP_MEMBERS:
        raise ValidationError(
            _("At most {count} members of a household can have app access.").format(
                count=MAX_APP_MEMBERS
            ),
            field="members",
        )
    return tuple(cleaned)


def search_text(data: HouseholdData, members: Sequence[MemberData]) -> str:
    """The folded text search-as-you-type matches against (number, names, address, phones)."""
    parts = [data.number, data.display_name, data.furigana, data.address, data.postal_code]
    parts.append(phone_digits(data.phone))
    for member in members:
        parts += [member.name, member.furigana, phone_digits(member.phone)]
    return SEARCH_SEPARATOR.join(fold_for_search(part) for part in parts if part)


def refresh_derived(session: Session, *, household_ids: Sequence[uuid.UUID]) -> None:
    """Work out the search text, sort key and member count of households again (two office
    PCs changed one household at once: each wrote them from what it knew)."""
    for household_id in household_ids:
        household = session.get(Household, household_id)
        if household is None:
            continue
        record = get_household(session, household_id=household_id)
        household.search_text = search_text(record.data, record.members)
        household.furigana_key = kana_sort_key(household.furigana)
        household.member_count = len(record.members)
    session.flush()


# ---------------------------------------------------------------- reading


def _household(session: Session, household_id: uuid.UUID) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFoundError(_("This household no longer exists. Reload the roster."))
    return household


def _member_data(member: Member) -> MemberData:
    return MemberData(
        id=member.id,
        name=member.name,
        furigana=member.furigana,
        relation=member.relation,
        is_head=member.is_head,
        phone=member.phone,
        email=member.email,
        app_access=member.app_access,
        notes=member.notes,
    )


def get_household(session: Session, *, household_id: uuid.UUID) -> HouseholdRecord:
    """A household with its members in their order."""
    household = _household(session, household_id)
    members = session.exec(
        select(Member)
        .where(Member.household_id == household_id)
        .order_by(col(Member.position))
    ).all()
    data = HouseholdData(
        number=household.number,
        display_name=household.display_name,
        furigana=household.furigana,
        postal_code=household.postal_code,
        address=household.address,
        phone=household.phone,
        channel=NoticeChannel(household.channel),
        emails=tuple(household.emails),
        joined_on=household.joined_on,
        exempt_han_leader=household.exempt_han_leader,
        exempt_duties=household.exempt_duties,
        notes=household.notes,
    )
    return HouseholdRecord(
        id=household.id,
        data=data,
        members=tuple(_member_data(member) for member in members),
        group_id=household.group_id,
        circulation_order=household.circulation_order,
        left_on=household.left_on,
    )


# ---------------------------------------------------------------- writing


def _check_number_free(session: Session, number: str, household_id: uuid.UUID | None) -> None:
    query = select(Household).where(Household.number == number)
    if household_id is not None:
        query = query.where(Household.id != household_id)
    other = session.exec(query).first()
    if other is not None:
        state = _(" (withdrawn)") if other.left_on else ""
        raise ConflictError(
            _("Household number {number} is already used by {name}{state}. "
              "Choose another number.").format(number=number, name=other.display_name,
                                                state=state),
            field="number",
        )


def _check_han(session: Session, group_id: uuid.UUID | None) -> None:
    if group_id is None:
        return
    group = session.get(RosterGroup, group_id)
    if group is None:
        raise NotFoundError(_("This 班 no longer exists. Reload the roster."))
    if group.kind != GroupKind.HAN:
        raise ValidationError(
            _("{name} is a district (地区); put households in one of its 班.").format(
                name=group.name
            ),
            field="group",
        )


def _next_position(session: Session, group_id: uuid.UUID | None) -> int:
    current = session.exec(
        select(func.max(Household.circulation_order)).where(Household.group_id == group_id)
    ).one()
    return (current or 0) + 1


def _apply(household: Household, data: HouseholdData, members: Sequence[MemberData]) -> None:
    household.number = data.number
    household.display_name = data.display_name
    household.furigana = data.furigana
    household.furigana_key = kana_sort_key(data.furigana)
    household.postal_code = data.postal_code
    household.address = data.address
    household.phone = data.phone
    household.channel = data.channel
    household.emails = list(data.emails)
    household.joined_on = data.joined_on
    household.exempt_han_leader = data.exempt_han_leader
    household.exempt_duties = data.exempt_duties
    household.notes = data.notes
    household.search_text = search_text(data, members)
    household.updated_at = datetime.now(UTC).replace(microsecond=0)


def _replace_members(
    session: Session, household_id: uuid.UUID, members: Sequence[MemberData]
) -> None:
    existing = {
        member.id: member
        for member in session.exec(select(Member).where(Member.household_id == household_id))
    }
    keep = {member.id for member in members if member.id is not None}
    removed = [gone for gone_id, gone in existing.items() if gone_id not in keep]
    if removed:
        _check_no_roles(session, removed)
        for gone in removed:
            session.delete(gone)
    household = session.get(Household, household_id)
    if household is not None:
        household.member_count = len(members)
    for position, data in enumerate(members, start=1):
        member: Member | None = existing.get(data.id) if data.id is not None else None
        if member is None and data.id is not None and session.get(Member, data.id) is not None:
            raise ConflictError(
                _("{name} is recorded in another household. Remove them there first, or add "
                  "them here as a new member.").format(name=data.name),
                field="members",
            )
        if member is None:
            member = Member(id=data.id or uuid7(), household_id=household_id, name=data.name)
            session.add(member)
        member.name = data.name
        member.furigana = data.furigana
        member.relation = data.relation
        member.is_head = data.is_head
        member.phone = data.phone
        member.email = data.email
        member.app_access = data.app_access
        member.notes = data.notes
        member.position = position


def _check_no_roles(session: Session, members: Sequence[Member]) -> None:
    held = session.exec(
        select(Member.name, Role.name, RoleAssignment.year)
        .join(RoleAssignment, col(RoleAssignment.member_id) == col(Member.id))
        .join(Role, col(Role.id) == col(RoleAssignment.role_id))
        .where(col(Member.id).in_([member.id for member in members]))
    ).first()
    if held is not None:
        name, role, year = held
        raise ConflictError(
            _("{name} holds the role {role} in {year}年度 and cannot be removed. "
              "Remove the role first on the role board.").format(name=name, role=role,
                                                                  year=year),
            field="members",
        )


def create_household(
    session: Session,
    *,
    data: HouseholdData,
    members: Sequence[MemberData] = (),
    group_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Add a household at the end of its 班's circulation order; returns its id."""
    data, members = clean_household(data), clean_members(members)
    _check_number_free(session, data.number, None)
    _check_han(session, group_id)
    household = Household(
        id=household_id or uuid7(),
        number=data.number,
        display_name=data.display_name,
        group_id=group_id,
        circulation_order=_next_position(session, group_id),
    )
    _apply(household, data, members)
    session.add(household)
    session.flush()
    _replace_members(session, household.id, members)
    session.flush()
    outbox.household_changed(session, household_id=household.id)
    return household.id


def update_household(
    session: Session,
    *,
    household_id: uuid.UUID,
    data: HouseholdData,
    members: Sequence[MemberData],
) -> None:
    """Replace a household's facts and its member list (members left out are removed)."""
    data, members = clean_household(data), clean_members(members)
    household = _household(session, household_id)
    _check_number_free(session, data.number, household_id)
    _apply(household, data, members)
    _replace_members(session, household_id, members)
    session.flush()
    outbox.household_changed(session, household_id=household_id)


def move_household(
    session: Session,
    *,
    household_id: uuid.UUID,
    group_id: uuid.UUID | None,
    circulation_order: int | None = None,
) -> None:
    """Move a household to another 班, at the end of its route unless a position is given."""
    household = _household(session, household_id)
    _check_han(session, group_id)
    household.group_id = group_id
    household.circulation_order = (
        circulation_order if circulation_order is not None
        else _next_position(session, group_id)
    )
    session.flush()
    outbox.household_changed(session, household_id=household_id)


def withdraw_household(session: Session, *, household_id: uuid.UUID, left_on: date) -> None:
    """Record that a household left the association (退会); it stays as history."""
    household = _household(session, household_id)
    if household.left_on is not None:
        raise ConflictError(_("{name} has already withdrawn.").format(name=household.display_name))
    if household.joined_on is not None and left_on < household.joined_on:
        raise ValidationError(
            _("The withdrawal date is before the household joined."), field="left_on"
        )
    household.left_on = left_on
    session.flush()
    outbox.household_removed(session, household_id=household_id)


def readmit_household(
    session: Session, *, household_id: uuid.UUID, circulation_order: int | None = None
) -> None:
    """Take a withdrawn household back (再入会), at the end of its 班's route unless a
    position is given."""
    household = _household(session, household_id)
    if household.left_on is None:
        raise ConflictError(_("{name} is a member already.").format(name=household.display_name))
    household.left_on = None
    household.circulation_order = (
        circulation_order if circulation_order is not None
        else _next_position(session, household.group_id)
    )
    session.flush()
    outbox.household_changed(session, household_id=household_id)


def purge_household(session: Session, *, household_id: uuid.UUID) -> None:
    """Delete a withdrawn household for good, with its members and their role history."""
    household = _household(session, household_id)
    if household.left_on is None:
        raise ConflictError(
            _("{name} is still a member. Withdraw the household before deleting it.")
            .format(name=household.display_name)
        )
    member_ids = select(Member.id).where(Member.household_id == household_id)
    held = col(RoleAssignment.member_id).in_(member_ids)
    audit.record_deletions(session, RoleAssignment, held)
    session.execute(delete(RoleAssignment).where(held))
    _delete(session, household)
    outbox.household_removed(session, household_id=household_id)


def delete_new_household(session: Session, *, household_id: uuid.UUID) -> None:
    """Take back the creation of a household (undo); refused once it has role history."""
    household = _household(session, household_id)
    members = session.exec(select(Member).where(Member.household_id == household_id)).all()
    if members:
        _check_no_roles(session, members)
    _delete(session, household)
    outbox.household_removed(session, household_id=household_id)


def _delete(session: Session, household: Household) -> None:
    audit.record_deletions(session, Member, col(Member.household_id) == household.id)
    session.execute(delete(Member).where(col(Member.household_id) == household.id))
    session.delete(household)
    session.flush()


def set_circulation_order(
    session: Session, *, group_id: uuid.UUID, household_ids: Sequence[uuid.UUID]
) -> None:
    """Set the 回覧板 route of a 班: its active households, every one, in the order given."""
    _check_han(session, group_id)
    current = {stop.household_id for stop in han_route(session, group_id=group_id)}
    if set(household_ids) != current or len(household_ids) != len(current):
        raise ConflictError(
            _("The households of this 班 changed while the route was being edited. "
              "Open the circulation order again."))
    before = {household_id: (number, order) for household_id, number, order in session.exec(
        select(Household.id, Household.number, Household.circulation_order)
        .where(col(Household.id).in_(household_ids)))}
    for position, household_id in enumerate(household_ids, start=1):
        session.execute(
            update(Household).where(col(Household.id) == household_id)
            .values(circulation_order=position)
        )
    audit.record_many(session, [
        audit.AuditEntryData("update", Household.__tablename__, household_id.hex, household_id,
                             before[household_id][0],
                             {"circulation_order": [before[household_id][1], position]})
        for position, household_id in enumerate(household_ids, start=1)
        if before[household_id][1] != position])
    session.flush()


@dataclass(frozen=True, slots=True)
class RouteStop:
    """A household on a 班's 回覧板 route."""

    household_id: uuid.UUID
    number: str
    display_name: str
    channel: NoticeChannel


def han_route(session: Session, *, group_id: uuid.UUID) -> list[RouteStop]:
    """The active households of a 班 in circulation order."""
    _check_han(session, group_id)
    rows = session.exec(
        select(Household.id, Household.number, Household.display_name, Household.channel)
        .where(Household.group_id == group_id, col(Household.left_on).is_(None))
        .order_by(col(Household.circulation_order), col(Household.number))
    ).all()
    return [RouteStop(hid, number, name, NoticeChannel(channel))
            for hid, number, name, channel in rows]


def add_member(
    session: Session, *, household_id: uuid.UUID, member: MemberData
) -> uuid.UUID:
    """Add one member at the end of a household (every member belongs to a household)."""
    household = session.get(Household, household_id)
    if household is None:
        raise NotFoundError(
            _("{name} cannot be added: the household it belongs to does not exist. "
              "Choose an existing household or add the household first.")
            .format(name=member.name.strip() or _("The member")),
            field="household",
        )
    record = get_household(session, household_id=household_id)
    new_id = member.id or uuid7()
    update_household(session, household_id=household_id, data=record.data,
                     members=[*record.members, replace(member, id=new_id)])
    return new_id


@dataclass(frozen=True, slots=True)
class NewHousehold:
    """A validated household to add in bulk (see :func:`bulk_add_households`)."""

    id: uuid.UUID
    group_id: uuid.UUID | None
    circulation_order: int
    data: HouseholdData
    members: tuple[MemberData, ...]  # a member without an id gets a new one


def bulk_add_households(session: Session, households: Sequence[NewHousehold],
                        *, batch: int = 5000) -> None:
    """Insert many households and their members with a few statements (demo, import).

    The data must have been through :func:`clean_household` and :func:`clean_members`, and
    the numbers checked free: this is the fast path, without per-row checks. A member without
    an id gets a new one. The rows go straight to the driver's ``executemany`` in the
    session's transaction, stored as the ORM stores them (:func:`_household_row`).
    """
    session.flush()  # whatever the session holds goes first, as with an ORM insert
    driver = session.connection().connection.driver_connection
    assert driver is not None
    now = stored_time(datetime.now(UTC).replace(microsecond=0))
    for start in range(0, len(households), batch):
        chunk = households[start:start + batch]
        driver.executemany(_HOUSEHOLD_INSERT, [_household_row(item, now) for item in chunk])
        new_ids = iter(_uuid7_hexes(sum(member.id is None
                                        for item in chunk for member in item.members)))
        driver.executemany(_MEMBER_INSERT, [
            (next(new_ids) if member.id is None else member.id.hex, household_id, member.name,
             member.furigana, member.relation, member.is_head, member.phone, member.email,
             member.app_access, position, member.notes)
            for item in chunk
            for household_id in (item.id.hex,)
            for position, member in enumerate(item.members, start=1)
        ])
    audit.record_many(session, map(_added_record, households), already_plain=True)
    outbox.households_added(session, household_ids=[item.id for item in households])


def _added_record(item: NewHousehold) -> audit.AuditEntryData:
    """The audit record of a household added in bulk: its number, name (the record's
    label) and reading, 班 and members' names, built from plain values directly. Leaner than
    the editor's record of an added household (an import adds tens of thousands): the other
    values are in the roster, and every later change records its old value."""
    data = item.data
    changes: dict[str, object] = {
        audit.LABEL_KEY: data.display_name, "number": [None, data.number],
        "members": [None, [member.name for member in item.members]]}
    if data.furigana:
        changes["furigana"] = [None, data.furigana]
    if item.group_id is not None:
        changes["group_id"] = [None, item.group_id.hex]
    return audit.AuditEntryData("insert", Household.__tablename__, item.id.hex, item.id,
                                data.number, changes)


_HOUSEHOLD_COLUMNS = (
    "id", "number", "display_name", "furigana", "furigana_key", "postal_code", "address",
    "phone", "channel", "emails", "group_id", "circulation_order", "joined_on", "left_on",
    "exempt_han_leader", "exempt_duties", "notes", "search_text", "member_count", "updated_at",
)
_MEMBER_COLUMNS = ("id", "household_id", "name", "furigana", "relation", "is_head", "phone",
                   "email", "app_access", "position", "notes")


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


_HOUSEHOLD_INSERT = _insert_sql(Household.__tablename__, _HOUSEHOLD_COLUMNS)
_MEMBER_INSERT = _insert_sql(Member.__tablename__, _MEMBER_COLUMNS)


_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _uuid7_hexes(count: int) -> list[str]:
    """``count`` new UUIDv7 as stored (32 hex digits), made together: what
    :func:`desktop.domain.ids.uuid7` makes one by one (48-bit Unix milliseconds, version 7,
    74 random bits, the RFC 4122 variant), all of this millisecond, in increasing order (as
    RFC 9562 allows), so the rows they key go in at the end of their index."""
    millis = time.time_ns() // 1_000_000
    head = f"{millis & ((1 << 48) - 1):012x}7"
    random = os.urandom(10 * count).hex()  # 20 digits per id; 18 are used, 2 bits of one
    variant = _VARIANT_DIGIT
    return sorted([f"{head}{random[at:at + 3]}{variant[random[at + 3]]}{random[at + 4:at + 19]}"
                   for at in range(0, 20 * count, 20)])


def _household_row(item: NewHousehold, now: str) -> tuple[object, ...]:
    """One household's row in :data:`_HOUSEHOLD_COLUMNS` order, each value as the ORM stores
    it: UUIDs as 32 hex digits, the channel by value, e-mails as JSON (``json.dumps``, as
    SQLAlchemy's JSON type writes it), dates as ISO text, booleans as 0/1."""
    data = item.data
    return (
        item.id.hex, data.number, data.display_name, data.furigana,
        kana_sort_key(data.furigana), data.postal_code, data.address, data.phone,
        str(data.channel), json.dumps(list(data.emails)),
        item.group_id.hex if item.group_id is not None else None, item.circulation_order,
        data.joined_on.isoformat() if data.joined_on is not None else None, None,
        data.exempt_han_leader, data.exempt_duties, data.notes,
        _search_text_in_one_pass(data, item.members), len(item.members), now,
    )


def _search_text_in_one_pass(data: HouseholdData, members: Sequence[MemberData]) -> str:
    """:func:`search_text`, folding the household's text in one pass instead of part by part
    (the same result: every part is folded on its own either way, the NUL between them is
    kept by the folding and no character combines across it)."""
    parts = [data.number, data.display_name, data.furigana, data.address, data.postal_code]
    if data.phone:
        parts.append(phone_digits(data.phone))
    for member in members:
        parts += [member.name, member.furigana]
        if member.phone:
            parts.append(phone_digits(member.phone))
    present = [part for part in parts if part]
    joined = "\x00".join(present)
    if joined.count("\x00") != len(present) - 1:  # a NUL in the text itself: part by part
        return search_text(data, members)
    return fold_for_search(joined).replace("\x00", SEARCH_SEPARATOR)
