"""A tab's list of summaries (circulars, meetings): the table, a note when it is empty and a
row of buttons above, each button asking for its command by a signal with the chosen id.

Subclasses add their buttons to :attr:`SummaryListPanel.buttons`, say what Enter or a double
click does (:meth:`open_row`) and which buttons apply to the chosen row
(:meth:`update_buttons`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    SignalInstance,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import _
from desktop.ui.enter_table import EnterTableView

Index = QModelIndex | QPersistentModelIndex


class Summary(Protocol):
    """A line of the list: anything with an id."""

    @property
    def id(self) -> uuid.UUID: ...


S = TypeVar("S", bound=Summary)


class SummaryModel(QAbstractTableModel, Generic[S]):
    """Summaries as rows under translatable column titles; subclasses give :meth:`data`."""

    def __init__(self, columns: Sequence[str]) -> None:
        super().__init__()
        self.columns = tuple(columns)  # N_() titles, translated when shown
        self.rows: list[S] = []

    def set_rows(self, rows: Sequence[S]) -> None:
        """Replace the list."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self.columns[section])
        return None


class SummaryListPanel(QWidget, Generic[S]):
    """The list with its buttons above and a note shown when there is nothing yet."""

    def __init__(self, model: SummaryModel[S], *, stretch_column: int, empty_text: str,
                 hide_empty_table: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._hide_empty_table = hide_empty_table
        self.table = EnterTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
        self.table.activated_row.connect(self._open)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.selectionModel().currentRowChanged.connect(
            lambda _now, _before: self.update_buttons())
        self.empty = QLabel(empty_text)
        self.empty.setWordWrap(True)
        self.buttons = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.buttons)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)

    def set_rows(self, rows: Sequence[S], select: uuid.UUID | None = None) -> None:
        """Show the list, keeping (or moving to) the chosen row."""
        keep = select or self.current_id()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        if self._hide_empty_table:
            self.table.setVisible(bool(rows))
        row = next((index for index, summary in enumerate(rows) if summary.id == keep), 0)
        if rows:
            self.table.selectRow(row)
        self.update_buttons()

    def current(self) -> S | None:
        """The chosen row, if any."""
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def current_id(self) -> uuid.UUID | None:
        """The id of the chosen row, if any."""
        summary = self.current()
        return summary.id if summary is not None else None

    def emit_current(self, signal: SignalInstance) -> None:
        """Ask for ``signal``'s command on the chosen row."""
        summary = self.current()
        if summary is not None:
            signal.emit(summary.id)

    def _open(self, row: int) -> None:
        if 0 <= row < len(self.model.rows):
            self.open_row(self.model.rows[row])

    def open_row(self, summary: S) -> None:
        """Enter or a double click on a row."""
        raise NotImplementedError

    def update_buttons(self) -> None:
        """Enable the buttons that apply to the chosen row."""
        raise NotImplementedError
