"""The application controller: text size, language switch, and opening files with problems."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from desktop import i18n
from desktop.app import AppController
from desktop.store.association_file import backup_store_for
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import LANGUAGE, LAST_FILE, TEXT_SIZE, Settings
from tests.ui.helpers import Asked, Messages, flush_deletions, menu_titles

MENUS = ("&File", "&Edit", "&Household", "&Groups", "&Roles", "&Circulars", "&Meeting",
         "&Sync", "&View", "&Help")


def _idle(qtbot: Any, window: MainWindow | None) -> None:
    """Wait for the window's background work (integrity check, automatic backup)."""
    if window is not None:
        qtbot.waitUntil(lambda: not window.tasks.busy(), timeout=5000)


@pytest.fixture
def controller(qtbot: Any, qapp: QApplication) -> Iterator[AppController]:
    """A controller in English; the app's font and language are put back afterwards."""
    font = QFont(qapp.font())
    settings = Settings()
    settings.set(LANGUAGE, "en")
    app = AppController(qapp, settings)
    yield app
    _idle(qtbot, app.window)
    if app.window is not None:
        app.window.close()
        app.window.deleteLater()
    if app.file is not None:
        app.file.close()
    flush_deletions()
    app.apply_language("en")
    qapp.setFont(font)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- text size


def test_larger_text_grows_the_application_font_and_is_saved(
    controller: AppController, qapp: QApplication
) -> None:
    standard = qapp.font().pointSizeF()
    controller.step_text_size(+1)
    assert qapp.font().pointSizeF() == pytest.approx(standard * 1.25)
    assert Settings().get(TEXT_SIZE) == 125  # on disk, not only in memory
    controller.step_text_size(+1)
    assert qapp.font().pointSizeF() == pytest.approx(standard * 1.5)


def test_standard_text_size_goes_back(controller: AppController, qapp: QApplication) -> None:
    standard = qapp.font().pointSizeF()
    controller.step_text_size(+1)
    controller.step_text_size(+1)
    controller.step_text_size(0)
    assert qapp.font().pointSizeF() == pytest.approx(standard)
    assert Settings().text_size() == 100


def test_text_size_stops_at_the_ends(controller: AppController) -> None:
    controller.step_text_size(-1)
    assert controller.settings.text_size() == 100
    for _step in range(10):
        controller.step_text_size(+1)
    assert controller.settings.text_size() == 200


def test_text_size_reaches_the_open_window(
    qtbot: Any, controller: AppController, demo_path: Path, qapp: QApplication
) -> None:
    assert controller.open_path(demo_path)
    window = controller.window
    assert window is not None
    before = window.roster.table.verticalHeader().defaultSectionSize()
    standard = qapp.font().pointSizeF()
    window.text_size_requested.emit(+1)  # what Ctrl++ does
    assert window.roster.search.font().pointSizeF() == pytest.approx(standard * 1.25)
    assert window.roster.table.verticalHeader().defaultSectionSize() > before


def test_saved_text_size_applies_at_start(qtbot: Any, qapp: QApplication) -> None:
    font = QFont(qapp.font())
    settings = Settings()
    settings.set(LANGUAGE, "en")
    settings.set(TEXT_SIZE, 150)
    try:
        AppController(qapp, settings)
        assert qapp.font().pointSizeF() == pytest.approx(font.pointSizeF() * 1.5)
    finally:
        qapp.setFont(font)


# ---------------------------------------------------------------- language


def test_language_switch_rebuilds_the_window_in_japanese(
    qtbot: Any, controller: AppController, demo_path: Path
) -> None:
    assert controller.open_path(demo_path)
    english = controller.window
    assert english is not None
    assert menu_titles(english) == list(MENUS)
    _idle(qtbot, english)

    controller.change_language("ja")
    try:
        japanese = controller.window
        assert japanese is not None and japanese is not english
        expected = [i18n._(title) for title in MENUS]
        assert expected != list(MENUS)  # the catalogue translates them
        assert menu_titles(japanese) == expected
        assert Settings().language() == "ja"
        assert japanese.file is english.file  # the same open file, not opened again
        assert japanese.model.rowCount() == 40
        _idle(qtbot, japanese)
    finally:
        controller.change_language("en")
    assert controller.window is not None
    assert menu_titles(controller.window) == list(MENUS)
    assert i18n.current_language() == "en"


def test_language_menu_asks_the_controller(
    qtbot: Any, controller: AppController, demo_path: Path
) -> None:
    assert controller.open_path(demo_path)
    assert controller.window is not None
    _idle(qtbot, controller.window)
    try:
        controller.window.language_requested.emit("ja")
        assert i18n.current_language() == "ja"
    finally:
        controller.change_language("en")


# ---------------------------------------------------------------- opening files


def test_open_remembers_the_file(controller: AppController, demo_path: Path) -> None:
    assert controller.open_path(demo_path)
    assert Settings().get(LAST_FILE) == str(demo_path)
    assert controller.window is not None
    assert controller.window.isVisible()


def test_missing_file_warns(controller: AppController, tmp_path: Path, messages: Messages) -> None:
    missing = tmp_path / "nowhere.kairan"
    assert controller.open_path(missing) is False
    assert messages.warnings == [f"There is no file at {missing}."]
    assert controller.window is None
    assert not missing.exists()


def test_missing_default_file_starts_a_new_association(
    controller: AppController, answer_input: Any, kairan_home: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(controller, "_first_start_choice", lambda: "new")
    asked: Asked = answer_input("getText", "若葉町内会")
    from desktop import paths

    assert controller.open_path(paths.default_association_path())
    assert len(asked.calls) == 1
    assert controller.window is not None
    assert controller.window.association.name == "若葉町内会"
    assert paths.default_association_path().is_file()


def test_missing_default_file_and_no_name_given(
    controller: AppController, answer_input: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop import paths

    monkeypatch.setattr(controller, "_first_start_choice", lambda: "new")
    answer_input("getText", "", ok=False)
    assert controller.open_path(paths.default_association_path()) is False
    assert controller.window is None


def test_a_new_pc_can_receive_the_roster_at_first_start(
    controller: AppController, demo_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: Any
) -> None:
    from desktop import paths

    monkeypatch.setattr(controller, "_first_start_choice", lambda: "receive")
    assert controller.open_path(paths.default_association_path())
    wizard = controller._join_wizard
    qtbot.waitExposed(wizard)
    assert controller.window is None
    wizard.joined.emit(demo_path)  # what the wizard says when the roster has arrived
    assert controller.window is not None
    wizard.close()


def test_file_from_a_newer_version_warns_and_is_left_alone(
    controller: AppController, demo_path: Path, messages: Messages
) -> None:
    with closing(sqlite3.connect(demo_path)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        connection.commit()
    before = _digest(demo_path)
    assert controller.open_path(demo_path) is False
    assert len(messages.warnings) == 1
    assert "saved by a newer version of Kairan" in messages.warnings[0]
    assert controller.window is None
    assert _digest(demo_path) == before
    assert backup_store_for(demo_path).list() == []


def test_not_a_kairan_file_warns(
    controller: AppController, tmp_path: Path, messages: Messages
) -> None:
    other = tmp_path / "notes.kairan"
    other.write_text("shopping list", encoding="utf-8")
    assert controller.open_path(other) is False
    assert "is not a Kairan association file" in messages.warnings[0]


def _corrupt_table(path: Path, table: str) -> None:
    """Overwrite the first page of one table, leaving the file's header and schema intact."""
    with closing(sqlite3.connect(path)) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(bytes((i * 151 + 7) % 256 for i in range(page_size)))


@pytest.fixture
def quits(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record the app quitting (what declining to restore a damaged file does)."""
    calls: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: calls.append(True)))
    return calls


# The roster's pages are read to paint the window; the members' only later, so damage there is
# found by the integrity check that runs in the background once the window shows.
@pytest.mark.parametrize("damaged_table", ["household", "member"])
def test_damaged_file_offers_the_newest_good_backup_and_opens_it(
    qtbot: Any,
    controller: AppController,
    demo_path: Path,
    messages: Messages,
    quits: list[bool],
    *,
    damaged_table: str,
) -> None:
    backup_store_for(demo_path).make(demo_path, reason="manual")
    _corrupt_table(demo_path, damaged_table)
    messages.answer = True

    controller.open_path(demo_path)
    qtbot.waitUntil(lambda: len(messages.questions) == 1, timeout=5000)
    assert "is damaged" in messages.questions[0]
    assert "Restore the newest good backup" in messages.questions[0]

    damaged = demo_path.with_name(demo_path.name + ".damaged")
    assert damaged.is_file()  # kept beside it, for whoever helps
    window = controller.window
    assert window is not None
    assert window.isVisible()
    assert window.file.path == demo_path
    assert window.model.rowCount() == 40  # the backup's roster
    _idle(qtbot, window)
    assert controller.window is window  # the restored file passed its check
    assert messages.warnings == []
    assert quits == []


@pytest.mark.parametrize("damaged_table", ["household", "member"])
def test_damaged_file_left_alone_when_the_officer_says_no(
    qtbot: Any,
    controller: AppController,
    demo_path: Path,
    messages: Messages,
    quits: list[bool],
    *,
    damaged_table: str,
) -> None:
    backup_store_for(demo_path).make(demo_path, reason="manual")
    _corrupt_table(demo_path, damaged_table)
    before = _digest(demo_path)
    messages.answer = False

    controller.open_path(demo_path)
    qtbot.waitUntil(lambda: len(messages.questions) == 1, timeout=5000)
    assert controller.window is None
    assert controller.file is None
    assert _digest(demo_path) == before
    assert not demo_path.with_name(demo_path.name + ".damaged").exists()


def test_damaged_file_without_a_backup_warns(
    qtbot: Any, controller: AppController, demo_path: Path, messages: Messages, quits: list[bool]
) -> None:
    _corrupt_table(demo_path, "member")
    controller.open_path(demo_path)
    qtbot.waitUntil(lambda: len(messages.warnings) == 1, timeout=5000)
    assert "There is no good backup of it." in messages.warnings[0]
    assert messages.questions == []
    assert controller.window is None
    assert quits == [True]  # nothing left to show
