"""The roster view: 50音順, search-as-you-type, keyboard moves, group filter, withdrawn, sort."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.domain import households
from desktop.domain.demo_data import DemoRoster, iter_han, iter_households
from desktop.domain.text import kana_sort_key
from desktop.ui.household_dialog import HouseholdDialog
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import COLUMN, TODAY, group_item, is_focused, select, shown, type_text


def _in_50on_order(window: MainWindow) -> bool:
    keys = [
        (kana_sort_key(furigana), number)
        for furigana, number in zip(
            shown(window.model, "furigana"), shown(window.model, "number"), strict=True
        )
    ]
    return keys == sorted(keys)


def _type(qtbot: Any, window: MainWindow, text: str) -> None:
    window.roster.focus_search()
    type_text(qtbot, window.roster.search, text)


def _click_header(qtbot: Any, window: MainWindow, key: str) -> None:
    header = window.roster.table.horizontalHeader()
    column = COLUMN[key]
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


# ---------------------------------------------------------------- what is shown


def test_table_shows_every_active_household(window: MainWindow, demo_roster: DemoRoster) -> None:
    expected = sorted(household.number for household in iter_households(demo_roster))
    assert sorted(shown(window.model, "number")) == expected


def test_table_is_in_50on_order_of_furigana(window: MainWindow) -> None:
    # The demo mixes hiragana and katakana readings: code-point order would split them.
    assert _in_50on_order(window), shown(window.model, "furigana")


def test_first_rows_mix_hiragana_and_katakana_readings(window: MainWindow) -> None:
    furigana = shown(window.model, "furigana")
    assert furigana[:2] == ["アベ ダイキ", "イケダ レン"]
    assert furigana[2] == "いしかわ けんじ"


def test_count_label_shows_shown_of_total(window: MainWindow) -> None:
    assert window.roster.count.text() == "40 of 40 households"


def test_count_label_follows_the_search(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "河野")
    assert window.roster.count.text() == "2 of 40 households"


def test_window_starts_with_the_cursor_in_the_search_field(window: MainWindow) -> None:
    assert is_focused(window.roster.search)


# ---------------------------------------------------------------- search as you type


@pytest.mark.parametrize(
    ("typed", "numbers"),
    [
        pytest.param("はっとり", ["0001"], id="hiragana-finds-katakana-reading"),
        pytest.param("ﾊｯﾄﾘ", ["0001"], id="half-width-katakana"),
        pytest.param("ｺｳﾉ", ["0004", "0007"], id="half-width-finds-both-scripts"),
        pytest.param("河野", ["0004", "0007"], id="name-in-kanji"),
        pytest.param("0420314147", ["0001"], id="phone-digits-without-hyphens"),
        pytest.param("042-031-4147", ["0001"], id="phone-as-written"),
        pytest.param("0036", ["0036"], id="household-number"),
        pytest.param("いしかわ", ["0006", "0027", "0035"], id="reading-of-several"),
    ],
)
def test_typing_filters_the_roster(
    qtbot: Any, window: MainWindow, typed: str, numbers: list[str]
) -> None:
    _type(qtbot, window, typed)
    assert sorted(shown(window.model, "number")) == numbers


def test_search_keeps_50on_order(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "ｲｼｶﾜ")
    assert shown(window.model, "furigana") == [
        "いしかわ けんじ",
        "いしかわ せつこ",
        "いしかわ なおき",
    ]


def test_deleting_characters_widens_the_search_again(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "いしかわ")
    assert sorted(shown(window.model, "number")) == ["0006", "0027", "0035"]
    qtbot.keyClick(window.roster.search, Qt.Key.Key_Backspace)
    qtbot.keyClick(window.roster.search, Qt.Key.Key_Backspace)
    assert window.roster.search.text() == "いし"
    assert {"0006", "0027", "0035", "0020"} <= set(shown(window.model, "number"))  # いしだ
    window.roster.search.clear()
    assert window.model.rowCount() == 40


def test_no_match_shows_an_empty_table(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "ぬぬぬ")
    assert window.model.rowCount() == 0
    assert window.roster.count.text() == "0 of 40 households"


def test_escape_clears_the_search(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "河野")
    qtbot.keyClick(window.roster.search, Qt.Key.Key_Escape)
    assert window.roster.search.text() == ""
    assert window.model.rowCount() == 40


def test_search_selects_the_first_match(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "服部")
    assert window.roster.current_household() == window.model.household_id(0)


# ---------------------------------------------------------------- keyboard into the table


def test_down_moves_focus_into_the_table(qtbot: Any, window: MainWindow) -> None:
    _type(qtbot, window, "いしかわ")
    qtbot.keyClick(window.roster.search, Qt.Key.Key_Down)
    assert is_focused(window.roster.table)
    assert window.roster.table.currentIndex().row() == 0


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The household numbers the editor was opened on (the editor closes at once)."""
    numbers: list[str] = []

    def fake_exec(dialog: HouseholdDialog) -> int:
        numbers.append(dialog.number.text())
        return 0

    monkeypatch.setattr(HouseholdDialog, "exec", fake_exec)
    return numbers


def test_enter_on_a_row_opens_the_editor(qtbot: Any, window: MainWindow, opened: list[str]) -> None:
    select(window, "0036")
    window.roster.table.setFocus()
    qtbot.keyClick(window.roster.table, Qt.Key.Key_Return)
    assert opened == ["0036"]


def test_enter_in_the_search_field_opens_the_first_match(
    qtbot: Any, window: MainWindow, opened: list[str]
) -> None:
    _type(qtbot, window, "ﾊｯﾄﾘ")
    qtbot.keyClick(window.roster.search, Qt.Key.Key_Return)
    assert opened == ["0001"]


def test_double_click_opens_the_editor(qtbot: Any, window: MainWindow, opened: list[str]) -> None:
    select(window, "0040")
    table = window.roster.table
    table.scrollTo(table.currentIndex())
    center = table.visualRect(table.currentIndex()).center()
    # A double click is a press and release, then the second press (Qt wants the first).
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert opened == ["0040"]


# ---------------------------------------------------------------- group filter


@pytest.mark.parametrize("han", ["1班", "2班"])
def test_choosing_a_han_filters_the_roster(
    window: MainWindow, demo_roster: DemoRoster, han: str
) -> None:
    window.groups.setCurrentItem(group_item(window, han))
    expected = next(group for group in iter_han(demo_roster) if group.name == han)
    assert set(shown(window.model, "group")) == {han}
    assert sorted(shown(window.model, "number")) == sorted(h.number for h in expected.households)
    assert _in_50on_order(window)


def test_choosing_all_households_shows_everyone_again(window: MainWindow) -> None:
    window.groups.setCurrentItem(group_item(window, "1班"))
    window.groups.setCurrentItem(group_item(window, "All households"))
    assert window.model.rowCount() == 40


def test_group_filter_and_search_combine(qtbot: Any, window: MainWindow) -> None:
    window.groups.setCurrentItem(group_item(window, "1班"))
    _type(qtbot, window, "いしかわ")
    assert shown(window.model, "number") == ["0006"]  # 0027 and 0035 live in 2班


# ---------------------------------------------------------------- withdrawn households


def _withdraw(window: MainWindow, household: uuid.UUID) -> None:
    with window.file.write() as session:
        households.withdraw_household(session, household_id=household, left_on=TODAY)
    window.reload()


def test_withdrawn_households_are_hidden_until_asked_for(window: MainWindow) -> None:
    _withdraw(window, select(window, "0001"))
    assert "0001" not in shown(window.model, "number")
    assert window.roster.count.text() == "39 of 40 households"

    window.roster.withdrawn.click()
    assert "0001" in shown(window.model, "number")
    status = dict(zip(shown(window.model, "number"), shown(window.model, "withdrawn"), strict=True))
    assert status["0001"] == "Withdrawn"
    assert status["0002"] == ""

    window.roster.withdrawn.click()
    assert "0001" not in shown(window.model, "number")


def test_withdrawn_rows_are_grey(window: MainWindow) -> None:
    _withdraw(window, select(window, "0001"))
    window.roster.withdrawn.click()
    model = window.model
    grey = [
        model.data(model.index(row, 0), Qt.ItemDataRole.ForegroundRole) is not None
        for row in range(model.rowCount())
    ]
    assert grey.count(True) == 1
    assert model.is_withdrawn(grey.index(True))


# ---------------------------------------------------------------- sorting by a header


def test_clicking_the_number_header_sorts_by_number(qtbot: Any, window: MainWindow) -> None:
    _click_header(qtbot, window, "number")
    header = window.roster.table.horizontalHeader()
    assert header.sortIndicatorSection() == COLUMN["number"]
    numbers = shown(window.model, "number")
    descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert numbers == sorted(numbers, reverse=descending)

    _click_header(qtbot, window, "number")
    assert shown(window.model, "number") == sorted(numbers, reverse=not descending)


def test_sorting_by_the_furigana_header_keeps_50on_order(qtbot: Any, window: MainWindow) -> None:
    header = window.roster.table.horizontalHeader()
    _click_header(qtbot, window, "number")  # away from 50音順 first
    for _click in range(2):
        _click_header(qtbot, window, "furigana")
        assert header.sortIndicatorSection() == COLUMN["furigana"]
        furigana = shown(window.model, "furigana")
        numbers = shown(window.model, "number")
        keys = [(kana_sort_key(f), n) for f, n in zip(furigana, numbers, strict=True)]
        descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        assert keys == sorted(keys, reverse=descending)


def test_sort_survives_a_new_search(qtbot: Any, window: MainWindow) -> None:
    _click_header(qtbot, window, "number")
    descending = (
        window.roster.table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    )
    _type(qtbot, window, "いしかわ")
    assert shown(window.model, "number") == sorted(["0006", "0027", "0035"], reverse=descending)
