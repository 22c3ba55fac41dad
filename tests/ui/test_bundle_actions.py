"""The window's commands for the whole association: export everything, a full export opened
as a new file, the association settings, and the purge after the retention period."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from sqlmodel import func, select

from desktop.domain import association
from desktop.domain.households import withdraw_household
from desktop.domain.models import Household
from desktop.store.association_file import open_association
from desktop.ui.bundle_actions import BundleActions
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import Messages, household_id

WAIT = 20_000


def _answer(monkeypatch: pytest.MonkeyPatch, method: str, *answers: tuple[str, str]) -> None:
    """Make ``QFileDialog.<method>`` return ``answers`` in turn."""
    queue = list(answers)

    def fake(*_args: Any, **_kwargs: Any) -> tuple[str, str]:
        return queue.pop(0)

    monkeypatch.setattr(QFileDialog, method, staticmethod(fake))


def _households(path: Path) -> int:
    opened = open_association(path)
    try:
        with opened.read() as session:
            return int(session.exec(select(func.count()).select_from(Household)).one())
    finally:
        opened.close()


@pytest.fixture
def actions(window: MainWindow) -> BundleActions:
    return BundleActions(window)


def _idle(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.busy(), timeout=WAIT)


@pytest.mark.usefixtures("window")
def test_export_everything_to_a_zip(qtbot: Any, actions: BundleActions, messages: Messages,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    window = actions.window
    assert actions.suggested_name() == f"{window.association.name}_全データ_20260601"
    _answer(monkeypatch, "getSaveFileName", (str(tmp_path / "全データ.zip"), "Zip file (*.zip)"))
    actions.export_all()
    _idle(qtbot, window)
    assert messages.informations and "Wrote everything to" in messages.informations[0]
    with zipfile.ZipFile(tmp_path / "全データ.zip") as archive:
        manifest = json.loads(archive.read("全データ/manifest.json"))
    assert manifest["tables"]["household"]["rows"] == 40


def test_export_everything_to_a_folder(qtbot: Any, actions: BundleActions, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    window = actions.window
    _answer(monkeypatch, "getSaveFileName", (str(tmp_path / "out.zip"), "Folder"))
    actions.export_all()
    _idle(qtbot, window)
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert not (tmp_path / "out.zip").exists()


def test_a_full_export_opens_as_a_new_file(qtbot: Any, actions: BundleActions,
                                           messages: Messages, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    window = actions.window
    actions.run_export(tmp_path / "bundle", as_zip=True)
    _idle(qtbot, window)
    new = tmp_path / "復元"
    _answer(monkeypatch, "getOpenFileName", (str(tmp_path / "bundle.zip"), ""))
    _answer(monkeypatch, "getSaveFileName", (str(new), ""))
    messages.answer = True
    with qtbot.waitSignal(actions.file_made, timeout=WAIT) as made:
        actions.import_bundle()
    assert made.args == [tmp_path / "復元.kairan"]
    assert "Open it now?" in messages.questions[-1]
    assert _households(tmp_path / "復元.kairan") == 40


def test_a_changed_export_is_refused_and_no_file_is_made(
        qtbot: Any, window: MainWindow, actions: BundleActions, messages: Messages,
        tmp_path: Path) -> None:
    actions.run_export(tmp_path / "bundle", as_zip=False)
    _idle(qtbot, window)
    data = tmp_path / "bundle" / "data" / "member.json"
    data.write_text(data.read_text("utf-8").replace('"is_head":true', '"is_head":false', 1),
                    "utf-8")
    actions.run_import(tmp_path / "bundle" / "manifest.json", tmp_path / "new.kairan")
    _idle(qtbot, window)
    assert "data/member.json" in messages.warnings[-1]
    assert not (tmp_path / "new.kairan").exists()


def test_association_settings_rename_the_window(qtbot: Any, window: MainWindow,
                                                actions: BundleActions) -> None:
    dialog = actions.edit_association()
    dialog.name.setText("桜町東自治会")
    dialog.use_standard()
    dialog.retention.setValue(36)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert window.windowTitle() == "桜町東自治会 — Kairan"
    with window.file.read() as session:
        info = association.get_association(session)
    assert info.retention_months == 36 and info.purpose_statement.startswith("We use")


def test_purge_after_the_retention_period(qtbot: Any, window: MainWindow,
                                          actions: BundleActions, messages: Messages) -> None:
    old, recent = household_id(window, "0001"), household_id(window, "0002")
    with window.file.write() as session:
        withdraw_household(session, household_id=old, left_on=date(2023, 3, 31))
        withdraw_household(session, household_id=recent, left_on=date(2026, 3, 31))
        association.set_retention_months(session, months=24)
    dialog = actions.purge_withdrawn()
    assert dialog.table.rowCount() == 1
    tick, what = dialog.table.item(0, 0), dialog.table.item(0, 4)
    assert tick is not None and what is not None
    assert tick.text() == "0001"
    assert "members" in what.text()
    tick.setCheckState(Qt.CheckState.Unchecked)
    dialog.delete_ticked()
    assert messages.warnings == ["Tick the households to delete first."]
    tick.setCheckState(Qt.CheckState.Checked)
    messages.answer = True
    dialog.delete_ticked()
    _idle(qtbot, window)
    assert messages.informations[-1] == "Deleted 1 households."
    with window.file.read() as session:
        assert session.get(Household, old) is None
        assert session.get(Household, recent) is not None
    assert dialog.table.rowCount() == 0 and not dialog.delete_button.isEnabled()


def test_without_a_retention_period_the_preview_says_so(window: MainWindow,
                                                        actions: BundleActions) -> None:
    dialog = actions.purge_withdrawn()
    assert "No retention period is set" in dialog.summary.text()
    assert not dialog.delete_button.isEnabled()
