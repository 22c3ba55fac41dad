"""The 班長 rotation (輪番): who takes a 班's role next year, as a pure rule over the 班's route.

The next household in circulation order after the current holder's, wrapping round, skipping
households marked exempt (班長免除: 高齢など), households with no member to hold it, households
already proposed for another role of the 班, and households whose members held the role in
the last ``recent_years`` years. When every household left held it recently, the one whose
turn lies furthest back is proposed instead (a small 班 must still have a 班長). When no
household can hold it at all, nobody is proposed and the reason says why.

No database here: :mod:`desktop.domain.handover` reads the route and the history and calls
:func:`next_holder`, so the rules are tested as a table.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["RotationHousehold", "RotationOutcome", "RotationReason", "next_holder"]

# Whatever identifies households and members: UUIDs, or the hex ids a big roster is read as.
K = TypeVar("K", bound=Hashable)


class RotationReason(enum.StrEnum):
    """Why the rotation proposed whom it did (or nobody)."""

    NEXT = "next"  # the next household after the current holder's
    FIRST = "first"  # no current holder in this 班: the first household of the route
    OLDEST_TURN = "oldest_turn"  # everyone held it recently: the longest ago is proposed
    ALL_EXEMPT = "all_exempt"  # every household is exempt (or has no one to hold it)
    EMPTY = "empty"  # the 班 has no household


@dataclass(frozen=True, slots=True)
class RotationHousehold(Generic[K]):
    """A household on the 班's route, in circulation order, as the rule needs it."""

    household_id: K
    exempt: bool = False  # 班長免除
    member_id: K | None = None  # who would hold the role (the head); None: no member


@dataclass(frozen=True, slots=True)
class RotationOutcome(Generic[K]):
    """The household proposed (and its member), or None with the reason."""

    household_id: K | None
    member_id: K | None
    reason: RotationReason
    skipped_recent: int = 0  # households passed over because they held it recently
    skipped_exempt: int = 0  # households passed over as exempt or without a member


def _eligible(household: RotationHousehold[K], taken: Collection[K]) -> bool:
    return (not household.exempt and household.member_id is not None
            and household.household_id not in taken)


def next_holder(
    route: Sequence[RotationHousehold[K]],
    *,
    current: Collection[K] = (),
    last_held: Mapping[K, int] | None = None,
    new_year: int,
    recent_years: int = 2,
    taken: Collection[K] = (),
) -> RotationOutcome[K]:
    """The household that takes the role in ``new_year``.

    ``route``: the 班's current households in circulation order. ``current``: the households
    holding the role in the 班 now (the turn moves on from the last of them on the route).
    ``last_held``: the latest 年度 each household held the role (in any 班). A household is
    recent when it held the role in one of the ``recent_years`` years before ``new_year``.
    ``taken``: households already proposed for another role of the 班.
    """
    if recent_years < 0:
        raise ValueError(f"recent_years must not be negative: {recent_years!r}")
    if not route:
        return RotationOutcome(None, None, RotationReason.EMPTY)
    history: Mapping[K, int] = last_held or {}
    positions = [index for index, household in enumerate(route)
                 if household.household_id in current]
    start = positions[-1] + 1 if positions else 0
    ordered = [*route[start:], *route[:start]]  # the current holder's household comes last
    eligible = [household for household in ordered if _eligible(household, taken)]
    exempt = len(ordered) - len(eligible)
    if not eligible:
        return RotationOutcome(None, None, RotationReason.ALL_EXEMPT, skipped_exempt=exempt)

    def recent(household: RotationHousehold[K]) -> bool:
        year = history.get(household.household_id)
        return year is not None and new_year - recent_years <= year < new_year

    fresh = [household for household in eligible if not recent(household)]
    if fresh:
        chosen = fresh[0]
        reason = RotationReason.NEXT if positions else RotationReason.FIRST
        passed = ordered[:ordered.index(chosen)]
        return RotationOutcome(
            chosen.household_id, chosen.member_id, reason,
            skipped_recent=sum(1 for h in passed if _eligible(h, taken) and recent(h)),
            skipped_exempt=sum(1 for h in passed if not _eligible(h, taken)))
    # min() keeps the first of equals, so ties go to the next on the route.
    chosen = min(eligible, key=lambda household: history[household.household_id])
    return RotationOutcome(chosen.household_id, chosen.member_id, RotationReason.OLDEST_TURN,
                           skipped_recent=len(eligible) - 1, skipped_exempt=exempt)
