"""Figure ``meeting_tally_50k``: seconds to tally a general meeting of 50,000 voters with 10
agenda items, so the tally can refresh on every entry. The issue asks for at most 3× the
floor and under 0.5 s.

The meeting is generated (fixed seed): 15 % check in at the door, 25 % give a proxy (most
blank, the rest to someone present, a few to someone absent, a cap of 5 per holder), 35 %
send a written vote (with some blank, spoiled and missing answers), 10 % are absent, the
rest do not reply; 3 % of voters have a second entry (a correction or the same form twice)
and some entries are cancelled; the floor has a show of hands per item.

Ours: :func:`desktop.domain.meeting.tally` over the voters, all entries and the floor votes,
which are built before the clock starts (the store hands them over as values).
Floor: one SQL ``GROUP BY`` in an in-memory SQLite table holding the latest entry per voter
and its answer per item (built before the clock starts): per kind, the count and the number
of each answer on each item — the bare count with none of the rules.

Both sides run alternately in one fresh child process; the medians are reported.

    python -m tests.bench.meeting_tally            # the figure
    python -m tests.bench.meeting_tally --profile  # cProfile of one tally
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.bench.common import (
    ChildFailed,
    Figure,
    alternate,
    child_result,
    figure_main,
    profile_lines,
    run_child,
)

if TYPE_CHECKING:
    from desktop.domain.meeting import Entry, FloorVote, Rules, Voter
    from desktop.domain.meeting.tally import AgendaItem

NAME = "meeting_tally_50k"
MODULE = "meeting_tally"
VOTERS = 50_000
ITEMS = 10
REPEATS = 9  # per side, alternating; the median is reported
SEED = 20250518
PROFILE_TOP = 30


class Meeting:
    """The generated meeting, as the store would hand it to the tally."""

    def __init__(self) -> None:
        from desktop.domain.meeting import (
            MAJORITY_OF_PRESENT,
            TWO_THIRDS_OF_PRESENT,
            AgendaItem,
            Entry,
            EntryKind,
            FloorVote,
            Rules,
            Source,
            Vote,
            Voter,
        )

        rng = random.Random(SEED)
        self.voters: list[Voter] = [
            Voter(f"h{n:05d}", f"{n:05d}", f"世帯{n}", f"{n // 40 + 1}班")
            for n in range(1, VOTERS + 1)]
        self.items: list[AgendaItem] = [
            AgendaItem(f"第{n + 1}号議案",
                       TWO_THIRDS_OF_PRESENT if n == ITEMS - 1 else MAJORITY_OF_PRESENT)
            for n in range(ITEMS)]
        self.rules: Rules = Rules(proxy_cap=5)
        start = datetime(2025, 5, 1, 9, 0)
        answers = (Vote.FOR, Vote.AGAINST, Vote.ABSTAIN, Vote.BLANK, Vote.SPOILED, None)
        weights = (70, 15, 8, 4, 2, 1)
        entries: list[Entry] = []
        keys = [voter.key for voter in self.voters]
        kinds = rng.choices(
            (EntryKind.ATTEND, EntryKind.PROXY, EntryKind.WRITTEN, EntryKind.ABSENT, None),
            weights=(15, 25, 35, 10, 15), k=VOTERS)
        attending = [key for key, kind in zip(keys, kinds, strict=True)
                     if kind is EntryKind.ATTEND]

        def entry(key: str, kind: EntryKind) -> Entry:
            sequence = len(entries) + 1
            at = start + timedelta(seconds=sequence)
            if kind is EntryKind.PROXY:
                roll = rng.random()
                holder = (None if roll < 0.6 else rng.choice(attending) if roll < 0.97
                          else rng.choice(keys))
                return Entry(key, kind, sequence, at, "受付", holder_key=holder)
            if kind is EntryKind.WRITTEN:
                votes = tuple(rng.choices(answers, weights=weights, k=ITEMS))
                return Entry(key, kind, sequence, at, "受付", votes=votes)
            source = Source.DOOR if kind is EntryKind.ATTEND else Source.FORM
            return Entry(key, kind, sequence, at, "受付", source=source)

        for key, kind in zip(keys, kinds, strict=True):
            if kind is not None:
                entries.append(entry(key, kind))
        for first in rng.sample(entries, k=VOTERS * 3 // 100):
            if rng.random() < 0.2:
                entries.append(Entry(first.voter_key, EntryKind.CANCEL, len(entries) + 1,
                                     start + timedelta(hours=1), "受付",
                                     cancels=first.sequence))
            else:
                again = first.kind if rng.random() < 0.5 else EntryKind.WRITTEN
                entries.append(entry(first.voter_key, again))
        rng.shuffle(entries)
        self.entries: list[Entry] = entries
        floor_hands = sum(kind is EntryKind.ATTEND for kind in kinds) * 2
        self.floor: list[FloorVote] = [
            FloorVote(n, floor_hands * 8 // 10, floor_hands // 10, floor_hands // 20)
            for n in range(ITEMS)]

    def tally(self) -> Any:
        """Our side: the whole tally."""
        from desktop.domain.meeting import tally

        return tally(voters=self.voters, entries=self.entries, items=self.items,
                     rules=self.rules, floor_votes=self.floor)

    def floor_table(self) -> sqlite3.Connection:
        """The floor's table: the latest entry per voter (by time, then number) with its
        answer per item, in memory."""
        latest: dict[str, Entry] = {}
        for entry in self.entries:
            known = latest.get(entry.voter_key)
            if known is None or (entry.entered_at, entry.sequence) > (known.entered_at,
                                                                     known.sequence):
                latest[entry.voter_key] = entry
        columns = ", ".join(f"v{n} INTEGER" for n in range(ITEMS))
        db = sqlite3.connect(":memory:")
        db.execute(f"CREATE TABLE latest (voter_key TEXT PRIMARY KEY, kind TEXT, "
                   f"holder_key TEXT, {columns})")
        rows = [(e.voter_key, str(e.kind), e.holder_key,
                 *(int(v) if v is not None else None
                   for v in (e.votes or (None,) * ITEMS)))
                for e in latest.values()]
        db.executemany(f"INSERT INTO latest VALUES ({', '.join('?' * (3 + ITEMS))})", rows)
        db.commit()
        return db


FLOOR_SQL = "SELECT kind, COUNT(*), " + ", ".join(
    f"SUM(v{n} = {answer})" for n in range(ITEMS) for answer in range(1, 6)
) + " FROM latest GROUP BY kind"


def measure() -> dict[str, Any]:
    """Build the meeting and the floor's table, then time both sides alternately."""
    built = time.perf_counter()
    meeting = Meeting()
    db = meeting.floor_table()
    setup = time.perf_counter() - built
    result = meeting.tally()  # once before timing: imports and a sanity check

    def ours() -> float:
        began = time.perf_counter()
        meeting.tally()
        return time.perf_counter() - began

    def floor() -> float:
        began = time.perf_counter()
        db.execute(FLOOR_SQL).fetchall()
        return time.perf_counter() - began

    value, baseline = alternate(ours, floor, REPEATS)
    return {"seconds": value, "floor": baseline, "setup": setup,
            "entries": len(meeting.entries), "present": result.counts.present,
            "problems": len(result.problems), "quorum": result.quorum.reached}


def profile() -> dict[str, Any]:
    """One tally under cProfile."""
    import cProfile

    meeting = Meeting()
    meeting.tally()
    profiler = cProfile.Profile()
    profiler.enable()
    began = time.perf_counter()
    meeting.tally()
    seconds = time.perf_counter() - began
    profiler.disable()
    return {"seconds": seconds, "profile": profile_lines(profiler, count=PROFILE_TOP,
                                                         by_own_time=True)}


def child_main(argv: Sequence[str]) -> int:
    """Run in the fresh child: measure (or profile) and print the result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("both",))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    child_result(profile() if args.profile else measure())


def figure() -> Figure:
    """Measure the figure in one child (both sides alternating inside it)."""
    try:
        result = run_child(MODULE, ["both"])
    except ChildFailed as error:
        return Figure(NAME, "s", None, None, error=str(error))
    print(f"bench: {NAME}: {result['entries']} entries, {result['present']} present, "
          f"{result['problems']} problems; data built in {result['setup']:.1f} s",
          file=sys.stderr)
    return Figure(NAME, "s", result["seconds"], result["floor"])


def print_profile() -> None:
    """Profile one tally in a child; print the top entries by own time."""
    try:
        result = run_child(MODULE, ["both", "--profile"])
    except ChildFailed as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return
    print(f"# one tally under cProfile: {result['seconds']:.3f} s including the profiler")
    print("\n".join(result["profile"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``--child both`` in a child; ``--profile`` for the profile; else the figure."""
    return figure_main(argv, figure, child_main, {"--profile": print_profile})


if __name__ == "__main__":
    sys.exit(main())
