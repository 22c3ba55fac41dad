"""Writing a generated demo association (``demo_data``) into an association file, fast.

A demo of 50,000 households is what the benchmarks open, so rows go in with bulk inserts in one
transaction, computing the derived columns with the same functions the editor uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from desktop.domain.association import create_association
from desktop.domain.demo_data import DemoGroup, DemoRoster
from desktop.domain.households import HouseholdData, MemberData, search_text
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    GroupKind,
    Household,
    Member,
    NoticeChannel,
    Role,
    RoleAssignment,
    RosterGroup,
)
from desktop.domain.text import kana_sort_key, normalise_furigana

Progress = Callable[[int, int], None]
_BATCH = 5000


def _household_row(data: HouseholdData, members: list[MemberData], *, household_id: uuid.UUID,
                   group_id: uuid.UUID, order: int, now: datetime) -> dict[str, Any]:
    return {
        "id": household_id, "number": data.number, "display_name": data.display_name,
        "furigana": data.furigana, "furigana_key": kana_sort_key(data.furigana),
        "postal_code": data.postal_code, "address": data.address, "phone": data.phone,
        "channel": data.channel, "emails": list(data.emails), "group_id": group_id,
        "circulation_order": order, "joined_on": data.joined_on, "left_on": None,
        "exempt_han_leader": data.exempt_han_leader, "exempt_duties": False,
        "notes": data.notes, "search_text": search_text(data, members),
        "member_count": len(members), "updated_at": now,
    }


def populate_demo(
    session: Session, roster: DemoRoster, *, year: int, progress: Progress | None = None
) -> uuid.UUID:
    """Record ``roster`` as the association of an empty file; returns the association id."""
    association_id = create_association(session, name=roster.association_name)
    now = datetime.now(UTC).replace(microsecond=0)
    group_rows: list[dict[str, Any]] = []
    han_ids: dict[str, uuid.UUID] = {}
    hans: list[tuple[uuid.UUID, DemoGroup]] = []

    def add_group(group: DemoGroup, parent_id: uuid.UUID | None, position: int) -> None:
        group_id = uuid7()
        group_rows.append({"id": group_id, "parent_id": parent_id, "name": group.name,
                           "kind": GroupKind(group.kind), "position": position})
        if group.kind == GroupKind.HAN:
            han_ids[group.name] = group_id
            hans.append((group_id, group))
        for child_position, child in enumerate(group.children, start=1):
            add_group(child, group_id, child_position)

    for position, group in enumerate(roster.groups, start=1):
        add_group(group, None, position)
    session.execute(insert(RosterGroup), group_rows)

    total = sum(len(group.households) for _id, group in hans)
    done = 0
    household_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    member_ids: dict[tuple[str, int], uuid.UUID] = {}

    def flush() -> None:
        if household_rows:
            session.execute(insert(Household), household_rows)
            session.execute(insert(Member), member_rows)
            household_rows.clear()
            member_rows.clear()
        if progress is not None:
            progress(done, total)

    for group_id, group in hans:
        for order, demo in enumerate(group.households, start=1):
            household_id = uuid7()
            members = [
                MemberData(name=m.name, furigana=normalise_furigana(m.furigana),
                           relation=m.relation, is_head=m.is_head, phone=m.phone or "",
                           email=m.email or "", app_access=m.app_access)
                for m in demo.members
            ]
            data = HouseholdData(
                number=demo.number, display_name=demo.display_name,
                furigana=normalise_furigana(demo.furigana), postal_code=demo.postal_code,
                address=demo.address, phone=demo.phone or "",
                channel=NoticeChannel(demo.channel), emails=demo.emails,
                joined_on=demo.joined_on, exempt_han_leader=demo.exempt_han_leader,
                notes=demo.notes,
            )
            household_rows.append(_household_row(
                data, members, household_id=household_id, group_id=group_id, order=order,
                now=now))
            for position, member in enumerate(members):
                member_id = uuid7()
                member_ids[(demo.number, position)] = member_id
                member_rows.append({
                    "id": member_id, "household_id": household_id, "name": member.name,
                    "furigana": member.furigana, "relation": member.relation,
                    "is_head": member.is_head, "phone": member.phone, "email": member.email,
                    "app_access": member.app_access, "position": position + 1, "notes": "",
                })
            done += 1
            if len(household_rows) >= _BATCH:
                flush()
    flush()

    roles = {role.name: role.id for role in session.exec(select(Role)).all()}
    assignments = [
        {"id": uuid7(), "role_id": roles[officer.role], "year": year,
         "member_id": member_ids[(officer.household_number, officer.member_index)],
         "group_id": han_ids[officer.group_name] if officer.group_name else None,
         "created_at": now}
        for officer in roster.officers
        if officer.role in roles
    ]
    if assignments:
        session.execute(insert(RoleAssignment), assignments)
    session.flush()
    return association_id
