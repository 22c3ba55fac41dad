"""The purge of withdrawn households after the retention period the association sets.

A household that left (退会) is kept ``retention_months`` months after its ``left_on`` and
is then due for deletion. :func:`purge_preview` lists the households due with what goes with
each; :func:`purge` deletes the ones the officer confirmed, in the caller's transaction.

What goes: the household, its members and their role history, its answers to circulars, its
place on circulars' recipient lists, its reads and safety answers (the existing
:func:`~desktop.domain.households.purge_household` and the tables' ON DELETE CASCADE). What
stays, without the personal values: a past general meeting's voter list keeps the vote (so
its results stand) but the name is replaced; the audit trail keeps that something changed
but its old and new values are blanked (``audit.redact_household``), and one record says the
household was purged.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from desktop.domain import audit, households
from desktop.domain.errors import ConflictError, ValidationError
from desktop.domain.models import (
    Association,
    AuditRecord,
    CircularRead,
    CircularRecipient,
    Household,
    MeetingVoter,
    Member,
    Reply,
    RoleAssignment,
    SafetyAnswer,
)
from desktop.i18n import _

REMOVED_NAME = "（削除済み）"  # what a purged voter's name becomes on a past meeting's list
_CHUNK = 500  # ids per IN (...), well under SQLite's limit on parameters


@dataclass(frozen=True, slots=True)
class PurgeCandidate:
    """A withdrawn household past its retention period, and what its purge removes."""

    household_id: uuid.UUID
    number: str
    name: str
    left_on: date
    due_on: date  # left_on + the retention period
    members: int
    role_assignments: int
    replies: int
    circulars_received: int
    reads: int
    safety_answers: int
    meeting_voters: int  # places on past meetings' voter lists whose name is removed
    audit_records: int  # history records whose values are blanked


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, on the month's last day when it is shorter
    (31 January + 1 month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _retention(session: Session) -> int | None:
    association = session.exec(select(Association)).first()
    return None if association is None else association.retention_months


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _counts(session: Session, column: Any, ids: Sequence[uuid.UUID],
            *joins: Any) -> dict[uuid.UUID, int]:
    """How many rows of ``column``'s table belong to each household of ``ids``."""
    found: dict[uuid.UUID, int] = {}
    for chunk in _chunks(ids):
        query = select(column, func.count()).where(col(column).in_(chunk))
        for join in joins:
            query = query.join(*join)
        found.update(session.exec(query.group_by(column)).all())
    return found


def _due(session: Session, *, today: date) -> list[Household]:
    months = _retention(session)
    if months is None:
        return []
    withdrawn = session.exec(select(Household).where(col(Household.left_on).is_not(None))
                             .order_by(col(Household.left_on), col(Household.number))).all()
    return [household for household in withdrawn
            if household.left_on is not None and add_months(household.left_on, months) <= today]


def purge_preview(session: Session, *, today: date) -> list[PurgeCandidate]:
    """The withdrawn households whose retention period has ended by ``today``, oldest first,
    with what their purge removes. Empty when the association keeps withdrawn households
    (no retention period set)."""
    months = _retention(session)
    due = _due(session, today=today)
    if months is None or not due:
        return []
    ids = [household.id for household in due]
    members = _counts(session, Member.household_id, ids)
    roles = _counts(session, Member.household_id, ids,
                    (RoleAssignment, col(RoleAssignment.member_id) == col(Member.id)))
    replies = _counts(session, Reply.household_id, ids)
    received = _counts(session, CircularRecipient.household_id, ids)
    reads = _counts(session, CircularRead.household_id, ids)
    safety = _counts(session, SafetyAnswer.household_id, ids)
    voters = _counts(session, MeetingVoter.household_id, ids)
    records = _counts(session, AuditRecord.household_id, ids)
    return [
        PurgeCandidate(
            household_id=household.id, number=household.number,
            name=household.display_name, left_on=household.left_on,
            due_on=add_months(household.left_on, months),
            members=members.get(household.id, 0), role_assignments=roles.get(household.id, 0),
            replies=replies.get(household.id, 0), circulars_received=received.get(household.id, 0),
            reads=reads.get(household.id, 0), safety_answers=safety.get(household.id, 0),
            meeting_voters=voters.get(household.id, 0),
            audit_records=records.get(household.id, 0))
        for household in due if household.left_on is not None
    ]


def purge(session: Session, ids: Sequence[uuid.UUID], *, today: date,
          at: datetime | None = None) -> int:
    """Delete the households ``ids`` (each must be due by ``today``) for good, in the
    caller's transaction; returns how many. A household that is no longer due (re-admitted,
    or the retention period changed meanwhile) refuses the whole purge, naming it."""
    if _retention(session) is None:
        raise ValidationError(_("The association keeps withdrawn households (no retention "
                                "period is set), so nothing is purged."))
    due = {household.id: household for household in _due(session, today=today)}
    for household_id in ids:
        if household_id not in due:
            household = session.get(Household, household_id)
            name = household.display_name if household is not None else str(household_id)
            raise ConflictError(_("{name} is not due for deletion any more (re-admitted, "
                                  "already deleted, or the retention period changed). Look at "
                                  "the list again.").format(name=name))
    moment = at or datetime.now(UTC)
    for household_id in dict.fromkeys(ids):
        household = due[household_id]
        number = household.number
        # The deletions themselves are not recorded value by value: that would copy the
        # personal data into the trail the purge is meant to clear.
        with audit.paused(session):
            session.execute(update(MeetingVoter)
                            .where(col(MeetingVoter.household_id) == household_id)
                            .values(name=REMOVED_NAME))
            households.purge_household(session, household_id=household_id)
        session.flush()
        audit.redact_household(session, household_id, at=moment)
        audit.record(session, action="delete", entity="household", entity_id=str(household_id),
                     household_id=household_id,
                     summary=_("Household {number} deleted after the retention period")
                     .format(number=number))
    return len(dict.fromkeys(ids))
