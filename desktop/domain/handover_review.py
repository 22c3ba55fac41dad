"""What deserves a second look before the handover: a role the bylaws require left vacant, a
班 where nobody could take its turn, an exempt household chosen, and two roles one person
should not hold together (e.g. 会長 and 会計). Warnings, never a block: the officers know
their association, and a vacancy can be filled later on the role board.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlmodel import Session

from desktop.domain.handover import (
    HandoverChoices,
    HandoverPlan,
    HouseholdFlags,
    Person,
    PlannedSlot,
    household_flags,
)
from desktop.domain.handover_rotation import RotationReason
from desktop.domain.roles import conflicting_pairs
from desktop.i18n import _

__all__ = ["HandoverWarning", "WarningKind", "review"]


class WarningKind(enum.StrEnum):
    """What a warning is about."""

    REQUIRED_VACANT = "required_vacant"
    CONFLICT = "conflict"
    NO_ONE_TO_ROTATE = "no_one_to_rotate"
    EXEMPT_DUTIES = "exempt_duties"
    EXEMPT_LEADER = "exempt_leader"


@dataclass(frozen=True, slots=True)
class HandoverWarning:
    """Something to look at before handing over; never a block."""

    kind: WarningKind
    message: str
    role_id: uuid.UUID
    group_id: uuid.UUID | None


def _vacancy(slot: PlannedSlot) -> HandoverWarning | None:
    if slot.rotation in (RotationReason.ALL_EXEMPT, RotationReason.EMPTY):
        return HandoverWarning(WarningKind.NO_ONE_TO_ROTATE, slot.note, slot.role_id,
                               slot.group_id)
    if slot.required:
        return HandoverWarning(WarningKind.REQUIRED_VACANT, _(
            "{role} is required by the bylaws but left vacant. You can still hand over and "
            "fill it later on the role board.").format(role=slot.label),
            slot.role_id, slot.group_id)
    return None


def _exemption(slot: PlannedSlot, person: Person, home: HouseholdFlags) -> HandoverWarning | None:
    if slot.group_id is None and home.exempt_duties:
        return HandoverWarning(WarningKind.EXEMPT_DUTIES, _(
            "{name}'s household is marked exempt from officer duties (役員免除), but {name} is "
            "chosen for {role}.").format(name=person.name, role=slot.label),
            slot.role_id, slot.group_id)
    if slot.group_id is not None and home.exempt_leader:
        return HandoverWarning(WarningKind.EXEMPT_LEADER, _(
            "{name}'s household is marked exempt from 班長 (班長免除), but {name} is chosen "
            "for {role}.").format(name=person.name, role=slot.label),
            slot.role_id, slot.group_id)
    return None


def _conflicts(session: Session, held: dict[uuid.UUID, list[tuple[PlannedSlot, Person]]]
               ) -> list[HandoverWarning]:
    pairs = conflicting_pairs(session)
    warnings = []
    for roles in held.values():
        for index, (slot, person) in enumerate(roles):
            for other, _person in roles[index + 1:]:
                if frozenset((slot.role_id, other.role_id)) in pairs:
                    warnings.append(HandoverWarning(WarningKind.CONFLICT, _(
                        "{name} would hold both {role} and {other}, which one person should "
                        "not hold together.").format(name=person.name, role=slot.label,
                                                     other=other.label),
                        slot.role_id, slot.group_id))
    return warnings


def review(session: Session, plan: HandoverPlan, choices: HandoverChoices
           ) -> list[HandoverWarning]:
    """What deserves a second look before handing over, slot by slot in board order, then
    the roles one person should not hold together."""
    chosen = [(slot, choice) for choice in choices.slots
              if (slot := plan.slot(choice.key)) is not None]
    homes = household_flags(session, {person.household_id for _slot, choice in chosen
                                      for person in choice.holders})
    warnings: list[HandoverWarning] = []
    held: dict[uuid.UUID, list[tuple[PlannedSlot, Person]]] = {}
    for slot, choice in chosen:
        if not choice.holders and (vacancy := _vacancy(slot)) is not None:
            warnings.append(vacancy)
        for person in choice.holders:
            held.setdefault(person.member_id, []).append((slot, person))
            home = homes.get(person.household_id)
            if home is not None and (exemption := _exemption(slot, person, home)) is not None:
                warnings.append(exemption)
    return warnings + _conflicts(session, held)
