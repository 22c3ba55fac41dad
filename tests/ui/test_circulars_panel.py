"""The circulars tab: every circular with its date, status and reply count, buttons only where
they apply, and delete / send / copy asking first and doing what they say."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import Qt

from desktop.domain import circulars, replies
from desktop.domain.circulars import CircularData
from desktop.domain.models import Ask, CircularStatus, ReplyChannel
from desktop.ui.circulars_panel import REPLIES, STATUS, TITLE
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import TODAY, Messages

CLEANUP = "秋の一斉清掃のお知らせ"  # the demo's sent circular: 6 of 40 answered
DRILL = "防災訓練についてのアンケート"  # the demo's draft survey


def show(window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.circulars)


def cells(window: MainWindow, column: int) -> list[str]:
    model = window.circulars.model
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def choose(window: MainWindow, title: str) -> None:
    window.circulars.table.selectRow(cells(window, TITLE).index(title))


def test_the_list_shows_status_and_reply_counts(window: MainWindow) -> None:
    assert window.tabs.tabText(2) == "Circulars"
    show(window)
    assert cells(window, TITLE) == [DRILL, CLEANUP]  # newest first
    assert cells(window, STATUS) == ["Draft", "Sent"]
    assert cells(window, REPLIES) == ["—", "6 / 40"]
    model = window.circulars.model
    assert model.headerData(REPLIES, Qt.Orientation.Horizontal) == "Replies"
    assert model.data(model.index(1, 0)) == "令和8年10月1日"
    assert window.circulars.empty.isHidden()

    with window.file.write() as session:
        circular_id = circulars.list_circulars(session)[1].id
        status = replies.reply_status(session, circular_id=circular_id)
        number = next(s.unanswered[0].number for s in status if s.unanswered)
        replies.record_reply(session, circular_id=circular_id, entry=number, answers=["出席"],
                             channel=ReplyChannel.PHONE, received_at=datetime.now(UTC))
    window.circular_actions.refresh()
    assert cells(window, REPLIES) == ["—", "7 / 40"]


def test_buttons_follow_the_chosen_circular(window: MainWindow) -> None:
    show(window)
    panel = window.circulars
    choose(window, DRILL)
    assert panel.edit_button.isEnabled() and panel.delete_button.isEnabled()
    assert panel.send_button.isEnabled() and not panel.replies_button.isEnabled()
    choose(window, CLEANUP)
    assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
    assert not panel.send_button.isEnabled()
    assert panel.replies_button.isEnabled() and panel.print_button.isEnabled()
    assert panel.copy_button.isEnabled()


def test_enter_opens_a_draft_in_the_editor_and_a_sent_one_for_replies(
    qtbot: Any, window: MainWindow
) -> None:
    show(window)
    choose(window, DRILL)
    qtbot.keyClick(window.circulars.table, Qt.Key.Key_Return)
    editor = window.circular_actions.editor_dialog
    assert editor is not None and editor.isVisible() and editor.title.text() == DRILL
    editor.reject()
    choose(window, CLEANUP)
    qtbot.keyClick(window.circulars.table, Qt.Key.Key_Return)
    entry = window.circular_actions.reply_entry
    assert entry is not None and entry.isVisible()
    assert entry.totals.text() == "Answered 6 of 40 · 34 not yet"
    entry.reject()


def test_delete_asks_first(window: MainWindow, messages: Messages) -> None:
    show(window)
    choose(window, DRILL)
    messages.answer = False
    window.circulars.delete_button.click()
    assert messages.questions == [
        f"Delete the draft 「{DRILL}」 and its attachments? This cannot be undone."]
    assert cells(window, TITLE) == [DRILL, CLEANUP]
    messages.answer = True
    window.circulars.delete_button.click()
    assert cells(window, TITLE) == [CLEANUP]


def test_send_confirms_the_households_reached_then_fixes_the_circular(
    window: MainWindow, messages: Messages
) -> None:
    show(window)
    choose(window, DRILL)
    messages.answer = False
    window.circulars.send_button.click()
    assert messages.questions[0].startswith(
        f"Send 「{DRILL}」 to 40 households (11 of them on paper)?")
    assert cells(window, STATUS) == ["Draft", "Sent"]
    messages.answer = True
    window.circulars.send_button.click()
    assert cells(window, STATUS) == ["Sent", "Sent"]
    assert cells(window, REPLIES) == ["0 / 40", "6 / 40"]
    assert window.circulars.current_id() is not None
    assert not window.circulars.edit_button.isEnabled()
    assert window.statusBar().currentMessage() == f"Sent 「{DRILL}」 to 40 households."


def test_an_incomplete_draft_is_not_sent(window: MainWindow, messages: Messages) -> None:
    with window.file.write() as session:
        draft = circulars.create_circular(session, data=CircularData(
            title="未完成", body="", issued_on=date(2027, 1, 1)))
        circulars.update_circular(session, circular_id=draft, data=CircularData(
            title="未完成", body="", issued_on=date(2027, 1, 1)))
    show(window)
    choose(window, "未完成")
    messages.answer = True
    assert window.circular_actions.send_circular(draft) == 40
    assert window.circular_actions.send_circular(draft) is None  # twice: said so
    assert messages.warnings == ["「未完成」 has been sent already."]


def test_copy_as_template_opens_a_new_draft_dated_today(
    window: MainWindow, messages: Messages
) -> None:
    show(window)
    choose(window, CLEANUP)
    window.circulars.copy_button.click()
    editor = window.circular_actions.editor_dialog
    assert editor is not None and editor.is_new
    assert editor.title.text() == CLEANUP
    assert editor.issued_on.text() == TODAY.isoformat()
    assert editor.deadline.text() == "2026-06-15"  # the same 14 days after
    editor.accept()
    assert cells(window, TITLE).count(CLEANUP) == 2
    with window.file.read() as session:
        rows = circulars.list_circulars(session)
    copy = next(row for row in rows if row.title == CLEANUP and row.issued_on == TODAY)
    assert copy.status == CircularStatus.DRAFT and copy.ask == Ask.ATTENDANCE
    assert window.circulars.current_id() == copy.id


def test_the_menu_commands(window: MainWindow, messages: Messages) -> None:
    window.tabs.setCurrentIndex(0)
    actions = {action.text(): action for menu in window.menuBar().actions()
               for action in menu.menu().actions()}
    assert actions["&New circular…"].shortcut().toString() == "Ctrl+Shift+N"
    assert actions["Enter &replies…"].shortcut().toString() == "Ctrl+Shift+R"
    assert actions["&Print the roster…"].shortcut().toString() == "Ctrl+Shift+P"
    actions["Enter &replies…"].trigger()  # the newest is chosen: the draft survey
    assert window.tabs.currentWidget() is window.circulars
    assert messages.warnings == [f"「{DRILL}」 has not been sent yet. Send it before entering "
                                 "replies."]
    actions["&New circular…"].trigger()
    editor = window.circular_actions.editor_dialog
    assert editor is not None and editor.isVisible() and editor.is_new
    editor.reject()
