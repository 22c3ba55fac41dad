"""Roles (役職) and who holds them in each association year (年度), including per-班 roles,
which roles the bylaws require filled, and which two roles one person may not hold together."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    GroupKind,
    Household,
    Member,
    Role,
    RoleAssignment,
    RoleConflict,
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
# What most bylaws say, as a new association's starting point (editable on the role board).
DEFAULT_REQUIRED: tuple[str, ...] = ("会長", "会計")
DEFAULT_CONFLICTS: tuple[tuple[str, str], ...] = (("会長", "会計"), ("会計", "監事"))


@dataclass(frozen=True, slots=True)
class RoleInfo:
    """A role as the role list shows it."""

    id: uuid.UUID
    name: str
    scope: RoleScope
    max_holders: int | None
    position: int
    required: bool = False


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
    required: bool = False
    conflicts: tuple[str, ...] = ()  # the roles its holder may not hold too

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
    return [RoleInfo(r.id, r.name, RoleScope(r.scope), r.max_holders, r.position, r.required)
            for r in roles]


def create_role(
    session: Session,
    *,
    name: str,
    scope: RoleScope = RoleScope.ASSOCIATION,
    max_holders: int | None = 1,
    required: bool = False,
) -> uuid.UUID:
    """Add a role at the end of the board (``required``: the bylaws require it filled)."""
    _check_max_holders(max_holders)
    last = session.exec(select(func.max(Role.position))).one()
    role = Role(id=uuid7(), name=_clean_role_name(session, name, None), scope=scope,
                max_holders=max_holders, position=(last or 0) + 1, required=required)
    session.add(role)
    session.flush()
    return role.id


def update_role(
    session: Session, *, role_id: uuid.UUID, name: str, max_holders: int | None,
    required: bool | None = None,
) -> None:
    """Rename a role or change how many may hold it (existing holders are kept), and
    whether it is required (``None`` leaves that as it is)."""
    _check_max_holders(max_holders)
    role = _role(session, role_id)
    role.name = _clean_role_name(session, name, role_id)
    role.max_holders = max_holders
    if required is not None:
        role.required = required
    session.flush()


def set_role_required(session: Session, *, role_id: uuid.UUID, required: bool) -> bool:
    """Mark a role as required by the bylaws (or not); returns what it was, for undo."""
    role = _role(session, role_id)
    before = role.required
    role.required = required
    session.flush()
    return before


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
    # Through the session, not the foreign key's cascade, so the change is seen and recorded.
    for conflict in session.exec(select(RoleConflict).where(
            or_(col(RoleConflict.role_id) == role_id,
                col(RoleConflict.other_role_id) == role_id))).all():
        session.delete(conflict)
    session.flush()
    session.delete(role)
    session.flush()


def seed_default_roles(session: Session) -> None:
    """Give a new association the usual roles, the usually required ones marked, and the
    usual pairs one person may not hold together."""
    ids: dict[str, uuid.UUID] = {}
    for position, (name, scope, max_holders) in enumerate(DEFAULT_ROLES, start=1):
        ids[name] = uuid7()
        session.add(Role(id=ids[name], name=name, scope=scope, max_holders=max_holders,
                         position=position, required=name in DEFAULT_REQUIRED))
    session.flush()
    for first, second in DEFAULT_CONFLICTS:
        add_conflict(session, role_id=ids[first], other_role_id=ids[second])


# ---------------------------------------------------------------- roles one person may not pair


@dataclass(frozen=True, slots=True)
class ConflictInfo:
    """Two roles one person may not hold in the same year (e.g. 会長 and 会計)."""

    role_id: uuid.UUID
    role_name: str
    other_role_id: uuid.UUID
    other_role_name: str


def _ordered(role_id: uuid.UUID, other_role_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    # Stored once per pair, the smaller id first (the table's CHECK; ids compare as stored).
    return (role_id, other_role_id) if role_id.hex < other_role_id.hex else (
        other_role_id, role_id)


def list_conflicts(session: Session) -> list[ConflictInfo]:
    """Every pair of roles one person may not hold together, in board order."""
    roles = {role.id: role for role in session.exec(select(Role)).all()}
    pairs = []
    for conflict in session.exec(select(RoleConflict)).all():
        first, second = roles[conflict.role_id], roles[conflict.other_role_id]
        if (first.position, first.name) > (second.position, second.name):
            first, second = second, first
        pairs.append(ConflictInfo(first.id, first.name, second.id, second.name))
    return sorted(pairs, key=lambda pair: (roles[pair.role_id].position,
                                           roles[pair.other_role_id].position))


def conflicts_of(session: Session, *, role_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The roles that the holder of ``role_id`` may not hold too."""
    return tuple(
        pair.other_role_id if pair.role_id == role_id else pair.role_id
        for pair in list_conflicts(session)
        if role_id in (pair.role_id, pair.other_role_id)
    )


def add_conflict(session: Session, *, role_id: uuid.UUID, other_role_id: uuid.UUID) -> None:
    """Record that one person may not hold both roles (nothing happens if already recorded)."""
    role, other = _role(session, role_id), _role(session, other_role_id)
    if role_id == other_role_id:
        raise ValidationError(_("A role cannot conflict with itself. Choose another role."),
                              field="conflicts")
    first, second = _ordered(role.id, other.id)
    if session.get(RoleConflict, (first, second)) is None:
        session.add(RoleConflict(role_id=first, other_role_id=second))
        session.flush()


def remove_conflict(session: Session, *, role_id: uuid.UUID, other_role_id: uuid.UUID) -> None:
    """One person may hold both roles again (nothing happens if they already could)."""
    conflict = session.get(RoleConflict, _ordered(role_id, other_role_id))
    if conflict is not None:
        session.delete(conflict)
        session.flush()


def set_conflicts(session: Session, *, role_id: uuid.UUID,
                  other_role_ids: Collection[uuid.UUID]) -> tuple[uuid.UUID, ...]:
    """Make exactly ``other_role_ids`` the roles ``role_id``'s holder may not hold too;
    returns the ones before, for undo."""
    _role(session, role_id)
    before = conflicts_of(session, role_id=role_id)
    wanted = set(other_role_ids)
    for other in before:
        if other not in wanted:
            remove_conflict(session, role_id=role_id, other_role_id=other)
    for other in wanted:
        if other not in before:
            add_conflict(session, role_id=role_id, other_role_id=other)
    return before


def conflicting_pairs(session: Session) -> set[frozenset[uuid.UUID]]:
    """The pairs of roles one person may not hold together, for quick checks."""
    return {frozenset((conflict.role_id, conflict.other_role_id))
            for conflict in session.exec(select(RoleConflict)).all()}


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
    conflicts: dict[uuid.UUID, list[str]] = {}
    for pair in list_conflicts(session):
        conflicts.setdefault(pair.role_id, []).append(pair.other_role_name)
        conflicts.setdefault(pair.other_role_id, []).append(pair.role_name)
    slots: list[RoleSlot] = []
    for role in roles:
        rules = (role.required, tuple(conflicts.get(role.id, ())))
        if role.scope == RoleScope.GROUP:
            for han in hans_sorted:
                slots.append(RoleSlot(role.id, role.name, han.id, han.name, role.max_holders,
                                      tuple(holders.get((role.id, han.id), ())), *rules))
        else:
            slots.append(RoleSlot(role.id, role.name, None, None, role.max_holders,
                                  tuple(holders.get((role.id, None), ())), *rules))
    return slots


def years_on_record(session: Session) -> list[int]:
    """Every 年度 with a role holder on record, oldest first (for the role board's years)."""
    return list(session.exec(
        select(RoleAssignment.year).distinct().order_by(col(RoleAssignment.year))
    ).all())


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
