"""「Kairanを使うのはどなたですか」: large name buttons, a PIN asked only of those who set one,
adding oneself, skipping; the name chosen becomes the actor of later writes and shows in
the status bar; the dialog opens after a file opens only when the file has profiles."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.domain import audit, profiles
from desktop.domain.households import get_household, update_household
from desktop.store.association_file import AssociationFile
from desktop.ui.audit_actions import AuditActions
from desktop.ui.main_window import MainWindow
from desktop.ui.profile_dialog import NAMES, NEW, PIN, ProfileDialog
from tests.ui.helpers import household_id, type_text


@pytest.fixture
def officers(demo_file: AssociationFile) -> AssociationFile:
    with demo_file.write() as session:
        profiles.create_profile(session, name="山田 太郎")
        profiles.create_profile(session, name="佐藤 花子", pin="2468")
        retired = profiles.create_profile(session, name="鈴木 一郎")
        profiles.retire_profile(session, profile_id=retired.id)
    return demo_file


@pytest.fixture
def actions(window: MainWindow) -> AuditActions:
    return AuditActions(window)


def names_shown(dialog: ProfileDialog) -> list[str]:
    return sorted(button.accessibleName() for button in dialog.name_buttons.values())


def button_for(dialog: ProfileDialog, name: str) -> Any:
    return next(b for b in dialog.name_buttons.values() if b.accessibleName() == name)


def test_the_dialog_opens_after_a_file_opens_only_with_profiles(
        window: MainWindow, demo_file: AssociationFile) -> None:
    actions = AuditActions(window)
    assert actions.ask_after_open() is None
    assert actions.profile_label.text() == "Officer: (none chosen)"
    with demo_file.write() as session:
        profiles.create_profile(session, name="山田 太郎")
    dialog = actions.ask_after_open()
    assert dialog is not None and dialog.isVisible()
    assert names_shown(dialog) == ["山田 太郎"]


def test_a_name_without_pin_is_chosen_with_one_click(
        qtbot: Any, officers: AssociationFile, window: MainWindow,
        actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    assert names_shown(dialog) == ["佐藤 花子", "山田 太郎"]  # the retired officer is not listed
    assert button_for(dialog, "佐藤 花子").text() == "佐藤 花子 (PIN)"
    qtbot.mouseClick(button_for(dialog, "山田 太郎"), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert officers.actor is not None and officers.actor.name == "山田 太郎"
    assert actions.profile_label.text() == "Officer: 山田 太郎"


def test_the_name_chosen_is_recorded_as_the_actor(
        qtbot: Any, officers: AssociationFile, window: MainWindow,
        actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    qtbot.mouseClick(button_for(dialog, "山田 太郎"), Qt.MouseButton.LeftButton)
    target = household_id(window, "0001")
    with officers.write() as session:
        record = get_household(session, household_id=target)
        update_household(session, household_id=target,
                         data=record.data.__class__(**{
                             **{key: getattr(record.data, key) for key in
                                record.data.__dataclass_fields__}, "notes": "確認済み"}),
                         members=record.members)
    with officers.read() as session:
        newest = audit.history(session, limit=1)[0]
    assert (newest.actor, newest.household_id) == ("山田 太郎", target)
    assert newest.profile_id is not None


def test_a_pin_is_asked_and_a_wrong_one_refused(
        qtbot: Any, officers: AssociationFile, actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    qtbot.mouseClick(button_for(dialog, "佐藤 花子"), Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == PIN and dialog.isVisible()
    assert "佐藤 花子" in dialog.pin_heading.text()
    qtbot.keyClicks(dialog.pin, "1111")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert dialog.isVisible() and "not right" in dialog.pin_message.text()
    assert dialog.pin.text() == "" and officers.actor is None
    qtbot.keyClicks(dialog.pin, "2468")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert officers.actor is not None and officers.actor.name == "佐藤 花子"


def test_escape_on_the_pin_page_goes_back_to_the_names(
        qtbot: Any, officers: AssociationFile, actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    dialog.pick(next(p for p in _listed(officers) if p.name == "佐藤 花子"))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.pages.currentIndex() == NAMES and dialog.isVisible()


def _listed(opened: AssociationFile) -> list[Any]:
    with opened.read() as session:
        return profiles.list_profiles(session)


def test_a_new_officer_adds_themselves_with_a_pin(
        qtbot: Any, officers: AssociationFile, actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    dialog.add_button.click()
    assert dialog.pages.currentIndex() == NEW
    type_text(qtbot, dialog.new_name, "高橋 次郎")
    qtbot.keyClicks(dialog.new_pin, "1357")
    qtbot.keyClicks(dialog.new_pin_again, "1358")
    dialog.create_button.click()
    assert "differ" in dialog.new_message.text() and dialog.isVisible()
    dialog.new_pin_again.clear()
    qtbot.keyClicks(dialog.new_pin_again, "1357")
    qtbot.keyClick(dialog.new_pin_again, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert officers.actor is not None and officers.actor.name == "高橋 次郎"
    created = next(p for p in _listed(officers) if p.name == "高橋 次郎")
    assert profiles.check_pin(created, "1357")
    assert actions.profile_label.text() == "Officer: 高橋 次郎"


def test_a_name_taken_or_a_bad_pin_is_explained_in_the_dialog(
        qtbot: Any, officers: AssociationFile, actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    dialog.show_new()
    type_text(qtbot, dialog.new_name, "山田 太郎")
    dialog.add_officer()
    assert "already an officer called 山田 太郎" in dialog.new_message.text()
    dialog.new_name.clear()
    type_text(qtbot, dialog.new_name, "新人")
    qtbot.keyClicks(dialog.new_pin, "12")
    qtbot.keyClicks(dialog.new_pin_again, "12")
    dialog.add_officer()
    assert "4 to 8 digits" in dialog.new_message.text()
    assert dialog.isVisible() and officers.actor is None


def test_skipping_leaves_no_actor_and_says_so(
        qtbot: Any, officers: AssociationFile, window: MainWindow,
        actions: AuditActions) -> None:
    officers.actor = audit.Actor("前の人")
    dialog = actions.choose_profile()
    dialog.skip_button.click()
    assert not dialog.isVisible() and officers.actor is None
    assert actions.profile_label.text() == "Officer: (none chosen)"
    assert "without a name" in window.statusBar().currentMessage()


def test_the_first_officer_of_a_file_is_invited_to_add_themselves(
        actions: AuditActions) -> None:
    dialog = actions.choose_profile()
    assert dialog.name_buttons == {}
    assert dialog.empty_note.isVisibleTo(dialog)
