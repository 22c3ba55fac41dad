"""Roles (役職) and who holds them in each association year (年度), including per-班 roles."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    GroupKind,
    Household,
    Member,
    Role,
    RoleAssignment,
    RoleScope,
    RosterGroup,
)
from desktop.domain.wareki import format_nendo
from desktop.i18n import _

# The roles a new association starts with: (name, scope, holders allowed). Editable later.
DEFAULT_ROLES: tuple[tuple[str, RoleScope, int | None], ...] = (
    ("会長", RoleScope.ASSOCIATION, 1),
    ("副会長", RoleScope.ASSOCIATION, 2),
    ("会計", RoleScope.ASSOCIATION, 1),
    ("書記", RoleScope.ASSOCIATION, 1),
    ("監事", RoleScope.ASSOCIATION, 2),
    ("防災部長", RoleScope.ASSOCIATION, 1),
    ("班長", RoleScope.GROUP, 1),
)


@dataclass(frozen=True, slots=True)
class RoleInfo:
    """A role as the role list shows it."""

    id: uuid.UUID
    name: str
    scope: RoleScope
    max_holders: int | None
    position: int


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a role slot."""

    assignment_id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    household_id: uuid.UUID
    household_number: str


@dataclass(frozen=True, slots=True)
class RoleSlot:
    """One line of the role board: a role (for one 班 if per 班) and its holders this year."""

    role_id: uuid.UUID
    role_name: str
    group_id: uuid.UUID | None
    group_name: str | None
    max_holders: int | None
    holders: tuple[Holder, ...]

    @property
    def vacant(self) -> bool:
        """No one holds it."""
        return not self.holders


@dataclass(frozen=True, slots=True)
class Assignment:
    """The plain facts of one assignment (what undo needs to put it back)."""

    id: uuid.UUID
    role_id: uuid.UUID
    year: int
    member_id: uuid.UUID
    group_id: uuid.UUID | None


def _role(session: Session, role_id: uuid.UUID) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise NotFoundError(_("This role no longer exists. Reload the role board."))
    return role


def _clean_role_name(session: Session, name: str, role_id: uuid.UUID | None) -> str:
    cleaned = unicodedata.normalize("NFKC", name).strip()
    if not cleaned:
        raise ValidationError(_("The role name is empty. Type a name such as 会長."),
                              field="name")
    query = select(Role).where(Role.name == cleaned)
    if role_id is not None:
        query = query.where(Role.id != role_id)
    if session.exec(query).first() is not None:
        raise ConflictError(_("There is already a role called {name}.").format(name=cleaned),
                            field="name")
    return cleaned


def _check_max_holders(max_holders: int | None) -> None:
    if max_holders is not None and max_holders < 1:
        raise ValidationError(_("A role needs room for at least one holder."),
                              field="max_holders")


def list_roles(session: Session) -> list[RoleInfo]:
    """Every role in board order."""
    roles = session.exec(select(Role).order_by(col(Role.position))).all()
    return [RoleInfo(r.id, r.name, RoleScope(r.scope), r.max_holders, r.position) for r in roles]


def create_role(
    session: Session,
    *,
    name: str,
    scope: RoleScope = RoleScope.ASSOCIATION,
    max_holders: int | None = 1,
) -> uuid.UUID:
    """Add a role at the end of the board."""
    _check_max_holders(max_holders)
    last = session.exec(select(func.max(Role.position))).one()
    role = Role(id=uuid7(), name=_clean_role_name(session, name, None), scope=scope,
                max_holders=max_holders, position=(last or 0) + 1)
    session.add(role)
    session.flush()
    return role.id


def update_role(
    session: Session, *, role_id: uuid.UUID, name: str, max_holders: int | None
) -> None:
    """Rename a role or change how many may hold it (existing holders are kept)."""
    _check_max_holders(max_holders)
    role = _role(session, role_id)
    role.name = _clean_role_name(session, name, role_id)
    role.max_holders = max_holders
    session.flush()


def delete_role(session: Session, *, role_id: uuid.UUID) -> None:
    """Delete a role nobody has ever held (past years are history and stay)."""
    role = _role(session, role_id)
    used = session.exec(
        select(RoleAssignment.id).where(RoleAssignment.role_id == role_id).limit(1)
    ).first()
    if used is not None:
        raise ConflictError(
            _("{role} has holders on record, so it cannot be deleted. "
              "Past years keep who held it.").format(role=role.name)
        )
    session.delete(role)
    session.flush()


def seed_default_roles(session: Session) -> None:
    """Give a new association the usual roles."""
    for position, (name, scope, max_holders) in enumerate(DEFAULT_ROLES, start=1):
        session.add(Role(id=uuid7(), name=name, scope=scope, max_holders=max_holders,
                         position=position))
    session.flush()


def _holders(session: Session, year: int) -> dict[tuple[uuid.UUID, uuid.UUID | None],
                                                   list[Holder]]:
    rows = session.exec(
        select(RoleAssignment, Member.name, Household.id, Household.number)
        .join(Member, col(Member.id) == col(RoleAssignment.member_id))
        .join(Household, col(Household.id) == col(Member.household_id))
        .where(RoleAssignment.year == year)
        .order_by(col(RoleAssignment.created_at), col(RoleAssignment.id))
    ).all()
    holders: dict[tuple[uuid.UUID, uuid.UUID | None], list[Holder]] = {}
    for assignment, member_name, household_id, number in rows:
        holders.setdefault((assignment.role_id, assignment.group_id), []).append(
            Holder(assignment.id, assignment.member_id, member_name, household_id, number)
        )
    return holders


def role_board(session: Session, *, year: int) -> list[RoleSlot]:
    """The role board of one 年度: association roles, then per-班 roles for every 班."""
    holders = _holders(session, year)
    hans = session.exec(
        select(RosterGroup).where(RosterGroup.kind == GroupKind.HAN)
    ).all()
    parents = {g.id: g for g in session.exec(select(RosterGroup)).all()}

    def han_order(group: RosterGroup) -> tuple[int, int]:
        # The group tree's order: a 班 inside a 地区 by the 地区, a top-level 班 by itself.
        parent = parents.get(group.parent_id) if group.parent_id else None
        return (parent.position, group.position) if parent else (group.position, 0)

    hans_sorted = sorted(hans, key=han_order)
    roles = sorted(list_roles(session), key=lambda role: role.scope == RoleScope.GROUP)
    slots: list[RoleSlot] = []
    for role in roles:
        if role.scope == RoleScope.GROUP:
            for han in hans_sorted:
                slots.append(RoleSlot(role.id, role.name, han.id, han.name, role.max_holders,
                                      tuple(holders.get((role.id, han.id), ()))))
        else:
            slots.append(RoleSlot(role.id, role.name, None, None, role.max_holders,
                                  tuple(holders.get((role.id, None), ()))))
    return slots


def assign_role(
    session: Session,
    *,
    role_id: uuid.UUID,
    year: int,
    member_id: uuid.UUID,
    group_id: uuid.UUID | None = None,
    assignment_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Give a member a role for a 年度 (and a 班 for per-班 roles); returns the assignment id."""
    role = _role(session, role_id)
    member = session.get(Member, member_id)
    if member is None:
        raise NotFoundError(_("This member no longer exists. Reload the role board."))
    household = session.get(Household, member.household_id)
    if household is not None and household.left_on is not None:
        raise ValidationError(
            _("{name}'s household has withdrawn, so {name} cannot hold a role.").format(
                name=member.name
            )
        )
    if role.scope == RoleScope.GROUP:
        group = session.get(RosterGroup, group_id) if group_id else None
        if group is None or group.kind != GroupKind.HAN:
            raise ValidationError(_("{role} is held per 班: choose the 班.").format(
                role=role.name), field="group")
        where = f"{role.name}（{group.name}）"
    else:
        if group_id is not None:
            raise ValidationError(_("{role} is held for the whole association, not per 班.")
                                  .format(role=role.name), field="group")
        where = role.name
    current = session.exec(
        select(RoleAssignment, Member.name)
        .join(Member, col(Member.id) == col(RoleAssignment.member_id))
        .where(RoleAssignment.role_id == role_id, RoleAssignment.year == year,
               RoleAssignment.group_id == group_id)
    ).all()
    nendo = format_nendo(year)
    if any(assignment.member_id == member_id for assignment, _name in current):
        raise ConflictError(_("{name} already holds {role} in {year}.").format(
            name=member.name, role=where, year=nendo))
    if role.max_holders is not None and len(current) >= role.max_holders:
        names = "、".join(name for _assignment, name in current)
        raise ConflictError(
            _("{role} in {year} is already held by {names}; only {count} may hold it. "
              "Remove a holder first.").format(role=where, year=nendo, names=names,
                                               count=role.max_holders)
        )
    assignment = RoleAssignment(id=assignment_id or uuid7(), role_id=role_id, year=year,
                                member_id=member_id, group_id=group_id)
    session.add(assignment)
    session.flush()
    return assignment.id


def unassign_role(session: Session, *, assignment_id: uuid.UUID) -> Assignment:
    """Remove an assignment; returns what it was, so it can be put back."""
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None:
        raise NotFoundError(_("This role assignment no longer exists. Reload the role board."))
    removed = Assignment(assignment.id, assignment.role_id, assignment.year,
                         assignment.member_id, assignment.group_id)
    session.delete(assignment)
    session.flush()
    return removed


@dataclass(frozen=True, slots=True)
class HeldRole:
    """A role a member of one household holds in one 年度 (e.g. 「班長（3班）：青木 一郎」)."""

    role_name: str
    group_name: str | None
    member_name: str

    def __str__(self) -> str:
        role = f"{self.role_name}（{self.group_name}）" if self.group_name else self.role_name
        return f"{role}：{self.member_name}"


def roles_held_by_household(session: Session, *, household_id: uuid.UUID,
                            year: int) -> list[HeldRole]:
    """The roles the household's members hold in 年度 ``year`` (to warn before a withdrawal)."""
    return [HeldRole(slot.role_name, slot.group_name, holder.member_name)
            for slot in role_board(session, year=year)
            for holder in slot.holders if holder.household_id == household_id]
