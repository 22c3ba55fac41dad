"""Constants and small readers shared by the widget tests."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex
from PySide6.QtWidgets import QApplication, QWidget

from desktop.domain.roster import COLUMN_KEYS
from desktop.domain.wareki import association_year
from desktop.ui.main_window import MainWindow

TODAY = date(2026, 6, 1)
YEAR = association_year(TODAY)  # 2026年度: the demo's officers hold their roles in it
DEMO_HOUSEHOLDS = 40
DEMO_SEED = 7
COLUMN = {key: index for index, key in enumerate(COLUMN_KEYS)}


# ---------------------------------------------------------------- reading the views


def shown(model: Any, key: str) -> list[str]:
    """The texts of one column, in view order."""
    column = COLUMN[key]
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def view_row(model: Any, number: str) -> int:
    """The view row of household ``number`` (fails if it is not shown)."""
    numbers = shown(model, "number")
    assert number in numbers, f"household {number} is not shown"
    return numbers.index(number)


def household_id(window: MainWindow, number: str) -> uuid.UUID:
    """The id of a shown household."""
    return window.model.household_id(view_row(window.model, number))


def select(window: MainWindow, number: str) -> uuid.UUID:
    """Select a household in the roster as the officer would, and return its id."""
    row = view_row(window.model, number)
    window.roster.table.selectRow(row)
    return window.model.household_id(row)


def clear_selection(window: MainWindow) -> None:
    """Leave no household chosen in the roster."""
    window.roster.table.setCurrentIndex(QModelIndex())


def flush_deletions() -> None:
    """Run pending ``deleteLater`` calls (windows replaced or closed outside an event loop)."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def menu_titles(main: MainWindow) -> list[str]:
    """The menu bar's titles, in order."""
    return [action.text() for action in main.menuBar().actions()]


def is_focused(widget: QWidget) -> bool:
    """Whether ``widget`` has the keyboard focus of the application."""
    return QApplication.focusWidget() is widget
