"""What the roster printouts need, read from an association file as plain values.

Groups, roles and households come from the domain services (``group_tree``, ``role_board``,
``get_household``). One small read is done here because no service gives it in bulk: the
member households with their postal code and circulation order, for 2,000 households in one
query rather than one per household.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from desktop.domain.association import get_association
from desktop.domain.errors import KairanError
from desktop.domain.groups import GroupNode, group_tree
from desktop.domain.households import HouseholdRecord, get_household
from desktop.domain.models import GroupKind, Household, NoticeChannel
from desktop.domain.roles import RoleSlot, role_board
from desktop.domain.wareki import format_nendo
from desktop.i18n import _
from reports.pdf.labels import Addressee
from reports.pdf.roster_pdf import NO_GROUP, GroupList, OfficerLine, RosterLine

__all__ = [
    "han_ids_named",
    "load_addressees",
    "load_group_lists",
    "load_officers",
    "year_label",
]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def han_ids_named(groups: Sequence[GroupNode], names: Sequence[str]) -> tuple[uuid.UUID, ...]:
    """The 班 that ``names`` choose, in the group tree's order: a 班 by its name (or as
    ``地区/班`` where the name is not unique), a 地区 by its name for all its 班.

    An unknown or ambiguous name raises :class:`KairanError` listing the groups there are.
    """
    names_of = {group.id: group.name for group in groups}

    def full(group: GroupNode) -> str:
        return f"{names_of[group.parent_id]}/{group.name}" if group.parent_id else group.name

    listed = "、".join(full(group) for group in groups) or _("(none)")
    chosen: set[uuid.UUID] = set()
    for name in names:
        wanted = _norm(name)
        match = [group for group in groups
                 if _norm(group.name) == wanted or _norm(full(group)) == wanted]
        if len(match) != 1:
            if match:
                raise KairanError(_("Several groups are called {name}; write it as 地区/班. "
                                    "Groups: {names}").format(name=name, names=listed))
            raise KairanError(_("There is no group called {name}. Groups: {names}").format(
                name=name, names=listed))
        group = match[0]
        if group.kind == GroupKind.DISTRICT:
            chosen.update(child.id for child in groups if child.parent_id == group.id)
        else:
            chosen.add(group.id)
    return tuple(group.id for group in groups if group.id in chosen)


def year_label(session: Session, *, year: int) -> str:
    """The 年度 as printed, e.g. 令和7年度, by the association's own start month."""
    return format_nendo(year, get_association(session).fiscal_year_start_month)


@dataclass(frozen=True, slots=True)
class _Household:
    id: uuid.UUID
    number: str
    name: str
    furigana: str
    postal_code: str
    address: str
    phone: str
    members: int
    channel: NoticeChannel
    group_id: uuid.UUID | None


def _households(session: Session, *, paper_only: bool) -> dict[uuid.UUID | None,
                                                                list[_Household]]:
    """Member households (not withdrawn) by 班, each 班 in circulation order (then by
    number, as ``han_route`` orders them)."""
    query = (
        sa_select(col(Household.id), col(Household.number), col(Household.display_name),
                  col(Household.furigana), col(Household.postal_code), col(Household.address),
                  col(Household.phone), col(Household.member_count), col(Household.channel),
                  col(Household.group_id))
        .where(col(Household.left_on).is_(None))
        .order_by(col(Household.circulation_order), col(Household.number))
    )
    if paper_only:
        query = query.where(col(Household.channel) == NoticeChannel.PAPER)
    by_group: dict[uuid.UUID | None, list[_Household]] = {}
    for (household_id, number, name, furigana, postal_code, address, phone, members, channel,
         group_id) in session.connection().execute(query):
        household = _Household(household_id, number, name, furigana, postal_code, address,
                               phone, members, NoticeChannel(channel), group_id)
        by_group.setdefault(household.group_id, []).append(household)
    return by_group


def _captions(groups: Sequence[GroupNode]) -> dict[uuid.UUID, str]:
    """How each 班 is named on paper: 「東地区 3班」 inside a 地区, else 「3班」."""
    names = {group.id: group.name for group in groups}
    return {group.id: f"{names[group.parent_id]} {group.name}" if group.parent_id
            else group.name for group in groups if group.kind == GroupKind.HAN}


def _sections(
    session: Session, *, han_ids: Collection[uuid.UUID] | None, paper_only: bool
) -> list[tuple[uuid.UUID | None, str, list[_Household]]]:
    """(班 id, caption, households) in the group tree's order; without a choice of 班 the
    households in no 班 come last, as 「班なし」. 班 without households are left out."""
    groups = group_tree(session)
    captions = _captions(groups)
    by_group = _households(session, paper_only=paper_only)
    wanted = set(captions) if han_ids is None else set(han_ids)
    sections: list[tuple[uuid.UUID | None, str, list[_Household]]] = [
        (group.id, captions[group.id], by_group[group.id]) for group in groups
        if group.id in wanted and group.id in by_group
    ]
    if han_ids is None:
        unplaced = [household for group_id, households in by_group.items()
                    if group_id not in captions for household in households]
        if unplaced:
            sections.append((None, NO_GROUP, unplaced))
    return sections


def load_group_lists(
    session: Session, *, year: int, han_ids: Collection[uuid.UUID] | None = None,
    paper_only: bool = False,
) -> list[GroupList]:
    """The 班 lists: every 班 (or those of ``han_ids``) with its member households in
    circulation order, the holders of per-班 roles (班長) of ``year`` marked."""
    marks: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
    leaders: dict[uuid.UUID, list[str]] = {}
    for slot in role_board(session, year=year):
        if slot.group_id is None:
            continue
        for holder in slot.holders:
            marks.setdefault((slot.group_id, holder.household_id), []).append(slot.role_name)
            leaders.setdefault(slot.group_id, []).append(f"{slot.role_name} {holder.member_name}")
    lists = []
    for group_id, caption, households in _sections(session, han_ids=han_ids,
                                                   paper_only=paper_only):
        lines = tuple(
            RosterLine(number=h.number, name=h.name, furigana=h.furigana, address=h.address,
                       phone=h.phone, members=h.members, channel=h.channel,
                       marks=tuple(marks.get((group_id, h.id), ())) if group_id else ())
            for h in households
        )
        lists.append(GroupList(caption, lines,
                               tuple(leaders.get(group_id, ())) if group_id else ()))
    return lists


def load_addressees(
    session: Session, *, han_ids: Collection[uuid.UUID] | None = None,
    paper_only: bool = False,
) -> list[Addressee]:
    """Address labels for member households, 班 by 班 in circulation order (the order a
    班長 hands them out)."""
    return [
        Addressee(name=h.name, postal_code=h.postal_code, address=h.address, number=h.number)
        for _group_id, _caption, households in _sections(session, han_ids=han_ids,
                                                         paper_only=paper_only)
        for h in households
    ]


def _officer(slot: RoleSlot, caption: str, record: HouseholdRecord | None,
             member_id: uuid.UUID | None, name: str) -> OfficerLine:
    if record is None:
        return OfficerLine(role=slot.role_name, group=caption)
    data = record.data
    member = next((m for m in record.members if m.id == member_id), None)
    phone = (member.phone if member else "") or data.phone
    email = (member.email if member else "") or next(iter(data.emails), "")
    return OfficerLine(role=slot.role_name, group=caption, name=name, phone=phone,
                       email=email, postal_code=data.postal_code, address=data.address)


def load_officers(
    session: Session, *, year: int, han_ids: Collection[uuid.UUID] | None = None
) -> list[OfficerLine]:
    """The officers' contact list of ``year``: each role in the role board's order with its
    holders (a member's own phone and e-mail, else the household's), a vacant role as a line
    without a name. ``han_ids`` narrows the per-班 roles to those 班."""
    captions = _captions(group_tree(session))
    records: dict[uuid.UUID, HouseholdRecord] = {}
    lines = []
    for slot in role_board(session, year=year):
        if slot.group_id is not None and han_ids is not None and slot.group_id not in han_ids:
            continue
        caption = (captions.get(slot.group_id, slot.group_name or "")
                   if slot.group_id else "")
        if not slot.holders:
            lines.append(_officer(slot, caption, None, None, ""))
        for holder in slot.holders:
            record = records.get(holder.household_id)
            if record is None:
                record = records[holder.household_id] = get_household(
                    session, household_id=holder.household_id)
            lines.append(_officer(slot, caption, record, holder.member_id, holder.member_name))
    return lines
