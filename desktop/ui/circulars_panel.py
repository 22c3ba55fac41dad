"""The circulars tab: every circular, newest first, with its status and how many have answered,
and the buttons for what can be done with the one chosen.

The panel only shows and asks; :mod:`desktop.ui.circular_actions` does the work. Buttons
that do not apply to the chosen circular (editing a sent one, replies to a notice that asks
nothing) are disabled, so an officer cannot press them by mistake.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    SignalInstance,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.circulars import CircularSummary
from desktop.domain.models import Ask, CircularStatus
from desktop.domain.wareki import format_wareki
from desktop.i18n import N_, _
from desktop.ui.enter_table import EnterTableView

COLUMNS = (N_("Date"), N_("Title"), N_("Status"), N_("Asks for"), N_("Households"),
           N_("Replies"))
DATE, TITLE, STATUS, ASKS, HOUSEHOLDS, REPLIES = range(len(COLUMNS))
STATUS_LABELS = {CircularStatus.DRAFT: N_("Draft"), CircularStatus.SENT: N_("Sent")}
SHORT_ASKS = {Ask.NOTHING: N_("—"), Ask.READ: N_("Read"), Ask.ATTENDANCE: N_("Attendance"),
              Ask.SURVEY: N_("Survey")}
ASK_LABELS: dict[Ask, str] = {
    Ask.NOTHING: N_("Nothing (for information)"),
    Ask.READ: N_("Read confirmation (確認)"),
    Ask.ATTENDANCE: N_("Attendance (出席/欠席)"),
    Ask.SURVEY: N_("Survey (アンケート)"),
}
_Index = QModelIndex | QPersistentModelIndex


def replies_text(summary: CircularSummary) -> str:
    """「12 / 40」 for a sent circular that asks something; 「—」 otherwise."""
    if summary.status != CircularStatus.SENT or summary.ask == Ask.NOTHING:
        return "—"
    return f"{summary.replies} / {summary.recipients}"


class CircularsModel(QAbstractTableModel):
    """The list of circulars as rows."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[CircularSummary] = []

    def set_rows(self, rows: Sequence[CircularSummary]) -> None:
        """Replace the list."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == ASKS:
            return _(ASK_LABELS[row.ask])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (HOUSEHOLDS, REPLIES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(row: CircularSummary, column: int) -> str:
        if column == DATE:
            return format_wareki(row.issued_on)
        if column == TITLE:
            return row.title
        if column == STATUS:
            return _(STATUS_LABELS[row.status])
        if column == ASKS:
            return _(SHORT_ASKS[row.ask])
        if column == HOUSEHOLDS:
            return str(row.recipients)
        return replies_text(row)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section])
        return None


class CircularsPanel(QWidget):
    """The list and its buttons; each button asks for its command by a signal."""

    new_requested = Signal()
    copy_requested = Signal(object)  # uuid.UUID of the circular
    edit_requested = Signal(object)
    delete_requested = Signal(object)
    send_requested = Signal(object)
    print_requested = Signal(object)
    replies_requested = Signal(object)
    read_status_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = CircularsModel()
        self.table = EnterTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        self.table.activated_row.connect(self._open_row)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.table.selectionModel().currentRowChanged.connect(
            lambda _now, _before: self._update_buttons())
        self.empty = QLabel(_("No circulars yet. Press 「New」 to write the first one."))

        # Mnemonics apart from the menu bar's (F E H G R C V), so Alt+letter is never ambiguous.
        self.new_button = QPushButton(_("&New…"))
        self.copy_button = QPushButton(_("Copy as &template"))
        self.edit_button = QPushButton(_("E&dit…"))
        self.delete_button = QPushButton(_("De&lete"))
        self.send_button = QPushButton(_("&Send…"))
        self.print_button = QPushButton(_("&Print…"))
        self.replies_button = QPushButton(_("Enter repl&ies…"))
        self.read_button = QPushButton(_("Read on the &app…"))
        self.new_button.clicked.connect(self.new_requested.emit)
        for button, signal in ((self.copy_button, self.copy_requested),
                               (self.edit_button, self.edit_requested),
                               (self.delete_button, self.delete_requested),
                               (self.send_button, self.send_requested),
                               (self.print_button, self.print_requested),
                               (self.replies_button, self.replies_requested),
                               (self.read_button, self.read_status_requested)):
            button.clicked.connect(lambda _checked=False, s=signal: self._emit_current(s))

        buttons = QHBoxLayout()
        for button in (self.new_button, self.copy_button, self.edit_button,
                       self.delete_button, self.send_button, self.print_button,
                       self.replies_button, self.read_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    def set_circulars(self, rows: Sequence[CircularSummary],
                      select: uuid.UUID | None = None) -> None:
        """Show the list, keeping (or moving to) the chosen circular."""
        keep = select or self.current_id()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        row = next((index for index, summary in enumerate(rows) if summary.id == keep), 0)
        if rows:
            self.table.selectRow(row)
        self._update_buttons()

    def current(self) -> CircularSummary | None:
        """The chosen circular, if any."""
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def current_id(self) -> uuid.UUID | None:
        """The id of the chosen circular, if any."""
        summary = self.current()
        return summary.id if summary is not None else None

    def _emit_current(self, signal: SignalInstance) -> None:
        summary = self.current()
        if summary is not None:
            signal.emit(summary.id)

    def _open_row(self, row: int) -> None:
        """Enter or a double click: edit a draft, enter the replies of a sent circular that
        asks something, else print."""
        if not 0 <= row < len(self.model.rows):
            return
        summary = self.model.rows[row]
        if summary.status == CircularStatus.DRAFT:
            self.edit_requested.emit(summary.id)
        elif summary.ask != Ask.NOTHING:
            self.replies_requested.emit(summary.id)
        else:
            self.print_requested.emit(summary.id)

    def _update_buttons(self) -> None:
        summary = self.current()
        chosen = summary is not None
        draft = summary is not None and summary.status == CircularStatus.DRAFT
        asks = summary is not None and summary.ask != Ask.NOTHING
        self.copy_button.setEnabled(chosen)
        self.edit_button.setEnabled(draft)
        self.delete_button.setEnabled(draft)
        self.send_button.setEnabled(draft)
        self.print_button.setEnabled(chosen)
        self.replies_button.setEnabled(chosen and not draft and asks)
        self.read_button.setEnabled(chosen and not draft)
