"""Groups: the 地区 → 班 tree, its counts, names and deletion."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlmodel import Session

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import (
    create_group,
    delete_group,
    group_tree,
    rename_group,
    unassigned_count,
)
from desktop.domain.households import HouseholdData, create_household, withdraw_household
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.store.association_file import AssociationFile


def _household(
    session: Session,
    number: str,
    group_id: uuid.UUID | None,
    channel: NoticeChannel = NoticeChannel.PAPER,
) -> uuid.UUID:
    emails = ("a@example.jp",) if channel == NoticeChannel.EMAIL else ()
    data = HouseholdData(
        number=number, display_name=f"世帯 {number}", channel=channel, emails=emails
    )
    return create_household(session, data=data, group_id=group_id)


def test_tree_lists_districts_before_their_han(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        east = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        west = create_group(session, name="西地区", kind=GroupKind.DISTRICT)
        west_1 = create_group(session, name="3班", parent_id=west)
        east_1 = create_group(session, name="1班", parent_id=east)
        east_2 = create_group(session, name="2班", parent_id=east)
        tree = group_tree(session)
    assert [(node.name, node.parent_id) for node in tree] == [
        ("東地区", None),
        ("1班", east),
        ("2班", east),
        ("西地区", None),
        ("3班", west),
    ]
    assert [node.id for node in tree] == [east, east_1, east_2, west, west_1]
    assert [node.kind for node in tree] == [
        GroupKind.DISTRICT,
        GroupKind.HAN,
        GroupKind.HAN,
        GroupKind.DISTRICT,
        GroupKind.HAN,
    ]
    assert [node.position for node in tree] == [1, 1, 2, 2, 1]


def test_counts_active_and_paper_households_and_districts_add_up(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        east = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han_1 = create_group(session, name="1班", parent_id=east)
        han_2 = create_group(session, name="2班", parent_id=east)
        lone = create_group(session, name="単独班")
        _household(session, "1", han_1)
        _household(session, "2", han_1, NoticeChannel.APP)
        _household(session, "3", han_1, NoticeChannel.EMAIL)
        _household(session, "4", han_2)
        _household(session, "5", han_2)
        gone = _household(session, "6", han_2)  # withdrawn: not counted
        withdraw_household(session, household_id=gone, left_on=date(2025, 3, 31))
        _household(session, "7", lone, NoticeChannel.APP)
        _household(session, "8", None)
        counts = {
            node.name: (node.households, node.paper_households) for node in group_tree(session)
        }
        unassigned = unassigned_count(session)
    assert counts == {"東地区": (5, 3), "1班": (3, 1), "2班": (2, 2), "単独班": (1, 0)}
    assert unassigned == 1


def test_empty_groups_count_zero(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        create_group(session, name="1班")
        assert [(n.households, n.paper_households) for n in group_tree(session)] == [(0, 0)]
        assert unassigned_count(session) == 0


def test_duplicate_sibling_names_are_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        east = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        west = create_group(session, name="西地区", kind=GroupKind.DISTRICT)
        create_group(session, name="1班", parent_id=east)
        with pytest.raises(ConflictError) as caught:
            create_group(session, name="１班", parent_id=east)  # full-width is the same name
        assert caught.value.field == "name"
        assert "1班" in caught.value.message
        create_group(session, name="1班", parent_id=west)  # another district may have one
        with pytest.raises(ConflictError):
            create_group(session, name=" 西地区 ", kind=GroupKind.DISTRICT)


def test_rename_checks_siblings_but_not_itself(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        first = create_group(session, name="1班")
        create_group(session, name="2班")
        rename_group(session, group_id=first, name="1班")
        rename_group(session, group_id=first, name="第1班")
        with pytest.raises(ConflictError):
            rename_group(session, group_id=first, name="2班")
        with pytest.raises(ValidationError) as caught:
            rename_group(session, group_id=first, name="  ")
        assert caught.value.field == "name"
        assert [node.name for node in group_tree(session)] == ["第1班", "2班"]


def test_nesting_rules(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han = create_group(session, name="1班", parent_id=district)
        with pytest.raises(ValidationError):
            create_group(session, name="内側", kind=GroupKind.DISTRICT, parent_id=district)
        with pytest.raises(ValidationError):
            create_group(session, name="孫班", parent_id=han)
        with pytest.raises(NotFoundError):
            create_group(session, name="迷子", parent_id=uuid.uuid4())


def test_delete_non_empty_group_is_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han = create_group(session, name="1班", parent_id=district)
        household = _household(session, "1", han)
        withdraw_household(session, household_id=household, left_on=date(2025, 3, 31))
        with pytest.raises(ConflictError, match="東地区"):
            delete_group(session, group_id=district)  # it has a 班
        with pytest.raises(ConflictError, match="1班"):
            delete_group(session, group_id=han)  # a withdrawn household is still in it
        assert len(group_tree(session)) == 2


def test_delete_empty_group(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han = create_group(session, name="1班", parent_id=district)
        delete_group(session, group_id=han)
        delete_group(session, group_id=district)
        assert group_tree(session) == []
        with pytest.raises(NotFoundError):
            delete_group(session, group_id=han)
