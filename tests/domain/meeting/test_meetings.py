"""Meetings in the association file: the rules kept once and copied, the agenda, and the voter
list of the record date (who is on it and why), taken again only while nothing is entered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, func, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    purge_household,
    withdraw_household,
)
from desktop.domain.meeting import (
    MAJORITY_OF_CAST,
    TWO_THIRDS_OF_PRESENT,
    EntryKind,
    Quorum,
    Rules,
    VotingUnit,
)
from desktop.domain.meeting.entries import record_entry
from desktop.domain.meeting.meetings import (
    ItemData,
    MeetingData,
    add_item,
    create_meeting,
    delete_meeting,
    find_meeting,
    get_meeting,
    get_rules,
    list_meetings,
    mark_forms_printed,
    meeting_voters,
    refresh_voters,
    remove_item,
    save_rules,
    set_chair,
    set_rules,
    update_item,
    update_meeting,
)
from desktop.domain.models import GroupKind, MeetingItem, MeetingVoter
from desktop.store.association_file import AssociationFile

RECORD_DATE = date(2025, 4, 1)
HELD_ON = date(2025, 5, 18)
ENTERED = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
ITEMS = (ItemData("令和6年度事業報告"), ItemData("令和7年度予算案"),
         ItemData("規約改正", TWO_THIRDS_OF_PRESENT))


@dataclass(frozen=True)
class Roster:
    """A small association whose households test every rule of the voter list.

    On the list of 2025-04-01: 0001 (1班, two members), 0002 (1班, no joining date), 0006
    (2班, withdrew after the record date), 0007 (in no 班, joined on the record date), 0012
    (3班 of 西地区, also a "1班" elsewhere). Not on it: 0003 (joined after), 0004 (withdrew
    before), 0005 (withdrew on the record date).
    """

    han1: uuid.UUID
    han2: uuid.UUID
    households: dict[str, uuid.UUID]


def _add(session: Session, number: str, group: uuid.UUID | None, *names: str,
         joined_on: date | None = date(2010, 4, 1)) -> uuid.UUID:
    return create_household(
        session, data=HouseholdData(number=number, display_name=names[0], joined_on=joined_on),
        members=tuple(MemberData(name=name) for name in names), group_id=group)


def build_roster(session: Session) -> Roster:
    """The roster the meeting tests share (see :class:`Roster`)."""
    east = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
    han1 = create_group(session, name="1班", parent_id=east)
    han2 = create_group(session, name="2班", parent_id=east)
    west = create_group(session, name="西地区", kind=GroupKind.DISTRICT)
    west1 = create_group(session, name="1班", parent_id=west)
    ids = {
        "0001": _add(session, "0001", han1, "山田 太郎", "山田 花子"),
        "0002": _add(session, "0002", han1, "佐藤 一郎", joined_on=None),
        "0003": _add(session, "0003", han2, "鈴木 次郎", joined_on=date(2025, 4, 2)),
        "0004": _add(session, "0004", han2, "高橋 三郎"),
        "0005": _add(session, "0005", han2, "田中 四郎"),
        "0006": _add(session, "0006", han2, "伊藤 五郎"),
        "0007": _add(session, "0007", None, "渡辺 六郎", joined_on=RECORD_DATE),
        "0012": _add(session, "0012", west1, "中村 七郎", "中村 八重", "中村 九"),
    }
    withdraw_household(session, household_id=ids["0004"], left_on=date(2025, 3, 31))
    withdraw_household(session, household_id=ids["0005"], left_on=RECORD_DATE)
    withdraw_household(session, household_id=ids["0006"], left_on=date(2025, 4, 20))
    return Roster(han1, han2, ids)


def new_meeting(session: Session, *, items: tuple[ItemData, ...] = ITEMS,
                record_date: date = RECORD_DATE) -> uuid.UUID:
    return create_meeting(session, data=MeetingData(
        title="令和7年度 定期総会", held_on=HELD_ON, place="桜町公民館", record_date=record_date),
        items=items)


@pytest.fixture
def roster(association_file: AssociationFile) -> Roster:
    with association_file.write() as session:
        return build_roster(session)


@pytest.fixture
def meeting(association_file: AssociationFile, roster: Roster) -> uuid.UUID:
    with association_file.write() as session:
        return new_meeting(session)


def _numbers(association_file: AssociationFile, meeting_id: uuid.UUID) -> list[str]:
    with association_file.read() as session:
        return [voter.number for voter in meeting_voters(session, meeting_id=meeting_id)]


# ---------------------------------------------------------------- the voter list


def test_the_voter_list_is_the_roster_of_the_record_date(
        association_file: AssociationFile, roster: Roster, meeting: uuid.UUID) -> None:
    # 0003 joined the day after, 0004 withdrew the day before and 0005 on the record date;
    # 0006 withdrew after it and still votes; 0002 has no joining date; 0007 joined that day.
    # Order: 1班 and 2班 of 東地区, then 西地区's 1班, then households in no 班.
    assert _numbers(association_file, meeting) == ["0001", "0002", "0006", "0012", "0007"]
    with association_file.read() as session:
        voters = meeting_voters(session, meeting_id=meeting)
    first = voters[0]
    assert (first.key, first.number, first.name, first.household_id) == (
        "0001", "0001", "山田 太郎", roster.households["0001"])
    # Two 班 are called 1班: the chase list tells them apart by their 地区.
    assert [voter.group_name for voter in voters] == [
        "東地区 1班", "東地区 1班", "2班", "西地区 1班", ""]


def test_the_record_date_decides_at_its_edges(association_file: AssociationFile,
                                              roster: Roster) -> None:
    with association_file.write() as session:
        day_before = new_meeting(session, record_date=date(2025, 3, 31))
        day_after = new_meeting(session, record_date=date(2025, 4, 2))
    # On 3/31: 0004 withdrew that day (out), 0005 still a member, 0007 not joined yet.
    assert _numbers(association_file, day_before) == ["0001", "0002", "0005", "0006", "0012"]
    # On 4/2: 0003 joined that day, 0005 had withdrawn.
    assert _numbers(association_file, day_after) == ["0001", "0002", "0003", "0006", "0012",
                                                     "0007"]


def test_the_route_orders_each_han(association_file: AssociationFile, roster: Roster) -> None:
    from desktop.domain.households import set_circulation_order

    with association_file.write() as session:
        set_circulation_order(session, group_id=roster.han1, household_ids=[
            roster.households["0002"], roster.households["0001"]])
        meeting_id = new_meeting(session)
    assert _numbers(association_file, meeting_id)[:2] == ["0002", "0001"]


def test_one_vote_per_member(association_file: AssociationFile, roster: Roster) -> None:
    with association_file.write() as session:
        save_rules(session, rules=Rules(voting_unit=VotingUnit.MEMBER))
        meeting_id = new_meeting(session)
        voters = meeting_voters(session, meeting_id=meeting_id)
        stored = session.exec(select(MeetingVoter).where(
            MeetingVoter.meeting_id == meeting_id)).all()
    assert [(voter.number, voter.name) for voter in voters] == [
        ("0001", "山田 太郎"), ("0001", "山田 花子"), ("0002", "佐藤 一郎"), ("0006", "伊藤 五郎"),
        ("0012", "中村 七郎"), ("0012", "中村 八重"), ("0012", "中村 九"), ("0007", "渡辺 六郎")]
    by_key = {row.key: row for row in stored}
    for voter in voters:
        row = by_key[voter.key]
        assert row.member_id is not None and voter.key == row.member_id.hex
        assert row.household_id == voter.household_id == roster.households[voter.number]


def test_the_list_is_a_record_a_later_roster_change_leaves_alone(
        association_file: AssociationFile, roster: Roster, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        purge_household(session, household_id=roster.households["0006"])
        _add(session, "0020", roster.han2, "小林 十郎", joined_on=None)
    assert _numbers(association_file, meeting) == ["0001", "0002", "0006", "0012", "0007"]
    with association_file.write() as session:  # taken again on purpose: the roster of now
        assert refresh_voters(session, meeting_id=meeting) == 5
    assert _numbers(association_file, meeting) == ["0001", "0002", "0020", "0012", "0007"]


def test_the_list_is_taken_again_only_while_nothing_is_entered(
        association_file: AssociationFile, roster: Roster, meeting: uuid.UUID) -> None:
    later = MeetingData("令和7年度 定期総会", HELD_ON, "桜町公民館", date(2025, 4, 2))
    with association_file.write() as session:
        update_meeting(session, meeting_id=meeting, data=later)
    assert "0003" in _numbers(association_file, meeting)
    with association_file.write() as session:
        record_entry(session, meeting_id=meeting, voter_key="0003", kind=EntryKind.ATTEND,
                     entered_by="受付", entered_at=ENTERED)
    with association_file.write() as session, pytest.raises(ConflictError,
                                                             match="cannot change: 1 entries"):
        update_meeting(session, meeting_id=meeting, data=replace(later, record_date=RECORD_DATE))
    with association_file.write() as session, pytest.raises(ConflictError, match="1 entries"):
        refresh_voters(session, meeting_id=meeting)
    with association_file.write() as session, pytest.raises(ConflictError, match="voting unit"):
        set_rules(session, meeting_id=meeting, rules=Rules(voting_unit=VotingUnit.MEMBER))
    with association_file.write() as session:  # other facts and rules may still change
        update_meeting(session, meeting_id=meeting, data=replace(later, place="集会所"))
        set_rules(session, meeting_id=meeting, rules=Rules(proxy_cap=3))
        record = get_meeting(session, meeting_id=meeting)
    assert (record.data.place, record.rules.proxy_cap, record.entries) == ("集会所", 3, 1)
    assert "0003" in _numbers(association_file, meeting)


def test_a_new_voting_unit_takes_the_list_again_and_drops_a_chair_not_on_it(
        association_file: AssociationFile, roster: Roster, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_chair(session, meeting_id=meeting, voter_key="0001")
        set_rules(session, meeting_id=meeting, rules=Rules(voting_unit=VotingUnit.MEMBER))
        record = get_meeting(session, meeting_id=meeting)
    assert (record.voters, record.chair_key) == (8, None)


# ---------------------------------------------------------------- rules


def test_rules_default_then_saved_and_copied_into_each_new_meeting(
        association_file: AssociationFile, roster: Roster) -> None:
    with association_file.write() as session:
        assert get_rules(session) == Rules()
        first = new_meeting(session)
        rules = Rules(quorum=Quorum(1, 3, strict=False), proxy_cap=2)
        save_rules(session, rules=rules)
        save_rules(session, rules=rules)  # saved again: still one row
        second = new_meeting(session)
    with association_file.read() as session:
        assert get_rules(session) == rules
        assert get_meeting(session, meeting_id=first).rules == Rules()
        assert get_meeting(session, meeting_id=second).rules == rules


def test_a_meetings_rules_are_its_own(association_file: AssociationFile,
                                      meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_rules(session, meeting_id=meeting, rules=Rules(proxy_cap=4))
        assert get_rules(session) == Rules()
        assert get_meeting(session, meeting_id=meeting).rules == Rules(proxy_cap=4)


# ---------------------------------------------------------------- the meeting and its agenda


def test_create_and_read_back(association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.read() as session:
        record = get_meeting(session, meeting_id=meeting)
    assert record.data == MeetingData("令和7年度 定期総会", HELD_ON, "桜町公民館", RECORD_DATE)
    assert [(item.index, item.title, item.majority, item.added_after_forms)
            for item in record.items] == [
        (0, "令和6年度事業報告", ITEMS[0].majority, False),
        (1, "令和7年度予算案", ITEMS[1].majority, False),
        (2, "規約改正", TWO_THIRDS_OF_PRESENT, False)]
    assert record.items[2].agenda_item.majority == TWO_THIRDS_OF_PRESENT
    assert (record.voters, record.entries, record.chair_key, record.forms_printed_at) == (
        5, 0, None, None)


@pytest.mark.parametrize(("data", "field", "message"), [
    (MeetingData("  ", HELD_ON, "", RECORD_DATE), "title", "title is empty"),
    (MeetingData("総会" * 51, HELD_ON, "", RECORD_DATE), "title", "longer than 100"),
    (MeetingData("総会", HELD_ON, "", date(2025, 5, 19)), "record_date",
     "record date 令和7年5月19日 \\(2025-05-19\\) is after the meeting"),
])
def test_bad_meetings_are_refused(association_file: AssociationFile, roster: Roster,
                                  data: MeetingData, field: str, message: str) -> None:
    with association_file.write() as session, pytest.raises(ValidationError,
                                                             match=message) as error:
        create_meeting(session, data=data, items=())
    assert error.value.field == field


def test_bad_items_are_refused(association_file: AssociationFile, roster: Roster) -> None:
    data = MeetingData("総会", HELD_ON, "", RECORD_DATE)
    with association_file.write() as session, pytest.raises(ValidationError,
                                                             match="Item 2 has no title"):
        create_meeting(session, data=data, items=(ItemData("予算"), ItemData(" ")))
    with association_file.write() as session, pytest.raises(ValidationError,
                                                             match="at most 20"):
        create_meeting(session, data=data, items=[ItemData(f"議案{n}") for n in range(21)])


def test_items_added_changed_and_removed_before_the_forms(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        assert add_item(session, meeting_id=meeting, item=ItemData(" 役員 選任 ")) == 3
        update_item(session, meeting_id=meeting, index=1,
                    item=ItemData("令和7年度予算案（修正）", MAJORITY_OF_CAST))
        remove_item(session, meeting_id=meeting, index=0)
        items = get_meeting(session, meeting_id=meeting).items
    assert [(item.index, item.title, item.added_after_forms) for item in items] == [
        (0, "令和7年度予算案（修正）", False), (1, "規約改正", False), (2, "役員 選任", False)]
    assert items[0].majority == MAJORITY_OF_CAST
    with association_file.write() as session, pytest.raises(NotFoundError, match="Item 9"):
        remove_item(session, meeting_id=meeting, index=8)


def test_after_the_forms_items_are_marked_and_cannot_be_removed(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    printed = datetime(2025, 4, 20, 10, 0, tzinfo=UTC)
    with association_file.write() as session:
        mark_forms_printed(session, meeting_id=meeting, at=printed)
        mark_forms_printed(session, meeting_id=meeting,  # reprinted: the first one counts
                           at=datetime(2025, 4, 25, tzinfo=UTC))
        assert add_item(session, meeting_id=meeting, item=ItemData("緊急動議")) == 3
        record = get_meeting(session, meeting_id=meeting)
    assert record.forms_printed_at == printed
    assert [item.added_after_forms for item in record.items] == [False, False, False, True]
    with association_file.write() as session, pytest.raises(ConflictError,
                                                             match="printed on the forms"):
        remove_item(session, meeting_id=meeting, index=1)


def test_items_with_written_votes_cannot_be_removed(association_file: AssociationFile,
                                                    meeting: uuid.UUID) -> None:
    from desktop.domain.meeting import Vote

    with association_file.write() as session:
        record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.WRITTEN,
                     votes=[Vote.FOR] * 3, entered_by="受付", entered_at=ENTERED)
    with association_file.write() as session, pytest.raises(ConflictError,
                                                             match="written votes"):
        remove_item(session, meeting_id=meeting, index=2)
    with association_file.read() as session:
        assert session.exec(select(func.count()).select_from(MeetingItem)).one() == 3


def test_the_chair_is_a_voter(association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_chair(session, meeting_id=meeting, voter_key="0002")
        assert get_meeting(session, meeting_id=meeting).chair_key == "0002"
        set_chair(session, meeting_id=meeting, voter_key=None)
        assert get_meeting(session, meeting_id=meeting).chair_key is None
    with association_file.write() as session, pytest.raises(NotFoundError,
                                                             match="not on the voter list"):
        set_chair(session, meeting_id=meeting, voter_key="0003")


def test_a_missing_meeting_is_reported(association_file: AssociationFile) -> None:
    with association_file.read() as session, pytest.raises(NotFoundError,
                                                            match="no longer exists"):
        get_meeting(session, meeting_id=uuid.uuid4())


# ---------------------------------------------------------------- the list of meetings


def test_list_newest_first_with_voters_and_returns(association_file: AssociationFile,
                                                   roster: Roster) -> None:
    from desktop.domain.meeting.entries import cancel_entry

    with association_file.write() as session:
        older = create_meeting(session, data=MeetingData(
            "令和6年度 定期総会", date(2024, 5, 19), "", date(2024, 4, 1)), items=ITEMS)
        newer = new_meeting(session)
        for key, kind in (("0001", EntryKind.ATTEND), ("0001", EntryKind.ABSENT),
                          ("0002", EntryKind.ABSENT), ("0006", EntryKind.ATTEND)):
            record_entry(session, meeting_id=newer, voter_key=key, kind=kind,
                         entered_by="受付", entered_at=ENTERED)
        cancel_entry(session, meeting_id=newer, sequence=4, entered_by="受付",
                     entered_at=ENTERED)
        summaries = list_meetings(session)
    assert [(s.id, s.title, s.held_on, s.voters, s.returned) for s in summaries] == [
        (newer, "令和7年度 定期総会", HELD_ON, 5, 2),
        (older, "令和6年度 定期総会", date(2024, 5, 19), 6, 0)]


def test_find_meeting_by_id_prefix(association_file: AssociationFile,
                                   meeting: uuid.UUID) -> None:
    with association_file.read() as session:
        assert find_meeting(session, reference=meeting.hex[:8]) == meeting
        assert find_meeting(session, reference=str(meeting).upper()) == meeting
        with pytest.raises(ValidationError, match="not a meeting id"):
            find_meeting(session, reference="総会")
        with pytest.raises(NotFoundError, match="No meeting has an id starting with"):
            find_meeting(session, reference="ffffffff")


def test_an_item_added_after_written_votes_is_marked_too(association_file: AssociationFile,
                                                         meeting: uuid.UUID) -> None:
    from desktop.domain.meeting import Source, Vote

    with association_file.write() as session:
        assert add_item(session, meeting_id=meeting, item=ItemData("役員選任")) == 3
        record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.WRITTEN,
                     votes=[Vote.FOR] * 4, source=Source.RELAY, entered_by="中継",
                     entered_at=ENTERED)
        assert add_item(session, meeting_id=meeting, item=ItemData("緊急動議")) == 4
        items = get_meeting(session, meeting_id=meeting).items
    assert [item.added_after_forms for item in items] == [False, False, False, False, True]


def test_a_meeting_made_by_mistake_is_deleted_until_something_is_entered(
        association_file: AssociationFile, roster: Roster) -> None:
    from desktop.domain.meeting.entries import record_floor_vote
    from desktop.domain.models import Meeting

    with association_file.write() as session:
        mistake, kept, counted = (new_meeting(session) for _ in range(3))
        record_entry(session, meeting_id=kept, voter_key="0001", kind=EntryKind.ABSENT,
                     entered_by="受付", entered_at=ENTERED)
        record_floor_vote(session, meeting_id=counted, item_index=0, for_=1, against=0,
                          abstain=0, entered_by="書記", entered_at=ENTERED)
        delete_meeting(session, meeting_id=mistake)
        assert session.get(Meeting, mistake) is None
        for table in (MeetingVoter, MeetingItem):
            assert session.exec(select(func.count()).select_from(table).where(
                table.meeting_id == mistake)).one() == 0
    with association_file.write() as session, pytest.raises(ConflictError,
                                                             match="1 entries are recorded"):
        delete_meeting(session, meeting_id=kept)
    with association_file.write() as session, pytest.raises(ConflictError,
                                                             match="show of hands"):
        delete_meeting(session, meeting_id=counted)
    with association_file.read() as session:
        assert [summary.id for summary in list_meetings(session)] == [counted, kept]
