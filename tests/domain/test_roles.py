"""Roles and who holds them, year by year, for the association or for each 班."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlmodel import Session

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    get_household,
    withdraw_household,
)
from desktop.domain.models import GroupKind, RoleScope
from desktop.domain.roles import (
    DEFAULT_ROLES,
    Assignment,
    assign_role,
    create_role,
    delete_role,
    list_roles,
    role_board,
    unassign_role,
    update_role,
)
from desktop.store.association_file import AssociationFile


def _role(session: Session, name: str) -> uuid.UUID:
    return next(role.id for role in list_roles(session) if role.name == name)


def _member(
    session: Session, number: str, name: str, group_id: uuid.UUID | None = None
) -> uuid.UUID:
    household_id = create_household(
        session,
        data=HouseholdData(number=number, display_name=name),
        members=(MemberData(name=name),),
        group_id=group_id,
    )
    member_id = get_household(session, household_id=household_id).members[0].id
    assert member_id is not None
    return member_id


def test_default_roles_are_seeded(association_file: AssociationFile) -> None:
    with association_file.read() as session:
        roles = list_roles(session)
    assert [(r.name, r.scope, r.max_holders) for r in roles] == list(DEFAULT_ROLES)
    assert [r.name for r in roles][:2] == ["会長", "副会長"]
    assert roles[-1].name == "班長"
    assert roles[-1].scope == RoleScope.GROUP
    assert [r.position for r in roles] == list(range(1, len(DEFAULT_ROLES) + 1))


def test_assign_and_unassign_with_undo_data(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        chair = _role(session, "会長")
        member = _member(session, "1", "山田 太郎")
        assignment_id = assign_role(session, role_id=chair, year=2025, member_id=member)
        [slot] = [s for s in role_board(session, year=2025) if s.role_id == chair]
        assert [
            (h.assignment_id, h.member_id, h.member_name, h.household_number) for h in slot.holders
        ] == [(assignment_id, member, "山田 太郎", "1")]
        assert not slot.vacant

        undo = unassign_role(session, assignment_id=assignment_id)
        assert undo == Assignment(assignment_id, chair, 2025, member, None)
        assert next(s for s in role_board(session, year=2025) if s.role_id == chair).vacant

        # Undo puts back the very same assignment.
        again = assign_role(
            session,
            role_id=undo.role_id,
            year=undo.year,
            member_id=undo.member_id,
            group_id=undo.group_id,
            assignment_id=undo.id,
        )
        assert again == assignment_id
        with pytest.raises(NotFoundError):
            unassign_role(session, assignment_id=uuid.uuid4())


def test_second_chair_in_the_same_year_is_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        chair = _role(session, "会長")
        first = _member(session, "1", "山田 太郎")
        second = _member(session, "2", "佐藤 花子")
        assign_role(session, role_id=chair, year=2025, member_id=first)
        with pytest.raises(ConflictError) as caught:
            assign_role(session, role_id=chair, year=2025, member_id=second)
        assert "山田 太郎" in caught.value.message
        assert "会長" in caught.value.message
        assign_role(session, role_id=chair, year=2026, member_id=second)
        assert [
            h.member_name
            for s in role_board(session, year=2026)
            if s.role_id == chair
            for h in s.holders
        ] == ["佐藤 花子"]


def test_same_member_twice_is_refused_even_with_room(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        vice = _role(session, "副会長")  # two may hold it
        member = _member(session, "1", "山田 太郎")
        assign_role(session, role_id=vice, year=2025, member_id=member)
        with pytest.raises(ConflictError, match="already holds"):
            assign_role(session, role_id=vice, year=2025, member_id=member)
        assign_role(session, role_id=vice, year=2025, member_id=_member(session, "2", "佐藤"))
        with pytest.raises(ConflictError, match="only 2 may hold it"):
            assign_role(session, role_id=vice, year=2025, member_id=_member(session, "3", "鈴木"))


def test_per_han_role_needs_a_han_and_allows_one_per_han(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        leader = _role(session, "班長")
        chair = _role(session, "会長")
        district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han_1 = create_group(session, name="1班", parent_id=district)
        han_2 = create_group(session, name="2班", parent_id=district)
        a = _member(session, "1", "一班 a", han_1)
        b = _member(session, "2", "一班 b", han_1)
        c = _member(session, "3", "二班 c", han_2)
        for group_id in (None, district):
            with pytest.raises(ValidationError) as caught:
                assign_role(session, role_id=leader, year=2025, member_id=a, group_id=group_id)
            assert caught.value.field == "group"
        with pytest.raises(ValidationError) as caught:
            assign_role(session, role_id=chair, year=2025, member_id=a, group_id=han_1)
        assert caught.value.field == "group"

        assign_role(session, role_id=leader, year=2025, member_id=a, group_id=han_1)
        with pytest.raises(ConflictError, match="1班"):
            assign_role(session, role_id=leader, year=2025, member_id=b, group_id=han_1)
        assign_role(session, role_id=leader, year=2025, member_id=c, group_id=han_2)
        assign_role(session, role_id=leader, year=2026, member_id=b, group_id=han_1)


def test_role_board_lists_association_roles_then_one_slot_per_han(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        east = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        west = create_group(session, name="西地区", kind=GroupKind.DISTRICT)
        han_3 = create_group(session, name="3班", parent_id=west)
        han_1 = create_group(session, name="1班", parent_id=east)
        han_2 = create_group(session, name="2班", parent_id=east)
        lone = create_group(session, name="単独班")
        create_role(session, name="広報", max_holders=None)  # added after 班長
        leader = _role(session, "班長")
        member = _member(session, "1", "二班 長", han_2)
        assign_role(session, role_id=leader, year=2025, member_id=member, group_id=han_2)
        board = role_board(session, year=2025)
        other_year = role_board(session, year=2024)

    association_names = [
        name for name, scope, _max in DEFAULT_ROLES if scope == RoleScope.ASSOCIATION
    ]
    assert [s.role_name for s in board[: len(association_names) + 1]] == [
        *association_names,
        "広報",
    ]
    assert all(s.group_id is None for s in board[: len(association_names) + 1])
    per_han = board[len(association_names) + 1 :]
    assert {s.role_id for s in per_han} == {leader}
    # The same order as the group tree: 東地区's 班, 西地区's 班, then the 班 after them.
    assert [s.group_name for s in per_han] == ["1班", "2班", "3班", "単独班"]
    assert [s.group_id for s in per_han] == [han_1, han_2, han_3, lone]
    assert [bool(s.holders) for s in per_han] == [False, True, False, False]
    assert per_han[1].holders[0].member_name == "二班 長"
    assert all(s.vacant for s in other_year)


def test_member_of_withdrawn_household_is_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        chair = _role(session, "会長")
        household_id = create_household(
            session,
            data=HouseholdData(number="1", display_name="山田 太郎"),
            members=(MemberData(name="山田 太郎"),),
        )
        record = get_household(session, household_id=household_id)
        member = record.members[0].id
        assert member is not None
        withdraw_household(session, household_id=household_id, left_on=date(2025, 3, 31))
        with pytest.raises(ValidationError, match="withdrawn"):
            assign_role(session, role_id=chair, year=2025, member_id=member)
        with pytest.raises(NotFoundError):
            assign_role(session, role_id=chair, year=2025, member_id=uuid.uuid4())
        with pytest.raises(NotFoundError):
            assign_role(session, role_id=uuid.uuid4(), year=2025, member_id=member)
        assert all(slot.vacant for slot in role_board(session, year=2025))


def test_create_update_and_delete_a_role(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        role_id = create_role(
            session, name=" 体育部長 ", scope=RoleScope.ASSOCIATION, max_holders=3
        )
        created = list_roles(session)[-1]
        assert (created.id, created.name, created.max_holders) == (role_id, "体育部長", 3)
        assert created.position == len(DEFAULT_ROLES) + 1

        update_role(session, role_id=role_id, name="体育委員長", max_holders=None)
        updated = next(r for r in list_roles(session) if r.id == role_id)
        assert (updated.name, updated.max_holders) == ("体育委員長", None)

        delete_role(session, role_id=role_id)
        assert role_id not in {r.id for r in list_roles(session)}
        with pytest.raises(NotFoundError):
            delete_role(session, role_id=role_id)


@pytest.mark.parametrize(
    ("name", "max_holders", "error", "field"),
    [
        ("", 1, ValidationError, "name"),
        ("会長", 1, ConflictError, "name"),
        ("会計", 1, ConflictError, "name"),
        ("新役", 0, ValidationError, "max_holders"),
    ],
)
def test_bad_role_is_refused(
    association_file: AssociationFile,
    name: str,
    max_holders: int,
    error: type[Exception],
    field: str,
) -> None:
    with association_file.write() as session:
        with pytest.raises(error) as caught:
            create_role(session, name=name, max_holders=max_holders)
        assert getattr(caught.value, "field", None) == field
        secretary = _role(session, "書記")
        with pytest.raises(error):
            update_role(session, role_id=secretary, name=name, max_holders=max_holders)
        update_role(session, role_id=secretary, name="書記", max_holders=1)  # its own name


def test_delete_role_with_history_is_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        role_id = create_role(session, name="広報")
        assignment = assign_role(
            session, role_id=role_id, year=2020, member_id=_member(session, "1", "山田 太郎")
        )
        with pytest.raises(ConflictError, match="広報"):
            delete_role(session, role_id=role_id)
        unassign_role(session, assignment_id=assignment)
        delete_role(session, role_id=role_id)
