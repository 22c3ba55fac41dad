"""The import wizard, driven as an officer would: file → sheets and header → columns →
preview → import. Spreadsheets are made by exporting the demo roster (then spoiled with
openpyxl where a test needs a problem); reading, planning and importing run in the
background and are waited for."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMenu, QWizard
from sqlmodel import select

from desktop.domain.association import create_association
from desktop.domain.errors import KairanError
from desktop.domain.groups import group_tree
from desktop.domain.imports.model import Field
from desktop.domain.imports.plan import Outcome
from desktop.domain.imports.sheets import ReadCancelled
from desktop.domain.models import GroupKind, Household
from desktop.i18n import set_language
from desktop.store.association_file import AssociationFile, create_association_file
from desktop.ui import import_wizard
from desktop.ui.import_wizard import (
    FILE_PAGE,
    MAPPING_PAGE,
    PREVIEW_PAGE,
    SHEET_PAGE,
    ImportWizard,
)
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import Settings
from reports.roster_xlsx import export_roster
from tests.ui.helpers import DEMO_HOUSEHOLDS, TODAY, Messages

WAIT = 5000  # ms


# ---------------------------------------------------------------- fixtures and steps


def export(association_file: AssociationFile, path: Path, **options: Any) -> Path:
    with association_file.read() as session:
        export_roster(session, path, **options)
    return path


@pytest.fixture
def roster_xlsx(demo_file: AssociationFile, tmp_path: Path) -> Path:
    """The demo roster exported as officers would get it from Kairan: one sheet 「名簿」."""
    return export(demo_file, tmp_path / "roster.xlsx")


@pytest.fixture
def fresh_window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """The window over a new association with nobody in it yet."""
    opened = create_association_file(tmp_path / "fresh.kairan")
    with opened.write() as session:
        create_association(session, name="新町内会")
    main = MainWindow(opened, Settings(), today=lambda: TODAY)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()
    opened.close()


def households(association_file: AssociationFile) -> dict[str, Household]:
    with association_file.read() as session:
        return {h.number: h for h in session.exec(select(Household)).all()}


def column_of(path: Path, title: str) -> int:
    """The 1-based column of ``title`` in the exported header (row 1)."""
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    titles = [cell.value for cell in sheet[1]]
    return titles.index(title) + 1


def spoil(path: Path, changes: dict[tuple[int, str], str | None]) -> None:
    """Write cells (row, header title) → value into the exported workbook."""
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    for (row, title), value in changes.items():
        sheet.cell(row=row, column=column_of(path, title), value=value)
    book.save(path)


def open_file(qtbot: Any, wizard: ImportWizard, path: Path) -> None:
    """Type the path and go on: the file is read in the background."""
    wizard.file_page.path.setText(str(path))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == SHEET_PAGE, timeout=WAIT)


def to_preview(qtbot: Any, wizard: ImportWizard) -> None:
    """From the sheet page through the columns to the preview, waiting for the plan."""
    if wizard.currentId() == SHEET_PAGE:
        wizard.next()
    assert wizard.currentId() == MAPPING_PAGE
    wizard.next()
    assert wizard.currentId() == PREVIEW_PAGE
    wait_for_plan(qtbot, wizard)


def wait_for_plan(qtbot: Any, wizard: ImportWizard) -> None:
    qtbot.waitUntil(lambda: wizard.plan is not None and not wizard.busy, timeout=WAIT)


def finish_enabled(wizard: ImportWizard) -> bool:
    return wizard.button(QWizard.WizardButton.FinishButton).isEnabled()


def finish(qtbot: Any, wizard: ImportWizard) -> None:
    assert finish_enabled(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.imported is not None and not wizard.isVisible(),
                    timeout=WAIT)


def header_rows(wizard: ImportWizard, sheet: str = "名簿") -> tuple[int, ...]:
    assert wizard.read is not None
    return wizard.read.layouts[sheet].header_rows


def outcomes(wizard: ImportWizard) -> dict[Outcome, int]:
    assert wizard.plan is not None
    return {outcome: wizard.plan.count(outcome) for outcome in Outcome}


# ---------------------------------------------------------------- the whole way


def test_full_run_into_a_new_association_then_again_changes_nothing(
    qtbot: Any, fresh_window: MainWindow, roster_xlsx: Path, messages: Messages
) -> None:
    wizard = fresh_window.file_actions.import_roster()
    assert wizard.isVisible() and wizard.currentId() == FILE_PAGE
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no file yet
    open_file(qtbot, wizard, roster_xlsx)
    assert [wizard.sheet_page.sheets.item(i).text()
            for i in range(wizard.sheet_page.sheets.count())] == ["名簿"]
    assert wizard.sheet_page.header_row.value() == 1
    wizard.next()
    mapping = wizard.mapping_page.mapping()
    assert {Field.NUMBER, Field.GROUP, Field.NAME, Field.FURIGANA} <= set(mapping)
    to_preview(qtbot, wizard)
    assert outcomes(wizard)[Outcome.NEW] == DEMO_HOUSEHOLDS
    assert wizard.preview_page.model.rowCount() == DEMO_HOUSEHOLDS
    assert wizard.preview_page.create_groups.isVisibleTo(wizard.preview_page)
    finish(qtbot, wizard)

    assert len(households(fresh_window.file)) == DEMO_HOUSEHOLDS
    assert fresh_window.model.rowCount() == DEMO_HOUSEHOLDS  # the window was reloaded
    assert fresh_window.undo_stack.count() == 0
    assert len(messages.informations) == 1
    text = messages.informations[0]
    assert f"{DEMO_HOUSEHOLDS} added" in text and "roster.xlsx" in text
    backups = fresh_window.file.backups.list()
    assert [b.reason for b in backups] == ["manual"] and str(backups[0].path) in text

    again = fresh_window.file_actions.import_roster()
    assert again is not wizard
    open_file(qtbot, again, roster_xlsx)
    to_preview(qtbot, again)
    assert outcomes(again)[Outcome.UNCHANGED] == DEMO_HOUSEHOLDS
    assert "changes nothing" in again.preview_page.status.text()
    again.preview_page.only_changes.setChecked(True)
    assert again.preview_page.model.rowCount() == 0
    finish(qtbot, again)
    assert len(households(fresh_window.file)) == DEMO_HOUSEHOLDS


def test_a_kanji_furigana_is_shown_with_sheet_and_row_and_nothing_is_imported(
    qtbot: Any, window: MainWindow, roster_xlsx: Path
) -> None:
    before = households(window.file)
    sheet = openpyxl.load_workbook(roster_xlsx).active
    assert sheet is not None
    reading = str(sheet.cell(row=5, column=column_of(roster_xlsx, "フリガナ")).value)
    spoil(roster_xlsx, {(5, "フリガナ"): "漢字の読み"})
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    to_preview(qtbot, wizard)
    assert outcomes(wizard)[Outcome.ERROR] == 1
    page = wizard.preview_page
    page.only_changes.setChecked(True)
    assert page.model.rowCount() == 1
    problem = page.model.planned(0)
    details = page.model.data(page.model.index(0, 5))
    assert problem.outcome == Outcome.ERROR and problem.rows == (5,)
    assert "roster.xlsx, 名簿, row 5, フリガナ" in details
    assert "1 rows have problems" in page.problems.text()
    assert not finish_enabled(wizard)
    assert page.validatePage() is False  # Finish cannot be forced either
    assert not wizard.busy

    # The officer corrects the file and reads it again: now it can be imported.
    spoil(roster_xlsx, {(5, "フリガナ"): reading})
    page.read_again.click()
    wait_for_plan(qtbot, wizard)
    assert outcomes(wizard)[Outcome.ERROR] == 0
    assert finish_enabled(wizard)
    wizard.reject()
    assert households(window.file).keys() == before.keys()
    assert {n: h.furigana for n, h in households(window.file).items()} == {
        n: h.furigana for n, h in before.items()}


def test_changing_a_column_changes_the_plan(
    qtbot: Any, window: MainWindow, roster_xlsx: Path, messages: Messages
) -> None:
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    to_preview(qtbot, wizard)
    assert outcomes(wizard)[Outcome.UNCHANGED] == DEMO_HOUSEHOLDS

    wizard.back()
    page = wizard.mapping_page
    address = column_of(roster_xlsx, "住所") - 1
    notes = column_of(roster_xlsx, "備考") - 1
    page.set_field(address, Field.NOTES)
    # One column per field: 備考 moved from its own column to the address column.
    assert page.mapping()[Field.NOTES] == address
    assert Field.ADDRESS not in page.mapping()
    assert page.combos[notes].currentData() == ""
    assert "one column only" in page.notice.text()
    wizard.next()
    wait_for_plan(qtbot, wizard)
    assert wizard.plan is not None
    assert outcomes(wizard)[Outcome.UPDATE] > 0
    updated = [row for row in wizard.plan.rows if row.outcome == Outcome.UPDATE]
    assert all([c.title for c in row.changes] == ["備考"] for row in updated)

    # Without a name column the wizard cannot go on, and says why.
    wizard.back()
    name = page.mapping()[Field.NAME]
    page.set_field(name, None)
    assert not page.isComplete()
    assert "氏名" in page.missing.text()
    page.set_field(name, Field.NAME)
    assert page.isComplete()


def test_the_header_row_can_be_chosen_by_hand(
    qtbot: Any, window: MainWindow, roster_xlsx: Path
) -> None:
    book = openpyxl.load_workbook(roster_xlsx)
    sheet = book.active
    assert sheet is not None
    sheet.insert_rows(1, 2)
    sheet["A1"] = "令和8年度 桜町自治会 会員名簿"
    book.save(roster_xlsx)
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    page = wizard.sheet_page
    assert wizard.read is not None
    assert page.header_row.value() == 3  # found under the title rows
    assert page.model.is_header(2) and not page.model.is_header(0)
    assert page.model.headerData(2, Qt.Orientation.Vertical) == "3"  # Excel's row number
    assert page.model.headerData(0, Qt.Orientation.Horizontal) == "A"

    page.header_row.setValue(1)  # the officer says the title row is the header: wrong
    assert header_rows(wizard) == (1,)
    assert page.model.is_header(0) and not page.model.is_header(2)
    assert "No column was recognised as the name" in page.recognised.text()
    wizard.next()
    assert not wizard.mapping_page.isComplete()
    wizard.back()

    page.header_row.setValue(2)
    page.two_rows.setChecked(True)
    assert header_rows(wizard) == (2, 3)
    page.two_rows.setChecked(False)
    page.header_row.setValue(3)
    assert header_rows(wizard) == (3,)
    assert Field.NAME in wizard.read.layouts["名簿"].columns
    to_preview(qtbot, wizard)
    assert outcomes(wizard)[Outcome.UNCHANGED] == DEMO_HOUSEHOLDS


def test_new_groups_are_created_only_when_ticked(
    qtbot: Any, fresh_window: MainWindow, roster_xlsx: Path
) -> None:
    wizard = fresh_window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    to_preview(qtbot, wizard)
    page = wizard.preview_page
    assert wizard.plan is not None and wizard.plan.new_groups
    assert page.create_groups.isChecked()
    page.create_groups.setChecked(False)
    assert not finish_enabled(wizard)
    assert "Create these 班" in page.status.text()
    page.create_groups.setChecked(True)
    finish(qtbot, wizard)
    with fresh_window.file.read() as session:
        hans = [node.name for node in group_tree(session) if node.kind == GroupKind.HAN]
    assert sorted(hans) == sorted(wizard.plan.new_groups)


def test_households_not_in_the_file_are_withdrawn_only_when_ticked(
    qtbot: Any, window: MainWindow, roster_xlsx: Path
) -> None:
    withdrawn_before = sum(h.left_on is not None for h in households(window.file).values())
    book = openpyxl.load_workbook(roster_xlsx)
    sheet = book.active
    assert sheet is not None
    gone = [str(sheet.cell(row=row, column=1).value) for row in (2, 3, 4)]
    sheet.delete_rows(2, 3)
    book.save(roster_xlsx)
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    to_preview(qtbot, wizard)
    page = wizard.preview_page
    assert wizard.plan is not None
    assert sorted(missing.number for missing in wizard.plan.missing) == sorted(gone)
    assert page.withdraw.isVisibleTo(page) and not page.withdraw.isChecked()
    assert page.missing.count() == 3
    assert finish_enabled(wizard)
    page.withdraw.setChecked(True)
    finish(qtbot, wizard)
    after = households(window.file)
    assert all(after[number].left_on == TODAY for number in gone)
    assert sum(h.left_on is not None for h in after.values()) == withdrawn_before + 3


def test_per_group_sheets_can_be_left_out(
    qtbot: Any, window: MainWindow, demo_file: AssociationFile, tmp_path: Path
) -> None:
    path = export(demo_file, tmp_path / "per-han.xlsx", per_group=True)
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, path)
    page = wizard.sheet_page
    assert wizard.read is not None
    names = wizard.read.usable
    assert len(names) > 1 and wizard.chosen_sheets() == names
    page.set_ticked(names[0], False)
    assert wizard.chosen_sheets() == names[1:]
    for name in names:
        page.set_ticked(name, False)
    assert not page.isComplete()
    page.set_ticked(names[0], True)
    to_preview(qtbot, wizard)
    assert wizard.plan is not None
    assert {row.sheet for row in wizard.plan.rows} == {names[0]}
    assert wizard.plan.missing  # the other 班 are not in the chosen sheet


# ---------------------------------------------------------------- reading


def test_cancel_while_reading_stays_on_the_file_page(
    qtbot: Any, window: MainWindow, roster_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()

    def slow_read(path: Path, *, remembered: Any, progress: Callable[[int, int], None],
                  cancelled: Callable[[], bool], require_header: bool) -> Any:
        progress(0, 3)
        started.set()
        while not cancelled():
            threading.Event().wait(0.01)
        raise ReadCancelled

    monkeypatch.setattr(import_wizard, "read_roster", slow_read)
    wizard = window.file_actions.import_roster()
    wizard.file_page.path.setText(str(roster_xlsx))
    wizard.next()
    assert wizard.busy and wizard.currentId() == FILE_PAGE
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert started.wait(2)
    assert wizard.task is not None
    wizard.task.dialog.canceled.emit()  # the progress dialog's Cancel button
    qtbot.waitUntil(lambda: not wizard.busy, timeout=WAIT)
    assert wizard.currentId() == FILE_PAGE and wizard.read is None
    assert "cancelled" in wizard.file_page.status.text()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()

    # Cancelling the wizard while it reads stops the reading, then closes.
    wizard.next()
    assert started.wait(2) and wizard.busy
    wizard.reject()
    assert wizard.isVisible()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
    assert not wizard.busy


def test_a_file_that_cannot_be_read_is_explained_on_the_page(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    fake = tmp_path / "名簿.xlsx"
    fake.write_text("<html><body>roster</body></html>", encoding="utf-8")
    wizard = window.file_actions.import_roster()
    wizard.file_page.path.setText(str(fake))
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.busy, timeout=WAIT)
    assert wizard.currentId() == FILE_PAGE
    assert "web page" in wizard.file_page.status.text()
    assert "名簿.xlsx" in wizard.file_page.status.text()
    wizard.file_page.path.setText(str(tmp_path / "missing.xlsx"))
    assert wizard.file_page.status.text() == ""


def test_choosing_the_file_with_the_dialog_reads_it(
    qtbot: Any, window: MainWindow, roster_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[Any, ...]] = []

    def choose(*args: Any) -> tuple[str, str]:
        asked.append(args)
        return str(roster_xlsx), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose))
    wizard = window.file_actions.import_roster()
    wizard.file_page.choose.click()
    qtbot.waitUntil(lambda: wizard.currentId() == SHEET_PAGE, timeout=WAIT)
    file_filter = asked[0][3]
    assert all(suffix in file_filter for suffix in ("*.xlsx", "*.xlsm", "*.xls", "*.ods",
                                                    "*.csv", "*.txt"))


def test_the_mapping_is_remembered_for_the_next_file_like_it(
    qtbot: Any, window: MainWindow, roster_xlsx: Path
) -> None:
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    wizard.next()
    phone = column_of(roster_xlsx, "電話") - 1
    wizard.mapping_page.set_field(phone, None)  # this officer does not import phones
    to_preview(qtbot, wizard)
    finish(qtbot, wizard)

    again = window.file_actions.import_roster()
    open_file(qtbot, again, roster_xlsx)
    assert again.read is not None
    assert Field.PHONE not in again.read.layouts["名簿"].columns


def test_the_wizard_speaks_japanese_by_default(
    qtbot: Any, window: MainWindow, roster_xlsx: Path
) -> None:
    set_language("ja")
    wizard = window.file_actions.import_roster()
    assert wizard.windowTitle() == "名簿の取り込み"
    open_file(qtbot, wizard, roster_xlsx)
    wizard.next()
    combo = wizard.mapping_page.combos[0]
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items[:4] == ["取り込まない", "世帯番号", "班", "氏名"]
    assert "班長免除" in items


def test_menu_shortcuts_open_the_wizard_and_the_export_dialog(window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    assert isinstance(file_menu, QMenu)
    actions = {action.text(): action for action in file_menu.actions()}
    assert actions["&Import a roster…"].shortcut().toString() == "Ctrl+I"
    assert actions["E&xport the roster…"].shortcut().toString() == "Ctrl+Shift+E"
    actions["&Import a roster…"].trigger()
    assert window.file_actions.wizard is not None and window.file_actions.wizard.isVisible()
    assert window.file_actions.import_roster() is window.file_actions.wizard  # not two
    window.file_actions.wizard.reject()
    actions["E&xport the roster…"].trigger()
    assert window.file_actions.export_dialog is not None
    assert window.file_actions.export_dialog.isVisible()
    window.file_actions.export_dialog.reject()


def test_problems_while_importing_are_shown_and_nothing_changes(
    qtbot: Any, window: MainWindow, roster_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoil(roster_xlsx, {(2, "備考"): "新しい備考"})
    wizard = window.file_actions.import_roster()
    open_file(qtbot, wizard, roster_xlsx)
    to_preview(qtbot, wizard)
    assert outcomes(wizard)[Outcome.UPDATE] == 1

    def full_disk(*args: Any, **kwargs: Any) -> Any:
        raise KairanError("The disk is full.")

    monkeypatch.setattr(window.file.backups, "make", full_disk)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: not wizard.busy, timeout=WAIT)
    assert wizard.isVisible() and wizard.imported is None
    assert wizard.preview_page.status.text() == "The disk is full."
    assert all(h.notes != "新しい備考" for h in households(window.file).values())



def test_a_shift_jis_csv_is_one_sheet_without_a_name(
    qtbot: Any, fresh_window: MainWindow, tmp_path: Path
) -> None:
    csv = tmp_path / "名簿.csv"
    csv.write_bytes("世帯番号,班,氏名,フリガナ\r\n1,３班,山田 太郎,ヤマダ タロウ\r\n"
                    "2,第3班,佐藤 花子,さとう はなこ\r\n".encode("cp932"))
    wizard = fresh_window.file_actions.import_roster()
    open_file(qtbot, wizard, csv)
    assert wizard.sheet_page.sheets.item(0).text() == "(the whole file)"
    to_preview(qtbot, wizard)
    assert wizard.plan is not None
    assert outcomes(wizard)[Outcome.NEW] == 2 and wizard.plan.new_groups == ["3班"]
    finish(qtbot, wizard)
    assert sorted(households(fresh_window.file)) == ["1", "2"]


def test_a_sheet_set_aside_can_be_imported_by_choosing_its_header_row(
    qtbot: Any, fresh_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "romaji.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "meibo"
    for row in (["kaiin meibo"], ["bango", "namae", "jusho"],
                ["1", "青木 一郎", "本町1-1"], ["2", "石田 花子", "本町1-2"]):
        sheet.append(row)
    book.save(path)
    wizard = fresh_window.file_actions.import_roster()
    open_file(qtbot, wizard, path)
    page = wizard.sheet_page
    assert wizard.read is not None and "meibo" in wizard.read.unreadable
    assert "set aside" in page.sheets.item(0).text()
    assert page.sheets.item(0).checkState() == Qt.CheckState.Unchecked
    assert "choose its header row" in page.recognised.text()
    assert not page.isComplete()

    page.header_row.setValue(2)  # the officer points at the titles
    assert header_rows(wizard, "meibo") == (2,)
    assert page.sheets.item(0).checkState() == Qt.CheckState.Checked
    assert "set aside" not in page.sheets.item(0).text()
    assert page.isComplete()
    wizard.next()
    mapping = wizard.mapping_page
    mapping.set_field(0, Field.NUMBER)
    mapping.set_field(1, Field.NAME)
    mapping.set_field(2, Field.ADDRESS)
    assert mapping.isComplete()
    wizard.next()
    wait_for_plan(qtbot, wizard)
    assert outcomes(wizard)[Outcome.NEW] == 2
    finish(qtbot, wizard)
    assert households(fresh_window.file)["2"].address == "本町1-2"


def test_the_officer_can_say_whether_a_row_is_a_household_or_a_member(
    qtbot: Any, fresh_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "members.csv"
    path.write_text("世帯番号,氏名\n1,青木 一郎\n,青木 花子\n2,石田 次郎\n", encoding="utf-8")
    wizard = fresh_window.file_actions.import_roster()
    open_file(qtbot, wizard, path)
    wizard.next()
    wizard.mapping_page.set_rows_are(True)  # an empty number continues the household above
    wizard.next()
    wait_for_plan(qtbot, wizard)
    assert outcomes(wizard)[Outcome.NEW] == 2
    assert outcomes(wizard)[Outcome.ERROR] == 0

    wizard.back()
    wizard.mapping_page.set_rows_are(False)  # every row a household: row 3 has no number
    wizard.next()
    wait_for_plan(qtbot, wizard)
    assert outcomes(wizard)[Outcome.NEW] + outcomes(wizard)[Outcome.ERROR] == 3
