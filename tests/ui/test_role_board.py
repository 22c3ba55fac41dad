"""The role board tab: the year's roles and holders, assigning through the member picker,
conflicts explained, and removing a holder with undo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.domain import members
from desktop.domain.demo_data import DemoRoster, iter_households
from desktop.domain.wareki import format_nendo
from desktop.ui.main_window import MainWindow
from desktop.ui.member_picker import MemberPicker
from tests.ui.helpers import YEAR, Messages

Row = tuple[str, str, str, str]


def _open_roles(window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.role_board)


def _rows(window: MainWindow) -> list[Row]:
    table = window.role_board.table
    return [
        tuple(table.item(row, column).text() for column in range(4))  # type: ignore[misc]
        for row in range(table.rowCount())
    ]


def _select(window: MainWindow, role: str, group: str = "") -> None:
    rows = _rows(window)
    index = next(i for i, row in enumerate(rows) if row[:2] == (role, group))
    window.role_board.table.selectRow(index)


def _holders(window: MainWindow, role: str, group: str = "") -> list[str]:
    return [row[2] for row in _rows(window) if row[:2] == (role, group)]


@pytest.fixture
def pick(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[MemberPicker]]:
    """Replace the member picker's ``exec``: type ``text`` and take the first match."""

    def patch(text: str) -> list[MemberPicker]:
        opened: list[MemberPicker] = []

        def fake_exec(picker: MemberPicker) -> int:
            opened.append(picker)
            picker.search.setText(text)
            assert picker.results.count() > 0, f"no member matches {text}"
            picker.accept()
            return picker.result()

        monkeypatch.setattr(MemberPicker, "exec", fake_exec)
        return opened

    return patch


def test_role_tab_shows_this_years_officers(window: MainWindow, demo_roster: DemoRoster) -> None:
    _open_roles(window)
    assert window.role_board.year.currentText() == format_nendo(YEAR)
    assert window.role_board.current_year() == YEAR
    by_number = {h.number: h for h in iter_households(demo_roster)}
    expected = {
        (
            officer.role,
            officer.group_name or "",
            by_number[officer.household_number].members[officer.member_index].name,
            officer.household_number,
        )
        for officer in demo_roster.officers
    }
    held = {row for row in _rows(window) if row[3]}
    assert held == expected


def test_every_role_has_a_line(window: MainWindow) -> None:
    _open_roles(window)
    lines = [row[:2] for row in _rows(window)]
    for role in ("会長", "会計", "書記", "防災部長"):
        assert (role, "") in lines
    assert ("班長", "1班") in lines
    assert ("班長", "2班") in lines
    assert _holders(window, "監事") == ["(vacant)"]
    assert window.role_board.vacant.text() == "1 vacant"


def test_another_year_has_no_holders(window: MainWindow) -> None:
    _open_roles(window)
    board = window.role_board
    board.year.setCurrentIndex(board.year.findData(YEAR - 1))
    assert all(row[2] == "(vacant)" for row in _rows(window))
    assert board.year.count() == 7  # five years back, this one and the next


def test_second_kaicho_shows_the_conflict(
    window: MainWindow, pick: Callable[[str], list[MemberPicker]], messages: Messages
) -> None:
    _open_roles(window)
    _select(window, "会長")
    opened = pick("服部")
    window.role_board.assign.click()

    assert opened[0].windowTitle() == "Who holds 会長?"
    assert len(messages.warnings) == 1
    assert "会長 in" in messages.warnings[0]
    assert "is already held by 木村 修; only 1 may hold it." in messages.warnings[0]
    assert _holders(window, "会長") == ["木村 修"]
    assert window.undo_stack.count() == 0


def test_assign_a_vacant_role_then_undo(
    window: MainWindow, pick: Callable[[str], list[MemberPicker]], messages: Messages
) -> None:
    _open_roles(window)
    _select(window, "監事")
    pick("服部")
    window.role_board.assign.click()
    assert messages.warnings == []
    assert _holders(window, "監事") == ["服部 修"]
    assert window.role_board.vacant.text() == ""
    window.undo_stack.undo()
    assert _holders(window, "監事") == ["(vacant)"]


def test_enter_on_a_line_assigns(
    window: MainWindow, pick: Callable[[str], list[MemberPicker]]
) -> None:
    _open_roles(window)
    _select(window, "監事")
    opened = pick("ﾊｯﾄﾘ")
    table = window.role_board.table
    table.itemActivated.emit(table.currentItem())
    assert len(opened) == 1
    assert _holders(window, "監事") == ["服部 修"]


def test_picker_closed_without_a_choice_changes_nothing(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MemberPicker, "exec", lambda _picker: 0)
    _open_roles(window)
    _select(window, "監事")
    window.role_board.assign.click()
    assert _holders(window, "監事") == ["(vacant)"]


def test_unassign_then_undo_puts_the_holder_back(window: MainWindow) -> None:
    _open_roles(window)
    _select(window, "会長")
    window.role_board.unassign.click()
    assert _holders(window, "会長") == ["(vacant)"]
    assert window.undo_stack.undoText() == "Remove role holder"

    window.undo_stack.undo()
    assert _holders(window, "会長") == ["木村 修"]
    assert ("会長", "", "木村 修", "0040") in _rows(window)
    window.undo_stack.redo()
    assert _holders(window, "会長") == ["(vacant)"]


def test_unassign_of_a_vacant_line_does_nothing(window: MainWindow) -> None:
    _open_roles(window)
    _select(window, "監事")
    window.role_board.unassign.click()
    assert window.undo_stack.count() == 0


def test_member_picker_finds_by_reading_and_moves_with_arrows(
    qtbot: Any, window: MainWindow
) -> None:
    def find(text: str) -> list[members.MemberChoice]:
        with window.file.read() as session:
            return members.find_members(session, text=text)

    picker = MemberPicker(window, title="Who?", find=find)
    picker.search.setText("いしかわ")
    assert picker.results.count() >= 3
    assert picker.results.currentRow() == 0
    qtbot.keyClick(picker.search, Qt.Key.Key_Down)
    assert picker.results.currentRow() == 1
    assert picker.chosen() is not None
    picker.search.setText("ぬぬぬ")
    assert picker.results.count() == 0
    assert picker.chosen() is None
