"""The history of changes: newest first with who, what and old → new; one household's
history; search; older pages; the tampering check with a plain verdict; export in the
background; purged values shown as removed."""

from __future__ import annotations

import csv
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop.domain import audit
from desktop.domain.households import get_household, update_household
from desktop.store.association_file import AssociationFile
from desktop.ui import history_view
from desktop.ui.audit_actions import AuditActions
from desktop.ui.history_view import CHANGE, DETAILS, WHAT, WHO, HistoryView
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import Messages, household_id, type_text

WAIT = 5000  # ms


@pytest.fixture
def actions(window: MainWindow) -> AuditActions:
    return AuditActions(window)


def change_notes(opened: AssociationFile, target: Any, notes: str) -> None:
    with opened.write() as session:
        record = get_household(session, household_id=target)
        update_household(session, household_id=target, data=replace(record.data, notes=notes),
                         members=record.members)


def cell(view: HistoryView, row: int, column: int) -> str:
    return str(view.model.data(view.model.index(row, column)))


def total(opened: AssociationFile) -> int:
    with closing(sqlite3.connect(opened.path)) as connection:
        return int(connection.execute("SELECT count(*) FROM audit_record").fetchone()[0])


def test_the_newest_change_comes_first_with_old_and_new(
        window: MainWindow, demo_file: AssociationFile, actions: AuditActions) -> None:
    target = household_id(window, "0001")
    demo_file.actor = audit.Actor("山田 太郎")
    change_notes(demo_file, target, "鍵は隣家")
    view = actions.show_history()
    assert view.isVisible() and not view.show_all.isVisible()
    assert view.model.rowCount() == total(demo_file)  # the demo's trail fits on one page
    assert cell(view, 0, WHO) == "山田 太郎"
    assert cell(view, 0, CHANGE) == "Changed"
    assert cell(view, 0, WHAT).startswith("Household 0001 ")
    assert "Notes (備考):  → 鍵は隣家" in cell(view, 0, DETAILS)
    assert cell(view, view.model.rowCount() - 1, WHO) == "(no officer chosen)"
    seqs = [entry.seq for entry in view.model.entries]
    assert seqs == sorted(seqs, reverse=True)


def test_one_households_history_and_back_to_everyone(
        window: MainWindow, demo_file: AssociationFile, actions: AuditActions) -> None:
    target = household_id(window, "0002")
    change_notes(demo_file, target, "一")
    change_notes(demo_file, target, "二")
    view = actions.show_household_history(target)
    assert view is not None
    assert {entry.household_id for entry in view.model.entries} == {target}
    assert [entry.action for entry in view.model.entries][:2] == ["update", "update"]
    assert "Notes (備考): 一 → 二" in cell(view, 0, DETAILS)
    assert "0002" in view.scope.text() and view.show_all.isVisible()
    view.show_all.click()
    assert view.household_id is None and view.model.rowCount() == total(demo_file)


def test_the_selected_households_history(window: MainWindow, actions: AuditActions) -> None:
    window.roster.select_household(household_id(window, "0003"))
    view = actions.show_selected_household_history()
    assert view is not None and view.household_id == household_id(window, "0003")


def test_search_finds_by_reading_and_number(
        qtbot: Any, window: MainWindow, demo_file: AssociationFile,
        actions: AuditActions) -> None:
    target = household_id(window, "0001")
    change_notes(demo_file, target, "ヌイグルミ係")
    view = actions.show_history()
    type_text(qtbot, view.search, "ぬいぐるみ")  # hiragana finds katakana
    qtbot.waitUntil(lambda: view.searching is None and view.model.rowCount() == 1,
                    timeout=WAIT)
    assert "ヌイグルミ係" in cell(view, 0, DETAILS)
    view.search.clear()
    type_text(qtbot, view.search, "0001 ぬいぐるみ")  # every word must match
    qtbot.waitUntil(lambda: view.searching is None and view.model.rowCount() == 1,
                    timeout=WAIT)
    view.search.clear()
    type_text(qtbot, view.search, "0001")
    qtbot.waitUntil(lambda: view.searching is None and view.model.rowCount() >= 2,
                    timeout=WAIT)
    assert target in {entry.household_id for entry in view.model.entries}
    view.search.clear()
    type_text(qtbot, view.search, "該当しない言葉")
    qtbot.waitUntil(lambda: view.searching is None and view.model.rowCount() == 0,
                    timeout=WAIT)
    assert view.count.text() == "No changes found."


def test_older_changes_come_a_page_at_a_time(
        monkeypatch: pytest.MonkeyPatch, demo_file: AssociationFile,
        actions: AuditActions) -> None:
    monkeypatch.setattr(history_view, "PAGE", 5)
    view = actions.show_history()
    assert view.model.rowCount() == 5 and view.older.isEnabled()
    assert "newest 5" in view.count.text()
    view.older.click()
    assert view.model.rowCount() == 10


def test_the_check_says_the_history_is_intact(qtbot: Any, actions: AuditActions) -> None:
    view = actions.show_history()
    view.verify_button.click()
    qtbot.waitUntil(lambda: not view.verifying, timeout=WAIT)
    assert view.last_report is not None and view.last_report.ok
    assert "intact" in view.verdict.text()


def test_the_check_names_a_tampered_record(qtbot: Any, demo_file: AssociationFile,
                                           actions: AuditActions, messages: Messages) -> None:
    with closing(sqlite3.connect(demo_file.path)) as connection:
        connection.execute("UPDATE audit_record SET actor = '誰か' WHERE seq = 7")
        connection.commit()
    view = actions.show_history()
    view.verify_button.click()
    qtbot.waitUntil(lambda: not view.verifying, timeout=WAIT)
    assert view.last_report is not None and view.last_report.first_bad_seq == 7
    assert "record 7" in view.verdict.text() and "tampered" in view.verdict.text()
    assert messages.warnings and "record 7" in messages.warnings[-1]


@pytest.fixture
def save_as_csv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The save-as dialog answers 履歴 with the CSV filter (the view adds .csv)."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: (str(tmp_path / "履歴"), "CSV file (*.csv)")))
    return tmp_path / "履歴.csv"


def test_export_runs_in_the_background_and_names_the_file(
        qtbot: Any, save_as_csv: Path, demo_file: AssociationFile, actions: AuditActions,
        messages: Messages) -> None:
    view = actions.show_history()
    view.export_button.click()
    qtbot.waitUntil(lambda: bool(messages.informations) and not view.exporting, timeout=WAIT)
    path = save_as_csv
    assert messages.informations == [f"Wrote {total(demo_file)} changes to {path}."]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["No.", "When"]
    assert {int(row[0]) for row in rows[1:]} == set(range(1, total(demo_file) + 1))


def test_purged_values_show_as_removed(window: MainWindow, demo_file: AssociationFile,
                                       actions: AuditActions) -> None:
    target = household_id(window, "0004")
    with demo_file.write() as session:
        audit.redact_household(session, target, at=datetime.now(UTC))
    view = actions.show_household_history(target)
    assert view is not None and view.model.entries
    assert all(entry.redacted for entry in view.model.entries)
    assert "（削除済み）" in cell(view, 0, DETAILS) or "（削除済み）" in cell(view, 0, WHAT)
    tip = view.model.data(view.model.index(0, WHAT), history_view.Qt.ItemDataRole.ToolTipRole)
    assert "purged" in str(tip)
