"""The group tree: counts that match the roster, adding, renaming and deleting a 班 with undo."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desktop.domain import households
from desktop.domain.demo_data import DemoRoster, iter_han
from desktop.domain.models import GroupKind
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import Asked, Messages, choose_group, group_item, select, shown

Answer = Callable[..., Asked]


def _names(window: MainWindow) -> list[str]:
    tree = window.groups
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]


@pytest.mark.parametrize("han", ["1班", "2班"])
def test_han_counts_match_the_demo(window: MainWindow, demo_roster: DemoRoster, han: str) -> None:
    group = next(g for g in iter_han(demo_roster) if g.name == han)
    paper = sum(1 for household in group.households if household.channel == "paper")
    item = group_item(window, han)
    assert (item.text(1), item.text(2)) == (str(len(group.households)), str(paper))


def test_all_households_counts_everyone(window: MainWindow, demo_roster: DemoRoster) -> None:
    hans = list(iter_han(demo_roster))
    paper = sum(1 for g in hans for h in g.households if h.channel == "paper")
    item = group_item(window, "All households")
    assert (item.text(1), item.text(2)) == ("40", str(paper))


def test_counts_match_the_roster_shown(window: MainWindow) -> None:
    for han in ("1班", "2班"):
        choose_group(window, han)
        paper = shown(window.model, "channel").count("Paper")
        item = group_item(window, han)
        assert (item.text(1), item.text(2)) == (str(window.model.rowCount()), str(paper))


def test_tree_lists_all_then_the_han(window: MainWindow) -> None:
    assert _names(window) == ["All households", "1班", "2班"]
    assert window.groups.current_group_id() is None  # "All households" is chosen


def test_a_household_in_no_group_gets_its_own_row(window: MainWindow) -> None:
    with window.file.write() as session:
        households.move_household(session, household_id=select(window, "0001"), group_id=None)
    window.reload()
    assert _names(window)[-1] == "No group"
    assert group_item(window, "No group").text(1) == "1"
    choose_group(window, "No group")
    assert window.model.rowCount() == 1


def test_choice_survives_a_reload(window: MainWindow) -> None:
    choose_group(window, "2班")
    window.reload()
    assert window.groups.currentItem().text(0) == "2班"
    assert set(shown(window.model, "group")) == {"2班"}


# ---------------------------------------------------------------- editing groups


def test_add_a_han_then_undo(window: MainWindow, answer_input: Answer) -> None:
    answer_input("getText", "3班")
    window.group_actions.add_group(GroupKind.HAN)
    assert _names(window) == ["All households", "1班", "2班", "3班"]
    assert (group_item(window, "3班").text(1), group_item(window, "3班").text(2)) == ("0", "0")
    assert window.undo_stack.undoText() == "Add 3班"

    window.undo_stack.undo()
    assert _names(window) == ["All households", "1班", "2班"]
    window.undo_stack.redo()
    assert "3班" in _names(window)


def test_new_han_is_offered_to_the_editor_and_the_move(
    window: MainWindow, answer_input: Answer
) -> None:
    answer_input("getText", "3班")
    window.group_actions.add_group(GroupKind.HAN)
    select(window, "0001")
    asked = answer_input("getItem", "3班")
    window.household_actions.move_household()
    assert asked.calls[0][3] == ["1班", "2班", "3班"]
    assert group_item(window, "3班").text(1) == "1"


def test_add_a_han_with_a_used_name_warns(
    window: MainWindow, answer_input: Answer, messages: Messages
) -> None:
    answer_input("getText", "1班")
    window.group_actions.add_group(GroupKind.HAN)
    assert messages.warnings == ["There is already a group called 1班 here. Choose another name."]
    assert window.undo_stack.count() == 0


def test_add_a_han_cancelled(window: MainWindow, answer_input: Answer) -> None:
    answer_input("getText", "3班", ok=False)
    window.group_actions.add_group(GroupKind.HAN)
    assert _names(window) == ["All households", "1班", "2班"]


def test_add_a_han_inside_the_chosen_district(window: MainWindow, answer_input: Answer) -> None:
    answer_input("getText", "東地区")
    window.group_actions.add_group(GroupKind.DISTRICT)
    choose_group(window, "東地区")
    answer_input("getText", "3班")
    window.group_actions.add_group(GroupKind.HAN)
    district = group_item(window, "東地区")
    assert [district.child(i).text(0) for i in range(district.childCount())] == ["3班"]


def test_rename_then_undo(window: MainWindow, answer_input: Answer) -> None:
    choose_group(window, "1班")
    answer_input("getText", "一班")
    window.group_actions.rename_group()
    assert "一班" in _names(window)
    assert set(shown(window.model, "group")) == {"一班"}  # still filtered, by the new name
    window.undo_stack.undo()
    assert "1班" in _names(window)


def test_delete_a_han_with_households_is_refused(window: MainWindow, messages: Messages) -> None:
    choose_group(window, "1班")
    window.group_actions.delete_group()
    assert messages.warnings == [
        "1班 still has households or 班 in it. Move them to another group first."
    ]


def test_delete_an_empty_han_then_undo(window: MainWindow, answer_input: Answer) -> None:
    answer_input("getText", "3班")
    window.group_actions.add_group(GroupKind.HAN)
    choose_group(window, "3班")
    window.group_actions.delete_group()
    assert "3班" not in _names(window)
    window.undo_stack.undo()
    assert "3班" in _names(window)


def test_group_actions_without_a_chosen_group_say_so(
    window: MainWindow, messages: Messages
) -> None:
    window.group_actions.rename_group()
    window.group_actions.delete_group()
    assert messages.warnings == ["Choose a group in the group list first."] * 2
