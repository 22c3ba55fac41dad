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
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    bulk_add_households,
)
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    GroupKind,
    NoticeChannel,
    Role,
    RoleAssignment,
    RosterGroup,
)
from desktop.domain.text import normalise_furigana

Progress = Callable[[int, int], None]
_BATCH = 5000


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
    new: list[NewHousehold] = []
    member_ids: dict[tuple[str, int], uuid.UUID] = {}
    for group_id, group in hans:
        for order, demo in enumerate(group.households, start=1):
            ids = [uuid7() for _member in demo.members]
            member_ids.update(((demo.number, index), mid) for index, mid in enumerate(ids))
            members = tuple(
                MemberData(id=mid, name=m.name, furigana=normalise_furigana(m.furigana),
                           relation=m.relation, is_head=m.is_head, phone=m.phone or "",
                           email=m.email or "", app_access=m.app_access)
                for mid, m in zip(ids, demo.members, strict=True)
            )
            data = HouseholdData(
                number=demo.number, display_name=demo.display_name,
                furigana=normalise_furigana(demo.furigana), postal_code=demo.postal_code,
                address=demo.address, phone=demo.phone or "",
                channel=NoticeChannel(demo.channel), emails=demo.emails,
                joined_on=demo.joined_on, exempt_han_leader=demo.exempt_han_leader,
                notes=demo.notes,
            )
            new.append(NewHousehold(uuid7(), group_id, order, data, members))
    for start in range(0, total, _BATCH):
        bulk_add_households(session, new[start:start + _BATCH])
        if progress is not None:
            progress(min(start + _BATCH, total), total)

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
