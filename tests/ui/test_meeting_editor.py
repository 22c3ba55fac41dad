"""The meeting editor: a new meeting with its agenda and each item's majority (a usual one or
any fraction), the chair, changes to a saved meeting, and what printing the forms fixes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtWidgets import QTableWidgetItem

from desktop.domain.meeting import meetings
from desktop.domain.meeting.meetings import ItemData, MeetingData
from desktop.domain.meeting.rules import (
    MAJORITY_OF_CAST,
    MAJORITY_OF_PRESENT,
    TWO_THIRDS_OF_PRESENT,
    Base,
    Majority,
)
from desktop.ui.main_window import MainWindow
from desktop.ui.meeting_editor import MeetingEditor
from tests.ui.helpers import Messages, is_focused

MEETING = MeetingData(title="臨時総会", held_on=date(2026, 7, 5), place="集会所",
                      record_date=date(2026, 6, 1))


def saved(window: MainWindow, items: tuple[ItemData, ...] = (ItemData("事業報告"),
                                                              ItemData("予算"))) -> uuid.UUID:
    with window.file.write() as session:
        return meetings.create_meeting(session, data=MEETING, items=items)


def type_title(editor: MeetingEditor, row: int, title: str) -> None:
    editor.items.setItem(row, 0, QTableWidgetItem(title))


def test_a_new_meeting_is_made_with_its_agenda_and_majorities(
    window: MainWindow, qtbot: Any
) -> None:
    editor = window.meeting_actions.new_meeting()
    assert editor is not None and editor.windowTitle() == "New general meeting"
    qtbot.waitExposed(editor)
    editor.activateWindow()
    assert editor.title.text() == "令和8年度 定期総会"  # the 年度 of today (2026-06-01)
    qtbot.waitUntil(lambda: is_focused(editor.title))
    editor.held_on.setText("令和8年6月28日")
    editor.place.setText("町内会館")
    editor.record_date.setText("2026/6/1")
    type_title(editor, 0, "令和7年度事業報告")
    assert editor.items.item(0, 1).text() == "more than half of those present"
    editor.add_item()
    type_title(editor, 1, "規約の改正")
    editor.preset.setCurrentIndex(2)
    assert editor.items.item(1, 1).text() == "at least 2/3 of those present"
    editor.add_item()
    type_title(editor, 2, "解散")
    editor.set_custom_majority(3, 4, strict=False, base=Base.ALL)
    assert editor.items.item(2, 1).text() == "at least 3/4 of all voters"
    assert editor.custom.isVisibleTo(editor)
    editor.items.setCurrentCell(1, 0)
    assert not editor.custom.isVisibleTo(editor)  # a usual majority shows no fraction
    editor.chair.setText("1")
    assert editor.chair_shown.text() == ""  # the voter list is made when it is saved

    editor.accept()
    assert editor.saved and editor.meeting_id is not None
    with window.file.read() as session:
        record = meetings.get_meeting(session, meeting_id=editor.meeting_id)
    assert record.data == MeetingData("令和8年度 定期総会", date(2026, 6, 28), "町内会館",
                                      date(2026, 6, 1))
    assert [(item.title, item.majority) for item in record.items] == [
        ("令和7年度事業報告", MAJORITY_OF_PRESENT), ("規約の改正", TWO_THIRDS_OF_PRESENT),
        ("解散", Majority(3, 4, strict=False, base=Base.ALL))]
    assert record.voters == 40 and record.chair_key == "0001"
    assert window.meetings.current_id() == editor.meeting_id  # chosen in the list


def test_a_problem_keeps_the_editor_open_at_the_field(
    window: MainWindow, messages: Messages, qtbot: Any
) -> None:
    editor = window.meeting_actions.new_meeting()
    assert editor is not None
    qtbot.waitExposed(editor)
    editor.activateWindow()
    qtbot.waitUntil(lambda: is_focused(editor.title))
    editor.record_date.setText("2026-12-01")
    editor.accept()
    assert messages.warnings[0].startswith(
        "The record date 令和8年12月1日 (2026-12-01) is after the meeting")
    assert editor.isVisible() and not editor.saved and editor.meeting_id is None
    assert is_focused(editor.record_date)

    editor.record_date.setText("2026-06-01")
    editor.held_on.setText("いつか")
    editor.accept()
    assert messages.warnings[1] == (
        "「いつか」 is not a date. Type it as 令和7年4月1日 or 2025-04-01.")
    editor.held_on.setText("2026-06-20")
    editor.accept()  # the first item has no title yet
    assert messages.warnings[2].startswith("Item 1 has no title.")
    assert is_focused(editor.items)
    with window.file.read() as session:
        assert [m.title for m in meetings.list_meetings(session)] == ["令和8年度 定期総会"]


def test_a_saved_meeting_is_changed_item_by_item(window: MainWindow, qtbot: Any) -> None:
    meeting_id = saved(window, (ItemData("一"), ItemData("二"), ItemData("三")))
    editor = window.meeting_actions.edit_meeting(meeting_id)
    assert editor is not None
    assert editor.windowTitle() == "General meeting: 臨時総会"
    editor.items.setCurrentCell(0, 0)
    editor.remove_item()
    editor.items.setCurrentCell(1, 0)  # 三
    editor.move_item(-1)
    editor.preset.setCurrentIndex(1)
    editor.add_item()
    type_title(editor, 2, "四")
    editor.chair.setText("0005")
    assert editor.chair_shown.text() == "→ 0005 坂本 洋子"
    editor.accept()
    assert editor.saved
    with window.file.read() as session:
        record = meetings.get_meeting(session, meeting_id=meeting_id)
    assert [(item.title, item.majority) for item in record.items] == [
        ("三", MAJORITY_OF_CAST), ("二", MAJORITY_OF_PRESENT), ("四", MAJORITY_OF_PRESENT)]
    assert record.chair_key == "0005"

    again = window.meeting_actions.edit_meeting(meeting_id)
    assert again is not None and again.chair.text() == "0005"
    again.chair.clear()
    again.accept()
    with window.file.read() as session:
        assert meetings.get_meeting(session, meeting_id=meeting_id).chair_key is None


def test_after_the_forms_are_printed_items_stay_and_new_ones_are_marked(
    window: MainWindow, messages: Messages
) -> None:
    meeting_id = saved(window)
    with window.file.write() as session:
        meetings.mark_forms_printed(session, meeting_id=meeting_id,
                                    at=datetime(2026, 6, 2, tzinfo=UTC))
    editor = window.meeting_actions.edit_meeting(meeting_id)
    assert editor is not None
    assert editor.agenda_note.text().startswith("The forms are printed")
    editor.items.setCurrentCell(1, 0)
    assert not editor.remove_button.isEnabled() and not editor.up_button.isEnabled()
    editor.remove_item()
    assert "is printed on the forms already and cannot be removed" in messages.warnings[0]
    editor.add_item()
    assert editor.items.item(2, 1).text() == (
        "more than half of those present (not on the forms)")
    assert editor.remove_button.isEnabled()  # the new one can go again
    type_title(editor, 2, "追加議案")
    editor.accept()
    with window.file.read() as session:
        items = meetings.get_meeting(session, meeting_id=meeting_id).items
    assert [(item.title, item.added_after_forms) for item in items] == [
        ("事業報告", False), ("予算", False), ("追加議案", True)]


def test_cancel_asks_before_dropping_changes(window: MainWindow, messages: Messages) -> None:
    meeting_id = saved(window)
    editor = window.meeting_actions.edit_meeting(meeting_id)
    assert editor is not None
    editor.reject()  # nothing changed: closes without asking
    assert messages.questions == [] and not editor.isVisible()
    editor = window.meeting_actions.edit_meeting(meeting_id)
    assert editor is not None
    editor.place.setText("公民館")
    messages.answer = False
    editor.reject()
    assert messages.questions == ["Close without saving the changes?"]
    assert editor.isVisible()
    messages.answer = True
    editor.reject()
    assert not editor.isVisible()
    with window.file.read() as session:
        assert meetings.get_meeting(session, meeting_id=meeting_id).data.place == "集会所"


def test_the_meetings_own_rules_open_from_the_editor(window: MainWindow) -> None:
    editor = window.meeting_actions.new_meeting()
    assert editor is not None and not editor.rules_button.isEnabled()  # saved first
    editor.reject()
    editor = window.meeting_actions.edit_meeting(saved(window))
    assert editor is not None
    dialog = editor.edit_rules()
    assert dialog is not None and dialog.windowTitle() == "Rules of 「臨時総会」"
    dialog.reject()
