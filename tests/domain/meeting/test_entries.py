"""Entering a meeting's returns: finding the voter (and why someone is not one), the entries of
every kind and the issue's bad input, append-only corrections and cancels, the show of hands,
and the tally read from the file agreeing with the engine."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlmodel import Session, func, select

from desktop.domain import gc_pause
from desktop.domain.circulars import CircularData, create_circular
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.households import purge_household
from desktop.domain.meeting import (
    AbsentHolder,
    EntryKind,
    FloorVote,
    ProblemKind,
    Rules,
    Source,
    Status,
    Vote,
    VotingUnit,
    store_rows,
    tally,
)
from desktop.domain.meeting.entries import (
    AlreadyEntered,
    EntryOutcome,
    cancel_entry,
    describe_entry,
    find_voter,
    meeting_slip_code,
    meeting_tally,
    record_entry,
    record_floor_vote,
    voter_entries,
    voter_note,
)
from desktop.domain.meeting.meetings import (
    ItemData,
    MeetingData,
    add_item,
    create_meeting,
    get_meeting,
    mark_forms_printed,
    meeting_voters,
    save_rules,
    set_chair,
    set_rules,
)
from desktop.domain.models import MeetingEntry
from desktop.domain.slips import slip_code
from desktop.store.association_file import AssociationFile
from tests.domain.meeting.test_meetings import RECORD_DATE, Roster, _add, build_roster, new_meeting

AT = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
BY = "受付 山田"


@pytest.fixture
def roster(association_file: AssociationFile) -> Roster:
    with association_file.write() as session:
        return build_roster(session)


@pytest.fixture
def meeting(association_file: AssociationFile, roster: Roster) -> uuid.UUID:
    with association_file.write() as session:
        return new_meeting(session)


@pytest.fixture
def member_meeting(association_file: AssociationFile, roster: Roster) -> uuid.UUID:
    with association_file.write() as session:
        save_rules(session, rules=Rules(voting_unit=VotingUnit.MEMBER))
        return new_meeting(session)


def _find(association_file: AssociationFile, meeting_id: uuid.UUID, typed: str) -> str:
    with association_file.read() as session:
        voter = find_voter(session, meeting_id=meeting_id, entry=typed)
    return f"{voter.number} {voter.name}"


def _enter(association_file: AssociationFile, meeting_id: uuid.UUID, key: str,
           kind: EntryKind, *, at: datetime = AT, **options: object
           ) -> tuple[EntryOutcome, int]:
    with association_file.write() as session:
        outcome, entry = record_entry(session, meeting_id=meeting_id, voter_key=key, kind=kind,
                                      entered_by=BY, entered_at=at, **options)  # type: ignore[arg-type]
    return outcome, entry.sequence


def _rows(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(MeetingEntry)).one())


# ---------------------------------------------------------------- finding the voter


def test_numbers_are_found_typed_or_scanned(association_file: AssociationFile,
                                            meeting: uuid.UUID) -> None:
    assert _find(association_file, meeting, "0001") == "0001 山田 太郎"
    assert _find(association_file, meeting, " ０００２ ") == "0002 佐藤 一郎"  # full width
    assert _find(association_file, meeting, "12") == "0012 中村 七郎"  # leading zeros left off
    assert _find(association_file, meeting, meeting_slip_code(meeting, "0007")) == (
        "0007 渡辺 六郎")
    assert meeting_slip_code(meeting, "0007") == slip_code(meeting, "0007")
    assert _find(association_file, meeting, "krn1:" + meeting.hex[-8:] + ":0007") == (
        "0007 渡辺 六郎")  # a scanner in lower case


def test_withdrawn_after_the_record_date_is_still_a_voter_with_a_note(
        association_file: AssociationFile, roster: Roster, meeting: uuid.UUID) -> None:
    assert _find(association_file, meeting, "0006") == "0006 伊藤 五郎"
    with association_file.read() as session:
        note = voter_note(session, meeting_id=meeting, voter_key="0006")
        assert voter_note(session, meeting_id=meeting, voter_key="0001") == ""
    assert note == ("0006 伊藤 五郎 withdrew on 令和7年4月20日 (2025-04-20), after the record "
                    "date 令和7年4月1日 (2025-04-01): still a voter at this meeting.")
    with association_file.write() as session:
        purge_household(session, household_id=roster.households["0006"])
        assert "no longer on the roster" in voter_note(session, meeting_id=meeting,
                                                       voter_key="0006")
    assert _find(association_file, meeting, "0006") == "0006 伊藤 五郎"


@pytest.mark.parametrize(("typed", "error", "message"), [
    ("0003", ValidationError,
     "0003 鈴木 次郎 joined on 令和7年4月2日 (2025-04-02), after the record date 令和7年4月1日 "
     "(2025-04-01), so it is not on the voter list of 「令和7年度 定期総会」. This form does "
     "not count: set it aside."),
    ("0004", ValidationError,
     "0004 高橋 三郎 withdrew on 令和7年3月31日 (2025-03-31), on or before the record date "),
    ("5", ValidationError,  # withdrew on the record date itself; found by its value too
     "0005 田中 四郎 withdrew on 令和7年4月1日 (2025-04-01), on or before the record date "),
    ("9999", NotFoundError,
     "No household has the number 9999. Check the number on the form and type it again."),
])
def test_who_is_not_a_voter_is_told_why(association_file: AssociationFile, meeting: uuid.UUID,
                                        typed: str, error: type[Exception],
                                        message: str) -> None:
    with association_file.read() as session, pytest.raises(error) as raised:
        find_voter(session, meeting_id=meeting, entry=typed)
    assert str(raised.value).startswith(message)


def test_a_household_added_after_the_list_was_made(association_file: AssociationFile,
                                                   roster: Roster, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        _add(session, "0030", roster.han2, "加藤 十一", joined_on=None)
    with association_file.read() as session, pytest.raises(ValidationError,
                                                            match="added to the roster after"):
        find_voter(session, meeting_id=meeting, entry="0030")


def test_forms_of_other_meetings_and_circulars_are_caught(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        other = new_meeting(session)
        circular = create_circular(session, data=CircularData(
            title="秋の一斉清掃のお知らせ", body="", issued_on=date(2025, 10, 1)))
    with association_file.read() as session:
        with pytest.raises(ValidationError, match="belongs to 「令和7年度 定期総会」, not to"):
            find_voter(session, meeting_id=meeting, entry=meeting_slip_code(other, "0001"))
        with pytest.raises(ValidationError, match="reply slip of the circular 「秋の一斉清掃"):
            find_voter(session, meeting_id=meeting, entry=slip_code(circular, "0001"))
        with pytest.raises(ValidationError, match="not in this file"):
            find_voter(session, meeting_id=meeting, entry="KRN1:0badcafe:0001")
        with pytest.raises(ValidationError, match="could not be read"):
            find_voter(session, meeting_id=meeting, entry="KRN1:xyz:0001")
        with pytest.raises(ValidationError, match="Nothing was entered"):
            find_voter(session, meeting_id=meeting, entry="  ")


def test_one_vote_per_member_asks_which_member(association_file: AssociationFile,
                                               member_meeting: uuid.UUID) -> None:
    with association_file.read() as session, pytest.raises(ValidationError) as raised:
        find_voter(session, meeting_id=member_meeting, entry="0012")
    assert str(raised.value) == (
        "Household 0012 has 3 members on the voter list: 0012-1 中村 七郎、0012-2 中村 八重、"
        "0012-3 中村 九. Type the number with the member's place, for example 0012-2.")
    assert _find(association_file, member_meeting, "0012-2") == "0012 中村 八重"
    assert _find(association_file, member_meeting, "００１２－３") == "0012 中村 九"
    assert _find(association_file, member_meeting, "12/1") == "0012 中村 七郎"
    assert _find(association_file, member_meeting, "0002") == "0002 佐藤 一郎"  # only one
    assert _find(association_file, member_meeting,
                 meeting_slip_code(member_meeting, "0001-2")) == "0001 山田 花子"
    with association_file.read() as session:
        key = meeting_voters(session, meeting_id=member_meeting)[1].key
    assert _find(association_file, member_meeting, key) == "0001 山田 花子"
    with association_file.read() as session, pytest.raises(ValidationError,
                                                            match="Type one of these"):
        find_voter(session, meeting_id=member_meeting, entry="0012-4")
    with association_file.read() as session, pytest.raises(ValidationError,
                                                            match="0003 鈴木 次郎 joined on"):
        find_voter(session, meeting_id=member_meeting, entry="0003-1")


# ---------------------------------------------------------------- entries


def test_the_same_form_twice_is_unchanged(association_file: AssociationFile,
                                          meeting: uuid.UUID) -> None:
    assert _enter(association_file, meeting, "0001", EntryKind.ATTEND,
                  source=Source.DOOR) == (EntryOutcome.RECORDED, 1)
    assert _enter(association_file, meeting, "0001", EntryKind.ATTEND,
                  at=AT + timedelta(hours=1)) == (EntryOutcome.UNCHANGED, 1)
    votes = [Vote.FOR, Vote.AGAINST, Vote.ABSTAIN]
    assert _enter(association_file, meeting, "0002", EntryKind.WRITTEN, votes=votes) == (
        EntryOutcome.RECORDED, 2)
    assert _enter(association_file, meeting, "0002", EntryKind.WRITTEN, votes=votes,
                  source=Source.RELAY) == (EntryOutcome.UNCHANGED, 2)
    assert _enter(association_file, meeting, "0006", EntryKind.PROXY, holder="0001") == (
        EntryOutcome.RECORDED, 3)
    assert _enter(association_file, meeting, "0006", EntryKind.PROXY, holder="1") == (
        EntryOutcome.UNCHANGED, 3)
    with association_file.read() as session:
        assert _rows(session) == 3
        result = meeting_tally(session, meeting_id=meeting)
    assert not [p for p in result.problems if p.kind is ProblemKind.DUPLICATE_ENTRY]


def test_a_different_form_needs_a_correction_which_is_a_new_row(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    first = [Vote.FOR, Vote.FOR, Vote.FOR]
    _enter(association_file, meeting, "0002", EntryKind.WRITTEN, votes=first)
    second = [Vote.FOR, Vote.AGAINST, None]
    with association_file.write() as session, pytest.raises(AlreadyEntered) as raised:
        record_entry(session, meeting_id=meeting, voter_key="0002", kind=EntryKind.WRITTEN,
                     votes=second, entered_by=BY, entered_at=AT)
    assert raised.value.existing.votes == (Vote.FOR, Vote.FOR, Vote.FOR)
    assert str(raised.value) == (
        "0002 佐藤 一郎 already has 「Written vote: For / For / For」 (entry 1, 令和7年5月10日 "
        "(2025-05-10), 受付 山田). To replace it with 「Written vote: For / Against / Blank」, "
        "enter it again as a correction; the earlier entry stays on record.")
    assert _enter(association_file, meeting, "0002", EntryKind.WRITTEN, votes=second,
                  correct=True, at=AT + timedelta(minutes=5)) == (EntryOutcome.RECORDED, 2)
    with association_file.read() as session:
        history = voter_entries(session, meeting_id=meeting, voter_key="0002")
        result = meeting_tally(session, meeting_id=meeting)
    assert [(entry.sequence, entry.votes) for entry in history] == [
        (1, (Vote.FOR, Vote.FOR, Vote.FOR)), (2, (Vote.FOR, Vote.AGAINST, Vote.BLANK))]
    assert result.outcome("0002").entry == history[1]
    assert [p.kind for p in result.problems] == [ProblemKind.REPLACED_ENTRY]
    assert (result.items[1].written.against, result.items[2].blank) == (1, 1)


def test_proxies_to_a_member_the_chair_or_blank(association_file: AssociationFile,
                                                meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_chair(session, meeting_id=meeting, voter_key="0012")
    _enter(association_file, meeting, "0001", EntryKind.ATTEND, source=Source.DOOR)
    _enter(association_file, meeting, "0002", EntryKind.PROXY, holder="0001")
    _enter(association_file, meeting, "0006", EntryKind.PROXY, holder=" 議長 ")
    _enter(association_file, meeting, "0007", EntryKind.PROXY, holder="")
    with association_file.read() as session:
        entries = {key: voter_entries(session, meeting_id=meeting, voter_key=key)[0]
                   for key in ("0002", "0006", "0007")}
        result = meeting_tally(session, meeting_id=meeting)
        holder = find_voter(session, meeting_id=meeting, entry="0001")
    assert [entries[key].holder_key for key in ("0002", "0006", "0007")] == ["0001", "0012",
                                                                              None]
    assert describe_entry(entries["0002"], holder=holder) == "Proxy to 0001 山田 太郎"
    assert describe_entry(entries["0007"]) == "Proxy to the chair (blank)"
    assert [result.outcome(key).status for key in ("0002", "0006", "0007")] == [
        Status.PROXY_TO_HOLDER, Status.PROXY_TO_CHAIR, Status.PROXY_TO_CHAIR]
    assert result.proxies_held == {"0001": ("0002",)}


@pytest.mark.parametrize(("absent_holder", "advice"), [
    (AbsentHolder.TO_CHAIR, "the rules give the proxy to the chair: enter it with the holder "
                            "left empty."),
    (AbsentHolder.LAPSE, "the rules let the proxy lapse: enter the form as absent."),
])
def test_a_proxy_to_someone_not_a_member_is_refused_with_what_to_do(
        association_file: AssociationFile, meeting: uuid.UUID, absent_holder: AbsentHolder,
        advice: str) -> None:
    with association_file.write() as session:
        set_rules(session, meeting_id=meeting, rules=Rules(absent_holder=absent_holder))
    for holder, reason in (("0003", "The proxy holder: 0003 鈴木 次郎 joined on "),
                           ("4", "The proxy holder: 0004 高橋 三郎 withdrew on "),
                           ("9999", "The proxy holder: No household has the number 9999. ")):
        with association_file.write() as session, pytest.raises(ValidationError) as raised:
            record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.PROXY,
                         holder=holder, entered_by=BY, entered_at=AT)
        assert str(raised.value).startswith(reason)
        assert str(raised.value).endswith(advice)
        assert raised.value.field == "holder"
    with association_file.write() as session, pytest.raises(ValidationError,
                                                             match="names 0001 山田 太郎 as"):
        record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.PROXY,
                     holder="0001", entered_by=BY, entered_at=AT)
    with association_file.read() as session:
        assert _rows(session) == 0


def test_proxy_holders_among_members(association_file: AssociationFile,
                                     member_meeting: uuid.UUID) -> None:
    with association_file.read() as session:
        voters = meeting_voters(session, meeting_id=member_meeting)
    giver = voters[0].key  # 0001 山田 太郎 gives his proxy to his wife, 0001-2
    _enter(association_file, member_meeting, giver, EntryKind.PROXY, holder="0001-2")
    with association_file.read() as session:
        [entry] = voter_entries(session, meeting_id=member_meeting, voter_key=giver)
    assert entry.holder_key == voters[1].key
    with association_file.write() as session, pytest.raises(
            ValidationError, match="The proxy holder: Household 0012 has 3 members"):
        record_entry(session, meeting_id=member_meeting, voter_key=giver,
                     kind=EntryKind.PROXY, holder="0012", entered_by=BY, entered_at=AT,
                     correct=True)


def test_proxy_chains_and_cycles_are_stored_and_the_tally_reports_them(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_rules(session, meeting_id=meeting, rules=Rules(proxy_cap=1))
    _enter(association_file, meeting, "0001", EntryKind.PROXY, holder="0002")
    _enter(association_file, meeting, "0002", EntryKind.PROXY, holder="0001")  # a cycle
    _enter(association_file, meeting, "0006", EntryKind.PROXY, holder="0001")  # a chain
    _enter(association_file, meeting, "0012", EntryKind.ATTEND)
    _enter(association_file, meeting, "0007", EntryKind.PROXY, holder="0012")
    with association_file.read() as session:
        result = meeting_tally(session, meeting_id=meeting)
    kinds = [problem.kind for problem in result.problems]
    assert kinds == [ProblemKind.PROXY_CYCLE, ProblemKind.PROXY_CHAIN]
    assert result.counts.to_chair == 3 and result.counts.to_holder == 1


def test_the_cap_is_the_engines(association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_rules(session, meeting_id=meeting, rules=Rules(proxy_cap=1))
    _enter(association_file, meeting, "0001", EntryKind.ATTEND)
    _enter(association_file, meeting, "0002", EntryKind.PROXY, holder="0001")
    assert _enter(association_file, meeting, "0006", EntryKind.PROXY, holder="0001")[0] is (
        EntryOutcome.RECORDED)
    with association_file.read() as session:
        result = meeting_tally(session, meeting_id=meeting)
    [problem] = result.problems
    assert problem.kind is ProblemKind.PROXY_CAP
    assert problem.labels == ("0001 山田 太郎", "0006 伊藤 五郎")


def test_written_votes_are_checked_against_the_printed_agenda(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    def refused(votes: list[object], message: str) -> None:
        with association_file.write() as session, pytest.raises(ValidationError,
                                                                 match=message) as raised:
            record_entry(session, meeting_id=meeting, voter_key="0001",
                         kind=EntryKind.WRITTEN, votes=votes,  # type: ignore[arg-type]
                         entered_by=BY, entered_at=AT)
        assert raised.value.field == "votes"

    refused([Vote.FOR, Vote.FOR], "answers for 2 items, but the forms list 3")
    refused([Vote.FOR] * 4, "but the agenda has only 3")
    refused([Vote.FOR, 7, Vote.FOR], "Item 2: 7 is not an answer")
    # Both boxes ticked is an answer of its own: stored, counted as the rules say, reported.
    _enter(association_file, meeting, "0001", EntryKind.WRITTEN,
           votes=[Vote.SPOILED, 1, None])
    with association_file.read() as session:
        [entry] = voter_entries(session, meeting_id=meeting, voter_key="0001")
        result = meeting_tally(session, meeting_id=meeting)
    assert entry.votes == (Vote.SPOILED, Vote.FOR, Vote.BLANK)
    assert [(p.kind, p.labels) for p in result.problems] == [
        (ProblemKind.SPOILED_VOTES, ("0001 山田 太郎",))]
    assert (result.items[0].spoiled, result.items[0].votes.abstain) == (1, 1)


def test_an_item_added_after_the_forms(association_file: AssociationFile,
                                       meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        mark_forms_printed(session, meeting_id=meeting, at=AT)
        add_item(session, meeting_id=meeting, item=ItemData("緊急動議"))
    _enter(association_file, meeting, "0001", EntryKind.WRITTEN, votes=[1, 1, 1])
    _enter(association_file, meeting, "0002", EntryKind.WRITTEN, votes=[1, 1, 1, None])
    _enter(association_file, meeting, "0006", EntryKind.WRITTEN, votes=[1, 2, 1, 2],
           source=Source.RELAY)  # the relay's form shows the agenda of now
    assert _enter(association_file, meeting, "0001", EntryKind.WRITTEN,
                  votes=[1, 1, 1, None])[0] is EntryOutcome.UNCHANGED
    with association_file.read() as session:
        result = meeting_tally(session, meeting_id=meeting)
    added = result.items[3]
    assert (added.not_counted, added.votes.against, added.base) == (2, 1, 1)
    assert ProblemKind.UNANSWERED_ADDED_ITEM in [p.kind for p in result.problems]


def test_written_votes_need_an_agenda(association_file: AssociationFile,
                                      roster: Roster) -> None:
    with association_file.write() as session:
        empty = create_meeting(session, data=MeetingData("臨時総会", date(2025, 6, 1), "",
                                                         RECORD_DATE), items=())
    with association_file.write() as session, pytest.raises(ValidationError,
                                                             match="has no agenda items"):
        record_entry(session, meeting_id=empty, voter_key="0001", kind=EntryKind.WRITTEN,
                     votes=[], entered_by=BY, entered_at=AT)


def test_mistakes_in_the_call_are_bugs(association_file: AssociationFile,
                                       meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        with pytest.raises(NotFoundError, match="voter 0003 is not on the voter list"):
            record_entry(session, meeting_id=meeting, voter_key="0003", kind=EntryKind.ATTEND,
                         entered_by=BY, entered_at=AT)
        with pytest.raises(ValueError, match="timezone-aware"):
            record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.ATTEND,
                         entered_by=BY, entered_at=datetime(2025, 5, 10, 9, 0))
        with pytest.raises(ValueError, match="only a proxy"):
            record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.ATTEND,
                         holder="0002", entered_by=BY, entered_at=AT)
        with pytest.raises(ValueError, match="cancel_entry"):
            record_entry(session, meeting_id=meeting, voter_key="0001", kind=EntryKind.CANCEL,
                         entered_by=BY, entered_at=AT)


def test_times_are_kept_in_utc_with_who_entered(association_file: AssociationFile,
                                                meeting: uuid.UUID) -> None:
    tokyo = datetime(2025, 5, 18, 10, 30, tzinfo=timezone(timedelta(hours=9)))
    with association_file.write() as session:
        _outcome, entry = record_entry(session, meeting_id=meeting, voter_key="0001",
                                       kind=EntryKind.ATTEND, source=Source.DOOR,
                                       entered_by="  受付\u3000佐藤 ", entered_at=tokyo)
    with association_file.read() as session:
        [stored] = voter_entries(session, meeting_id=meeting, voter_key="0001")
    assert stored == entry
    assert (stored.entered_at, stored.entered_at.tzinfo, stored.entered_by, stored.source) == (
        tokyo, UTC, "受付 佐藤", Source.DOOR)


# ---------------------------------------------------------------- cancels


def test_cancel_is_a_new_entry_and_the_voter_counts_by_the_rest(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    _enter(association_file, meeting, "0001", EntryKind.ABSENT)
    _enter(association_file, meeting, "0001", EntryKind.PROXY, holder="")
    with association_file.write() as session:
        cancel = cancel_entry(session, meeting_id=meeting, sequence=2, entered_by=BY,
                              entered_at=AT + timedelta(minutes=1))
    assert (cancel.kind, cancel.cancels, cancel.sequence, cancel.voter_key) == (
        EntryKind.CANCEL, 2, 3, "0001")
    assert describe_entry(cancel) == "Cancels entry 2"
    with association_file.read() as session:
        assert _rows(session) == 3
        assert meeting_tally(session, meeting_id=meeting).outcome("0001").status is (
            Status.ABSENT)
    # The cancelled form entered again is a new entry, not "the same form".
    assert _enter(association_file, meeting, "0001", EntryKind.PROXY, holder="") == (
        EntryOutcome.RECORDED, 4)
    with association_file.write() as session:
        with pytest.raises(ConflictError, match="Entry 2 was already cancelled by entry 3"):
            cancel_entry(session, meeting_id=meeting, sequence=2, entered_by=BY, entered_at=AT)
        with pytest.raises(ValidationError, match="itself a cancel"):
            cancel_entry(session, meeting_id=meeting, sequence=3, entered_by=BY, entered_at=AT)
        with pytest.raises(NotFoundError, match="has no entry 99"):
            cancel_entry(session, meeting_id=meeting, sequence=99, entered_by=BY,
                         entered_at=AT)


# ---------------------------------------------------------------- the floor


def test_floor_votes_and_recounts(association_file: AssociationFile,
                                  meeting: uuid.UUID) -> None:
    for key in ("0001", "0002", "0006"):
        _enter(association_file, meeting, key, EntryKind.ATTEND, source=Source.DOOR)
    with association_file.write() as session:
        first = record_floor_vote(session, meeting_id=meeting, item_index=0, for_=2,
                                  against=1, abstain=0, entered_by=BY, entered_at=AT)
        recount = record_floor_vote(session, meeting_id=meeting, item_index=0, for_=3,
                                    against=0, abstain=0, entered_by=BY, entered_at=AT)
        with pytest.raises(NotFoundError, match="Item 4 is not on the agenda"):
            record_floor_vote(session, meeting_id=meeting, item_index=3, for_=1, against=0,
                              abstain=0, entered_by=BY, entered_at=AT)
        with pytest.raises(ValidationError, match="-1 cannot be right"):
            record_floor_vote(session, meeting_id=meeting, item_index=1, for_=1, against=-1,
                              abstain=0, entered_by=BY, entered_at=AT)
        result = meeting_tally(session, meeting_id=meeting)
    assert (first, recount) == (FloorVote(0, 2, 1, 0, 1), FloorVote(0, 3, 0, 0, 2))
    assert (result.items[0].floor.for_, result.items[0].passed) == (3, True)
    assert not result.items[1].floor_entered


# ---------------------------------------------------------------- the tally


def test_the_tally_from_the_file_is_the_engines_on_the_same_inputs(
        association_file: AssociationFile, meeting: uuid.UUID) -> None:
    with association_file.write() as session:
        set_chair(session, meeting_id=meeting, voter_key="0012")
    _enter(association_file, meeting, "0012", EntryKind.ATTEND, source=Source.DOOR)
    _enter(association_file, meeting, "0001", EntryKind.PROXY, holder="0012")
    _enter(association_file, meeting, "0002", EntryKind.WRITTEN, votes=[1, 2, 3])
    _enter(association_file, meeting, "0002", EntryKind.PROXY, holder="")
    _enter(association_file, meeting, "0006", EntryKind.ABSENT)
    with association_file.write() as session:
        record_floor_vote(session, meeting_id=meeting, item_index=2, for_=1, against=0,
                          abstain=0, entered_by=BY, entered_at=AT)
    with association_file.read() as session:
        record = get_meeting(session, meeting_id=meeting)
        voters = meeting_voters(session, meeting_id=meeting)
        entries = [entry for voter in voters for entry in voter_entries(
            session, meeting_id=meeting, voter_key=voter.key)]
        from_file = meeting_tally(session, meeting_id=meeting)
    by_engine = tally(voters=voters, entries=entries,
                      items=[item.agenda_item for item in record.items], rules=record.rules,
                      floor_votes=[FloorVote(2, 1, 0, 0, 1)], chair_key="0012")
    assert from_file == by_engine
    # By hand: 5 voters; 0012 in person (the chair), 0001's proxy names the chair, 0002 sent a
    # proxy and a written vote (the written vote wins), 0006 absent, 0007 no reply.
    counts = from_file.counts
    assert (counts.in_person, counts.to_chair, counts.written, counts.absent,
            counts.no_reply) == (1, 1, 1, 1, 1)
    assert (from_file.quorum.counted, from_file.quorum.required, from_file.quorum.reached) == (
        3, 3, True)
    assert [(r.votes.for_, r.votes.against, r.votes.abstain, r.passed)
            for r in from_file.items] == [(2, 0, 0, True), (1, 1, 0, False),
                                          (2, 0, 1, True)]
    assert [chase.group_name for chase in from_file.not_returned] == [""]


# ---------------------------------------------------------------- the fast reads


def test_ids_read_fast_are_the_same_uuids() -> None:
    for value in (uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1)):
        fast = store_rows.uuid_of_hex(value.hex)
        assert (fast, hash(fast), str(fast), fast.version, fast.is_safe) == (
            value, hash(value), str(value), value.version, value.is_safe)
        assert {fast: 1}[value] == 1


def test_the_collector_pause_nests_and_is_shared_between_threads() -> None:
    import gc
    import threading

    assert gc.isenabled()
    inside = threading.Event()
    leave = threading.Event()

    def worker() -> None:
        with gc_pause.no_gc_pauses():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=worker)
    with gc_pause.no_gc_pauses():
        thread.start()
        inside.wait(5)
        with gc_pause.no_gc_pauses():
            assert not gc.isenabled()
    assert not gc.isenabled()  # the worker's pause goes on after ours ended
    leave.set()
    thread.join(5)
    assert gc.isenabled()  # back on once the last pause ended
    gc.disable()
    try:
        with gc_pause.no_gc_pauses():
            pass
        assert not gc.isenabled()  # left off when it was off before
    finally:
        gc.enable()
