"""Household menu actions on the selected household: move, withdraw, re-admit, delete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest

from desktop.domain import households, roles
from desktop.domain.errors import NotFoundError
from desktop.domain.households import HouseholdRecord
from desktop.store.association_file import AssociationFile
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import (
    TODAY,
    Asked,
    Messages,
    clear_selection,
    group_item,
    select,
    shown,
)

Answer = Callable[..., Asked]


def _record(demo_file: AssociationFile, household: uuid.UUID) -> HouseholdRecord:
    with demo_file.read() as session:
        return households.get_household(session, household_id=household)


def _group_of(window: MainWindow, number: str) -> str:
    return dict(zip(shown(window.model, "number"), shown(window.model, "group"), strict=True))[
        number
    ]


def _withdraw(window: MainWindow, answer_input: Answer, number: str) -> uuid.UUID:
    household = select(window, number)
    answer_input("getText", "令和8年5月1日")
    window.household_actions.withdraw_household()
    return household


def _show_withdrawn(window: MainWindow) -> None:
    if not window.roster.withdrawn.isChecked():
        window.roster.withdrawn.click()


# ---------------------------------------------------------------- nothing chosen


def test_actions_without_a_chosen_household_say_so(window: MainWindow, messages: Messages) -> None:
    clear_selection(window)
    for action in (
        window.household_actions.move_household,
        window.household_actions.withdraw_household,
        window.household_actions.readmit_household,
        window.household_actions.purge_household,
    ):
        action()
    assert messages.warnings == ["Choose a household in the roster first."] * 4
    assert window.undo_stack.count() == 0


# ---------------------------------------------------------------- move


def test_move_to_another_han_and_undo(
    window: MainWindow, answer_input: Answer, demo_file: AssociationFile
) -> None:
    household = select(window, "0001")
    before = _record(demo_file, household)
    asked = answer_input("getItem", "2班")
    window.household_actions.move_household()

    (call,) = asked.calls
    choices, current = call[3], call[4]
    assert choices == ["1班", "2班"]
    assert choices[current] == "1班"  # the dialog starts at the household's own 班
    assert _group_of(window, "0001") == "2班"
    assert group_item(window, "1班").text(1) == "16"
    assert group_item(window, "2班").text(1) == "24"
    moved = _record(demo_file, household)
    assert moved.circulation_order == 24  # at the end of the new 班's route

    window.undo_stack.undo()
    assert _group_of(window, "0001") == "1班"
    after = _record(demo_file, household)
    assert (after.group_id, after.circulation_order) == (
        before.group_id,
        before.circulation_order,
    )
    window.undo_stack.redo()
    assert _group_of(window, "0001") == "2班"


def test_move_cancelled_changes_nothing(window: MainWindow, answer_input: Answer) -> None:
    select(window, "0001")
    answer_input("getItem", "2班", ok=False)
    window.household_actions.move_household()
    assert _group_of(window, "0001") == "1班"
    assert window.undo_stack.count() == 0


# ---------------------------------------------------------------- withdraw and re-admit


def test_withdraw_hides_the_household(
    window: MainWindow, answer_input: Answer, demo_file: AssociationFile
) -> None:
    household = select(window, "0001")
    asked = answer_input("getText", "令和8年5月1日")
    window.household_actions.withdraw_household()

    assert asked.kwargs == [{"text": TODAY.isoformat()}]  # today is offered
    assert _record(demo_file, household).left_on == date(2026, 5, 1)
    assert "0001" not in shown(window.model, "number")
    assert window.roster.count.text() == "39 of 40 households"
    assert group_item(window, "1班").text(1) == "16"
    assert window.undo_stack.undoText() == "Withdraw 服部 修"


def test_withdrawn_household_shows_with_the_toggle(
    window: MainWindow, answer_input: Answer
) -> None:
    _withdraw(window, answer_input, "0001")
    _show_withdrawn(window)
    status = dict(zip(shown(window.model, "number"), shown(window.model, "withdrawn"), strict=True))
    assert status["0001"] == "Withdrawn"
    assert window.roster.count.text() == "40 of 40 households"


def test_withdraw_then_undo(
    window: MainWindow, answer_input: Answer, demo_file: AssociationFile
) -> None:
    household = _withdraw(window, answer_input, "0001")
    window.undo_stack.undo()
    assert "0001" in shown(window.model, "number")
    record = _record(demo_file, household)
    assert (record.left_on, record.circulation_order) == (None, 1)  # back at the route's start


def test_withdraw_accepts_a_western_date(
    window: MainWindow, answer_input: Answer, demo_file: AssociationFile
) -> None:
    household = select(window, "0001")
    answer_input("getText", "2026-05-31")
    window.household_actions.withdraw_household()
    assert _record(demo_file, household).left_on == date(2026, 5, 31)


def test_withdraw_with_a_wrong_date_warns(
    window: MainWindow, answer_input: Answer, messages: Messages
) -> None:
    select(window, "0001")
    answer_input("getText", "来月")
    window.household_actions.withdraw_household()
    assert messages.warnings == ["「来月」 is not a date. Type it as 令和7年4月1日 or 2025-04-01."]
    assert "0001" in shown(window.model, "number")


def test_withdraw_cancelled_changes_nothing(window: MainWindow, answer_input: Answer) -> None:
    select(window, "0001")
    answer_input("getText", "令和8年5月1日", ok=False)
    window.household_actions.withdraw_household()
    assert "0001" in shown(window.model, "number")


def test_readmit(window: MainWindow, answer_input: Answer, demo_file: AssociationFile) -> None:
    household = _withdraw(window, answer_input, "0001")
    _show_withdrawn(window)
    select(window, "0001")
    window.household_actions.readmit_household()
    assert _record(demo_file, household).left_on is None
    window.roster.withdrawn.click()  # hide withdrawn again: 0001 is a member now
    assert "0001" in shown(window.model, "number")

    window.undo_stack.undo()
    assert _record(demo_file, household).left_on == date(2026, 5, 1)


def test_readmit_of_a_member_warns(window: MainWindow, messages: Messages) -> None:
    select(window, "0001")
    window.household_actions.readmit_household()
    assert messages.warnings == ["服部 修 is a member already."]


# ---------------------------------------------------------------- delete for good


def test_purge_asks_then_removes(
    window: MainWindow, answer_input: Answer, messages: Messages, demo_file: AssociationFile
) -> None:
    household = _withdraw(window, answer_input, "0001")
    _show_withdrawn(window)
    select(window, "0001")
    messages.answer = True
    window.household_actions.purge_household()

    assert len(messages.questions) == 1
    assert "Delete 服部 修 and its members for good?" in messages.questions[0]
    assert "0001" not in shown(window.model, "number")
    assert len(window.model.table) == 39
    assert window.undo_stack.count() == 0  # nothing before it can be undone any more
    assert demo_file.backups.list()  # a backup was made first
    with pytest.raises(NotFoundError):
        _record(demo_file, household)


def test_purge_answered_no_keeps_it(
    window: MainWindow, answer_input: Answer, messages: Messages
) -> None:
    _withdraw(window, answer_input, "0001")
    _show_withdrawn(window)
    select(window, "0001")
    messages.answer = False
    window.household_actions.purge_household()
    assert len(messages.questions) == 1
    assert "0001" in shown(window.model, "number")


def test_purge_of_a_member_is_refused(window: MainWindow, messages: Messages) -> None:
    select(window, "0001")
    messages.answer = True
    window.household_actions.purge_household()
    assert messages.warnings == [
        "服部 修 is still a member. Withdraw the household before deleting it."
    ]
    assert "0001" in shown(window.model, "number")


def _a_role_holders_number(demo_file: AssociationFile, year: int) -> tuple[str, str]:
    with demo_file.read() as session:
        slot = next(slot for slot in roles.role_board(session, year=year) if slot.holders)
    return slot.holders[0].household_number, slot.role_name


def test_withdrawing_a_role_holders_household_asks_first(
    window: MainWindow, answer_input: Answer, messages: Messages, demo_file: AssociationFile
) -> None:
    number, role = _a_role_holders_number(demo_file, 2026)
    household = select(window, number)
    answer_input("getText", "令和8年5月1日")
    window.household_actions.withdraw_household()  # the officer says no
    assert len(messages.questions) == 1 and role in messages.questions[0]
    assert "令和8年度" in messages.questions[0]
    assert _record(demo_file, household).left_on is None

    messages.answer = True
    answer_input("getText", "令和8年5月1日")
    window.household_actions.withdraw_household()
    assert _record(demo_file, household).left_on == date(2026, 5, 1)


def test_no_question_when_the_household_holds_no_role(
    window: MainWindow, answer_input: Answer, messages: Messages, demo_file: AssociationFile
) -> None:
    with demo_file.read() as session:
        holders = {h.household_number for slot in roles.role_board(session, year=2026)
                   for h in slot.holders}
    number = next(n for n in shown(window.model, "number") if n not in holders)
    _withdraw(window, answer_input, number)
    assert messages.questions == []
