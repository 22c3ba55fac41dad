"""The general meetings tab (総会): every meeting, newest first, with how many voters have
returned a form, and the buttons for what can be done with the one chosen.

The panel only shows and asks; :mod:`desktop.ui.meeting_actions` does the work. Enter (or a
double click) on a meeting opens its entry screen: on the day, that is what officers want.
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

from desktop.domain.meeting.meetings import MeetingSummary
from desktop.domain.wareki import format_wareki
from desktop.i18n import N_, _
from desktop.ui.enter_table import EnterTableView

COLUMNS = (N_("Date"), N_("Title"), N_("Voters"), N_("Returned"))
DATE, TITLE, VOTERS, RETURNED = range(len(COLUMNS))
_Index = QModelIndex | QPersistentModelIndex


class MeetingsModel(QAbstractTableModel):
    """The list of meetings as rows."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[MeetingSummary] = []

    def set_rows(self, rows: Sequence[MeetingSummary]) -> None:
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
            texts = (format_wareki(row.held_on), row.title, str(row.voters),
                     f"{row.returned} / {row.voters}")
            return texts[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (VOTERS, RETURNED):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section])
        return None


class MeetingsPanel(QWidget):
    """The list and its buttons; each button asks for its command by a signal."""

    new_requested = Signal()
    edit_requested = Signal(object)  # uuid.UUID of the meeting
    entry_requested = Signal(object)
    tally_requested = Signal(object)
    print_requested = Signal(object)
    export_requested = Signal(object)
    rules_requested = Signal()  # the association's rules, not one meeting's

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = MeetingsModel()
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
        self.empty = QLabel(_("No general meetings yet. Press 「New meeting」 to prepare the "
                              "first one: its agenda, the forms to print, and the count."))
        self.empty.setWordWrap(True)

        # Mnemonics apart from the menu bar's (F E H G R C M V), so Alt+letter is never
        # ambiguous.
        self.new_button = QPushButton(_("&New meeting…"))
        self.edit_button = QPushButton(_("E&dit…"))
        self.entry_button = QPushButton(_("Enter f&orms and check-in…"))
        self.tally_button = QPushButton(_("&Tally…"))
        self.print_button = QPushButton(_("&Print…"))
        self.export_button = QPushButton(_("E&xport to Excel…"))
        self.rules_button = QPushButton(_("Meeting r&ules…"))
        self.new_button.clicked.connect(self.new_requested.emit)
        self.rules_button.clicked.connect(self.rules_requested.emit)
        for button, signal in ((self.edit_button, self.edit_requested),
                               (self.entry_button, self.entry_requested),
                               (self.tally_button, self.tally_requested),
                               (self.print_button, self.print_requested),
                               (self.export_button, self.export_requested)):
            button.clicked.connect(lambda _checked=False, s=signal: self._emit_current(s))

        buttons = QHBoxLayout()
        for button in (self.new_button, self.edit_button, self.entry_button,
                       self.tally_button, self.print_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.rules_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    def set_meetings(self, rows: Sequence[MeetingSummary],
                     select: uuid.UUID | None = None) -> None:
        """Show the list, keeping (or moving to) the chosen meeting."""
        keep = select or self.current_id()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        self.table.setVisible(bool(rows))
        row = next((index for index, summary in enumerate(rows) if summary.id == keep), 0)
        if rows:
            self.table.selectRow(row)
        self._update_buttons()

    def current(self) -> MeetingSummary | None:
        """The chosen meeting, if any."""
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def current_id(self) -> uuid.UUID | None:
        """The id of the chosen meeting, if any."""
        summary = self.current()
        return summary.id if summary is not None else None

    def _emit_current(self, signal: SignalInstance) -> None:
        summary = self.current()
        if summary is not None:
            signal.emit(summary.id)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.model.rows):
            self.entry_requested.emit(self.model.rows[row].id)

    def _update_buttons(self) -> None:
        chosen = self.current() is not None
        for button in (self.edit_button, self.entry_button, self.tally_button,
                       self.print_button, self.export_button):
            button.setEnabled(chosen)
