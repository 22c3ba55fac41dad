"""What the handover report (引継書) prints, read from an association file as plain values.

Everything comes from the domain services: the role boards of the outgoing and the new year,
the officers' contacts (``roster_source.load_officers``), the circulars still awaiting
answers and the memos. A report can be made again for any year handed over (earlier years
stay readable); for a year not handed over yet it shows the role board as it stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from desktop.domain.association import get_association
from desktop.domain.handover import get_handover, outgoing_year
from desktop.domain.handover_items import MemoInfo, OpenCircular, list_memos, open_circulars
from desktop.domain.roles import Holder, RoleSlot, role_board
from desktop.domain.wareki import association_year_bounds, format_nendo
from reports.pdf.roster_pdf import VACANT, OfficerLine
from reports.pdf.roster_source import load_officers

__all__ = ["HandoverReport", "RoleLine", "holders_text", "load_handover_report"]


@dataclass(frozen=True, slots=True)
class RoleLine:
    """One role (or one 班's role) with its holders before and after, as printed."""

    role: str  # 「会長」, or the 班 for per-班 roles (「1班」)
    old: str
    new: str
    group_role: str = ""  # the role's name on a 班 line (「班長」)


@dataclass(frozen=True, slots=True)
class HandoverReport:
    """Everything the 引継書 prints."""

    association: str
    year_label: str  # 令和9年度
    from_label: str  # 令和8年度
    starts_on: date
    ends_on: date
    done_at: datetime | None  # None: not handed over yet (a draft of the report)
    done_by: str
    printed_on: date
    officers: tuple[RoleLine, ...]
    han_leaders: tuple[RoleLine, ...]
    contacts: tuple[OfficerLine, ...]  # the new year's association officers
    open_circulars: tuple[OpenCircular, ...]
    memos: tuple[MemoInfo, ...]


def holders_text(holders: Sequence[Holder]) -> str:
    """「木村 修（0040）、田中 実（0015）」, or 「（空席）」."""
    if not holders:
        return VACANT
    return "、".join(f"{holder.member_name}（{holder.household_number}）" for holder in holders)


def _key(slot: RoleSlot) -> tuple[object, object]:
    return (slot.role_id, slot.group_id)


def load_handover_report(session: Session, *, year: int, printed_on: date) -> HandoverReport:
    """The 引継書 of the handover into ``year``."""
    association = get_association(session)
    start_month = association.fiscal_year_start_month
    done = get_handover(session, year=year)
    from_year = done.from_year if done is not None else outgoing_year(session, new_year=year)
    if done is not None:
        starts_on, ends_on = done.starts_on, done.ends_on
    else:
        starts_on, ends_on = association_year_bounds(year, start_month)
    before = {_key(slot): slot for slot in role_board(session, year=from_year)}
    officers, leaders = [], []
    for slot in role_board(session, year=year):
        old = before.get(_key(slot))
        line_old = holders_text(old.holders if old is not None else ())
        if slot.group_id is None:
            officers.append(RoleLine(slot.role_name, line_old, holders_text(slot.holders)))
        else:
            leaders.append(RoleLine(slot.group_name or "", line_old, holders_text(slot.holders),
                                    slot.role_name))
    contacts = tuple(line for line in load_officers(session, year=year)
                     if not line.group and line.name)
    since = association_year_bounds(from_year, start_month)[0]
    return HandoverReport(
        association=association.name,
        year_label=format_nendo(year, start_month),
        from_label=format_nendo(from_year, start_month),
        starts_on=starts_on, ends_on=ends_on,
        done_at=done.done_at if done is not None else None,
        done_by=done.done_by if done is not None else "",
        printed_on=printed_on,
        officers=tuple(officers), han_leaders=tuple(leaders), contacts=contacts,
        open_circulars=tuple(open_circulars(session, since=since)),
        memos=tuple(list_memos(session, year=year)),
    )
