"""The export dialog: only the columns ticked reach the file, per 班 and per member on
request; the file is written in the background and named in a message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtWidgets import QFileDialog

from desktop.i18n import set_language
from desktop.ui.export_dialog import ExportDialog
from desktop.ui.main_window import MainWindow
from reports.roster_xlsx import EXPORT_COLUMNS
from tests.ui.helpers import DEMO_HOUSEHOLDS, Messages

TITLES = dict(EXPORT_COLUMNS)
WAIT = 5000  # ms


@pytest.fixture
def save_as(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[Any, ...]]:
    """The save-as dialog answers tmp_path/名簿 (no suffix: the dialog adds .xlsx)."""
    asked: list[tuple[Any, ...]] = []

    def answer(*args: Any) -> tuple[str, str]:
        asked.append(args)
        return str(tmp_path / "名簿"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    return asked


def run_export(qtbot: Any, dialog: ExportDialog, messages: Messages) -> Path:
    dialog.export_button.click()
    qtbot.waitUntil(lambda: bool(messages.informations) and not dialog.running, timeout=WAIT)
    assert dialog.path is not None
    return dialog.path


def header(path: Path, sheet: str | None = None) -> list[object]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:  # a read-only workbook keeps its file open until closed
        rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(max_row=1,
                                                                        values_only=True)
        return list(next(rows))
    finally:
        book.close()


def test_only_the_ticked_columns_are_written(
    qtbot: Any, window: MainWindow, save_as: list[tuple[Any, ...]], tmp_path: Path,
    messages: Messages
) -> None:
    dialog = window.file_actions.export_roster()
    assert dialog.isVisible()
    assert dialog.checks["phone"].isChecked() and dialog.checks["email"].isChecked()
    assert not dialog.checks["member_name"].isEnabled()  # per member only
    assert "district" not in dialog.checks  # the demo has no 地区
    dialog.untick_contacts()
    dialog.checks["notes"].setChecked(False)
    path = run_export(qtbot, dialog, messages)

    assert path == tmp_path / "名簿.xlsx"
    assert save_as[0][2].endswith(".xlsx")  # a suggested name
    titles = header(path)
    assert "電話" not in titles and "メール" not in titles and "備考" not in titles
    assert titles == [TITLES[key] for key in dialog.columns()]
    assert titles[:3] == ["世帯番号", "班", "世帯主"]
    assert messages.informations == [f"Wrote {DEMO_HOUSEHOLDS} rows to {path}."]
    assert not dialog.isVisible()


def test_one_sheet_per_group_one_row_per_member_and_withdrawn(
    qtbot: Any, window: MainWindow, save_as: list[tuple[Any, ...]], messages: Messages
) -> None:
    dialog = window.file_actions.export_roster()
    dialog.per_group.setChecked(True)
    dialog.per_member.setChecked(True)
    dialog.withdrawn.setChecked(True)
    assert dialog.checks["member_name"].isChecked() and dialog.checks["withdrawn"].isChecked()
    path = run_export(qtbot, dialog, messages)
    book = openpyxl.load_workbook(path, read_only=True)
    assert len(book.sheetnames) > 1 and all("班" in name for name in book.sheetnames)
    titles = header(path, book.sheetnames[0])
    assert {"氏名", "続柄", "状態"} <= set(titles)
    rows = sum(len(list(sheet.iter_rows(min_row=2))) for sheet in book.worksheets)
    book.close()
    assert rows > DEMO_HOUSEHOLDS  # a row per member
    assert messages.informations == [f"Wrote {rows} rows to {path}."]


def test_nothing_ticked_or_no_file_chosen_writes_nothing(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, messages: Messages
) -> None:
    dialog = window.file_actions.export_roster()
    for check in dialog.checks.values():
        check.setChecked(False)
    dialog.export_button.click()  # no save dialog: the conftest would fail the test
    assert dialog.status.text() == "Tick at least one column."
    dialog.tick_all()
    assert dialog.columns() and "member_name" not in dialog.columns()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: ("", "")))
    dialog.export_button.click()
    assert dialog.isVisible() and not dialog.running and dialog.path is None
    assert messages.informations == []


def test_a_file_that_cannot_be_written_is_explained(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    messages: Messages
) -> None:
    target = tmp_path / "no such folder" / "名簿.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(target), "")))
    dialog = window.file_actions.export_roster()
    dialog.export_button.click()
    qtbot.waitUntil(lambda: bool(messages.warnings), timeout=WAIT)
    assert not dialog.running and dialog.isVisible()
    assert dialog.export_button.isEnabled()
    assert not target.exists()


def test_the_dialog_speaks_japanese(window: MainWindow) -> None:
    set_language("ja")
    dialog = window.file_actions.export_roster()
    assert dialog.windowTitle() == "名簿の書き出し"
    assert dialog.checks["phone"].text() == "電話"
    assert dialog.checks["name"].text() == "世帯主"
    dialog.reject()
