"""Properties of the meeting tally over random small meetings (hypothesis): every voter once,
totals that add up, no dependence on entry order, rules that change only what they govern,
and a quorum that only grows with attendance."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.domain.meeting import (
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
    Rules,
    Source,
    Status,
    Tally,
    Vote,
    Voter,
    VotingUnit,
    tally,
)

T0 = datetime(2025, 5, 18, 9, 0)
MAX_VOTERS = 10
FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Meeting:
    voters: tuple[Voter, ...]
    entries: tuple[Entry, ...]
    items: tuple[AgendaItem, ...]
    floor: tuple[FloorVote, ...]
    rules: Rules
    chair: str | None

    def count(self, *, entries: tuple[Entry, ...] | None = None,
              floor: tuple[FloorVote, ...] | None = None, rules: Rules | None = None) -> Tally:
        return tally(voters=self.voters, entries=self.entries if entries is None else entries,
                     items=self.items, rules=rules or self.rules,
                     floor_votes=self.floor if floor is None else floor, chair_key=self.chair)


def _fraction(draw: Callable[[st.SearchStrategy[Any]], Any], *,
              allow_zero: bool) -> tuple[int, int, bool]:
    denominator = draw(st.integers(1, 4))
    numerator = draw(st.integers(0 if allow_zero else 1, denominator))
    strict = numerator < denominator and draw(st.booleans())
    return numerator, denominator, strict


@st.composite
def rules_strategy(draw: st.DrawFn) -> Rules:
    numerator, denominator, strict = _fraction(draw, allow_zero=True)
    flags = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any))
    return Rules(
        voting_unit=draw(st.sampled_from(VotingUnit)),
        quorum=Quorum(numerator, denominator, strict, *flags),
        blank_counts_as=draw(st.sampled_from(CountAs)),
        spoiled_counts_as=draw(st.sampled_from(CountAs)),
        proxy_and_written=draw(st.sampled_from(FormConflict)),
        attendance_overrides_forms=draw(st.booleans()),
        absent_holder=draw(st.sampled_from(AbsentHolder)),
        chair_votes=draw(st.sampled_from(ChairVote)),
        proxy_cap=draw(st.none() | st.integers(1, 3)))


@st.composite
def meetings(draw: st.DrawFn) -> Meeting:
    size = draw(st.integers(1, MAX_VOTERS))
    voters = tuple(Voter(f"k{n}", f"{n:03d}", f"名{n}", f"{n % 3 + 1}班")
                   for n in range(1, size + 1))
    keys = [voter.key for voter in voters]
    item_count = draw(st.integers(1, 3))
    items = []
    for n in range(item_count):
        numerator, denominator, strict = _fraction(draw, allow_zero=False)
        majority = Majority(numerator, denominator, strict, draw(st.sampled_from(Base)))
        items.append(AgendaItem(f"議案{n + 1}", majority, draw(st.booleans())))
    entry_count = draw(st.integers(0, 3 * size))
    holders = st.none() | st.sampled_from([*keys, "outsider"])
    answers = st.lists(st.none() | st.sampled_from(Vote), max_size=item_count + 1)
    rows = draw(st.lists(st.tuples(
        st.sampled_from([*keys, "stranger"]), st.sampled_from(EntryKind),
        st.integers(0, 4),  # minutes after nine: ties in time are common
        holders, answers, st.integers(1, max(entry_count, 1)), st.sampled_from(Source)),
        min_size=entry_count, max_size=entry_count))
    entries = [
        Entry(key, kind, sequence, T0 + timedelta(minutes=minute), "佐藤",
              holder_key=holder if kind is EntryKind.PROXY else None,
              votes=tuple(votes) if kind is EntryKind.WRITTEN else (),
              source=source, cancels=cancels if kind is EntryKind.CANCEL else None)
        for sequence, (key, kind, minute, holder, votes, cancels, source)
        in enumerate(rows, start=1)]
    floor = tuple(FloorVote(draw(st.integers(0, item_count)), *draw(
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))),
        sequence=draw(st.integers(0, 2))) for _ in range(draw(st.integers(0, 3))))
    chair = draw(st.none() | st.sampled_from(keys))
    return Meeting(voters, tuple(entries), tuple(items), floor, draw(rules_strategy()), chair)


def complete_floor(meeting: Meeting, counted: Tally, rng: random.Random) -> tuple[FloorVote, ...]:
    """A show of hands per item in which every hand on the floor is counted exactly once."""
    hands = counted.counts.on_the_floor
    floor = []
    for index in range(len(meeting.items)):
        for_ = rng.randint(0, hands)
        against = rng.randint(0, hands - for_)
        floor.append(FloorVote(index, for_, against, hands - for_ - against))
    return tuple(floor)


# ------------------------------------------------------------------ properties


@FAST
@given(meetings())
def test_every_voter_is_counted_exactly_once(meeting: Meeting) -> None:
    result = meeting.count()
    outcomes = list(result.outcomes())
    assert [o.voter.key for o in outcomes] == [v.key for v in meeting.voters]
    assert [o.status for o in outcomes] == list(result.statuses)
    counts = result.counts
    assert Counter(result.statuses) == Counter({
        Status.IN_PERSON: counts.in_person, Status.PROXY_TO_HOLDER: counts.to_holder,
        Status.PROXY_TO_CHAIR: counts.to_chair, Status.WRITTEN: counts.written,
        Status.ABSENT: counts.absent, Status.NO_REPLY: counts.no_reply,
        Status.LAPSED: counts.lapsed}) - Counter()  # drop zero counts
    assert sum(Counter(result.statuses).values()) == counts.eligible == len(meeting.voters)
    chased = [v.key for group in result.not_returned for v in group.voters]
    assert sorted(chased) == sorted(o.voter.key for o in outcomes
                                    if o.status is Status.NO_REPLY)
    # Held proxies: each given to a voter present in person, at most the cap per holder.
    status_of = {o.voter.key: o.status for o in outcomes}
    givers = [giver for held in result.proxies_held.values() for giver in held]
    assert sorted(givers) == sorted(k for k, s in status_of.items()
                                    if s is Status.PROXY_TO_HOLDER)
    for holder, held in result.proxies_held.items():
        assert status_of[holder] is Status.IN_PERSON
        assert meeting.rules.proxy_cap is None or len(held) <= meeting.rules.proxy_cap


@FAST
@given(meetings(), st.randoms(use_true_random=False))
def test_totals_add_up(meeting: Meeting, rng: random.Random) -> None:
    # present = eligible − absent − no reply − lapsed, and with a complete show of hands
    # every item's for + against + abstain = present − written votes not counted for it.
    as_entered = meeting.count()
    for item in as_entered.items:
        assert item.floor_too_large is (item.floor.total > as_entered.counts.on_the_floor)
    floor = complete_floor(meeting, as_entered, rng)
    result = meeting.count(floor=floor)
    counts = result.counts
    assert counts.present == counts.eligible - counts.absent - counts.no_reply - counts.lapsed
    assert result.quorum.counted <= counts.present
    for item in result.items:
        assert item.votes.total == counts.present - item.not_counted
        assert item.written.total + item.not_counted == counts.written
        assert item.chair.total == counts.to_chair
        assert not item.floor_too_large
        assert item.passed is (item.votes.for_ >= item.required >= 1)
        if item.item.majority.base is Base.CAST:
            assert item.base == item.votes.for_ + item.votes.against


@FAST
@given(meetings(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_entry_order(meeting: Meeting, rng: random.Random) -> None:
    entries = list(meeting.entries)
    floor = list(meeting.floor)
    rng.shuffle(entries)
    rng.shuffle(floor)
    assert meeting.count(entries=tuple(entries), floor=tuple(floor)) == meeting.count()


def _same_except_items(first: Tally, second: Tally) -> None:
    assert first.statuses == second.statuses
    assert first.counts == second.counts
    assert first.quorum == second.quorum


def check_blank_and_spoiled_rules(meeting: Meeting, before: Tally, blank: CountAs,
                                  spoiled: CountAs) -> None:
    """They move only blank and spoiled answers; with none, nothing changes."""
    after = meeting.count(rules=replace(meeting.rules, blank_counts_as=blank,
                                        spoiled_counts_as=spoiled))
    _same_except_items(before, after)
    for old, new in zip(before.items, after.items, strict=True):
        assert (old.blank, old.spoiled, old.votes.total) == (new.blank, new.spoiled,
                                                             new.votes.total)
        if old.blank == 0 and old.spoiled == 0:
            assert old == new


def check_chair_rule(meeting: Meeting, before: Tally, chair: ChairVote) -> None:
    """It moves only the chair's votes; with no proxy to the chair, nothing changes."""
    after = meeting.count(rules=replace(meeting.rules, chair_votes=chair))
    _same_except_items(before, after)
    for old, new in zip(before.items, after.items, strict=True):
        assert (old.written, old.floor) == (new.written, new.floor)
        if before.counts.to_chair == 0:
            assert old == new


def check_absent_holder_rule(meeting: Meeting) -> None:
    """Lapsing instead of going to the chair changes exactly those proxies, for the same
    reason, and the present count by their number."""
    to_chair = meeting.count(rules=replace(meeting.rules, absent_holder=AbsentHolder.TO_CHAIR))
    lapse = meeting.count(rules=replace(meeting.rules, absent_holder=AbsentHolder.LAPSE))
    for voter, status_chair, status_lapse in zip(meeting.voters, to_chair.statuses,
                                                 lapse.statuses, strict=True):
        if status_lapse is Status.LAPSED:
            assert status_chair is Status.PROXY_TO_CHAIR
            assert to_chair.reasons[voter.key] is lapse.reasons[voter.key]
        else:
            assert status_chair is status_lapse
    assert to_chair.counts.present - lapse.counts.present == lapse.counts.lapsed


def check_form_conflict_rule(meeting: Meeting, before: Tally, conflict: FormConflict) -> None:
    """It moves only voters who sent both a proxy and a written vote: such a voter is not
    present either way, so proxies naming them fall back either way."""
    after = meeting.count(rules=replace(meeting.rules, proxy_and_written=conflict))
    both = {problem.keys[0] for problem in before.problems
            if problem.kind is ProblemKind.PROXY_AND_WRITTEN}
    if not both:
        assert replace(after, rules=before.rules) == before
    for voter, old, new in zip(meeting.voters, before.statuses, after.statuses, strict=True):
        if voter.key not in both:
            assert old is new


def check_quorum_and_cap_rules(meeting: Meeting, before: Tally, data: st.DataObject) -> None:
    """The quorum fraction changes only the quorum's verdict; a cap nobody reaches is no cap."""
    numerator, denominator, strict = _fraction(data.draw, allow_zero=True)
    quorum = replace(meeting.rules.quorum, numerator=numerator, denominator=denominator,
                     strict=strict)
    after = meeting.count(rules=replace(meeting.rules, quorum=quorum))
    assert (after.statuses, after.items, after.problems) == (before.statuses, before.items,
                                                             before.problems)
    assert after.quorum.counted == before.quorum.counted
    no_cap = meeting.count(rules=replace(meeting.rules, proxy_cap=None))
    roomy = meeting.count(rules=replace(meeting.rules, proxy_cap=len(meeting.entries) + 1))
    assert replace(roomy, rules=no_cap.rules) == no_cap


@FAST
@given(meetings(), st.data())
def test_each_rule_changes_only_what_it_governs(meeting: Meeting, data: st.DataObject) -> None:
    # One meeting checked against every rule: generating meetings is the slow part.
    before = meeting.count()
    check_blank_and_spoiled_rules(meeting, before, data.draw(st.sampled_from(CountAs)),
                                  data.draw(st.sampled_from(CountAs)))
    check_chair_rule(meeting, before, data.draw(st.sampled_from(ChairVote)))
    check_absent_holder_rule(meeting)
    check_form_conflict_rule(meeting, before, data.draw(st.sampled_from(FormConflict)))
    check_quorum_and_cap_rules(meeting, before, data)


@FAST
@given(meetings(), st.data())
def test_quorum_only_grows_when_someone_more_attends(meeting: Meeting,
                                                     data: st.DataObject) -> None:
    before = meeting.count()
    newcomers = [v.key for v, s in zip(meeting.voters, before.statuses, strict=True)
                 if s in {Status.NO_REPLY, Status.ABSENT}]
    if not newcomers:
        return
    key = data.draw(st.sampled_from(newcomers))
    late = Entry(key, EntryKind.ATTEND, len(meeting.entries) + 1, T0 + timedelta(hours=1),
                 "受付", source=Source.DOOR)
    after = meeting.count(entries=(*meeting.entries, late))
    assert after.outcome(key).status is Status.IN_PERSON
    assert after.quorum.counted >= before.quorum.counted
    assert after.quorum.reached >= before.quorum.reached
    if meeting.rules.quorum.count_in_person:
        assert after.quorum.counted > before.quorum.counted
