"""The 回覧板 route dialog, and renaming or deleting roles from the role board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.domain import households, roles
from desktop.ui import route_dialog
from desktop.ui.main_window import MainWindow
from desktop.ui.route_dialog import RouteDialog
from tests.ui.helpers import Asked, Messages, choose_group

Answer = Callable[..., Asked]


def _route(window: MainWindow, han: str) -> list[str]:
    node = next(n for n in _tree(window) if n.name == han)
    with window.file.read() as session:
        return [stop.number for stop in households.han_route(session, group_id=node.id)]


def _tree(window: MainWindow) -> list[Any]:
    from desktop.domain.groups import group_tree

    with window.file.read() as session:
        return group_tree(session)


def test_route_dialog_moves_the_selected_household(qtbot: Any, window: MainWindow) -> None:
    node = next(n for n in _tree(window) if n.name == "1班")
    with window.file.read() as session:
        stops = households.han_route(session, group_id=node.id)
    dialog = RouteDialog(window, han_name="1班", stops=stops)
    qtbot.addWidget(dialog)
    dialog.stops.setCurrentRow(0)
    dialog.move_selected(1)
    order = dialog.order()
    assert order[:2] == [stops[1].household_id, stops[0].household_id]
    dialog.move_selected(-1)
    dialog.move_selected(-1)  # already at the top: nothing happens
    assert dialog.order() == [stop.household_id for stop in stops]


def test_reordering_the_route_is_one_undoable_edit(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_group(window, "1班")
    before = _route(window, "1班")

    def reverse_and_save(dialog: RouteDialog) -> int:
        for row in range(dialog.stops.count()):
            dialog.stops.setCurrentRow(dialog.stops.count() - 1)
            for _ in range(dialog.stops.count() - 1 - row):
                dialog.move_selected(-1)
        return 1

    monkeypatch.setattr(route_dialog.RouteDialog, "exec", reverse_and_save)
    window.group_actions.edit_route()
    assert _route(window, "1班") == list(reversed(before))
    window.undo_stack.undo()
    assert _route(window, "1班") == before
    window.undo_stack.redo()
    assert _route(window, "1班") == list(reversed(before))


def test_route_needs_a_han(window: MainWindow, messages: Messages) -> None:
    window.groups.setCurrentItem(window.groups.topLevelItem(0))  # all households
    window.group_actions.edit_route()
    assert messages.warnings


def test_rename_a_role_then_undo(window: MainWindow, answer_input: Answer) -> None:
    window.tabs.setCurrentWidget(window.role_board)
    window.role_board.table.selectRow(0)  # 会長
    answer_input("getText", "自治会長")
    window.role_actions.rename_role()
    with window.file.read() as session:
        names = [role.name for role in roles.list_roles(session)]
    assert names[0] == "自治会長"
    assert window.role_board.table.item(0, 0).text() == "自治会長"
    window.undo_stack.undo()
    with window.file.read() as session:
        assert roles.list_roles(session)[0].name == "会長"


def test_a_role_with_holders_cannot_be_deleted(window: MainWindow, messages: Messages) -> None:
    window.tabs.setCurrentWidget(window.role_board)
    window.role_board.table.selectRow(0)  # 会長, held in the demo
    messages.answer = True
    window.role_actions.delete_role()
    assert any("cannot be deleted" in text for text in messages.warnings)


def test_a_new_role_can_be_deleted(
    window: MainWindow, answer_input: Answer, messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.tabs.setCurrentWidget(window.role_board)
    answer_input("getText", "広報部長")
    monkeypatch.setattr("PySide6.QtWidgets.QInputDialog.getItem",
                        staticmethod(lambda *args, **kwargs: (args[3][0], True)))
    window.role_actions.add_role()
    table = window.role_board.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "広報部長")
    table.selectRow(row)
    messages.answer = True
    window.role_actions.delete_role()
    with window.file.read() as session:
        assert "広報部長" not in [role.name for role in roles.list_roles(session)]
    assert not any(table.item(r, 0).text() == "広報部長" for r in range(table.rowCount()))
    assert table.item(0, 0).flags() & Qt.ItemFlag.ItemIsEnabled
