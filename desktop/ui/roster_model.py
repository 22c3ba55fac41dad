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
from desktop.domain.models import NoticeChannel
from desktop.domain.roster import (
    COLUMN_KEYS,
    ROW_OFFSET,
    WITHDRAWN,
    RosterTable,
    filter_rows,
    match_text,
)
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
_GREY = QBrush(QColor(128, 128, 128))  # withdrawn households

Index = QModelIndex | QPersistentModelIndex


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_GROUP = COLUMN_KEYS.index("group")
_REMEMBERED_SEARCHES = 64


class RosterModel(QAbstractTableModel):
    """Households of the roster, one row each, after the current filter and sort.

    Search results are remembered per folded search text for the current group and withdrawn
    filter, so Backspace and retyping cost nothing, and a longer text searches only the
    shorter one's result.
    """

    def __init__(self, complete_table: Callable[[], None] | None = None) -> None:
        super().__init__()
        # Called when a filter needs the whole roster but only its head has been read.
        self._complete_table = complete_table
        self._table = RosterTable(search=[])
        self._rows: list[int] = []
        self._text = ""
        self._group_ids: set[str | None] | None = None
        self._include_withdrawn = False
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._results: dict[str, list[int]] = {}  # folded text → rows, for the filter above
        self._headers = [_(HEADERS[key]) for key in COLUMN_KEYS]
        self._channel_names = {channel.value: channel_label(channel) for channel in NoticeChannel}
        self._withdrawn_text = _("Withdrawn")

    # ------------------------------------------------------------ data

    def set_table(self, table: RosterTable) -> None:
        """Show a freshly loaded roster with the current filter and sort."""
        self._table = table
        self._results.clear()
        self._refilter()

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
        if not self._table.complete and self._complete_table is not None:
            self._complete_table()  # comes back through set_table with the whole roster
        if text is not None:
            self._text = text
        if group_ids is not False and group_ids != self._group_ids:
            self._group_ids = group_ids  # type: ignore[assignment]
            self._results.clear()
        if include_withdrawn is not None and include_withdrawn != self._include_withdrawn:
            self._include_withdrawn = include_withdrawn
            self._results.clear()
        self._refilter()

    def _matching(self, needle: str) -> list[int]:
        found = self._results.get(needle)
        if found is not None:
            return found
        if not needle:
            found = filter_rows(self._table, group_ids=self._group_ids,
                                include_withdrawn=self._include_withdrawn)
        else:
            # Search within the result of the longest remembered text this one contains.
            shorter = max((key for key in self._results if key in needle), key=len,
                          default="")
            found = match_text(self._table, needle, self._matching(shorter))
        if len(self._results) >= _REMEMBERED_SEARCHES:
            self._results.clear()
        self._results[needle] = found
        return found

    def _refilter(self) -> None:
        self.beginResetModel()
        self._rows = list(self._matching(fold_for_search(self._text)))
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
    # data() runs for every visible cell and role at each repaint: keep it lean.

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMN_KEYS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            return self._display(self._rows[index.row()], index.column())
        if role == _FOREGROUND:
            return _GREY if self._table.withdrawn(self._rows[index.row()]) else None
        if role == _ALIGNMENT and index.column() in _NUMBER_COLUMNS:
            return _RIGHT
        return None

    def _display(self, row: int, column: int) -> str:
        value = self._table.rows[row][ROW_OFFSET + column]
        if value is None:
            return ""
        if column == _GROUP:
            return self._table.group_names.get(value, "")
        if column == _CHANNEL:
            return self._channel_names.get(value, str(value))
        if column == WITHDRAWN:
            return self._withdrawn_text if value else ""
        return str(value)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY
    ) -> Any:
        if role != _DISPLAY:
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
