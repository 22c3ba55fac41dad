"""The handover: plan (carry over, 班長 rotation, vacancies), review (conflicts, required roles,
exempt households) and apply (one transaction, once per year)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

import pytest
from sqlmodel import Session, select

from desktop.domain.errors import NotFoundError, ValidationError
from desktop.domain.groups import create_group
from desktop.domain.handover import (
    HandoverAlreadyDone,
    HandoverChoices,
    Person,
    SlotSource,
    apply_handover,
    get_handover,
    list_handovers,
    plan_handover,
)
from desktop.domain.handover_review import WarningKind, review
from desktop.domain.handover_rotation import RotationReason
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    get_household,
    update_household,
    withdraw_household,
)
from desktop.domain.models import Handover, RoleAssignment
from desktop.domain.roles import assign_role, list_roles, role_board
from desktop.store.association_file import AssociationFile

OLD, NEW = 2026, 2027


@dataclass
class Town:
    """1班: 0101 0102 0103(免除) 0104; 2班: 0201(免除) 0202(免除). Officers of 2026:
    会長 0101, 会計 0102, 班長（1班） 0101."""

    han_1: uuid.UUID
    han_2: uuid.UUID
    households: dict[str, uuid.UUID]
    members: dict[str, uuid.UUID]
    roles: dict[str, uuid.UUID]


def _household(session: Session, town: Town, number: str, group: uuid.UUID, *,
               exempt: bool = False, duties: bool = False) -> None:
    name = f"住民 {number}"
    household_id = create_household(
        session, data=HouseholdData(number=number, display_name=name, exempt_han_leader=exempt,
                                    exempt_duties=duties),
        members=(MemberData(name=f"子 {number}"), MemberData(name=name, is_head=True)),
        group_id=group)
    town.households[number] = household_id
    head = next(m for m in get_household(session, household_id=household_id).members
                if m.is_head)
    assert head.id is not None
    town.members[number] = head.id


def _town(session: Session) -> Town:
    town = Town(create_group(session, name="1班"), create_group(session, name="2班"), {}, {},
                {role.name: role.id for role in list_roles(session)})
    for number, exempt in (("0101", False), ("0102", False), ("0103", True), ("0104", False)):
        _household(session, town, number, town.han_1, exempt=exempt)
    for number in ("0201", "0202"):
        _household(session, town, number, town.han_2, exempt=True)
    assign_role(session, role_id=town.roles["会長"], year=OLD, member_id=town.members["0101"])
    assign_role(session, role_id=town.roles["会計"], year=OLD, member_id=town.members["0102"])
    assign_role(session, role_id=town.roles["班長"], year=OLD, member_id=town.members["0101"],
                group_id=town.han_1)
    return town


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return _town(session)


def _names(people: tuple[Person, ...]) -> list[str]:
    return [person.name for person in people]


def _board(file: AssociationFile, year: int) -> dict[str, list[str]]:
    with file.read() as session:
        return {f"{slot.role_name}{slot.group_name or ''}": [h.member_name for h in slot.holders]
                for slot in role_board(session, year=year) if slot.holders}


def _person(town: Town, number: str) -> Person:
    return Person(town.members[number], f"住民 {number}", town.households[number], number)


def test_plan_carries_officers_over_and_rotates_the_han_leaders(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.read() as session:
        plan = plan_handover(session, new_year=NEW)
    assert (plan.new_year, plan.from_year) == (NEW, OLD)
    assert (plan.starts_on, plan.ends_on) == (date(2027, 4, 1), date(2028, 3, 31))
    by_label = {slot.label: slot for slot in plan.slots}
    chair = by_label["会長"]
    assert (_names(chair.previous), _names(chair.proposed)) == (["住民 0101"], ["住民 0101"])
    assert chair.source == SlotSource.CARRIED and chair.required
    assert by_label["書記"].source == SlotSource.VACANT
    leader = by_label["班長（1班）"]
    assert _names(leader.proposed) == ["住民 0102"]  # the head, not the first member
    assert leader.source == SlotSource.ROTATION and leader.rotation == RotationReason.NEXT
    assert "住民 0101" in leader.note
    lone = by_label["班長（2班）"]
    assert lone.proposed == () and lone.rotation == RotationReason.ALL_EXEMPT
    assert "exempt" in lone.note and "2班" in lone.note
    assert plan.done is None


def test_apply_writes_the_new_year_and_records_the_handover(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.read() as session:
        plan = plan_handover(session, new_year=NEW)
    with association_file.write() as session:
        handover = apply_handover(session, plan.choices(), done_by=" 山田 ")
        assert isinstance(handover, Handover)
    assert _board(association_file, NEW) == {
        "会長": ["住民 0101"], "会計": ["住民 0102"], "班長1班": ["住民 0102"]}
    assert _board(association_file, OLD) == {  # the outgoing year stays as it was
        "会長": ["住民 0101"], "会計": ["住民 0102"], "班長1班": ["住民 0101"]}
    with association_file.read() as session:
        record = get_handover(session, year=NEW)
        assert record is not None and list_handovers(session) == [record]
    assert (record.from_year, record.starts_on, record.done_by) == (OLD, date(2027, 4, 1),
                                                                    "山田")
    assert record.done_at.tzinfo is not None


def test_running_the_handover_twice_for_one_year_is_refused(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.read() as session:
        choices = plan_handover(session, new_year=NEW).choices()
    with association_file.write() as session:
        apply_handover(session, choices, done_by="山田")
    with association_file.read() as session:
        again = plan_handover(session, new_year=NEW)
    assert again.done is not None and again.done.done_by == "山田"
    other = again.choices().with_slot((town.roles["会長"], None), [_person(town, "0104")])
    with pytest.raises(HandoverAlreadyDone) as refused, association_file.write() as session:
        apply_handover(session, other, done_by="佐藤")
    assert "令和9年度" in refused.value.message and "山田" in refused.value.message
    assert "role board" in refused.value.message  # what to do instead
    assert _board(association_file, NEW)["会長"] == ["住民 0101"]


def test_a_required_role_left_vacant_is_a_warning_not_a_block(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.read() as session:
        plan = plan_handover(session, new_year=NEW)
        choices = plan.choices().with_slot((town.roles["会長"], None), ())
        warnings = review(session, plan, choices)
    vacant = [w for w in warnings if w.kind == WarningKind.REQUIRED_VACANT]
    assert [w.role_id for w in vacant] == [town.roles["会長"]]
    assert "会長" in vacant[0].message and "required" in vacant[0].message
    # 監事 is vacant too, but the bylaws (the defaults) do not require it.
    assert not any("監事" in w.message for w in warnings)
    with association_file.write() as session:
        apply_handover(session, choices, done_by="")
    assert "会長" not in _board(association_file, NEW)


def test_roles_one_person_should_not_hold_together_are_flagged(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.read() as session:
        plan = plan_handover(session, new_year=NEW)
        assert {w.kind for w in review(session, plan, plan.choices())} == {
            WarningKind.NO_ONE_TO_ROTATE}  # 2班: nothing else to look at in the plan itself
        both = plan.choices().with_slot((town.roles["会計"], None), [_person(town, "0101")])
        warnings = review(session, plan, both)
    [conflict] = [w for w in warnings if w.kind == WarningKind.CONFLICT]
    assert "住民 0101" in conflict.message
    assert "会長" in conflict.message and "会計" in conflict.message
    with association_file.write() as session:  # flagged, not refused
        apply_handover(session, both, done_by="")
    assert _board(association_file, NEW)["会計"] == ["住民 0101"]


def test_a_han_whose_every_household_is_exempt(association_file: AssociationFile,
                                                town: Town) -> None:
    with association_file.read() as session:
        plan = plan_handover(session, new_year=NEW)
        warnings = review(session, plan, plan.choices())
    [warning] = [w for w in warnings if w.kind == WarningKind.NO_ONE_TO_ROTATE]
    assert warning.group_id == town.han_2
    assert "Every household of 2班 is exempt" in warning.message
    assert "by hand" in warning.message  # and what to do
    chosen = plan.choices().with_slot((town.roles["班長"], town.han_2), [_person(town, "0201")])
    with association_file.read() as session:
        warnings = review(session, plan, chosen)
    assert not [w for w in warnings if w.kind == WarningKind.NO_ONE_TO_ROTATE]
    [exempt] = [w for w in warnings if w.kind == WarningKind.EXEMPT_LEADER]
    assert "住民 0201" in exempt.message and "班長免除" in exempt.message
    with association_file.write() as session:
        apply_handover(session, chosen, done_by="")
    assert _board(association_file, NEW)["班長2班"] == ["住民 0201"]


def test_a_household_exempt_from_duties_chosen_as_officer_is_flagged(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        record = get_household(session, household_id=town.households["0101"])
        update_household(session, household_id=record.id,
                         data=replace(record.data, exempt_duties=True), members=record.members)
        plan = plan_handover(session, new_year=NEW)
        warnings = review(session, plan, plan.choices())
    [duties] = [w for w in warnings if w.kind == WarningKind.EXEMPT_DUTIES]
    assert "役員免除" in duties.message and "会長" in duties.message


def test_a_failed_handover_writes_nothing(association_file: AssociationFile,
                                          town: Town) -> None:
    with association_file.read() as session:
        choices = plan_handover(session, new_year=NEW).choices()
    with association_file.write() as session:  # after planning, the 会計's household leaves
        withdraw_household(session, household_id=town.households["0102"],
                           left_on=date(2027, 3, 1))
    with pytest.raises(ValidationError, match="withdrawn"), association_file.write() as session:
        apply_handover(session, choices, done_by="")
    assert _board(association_file, NEW) == {}
    with association_file.read() as session:
        assert get_handover(session, year=NEW) is None


def test_a_withdrawn_holder_is_not_carried_over(association_file: AssociationFile,
                                                town: Town) -> None:
    with association_file.write() as session:
        withdraw_household(session, household_id=town.households["0102"],
                           left_on=date(2027, 3, 1))
        plan = plan_handover(session, new_year=NEW)
    treasurer = next(slot for slot in plan.slots if slot.label == "会計")
    assert treasurer.proposed == () and treasurer.source == SlotSource.VACANT
    assert "住民 0102" in treasurer.note and "withdrawn" in treasurer.note
    leader = next(slot for slot in plan.slots if slot.label == "班長（1班）")
    assert _names(leader.proposed) == ["住民 0104"]  # 0102 left the route, 0103 is exempt


def test_holders_already_set_for_the_new_year_are_kept_and_only_changes_are_written(
        association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        kept = assign_role(session, role_id=town.roles["会計"], year=NEW,
                           member_id=town.members["0104"])
        assign_role(session, role_id=town.roles["会長"], year=NEW,
                    member_id=town.members["0102"])
        assign_role(session, role_id=town.roles["班長"], year=NEW,
                    member_id=town.members["0104"], group_id=town.han_1)
        plan = plan_handover(session, new_year=NEW)
    treasurer = next(slot for slot in plan.slots if slot.label == "会計")
    assert treasurer.source == SlotSource.ALREADY and _names(treasurer.proposed) == ["住民 0104"]
    choices = plan.choices().with_slot((town.roles["会長"], None), [_person(town, "0101")])
    with association_file.write() as session:
        apply_handover(session, choices, done_by="")
        rows = session.exec(select(RoleAssignment).where(RoleAssignment.year == NEW)).all()
    assert len(rows) == 3  # the 会長 that was replaced is gone, not kept beside
    assert _board(association_file, NEW) == {
        "会長": ["住民 0101"], "会計": ["住民 0104"], "班長1班": ["住民 0104"]}
    with association_file.read() as session:
        treasurer_ids = [h.assignment_id for slot in role_board(session, year=NEW)
                         if slot.role_name == "会計" for h in slot.holders]
    assert treasurer_ids == [kept]  # untouched, not deleted and made again


def test_the_rotation_remembers_recent_years(association_file: AssociationFile,
                                             town: Town) -> None:
    with association_file.write() as session:  # 0102 was 班長 in 2025
        assign_role(session, role_id=town.roles["班長"], year=2025,
                    member_id=town.members["0102"], group_id=town.han_1)
        two = plan_handover(session, new_year=NEW)
        one = plan_handover(session, new_year=NEW, recent_years=1)
        with pytest.raises(ValidationError):
            plan_handover(session, new_year=NEW, recent_years=-1)

    def leader(plan: object) -> list[str]:
        return next(_names(slot.proposed) for slot in plan.slots  # type: ignore[attr-defined]
                    if slot.label == "班長（1班）")

    assert leader(two) == ["住民 0104"]
    assert leader(one) == ["住民 0102"]


def test_the_outgoing_year_is_the_latest_with_officers(association_file: AssociationFile,
                                                       town: Town) -> None:
    with association_file.read() as session:
        plan = plan_handover(session, new_year=2029)  # 2027 and 2028 never recorded
    assert plan.from_year == OLD
    assert _names(next(s for s in plan.slots if s.label == "会長").previous) == ["住民 0101"]


def test_dates_and_slots_are_checked(association_file: AssociationFile, town: Town) -> None:
    with association_file.read() as session:
        choices = plan_handover(session, new_year=NEW).choices()
    backwards = replace(choices, starts_on=date(2028, 4, 1), ends_on=date(2027, 3, 31))
    with pytest.raises(ValidationError) as caught, association_file.write() as session:
        apply_handover(session, backwards, done_by="")
    assert caught.value.field == "starts_on"
    twice = HandoverChoices(choices.new_year, choices.from_year, choices.starts_on,
                            choices.ends_on, (*choices.slots, choices.slots[0]))
    with pytest.raises(ValidationError, match="twice"), association_file.write() as session:
        apply_handover(session, twice, done_by="")
    three = choices.with_slot((town.roles["副会長"], None), [
        _person(town, number) for number in ("0101", "0102", "0104")])
    with pytest.raises(ValidationError, match="3 are chosen, but only 2"), \
            association_file.write() as session:
        apply_handover(session, three, done_by="")
    ghost = choices.with_slot((town.roles["書記"], None), [
        Person(uuid.uuid4(), "幽霊 太郎", uuid.uuid4(), "9999")])
    with pytest.raises(NotFoundError, match="幽霊 太郎 is no longer in the roster"), \
            association_file.write() as session:
        apply_handover(session, ghost, done_by="")
    with association_file.read() as session:
        assert get_handover(session, year=NEW) is None
