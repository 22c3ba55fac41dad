"""The pages of the handover wizard (:mod:`desktop.ui.handover_wizard`): the year, the
officers, the 班長, the summary and the relay (the open items and memos are in
:mod:`desktop.ui.handover_items_page`).

Each page shows part of the plan and the choices the wizard holds, and changes them only
through the wizard's methods; none reads or writes the file except the memos (saved as they
are written) and the summary (which asks the wizard to hand over).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop.domain.handover import Person, PlannedSlot, SlotKey
from desktop.domain.handover_items import list_memos
from desktop.domain.handover_review import HandoverWarning, WarningKind
from desktop.domain.wareki import format_dual, format_nendo, format_wareki
from desktop.i18n import _
from desktop.ui import messages

if TYPE_CHECKING:
    from desktop.ui.handover_wizard import HandoverWizard

__all__ = ["LeadersPage", "OfficersPage", "Page", "RelayPage", "SummaryPage", "YearPage",
           "people_text"]

_PROBLEM_STYLE = "color: #b00020;"
_KEY = Qt.ItemDataRole.UserRole


def people_text(people: Sequence[Person]) -> str:
    """「木村 修（0040）、田中 実（0015）」, or 「(vacant)」."""
    if not people:
        return _("(vacant)")
    return "、".join(f"{person.name}（{person.household_number}）" for person in people)


def _warning_text(warnings: Sequence[HandoverWarning]) -> str:
    return "\n".join(f"⚠ {warning.message}" for warning in warnings)


def _table(columns: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(True)
    return table


def _fill(table: QTableWidget, rows: Sequence[tuple[SlotKey, Sequence[str]]]) -> None:
    current = max(table.currentRow(), 0)
    table.setRowCount(0)
    for key, cells in rows:
        row = table.rowCount()
        table.insertRow(row)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(_KEY, key)
            table.setItem(row, column, item)
    if table.rowCount():
        table.selectRow(min(current, table.rowCount() - 1))


def _selected(table: QTableWidget) -> SlotKey | None:
    item = table.item(table.currentRow(), 0)
    return item.data(_KEY) if item is not None else None


class Page(QWizardPage):
    """A page of the handover wizard: it keeps its choices on the way back, waits for
    planning, and shows a new plan when one comes in."""

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner)
        self.owner = owner
        owner.planned.connect(self._planned)

    def cleanupPage(self) -> None:
        """Going back keeps what was chosen here (Qt would reset the fields)."""

    def isComplete(self) -> bool:
        return not self.owner.busy  # planning or handing over: wait for it

    def _planned(self) -> None:
        if self.owner.currentPage() is self:
            self.initializePage()


# ---------------------------------------------------------------- 1. the year


class YearPage(Page):
    """The new year and its dates."""

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner)
        self.setTitle(_("The new association year"))
        self.setSubTitle(_("Choose the year the new officers take over, and when it starts "
                           "and ends."))
        self.year = QComboBox()
        start_month = owner.plan.start_month
        for year in range(owner.current_year - 1, owner.current_year + 3):
            self.year.addItem(f"{format_nendo(year, start_month)}（{year}）", year)
        self.year.setCurrentIndex(max(0, self.year.findData(owner.plan.new_year)))
        self.year.currentIndexChanged.connect(self._year_changed)
        self.starts = self._date_edit()
        self.ends = self._date_edit()
        self.starts_text, self.ends_text = QLabel(), QLabel()
        self.outgoing = QLabel()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(_PROBLEM_STYLE)
        form = QFormLayout()
        form.addRow(_("&New year:"), self.year)
        form.addRow(_("&Starts on:"), self._with(self.starts, self.starts_text))
        form.addRow(_("&Ends on:"), self._with(self.ends, self.ends_text))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.outgoing)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.starts.dateChanged.connect(self._dates_changed)
        self.ends.dateChanged.connect(self._dates_changed)
        self._show_plan()

    @staticmethod
    def _date_edit() -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy/MM/dd")
        return edit

    @staticmethod
    def _with(edit: QDateEdit, label: QLabel) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit)
        row.addWidget(label, 1)
        return box

    def new_year(self) -> int:
        """The year chosen."""
        return int(self.year.currentData())

    def dates(self) -> tuple[date, date]:
        """The first and last day chosen."""
        return self.starts.date().toPython(), self.ends.date().toPython()  # type: ignore[return-value]

    def _year_changed(self) -> None:
        self.owner.replan(self.new_year())

    def initializePage(self) -> None:
        self._show_plan()

    def _show_plan(self) -> None:
        plan, choices = self.owner.plan, self.owner.choices
        for edit, day in ((self.starts, choices.starts_on), (self.ends, choices.ends_on)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.outgoing.setText(_("The officers of {old} hand over to those of {new}.").format(
            old=format_nendo(plan.from_year, plan.start_month),
            new=format_nendo(plan.new_year, plan.start_month)))
        self._dates_changed()

    def _dates_changed(self) -> None:
        starts, ends = self.dates()
        self.starts_text.setText(format_dual(starts))
        self.ends_text.setText(format_dual(ends))
        plan = self.owner.plan
        if plan.done is not None:
            by = _(" by {name}").format(name=plan.done.done_by) if plan.done.done_by else ""
            self.note.setText(_(
                "The handover into {year} was already done on {day}{by}. It cannot be done "
                "twice: change the holders on the role board, or choose another year.").format(
                    year=format_nendo(plan.new_year, plan.start_month),
                    day=format_wareki(plan.done.done_at.astimezone().date()), by=by))
        elif starts > ends:
            self.note.setText(_("The year starts after it ends. Check the dates."))
        else:
            self.note.clear()
            self.owner.set_dates(starts, ends)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        starts, ends = self.dates()
        return (super().isComplete() and self.owner.plan.done is None and starts <= ends
                and self.owner.plan.new_year == self.new_year())


# ---------------------------------------------------------------- 2. officers


class _SlotsPage(Page):
    """A table of slots with the buttons that change them, and the warnings about them."""

    per_han = False

    def __init__(self, owner: HandoverWizard, columns: Sequence[str]) -> None:
        super().__init__(owner)
        self.table = _table(columns)
        self.table.itemActivated.connect(lambda _item: self.choose())
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(_PROBLEM_STYLE)
        self.buttons = QHBoxLayout()

    def slots(self) -> list[PlannedSlot]:
        """The slots this page shows, in board order."""
        return [slot for slot in self.owner.plan.slots
                if (slot.group_id is not None) == self.per_han]

    def selected(self) -> PlannedSlot | None:
        """The slot of the selected line."""
        key = _selected(self.table)
        return self.owner.plan.slot(key) if key is not None else None

    def page_warnings(self) -> list[HandoverWarning]:
        """The warnings about this page's slots (a conflict shows where either role is)."""
        mine = {slot.key for slot in self.slots()}
        return [warning for warning in self.owner.warnings
                if (warning.role_id, warning.group_id) in mine
                or (warning.kind == WarningKind.CONFLICT and not self.per_han)]

    def how(self, slot: PlannedSlot) -> str:
        """Why the slot has the holders it has."""
        if slot.key in self.owner.overridden:
            return _("Chosen by hand.")
        return slot.note

    def initializePage(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Show the choices and warnings as they stand."""
        _fill(self.table, [(slot.key, self.cells(slot)) for slot in self.slots()])
        self.warnings.setText(_warning_text(self.page_warnings()))

    def cells(self, slot: PlannedSlot) -> list[str]:
        raise NotImplementedError

    def choose(self) -> None:
        """Choose a member for the selected slot."""
        slot = self.selected()
        if slot is None:
            return
        current = list(self.owner.holders(slot.key))
        if slot.max_holders is not None and len(current) >= slot.max_holders > 1:
            messages.warn(self, _(
                "{role} already has {count} holders. Press 「Leave vacant」 first to choose "
                "them again.").format(role=slot.label, count=len(current)))
            return
        person = self.owner.pick_member(
            title=_("Who holds {role} in {year}?").format(
                role=slot.label, year=format_nendo(self.owner.plan.new_year,
                                                   self.owner.plan.start_month)),
            group_id=slot.group_id)
        if person is None:
            return
        if any(held.member_id == person.member_id for held in current):
            messages.warn(self, _("{name} already holds {role}.").format(
                name=person.name, role=slot.label))
            return
        holders = [person] if slot.max_holders == 1 else [*current, person]
        self.owner.set_holders(slot.key, holders)
        self.refresh()

    def vacate(self) -> None:
        """Leave the selected slot vacant."""
        slot = self.selected()
        if slot is not None:
            self.owner.set_holders(slot.key, ())
            self.refresh()


class OfficersPage(_SlotsPage):
    """The association's officers: carry over, choose a member, or leave vacant."""

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner, [_("Role"), _("Until now"), _("New year"), _("How")])
        self.setTitle(_("Officers"))
        self.setSubTitle(_("For each role, keep this year's holder, choose a member, or leave "
                           "it vacant. Roles one person should not hold together are flagged "
                           "below."))
        self.carry = QPushButton(_("&Carry over"))
        self.carry.clicked.connect(self.carry_over)
        self.pick = QPushButton(_("C&hoose a member…"))
        self.pick.clicked.connect(self.choose)
        self.vacant = QPushButton(_("Leave &vacant"))
        self.vacant.clicked.connect(self.vacate)
        for button in (self.carry, self.pick, self.vacant):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.buttons)
        layout.addWidget(self.warnings)

    def initializePage(self) -> None:
        plan = self.owner.plan
        self.table.setHorizontalHeaderLabels([
            _("Role"), format_nendo(plan.from_year, plan.start_month),
            format_nendo(plan.new_year, plan.start_month), _("How")])
        super().initializePage()

    def cells(self, slot: PlannedSlot) -> list[str]:
        role = _("{role} (required)").format(role=slot.role_name) if slot.required \
            else slot.role_name
        return [role, people_text(slot.previous), people_text(self.owner.holders(slot.key)),
                self.how(slot)]

    def carry_over(self) -> None:
        """Keep this year's holders of the selected role."""
        slot = self.selected()
        if slot is not None:
            self.owner.carry_over(slot.key)
            self.refresh()


# ---------------------------------------------------------------- 3. 班長


class LeadersPage(_SlotsPage):
    """Per-班 roles (班長) by the rotation, with the officer able to override."""

    per_han = True

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner, [_("Group"), _("Role"), _("Until now"), _("New year"),
                                 _("Why")])
        self.setTitle(_("班長 of each 班"))
        self.setSubTitle(_("Each 班 passes the role to the next household on its 回覧板 "
                           "route, skipping exempt households (高齢・免除) and those that held "
                           "it recently. Choose another household where the 班 agreed so."))
        self.recent = QSpinBox()
        self.recent.setRange(0, 20)
        self.recent.setValue(owner.plan.recent_years)
        self.recent.setSuffix(_(" years"))
        self.recent.valueChanged.connect(self._recent_changed)
        self.pick = QPushButton(_("C&hoose another…"))
        self.pick.clicked.connect(self.choose)
        self.vacant = QPushButton(_("Leave &vacant"))
        self.vacant.clicked.connect(self.vacate)
        self.rotation = QPushButton(_("Back to the &rotation"))
        self.rotation.clicked.connect(self.back_to_rotation)
        for button in (self.pick, self.vacant, self.rotation):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.empty = QLabel(_("This association has no 班 yet: there is nothing to rotate."))
        rule = QFormLayout()
        rule.addRow(_("Skip households that held it within the last:"), self.recent)
        layout = QVBoxLayout(self)
        layout.addLayout(rule)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(self.buttons)
        layout.addWidget(self.warnings)

    def initializePage(self) -> None:
        plan = self.owner.plan
        self.table.setHorizontalHeaderLabels([
            _("Group"), _("Role"), format_nendo(plan.from_year, plan.start_month),
            format_nendo(plan.new_year, plan.start_month), _("Why")])
        super().initializePage()

    def refresh(self) -> None:
        super().refresh()
        self.empty.setVisible(not self.slots())

    def cells(self, slot: PlannedSlot) -> list[str]:
        return [slot.group_name or "", slot.role_name, people_text(slot.previous),
                people_text(self.owner.holders(slot.key)), self.how(slot)]

    def _recent_changed(self, years: int) -> None:
        self.owner.replan(self.owner.plan.new_year, recent_years=years)

    def back_to_rotation(self) -> None:
        """Undo a choice made by hand for the selected 班."""
        slot = self.selected()
        if slot is not None:
            self.owner.reset_slot(slot.key)
            self.refresh()


# ---------------------------------------------------------------- 5. summary


class SummaryPage(Page):
    """Everything at a glance, the warnings, and the button that hands over."""

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner)
        self.setTitle(_("Summary"))
        self.setSubTitle(_("Check the new officers. 「Hand over」 records them all at once; the "
                           "handover report (引継書) is made next, to print or keep."))
        self.setCommitPage(True)
        hand_over = _("&Hand over")
        self.setButtonText(QWizard.WizardButton.CommitButton, hand_over)
        self.setButtonText(QWizard.WizardButton.FinishButton, hand_over)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(_PROBLEM_STYLE)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(_PROBLEM_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.warnings)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.problem)

    def initializePage(self) -> None:
        owner = self.owner
        self.setFinalPage(owner.relay is None)
        warnings = owner.warnings
        self.warnings.setText(
            _("{count} things to look at (you can still hand over):").format(
                count=len(warnings)) + "\n" + _warning_text(warnings) if warnings else "")
        self.problem.clear()
        self.summary.setPlainText(self.summary_text())

    def summary_text(self) -> str:
        """The handover in words."""
        owner = self.owner
        plan, choices = owner.plan, owner.choices
        lines = [
            _("{old} → {new}").format(old=format_nendo(plan.from_year, plan.start_month),
                                      new=format_nendo(plan.new_year, plan.start_month)),
            _("From {start} to {end}").format(start=format_dual(choices.starts_on),
                                              end=format_dual(choices.ends_on)),
            "",
        ]
        for slot in plan.slots:
            new = owner.holders(slot.key)
            same = {p.member_id for p in new} == {p.member_id for p in slot.previous}
            arrow = _("(unchanged)") if same else f"{people_text(slot.previous)} →"
            lines.append(f"{slot.label}：{arrow} {people_text(new)}")
        with owner.file.read() as session:
            memos = list_memos(session, year=plan.new_year)
        lines += ["", _("Circulars awaiting answers: {count}").format(
            count=len(plan.open_items.circulars)),
            _("Memos for the successors: {count}").format(count=len(memos))]
        return "\n".join(lines)

    def validatePage(self) -> bool:
        """Hand over in the background; the wizard moves on once it is written."""
        if self.owner.handover is not None:
            return True
        if not self.owner.busy:
            self.problem.clear()
            self.owner.hand_over(done=self._handed_over, problem=self._not_handed_over)
        return False

    def _handed_over(self) -> None:
        if self.owner.relay is not None:
            self.owner.next()
        else:
            self.owner.accept()

    def _not_handed_over(self, problem: str) -> None:
        self.problem.setText(problem)
        messages.warn(self, problem)


# ---------------------------------------------------------------- 6. the relay


class RelayPage(Page):
    """What to do on the relay for the outgoing and incoming officers' PCs (paired only)."""

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner)
        self.setTitle(_("Office PCs on the relay"))
        self.setSubTitle(_("The handover is recorded. If the officers' PCs change, the relay "
                           "needs to know."))
        self.setFinalPage(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addStretch(1)

    def initializePage(self) -> None:
        relay = self.owner.relay
        if relay is None:
            self.text.clear()
            return
        association = relay.association_id
        self.text.setText("\n\n".join((
            _("This file syncs with the relay at {url} (association {id}).").format(
                url=relay.relay_url, id=association),
            _("The outgoing officers' PCs keep syncing until their device tokens are revoked. "
              "Ask whoever runs the relay to list the office PCs with\n"
              "    kairan-relay token list --association {id}\n"
              "and to revoke each PC that leaves with\n"
              "    kairan-relay token revoke HASH_PREFIX").format(id=association),
            _("To prepare a PC for the new officers: on the relay, make a one-time pairing code "
              "with\n    kairan-relay pairing-code {id}\nthen copy this association file to "
              "the new PC, open it in Kairan and choose 同期 → Connect to the relay… with that "
              "code.").format(id=association),
            _("Kairan on this PC cannot list or revoke the other PCs itself yet; the relay's "
              "administrator does it with the commands above."),
        )))
