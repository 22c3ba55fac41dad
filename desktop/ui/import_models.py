"""Table models of the import wizard: a sheet's first rows as read, and the plan's outcomes.

Both are read-only views over values the domain already computed; filtering the plan keeps a
list of row numbers and resets the model over it (no items are rebuilt), so a plan of 50,000
households filters at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desktop.domain.imports.model import SheetData
from desktop.domain.imports.plan import ImportPlan, Outcome, PlannedRow
from desktop.i18n import N_, _

Index = QModelIndex | QPersistentModelIndex

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)

# Pale backgrounds that keep black text readable (and are not the only sign: the outcome is
# also written out in its own column).
HEADER_BACKGROUND = QBrush(QColor(255, 229, 153))
_OUTCOME_BACKGROUND = {
    Outcome.NEW: QBrush(QColor(220, 242, 220)),
    Outcome.UPDATE: QBrush(QColor(255, 243, 205)),
    Outcome.ERROR: QBrush(QColor(248, 215, 218)),
}
_BLACK = QBrush(QColor(0, 0, 0))

OUTCOME_LABELS = {
    Outcome.NEW: N_("New"),
    Outcome.UPDATE: N_("Update"),
    Outcome.UNCHANGED: N_("Unchanged"),
    Outcome.ERROR: N_("Problem"),
}

PLAN_COLUMNS = (
    ("sheet", N_("Sheet")),
    ("rows", N_("Rows")),
    ("number", N_("No.")),
    ("name", N_("Name")),
    ("outcome", N_("Outcome")),
    ("details", N_("What changes, or why not")),
)


def column_letter(index: int) -> str:
    """The column's letters as Excel shows them: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def cell_text(value: object) -> str:
    """A cell as the officer would read it in Excel (12.0 → 12, dates as 2025-04-01)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def rows_text(rows: Sequence[int]) -> str:
    """A household's rows: 「5」, or 「5–7」 for the consecutive rows of its members."""
    if not rows:
        return ""
    if len(rows) > 1 and list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return f"{rows[0]}–{rows[-1]}"
    return ", ".join(str(row) for row in rows)


def details_text(row: PlannedRow) -> str:
    """What a planned row would change, or why it cannot be imported."""
    if row.outcome == Outcome.ERROR:
        return row.message
    if row.outcome == Outcome.UPDATE:
        return "; ".join(f"{change.title}: {change.old or '—'} → {change.new or '—'}"
                         for change in row.changes)
    if row.outcome == Outcome.NEW and row.group:
        return _("joins {group}").format(group=row.group)
    return ""


class SheetPreviewModel(QAbstractTableModel):
    """The first rows of one sheet, as read, with the header rows highlighted."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[object, ...]] = []
        self._width = 0
        self._header: tuple[int, ...] = ()
        self._bold = QFont()
        self._bold.setBold(True)

    def set_sheet(self, sheet: SheetData | None, *, header_rows: tuple[int, ...],
                  shown: int) -> None:
        """Show the first ``shown`` rows of ``sheet``; ``header_rows`` are 1-based."""
        self.beginResetModel()
        self._rows = list(sheet.rows[:shown]) if sheet is not None else []
        self._width = max((len(row) for row in self._rows), default=0)
        self._header = header_rows
        self.endResetModel()

    def is_header(self, row: int) -> bool:
        """Whether the view row ``row`` (0-based) is one of the header rows."""
        return row + 1 in self._header

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._width

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role in (_DISPLAY, _TOOLTIP):
            return cell_text(row[index.column()]) if index.column() < len(row) else ""
        if self.is_header(index.row()):
            if role == _BACKGROUND:
                return HEADER_BACKGROUND
            if role == _FOREGROUND:
                return _BLACK
            if role == _FONT:
                return self._bold
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return column_letter(section)
        return str(section + 1)  # the row number Excel shows


class PlanModel(QAbstractTableModel):
    """Every household of the file with its outcome; optionally only changes and problems."""

    def __init__(self) -> None:
        super().__init__()
        self._plan: ImportPlan | None = None
        self._shown: list[int] = []
        self._only_changes = False

    @property
    def plan(self) -> ImportPlan | None:
        """The plan shown, if any."""
        return self._plan

    def set_plan(self, plan: ImportPlan | None) -> None:
        """Show ``plan`` (None: nothing)."""
        self._plan = plan
        self._refilter()

    def set_only_changes(self, only: bool) -> None:
        """Show only new, updated and problem rows (True) or every row."""
        self._only_changes = only
        self._refilter()

    def _refilter(self) -> None:
        self.beginResetModel()
        rows = self._plan.rows if self._plan is not None else []
        self._shown = [index for index, row in enumerate(rows)
                       if not self._only_changes or row.outcome != Outcome.UNCHANGED]
        self.endResetModel()

    def planned(self, row: int) -> PlannedRow:
        """The planned row shown at view row ``row``."""
        assert self._plan is not None
        return self._plan.rows[self._shown[row]]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(PLAN_COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        planned = self.planned(index.row())
        if role in (_DISPLAY, _TOOLTIP):
            return self._text(planned, PLAN_COLUMNS[index.column()][0])
        if role == _BACKGROUND:
            return _OUTCOME_BACKGROUND.get(planned.outcome)
        if role == _FOREGROUND and planned.outcome in _OUTCOME_BACKGROUND:
            return _BLACK
        return None

    @staticmethod
    def _text(planned: PlannedRow, key: str) -> str:
        if key == "sheet":
            return planned.sheet
        if key == "rows":
            return rows_text(planned.rows)
        if key == "number":
            return planned.number
        if key == "name":
            return planned.name
        if key == "outcome":
            return _(OUTCOME_LABELS[planned.outcome])
        return details_text(planned)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if role != _DISPLAY or orientation != Qt.Orientation.Horizontal:
            return None
        return _(PLAN_COLUMNS[section][1])
