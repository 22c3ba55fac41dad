"""The roster view: search-as-you-type over a table of households, keyboard first.

Typing filters at once (no search button); Down moves into the table, Enter opens the
household, Escape clears the search.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import _
from desktop.ui.enter_table import EnterTableView
from desktop.ui.roster_model import RosterModel


class RosterPanel(QWidget):
    """Search field, withdrawn toggle, count and the table."""

    open_household = Signal(object)  # uuid.UUID

    def __init__(self, model: RosterModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            _("Search name, furigana, address, phone or number (Ctrl+F)")
        )
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)
        self.search.installEventFilter(self)
        self.withdrawn = QCheckBox(_("Show &withdrawn households"))
        self.withdrawn.toggled.connect(
            lambda checked: self.model.set_filter(include_withdrawn=checked)
        )
        self.count = QLabel()
        self.table = EnterTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # No sort indicator: rows come in 50音順 (enabling sorting sorts by the indicator).
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.activated_row.connect(self._open_row)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        model.modelReset.connect(self._update_count)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.withdrawn)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.apply_text_size()

    def apply_text_size(self) -> None:
        """Fit row heights and column widths to the current font (after a text-size change)."""
        metrics = self.table.fontMetrics()
        self.table.verticalHeader().setDefaultSectionSize(int(metrics.height() * 1.5))
        widths = (5, 9, 10, 5, 18, 9, 5, 3, 4)  # in full-width characters
        em = metrics.horizontalAdvance("あ")
        for column, chars in enumerate(widths):
            self.table.setColumnWidth(column, em * chars + 12)

    def _search_changed(self, text: str) -> None:
        self.model.set_filter(text=text)
        if self.model.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), len(self.model.table)
        self.count.setText(_("{shown} of {total} households").format(shown=shown, total=total))

    def _open_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.open_household.emit(self.model.household_id(row))

    def current_household(self) -> uuid.UUID | None:
        """The household of the selected row, if any."""
        index = self.table.currentIndex()
        return self.model.household_id(index.row()) if index.isValid() else None

    def select_household(self, household_id: uuid.UUID) -> None:
        """Select a household's row if it is shown."""
        row = self.model.view_row_of(household_id)
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def focus_search(self) -> None:
        """Put the cursor in the search field, selecting what is there."""
        self.search.setFocus()
        self.search.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)):
            key = event.key()
            if key == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                    and self.model.rowCount():
                self.table.setFocus()
                if not self.table.currentIndex().isValid():
                    self.table.selectRow(0)
                if key != Qt.Key.Key_Down:
                    self._open_row(self.table.currentIndex().row())
                return True
        return super().eventFilter(watched, event)
