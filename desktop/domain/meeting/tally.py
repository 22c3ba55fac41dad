"""The tally of a general meeting (総会): who is present and how, quorum, and every item's vote.

Pure functions over plain frozen values, no database and no Qt: the store hands over the voter
list of the record date, every entry ever typed (corrections are new entries, never
overwrites), the show-of-hands counts and the agenda; :func:`tally` returns a :class:`Tally`
that says, for each voter exactly once, how they count and why, and for each item the votes
for, against and abstaining by where they came from, and whether it passed.

How one voter's entries are read (the latest by ``(entered_at, sequence)`` decides, except):

- A ``CANCEL`` entry voids the entry whose ``sequence`` it names (an entry typed by mistake).
- Of each kind, the latest entry counts: a later written vote replaces an earlier one; the same
  form typed twice counts once (both are reported).
- ``ABSENT`` (欠席 with nothing else) never replaces a proxy or a written vote: the 出欠票 and
  the 委任状 are often separate sheets typed in either order. Cancel the proxy to undo it.
- Checking in at the door overrides every form when ``attendance_overrides_forms`` is set;
  otherwise a proxy or written vote stands and the attendance is reported.
- A proxy and a written vote from one voter: ``rules.proxy_and_written`` decides (reported).

Proxies: a blank proxy (白紙委任) or one naming the chair goes to the chair. One naming a voter
who is present in person goes to that holder, up to ``rules.proxy_cap`` in entry order. Every
other proxy (the holder is absent, not on the list, gave a proxy too — a chain or cycle — or
already holds the cap) goes to the chair or lapses as ``rules.absent_holder`` says, and is
reported. Proxies are not passed along chains: a holder who is not present holds nothing.

Written votes: a blank or spoiled answer (both boxes ticked) counts as ``rules`` says. An item
added after the forms were printed has no place on the paper: a written vote without an answer
for it is not counted for that item at all (neither as a vote nor in its "present" base) and
is reported; an answer that does exist (typed from the relay, whose form shows the current
agenda) counts. On an item that was printed, a missing answer is a blank.

The floor (挙手): per item, one count of hands for / against / abstaining covering everyone
present in person and the proxies they hold; the latest count (by ``sequence``) per item counts.
Chair proxies are added as the chair votes them (``rules.chair_votes``).
"""

from __future__ import annotations

import enum
import itertools
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter
from typing import TYPE_CHECKING, Any, cast

from desktop.domain.meeting.rules import (
    MAJORITY_OF_PRESENT,
    AbsentHolder,
    Base,
    ChairVote,
    CountAs,
    FormConflict,
    Majority,
    Rules,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "AgendaItem",
    "Counts",
    "Entry",
    "EntryKind",
    "FloorVote",
    "GroupChase",
    "ItemResult",
    "Outcome",
    "Problem",
    "ProblemKind",
    "QuorumResult",
    "Reason",
    "Severity",
    "Source",
    "Status",
    "Tally",
    "Vote",
    "VoteCount",
    "Voter",
    "tally",
]


# ------------------------------------------------------------------ input


class EntryKind(enum.StrEnum):
    """What one typed entry records."""

    ATTEND = "attend"  # checked in at the door (出席)
    ABSENT = "absent"  # 欠席 returned, without proxy or written vote
    PROXY = "proxy"  # 委任状; no holder = 白紙委任 (to the chair)
    WRITTEN = "written"  # 書面議決書, one answer per agenda item
    CANCEL = "cancel"  # voids the entry numbered ``cancels`` (typed by mistake)


class Vote(enum.IntEnum):
    """One answer on a written vote. Int-valued so counting columns stays in C."""

    FOR = 1  # 賛成
    AGAINST = 2  # 反対
    ABSTAIN = 3  # 棄権
    BLANK = 4  # nothing ticked
    SPOILED = 5  # both boxes ticked, or otherwise unreadable (無効)


class Source(enum.StrEnum):
    """Where an entry was typed from."""

    FORM = "form"  # a returned paper form (QR scanned or number typed)
    DOOR = "door"  # the check-in list on the day
    RELAY = "relay"  # a resident's answer through the relay


@dataclass(frozen=True, slots=True)
class Voter:
    """One vote on the voter list, a snapshot of the roster on the record date.

    ``key`` is stable (the household's or member's id as text); ``number`` is what people read
    (世帯番号), ``group_name`` the 班 the chase list is sorted into.
    """

    key: str
    number: str
    name: str = ""
    group_name: str = ""
    household_id: uuid.UUID | None = None

    @property
    def label(self) -> str:
        """The number and name, as messages name a voter (``0123 山田太郎``)."""
        return f"{self.number} {self.name}".strip()


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry typed for one voter: never changed afterwards, only cancelled or followed.

    ``sequence`` is the entry's number in the meeting (unique, increasing as typed); ``votes``
    holds a written vote's answer per agenda item (``None``: no answer on the form).
    """

    voter_key: str
    kind: EntryKind
    sequence: int
    entered_at: datetime
    entered_by: str = ""
    holder_key: str | None = None
    votes: tuple[Vote | None, ...] = ()
    source: Source = Source.FORM
    cancels: int | None = None

    def __post_init__(self) -> None:
        if self.holder_key is not None and self.kind is not EntryKind.PROXY:
            raise ValueError(f"entry {self.sequence}: only a proxy names a holder")
        if self.votes and self.kind is not EntryKind.WRITTEN:
            raise ValueError(f"entry {self.sequence}: only a written vote has answers")
        if (self.cancels is not None) != (self.kind is EntryKind.CANCEL):
            raise ValueError(f"entry {self.sequence}: a cancel, and only a cancel, names "
                             "the entry it cancels")


@dataclass(frozen=True, slots=True)
class FloorVote:
    """The show of hands on one item (``item_index`` from 0), counted on the day."""

    item_index: int
    for_: int
    against: int = 0
    abstain: int = 0
    sequence: int = 0  # a recount is a new FloorVote with a higher sequence

    def __post_init__(self) -> None:
        if min(self.for_, self.against, self.abstain) < 0:
            raise ValueError(f"floor count for item {self.item_index} is negative")


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One 議案 and the majority it needs."""

    title: str
    majority: Majority = MAJORITY_OF_PRESENT
    added_after_forms: bool = False  # not on the printed written-vote forms


# ------------------------------------------------------------------ output


class Status(enum.StrEnum):
    """How a voter finally counts: exactly one per voter."""

    IN_PERSON = "in_person"
    PROXY_TO_HOLDER = "proxy_to_holder"
    PROXY_TO_CHAIR = "proxy_to_chair"
    WRITTEN = "written"
    ABSENT = "absent"
    NO_REPLY = "no_reply"
    LAPSED = "lapsed"  # a proxy that could not be used and, by the rules, lapsed


class Reason(enum.StrEnum):
    """Why a voter has their status (the text is in :mod:`desktop.domain.meeting.explain`)."""

    CHECKED_IN = "checked_in"
    CHECKED_IN_OVER_FORMS = "checked_in_over_forms"
    HOLDER_PRESENT = "holder_present"
    BLANK_PROXY = "blank_proxy"
    NAMES_CHAIR = "names_chair"
    HOLDER_ABSENT = "holder_absent"
    HOLDER_UNKNOWN = "holder_unknown"
    HOLDER_GAVE_PROXY = "holder_gave_proxy"
    PROXY_CYCLE = "proxy_cycle"
    OVER_CAP = "over_cap"
    WRITTEN_VOTE = "written_vote"
    ABSENT_FORM = "absent_form"
    NO_FORM = "no_form"
    ALL_CANCELLED = "all_cancelled"


class Severity(enum.StrEnum):
    """Whether a problem needs someone to act, or only explains what the rules did."""

    WARNING = "warning"
    NOTE = "note"


class ProblemKind(enum.StrEnum):
    """What went wrong or needs a word, in the order problems are listed."""

    UNKNOWN_VOTER = "unknown_voter"
    BAD_CANCEL = "bad_cancel"
    FLOOR_TOO_LARGE = "floor_too_large"
    FLOOR_UNKNOWN_ITEM = "floor_unknown_item"
    HOLDER_UNKNOWN = "holder_unknown"
    PROXY_CYCLE = "proxy_cycle"
    PROXY_CHAIN = "proxy_chain"
    PROXY_CAP = "proxy_cap"
    HOLDER_ABSENT = "holder_absent"
    PROXY_AND_WRITTEN = "proxy_and_written"
    FORM_OVER_ATTENDANCE = "form_over_attendance"
    REPLACED_ENTRY = "replaced_entry"
    DUPLICATE_ENTRY = "duplicate_entry"
    SPOILED_VOTES = "spoiled_votes"
    UNANSWERED_ADDED_ITEM = "unanswered_added_item"

    @property
    def severity(self) -> Severity:
        """Warnings need someone to look again; notes say what the rules did."""
        return Severity.WARNING if self in _WARNINGS else Severity.NOTE


_WARNINGS = frozenset({
    ProblemKind.UNKNOWN_VOTER, ProblemKind.BAD_CANCEL, ProblemKind.FLOOR_TOO_LARGE,
    ProblemKind.FLOOR_UNKNOWN_ITEM, ProblemKind.HOLDER_UNKNOWN, ProblemKind.PROXY_CYCLE,
    ProblemKind.PROXY_CHAIN, ProblemKind.PROXY_CAP})
_PROBLEM_ORDER = {kind: position for position, kind in enumerate(ProblemKind)}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to tell the officers, naming the voters concerned (number and name).

    ``labels``/``keys`` name the voters, the subject first (for a cap: the holder, then the
    proxies over it); ``sequences`` the entries concerned; ``count`` a number the message
    needs; ``outcome`` where the proxies went (chair or lapsed) or which form won;
    ``counted_as`` how spoiled answers were counted.
    """

    kind: ProblemKind
    labels: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    item_index: int | None = None
    count: int = 0
    sequences: tuple[int, ...] = ()
    outcome: Status | None = None
    counted_as: CountAs | None = None

    @property
    def severity(self) -> Severity:
        """Warning or note."""
        return self.kind.severity

    @property
    def message(self) -> str:
        """The problem in the current language."""
        from desktop.domain.meeting.explain import problem_message

        return problem_message(self)


@dataclass(frozen=True, slots=True)
class VoteCount:
    """Votes for, against and abstaining."""

    for_: int = 0
    against: int = 0
    abstain: int = 0

    @property
    def total(self) -> int:
        """All three together."""
        return self.for_ + self.against + self.abstain

    def __add__(self, other: VoteCount) -> VoteCount:
        return VoteCount(self.for_ + other.for_, self.against + other.against,
                         self.abstain + other.abstain)


@dataclass(frozen=True, slots=True)
class Counts:
    """How many voters ended in each status; they add up to ``eligible``."""

    eligible: int
    in_person: int
    to_holder: int
    to_chair: int
    written: int
    absent: int
    no_reply: int
    lapsed: int

    @property
    def proxies(self) -> int:
        """Proxies that count: to a present holder or to the chair."""
        return self.to_holder + self.to_chair

    @property
    def present(self) -> int:
        """Counted present: eligible − absent − no reply − lapsed."""
        return self.in_person + self.to_holder + self.to_chair + self.written

    @property
    def on_the_floor(self) -> int:
        """Hands the show of hands can count: people in the room and the proxies they hold."""
        return self.in_person + self.to_holder


@dataclass(frozen=True, slots=True)
class QuorumResult:
    """Whether the meeting is quorate (成立), from the parts the rules count."""

    eligible: int
    required: int
    in_person: int  # each part is 0 when the rules do not count it
    proxies: int
    written: int
    counted: int
    reached: bool
    margin: int  # counted − required: ≥ 0 when reached, the shortfall (negative) otherwise


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The vote on one agenda item, by source, and its verdict."""

    index: int
    item: AgendaItem
    votes: VoteCount  # written + chair + floor
    written: VoteCount
    chair: VoteCount
    floor: VoteCount
    floor_entered: bool
    floor_too_large: bool
    blank: int  # written answers left blank (counted as rules.blank_counts_as)
    spoiled: int  # written answers spoiled (counted as rules.spoiled_counts_as)
    not_counted: int  # written votes without an answer for an item added after the forms
    base: int
    required: int  # votes for needed
    passed: bool

    @property
    def arithmetic(self) -> str:
        """The comparison that decides, in the current language (``賛成 120 ＞ …→ 可決``)."""
        from desktop.domain.meeting.explain import item_arithmetic

        return item_arithmetic(self)


@dataclass(frozen=True, slots=True)
class GroupChase:
    """The voters of one 班 who have returned nothing yet, for the 班長 to chase."""

    group_name: str
    voters: tuple[Voter, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One voter's final status, the entry that decided it, and why (made on demand)."""

    voter: Voter
    status: Status
    reason: Reason
    entry: Entry | None
    holder_key: str | None  # the holder the proxy named (None: blank proxy, or no proxy)
    holder: Voter | None  # that holder when on the list
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Tally:
    """Everything the meeting screen, the results sheet and the export show.

    Per-voter results are kept as columns aligned with ``voters`` (50,000 voters make no
    50,000 objects); :meth:`outcome` and :meth:`outcomes` build rows when asked.
    """

    rules: Rules
    chair_key: str | None
    voters: tuple[Voter, ...]
    statuses: tuple[Status, ...]
    deciding: tuple[Entry | None, ...]  # the entry that decided each voter's status
    counts: Counts
    quorum: QuorumResult
    items: tuple[ItemResult, ...]
    problems: tuple[Problem, ...]
    not_returned: tuple[GroupChase, ...]
    proxies_held: Mapping[str, tuple[str, ...]] = field(hash=False)  # holder → givers
    reasons: Mapping[str, Reason] = field(hash=False, repr=False)  # only the non-obvious
    positions: Mapping[str, int] = field(hash=False, repr=False, compare=False)  # key → index

    def outcome(self, key: str) -> Outcome:
        """The outcome of the voter with ``key`` (``KeyError`` when not on the list)."""
        return self.outcome_at(self.positions[key])

    def outcome_at(self, position: int) -> Outcome:
        """The outcome of ``voters[position]``."""
        voter = self.voters[position]
        status = self.statuses[position]
        entry = self.deciding[position]
        holder_key = entry.holder_key if entry is not None else None
        at = None if holder_key is None else self.positions.get(holder_key)
        holder = None if at is None else self.voters[at]
        reason = self.reasons.get(voter.key) or _default_reason(status, entry)
        problems = tuple(p for p in self.problems if voter.key in p.keys)
        return Outcome(voter, status, reason, entry, holder_key, holder, problems)

    def outcomes(self) -> Iterator[Outcome]:
        """Every voter's outcome, in the order of the voter list."""
        about: dict[str, list[Problem]] = {}
        for problem in self.problems:
            for key in problem.keys:
                about.setdefault(key, []).append(problem)
        for voter, status, entry in zip(self.voters, self.statuses, self.deciding,
                                        strict=True):
            holder_key = entry.holder_key if entry is not None else None
            reason = self.reasons.get(voter.key) or _default_reason(status, entry)
            at = None if holder_key is None else self.positions.get(holder_key)
            holder = None if at is None else self.voters[at]
            yield Outcome(voter, status, reason, entry, holder_key, holder,
                          tuple(about.get(voter.key, ())))


def _default_reason(status: Status, entry: Entry | None) -> Reason:
    if status is Status.PROXY_TO_CHAIR and entry is not None:
        return Reason.BLANK_PROXY if entry.holder_key is None else Reason.NAMES_CHAIR
    return _OBVIOUS_REASON[status]


_OBVIOUS_REASON: dict[Status, Reason] = {
    Status.IN_PERSON: Reason.CHECKED_IN,
    Status.PROXY_TO_HOLDER: Reason.HOLDER_PRESENT,
    Status.PROXY_TO_CHAIR: Reason.BLANK_PROXY,
    Status.WRITTEN: Reason.WRITTEN_VOTE,
    Status.ABSENT: Reason.ABSENT_FORM,
    Status.NO_REPLY: Reason.NO_FORM,
    Status.LAPSED: Reason.HOLDER_ABSENT,
}

_STATUS_OF_KIND: dict[EntryKind, Status] = {
    EntryKind.ATTEND: Status.IN_PERSON,
    EntryKind.ABSENT: Status.ABSENT,
    EntryKind.PROXY: Status.PROXY_TO_HOLDER,  # until the holder is checked
    EntryKind.WRITTEN: Status.WRITTEN,
}
_VOTER_KEY: Callable[[Entry], str] = attrgetter("voter_key")
_KIND: Callable[[Entry], EntryKind] = attrgetter("kind")
_VOTES: Callable[[Entry], tuple[Vote | None, ...]] = attrgetter("votes")
_KEY: Callable[[Voter], str] = attrgetter("key")
_TIME_AND_NUMBER: Callable[[Entry], tuple[datetime, int]] = attrgetter("entered_at", "sequence")


def _where(values: list[Status], wanted: Status) -> Iterator[int]:
    """Positions in ``values`` holding ``wanted``, found in C (``compress`` over ``is_``)."""
    return compress(itertools.count(), map(is_, values, repeat(wanted)))


# ------------------------------------------------------------------ one voter's entries


def _order(entry: Entry) -> tuple[Any, ...]:
    """Time, then entry number, then the content: a total order, so the input order of
    entries never matters even if two share a time and a number."""
    return (entry.entered_at, entry.sequence, entry.kind, entry.holder_key or "",
            tuple(0 if vote is None else int(vote) for vote in entry.votes),
            entry.entered_by, entry.source, entry.cancels or 0)


def _entry_order(entry: Entry | None) -> tuple[Any, ...]:
    assert entry is not None  # only positions that have an entry are sorted
    return _order(entry)


def _same_content(first: Entry, second: Entry) -> bool:
    return first.holder_key == second.holder_key and first.votes == second.votes


class _Problems:
    """Collects problems while the tally runs, naming voters by label."""

    def __init__(self, voters: tuple[Voter, ...], index: Mapping[str, int]) -> None:
        self.voters = voters
        self.index = index
        self.found: list[Problem] = []

    def label(self, key: str) -> str:
        position = self.index.get(key)
        return key if position is None else self.voters[position].label

    def add(self, kind: ProblemKind, keys: Sequence[str] = (), **details: Any) -> None:
        self.found.append(Problem(kind, tuple(self.label(k) for k in keys), tuple(keys),
                                  **details))


def _latest_of_each_kind(key: str, group: list[Entry],
                         problems: _Problems) -> tuple[dict[EntryKind, Entry], bool]:
    """The latest live entry of each kind, once cancels are applied (duplicates and
    replacements reported), and whether any entry was cancelled."""
    group.sort(key=_TIME_AND_NUMBER)
    if any(a == b for a, b in itertools.pairwise(map(_TIME_AND_NUMBER, group))):
        group.sort(key=_order)  # the rare tie: order by content too, as the docstring says
    own = {entry.sequence for entry in group if entry.kind is not EntryKind.CANCEL}
    cancelled: set[int] = set()
    for entry in group:
        if entry.kind is not EntryKind.CANCEL:
            continue
        assert entry.cancels is not None  # checked by Entry
        if entry.cancels in own:
            cancelled.add(entry.cancels)
        else:
            problems.add(ProblemKind.BAD_CANCEL, [key], sequences=(entry.sequence,
                                                                   entry.cancels))
    latest: dict[EntryKind, Entry] = {}
    for entry in group:
        if entry.kind is EntryKind.CANCEL or entry.sequence in cancelled:
            continue
        earlier = latest.get(entry.kind)
        if earlier is not None:
            same = _same_content(earlier, entry)
            problems.add(ProblemKind.DUPLICATE_ENTRY if same else ProblemKind.REPLACED_ENTRY,
                         [key], sequences=(earlier.sequence, entry.sequence))
        latest[entry.kind] = entry
    return latest, bool(cancelled)


def _resolve(key: str, group: list[Entry], rules: Rules,
             problems: _Problems) -> tuple[Entry | None, Reason | None]:
    """The entry that decides the status of a voter with several entries (or a lone cancel),
    and the reason when it is not the obvious one."""
    latest, cancelled = _latest_of_each_kind(key, group, problems)
    attend = latest.get(EntryKind.ATTEND)
    proxy = latest.get(EntryKind.PROXY)
    written = latest.get(EntryKind.WRITTEN)
    chosen: Entry | None = proxy or written
    if attend is not None and (rules.attendance_overrides_forms or chosen is None):
        return attend, Reason.CHECKED_IN_OVER_FORMS if len(latest) > 1 else None
    if proxy is not None and written is not None:
        conflict = rules.proxy_and_written
        if conflict is FormConflict.LATEST_WINS:
            chosen = max(proxy, written, key=_order)
        else:
            chosen = written if conflict is FormConflict.WRITTEN_WINS else proxy
        problems.add(ProblemKind.PROXY_AND_WRITTEN, [key],
                     sequences=(proxy.sequence, written.sequence),
                     outcome=_STATUS_OF_KIND[chosen.kind])
    if chosen is not None:
        if attend is not None:
            problems.add(ProblemKind.FORM_OVER_ATTENDANCE, [key],
                         sequences=(attend.sequence, chosen.sequence))
        return chosen, None
    absent = latest.get(EntryKind.ABSENT)
    if absent is not None:
        return absent, None
    return None, Reason.ALL_CANCELLED if cancelled else None


# ------------------------------------------------------------------ the tally


def tally(*, voters: Sequence[Voter], entries: Iterable[Entry], items: Sequence[AgendaItem],
          rules: Rules, floor_votes: Iterable[FloorVote] = (),
          chair_key: str | None = None) -> Tally:
    """Tally the meeting: each voter's status exactly once, quorum, and every item.

    ``chair_key`` is the voter chairing the meeting, when known: a proxy naming them counts
    as left to the chair. The result does not depend on the order of ``entries`` or
    ``floor_votes``; lists follow the order of ``voters``.
    """
    return _Count(tuple(voters), rules, chair_key).run(list(entries), tuple(items),
                                                       tuple(floor_votes))


class _Count:
    """One run of the tally. Per-voter state lives in lists aligned with the voter list
    (``keys``, ``statuses``, ``deciding``), filled by C-level comprehensions where possible."""

    def __init__(self, voters: tuple[Voter, ...], rules: Rules, chair_key: str | None) -> None:
        self.voters = voters
        self.rules = rules
        self.chair_key = chair_key
        self.keys = list(map(_KEY, voters))
        self.index = dict(zip(self.keys, range(len(self.keys)), strict=True))  # → position
        if len(self.index) != len(self.keys):
            raise ValueError("the voter list names a voter twice")
        self.problems = _Problems(voters, self.index)
        self.reasons: dict[str, Reason] = {}
        self.statuses: list[Status] = []
        self.deciding: list[Entry | None] = []
        self.written_positions: list[int] | None = None  # made when first needed
        self.fallback = (Status.PROXY_TO_CHAIR if rules.absent_holder is AbsentHolder.TO_CHAIR
                         else Status.LAPSED)

    def run(self, entries: list[Entry], items: tuple[AgendaItem, ...],
            floor_votes: tuple[FloorVote, ...]) -> Tally:
        self.deciding = list(map(self.decide(entries).get, self.keys))
        status_of_kind = _STATUS_OF_KIND
        no_reply = Status.NO_REPLY
        self.statuses = [no_reply if e is None else status_of_kind[e.kind]
                         for e in self.deciding]
        proxies_held = self.place_proxies()
        counted = Counter(self.statuses)
        counts = Counts(
            eligible=len(self.voters), in_person=counted[Status.IN_PERSON],
            to_holder=counted[Status.PROXY_TO_HOLDER], to_chair=counted[Status.PROXY_TO_CHAIR],
            written=counted[Status.WRITTEN], absent=counted[Status.ABSENT],
            no_reply=counted[Status.NO_REPLY], lapsed=counted[Status.LAPSED])
        results = self.items(items, floor_votes, counts)
        chase: dict[str, list[Voter]] = {}
        for voter in [v for v, s in zip(self.voters, self.statuses, strict=True)
                      if s is no_reply]:
            chase.setdefault(voter.group_name, []).append(voter)
        return Tally(
            rules=self.rules, chair_key=self.chair_key, voters=self.voters,
            statuses=tuple(self.statuses), deciding=tuple(self.deciding), counts=counts,
            quorum=_quorum(counts, self.rules), items=results,
            problems=_sorted_problems(self.problems.found, self.index),
            not_returned=tuple(GroupChase(name, tuple(group)) for name, group in chase.items()),
            proxies_held=proxies_held, reasons=self.reasons, positions=self.index)

    def decide(self, entries: list[Entry]) -> dict[str, Entry | None]:
        """The deciding entry per voter key. Most voters have one entry, kept by a dict built
        in C; only voters with several (or a lone cancel) go through :func:`_resolve`."""
        entry_keys = list(map(_VOTER_KEY, entries))
        per_voter = Counter(entry_keys)
        decided: dict[str, Entry | None] = dict(zip(entry_keys, entries, strict=True))
        if not per_voter.keys() <= self.index.keys():  # a subset test makes no new set
            for key in sorted(per_voter.keys() - self.index.keys()):
                self.problems.add(ProblemKind.UNKNOWN_VOTER, [key], count=per_voter[key])
                del decided[key]
        several: set[str] = set()
        if len(per_voter) < len(entries):
            several = {key for key, count in per_voter.items() if count > 1}
        if EntryKind.CANCEL in map(_KIND, entries):  # a lone cancel is resolved too
            several.update(compress(entry_keys, map(is_, map(_KIND, entries),
                                                    repeat(EntryKind.CANCEL))))
        several &= self.index.keys()
        if several:
            groups: dict[str, list[Entry]] = {key: [] for key in sorted(several)}
            for key, entry in zip(entry_keys, entries, strict=True):
                if key in several:
                    groups[key].append(entry)
            for key, group in groups.items():
                decided[key], reason = _resolve(key, group, self.rules, self.problems)
                if reason is not None:
                    self.reasons[key] = reason
        return decided

    def fall_back(self, position: int, reason: Reason) -> None:
        """A proxy that cannot reach its holder: to the chair, or lapsed, by the rules."""
        self.statuses[position] = self.fallback
        self.reasons[self.keys[position]] = reason

    def place_proxies(self) -> dict[str, tuple[str, ...]]:
        """Settle every proxy: to the chair, to a present holder (up to the cap), or by the
        absent-holder rule. Returns holder key → the keys of the proxies they hold."""
        statuses, keys, deciding = self.statuses, self.keys, self.deciding
        pending = Status.PROXY_TO_HOLDER
        positions = list(_where(statuses, pending))
        if not positions:
            return {}
        index = self.index
        held: dict[str, list[int]] = {}
        chained: list[int] = []
        for i in positions:
            entry = deciding[i]
            assert entry is not None
            holder = entry.holder_key
            if holder is None or holder == self.chair_key:
                statuses[i] = Status.PROXY_TO_CHAIR
                continue
            at = index.get(holder)
            holder_status = None if at is None else statuses[at]
            if holder_status is Status.IN_PERSON:
                held.setdefault(holder, []).append(i)
            elif holder_status is pending:
                chained.append(i)
            else:
                known = holder_status is not None
                self.fall_back(i, Reason.HOLDER_ABSENT if known else Reason.HOLDER_UNKNOWN)
                self.problems.add(
                    ProblemKind.HOLDER_ABSENT if known else ProblemKind.HOLDER_UNKNOWN,
                    [keys[i], holder], outcome=self.fallback)
        if chained:
            self.chains_and_cycles(chained)
        if self.rules.proxy_cap is not None:
            self.apply_cap(held, self.rules.proxy_cap)
        return {holder: tuple(keys[i] for i in sorted(given)) for holder, given in held.items()}

    def apply_cap(self, held: dict[str, list[int]], cap: int) -> None:
        """Proxies beyond the cap, in entry order, fall back (reported per holder)."""
        keys, deciding = self.keys, self.deciding
        for holder, given in held.items():
            if len(given) <= cap:
                continue
            given.sort(key=lambda i: (_entry_order(deciding[i]), keys[i]))
            over = given[cap:]
            del given[cap:]
            for i in over:
                self.fall_back(i, Reason.OVER_CAP)
            self.problems.add(ProblemKind.PROXY_CAP, [holder, *(keys[i] for i in over)],
                              count=cap, outcome=self.fallback)

    def chains_and_cycles(self, chained: list[int]) -> None:
        """Proxies to a holder who gave a proxy too: that holder is not present, so each goes
        by the absent-holder rule; a cycle is reported once, the rest as chains."""
        keys, deciding = self.keys, self.deciding
        position = {keys[i]: i for i in chained}
        holder_of: dict[str, str] = {}
        for i in chained:
            entry = deciding[i]
            assert entry is not None and entry.holder_key is not None
            holder_of[keys[i]] = entry.holder_key
        in_cycle: set[str] = set()
        done: set[str] = set()
        for i in chained:  # voter order, so a cycle is always found from the same member
            path: list[str] = []
            on_path: dict[str, int] = {}
            node = keys[i]
            while node in holder_of and node not in done:
                if node in on_path:
                    cycle = path[on_path[node]:]
                    first = min(range(len(cycle)), key=lambda n: position[cycle[n]])
                    cycle = cycle[first:] + cycle[:first]
                    in_cycle.update(cycle)
                    self.problems.add(ProblemKind.PROXY_CYCLE, cycle, outcome=self.fallback)
                    break
                on_path[node] = len(path)
                path.append(node)
                node = holder_of[node]
            done.update(path)
        for i in chained:
            key = keys[i]
            if key in in_cycle:
                self.fall_back(i, Reason.PROXY_CYCLE)
            else:
                self.fall_back(i, Reason.HOLDER_GAVE_PROXY)
                self.problems.add(ProblemKind.PROXY_CHAIN, [key, holder_of[key]],
                                  outcome=self.fallback)

    def written_columns(self, count: int) -> list[list[Vote | None]]:
        """The written votes' answers, one list per item (short rows padded with no answer,
        answers beyond the agenda ignored). ``itemgetter`` per item rather than ``zip(*rows)``:
        no iterator per row, so no garbage-collector passes over 50,000 voters."""
        # Every written status has its entry: the cast only tells mypy so.
        chosen = cast("Iterator[Entry]", compress(self.deciding, map(
            is_, self.statuses, repeat(Status.WRITTEN))))
        answers = list(map(_VOTES, chosen))
        if set(map(len, answers)) - {count}:
            padding = (None,) * count
            answers = [(row + padding)[:count] for row in answers]
        return [list(map(itemgetter(index), answers)) for index in range(count)]

    def items(self, items: tuple[AgendaItem, ...], floor_votes: tuple[FloorVote, ...],
              counts: Counts) -> tuple[ItemResult, ...]:
        """Every item's votes: written answers by column, chair proxies, the floor."""
        rules = self.rules
        columns = self.written_columns(len(items))
        floor = _latest_floor(floor_votes, len(items), self.problems)
        chair = _as(CountAs.FOR if rules.chair_votes is ChairVote.FOR else CountAs.ABSTAIN,
                    counts.to_chair)
        results: list[ItemResult] = []
        for index, (item, column) in enumerate(zip(items, columns, strict=True)):
            for_ = column.count(Vote.FOR)
            against = column.count(Vote.AGAINST)
            abstain = column.count(Vote.ABSTAIN)
            blank = column.count(Vote.BLANK)
            spoiled = column.count(Vote.SPOILED)
            missing = len(column) - for_ - against - abstain - blank - spoiled
            not_counted = missing if item.added_after_forms else 0
            blank += missing - not_counted
            if not_counted:
                self.problems.add(ProblemKind.UNANSWERED_ADDED_ITEM, item_index=index,
                                  count=not_counted)
            if spoiled:
                self.report_spoiled(index, column, spoiled)
            written = (VoteCount(for_, against, abstain) + _as(rules.blank_counts_as, blank)
                       + _as(rules.spoiled_counts_as, spoiled))
            hands = floor.get(index)
            on_floor = (VoteCount() if hands is None
                        else VoteCount(hands.for_, hands.against, hands.abstain))
            too_large = on_floor.total > counts.on_the_floor
            if too_large:
                self.problems.add(ProblemKind.FLOOR_TOO_LARGE, item_index=index,
                                  count=on_floor.total)
            votes = written + chair + on_floor
            base = _base(item.majority.base, votes, counts, not_counted)
            required = item.majority.required(base)
            results.append(ItemResult(
                index=index, item=item, votes=votes, written=written, chair=chair,
                floor=on_floor, floor_entered=hands is not None, floor_too_large=too_large,
                blank=blank, spoiled=spoiled, not_counted=not_counted, base=base,
                required=required, passed=votes.for_ >= required))
        return tuple(results)

    def report_spoiled(self, index: int, column: list[Vote | None], count: int) -> None:
        """Name the voters whose answer on item ``index`` is spoiled (found by C-level
        ``index`` scans: spoiled answers are few, columns are long)."""
        if self.written_positions is None:
            self.written_positions = list(_where(self.statuses, Status.WRITTEN))
        positions = self.written_positions
        rows: list[int] = []
        row = -1
        for _ in range(count):
            row = column.index(Vote.SPOILED, row + 1)
            rows.append(row)
        self.problems.add(ProblemKind.SPOILED_VOTES, [self.keys[positions[n]] for n in rows],
                          item_index=index, count=count,
                          counted_as=self.rules.spoiled_counts_as)


def _quorum(counts: Counts, rules: Rules) -> QuorumResult:
    quorum = rules.quorum
    in_person = counts.in_person if quorum.count_in_person else 0
    proxies = counts.proxies if quorum.count_proxies else 0
    written = counts.written if quorum.count_written else 0
    counted = in_person + proxies + written
    required = quorum.required(counts.eligible)
    return QuorumResult(
        eligible=counts.eligible, required=required, in_person=in_person, proxies=proxies,
        written=written, counted=counted, reached=counted >= required,
        margin=counted - required)


def _as(count_as: CountAs, count: int) -> VoteCount:
    if count_as is CountAs.FOR:
        return VoteCount(count, 0, 0)
    if count_as is CountAs.AGAINST:
        return VoteCount(0, count, 0)
    return VoteCount(0, 0, count)


def _latest_floor(floor_votes: tuple[FloorVote, ...], count: int,
                  problems: _Problems) -> dict[int, FloorVote]:
    """The latest show of hands per item (a recount has a higher sequence)."""
    latest: dict[int, FloorVote] = {}
    unknown: set[int] = set()
    for vote in floor_votes:
        if not 0 <= vote.item_index < count:
            unknown.add(vote.item_index)
            continue
        known = latest.get(vote.item_index)
        order = (vote.sequence, vote.for_, vote.against, vote.abstain)
        if known is None or order > (known.sequence, known.for_, known.against, known.abstain):
            latest[vote.item_index] = vote
    for index in sorted(unknown):
        problems.add(ProblemKind.FLOOR_UNKNOWN_ITEM, item_index=index)
    return latest


def _base(base: Base, votes: VoteCount, counts: Counts, not_counted: int) -> int:
    if base is Base.CAST:
        return votes.for_ + votes.against
    if base is Base.PRESENT:
        return counts.present - not_counted
    return counts.eligible


def _sorted_problems(found: list[Problem], position: Mapping[str, int]) -> tuple[Problem, ...]:
    """Warnings first, then by kind, item and the voter list's order: the same problems in
    the same order whatever order the entries came in."""
    if not found:
        return ()
    unknown = len(position)

    def order(problem: Problem) -> tuple[Any, ...]:
        return (problem.severity is not Severity.WARNING, _PROBLEM_ORDER[problem.kind],
                -1 if problem.item_index is None else problem.item_index,
                tuple(position.get(key, unknown) for key in problem.keys), problem.keys,
                problem.sequences)

    return tuple(sorted(found, key=order))
