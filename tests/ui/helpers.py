"""Constants and small readers shared by the widget tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QTreeWidgetItem, QWidget

from desktop.domain.roster import COLUMN_KEYS
from desktop.domain.wareki import association_year
from desktop.ui.main_window import MainWindow

TODAY = date(2026, 6, 1)
YEAR = association_year(TODAY)  # 2026年度: the demo's officers hold their roles in it
DEMO_HOUSEHOLDS = 40
DEMO_SEED = 7
COLUMN = {key: index for index, key in enumerate(COLUMN_KEYS)}


# ---------------------------------------------------------------- recorders


@dataclass
class Messages:
    """What the product said through :mod:`desktop.ui.messages`; ``answer`` is what every
    confirmation gets."""

    warnings: list[str] = field(default_factory=list)
    informations: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    titles: list[str | None] = field(default_factory=list)
    parents: list[QWidget | None] = field(default_factory=list)
    answer: bool = False

    def warn(self, parent: QWidget | None, text: str, *, title: str | None = None) -> None:
        self.warnings.append(text)
        self.titles.append(title)
        self.parents.append(parent)

    def inform(self, parent: QWidget | None, text: str, *, title: str | None = None) -> None:
        self.informations.append(text)

    def confirm(self, parent: QWidget | None, text: str, *, title: str | None = None) -> bool:
        self.questions.append(text)
        return self.answer


@dataclass
class Asked:
    """The prompts a patched ``QInputDialog`` method was called with."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    kwargs: list[dict[str, Any]] = field(default_factory=list)


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


def type_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` one character at a time, as an officer would.

    ASCII goes through ``qtbot.keyClicks``; QTest cannot press a key for kana or kanji (it
    aborts), so those arrive as an input method's commit, which is how a Japanese IME
    delivers them.
    """
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            event = QInputMethodEvent()
            event.setCommitString(char)
            QApplication.sendEvent(widget, event)


def group_item(window: MainWindow, name: str) -> QTreeWidgetItem:
    """The group tree's row called ``name`` (fails unless there is exactly one)."""
    flags = Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive
    found = window.groups.findItems(name, flags, 0)
    assert len(found) == 1, f"{name} is not in the group tree exactly once"
    return found[0]


def choose_group(window: MainWindow, name: str) -> None:
    """Choose a row of the group tree, as a click would."""
    window.groups.setCurrentItem(group_item(window, name))
