"""The general meetings tab: the list, its buttons and menu, printing the forms (which marks
them printed), the other documents, and the Excel export."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt

from desktop.domain.meeting import meetings
from desktop.domain.meeting.meetings import ItemData, MeetingData
from desktop.ui.main_window import MainWindow
from desktop.ui.meeting_entry import MeetingEntry
from desktop.ui.meeting_print import MeetingPrintDialog
from tests.ui.helpers import Messages

WAIT = 10000  # ms
MEETING = MeetingData(title="臨時総会", held_on=date(2026, 7, 5), place="集会所",
                      record_date=date(2026, 6, 1))


@pytest.fixture
def meeting_id(window: MainWindow, tmp_path: Path) -> uuid.UUID:
    window.meeting_actions.job_folder = tmp_path / "jobs"
    window.meeting_actions.job_folder.mkdir()
    with window.file.write() as session:
        return meetings.create_meeting(session, data=MEETING,
                                       items=[ItemData("事業報告"), ItemData("予算")])


def test_the_tab_lists_meetings_newest_first(
    qtbot: Any, window: MainWindow, meeting_id: uuid.UUID
) -> None:
    qtbot.keyClick(window.roster.search, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.meetings
    assert window.tabs.tabText(window.tabs.currentIndex()) == "General meetings"
    model = window.meetings.model
    rows = [[model.data(model.index(row, column)) for column in range(4)]
            for row in range(model.rowCount())]
    assert rows[0] == ["令和8年7月5日", "臨時総会", "40", "0 / 40"]
    assert rows[1][1] == "令和8年度 定期総会"  # the demo's, held earlier
    window.meetings.table.selectRow(0)
    assert window.meetings.current_id() == meeting_id
    assert all(button.isEnabled() for button in (
        window.meetings.edit_button, window.meetings.entry_button,
        window.meetings.print_button, window.meetings.export_button))


def test_enter_on_a_meeting_opens_its_entry_screen(
    qtbot: Any, window: MainWindow, meeting_id: uuid.UUID
) -> None:
    window.show_meetings()
    window.meeting_actions.refresh(select=meeting_id)
    qtbot.keyClick(window.meetings.table, Qt.Key.Key_Return)
    screen = window.meeting_actions.entry_screen
    assert isinstance(screen, MeetingEntry) and screen.meeting_id == meeting_id
    assert screen.windowTitle() == "Forms and check-in: 臨時総会"
    qtbot.waitUntil(lambda: screen.tally_panel.tally is not None and not
                    screen.tally_panel.busy(), timeout=WAIT)
    screen.reject()


def test_the_meeting_menu_reaches_every_command(window: MainWindow) -> None:
    menu = next(action.menu() for action in window.menuBar().actions()
                if action.text() == "&Meeting")
    texts = [action.text() for action in menu.actions() if not action.isSeparator()]
    assert texts == ["&New meeting…", "&Edit the meeting…", "Enter returned &forms…",
                     "Check in at the &door…", "Live &tally…", "&Print for the meeting…",
                     "E&xport the meeting to Excel…", "Meeting &rules…"]


def _print(qtbot: Any, window: MainWindow, meeting_id: uuid.UUID,
           document: str) -> tuple[MeetingPrintDialog, list[str]]:
    dialog = window.meeting_actions.print_meeting(meeting_id)
    assert dialog is not None
    dialog.choose(document)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT)
    assert dialog.preview is not None
    texts = [page.extract_text() for page in pypdf.PdfReader(dialog.preview.path).pages]
    dialog.preview.reject()
    return dialog, texts


def test_printing_the_forms_marks_them_printed(
    qtbot: Any, window: MainWindow, meeting_id: uuid.UUID, tmp_path: Path
) -> None:
    dialog = window.meeting_actions.print_meeting(meeting_id)
    assert dialog is not None
    assert dialog.forms_note.text().startswith("Once the forms are made, agenda items can no")
    dialog.tick_only(["2班"])
    dialog.deadline.setText("2026-06-30")
    assert dialog.deadline_shown.text() == "令和8年6月30日 (2026-06-30)"
    dialog.reject()

    dialog, texts = _print(qtbot, window, meeting_id, "forms")
    assert dialog.forms_marked
    assert len(texts) == 40  # one sheet per household
    assert "0001" in texts[0] and "事業報告" in texts[0]
    with window.file.read() as session:
        record = meetings.get_meeting(session, meeting_id=meeting_id)
    assert record.forms_printed_at is not None
    assert list((tmp_path / "jobs").iterdir()) == []  # the PDF went with the preview

    dialog = window.meeting_actions.print_meeting(meeting_id)
    assert dialog is not None
    assert dialog.forms_note.text().startswith("Printed on 令和8年")
    dialog.reject()


def test_the_check_in_list_not_returned_list_and_results_print(
    qtbot: Any, window: MainWindow, meeting_id: uuid.UUID
) -> None:
    dialog, texts = _print(qtbot, window, meeting_id, "checkin")
    assert not dialog.forms_marked
    assert any("受付名簿" in text for text in texts)
    dialog = window.meeting_actions.print_meeting(meeting_id)
    assert dialog is not None
    dialog.choose("not_returned")
    dialog.tick_only(["1班"])
    dialog.start()
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT)
    assert dialog.preview is not None
    [page] = pypdf.PdfReader(dialog.preview.path).pages
    assert "1班" in page.extract_text() and "2班" not in page.extract_text()
    dialog.preview.reject()
    _dialog, texts = _print(qtbot, window, meeting_id, "results")
    assert "議決結果" in texts[0]
    with window.file.read() as session:
        assert meetings.get_meeting(session, meeting_id=meeting_id).forms_printed_at is None


def test_no_voters_to_print_says_so(
    qtbot: Any, window: MainWindow, meeting_id: uuid.UUID
) -> None:
    dialog = window.meeting_actions.print_meeting(meeting_id)
    assert dialog is not None
    dialog.tick_only([])
    dialog.start()
    assert dialog.status.text() == "Tick at least one 班."
    assert not dialog.running
    dialog.reject()


def test_the_export_writes_the_voters_and_the_tally(
    qtbot: Any, window: MainWindow, meeting_id: uuid.UUID, tmp_path: Path, messages: Messages
) -> None:
    asked: list[str] = []
    target = tmp_path / "総会.xlsx"

    def ask(_parent: object, suggested: str) -> Path:
        asked.append(suggested)
        return target

    window.meeting_actions.ask_save_path = ask
    assert window.meeting_actions.export_meeting(meeting_id) is not None
    qtbot.waitUntil(lambda: not window.tasks.busy(), timeout=WAIT)
    assert asked and asked[0].endswith("_臨時総会_20260601.xlsx")
    assert messages.informations == [f"Wrote 40 voters and the tally to {target}."]
    workbook = load_workbook(target, read_only=True)
    assert workbook.sheetnames == ["投票者", "集計"]
    workbook.close()

    window.meeting_actions.ask_save_path = lambda _parent, _name: None  # cancelled
    assert window.meeting_actions.export_meeting(meeting_id) is None
