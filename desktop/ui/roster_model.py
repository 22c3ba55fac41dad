"""The roster table model: a view onto the columnar roster, filtered by an index of rows.

Filtering never rebuilds items: a search or group filter computes the list of matching row
numbers (``filter_rows``) and resets the model over it, which takes milliseconds for 50,000
households where a QSortFilterProxyModel takes seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop.domain.labels import channel_label
from desktop.domain.roster import COLUMN_KEYS, WITHDRAWN, RosterTable, filter_rows
from desktop.domain.text import fold_for_search
from desktop.i18n import N_, _

HEADERS = {
    "number": N_("No."),
    "name": N_("Name"),
    "furigana": N_("Furigana"),
    "group": N_("Group"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "channel": N_("Notices"),
    "members": N_("Members"),
    "withdrawn": N_("Status"),
}
_NUMBER_COLUMNS = {COLUMN_KEYS.index("members")}
_CHANNEL = COLUMN_KEYS.index("channel")
_GREY = QBrush(QColor(128, 128, 128))

Index = QModelIndex | QPersistentModelIndex


class RosterModel(QAbstractTableModel):
    """Households of the roster, one row each, after the current filter and sort."""

    def __init__(self, load_search_texts: Callable[[RosterTable], None] | None = None) -> None:
        super().__init__()
        self._load_search_texts = load_search_texts
        self._table = RosterTable(search=[])
        self._rows: list[int] = []
        self._text = ""
        self._group_ids: set[str | None] | None = None
        self._include_withdrawn = False
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._headers = [_(HEADERS[key]) for key in COLUMN_KEYS]

    # ------------------------------------------------------------ data

    def set_table(self, table: RosterTable) -> None:
        """Show a freshly loaded roster with the current filter and sort."""
        self._table = table
        self._refilter(narrow=False)

    @property
    def table(self) -> RosterTable:
        """The whole roster behind the model."""
        return self._table

    def set_filter(
        self,
        *,
        text: str | None = None,
        group_ids: set[str | None] | bool | None = False,
        include_withdrawn: bool | None = None,
    ) -> None:
        """Change any part of the filter (``group_ids=None`` means every group)."""
        narrow = True
        if text is not None:
            # The next keystroke usually extends the search: search only the last result.
            narrow = fold_for_search(self._text) in fold_for_search(text)
            self._text = text
        if group_ids is not False:
            narrow = False
            self._group_ids = group_ids  # type: ignore[assignment]
        if include_withdrawn is not None:
            narrow = narrow and include_withdrawn == self._include_withdrawn
            self._include_withdrawn = include_withdrawn
        self._refilter(narrow=narrow)

    def ensure_search_texts(self) -> None:
        """Load the search texts if the table came without them (the window loads the roster
        without them to paint sooner, then calls this when idle)."""
        if self._table.search is None and self._load_search_texts is not None:
            self._load_search_texts(self._table)

    def _refilter(self, *, narrow: bool) -> None:
        if self._text:
            self.ensure_search_texts()
        self.beginResetModel()
        rows = filter_rows(
            self._table,
            text=self._text,
            group_ids=self._group_ids,
            include_withdrawn=self._include_withdrawn,
            within=sorted(self._rows) if narrow else None,
        )
        self._rows = rows
        if self._sort is not None:
            self._apply_sort(*self._sort)
        self.endResetModel()

    def household_id(self, row: int) -> uuid.UUID:
        """The household shown in view row ``row``."""
        return self._table.household_id(self._rows[row])

    def view_row_of(self, household_id: uuid.UUID) -> int | None:
        """Where a household is shown now, if it passes the filter."""
        table_row = self._table.row_of(household_id)
        if table_row is None:
            return None
        try:
            return self._rows.index(table_row)
        except ValueError:
            return None

    def is_withdrawn(self, row: int) -> bool:
        """Whether the household in view row ``row`` has withdrawn."""
        return self._table.withdrawn(self._rows[row])

    # ------------------------------------------------------------ Qt model

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMN_KEYS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and self._table.withdrawn(row):
            return _GREY
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMBER_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: int, column: int) -> str:
        value = self._table.value(row, column)
        if column == WITHDRAWN:
            return _("Withdrawn") if value else ""
        if column == _CHANNEL:
            return channel_label(str(value))
        return "" if value is None else str(value)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        if column < 0:  # no sort column: back to 50音順
            self._sort = None
            self._rows.sort()
        else:
            self._sort = (column, order)
            self._apply_sort(column, order)
        self.layoutChanged.emit()

    def _apply_sort(self, column: int, order: Qt.SortOrder) -> None:
        reverse = order == Qt.SortOrder.DescendingOrder
        if COLUMN_KEYS[column] in ("name", "furigana"):
            # Table rows are already in 50音順 of furigana, so row number is the sort key.
            self._rows.sort(reverse=reverse)
            return
        value, numeric = self._table.value, column in _NUMBER_COLUMNS
        self._rows.sort(
            key=lambda row: (value(row, column) or 0) if numeric else str(value(row, column) or ""),
            reverse=reverse,
        )
