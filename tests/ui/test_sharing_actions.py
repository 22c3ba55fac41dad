"""The sharing commands in the window's 同期 menu, over a stand-in service: their shortcuts,
the status bar's warnings, and each command from the menu to its dialog (starting to share
and printing the recovery sheet, the key code, the PCs, the changes to check, a new recovery
sheet, receiving the roster on a new PC)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from desktop.ui.main_window import MainWindow
from desktop.ui.sharing import actions as actions_module
from desktop.ui.sharing.actions import SharingActions, add_sharing_actions
from sync import pairing
from sync.engine import read_status
from tests.ui.helpers import TODAY, Messages
from tests.ui.sharing_fakes import (  # noqa: F401  (fixtures)
    NEW_WORDS,
    WORDS,
    FakeService,
    SheetRecorder,
    install,
    on,
)

WAIT = 5000  # ms


@pytest.fixture
def sharing(fake: FakeService, window: MainWindow) -> Iterator[tuple[SharingActions, QMenu]]:
    menu = QMenu(window)
    yield add_sharing_actions(window, menu), menu


@pytest.fixture
def paired(monkeypatch: pytest.MonkeyPatch) -> None:
    info = pairing.PairingInfo("https://relay.example.jp", "assoc-1", "桜町自治会",
                               "会長宅のPC", "", datetime(2026, 5, 1, tzinfo=UTC))
    monkeypatch.setattr(pairing, "pairing_info", lambda _store: info)


def menu_actions(menu: QMenu) -> dict[str, QAction]:
    return {action.text(): action for action in menu.actions() if not action.isSeparator()}


def test_the_commands_and_their_shortcuts(
        window: MainWindow, sharing: tuple[SharingActions, QMenu]) -> None:
    _actions, menu = sharing
    shortcuts = {text: action.shortcut().toString() for text, action in
                 menu_actions(menu).items()}
    assert shortcuts == {
        "Start &sharing with other PCs…": "",
        "&Add another PC (show a key code)…": "Ctrl+Alt+K",
        "&Office PCs…": "Ctrl+Alt+L",
        "Changes to chec&k…": "Ctrl+Alt+R",
        "Make a new reco&very sheet…": "",
        "&Receive the roster from another PC…": "",
    }
    # That no shortcut is used twice in the window is tests/ui/test_keyboard.py's check.


def test_status_bar_shows_changes_to_check_and_warnings_after_a_sync(
        qtbot: Any, window: MainWindow, fake: FakeService,
        sharing: tuple[SharingActions, QMenu], messages: Messages) -> None:
    actions, _menu = sharing
    assert not actions.label.isVisibleTo(window)
    fake.info = on(review_count=2, clock_warning="This PC's clock is 12 minutes slow.")
    window.sync_actions.synced.emit(read_status(window.file))
    assert actions.label.isVisibleTo(window)
    assert actions.label.text() == ("Changes to check: 2 · This PC's clock is 12 minutes "
                                    "slow.")
    qtbot.mouseClick(actions.label, Qt.MouseButton.LeftButton)
    assert actions.review_dialog is not None and actions.review_dialog.isVisible()
    fake.info = on(update_needed="Another PC uses a newer Kairan. Update this one.")
    actions.refresh_status()
    qtbot.mouseClick(actions.label, Qt.MouseButton.LeftButton)
    assert messages.informations == ["Another PC uses a newer Kairan. Update this one."]


def test_commands_need_sharing_on_first(window: MainWindow, fake: FakeService,
                                        sharing: tuple[SharingActions, QMenu],
                                        messages: Messages) -> None:
    actions, _menu = sharing
    for command in (actions.add_pc, actions.show_devices, actions.show_review,
                    actions.new_recovery_sheet):
        assert command() is None
    assert len(messages.warnings) == 4
    assert all("PC間の共有を始める" in text for text in messages.warnings)


def test_starting_needs_the_relay_first(window: MainWindow, fake: FakeService,
                                        sharing: tuple[SharingActions, QMenu],
                                        messages: Messages) -> None:
    actions, _menu = sharing
    assert actions.start_sharing() is None
    assert "リレーに接続" in messages.warnings[-1]
    assert fake.called("enable_sharing") == []


@pytest.mark.usefixtures("paired")
def test_start_sharing_then_print_the_recovery_sheet(
        qtbot: Any, window: MainWindow, fake: FakeService,
        sharing: tuple[SharingActions, QMenu], sheet: SheetRecorder) -> None:
    actions, menu = sharing
    menu_actions(menu)["Start &sharing with other PCs…"].trigger()
    dialog = actions.start_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: actions.sheet_dialog is not None, timeout=WAIT)
    sheet_dialog = actions.sheet_dialog
    assert sheet_dialog is not None and sheet_dialog.word_texts() == WORDS
    assert fake.called("enable_sharing") == [window.file]
    sheet_dialog.print_button.click()
    qtbot.waitUntil(lambda: sheet_dialog.preview is not None, timeout=WAIT)
    call = sheet.calls[0]
    assert (call["association_name"], call["relay_url"], call["made_on"], call["words"]) == (
        "桜町自治会", "https://relay.example.jp", TODAY, WORDS)
    assert sheet_dialog.preview is not None
    sheet_dialog.preview.reject()
    sheet_dialog.kept.setChecked(True)
    sheet_dialog.reject()
    assert not sheet_dialog.isVisible()
    assert actions.start_sharing() is None  # already on


def test_starting_twice_says_it_is_on(window: MainWindow, fake: FakeService,
                                      sharing: tuple[SharingActions, QMenu],
                                      messages: Messages) -> None:
    actions, _menu = sharing
    fake.info = on()
    assert actions.start_sharing() is None
    assert "already shared" in messages.informations[-1]


def test_add_another_pc_shows_a_key_code(qtbot: Any, window: MainWindow, fake: FakeService,
                                         sharing: tuple[SharingActions, QMenu]) -> None:
    actions, menu = sharing
    fake.info = on()
    menu_actions(menu)["&Add another PC (show a key code)…"].trigger()
    dialog = actions.key_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.code.text() == "ABCDE-FGH12", timeout=WAIT)
    dialog.reject()


def test_office_pcs_and_disabling_one_refreshes_the_status(
        qtbot: Any, window: MainWindow, fake: FakeService,
        sharing: tuple[SharingActions, QMenu], messages: Messages) -> None:
    actions, menu = sharing
    fake.info = on()
    menu_actions(menu)["&Office PCs…"].trigger()
    dialog = actions.devices_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=WAIT)
    before = len(fake.called("sharing_info"))
    messages.answer = True
    dialog.select("dev-2")
    dialog.revoke_button.click()
    qtbot.waitUntil(lambda: fake.called("revoke_device") == ["dev-2"], timeout=WAIT)
    qtbot.waitUntil(lambda: len(fake.called("sharing_info")) > before, timeout=WAIT)
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    dialog.reject()


def test_deciding_a_change_reloads_the_window(
        qtbot: Any, window: MainWindow, fake: FakeService,
        sharing: tuple[SharingActions, QMenu], monkeypatch: pytest.MonkeyPatch) -> None:
    actions, menu = sharing
    fake.info = on(review_count=2)
    reloaded: list[bool] = []
    monkeypatch.setattr(window, "reload", lambda: reloaded.append(True))
    menu_actions(menu)["Changes to chec&k…"].trigger()
    dialog = actions.review_dialog
    assert dialog is not None
    dialog.keep_button.click()
    assert reloaded == [True]
    assert actions.label.text() == "Changes to check: 1"


def test_a_new_recovery_sheet_after_asking(
        qtbot: Any, window: MainWindow, fake: FakeService,
        sharing: tuple[SharingActions, QMenu], messages: Messages) -> None:
    actions, menu = sharing
    fake.info = on()
    menu_actions(menu)["Make a new reco&very sheet…"].trigger()
    assert "old sheet" in messages.questions[-1]
    assert fake.called("new_recovery_sheet") == []
    messages.answer = True
    menu_actions(menu)["Make a new reco&very sheet…"].trigger()
    qtbot.waitUntil(lambda: actions.sheet_dialog is not None, timeout=WAIT)
    assert actions.sheet_dialog is not None
    assert actions.sheet_dialog.word_texts() == NEW_WORDS
    actions.sheet_dialog.kept.setChecked(True)
    actions.sheet_dialog.reject()


def test_receiving_the_roster_opens_the_new_file(
        qtbot: Any, window: MainWindow, fake: FakeService,
        sharing: tuple[SharingActions, QMenu], tmp_path: Path) -> None:
    actions, menu = sharing
    offered: list[Path] = []
    window.bundle_actions.file_made.connect(offered.append)
    menu_actions(menu)["&Receive the roster from another PC…"].trigger()
    wizard = actions.join_wizard
    assert wizard is not None and wizard.isVisible()
    form = wizard.relay_page.form
    form.relay_url.setText("https://relay.example.jp")
    form.code.setText("PAIR-1")
    wizard.relay_page.folder.setText(str(tmp_path))
    wizard.next()
    wizard.key_page.key_code.setText("ABCDE-FGH12")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.path is not None, timeout=WAIT)
    wizard.accept()
    assert offered == [tmp_path / "joined.kairan"]


def test_the_module_names_the_menu_texts_it_adds() -> None:
    assert set(actions_module.SHORTCUTS) == {
        actions_module.MENU_START, actions_module.MENU_ADD_PC, actions_module.MENU_DEVICES,
        actions_module.MENU_REVIEW, actions_module.MENU_NEW_SHEET, actions_module.MENU_RECEIVE}
