"""The annual handover wizard (役員交代): the new year and its dates → officers → 班長 by
rotation → open items and memos → summary and hand over → (when paired) the relay.

The wizard holds what its pages share: the plan the domain proposed
(:func:`desktop.domain.handover.plan_handover`), the officer's choices and the warnings.
Planning and handing over run on a worker thread through the window's
:class:`~desktop.ui.tasks.TaskRunner` (a 連合自治会 of 50,000 households plans for a second);
while one runs, the pages cannot move on. Nothing about the roles is written before the
officer presses 「Hand over」 on the summary; then everything is written in one transaction,
and :attr:`HandoverWizard.handed_over` tells the window, which makes the handover report.
Memos are the exception: each is saved as it is written, so a note is never lost to a closed
wizard.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from desktop.domain import members
from desktop.domain.association import current_year, get_association
from desktop.domain.errors import KairanError
from desktop.domain.handover import (
    HandoverChoices,
    HandoverPlan,
    HandoverRecord,
    Person,
    RelayInfo,
    SlotKey,
    apply_handover,
    get_handover,
    plan_handover,
    relay_pairing,
)
from desktop.domain.handover_review import HandoverWarning, review
from desktop.domain.households import han_route
from desktop.domain.wareki import association_year_bounds
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.handover_items_page import ItemsPage
from desktop.ui.handover_pages import (
    LeadersPage,
    OfficersPage,
    RelayPage,
    SummaryPage,
    YearPage,
)
from desktop.ui.member_picker import MemberPicker
from desktop.ui.task_wizard import TaskWizard
from desktop.ui.tasks import TaskCancelled, TaskContext, TaskRunner

__all__ = [
    "ITEMS_PAGE",
    "LEADERS_PAGE",
    "OFFICERS_PAGE",
    "RELAY_PAGE",
    "SUMMARY_PAGE",
    "YEAR_PAGE",
    "HandoverStart",
    "HandoverWizard",
    "default_new_year",
    "start_handover",
]

YEAR_PAGE, OFFICERS_PAGE, LEADERS_PAGE, ITEMS_PAGE, SUMMARY_PAGE, RELAY_PAGE = range(6)
LATE_MONTHS = 2  # into the new year this long, the handover is still taken as late, not early
R = TypeVar("R")


def default_new_year(current: int, *, today: date, start_month: int,
                     current_done: bool) -> int:
    """The year a handover is most likely for: the coming one, unless the current year began
    less than :data:`LATE_MONTHS` ago and was not handed over yet (a late handover)."""
    first, _last = association_year_bounds(current, start_month)
    months_in = (today.year - first.year) * 12 + today.month - first.month
    return current if not current_done and months_in < LATE_MONTHS else current + 1


@dataclass(frozen=True, slots=True)
class HandoverStart:
    """What the wizard opens with: this year, the relay if paired, and the first plan."""

    current_year: int
    relay: RelayInfo | None
    plan: HandoverPlan


def start_handover(association_file: AssociationFile, *, today: date) -> HandoverStart:
    """Read what the wizard opens with (any thread: it only reads)."""
    with association_file.read() as session:
        year = current_year(session, today=today)
        start_month = get_association(session).fiscal_year_start_month
        done = get_handover(session, year=year) is not None
        new_year = default_new_year(year, today=today, start_month=start_month,
                                    current_done=done)
        return HandoverStart(year, relay_pairing(session),
                             plan_handover(session, new_year=new_year))


class HandoverWizard(TaskWizard):
    """The six pages and the plan, choices and warnings they share."""

    handed_over = Signal(int)  # the new year, once the handover is written
    planned = Signal()  # a new plan is in (another year, or another rotation rule)

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, start: HandoverStart, done_by: str = "") -> None:
        super().__init__(parent, tasks)
        self.file = association_file
        self.done_by = done_by
        self.current_year = start.current_year
        self.relay = start.relay
        self.plan: HandoverPlan = start.plan
        self.choices: HandoverChoices = start.plan.choices()
        self.handover: HandoverRecord | None = None
        self.overridden: set[SlotKey] = set()  # slots the officer chose by hand
        self.warnings: list[HandoverWarning] = []

        self.year_page = YearPage(self)
        self.officers_page = OfficersPage(self)
        self.leaders_page = LeadersPage(self)
        self.items_page = ItemsPage(self)
        self.summary_page = SummaryPage(self)
        self.relay_page = RelayPage(self)
        for page_id, page in ((YEAR_PAGE, self.year_page), (OFFICERS_PAGE, self.officers_page),
                              (LEADERS_PAGE, self.leaders_page), (ITEMS_PAGE, self.items_page),
                              (SUMMARY_PAGE, self.summary_page), (RELAY_PAGE, self.relay_page)):
            self.setPage(page_id, page)
        self.setWindowTitle(_("Hand over to the new officers"))
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 64, em * 46)  # in characters, so large print gets a larger wizard
        self._review()

    # ------------------------------------------------------------ background work

    def _run(self, work: Callable[[TaskContext], R], *, title: str,
             done: Callable[[R], None], cancellable: bool = True) -> None:
        """Run ``work`` in the background (see :meth:`TaskWizard.run`); a refusal is said."""

        def failed(error: BaseException) -> None:
            if isinstance(error, KairanError):
                messages.warn(self, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        self.run(work, title=title, done=done, failed=failed, cancellable=cancellable)

    # ------------------------------------------------------------ the plan and choices

    def replan(self, new_year: int, *, recent_years: int | None = None) -> None:
        """Plan again in the background (another year, or another rotation rule); choices
        made by hand for the same year are kept. :attr:`planned` says when it is in."""
        years = self.plan.recent_years if recent_years is None else recent_years
        association_file = self.file

        def work(_context: TaskContext) -> HandoverPlan:
            with association_file.read() as session:
                return plan_handover(session, new_year=new_year, recent_years=years)

        self._run(work, title=_("Planning the handover…"), done=self._take)

    def _take(self, plan: HandoverPlan) -> None:
        choices = plan.choices()
        if plan.new_year == self.plan.new_year:
            for key in self.overridden:
                kept = self.choices.slot(key)
                if kept is not None and plan.slot(key) is not None:
                    choices = choices.with_slot(key, kept.holders)
            choices = replace(choices, starts_on=self.choices.starts_on,
                              ends_on=self.choices.ends_on)
        else:
            self.overridden.clear()
        self.plan = plan
        self.choices = choices
        self._review()
        self.planned.emit()

    def set_dates(self, starts_on: date, ends_on: date) -> None:
        """The new year's first and last day, as the officer set them."""
        self.choices = replace(self.choices, starts_on=starts_on, ends_on=ends_on)

    def set_holders(self, key: SlotKey, holders: Sequence[Person]) -> None:
        """Give one slot these holders (none: vacant)."""
        self.choices = self.choices.with_slot(key, holders)
        self.overridden.add(key)
        self._review()

    def reset_slot(self, key: SlotKey) -> None:
        """Back to what the plan proposed for one slot."""
        slot = self.plan.slot(key)
        if slot is not None:
            self.choices = self.choices.with_slot(key, slot.proposed)
            self.overridden.discard(key)
            self._review()

    def carry_over(self, key: SlotKey) -> None:
        """Keep the outgoing year's holders in one slot."""
        slot = self.plan.slot(key)
        if slot is not None:
            self.set_holders(key, slot.previous)

    def holders(self, key: SlotKey) -> tuple[Person, ...]:
        """Who will hold one slot, as chosen so far."""
        choice = self.choices.slot(key)
        return choice.holders if choice is not None else ()

    def _review(self) -> None:
        with self.file.read() as session:  # tens of milliseconds, even for thousands of 班
            self.warnings = review(session, self.plan, self.choices)

    # ------------------------------------------------------------ choosing members

    def pick_member(self, *, title: str, group_id: uuid.UUID | None = None) -> Person | None:
        """Ask for a member (of the 班 ``group_id`` only, if given); None if cancelled."""
        def find(text: str) -> list[members.MemberChoice]:
            with self.file.read() as session:
                found = members.find_members(session, text=text)
                if group_id is not None:
                    route = {stop.household_id for stop in han_route(session,
                                                                     group_id=group_id)}
                    found = [choice for choice in found if choice.household_id in route]
            return found

        picker = MemberPicker(self, title=title, find=find)
        try:
            if not picker.exec():
                return None
            member_id = picker.chosen()
            chosen = next((choice for choice in find(picker.search.text())
                           if choice.member_id == member_id), None)
        finally:
            picker.deleteLater()
        if chosen is None:
            return None
        return Person(chosen.member_id, chosen.name, chosen.household_id,
                      chosen.household_number)

    # ------------------------------------------------------------ handing over

    def hand_over(self, *, done: Callable[[], None],
                  problem: Callable[[str], None]) -> None:
        """Write the handover in one transaction, in the background; then ``done`` (or
        ``problem`` with what went wrong)."""
        association_file, choices, done_by = self.file, self.choices, self.done_by

        def work(_context: TaskContext) -> HandoverRecord | str:
            try:
                with association_file.write() as session:
                    apply_handover(session, choices, done_by=done_by)
                with association_file.read() as session:
                    record = get_handover(session, year=choices.new_year)
            except KairanError as error:
                return error.message
            assert record is not None
            return record

        def finished(outcome: HandoverRecord | str) -> None:
            if isinstance(outcome, str):
                problem(outcome)
                return
            self.handover = outcome
            self.handed_over.emit(outcome.year)
            done()

        self._run(work, title=_("Handing over…"), done=finished, cancellable=False)

    def nextId(self) -> int:
        if self.currentId() == SUMMARY_PAGE and self.relay is None:
            return -1  # not paired: nothing to do on the relay, the summary is the end
        return super().nextId()
