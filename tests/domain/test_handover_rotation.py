"""The 班長 rotation as a table: a route of households (letters), who holds it now, who held it
when, and who is exempt → who is proposed and why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from desktop.domain.handover_rotation import (
    RotationHousehold,
    RotationReason,
    next_holder,
)

NEW_YEAR = 2027
IDS = {letter: uuid.UUID(int=index + 1) for index, letter in enumerate("ABCDEFGH")}
MEMBERS = {letter: uuid.UUID(int=100 + index) for index, letter in enumerate("ABCDEFGH")}


def route(letters: str, *, exempt: str = "", nobody: str = "") -> list[RotationHousehold]:
    """``letters`` in circulation order; ``exempt`` 班長免除; ``nobody`` without members."""
    return [RotationHousehold(IDS[letter], letter in exempt,
                              None if letter in nobody else MEMBERS[letter])
            for letter in letters]


def letter_of(household_id: uuid.UUID | None) -> str | None:
    return next((letter for letter, value in IDS.items() if value == household_id), None)


@dataclass(frozen=True)
class Case:
    """A route (letters in circulation order), who holds the role now, who held it when,
    who is exempt, without members, or taken; how many years count as recent → who is
    proposed, why, and how many were passed over."""

    letters: str
    current: str
    held: dict[str, int]
    exempt: str
    nobody: str
    taken: str
    years: int
    proposed: str | None
    reason: RotationReason
    skipped_recent: int
    skipped_exempt: int


CASES = [
    pytest.param(Case("ABCDE", "B", {"B": 2026}, "", "", "", 2, "C", RotationReason.NEXT, 0, 0),
                 id="the next after the current holder"),
    pytest.param(Case("ABCDE", "E", {"E": 2026}, "", "", "", 2, "A", RotationReason.NEXT, 0, 0),
                 id="wraps round at the end of the route"),
    pytest.param(Case("ABCDE", "", {}, "", "", "", 2, "A", RotationReason.FIRST, 0, 0),
                 id="no holder on record: the first household"),
    pytest.param(Case("ABCDE", "B", {"B": 2026}, "CD", "", "", 2, "E", RotationReason.NEXT, 0, 2),
                 id="exempt households are skipped"),
    pytest.param(Case("ABCDE", "B", {"B": 2026}, "", "C", "", 2, "D", RotationReason.NEXT, 0, 1),
                 id="a household without members is skipped"),
    pytest.param(Case("ABCDE", "B", {"B": 2026, "C": 2025}, "", "", "", 2, "D",
                 RotationReason.NEXT, 1, 0),
                 id="held it last year but one: skipped"),
    pytest.param(Case("ABCDE", "B", {"B": 2026, "C": 2024}, "", "", "", 2, "C",
                 RotationReason.NEXT, 0, 0),
                 id="held it three years ago: its turn again"),
    pytest.param(Case("ABCDE", "B", {"B": 2026, "C": 2024}, "", "", "", 3, "D",
                 RotationReason.NEXT, 1, 0),
                 id="a longer memory skips it"),
    pytest.param(Case("ABC", "B", {"A": 2025, "B": 2026, "C": 2026}, "", "", "", 0, "C",
                 RotationReason.NEXT, 0, 0),
                 id="no memory: strictly the next"),
    pytest.param(Case("ABC", "C", {"A": 2025, "B": 2024, "C": 2026}, "", "", "", 5, "B",
                 RotationReason.OLDEST_TURN, 2, 0),
                 id="everyone held it recently: the longest ago"),
    pytest.param(Case("AB", "A", {"A": 2026}, "B", "", "", 2, "A", RotationReason.OLDEST_TURN,
                 0, 1),
                 id="the only household that can hold it keeps it"),
    pytest.param(Case("ABC", "B", {"B": 2026}, "ABC", "", "", 2, None, RotationReason.ALL_EXEMPT,
                 0, 3),
                 id="every household exempt: nobody, and why"),
    pytest.param(Case("AB", "", {}, "A", "B", "", 2, None, RotationReason.ALL_EXEMPT, 0, 2),
                 id="exempt or without members: nobody"),
    pytest.param(Case("", "", {}, "", "", "", 2, None, RotationReason.EMPTY, 0, 0),
                 id="an empty 班"),
    pytest.param(Case("ABCDE", "B", {"B": 2026}, "", "", "C", 2, "D", RotationReason.NEXT, 0, 1),
                 id="taken for another role of the 班: skipped"),
    pytest.param(Case("ABCDE", "BD", {"B": 2026, "D": 2026}, "", "", "", 2, "E",
                 RotationReason.NEXT, 0, 0),
                 id="two holders: after the later on the route"),
    pytest.param(Case("ABCDE", "Z", {}, "", "", "", 2, "A", RotationReason.FIRST, 0, 0),
                 id="the holder's household left the 班: from the top"),
    pytest.param(Case("ABCDE", "B", {"B": 2026, "C": 2027}, "", "", "", 2, "C",
                 RotationReason.NEXT, 0, 0),
                 id="a later year on record is not 'recent'"),
]


@pytest.mark.parametrize("case", CASES)
def test_rotation(case: Case) -> None:
    outcome = next_holder(
        route(case.letters, exempt=case.exempt, nobody=case.nobody),
        current={IDS.get(letter, uuid.UUID(int=999)) for letter in case.current},
        last_held={IDS[letter]: year for letter, year in case.held.items()},
        new_year=NEW_YEAR, recent_years=case.years,
        taken={IDS[letter] for letter in case.taken})
    assert (letter_of(outcome.household_id), outcome.reason) == (case.proposed, case.reason)
    assert outcome.member_id == (MEMBERS[case.proposed] if case.proposed else None)
    assert (outcome.skipped_recent, outcome.skipped_exempt) == (case.skipped_recent,
                                                                case.skipped_exempt)


def test_a_negative_memory_is_a_bug() -> None:
    with pytest.raises(ValueError, match="negative"):
        next_holder(route("AB"), new_year=NEW_YEAR, recent_years=-1)
