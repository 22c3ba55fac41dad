"""Keyboard first: every menu command has a shortcut (bar a few), none is taken twice, and the
main shortcuts do what they say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop.ui.household_dialog import HouseholdDialog
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import is_focused, type_text

# Commands used rarely enough, or reached through their menu, that a shortcut is not needed.
WITHOUT_SHORTCUT = {
    "&Restore from a backup…",  # rare, and asks which backup anyway
    "De&lete group",  # rare, and only for an empty group
    "Add a &role…",  # the role list changes once a year at most
    "Re&name the selected role…",
    "&Delete the selected role",
    # Rare: a few times a year at most.
    "Export &everything (all data)…",
    "Make a new file from a &full export…",
    "Association &settings…",
    "&Purge withdrawn households after the retention period…",
    "Re&quired by the bylaws (on/off)",
    "Not &together with…",
    "Handover &report (引継書) of a past year…",
    # Once per PC or once per association: sharing the roster between office PCs.
    "Start &sharing with other PCs…",
    "Make a new reco&very sheet…",
    "&Receive the roster from another PC…",
    "&Quit",  # QKeySequence.Quit is empty on Windows (and offscreen); Alt+F4 closes there
    "日本語",  # the language menu names each language in itself
    "English",
}


def _actions(menu: QMenu) -> Iterator[QAction]:
    for action in menu.actions():
        if action.isSeparator():
            continue
        submenu = action.menu()
        if isinstance(submenu, QMenu):
            yield from _actions(submenu)
        else:
            yield action


def _menu_actions(window: MainWindow) -> list[QAction]:
    found: list[QAction] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        assert isinstance(menu, QMenu)
        found.extend(_actions(menu))
    return found


def test_every_menu_command_has_a_shortcut(window: MainWindow) -> None:
    actions = _menu_actions(window)
    assert len(actions) > 20
    without = [action.text() for action in actions if action.shortcut().isEmpty()]
    print("menu commands without a shortcut:", *without, sep="\n  ")
    assert sorted(set(without) - WITHOUT_SHORTCUT) == []


def test_no_shortcut_is_used_twice(window: MainWindow) -> None:
    seen: dict[str, str] = {}
    clashes = []
    for action in _menu_actions(window):
        for sequence in action.shortcuts():
            key = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            if key in seen:
                clashes.append(f"{key}: {seen[key]} and {action.text()}")
            seen[key] = action.text()
    assert clashes == []


def test_ctrl_f_focuses_the_search(qtbot: Any, window: MainWindow) -> None:
    type_text(qtbot, window.roster.search, "いしかわ")
    window.roster.table.setFocus()
    assert not is_focused(window.roster.search)
    qtbot.keyClick(window.roster.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert is_focused(window.roster.search)
    assert window.roster.search.selectedText() == "いしかわ"  # typing replaces the search


def test_ctrl_f_from_the_role_tab_comes_back_to_the_roster(qtbot: Any, window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.role_board)
    window.role_board.table.setFocus()
    qtbot.keyClick(window.role_board.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.roster
    assert is_focused(window.roster.search)


def test_ctrl_2_and_ctrl_1_switch_tabs(qtbot: Any, window: MainWindow) -> None:
    qtbot.keyClick(window.roster.search, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.role_board
    qtbot.keyClick(window.role_board.table, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.roster


def test_ctrl_z_undoes_the_last_edit(qtbot: Any, window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.role_board)
    window.role_board.table.selectRow(0)  # 会長
    window.role_board.unassign.click()
    assert window.undo_stack.count() == 1
    window.role_board.table.setFocus()
    qtbot.keyClick(window.role_board.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.undo_stack.index() == 0
    assert window.role_board.table.item(0, 2).text() != "(vacant)"


def test_edit_shortcut_opens_the_selected_household(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_exec(dialog: HouseholdDialog) -> int:
        opened.append(dialog.number.text())
        return 0

    monkeypatch.setattr(HouseholdDialog, "exec", fake_exec)
    window.roster.table.selectRow(0)
    window.roster.table.setFocus()
    qtbot.keyClick(window.roster.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert opened == [window.model.data(window.model.index(0, 0))]
