"""What an import would change, row by row, and carrying it out in one transaction.

The plan compares the file's households with the roster: new, updated (which fields),
unchanged, or in error (why); households moved between 班; active households the file no
longer lists (proposed withdrawals, never automatic deletions); 班 that do not exist yet;
possible duplicates. Nothing is written until :func:`apply_import`, which writes everything
or nothing. Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import enum
import functools
import json
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from desktop.domain import audit
from desktop.domain import groups as group_service
from desktop.domain.errors import ConflictError
from desktop.domain.gc_pause import without_gc_pauses
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    bulk_add_households,
    move_household,
    update_household,
    withdraw_household,
)
from desktop.domain.ids import uuid7
from desktop.domain.imports.model import Field
from desktop.domain.imports.records import (
    MEMBER_FIELDS,
    ImportedHousehold,
    RowProblem,
    group_key,
)
from desktop.domain.models import GroupKind, NoticeChannel, RosterGroup
from desktop.domain.text import fold_for_search
from desktop.i18n import _

Progress = Callable[[int, int], None]


class Outcome(enum.StrEnum):
    """What importing a row would do."""

    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field an update changes: its key, its title as the officer reads it, old and new."""

    key: str
    title: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """The outcome of one household of the file (several rows when it lists members)."""

    sheet: str
    rows: tuple[int, ...]
    number: str
    name: str
    outcome: Outcome
    changes: tuple[FieldChange, ...] = ()
    message: str = ""
    group: str | None = None
    household_id: uuid.UUID | None = None
    imported: ImportedHousehold | None = None


@dataclass(frozen=True, slots=True)
class Missing:
    """An active household the file does not list: proposed for withdrawal."""

    household_id: uuid.UUID
    number: str
    name: str
    group: str


@dataclass(slots=True)
class ImportPlan:
    """Everything an import would do; nothing has been written."""

    file: str
    rows: list[PlannedRow] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        """How many households of the file have this outcome."""
        return sum(row.outcome == outcome for row in self.rows)

    @property
    def errors(self) -> list[PlannedRow]:
        """The rows that cannot be imported."""
        return [row for row in self.rows if row.outcome == Outcome.ERROR]

    @property
    def moved(self) -> list[PlannedRow]:
        """Updates that move a household to another 班."""
        return [row for row in self.rows if any(c.key == "group" for c in row.changes)]

    @property
    def changes_anything(self) -> bool:
        """Whether applying would change the roster (withdrawals aside)."""
        return any(row.outcome in (Outcome.NEW, Outcome.UPDATE) for row in self.rows)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What :func:`apply_import` did."""

    added: int
    updated: int
    withdrawn: int
    groups_created: int


# ---------------------------------------------------------------- the current roster

_HOUSEHOLDS = """
SELECT h.id, h.number, h.display_name, h.furigana, h.postal_code, h.address, h.phone,
       h.channel, h.emails, h.joined_on, h.notes, h.group_id, h.left_on, h.exempt_han_leader,
       h.exempt_duties, g.name
FROM household AS h LEFT JOIN roster_group AS g ON g.id = h.group_id
"""
_MEMBERS = """
SELECT id, household_id, name, furigana, relation, is_head, phone, email, app_access, notes
FROM member ORDER BY household_id, position
"""


@dataclass(frozen=True, slots=True)
class _Current:
    id: uuid.UUID
    data: HouseholdData
    members: tuple[MemberData, ...]
    group_id: str | None
    group: str
    withdrawn: bool


def _fetch(session: Session, sql: str) -> list[tuple[Any, ...]]:
    """Rows as plain tuples from the sqlite3 driver, in the session's transaction."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver.execute(sql).fetchall()  # type: ignore[no-any-return]


def _current_roster(session: Session) -> dict[str, _Current]:
    members: dict[str, list[MemberData]] = defaultdict(list)
    for (member_id, household_id, name, furigana, relation, is_head, phone, email, app,
         notes) in _fetch(session, _MEMBERS):
        members[household_id].append(MemberData(
            id=uuid.UUID(hex=member_id), name=name, furigana=furigana, relation=relation,
            is_head=bool(is_head), phone=phone, email=email, app_access=bool(app),
            notes=notes))
    current: dict[str, _Current] = {}
    for (hid, number, name, furigana, postal, address, phone, channel, emails, joined, notes,
         group_id, left_on, exempt_han, exempt_duties, group) in _fetch(session, _HOUSEHOLDS):
        data = HouseholdData(
            number=number, display_name=name, furigana=furigana, postal_code=postal,
            address=address, phone=phone, channel=NoticeChannel(channel),
            emails=tuple(json.loads(emails or "[]")),
            joined_on=date.fromisoformat(joined) if joined else None,
            exempt_han_leader=bool(exempt_han), exempt_duties=bool(exempt_duties), notes=notes)
        current[number] = _Current(uuid.UUID(hex=hid), data, tuple(members[hid]), group_id,
                                   group or "", left_on is not None)
    return current


# ---------------------------------------------------------------- planning

_SHOWN = {
    "display_name": "氏名", "furigana": "フリガナ", "postal_code": "郵便番号", "address": "住所",
    "phone": "電話", "channel": "配布方法", "emails": "メール", "joined_on": "入会日",
    "notes": "備考", "members": "世帯員", "group": "班", "exempt_han_leader": "班長免除",
}


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "○" if value else ""
    if isinstance(value, tuple):
        return "、".join(_shown(item) for item in value)
    if isinstance(value, MemberData):
        return f"{value.name}（{value.relation}）" if value.relation else value.name
    if isinstance(value, NoticeChannel):
        return {NoticeChannel.APP: "アプリ", NoticeChannel.EMAIL: "メール",
                NoticeChannel.PAPER: "紙"}[value]
    return "" if value is None else str(value)


def _member_key(member: MemberData) -> tuple[object, ...]:
    return (member.name, member.furigana, member.relation, member.is_head, member.phone,
            member.email)


_KEY_FIELDS = ("name", "furigana", "relation", "is_head", "phone", "email")  # _member_key's


@functools.lru_cache(maxsize=64)
def _taken_from_file(given: frozenset[str]) -> tuple[bool, ...]:
    """For each field of :func:`_member_key`, whether a file giving ``given`` sets it."""
    return tuple(name in given for name in _KEY_FIELDS)


def _merged_keys(old: Sequence[MemberData], new: Sequence[MemberData],
                 given: frozenset[str]) -> list[tuple[object, ...]]:
    """``[_member_key(m) for m in _merged_members(old, new, given)]``, without making the
    merged members (most households of a file are unchanged)."""
    known = {fold_for_search(member.name): member for member in old}
    taken = _taken_from_file(given)
    every = all(taken)
    keys = []
    for member in new:
        before = known.pop(fold_for_search(member.name), None)
        key = _member_key(member)
        if before is not None and not every:
            key = tuple([value if from_file else kept for value, kept, from_file
                         in zip(key, _member_key(before), taken, strict=True)])
        keys.append(key)
    return keys


@functools.lru_cache(maxsize=64)
def _compared(given: frozenset[str]) -> tuple[str, ...]:
    """The household fields compared for a file giving ``given``, in a fixed order."""
    return tuple(sorted(given - {"number"}))


_group_key = functools.lru_cache(maxsize=8192)(group_key)  # a file names each 班 many times


def _merged_members(old: Sequence[MemberData], new: Sequence[MemberData],
                    given: frozenset[str] = MEMBER_FIELDS) -> tuple[MemberData, ...]:
    """The file's members, keeping the ids (and app access, notes, and the fields the file
    does not give) of members already known by name, so role assignments and history stay
    attached to the same person."""
    known = {fold_for_search(member.name): member for member in old}
    kept = sorted(MEMBER_FIELDS - given)
    merged = []
    for member in new:
        before = known.pop(fold_for_search(member.name), None)
        merged.append(member if before is None else replace(
            member, id=before.id, app_access=before.app_access,
            notes=member.notes or before.notes,
            **{name: getattr(before, name) for name in kept}))
    return tuple(merged)


def _changes(current: _Current, imported: ImportedHousehold,
             group: str | None) -> tuple[tuple[FieldChange, ...], HouseholdData,
                                         tuple[MemberData, ...]]:
    """The fields that differ, and the household and members as they would be saved."""
    changes = []
    data = current.data
    for name in _compared(imported.given):
        old, new = getattr(current.data, name), getattr(imported.data, name)
        if old != new:
            changes.append(FieldChange(name, _SHOWN.get(name, name), _shown(old), _shown(new)))
            data = replace(data, **{name: new})
    members = current.members
    if imported.members is not None and (
            len(imported.members) != len(current.members)
            or _merged_keys(current.members, imported.members, imported.member_given)
            != [_member_key(m) for m in current.members]):
        merged = _merged_members(current.members, imported.members, imported.member_given)
        changes.append(FieldChange("members", _SHOWN["members"], _shown(current.members),
                                   _shown(merged)))
        members = merged
    if group is not None and _group_key(group) != _group_key(current.group or ""):
        changes.append(FieldChange("group", _SHOWN["group"], current.group, group))
    return tuple(changes), data, members


def _next_numbers(existing: Sequence[str]) -> Callable[[], str]:
    """Numbers for households of a file without 世帯番号, after the highest in use."""
    numeric = [int(number) for number in existing if number.isdigit()]
    width = max((len(number) for number in existing if number.isdigit()), default=4)
    counter = [max(numeric, default=0)]

    def next_number() -> str:
        counter[0] += 1
        return str(counter[0]).zfill(width)

    return next_number


@without_gc_pauses
def plan_import(
    session: Session,
    households: Sequence[ImportedHousehold],
    problems: Sequence[RowProblem],
    *,
    file: str,
) -> ImportPlan:
    """Compare the file's households with the roster; writes nothing."""
    plan = ImportPlan(file=file)
    current = _current_roster(session)
    hans: dict[str, list[str]] = defaultdict(list)
    for node in group_service.group_tree(session):
        if node.kind == GroupKind.HAN:
            hans[group_key(node.name)].append(node.name)
    by_name_address = {
        (fold_for_search(c.data.display_name), fold_for_search(c.data.address)): c
        for c in current.values()
    }
    next_number = _next_numbers(list(current))
    seen: dict[str, PlannedRow] = {}
    for problem in problems:
        plan.rows.append(PlannedRow(problem.sheet, (problem.row,), problem.number, "",
                                    Outcome.ERROR,
                                    message=f"{problem.where(file)}: {problem.message}"))
    groups = _Groups(hans, plan.new_groups)
    for imported in households:
        row = _plan_one(imported, current=current, by_name_address=by_name_address,
                        groups=groups, next_number=next_number, plan=plan)
        if row.outcome != Outcome.ERROR and row.number in seen:
            first = seen[row.number]
            row = replace(row, outcome=Outcome.ERROR, message=_(
                "{where}: household number {number} is also on row {other}. "
                "Give each household its own number, or merge the rows.").format(
                    where=RowProblem(row.sheet, row.rows[0], Field.NUMBER, "").where(file),
                    number=row.number, other=first.rows[0]))
        elif row.outcome != Outcome.ERROR:
            seen[row.number] = row
        plan.rows.append(row)
    plan.new_groups.sort(key=_natural)
    listed = {row.number for row in plan.rows if row.number}
    plan.missing = [
        Missing(c.id, number, c.data.display_name, c.group)
        for number, c in sorted(current.items()) if not c.withdrawn and number not in listed
    ]
    return plan


def _by_name_address(data: HouseholdData,
                     by_name_address: dict[tuple[str, str], _Current]) -> _Current | None:
    """The roster's household with the same name and address (folded), if any."""
    if not by_name_address:  # an empty roster: nothing to fold for
        return None
    return by_name_address.get((fold_for_search(data.display_name),
                                fold_for_search(data.address)))


def _natural(name: str) -> tuple[int, str]:
    """「2班」 before 「10班」."""
    key = group_key(name)
    return (int(key), name) if key.isdigit() else (1 << 30, name)


class _Groups:
    """The 班 of the roster by :func:`group_key`, and the new ones a plan collects (with a
    set beside the plan's list: a file may name thousands)."""

    def __init__(self, hans: dict[str, list[str]], new: list[str]) -> None:
        self.hans = hans
        self.new = new
        self.known_new = set(new)

    def existing(self, name: str) -> list[str]:
        return self.hans.get(_group_key(name), [])

    def add_new(self, name: str) -> None:
        if name not in self.known_new:
            self.known_new.add(name)
            self.new.append(name)


def _plan_one(
    imported: ImportedHousehold,
    *,
    current: dict[str, _Current],
    by_name_address: dict[tuple[str, str], _Current],
    groups: _Groups,
    next_number: Callable[[], str],
    plan: ImportPlan,
) -> PlannedRow:
    data = imported.data
    group = imported.group
    if group is not None:
        names = groups.existing(group)
        if len(names) > 1:
            return PlannedRow(imported.sheet, imported.rows, data.number, data.display_name,
                              Outcome.ERROR, message=_(
                                  "{where}: several 班 are called {group} (in different "
                                  "districts). Rename one of them first.").format(
                                  where=RowProblem(imported.sheet, imported.rows[0],
                                                   Field.GROUP, "").where(plan.file),
                                  group=group))
        if names:
            group = names[0]
        else:
            groups.add_new(group)
    match = current.get(data.number) if data.number else _by_name_address(data,
                                                                          by_name_address)
    if match is None:
        number = data.number or next_number()
        twin = _by_name_address(data, by_name_address)
        if twin is not None and data.number:
            plan.duplicates.append(_(
                "{name} ({address}) is new as number {number} but looks like household "
                "{other} already in the roster.").format(
                    name=data.display_name, address=data.address, number=number,
                    other=twin.data.number))
        return PlannedRow(imported.sheet, imported.rows, number, data.display_name,
                          Outcome.NEW, group=group, imported=imported)
    changes, _data, _members = _changes(match, imported, group)
    outcome = Outcome.UPDATE if changes else Outcome.UNCHANGED
    return PlannedRow(imported.sheet, imported.rows, match.data.number, data.display_name,
                      outcome, changes, group=group, household_id=match.id, imported=imported)


# ---------------------------------------------------------------- applying


@without_gc_pauses
def apply_import(
    session: Session,
    plan: ImportPlan,
    *,
    withdraw_missing: bool = False,
    create_groups: bool = True,
    today: date | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Carry out a plan in the caller's transaction (all or nothing).

    Refused while the plan has errors, or new 班 and ``create_groups`` is off.
    """
    if plan.errors:
        raise ConflictError(_("The file still has {count} rows with problems. Correct them in "
                              "the file and import it again.").format(count=len(plan.errors)))
    if plan.new_groups and not create_groups:
        raise ConflictError(_("The file names groups that do not exist yet: {groups}. Allow "
                              "creating them, or correct the file.").format(
                                  groups="、".join(plan.new_groups)))
    group_ids = {group_key(node.name): node.id for node in group_service.group_tree(session)
                 if node.kind == GroupKind.HAN}
    group_ids.update(_create_groups(session, plan.new_groups))
    current = _current_roster(session) if plan.count(Outcome.UPDATE) else {}
    route_ends = _route_ends(session)
    new: list[NewHousehold] = []
    updated = 0
    total = len(plan.rows)
    for done, row in enumerate(plan.rows, start=1):
        group_id = group_ids.get(_group_key(row.group)) if row.group else None
        if row.outcome == Outcome.NEW:
            # New households join the end of their 班's route (in the order of the file,
            # with the households moved there: ``route_ends`` counts them all).
            order = route_ends[group_id] = route_ends.get(group_id, 0) + 1
            new.append(_new_household(row, group_id, order))
        elif row.outcome == Outcome.UPDATE:
            _update(session, row, current[row.number], group_id, route_ends)
            updated += 1
        if progress is not None and done % 500 == 0:
            progress(done, total)
    bulk_add_households(session, new)
    withdrawn = 0
    if withdraw_missing:
        for missing in plan.missing:
            withdraw_household(session, household_id=missing.household_id,
                               left_on=today or date.today())
            withdrawn += 1
    if progress is not None:
        progress(total, total)
    return ImportResult(len(new), updated, withdrawn, len(plan.new_groups))


def _create_groups(session: Session, names: Sequence[str]) -> dict[str, uuid.UUID]:
    """Create the plan's new 班 (top level, at the end, as ``groups.create_group`` adds
    them) with one statement: a file may name thousands. Names the service would refuse
    (empty, taken, twice in the list) go through it one by one, so it explains."""
    if not names:
        return {}
    siblings = col(RosterGroup.parent_id).is_(None)
    taken = set(session.exec(select(RosterGroup.name).where(siblings)).all())
    cleaned = [unicodedata.normalize("NFKC", name).strip() for name in names]
    if len(set(cleaned)) != len(cleaned) or any(not name or name in taken
                                               for name in cleaned):
        return {group_key(name): group_service.create_group(session, name=name)
                for name in names}
    last = session.exec(select(func.max(RosterGroup.position)).where(siblings)).one() or 0
    ids = [uuid7() for _name in cleaned]
    rows: list[dict[str, object]] = [
        {"id": group_id, "parent_id": None, "name": name, "kind": GroupKind.HAN,
         "position": last + index}
        for index, (group_id, name) in enumerate(zip(ids, cleaned, strict=True), start=1)]
    session.execute(insert(RosterGroup), rows)
    audit.record_inserts(session, RosterGroup, rows)
    return {group_key(name): group_id for name, group_id in zip(names, ids, strict=True)}


def _route_ends(session: Session) -> dict[uuid.UUID | None, int]:
    """The last place on each 班's 回覧板 route (and of the households in no 班)."""
    sql = "SELECT group_id, max(circulation_order) FROM household GROUP BY group_id"
    return {uuid.UUID(hex=group_id) if group_id else None: int(end or 0)
            for group_id, end in session.connection().exec_driver_sql(sql)}


def _new_household(row: PlannedRow, group_id: uuid.UUID | None, order: int) -> NewHousehold:
    imported = row.imported
    assert imported is not None
    data = imported.data
    if data.number != row.number:  # numbered now: the file has no 世帯番号
        data = replace(data, number=row.number)
    # A file without member columns: the head of household is the one member known. A file
    # with them may list a household without members. Member ids are made as they are added.
    members = imported.members if imported.members is not None else (MemberData(
        name=data.display_name, furigana=data.furigana, relation="世帯主", is_head=True),)
    return NewHousehold(uuid7(), group_id, order, data, members)


def _update(session: Session, row: PlannedRow, existing: _Current,
            group_id: uuid.UUID | None, route_ends: dict[uuid.UUID | None, int]) -> None:
    assert row.imported is not None and row.household_id is not None
    _changed, data, members = _changes(existing, row.imported, row.group)
    update_household(session, household_id=row.household_id, data=data, members=members)
    if group_id is not None and group_id.hex != existing.group_id:
        # To the end of the new 班's route, after the households joining it before.
        order = route_ends[group_id] = route_ends.get(group_id, 0) + 1
        move_household(session, household_id=row.household_id, group_id=group_id,
                       circulation_order=order)


