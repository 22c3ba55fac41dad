"""The role board of one association year (年度): every role, per-班 roles for every 班, and
each role's rules (required by the bylaws; roles its holder may not hold too)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.roles import RoleSlot
from desktop.domain.wareki import format_nendo
from desktop.i18n import _

_SLOT = Qt.ItemDataRole.UserRole


YEARS_BACK = 5  # years offered before this one even with nobody on record
YEARS_AHEAD = 1


def board_years(current: int, on_record: Sequence[int]) -> list[int]:
    """The years the chooser offers: a few around ``current``, and every earlier year with
    holders on record (``roles.years_on_record``), so any past year stays readable."""
    around = range(current - YEARS_BACK, current + YEARS_AHEAD + 1)
    return sorted(set(around) | set(on_record))


def rules_text(slot: RoleSlot) -> str:
    """「Required · not with 会計」: what the bylaws say of the slot's role."""
    rules = [_("Required")] if slot.required else []
    if slot.conflicts:
        rules.append(_("not with {roles}").format(roles="、".join(slot.conflicts)))
    return " · ".join(rules)


class RoleBoard(QWidget):
    """A table of role slots and their holders, with a year chooser."""

    year_changed = Signal(int)
    assign_requested = Signal(object)  # RoleSlot
    unassign_requested = Signal(object)  # uuid.UUID of the assignment
    required_requested = Signal(object)  # RoleSlot whose role's 'required' flag to flip
    conflicts_requested = Signal(object)  # RoleSlot whose role's conflicts to edit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.year = QComboBox()
        self.year.currentIndexChanged.connect(
            lambda _index: self.year_changed.emit(self.current_year())
        )
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [_("Role"), _("Group"), _("Holder"), _("Household No."), _("Rules")]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemActivated.connect(lambda _item: self.assign_selected())
        self.assign = QPushButton(_("&Assign…"))
        self.assign.clicked.connect(self.assign_selected)
        self.unassign = QPushButton(_("&Remove holder"))
        self.unassign.clicked.connect(self.unassign_selected)
        self.required = QPushButton(_("Re&quired or not"))
        self.required.setToolTip(_("Mark the selected role as required by the bylaws (a "
                                   "vacancy is warned about at the handover), or not."))
        self.required.clicked.connect(lambda: self._request(self.required_requested))
        self.conflicts = QPushButton(_("Not &together with…"))
        self.conflicts.setToolTip(_("Choose the roles the holder of the selected role may "
                                    "not hold too (for example 会長 and 会計)."))
        self.conflicts.clicked.connect(lambda: self._request(self.conflicts_requested))
        self.vacant = QLabel()

        top = QHBoxLayout()
        top.addWidget(QLabel(_("Association year:")))
        top.addWidget(self.year)
        top.addStretch()
        top.addWidget(self.vacant)
        top.addWidget(self.assign)
        top.addWidget(self.unassign)
        top.addWidget(self.required)
        top.addWidget(self.conflicts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)

    def set_years(self, years: Sequence[int], current: int, start_month: int) -> None:
        """Offer these years, choosing ``current``."""
        self.year.blockSignals(True)
        self.year.clear()
        for year in years:
            self.year.addItem(format_nendo(year, start_month), year)
        self.year.setCurrentIndex(max(0, self.year.findData(current)))
        self.year.blockSignals(False)

    def current_year(self) -> int:
        """The year shown."""
        return int(self.year.currentData())

    def set_slots(self, slots: Sequence[RoleSlot]) -> None:
        """Show the slots: one line per holder, or one empty line for a vacant slot."""
        current = self.table.currentRow()
        self.table.setRowCount(0)
        vacant = 0
        for slot in slots:
            holders = slot.holders or (None,)
            vacant += slot.vacant
            for holder in holders:
                row = self.table.rowCount()
                self.table.insertRow(row)
                cells = [
                    slot.role_name,
                    slot.group_name or "",
                    holder.member_name if holder else _("(vacant)"),
                    holder.household_number if holder else "",
                    rules_text(slot),
                ]
                for column, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(_SLOT, (slot, holder.assignment_id if holder else None))
                    self.table.setItem(row, column, item)
        self.vacant.setText(_("{count} vacant").format(count=vacant) if vacant else "")
        if self.table.rowCount():
            self.table.selectRow(min(max(current, 0), self.table.rowCount() - 1))

    def selected_slot(self) -> RoleSlot | None:
        """The role slot of the selected line, if any."""
        selected = self._selected()
        return selected[0] if selected is not None else None

    def _selected(self) -> tuple[RoleSlot, uuid.UUID | None] | None:
        item = self.table.item(self.table.currentRow(), 0)
        return item.data(_SLOT) if item is not None else None

    def assign_selected(self) -> None:
        """Ask to assign a holder to the selected slot."""
        selected = self._selected()
        if selected is not None:
            self.assign_requested.emit(selected[0])

    def _request(self, signal: SignalInstance) -> None:
        slot = self.selected_slot()
        if slot is not None:
            signal.emit(slot)

    def unassign_selected(self) -> None:
        """Ask to remove the selected holder."""
        selected = self._selected()
        if selected is not None and selected[1] is not None:
            self.unassign_requested.emit(selected[1])
