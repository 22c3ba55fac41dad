"""「PCの一覧」: the office PCs that share the roster, when each last synced, how many of its
changes it has not sent yet; this PC marked, PCs no longer allowed greyed out.

「このPCを無効にする」 stops a lost or sold PC: after a confirmation that says what it means,
the relay refuses it from then on, the association's key is changed and what the relay keeps
is locked again with the new key (in the background, with progress and Cancel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.sharing.common import enlarge, format_moment, heading, problem_label
from desktop.ui.tasks import Task, TaskCancelled, TaskContext, TaskRunner

if TYPE_CHECKING:
    from sync.replica.service import DeviceRow

NAME, LAST_SYNC, UNSENT, STATE = range(4)
_GREY = QColor("#8a8a8a")


def device_state(device: DeviceRow) -> str:
    """「このPC」, 「無効」 or 「使用中」, as the list shows it."""
    if device.revoked:
        return _("Disabled")
    if device.is_this_pc:
        return _("This PC")
    return _("In use")


class DevicesDialog(QDialog):
    """The table of office PCs, and 「このPCを無効にする」 for the one selected."""

    revoked = Signal(str)  # the device id of a PC just disabled

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.task: Task[object] | None = None
        self.devices: list[DeviceRow] = []
        self.setWindowTitle(_("Office PCs"))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [_("PC"), _("Last sync"), _("Changes not sent yet"), _("State")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        enlarge(self.table, 1.1)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column in (LAST_SYNC, UNSENT, STATE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.problem = problem_label()
        self.revoke_button = QPushButton(_("&Disable this PC…"))
        enlarge(self.revoke_button, 1.1, bold=True)
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.refresh_button = QPushButton(_("&Read again"))
        self.refresh_button.clicked.connect(self.refresh)
        row = QHBoxLayout()
        row.addWidget(self.revoke_button)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("&Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("The office PCs that share this roster")))
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 56, em * 26)
        self.revoke_button.setEnabled(False)
        self.refresh()

    # ------------------------------------------------------------ the list

    def refresh(self) -> None:
        """Read the list from the relay in the background."""
        if self.task is not None:
            return
        store = self.file

        def work(_context: TaskContext) -> object:
            from sync.replica import service

            return service.list_devices(store)

        def done(devices: object) -> None:
            self.task = None
            self._enable(True)
            assert isinstance(devices, list)
            self.show_devices(devices)

        self.problem.clear()
        self._enable(False)
        self.task = self.tasks.run(work, parent=self, title=_("Reading the list of PCs…"),
                                   on_success=done, on_failure=self._failed)

    def show_devices(self, devices: list[DeviceRow]) -> None:
        """Fill the table: this PC first marked, disabled PCs greyed."""
        self.devices = list(devices)
        self.table.setRowCount(len(self.devices))
        for row, device in enumerate(self.devices):
            name = device.name + ("　" + _("(this PC)") if device.is_this_pc else "")
            cells = (name, format_moment(device.last_seen_at),
                     str(device.pending) if not device.revoked else "―",
                     device_state(device))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == UNSENT:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if device.is_this_pc:
                    font = QFont(self.table.font())
                    font.setBold(True)
                    item.setFont(font)
                if device.revoked:
                    item.setForeground(QBrush(_GREY))
                self.table.setItem(row, column, item)
        self._selection_changed()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table's texts, row by row (name, last sync, unsent, state)."""
        def text(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        return [(text(row, NAME), text(row, LAST_SYNC), text(row, UNSENT), text(row, STATE))
                for row in range(self.table.rowCount())]

    def selected(self) -> DeviceRow | None:
        """The PC selected in the table, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.devices):
            return None
        return self.devices[rows[0].row()]

    def select(self, device_id: str) -> None:
        """Select the PC with ``device_id``."""
        for row, device in enumerate(self.devices):
            if device.device_id == device_id:
                self.table.selectRow(row)

    def _selection_changed(self) -> None:
        device = self.selected()
        self.revoke_button.setEnabled(
            self.task is None and self.table.isEnabled() and device is not None
            and not device.revoked
            and not device.is_this_pc)

    # ------------------------------------------------------------ disabling a PC

    def confirmation(self, device: DeviceRow) -> str:
        """What the officer is asked before ``device`` is disabled."""
        text = _(
            "Disable 「{name}」?\n\n"
            "• From now on the relay refuses that PC: it gets no more changes, and what it "
            "sends is not accepted.\n"
            "• The association's key is changed, and the other office PCs get the new key at "
            "their next sync. What the relay keeps is locked again with the new key.\n"
            "• What is already on that PC (for example a lost laptop) cannot be erased from "
            "here. Changes made from now on can no longer be read on it.\n"
            "• Do this only for a PC that is lost, sold, broken or no longer used by an "
            "officer.").format(name=device.name)
        if device.pending:
            text += "\n\n" + _("「{name}」 still has {count} changes it has not sent; they "
                               "will never arrive.").format(name=device.name,
                                                            count=device.pending)
        return text

    def revoke_selected(self) -> None:
        """Disable the selected PC after the confirmation (in the background)."""
        device = self.selected()
        if device is None or device.revoked or self.task is not None:
            return
        if device.is_this_pc:
            messages.warn(self, _("This PC cannot disable itself. Do it from another office "
                                  "PC."))
            return
        if not messages.confirm(self, self.confirmation(device),
                                title=_("Disable this PC")):
            return
        store, device_id, name = self.file, device.device_id, device.name

        def work(context: TaskContext) -> object:
            from sync.replica import service

            service.revoke_device(store, device_id=device_id, progress=context.progress,
                                  cancelled=context.cancelled)
            return None

        def done(_result: object) -> None:
            self.task = None
            self._enable(True)
            messages.inform(self, _(
                "「{name}」 is disabled and the association's key was changed. The other "
                "office PCs get the new key at their next sync.").format(name=name))
            self.revoked.emit(device_id)
            self.refresh()

        self.problem.clear()
        self._enable(False)
        self.task = self.tasks.run(work, parent=self, title=_("Disabling the PC…"),
                                   on_success=done, on_failure=self._failed)

    def _failed(self, error: BaseException) -> None:
        self.task = None
        self._enable(True)
        if isinstance(error, TaskCancelled):
            self.problem.setText(_("Cancelled. Read the list again to see where things "
                                   "stand."))
        elif isinstance(error, KairanError):
            self.problem.setText(error.message)
        else:
            raise error

    def _enable(self, on: bool) -> None:
        self.refresh_button.setEnabled(on)
        self.table.setEnabled(on)
        self._selection_changed()

    def reject(self) -> None:
        """Close, but not while a PC is being disabled."""
        if self.task is None:
            super().reject()
