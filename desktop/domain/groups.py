"""Groups of households: 地区 above 班 in a 連合自治会, or a single list of 班."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import GroupKind, Household, RosterGroup
from desktop.i18n import _
from sync import outbox


@dataclass(frozen=True, slots=True)
class GroupNode:
    """A group with the counts shown in the group tree (districts add up their 班)."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    kind: GroupKind
    position: int
    households: int
    paper_households: int


def _group(session: Session, group_id: uuid.UUID) -> RosterGroup:
    group = session.get(RosterGroup, group_id)
    if group is None:
        raise NotFoundError(_("This group no longer exists. Reload the roster."))
    return group


def _clean_name(session: Session, name: str, parent_id: uuid.UUID | None,
                group_id: uuid.UUID | None) -> str:
    cleaned = unicodedata.normalize("NFKC", name).strip()
    if not cleaned:
        raise ValidationError(_("The group name is empty. Type a name such as 3班."), field="name")
    siblings = select(RosterGroup).where(
        RosterGroup.parent_id == parent_id, RosterGroup.name == cleaned
    )
    if group_id is not None:
        siblings = siblings.where(RosterGroup.id != group_id)
    if session.exec(siblings).first() is not None:
        raise ConflictError(
            _("There is already a group called {name} here. Choose another name.").format(
                name=cleaned
            ),
            field="name",
        )
    return cleaned


def create_group(
    session: Session,
    *,
    name: str,
    kind: GroupKind = GroupKind.HAN,
    parent_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Add a 班 (optionally inside a 地区) or a 地区 at the end of its level."""
    if parent_id is not None:
        parent = _group(session, parent_id)
        if parent.kind != GroupKind.DISTRICT:
            raise ValidationError(
                _("A group can only be placed inside a district (地区)."), field="parent"
            )
        if kind == GroupKind.DISTRICT:
            raise ValidationError(_("A district cannot be inside another district."),
                                  field="parent")
    cleaned = _clean_name(session, name, parent_id, None)
    last = session.exec(
        select(func.max(RosterGroup.position)).where(RosterGroup.parent_id == parent_id)
    ).one()
    group = RosterGroup(id=group_id or uuid7(), parent_id=parent_id, name=cleaned, kind=kind,
                        position=(last or 0) + 1)
    session.add(group)
    session.flush()
    return group.id


def rename_group(session: Session, *, group_id: uuid.UUID, name: str) -> None:
    """Rename a group; names are unique among its siblings."""
    group = _group(session, group_id)
    group.name = _clean_name(session, name, group.parent_id, group_id)
    session.flush()
    outbox.group_renamed(session, group_id=group_id)  # residents see their 班's new name


def delete_group(session: Session, *, group_id: uuid.UUID) -> None:
    """Delete an empty group (no households, withdrawn ones included, and no 班 inside)."""
    group = _group(session, group_id)
    has_households = session.exec(
        select(Household.id).where(Household.group_id == group_id).limit(1)
    ).first()
    has_children = session.exec(
        select(RosterGroup.id).where(RosterGroup.parent_id == group_id).limit(1)
    ).first()
    if has_households is not None or has_children is not None:
        raise ConflictError(
            _("{name} still has households or 班 in it. Move them to another group first.")
            .format(name=group.name)
        )
    session.delete(group)
    session.flush()


# Plain SQL and tuples: a 連合自治会 may have thousands of 班 and tens of thousands of households,
# and the tree is read every time the roster is.
_COUNTS = """
SELECT group_id, count(*), sum(channel = 'paper') FROM household
WHERE left_on IS NULL GROUP BY group_id
"""
_GROUPS = "SELECT id, parent_id, name, kind, position FROM roster_group ORDER BY position"


def _uuid(hex_id: str | None) -> uuid.UUID | None:
    return uuid.UUID(hex=hex_id) if hex_id else None


def household_counts(session: Session) -> dict[uuid.UUID | None, tuple[int, int]]:
    """Active households and paper households per 班 (None: in no 班)."""
    rows = session.connection().exec_driver_sql(_COUNTS)
    return {_uuid(group_id): (total, paper or 0) for group_id, total, paper in rows}


def group_tree(
    session: Session, *, counts: Mapping[uuid.UUID | None, tuple[int, int]] | None = None
) -> list[GroupNode]:
    """Every group in display order (parents before children) with active-household counts;
    districts add up their 班. ``counts`` (from :func:`household_counts`) may be passed in by
    a caller that needs them too."""
    if counts is None:
        counts = household_counts(session)
    groups = [
        (uuid.UUID(hex=group_id), _uuid(parent_id), name, GroupKind(kind), position)
        for group_id, parent_id, name, kind, position
        in session.connection().exec_driver_sql(_GROUPS)
    ]
    totals = {group[0]: list(counts.get(group[0], (0, 0))) for group in groups}
    by_parent: dict[uuid.UUID | None, list[tuple[Any, ...]]] = {}
    for group in groups:
        group_id, parent_id = group[0], group[1]
        by_parent.setdefault(parent_id, []).append(group)
        if parent_id in totals:
            parent, own = totals[parent_id], totals[group_id]
            parent[0] += own[0]
            parent[1] += own[1]
    ordered: list[GroupNode] = []

    def walk(parent_id: uuid.UUID | None) -> None:
        for group_id, parent, name, kind, position in by_parent.get(parent_id, []):
            total, paper = totals[group_id]
            ordered.append(GroupNode(group_id, parent, name, kind, position, total, paper))
            walk(group_id)

    walk(None)
    return ordered


def unassigned_count(session: Session) -> int:
    """Active households that are in no 班 yet."""
    return household_counts(session).get(None, (0, 0))[0]
