"""The annual officer handover (役員交代): plan the new 年度's officers, review the plan, and
apply it in one transaction, once per year.

:func:`plan_handover` proposes a holder for every role slot: association roles carry over
from the outgoing year (or keep what is already set for the new year on the role board);
per-班 roles (班長) follow the 班's rotation (:mod:`desktop.domain.handover_rotation`). The
officer changes any slot (:meth:`HandoverChoices.with_slot`), and
:func:`desktop.domain.handover_review.review` lists what deserves a second look — warnings,
never a block. :func:`apply_handover`
writes the new year's holders and the :class:`~desktop.domain.models.Handover` record in the
caller's one transaction, and refuses a second handover into the same year.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from desktop.domain.association import get_association
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.handover_items import (
    MemoInfo,
    OpenCircular,
    aware,
    list_memos,
    open_circulars,
)
from desktop.domain.handover_rotation import (
    RotationHousehold,
    RotationOutcome,
    RotationReason,
    next_holder,
)
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    GroupKind,
    Handover,
    Household,
    Member,
    Role,
    RoleAssignment,
    RoleScope,
    RosterGroup,
    SyncState,
)
from desktop.domain.roles import (
    Holder,
    RoleSlot,
    role_board,
)
from desktop.domain.wareki import association_year_bounds, format_nendo, format_wareki
from desktop.i18n import _

__all__ = [
    "DEFAULT_RECENT_YEARS",
    "HandoverAlreadyDone",
    "HandoverChoices",
    "HandoverPlan",
    "HandoverRecord",
    "HouseholdFlags",
    "OpenItems",
    "Person",
    "PlannedSlot",
    "RelayInfo",
    "SlotChoice",
    "SlotKey",
    "SlotSource",
    "apply_handover",
    "get_handover",
    "household_flags",
    "list_handovers",
    "outgoing_year",
    "plan_handover",
    "relay_pairing",
    "slot_key",
]

DEFAULT_RECENT_YEARS = 2  # a household that held the 班 role in the last two years is skipped

SlotKey = tuple[uuid.UUID, uuid.UUID | None]  # (role, 班 for per-班 roles)


class HandoverAlreadyDone(ConflictError):
    """The handover into this 年度 has been done already."""


class SlotSource(enum.StrEnum):
    """Where a slot's proposed holders come from."""

    ALREADY = "already"  # set for the new year on the role board before the wizard
    CARRIED = "carried"  # the outgoing year's holders, kept
    ROTATION = "rotation"  # the 班's rotation
    VACANT = "vacant"  # nobody to propose


@dataclass(frozen=True, slots=True)
class Person:
    """A member who holds (or will hold) a role."""

    member_id: uuid.UUID
    name: str
    household_id: uuid.UUID
    household_number: str


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    """One role (for one 班 if per 班): who held it, who is proposed, and why."""

    role_id: uuid.UUID
    role_name: str
    scope: RoleScope
    group_id: uuid.UUID | None
    group_name: str | None
    required: bool
    max_holders: int | None
    previous: tuple[Person, ...]
    proposed: tuple[Person, ...]
    source: SlotSource
    note: str  # why this proposal, in the officer's words
    rotation: RotationReason | None = None  # per-班 roles proposed by the rotation

    @property
    def key(self) -> SlotKey:
        return (self.role_id, self.group_id)

    @property
    def label(self) -> str:
        """「班長（3班）」 or 「会長」."""
        return f"{self.role_name}（{self.group_name}）" if self.group_name else self.role_name


@dataclass(frozen=True, slots=True)
class OpenItems:
    """What the successor takes on besides the roles."""

    circulars: tuple[OpenCircular, ...]
    memos: tuple[MemoInfo, ...]


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    """A handover that has been done."""

    year: int
    from_year: int
    starts_on: date
    ends_on: date
    done_at: datetime  # aware
    done_by: str


@dataclass(frozen=True, slots=True)
class SlotChoice:
    """Who will hold one slot in the new year (no one: vacant)."""

    role_id: uuid.UUID
    group_id: uuid.UUID | None
    holders: tuple[Person, ...]

    @property
    def key(self) -> SlotKey:
        return (self.role_id, self.group_id)


@dataclass(frozen=True, slots=True)
class HandoverChoices:
    """What the officer decided: the year, its dates and every slot's holders."""

    new_year: int
    from_year: int
    starts_on: date
    ends_on: date
    slots: tuple[SlotChoice, ...]
    _index: dict[SlotKey, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A 連合自治会 has thousands of 班: slots are found by key, not by a search.
        object.__setattr__(self, "_index", {c.key: i for i, c in enumerate(self.slots)})

    def slot(self, key: SlotKey) -> SlotChoice | None:
        """The choice for one slot."""
        index = self._index.get(key)
        return self.slots[index] if index is not None else None

    def with_slot(self, key: SlotKey, holders: Sequence[Person]) -> HandoverChoices:
        """These choices with one slot's holders replaced."""
        index = self._index[key]
        slots = list(self.slots)
        slots[index] = SlotChoice(key[0], key[1], tuple(holders))
        return replace(self, slots=tuple(slots))


@dataclass(frozen=True, slots=True)
class HandoverPlan:
    """The proposal for the handover into ``new_year``."""

    new_year: int
    from_year: int
    start_month: int
    starts_on: date
    ends_on: date
    recent_years: int
    slots: tuple[PlannedSlot, ...]
    open_items: OpenItems
    done: HandoverRecord | None  # the handover into new_year, if it has been done already
    _index: dict[SlotKey, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {s.key: i for i, s in enumerate(self.slots)})

    def slot(self, key: SlotKey) -> PlannedSlot | None:
        """The planned slot with this key."""
        index = self._index.get(key)
        return self.slots[index] if index is not None else None

    def choices(self) -> HandoverChoices:
        """The plan taken as it is."""
        return HandoverChoices(
            self.new_year, self.from_year, self.starts_on, self.ends_on,
            tuple(SlotChoice(slot.role_id, slot.group_id, slot.proposed)
                  for slot in self.slots))


@dataclass(frozen=True, slots=True)
class RelayInfo:
    """The relay this file syncs with (for the last page of the wizard)."""

    relay_url: str
    association_id: str
    device_name: str


# ---------------------------------------------------------------- reading


def _record(handover: Handover) -> HandoverRecord:
    return HandoverRecord(handover.year, handover.from_year, handover.starts_on,
                          handover.ends_on, aware(handover.done_at), handover.done_by)


def get_handover(session: Session, *, year: int) -> HandoverRecord | None:
    """The handover into ``year``, if it has been done."""
    handover = session.get(Handover, year)
    return _record(handover) if handover is not None else None


def list_handovers(session: Session) -> list[HandoverRecord]:
    """Every handover done, newest first."""
    return [_record(handover) for handover in session.exec(
        select(Handover).order_by(col(Handover.year).desc())).all()]


def relay_pairing(session: Session) -> RelayInfo | None:
    """The relay this file is paired with, or None."""
    state = session.get(SyncState, 1)
    if state is None:
        return None
    return RelayInfo(state.relay_url, state.association_id, state.device_name)


def outgoing_year(session: Session, *, new_year: int) -> int:
    """The year handed over from: the latest before ``new_year`` with holders on record
    (an association may have skipped a year in Kairan), else the year before."""
    latest = session.exec(
        select(func.max(RoleAssignment.year)).where(RoleAssignment.year < new_year)
    ).one()
    return int(latest) if latest is not None else new_year - 1


# ---------------------------------------------------------------- planning


_CHUNK = 500  # ids per query


@dataclass(frozen=True, slots=True)
class HouseholdFlags:
    """What the plan and the review need of a role holder's household."""

    withdrawn: bool
    exempt_leader: bool
    exempt_duties: bool


def household_flags(session: Session, household_ids: Iterable[uuid.UUID]
                    ) -> dict[uuid.UUID, HouseholdFlags]:
    """The households of role holders, by id."""
    wanted = list(household_ids)
    homes: dict[uuid.UUID, HouseholdFlags] = {}
    for start in range(0, len(wanted), _CHUNK):  # SQLite limits the parameters of a query
        query = sa_select(col(Household.id), col(Household.left_on),
                          col(Household.exempt_han_leader), col(Household.exempt_duties)
                          ).where(col(Household.id).in_(wanted[start:start + _CHUNK]))
        for household_id, left_on, leader, duties in session.execute(query).all():
            homes[household_id] = HouseholdFlags(left_on is not None, bool(leader), bool(duties))
    return homes


# Plain SQL and hex ids: the route of every 班 of a 連合自治会 is tens of thousands of rows,
# and making a UUID of each id would cost more than the query.
_ROUTES = """
SELECT h.id, h.number, h.group_id, h.exempt_han_leader,
       (SELECT m.id FROM member AS m WHERE m.household_id = h.id
        ORDER BY m.is_head DESC, m.position, m.id LIMIT 1)
FROM household AS h
WHERE h.left_on IS NULL AND h.group_id IS NOT NULL
ORDER BY h.group_id, h.circulation_order, h.number
"""
_LAST_HELD = """
SELECT m.household_id, max(a.year) FROM role_assignment AS a
JOIN member AS m ON m.id = a.member_id
WHERE a.role_id = ? AND a.year < ?
GROUP BY m.household_id
"""


@dataclass(frozen=True, slots=True)
class _Stop:
    """A current household on a 班's route (ids as stored: 32 hex digits)."""

    id: str
    number: str
    exempt: bool
    head: str | None  # the member who would hold the role; None: no member


def _routes(session: Session) -> dict[str, list[_Stop]]:
    """Every 班's current households in circulation order, by the 班's hex id."""
    routes: dict[str, list[_Stop]] = {}
    for household, number, group, exempt, head in session.connection().exec_driver_sql(
            _ROUTES):
        routes.setdefault(group, []).append(_Stop(household, number, bool(exempt), head))
    return routes


def _last_held(session: Session, role_id: uuid.UUID, new_year: int) -> dict[str, int]:
    """The latest year before ``new_year`` each household's members held the role."""
    rows = session.connection().exec_driver_sql(_LAST_HELD, (role_id.hex, new_year))
    return {household: int(year) for household, year in rows}


def _people(holders: Iterable[Holder]) -> tuple[Person, ...]:
    return tuple(Person(h.member_id, h.member_name, h.household_id, h.household_number)
                 for h in holders)


def _carry_over(previous: tuple[Person, ...], homes: dict[uuid.UUID, HouseholdFlags],
                from_label: str) -> tuple[tuple[Person, ...], SlotSource, str]:
    kept = tuple(person for person in previous
                 if not homes[person.household_id].withdrawn)
    gone = [person.name for person in previous if person not in kept]
    notes = []
    if kept:
        notes.append(_("Carried over from {year}.").format(year=from_label))
    elif not previous:
        notes.append(_("Nobody held it in {year}.").format(year=from_label))
    if gone:
        notes.append(_("{names}: household withdrawn, not carried over.").format(
            names="、".join(gone)))
    return kept, SlotSource.CARRIED if kept else SlotSource.VACANT, " ".join(notes)


def _rotation_note(outcome: RotationOutcome[str], slot: RoleSlot, current: Sequence[Person],
                   recent_years: int) -> str:
    group = slot.group_name or ""
    reason = outcome.reason
    if reason == RotationReason.EMPTY:
        return _("{group} has no households: left vacant.").format(group=group)
    if reason == RotationReason.ALL_EXEMPT:
        return _("Every household of {group} is exempt or has no member to hold it: left "
                 "vacant. Choose a holder by hand, or let the 班 agree on one.").format(
                     group=group)
    if reason == RotationReason.OLDEST_TURN:
        return _("Every household of {group} held it within {years} years: the one whose "
                 "turn was longest ago is proposed.").format(group=group, years=recent_years)
    if reason == RotationReason.FIRST:
        note = _("No holder on record: the first household on the route.")
    else:
        note = _("Next on the route after {name}.").format(
            name="、".join(person.name for person in current))
    skipped = []
    if outcome.skipped_exempt:
        skipped.append(_("{count} exempt skipped").format(count=outcome.skipped_exempt))
    if outcome.skipped_recent:
        skipped.append(_("{count} recent holders skipped").format(count=outcome.skipped_recent))
    return note + (f"（{'、'.join(skipped)}）" if skipped else "")


class _Planner:
    """Proposes the holders of each slot of the new year's role board, in board order."""

    def __init__(self, session: Session, *, new_year: int, from_year: int,
                 start_month: int, recent_years: int) -> None:
        self.session = session
        self.new_year = new_year
        self.recent_years = recent_years
        self.from_label = format_nendo(from_year, start_month)
        self.new_label = format_nendo(new_year, start_month)
        self.before = {slot_key(slot): slot for slot in role_board(session, year=from_year)}
        self.now = role_board(session, year=new_year)
        self.routes = _routes(session)
        self.homes = household_flags(session, {holder.household_id
                                      for slot in [*self.before.values(), *self.now]
                                      for holder in slot.holders})
        self.history: dict[uuid.UUID, dict[str, int]] = {}
        self.taken: dict[str, set[str]] = {}  # 班 → households proposed there (hex ids)

    def plan(self) -> list[PlannedSlot]:
        planned = [self._slot(slot) for slot in self.now]
        heads = [person.member_id for slot in planned if slot.source == SlotSource.ROTATION
                 for person in slot.proposed]
        names: dict[uuid.UUID, str] = {}
        for start in range(0, len(heads), _CHUNK):
            names.update(self.session.execute(
                sa_select(col(Member.id), col(Member.name))
                .where(col(Member.id).in_(heads[start:start + _CHUNK]))).all())
        return [replace(slot, proposed=tuple(replace(person, name=names[person.member_id])
                                             for person in slot.proposed))
                if slot.source == SlotSource.ROTATION else slot for slot in planned]

    def _slot(self, slot: RoleSlot) -> PlannedSlot:
        previous_slot = self.before.get(slot_key(slot))
        previous = _people(previous_slot.holders) if previous_slot else ()
        rotation: RotationReason | None = None
        if slot.holders:
            proposed, source = _people(slot.holders), SlotSource.ALREADY
            note = _("Already set on the role board for {year}.").format(year=self.new_label)
            if slot.group_id is not None:
                self.taken.setdefault(slot.group_id.hex, set()).update(
                    person.household_id.hex for person in proposed)
        elif slot.group_id is None:
            proposed, source, note = _carry_over(previous, self.homes, self.from_label)
        else:
            proposed, source, note, rotation = self._rotate(slot, slot.group_id, previous)
        return PlannedSlot(
            slot.role_id, slot.role_name,
            RoleScope.GROUP if slot.group_id else RoleScope.ASSOCIATION, slot.group_id,
            slot.group_name, slot.required, slot.max_holders, previous, proposed, source,
            note, rotation)

    def _rotate(self, slot: RoleSlot, group_id: uuid.UUID, previous: tuple[Person, ...]
                ) -> tuple[tuple[Person, ...], SlotSource, str, RotationReason]:
        if slot.role_id not in self.history:
            self.history[slot.role_id] = _last_held(self.session, slot.role_id, self.new_year)
        stops = self.routes.get(group_id.hex, [])
        taken = self.taken.setdefault(group_id.hex, set())
        outcome = next_holder(
            [RotationHousehold(stop.id, stop.exempt, stop.head) for stop in stops],
            current={person.household_id.hex for person in previous},
            last_held=self.history[slot.role_id], new_year=self.new_year,
            recent_years=self.recent_years, taken=taken)
        note = _rotation_note(outcome, slot, previous, self.recent_years)
        if outcome.household_id is None or outcome.member_id is None:
            return (), SlotSource.VACANT, note, outcome.reason
        stop = next(stop for stop in stops if stop.id == outcome.household_id)
        taken.add(stop.id)
        # The name is read afterwards, for all proposed members at once.
        person = Person(uuid.UUID(hex=outcome.member_id), "", uuid.UUID(hex=stop.id),
                        stop.number)
        return (person,), SlotSource.ROTATION, note, outcome.reason


def plan_handover(session: Session, *, new_year: int,
                  recent_years: int = DEFAULT_RECENT_YEARS) -> HandoverPlan:
    """The proposal for the handover into ``new_year`` (see the module's description).

    ``recent_years``: a household whose members held a per-班 role in that many years before
    ``new_year`` is skipped by the rotation.
    """
    if recent_years < 0:
        raise ValidationError(_("The number of years cannot be negative."),
                              field="recent_years")
    start_month = get_association(session).fiscal_year_start_month
    from_year = outgoing_year(session, new_year=new_year)
    starts_on, ends_on = association_year_bounds(new_year, start_month)
    planned = _Planner(session, new_year=new_year, from_year=from_year,
                       start_month=start_month, recent_years=recent_years).plan()
    since = association_year_bounds(from_year, start_month)[0]
    items = OpenItems(tuple(open_circulars(session, since=since)),
                      tuple(list_memos(session, year=new_year)))
    return HandoverPlan(new_year, from_year, start_month, starts_on, ends_on, recent_years,
                        tuple(planned), items, get_handover(session, year=new_year))


def slot_key(slot: RoleSlot | PlannedSlot | SlotChoice) -> SlotKey:
    """The key of a role-board slot, planned slot or choice."""
    return (slot.role_id, slot.group_id)


# ---------------------------------------------------------------- applying


def _check_choices(choices: HandoverChoices) -> None:
    if choices.starts_on > choices.ends_on:
        raise ValidationError(
            _("The new year starts on {start}, after it ends ({end}). Check the dates.")
            .format(start=format_wareki(choices.starts_on), end=format_wareki(choices.ends_on)),
            field="starts_on")
    if choices.from_year >= choices.new_year:
        raise ValidationError(
            _("The handover must go from an earlier year into a later one."),
            field="new_year")
    keys = [choice.key for choice in choices.slots]
    if len(set(keys)) != len(keys):
        raise ValidationError(_("A role appears twice in the handover. Start the wizard "
                                "again."))


def _members(session: Session, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Whether each member's household has withdrawn (members gone since are left out)."""
    found: dict[uuid.UUID, bool] = {}
    for begin in range(0, len(member_ids), _CHUNK):
        found.update((member_id, left_on is not None) for member_id, left_on in session.execute(
            sa_select(col(Member.id), col(Household.left_on))
            .join(Household, col(Household.id) == col(Member.household_id))
            .where(col(Member.id).in_(member_ids[begin:begin + _CHUNK]))).all())
    return found


def _check_slot(choice: SlotChoice, roles: dict[uuid.UUID, Role], hans: set[uuid.UUID],
                withdrawn: dict[uuid.UUID, bool]) -> None:
    """The checks of :func:`~desktop.domain.roles.assign_role`, for a whole slot at once."""
    role = roles.get(choice.role_id)
    per_han = role is not None and RoleScope(role.scope) == RoleScope.GROUP
    if role is None or per_han != (choice.group_id is not None) or (
            per_han and choice.group_id not in hans):
        raise ValidationError(_("A role or 班 of the handover no longer exists. Start the "
                                "wizard again."))
    label = role.name
    holders = list({person.member_id: person for person in choice.holders}.values())
    if role.max_holders is not None and len(holders) > role.max_holders:
        raise ValidationError(_("{role}: {count} are chosen, but only {limit} may hold it. "
                                "Leave some out.").format(role=label, count=len(holders),
                                                         limit=role.max_holders))
    for person in holders:
        if person.member_id not in withdrawn:
            raise NotFoundError(_("{name} is no longer in the roster. Choose another holder "
                                  "for {role}.").format(name=person.name, role=label))
        if withdrawn[person.member_id]:
            raise ValidationError(
                _("{name}'s household has withdrawn, so {name} cannot hold a role.").format(
                    name=person.name))


def apply_handover(session: Session, plan: HandoverChoices, *, done_by: str) -> Handover:
    """Give every slot of ``plan`` its holders in the new year and record the handover, in
    the caller's transaction (all or nothing). Slots already holding the chosen members keep
    their assignments; others are added or removed; slots not in ``plan`` are left alone.
    A second handover into the same year raises :class:`HandoverAlreadyDone`.

    The checks are those of assigning a role on the role board, made for all slots at once:
    a 連合自治会 hands over thousands of 班長 in one go.
    """
    start_month = get_association(session).fiscal_year_start_month
    done = session.get(Handover, plan.new_year)
    if done is not None:
        raise HandoverAlreadyDone(
            _("The handover into {year} was already done on {day}{by}. Change the holders on "
              "the role board instead.").format(
                year=format_nendo(plan.new_year, start_month),
                day=format_wareki(aware(done.done_at).astimezone().date()),
                by=_(" by {name}").format(name=done.done_by) if done.done_by else ""))
    _check_choices(plan)
    roles = {role.id: role for role in session.exec(select(Role)).all()}
    hans = set(session.exec(select(RosterGroup.id).where(RosterGroup.kind == GroupKind.HAN)))
    withdrawn = _members(session, list({person.member_id for choice in plan.slots
                                        for person in choice.holders}))
    for choice in plan.slots:
        _check_slot(choice, roles, hans, withdrawn)
    current: dict[SlotKey, list[RoleAssignment]] = {}
    for assignment in session.exec(
            select(RoleAssignment).where(RoleAssignment.year == plan.new_year)).all():
        current.setdefault((assignment.role_id, assignment.group_id), []).append(assignment)
    for choice in plan.slots:
        wanted = {person.member_id for person in choice.holders}
        for assignment in current.get(choice.key, []):
            if assignment.member_id not in wanted:
                session.delete(assignment)
    for choice in plan.slots:
        held = {assignment.member_id for assignment in current.get(choice.key, [])}
        for member_id in dict.fromkeys(person.member_id for person in choice.holders):
            if member_id not in held:
                session.add(RoleAssignment(id=uuid7(), role_id=choice.role_id,
                                           year=plan.new_year, member_id=member_id,
                                           group_id=choice.group_id))
    handover = Handover(year=plan.new_year, from_year=plan.from_year,
                        starts_on=plan.starts_on, ends_on=plan.ends_on,
                        done_by=done_by.strip())
    session.add(handover)
    session.flush()
    return handover
