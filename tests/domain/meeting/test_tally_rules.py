"""Table tests of the meeting tally: one small meeting per rule, with the result worked out by
hand in the comment above each case."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from desktop.domain.errors import ValidationError
from desktop.domain.meeting import (
    MAJORITY_OF_CAST,
    MAJORITY_OF_PRESENT,
    TWO_THIRDS_OF_PRESENT,
    AbsentHolder,
    AgendaItem,
    Base,
    ChairVote,
    CountAs,
    Entry,
    EntryKind,
    FloorVote,
    FormConflict,
    Majority,
    ProblemKind,
    Quorum,
    Reason,
    Rules,
    Severity,
    Status,
    Tally,
    Vote,
    VoteCount,
    Voter,
    VotingUnit,
    tally,
)
from desktop.domain.meeting.explain import (
    item_breakdown,
    majority_text,
    problem_message,
    quorum_text,
    reason_text,
    status_label,
    summary_lines,
    threshold_text,
)
from desktop.domain.meeting.rules import required_count

T0 = datetime(2025, 5, 18, 9, 0)
F, A, AB, BL, SP = Vote.FOR, Vote.AGAINST, Vote.ABSTAIN, Vote.BLANK, Vote.SPOILED
ONE_ITEM = (AgendaItem("令和7年度予算"),)


def voters(count: int) -> list[Voter]:
    """Voters k1..kN numbered 001..; 1班 holds the odd ones, 2班 the even ones."""
    return [Voter(f"k{n}", f"{n:03d}", f"名{n}", f"{2 - n % 2}班") for n in range(1, count + 1)]


class Entries:
    """Entries numbered in the order written, one minute apart unless told."""

    def __init__(self) -> None:
        self.made: list[Entry] = []

    def _add(self, voter: int | str, kind: EntryKind, *, minute: int | None = None,
             **fields: object) -> Entry:
        sequence = len(self.made) + 1
        at = T0 + timedelta(minutes=sequence if minute is None else minute)
        key = voter if isinstance(voter, str) else f"k{voter}"
        entry = Entry(key, kind, sequence, at, "佐藤", **fields)  # type: ignore[arg-type]
        self.made.append(entry)
        return entry

    def attend(self, voter: int | str, **at: int) -> Entry:
        return self._add(voter, EntryKind.ATTEND, **at)

    def absent(self, voter: int | str, **at: int) -> Entry:
        return self._add(voter, EntryKind.ABSENT, **at)

    def proxy(self, voter: int | str, holder: int | str | None = None, **at: int) -> Entry:
        key = f"k{holder}" if isinstance(holder, int) else holder
        return self._add(voter, EntryKind.PROXY, holder_key=key, **at)

    def written(self, voter: int | str, *votes: Vote | None, **at: int) -> Entry:
        return self._add(voter, EntryKind.WRITTEN, votes=tuple(votes), **at)

    def cancel(self, voter: int | str, entry: Entry, **at: int) -> Entry:
        return self._add(voter, EntryKind.CANCEL, cancels=entry.sequence, **at)


def run(count: int, entries: Entries, *, rules: Rules | None = None,
        items: tuple[AgendaItem, ...] = ONE_ITEM, floor: tuple[FloorVote, ...] = (),
        chair: str | None = None) -> Tally:
    return tally(voters=voters(count), entries=entries.made, items=items,
                 rules=rules or Rules(), floor_votes=floor, chair_key=chair)


def status(result: Tally, voter: int) -> Status:
    return result.outcome(f"k{voter}").status


def kinds(result: Tally) -> list[ProblemKind]:
    return [problem.kind for problem in result.problems]


# ------------------------------------------------------------------ statuses and counts


def test_each_return_gives_its_status_and_nothing_is_a_no_reply() -> None:
    # 6 voters: 1 in person, 2 proxy to 1, 3 blank proxy, 4 written, 5 absent, 6 nothing.
    e = Entries()
    e.attend(1)
    e.proxy(2, 1)
    e.proxy(3)
    e.written(4, F)
    e.absent(5)
    result = run(6, e)
    assert list(result.statuses) == [
        Status.IN_PERSON, Status.PROXY_TO_HOLDER, Status.PROXY_TO_CHAIR, Status.WRITTEN,
        Status.ABSENT, Status.NO_REPLY]
    counts = result.counts
    assert (counts.in_person, counts.to_holder, counts.to_chair, counts.written,
            counts.absent, counts.no_reply, counts.lapsed) == (1, 1, 1, 1, 1, 1, 0)
    assert counts.present == 4 == 6 - 1 - 1
    assert counts.on_the_floor == 2
    assert result.proxies_held == {"k1": ("k2",)}
    reasons = [outcome.reason for outcome in result.outcomes()]
    assert reasons == [Reason.CHECKED_IN, Reason.HOLDER_PRESENT, Reason.BLANK_PROXY,
                       Reason.WRITTEN_VOTE, Reason.ABSENT_FORM, Reason.NO_FORM]
    assert result.problems == ()


def test_not_returned_is_listed_per_han_in_voter_order() -> None:
    # 5 voters; only 2 returned a form: 1, 3, 5 (1班) and 4 (2班) are to chase.
    e = Entries()
    e.absent(2)
    result = run(5, e)
    chase = {group.group_name: [v.number for v in group.voters]
             for group in result.not_returned}
    assert chase == {"1班": ["001", "003", "005"], "2班": ["004"]}


def test_voting_unit_is_recorded_and_named() -> None:
    # Per-member voting: the list holds members; the tally counts them the same way.
    rules = Rules(voting_unit=VotingUnit.MEMBER)
    e = Entries()
    e.attend(1)
    result = run(2, e, rules=rules)
    assert result.counts.in_person == 1
    assert "2 members" in quorum_text(result)
    assert "2 households" in quorum_text(run(2, e))


# ------------------------------------------------------------------ quorum


@pytest.mark.parametrize(("quorum", "present", "required", "reached", "margin"), [
    # 過半数 of 10: 10 × 1/2 = 5, more than that → 6.
    (Quorum(1, 2, strict=True), 5, 6, False, -1),
    (Quorum(1, 2, strict=True), 6, 6, True, 0),
    # 2分の1以上 of 10: at least 5.
    (Quorum(1, 2, strict=False), 5, 5, True, 0),
    # 3分の1以上 of 10: 10/3 = 3.33…, at least 4.
    (Quorum(1, 3, strict=False), 3, 4, False, -1),
    # No quorum at all (0/1): reached with nobody.
    (Quorum(0, 1, strict=False), 0, 0, True, 0),
])
def test_quorum_fraction(quorum: Quorum, present: int, required: int, reached: bool,
                         margin: int) -> None:
    e = Entries()
    for voter in range(1, present + 1):
        e.attend(voter)
    result = run(10, e, rules=Rules(quorum=quorum)).quorum
    assert (result.required, result.counted, result.reached, result.margin) == (
        required, present, reached, margin)


@pytest.mark.parametrize(("flags", "counted"), [
    # 2 in person, 2 proxies (one to 1, one blank), 3 written, 1 lapsed proxy (to absent 9).
    ({}, 2 + 2 + 3),
    ({"count_in_person": False}, 2 + 3),
    ({"count_proxies": False}, 2 + 3),
    ({"count_written": False}, 2 + 2),
    ({"count_proxies": False, "count_written": False}, 2),
])
def test_quorum_counts_the_returns_the_bylaws_name(flags: dict[str, bool], counted: int) -> None:
    e = Entries()
    e.attend(1)
    e.attend(2)
    e.proxy(3, 1)
    e.proxy(4)
    for voter in (5, 6, 7):
        e.written(voter, F)
    e.proxy(8, 9)  # 9 is not present and the rules let it lapse
    rules = Rules(quorum=Quorum(**flags), absent_holder=AbsentHolder.LAPSE)
    result = run(10, e, rules=rules)
    assert status(result, 8) is Status.LAPSED
    assert result.quorum.counted == counted
    # 10 voters, more than half needed: 6.
    assert result.quorum.reached is (counted >= 6)


def test_quorum_text_shows_the_sum_and_the_margin() -> None:
    e = Entries()
    for voter in (1, 2, 3):
        e.attend(voter)
    e.proxy(4, 1)
    e.written(5, F)
    e.written(6, A)
    # 3 + 1 + 2 = 6 of 10; more than half needs 6 → reached with 0 to spare.
    assert quorum_text(run(10, e)) == (
        "Quorum: in person 3 + proxies 1 + written 2 = 6 of 10 households; more than half "
        "needs 6 → reached with 0 to spare")
    e.made.pop()
    assert quorum_text(run(10, e)).endswith("needs 6 → not reached, 1 short")


# ------------------------------------------------------------------ majorities


@pytest.mark.parametrize(("majority", "votes", "base", "required", "passed"), [
    # 出席者の過半数: present 10 (written votes only here). 5 for: 5 > 5? no.
    (MAJORITY_OF_PRESENT, (F,) * 5 + (A,) * 5, 10, 6, False),
    (MAJORITY_OF_PRESENT, (F,) * 6 + (AB,) * 4, 10, 6, True),
    # 投票の過半数: for 4, against 3, abstain 3 → base 7, 4 > 3.5 → carried;
    # the same votes fail against those present (4 > 5? no).
    (MAJORITY_OF_CAST, (F,) * 4 + (A,) * 3 + (AB,) * 3, 7, 4, True),
    (MAJORITY_OF_PRESENT, (F,) * 4 + (A,) * 3 + (AB,) * 3, 10, 6, False),
    # 3分の2以上 of 9 present: 9 × 2/3 = 6, at least 6.
    (TWO_THIRDS_OF_PRESENT, (F,) * 6 + (A,) * 3, 9, 6, True),
    (TWO_THIRDS_OF_PRESENT, (F,) * 5 + (A,) * 4, 9, 6, False),
    # Of all 12 voters (3 did not reply): more than half = 7; 7 of the 9 present suffice.
    (Majority(1, 2, strict=True, base=Base.ALL), (F,) * 7 + (A,) * 2, 12, 7, True),
])
def test_item_majority(majority: Majority, votes: tuple[Vote, ...], base: int, required: int,
                       passed: bool) -> None:
    e = Entries()
    for voter, vote in enumerate(votes, start=1):
        e.written(voter, vote)
    result = run(12 if majority.base is Base.ALL else len(votes), e,
                 items=(AgendaItem("規約改正", majority),)).items[0]
    assert (result.base, result.required, result.passed) == (base, required, passed)


def test_no_vote_for_never_passes_even_on_an_empty_base() -> None:
    # Nobody cast a vote: 2/3 "at least" of 0 would be 0; a motion needs at least one vote.
    result = run(3, Entries(), items=(AgendaItem("解散", Majority(2, 3, strict=False,
                                                                 base=Base.CAST)),)).items[0]
    assert (result.base, result.required, result.passed) == (0, 1, False)
    assert result.arithmetic == "For 0 → rejected (nobody voted for it)"


def test_the_arithmetic_is_shown_as_compared() -> None:
    # 200 present, 120 for: 120 > 200 × 1/2 = 100 → carried.
    e = Entries()
    for voter in range(1, 201):
        e.written(voter, F if voter <= 120 else A)
    result = run(200, e)
    assert result.items[0].arithmetic == "For 120 > attendance 200 × 1/2 = 100 → carried"
    two_thirds = run(200, e, items=(AgendaItem("規約改正", TWO_THIRDS_OF_PRESENT),))
    # 200 × 2/3 = 133.33…, 120 < it.
    assert two_thirds.items[0].arithmetic == (
        "For 120 < attendance 200 × 2/3 = 133.33… → rejected")
    assert threshold_text(Fraction(201, 2)) == "100.5"
    assert threshold_text(Fraction(7, 1)) == "7"
    assert majority_text(TWO_THIRDS_OF_PRESENT) == "at least 2/3 of those present"
    assert majority_text(MAJORITY_OF_CAST) == "more than half of the votes for and against"


@pytest.mark.parametrize(("total", "numerator", "denominator", "strict", "needed"), [
    (10, 1, 2, True, 6), (11, 1, 2, True, 6), (10, 1, 2, False, 5), (11, 1, 2, False, 6),
    (9, 2, 3, False, 6), (10, 2, 3, False, 7), (9, 2, 3, True, 7), (0, 1, 2, True, 1),
])
def test_required_count_in_integers(total: int, numerator: int, denominator: int,
                                    strict: bool, needed: int) -> None:
    assert required_count(total, numerator, denominator, strict=strict) == needed


# ------------------------------------------------------------------ written votes


@pytest.mark.parametrize(("count_as", "expected"), [
    # Written: 2 for, 1 against, 2 blank.
    (CountAs.ABSTAIN, VoteCount(2, 1, 2)),
    (CountAs.AGAINST, VoteCount(2, 3, 0)),
    (CountAs.FOR, VoteCount(4, 1, 0)),
])
def test_blank_written_answers_count_as_the_rules_say(count_as: CountAs,
                                                      expected: VoteCount) -> None:
    e = Entries()
    e.written(1, F)
    e.written(2, F)
    e.written(3, A)
    e.written(4, BL)
    e.written(5, None)  # a printed item with no answer typed is blank too
    result = run(5, e, rules=Rules(blank_counts_as=count_as)).items[0]
    assert (result.written, result.blank, result.spoiled) == (expected, 2, 0)


@pytest.mark.parametrize(("count_as", "expected"), [
    # Written: 1 for, 1 blank, 2 spoiled (both boxes ticked); blanks stay abstentions.
    (CountAs.ABSTAIN, VoteCount(1, 0, 3)),
    (CountAs.AGAINST, VoteCount(1, 2, 1)),
    (CountAs.FOR, VoteCount(3, 0, 1)),
])
def test_spoiled_answers_count_apart_from_blank_ones(count_as: CountAs,
                                                     expected: VoteCount) -> None:
    e = Entries()
    e.written(1, F)
    e.written(2, BL)
    e.written(3, SP)
    e.written(4, SP)
    result = run(4, e, rules=Rules(spoiled_counts_as=count_as))
    assert result.items[0].written == expected
    (problem,) = result.problems
    assert problem.kind is ProblemKind.SPOILED_VOTES
    word = {CountAs.ABSTAIN: "abstentions", CountAs.AGAINST: "votes against",
            CountAs.FOR: "votes for"}
    assert problem.message == (f"Item 1: 2 written votes have both boxes ticked and count as "
                               f"{word[count_as]}: 003 名3、004 名4.")


def test_an_item_added_after_the_forms_does_not_count_missing_written_answers() -> None:
    # 2 in person, 3 written votes printed with item 1 only; item 2 added later.
    # Voter 5 answered through the relay, whose form shows item 2: that answer counts.
    # Item 2: written 1 against (voter 5), 2 not counted; present 5 − 2 = 3.
    items = (AgendaItem("予算"), AgendaItem("修正動議", added_after_forms=True))
    e = Entries()
    e.attend(1)
    e.attend(2)
    e.written(3, F)
    e.written(4, F, None)
    e.written(5, F, A)
    floor = (FloorVote(0, 2), FloorVote(1, 2))
    result = run(5, e, items=items, floor=floor)
    first, second = result.items
    assert (first.base, first.not_counted, first.votes) == (5, 0, VoteCount(5, 0, 0))
    assert (second.base, second.not_counted) == (3, 2)
    assert second.votes == VoteCount(2, 1, 0)
    assert second.arithmetic == "For 2 > attendance 3 × 1/2 = 1.5 → carried"
    (problem,) = result.problems
    assert problem.message == ("Item 2 was added after the forms were printed: 2 written "
                               "votes have no answer for it and are not counted for it.")


def test_answers_beyond_the_agenda_are_ignored() -> None:
    e = Entries()
    e.written(1, F, A, A)
    assert run(1, e).items[0].votes == VoteCount(1, 0, 0)


# ------------------------------------------------------------------ two kinds of form


@pytest.mark.parametrize(("rule", "written_first", "expected"), [
    (FormConflict.WRITTEN_WINS, True, Status.WRITTEN),
    (FormConflict.WRITTEN_WINS, False, Status.WRITTEN),
    (FormConflict.PROXY_WINS, True, Status.PROXY_TO_CHAIR),
    (FormConflict.PROXY_WINS, False, Status.PROXY_TO_CHAIR),
    (FormConflict.LATEST_WINS, True, Status.PROXY_TO_CHAIR),
    (FormConflict.LATEST_WINS, False, Status.WRITTEN),
])
def test_proxy_and_written_vote_from_one_voter(rule: FormConflict, written_first: bool,
                                               expected: Status) -> None:
    e = Entries()
    if written_first:
        e.written(1, A)
        e.proxy(1)
    else:
        e.proxy(1)
        e.written(1, A)
    result = run(1, e, rules=Rules(proxy_and_written=rule))
    assert status(result, 1) is expected
    assert result.items[0].votes == (VoteCount(0, 1, 0) if expected is Status.WRITTEN
                                     else VoteCount(1, 0, 0))
    (problem,) = result.problems
    assert problem.kind is ProblemKind.PROXY_AND_WRITTEN
    assert problem.message.startswith("001 名1 sent both a proxy and a written vote; the ")


def test_latest_wins_compares_time_before_entry_number() -> None:
    # The proxy is entry 2 but was typed at 9:00, before the written vote (entry 1, 9:30).
    e = Entries()
    e.written(1, F, minute=30)
    e.proxy(1, minute=0)
    result = run(1, e, rules=Rules(proxy_and_written=FormConflict.LATEST_WINS))
    assert status(result, 1) is Status.WRITTEN


@pytest.mark.parametrize("absent_first", [True, False])
def test_an_absence_form_never_replaces_a_proxy(absent_first: bool) -> None:
    # 出欠票 (欠席) and 委任状 typed in either order: the proxy counts.
    e = Entries()
    if absent_first:
        e.absent(1)
        e.proxy(1)
    else:
        e.proxy(1)
        e.absent(1)
    result = run(1, e)
    assert status(result, 1) is Status.PROXY_TO_CHAIR
    assert result.problems == ()


# ------------------------------------------------------------------ attending in person


def test_attending_overrides_forms_by_default() -> None:
    # 1 sent a written vote against, then came: counted in person, the written vote set aside.
    e = Entries()
    e.written(1, A)
    e.attend(1)
    result = run(1, e)
    assert status(result, 1) is Status.IN_PERSON
    assert result.outcome("k1").reason is Reason.CHECKED_IN_OVER_FORMS
    assert result.items[0].written == VoteCount()


def test_forms_can_stand_over_attendance() -> None:
    # Same, under bylaws where a vote once sent stands: counted as written, reported.
    e = Entries()
    e.written(1, A)
    e.attend(1)
    e.absent(2)
    e.attend(2)  # 欠席 carries no vote: coming in person still counts
    result = run(2, e, rules=Rules(attendance_overrides_forms=False))
    assert status(result, 1) is Status.WRITTEN
    assert status(result, 2) is Status.IN_PERSON
    assert result.items[0].written == VoteCount(0, 1, 0)
    assert kinds(result) == [ProblemKind.FORM_OVER_ATTENDANCE]
    assert result.problems[0].message == (
        "001 名1 checked in but also sent a form; by the rules the form counts.")


# ------------------------------------------------------------------ proxies


@pytest.mark.parametrize(("rule", "fallback", "present"), [
    # 1 present; 2 → 3 who is absent. To the chair: 2 still counts present; lapsing: not.
    (AbsentHolder.TO_CHAIR, Status.PROXY_TO_CHAIR, 2),
    (AbsentHolder.LAPSE, Status.LAPSED, 1),
])
def test_proxy_to_a_holder_who_does_not_come(rule: AbsentHolder, fallback: Status,
                                             present: int) -> None:
    e = Entries()
    e.attend(1)
    e.proxy(2, 3)
    e.absent(3)
    result = run(3, e, rules=Rules(absent_holder=rule))
    assert status(result, 2) is fallback
    assert result.counts.present == present
    assert result.outcome("k2").reason is Reason.HOLDER_ABSENT
    (problem,) = result.problems
    assert problem.severity is Severity.NOTE
    verb = "goes to the chair" if rule is AbsentHolder.TO_CHAIR else "lapses"
    assert problem.message == f"002 名2: the proxy holder 003 名3 is not present; the proxy {verb}."
    assert reason_text(result.outcome("k2")) == (
        f"Proxy to 003 名3, who is not present: the proxy {verb}.")


@pytest.mark.parametrize(("chair_votes", "chair_count"), [
    # 2 proxies to the chair: the chair votes them for, or abstains with them.
    (ChairVote.FOR, VoteCount(2, 0, 0)),
    (ChairVote.ABSTAIN, VoteCount(0, 0, 2)),
])
def test_the_chair_votes_the_proxies_left_to_the_chair(chair_votes: ChairVote,
                                                       chair_count: VoteCount) -> None:
    # 3 chairs; 1 gives a blank proxy (白紙委任), 2 a proxy naming the chair.
    e = Entries()
    e.proxy(1)
    e.proxy(2, 3)
    e.attend(3)
    result = run(3, e, rules=Rules(chair_votes=chair_votes), chair="k3",
                 floor=(FloorVote(0, 0, 1),))
    assert [status(result, n) for n in (1, 2)] == [Status.PROXY_TO_CHAIR] * 2
    assert [result.outcome(k).reason for k in ("k1", "k2")] == [Reason.BLANK_PROXY,
                                                                 Reason.NAMES_CHAIR]
    item = result.items[0]
    assert item.chair == chair_count
    # The chair's own hand is on the floor: against 1.
    assert item.votes == chair_count + VoteCount(0, 1, 0)
    assert result.proxies_held == {}


def test_proxies_over_the_cap_fall_back_in_entry_order() -> None:
    # Cap 2. Holder 1 is given proxies by 2 (9:03), 3 (9:01) and 4 (9:02), typed in the
    # order 2, 3, 4: the first two by time are 3 and 4; 2's goes to the chair.
    e = Entries()
    e.attend(1)
    e.proxy(2, 1, minute=3)
    e.proxy(3, 1, minute=1)
    e.proxy(4, 1, minute=2)
    result = run(4, e, rules=Rules(proxy_cap=2))
    assert [status(result, n) for n in (2, 3, 4)] == [
        Status.PROXY_TO_CHAIR, Status.PROXY_TO_HOLDER, Status.PROXY_TO_HOLDER]
    assert result.proxies_held == {"k1": ("k3", "k4")}
    assert result.outcome("k2").reason is Reason.OVER_CAP
    (problem,) = result.problems
    assert problem.kind is ProblemKind.PROXY_CAP and problem.severity is Severity.WARNING
    assert problem.message == ("001 名1 is given more proxies than the 2 allowed; the later "
                               "ones, from 002 名2: the proxy goes to the chair.")
    assert run(4, e, rules=Rules(proxy_cap=3)).problems == ()


def test_a_proxy_chain_does_not_pass_the_proxy_on() -> None:
    # 1 present; 3 → 1; 2 → 3: 3 is not present (gave a proxy), so 2's proxy follows the
    # absent-holder rule (lapses here) instead of reaching 1.
    e = Entries()
    e.attend(1)
    e.proxy(3, 1)
    e.proxy(2, 3)
    result = run(3, e, rules=Rules(absent_holder=AbsentHolder.LAPSE))
    assert [status(result, n) for n in (2, 3)] == [Status.LAPSED, Status.PROXY_TO_HOLDER]
    assert result.proxies_held == {"k1": ("k3",)}
    (problem,) = result.problems
    assert problem.kind is ProblemKind.PROXY_CHAIN
    assert problem.message == ("002 名2: the proxy holder 003 名3 gave a proxy too and is not "
                               "present; the proxy lapses.")


def test_a_proxy_cycle_is_reported_once() -> None:
    # 2 → 3 → 4 → 2 and 5 → 5 (to itself); 6 → 2 is a chain into the cycle.
    e = Entries()
    e.proxy(3, 4)
    e.proxy(2, 3)
    e.proxy(4, 2)
    e.proxy(5, 5)
    e.proxy(6, 2)
    result = run(6, e)
    assert all(status(result, n) is Status.PROXY_TO_CHAIR for n in range(2, 7))
    assert kinds(result) == [ProblemKind.PROXY_CYCLE, ProblemKind.PROXY_CYCLE,
                             ProblemKind.PROXY_CHAIN]
    first, second, chain = result.problems
    assert first.message == ("002 名2 → 003 名3 → 004 名4 → 002 名2: their proxies name each "
                             "other in a circle, so none of them is present; the proxy goes "
                             "to the chair.")
    assert second.labels == ("005 名5",)
    assert chain.keys == ("k6", "k2")
    assert result.outcome("k3").reason is Reason.PROXY_CYCLE


def test_a_proxy_to_someone_not_on_the_list() -> None:
    e = Entries()
    e.proxy(1, "kx")
    result = run(1, e, rules=Rules(absent_holder=AbsentHolder.LAPSE))
    assert status(result, 1) is Status.LAPSED
    assert result.problems[0].message == (
        "001 名1: the proxy names kx, who is not on the voter list; the proxy lapses.")


# ------------------------------------------------------------------ corrections and bad input


def test_a_later_entry_of_the_same_kind_replaces_the_earlier() -> None:
    e = Entries()
    e.written(1, A)
    e.written(1, F)
    e.proxy(2, 1)
    e.proxy(2)  # corrected: it was a blank proxy
    result = run(2, e)
    assert result.items[0].written == VoteCount(1, 0, 0)
    assert status(result, 2) is Status.PROXY_TO_CHAIR
    assert kinds(result) == [ProblemKind.REPLACED_ENTRY] * 2
    assert result.problems[0].message == (
        "001 名1: entry 2 replaces the different entry 1; the later one counts.")


def test_the_same_form_entered_twice_counts_once() -> None:
    e = Entries()
    e.written(1, F)
    e.written(1, F)
    e.attend(2)
    e.attend(2)
    result = run(2, e)
    assert result.items[0].written == VoteCount(1, 0, 0)
    assert result.counts.in_person == 1
    assert kinds(result) == [ProblemKind.DUPLICATE_ENTRY] * 2


def test_a_cancel_voids_one_entry() -> None:
    # 1: written for, then a proxy typed by mistake and cancelled → written.
    # 2: a check-in typed by mistake and cancelled → no reply, chased.
    e = Entries()
    e.written(1, F)
    mistake = e.proxy(1)
    e.cancel(1, mistake)
    checked_in = e.attend(2)
    e.cancel(2, checked_in)
    result = run(2, e)
    assert status(result, 1) is Status.WRITTEN
    assert status(result, 2) is Status.NO_REPLY
    assert result.outcome("k2").reason is Reason.ALL_CANCELLED
    assert [v.key for g in result.not_returned for v in g.voters] == ["k2"]
    assert result.problems == ()


def test_a_cancel_of_another_voters_entry_is_ignored() -> None:
    e = Entries()
    other = e.attend(1)
    e.cancel(2, other)
    result = run(2, e)
    assert (status(result, 1), status(result, 2)) == (Status.IN_PERSON, Status.NO_REPLY)
    (problem,) = result.problems
    assert problem.message == ("002 名2: entry 2 cancels entry 1, which is not an entry for "
                               "this voter; the cancel is ignored. Cancel the right entry.")


def test_an_entry_for_a_voter_not_on_the_list_is_not_counted() -> None:
    e = Entries()
    e.attend("h-new")
    e.written("h-new", F)
    e.attend(1)
    result = run(1, e)
    assert result.counts.present == 1
    assert result.items[0].written == VoteCount()
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING
    assert problem.message.startswith("2 entries for h-new, who is not on the voter list")


# ------------------------------------------------------------------ the floor


def test_the_floor_adds_hands_and_a_recount_replaces_the_count() -> None:
    # 3 in person, 1 proxy held by 1 → 4 hands on the floor; 2 written for.
    e = Entries()
    for voter in (1, 2, 3):
        e.attend(voter)
    e.proxy(4, 1)
    e.written(5, F)
    e.written(6, F)
    floor = (FloorVote(0, 1, 3, 0, sequence=2), FloorVote(0, 2, 2, 0, sequence=1))
    item = run(6, e, floor=floor).items[0]
    # Recount (sequence 2): for 1 + 2 written = 3, against 3: 3 > 6 × 1/2 = 3? no.
    assert (item.floor, item.votes, item.passed) == (VoteCount(1, 3, 0), VoteCount(3, 3, 0),
                                                     False)
    assert item.floor_entered and not item.floor_too_large
    assert item.arithmetic == "For 3 ≤ attendance 6 × 1/2 = 3 → rejected"


def test_a_show_of_hands_larger_than_the_floor_is_flagged() -> None:
    # On the floor: 1 in person + the proxy 1 holds = 2 hands; 3 is present by written vote
    # and has no hand to raise. 3 hands counted is too many.
    e = Entries()
    e.attend(1)
    e.proxy(2, 1)
    e.written(3, F)
    assert not run(3, e, floor=(FloorVote(0, 1, 1, 0),)).items[0].floor_too_large
    result = run(3, e, floor=(FloorVote(0, 2, 1, 0), FloorVote(3, 1)))
    assert result.items[0].floor_too_large
    assert kinds(result) == [ProblemKind.FLOOR_TOO_LARGE, ProblemKind.FLOOR_UNKNOWN_ITEM]
    assert result.problems[0].message == ("Item 1: the show of hands counts 3 hands, more "
                                          "than the people and proxies on the floor. Count "
                                          "again.")
    assert result.problems[1].message == ("A show of hands for Item 4, which is not on the "
                                          "agenda, is ignored.")


def test_an_item_without_a_show_of_hands_says_so() -> None:
    e = Entries()
    e.attend(1)
    result = run(1, e)
    assert not result.items[0].floor_entered
    assert "The show of hands is not entered yet." in item_breakdown(result.items[0],
                                                                      result.rules)


# ------------------------------------------------------------------ rules as values


@pytest.mark.parametrize("make", [
    lambda: Majority(0, 2),
    lambda: Majority(3, 2),
    lambda: Majority(1, 0),
    lambda: Majority(1, 1, strict=True),
    lambda: Quorum(1, 2, count_in_person=False, count_proxies=False, count_written=False),
    lambda: Rules(proxy_cap=0),
])
def test_impossible_rules_are_refused_with_a_message(make: object) -> None:
    with pytest.raises(ValidationError) as raised:
        make()  # type: ignore[operator]
    assert raised.value.field in {"majority", "quorum", "proxy_cap"}
    assert raised.value.message.endswith(".")


def test_rules_keep_as_plain_values() -> None:
    rules = Rules(voting_unit=VotingUnit.MEMBER, quorum=Quorum(2, 3, strict=False),
                  blank_counts_as=CountAs.AGAINST, proxy_and_written=FormConflict.PROXY_WINS,
                  absent_holder=AbsentHolder.LAPSE, chair_votes=ChairVote.ABSTAIN,
                  attendance_overrides_forms=False, proxy_cap=5)
    assert Rules.from_dict(rules.as_dict()) == rules
    assert Rules.from_dict({}) == Rules()
    with pytest.raises(ValidationError, match="cannot be read"):
        Rules.from_dict({"blank_counts_as": "maybe"})
    with pytest.raises(ValidationError, match="cannot be read"):
        Rules.from_dict({"quorum_size": 3})


def test_entries_refuse_impossible_shapes() -> None:
    with pytest.raises(ValueError, match="only a proxy"):
        Entry("k1", EntryKind.ATTEND, 1, T0, holder_key="k2")
    with pytest.raises(ValueError, match="only a written vote"):
        Entry("k1", EntryKind.PROXY, 1, T0, votes=(F,))
    with pytest.raises(ValueError, match="cancel"):
        Entry("k1", EntryKind.CANCEL, 1, T0)
    with pytest.raises(ValueError, match="negative"):
        FloorVote(0, -1)
    with pytest.raises(ValueError, match="twice"):
        tally(voters=[*voters(2), voters(1)[0]], entries=[], items=ONE_ITEM, rules=Rules())


# ------------------------------------------------------------------ the whole explanation


def test_summary_names_every_part_and_labels_exist() -> None:
    e = Entries()
    e.attend(1)
    e.proxy(2, 1)
    e.written(3, SP)
    result = run(4, e, floor=(FloorVote(0, 2),))
    lines = summary_lines(result)
    assert lines[0] == ("Voters 4: in person 1, proxies to members 1, proxies to the chair 0, "
                        "written 1, absent 0, no reply 1, lapsed 0")
    assert lines[2] == "Item 1: 令和7年度予算 (more than half of those present)"
    assert "  For 2 (written 0, chair 0, show of hands 2)" in lines
    assert lines[-1] == problem_message(result.problems[0])
    assert {status_label(s) for s in Status} >= {"Present in person", "Proxy lapsed"}
    every = list(result.outcomes())
    assert [o.voter.key for o in every] == ["k1", "k2", "k3", "k4"]
    assert every[1].holder == voters(1)[0]
    assert every[2].problems == result.problems
    assert replace(result, rules=Rules()) == result
