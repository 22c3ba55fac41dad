"""The reply-entry screen: type a number (or scan a slip), the answer, Enter — recorded, and the
counts per 班 follow at once; the same slip twice changes nothing; an unknown number, another
班's household or another circular's slip say so plainly; a correction needs a yes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import Qt

from desktop.domain import circulars, replies
from desktop.domain.circulars import CircularData, Question, QuestionKind
from desktop.domain.models import Ask, ReplyChannel
from desktop.domain.slips import slip_code
from desktop.ui.main_window import MainWindow
from desktop.ui.reply_entry import ReplyEntry
from tests.ui.helpers import Messages, is_focused, type_text

WAIT = 5000  # ms
ATTENDANCE = CircularData(title="夏祭りのお知らせ", body="# 夏祭り\n7月に行います。",
                          issued_on=date(2026, 6, 1), ask=Ask.ATTENDANCE,
                          deadline=date(2026, 6, 20))


def sent(window: MainWindow, data: CircularData = ATTENDANCE) -> uuid.UUID:
    """A circular written and sent to the whole demo association (40 households)."""
    with window.file.write() as session:
        circular_id = circulars.create_circular(session, data=data)
        circulars.send_circular(session, circular_id=circular_id,
                                sent_at=datetime(2026, 6, 1, 9, tzinfo=UTC))
    return circular_id


def stored(window: MainWindow, circular_id: uuid.UUID) -> dict[str, tuple[str, ...]]:
    """Household number → stored answers."""
    with window.file.read() as session:
        return {record.number: record.answers
                for status in replies.reply_status(session, circular_id=circular_id)
                for record in status.answered}


@pytest.fixture
def screen(window: MainWindow, tmp_path: Path, qtbot: Any) -> ReplyEntry:
    window.circular_actions.job_folder = tmp_path / "jobs"
    window.circular_actions.job_folder.mkdir()
    entry = window.circular_actions.enter_replies(sent(window))
    assert entry is not None
    qtbot.waitExposed(entry)
    entry.activateWindow()
    return entry


def enter(qtbot: Any, screen: ReplyEntry, entry: str, *answers: str) -> None:
    """Type the slip or number and each answer, with Enter after each, as an officer would."""
    type_text(qtbot, screen.entry, entry)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    for field, answer in zip(screen.answers, answers, strict=True):
        type_text(qtbot, field, answer)
        qtbot.keyClick(field, Qt.Key.Key_Return)


def test_a_number_and_an_answer_are_recorded_and_counted(
    qtbot: Any, screen: ReplyEntry, window: MainWindow
) -> None:
    assert is_focused(screen.entry)
    assert screen.counts() == {"1班": (0, 17), "2班": (0, 23)}
    assert screen.answers[0].placeholderText() == "1 = 出席　2 = 欠席"
    qtbot.keyClicks(screen.entry, "4")
    assert screen.who.text() == "→ 0004 河野 進（1班）"
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert is_focused(screen.answers[0])  # the number alone records nothing yet
    qtbot.keyClicks(screen.answers[0], "1")
    qtbot.keyClick(screen.answers[0], Qt.Key.Key_Return)

    assert screen.last_result.text() == "Recorded: 0004 河野 進（1班） — 出席"
    assert stored(window, screen.circular_id) == {"0004": ("出席",)}
    assert screen.counts() == {"1班": (1, 16), "2班": (0, 23)}
    assert "0004  河野 進" not in screen.unanswered_shown()
    assert "0006  石川 節子" in screen.unanswered_shown()
    assert screen.totals.text() == "Answered 1 of 40 · 39 not yet"
    assert screen.entry.text() == "" and screen.answers[0].text() == ""
    assert is_focused(screen.entry)  # ready for the next slip


def test_the_same_slip_twice_changes_nothing_and_a_correction_needs_a_yes(
    qtbot: Any, screen: ReplyEntry, window: MainWindow, messages: Messages
) -> None:
    enter(qtbot, screen, "0004", "出席")
    with window.file.read() as session:
        before = replies.reply_status(session, circular_id=screen.circular_id)
    enter(qtbot, screen, "0004", "1")
    assert screen.last_result.text() == (
        "Already entered with the same answer: 0004 河野 進（1班） — 出席. Nothing changed.")
    with window.file.read() as session:
        assert replies.reply_status(session, circular_id=screen.circular_id) == before
    assert screen.counts()["1班"] == (1, 16)

    messages.answer = False
    enter(qtbot, screen, "0004", "2")
    assert "has already answered 「出席」" in messages.questions[0]
    assert screen.last_result.text() == "Not changed: 0004 河野 進（1班） keeps 「出席」."
    assert stored(window, screen.circular_id) == {"0004": ("出席",)}

    messages.answer = True
    enter(qtbot, screen, "0004", "2")
    assert screen.last_result.text() == "Corrected: 0004 河野 進（1班） — now 欠席"
    assert stored(window, screen.circular_id) == {"0004": ("欠席",)}
    assert len(messages.questions) == 2


def test_an_unknown_number_and_another_groups_household_are_explained(
    qtbot: Any, screen: ReplyEntry, window: MainWindow
) -> None:
    enter(qtbot, screen, "9999", "1")
    assert screen.last_result.text().startswith("No household has the number 9999.")
    assert "b00020" in screen.last_result.styleSheet()  # in red
    assert screen.entry.text() == "9999" and is_focused(screen.entry)  # to type it again
    assert screen.entry.selectedText() == "9999"

    screen.entry.clear()
    screen.group_filter.setCurrentIndex(screen.group_filter.findText("1班"))
    assert screen.counts() == {"1班": (0, 17)}  # the 班 being entered only
    enter(qtbot, screen, "0020", "1")
    assert screen.last_result.text().startswith("0020 石田 キヨ is in 2班, not in 1班.")
    assert stored(window, screen.circular_id) == {}

    screen.entry.clear()
    enter(qtbot, screen, "0006", "3")  # not one of the choices
    assert "is not one of the choices" in screen.last_result.text()
    assert is_focused(screen.answers[0])
    assert stored(window, screen.circular_id) == {}


def test_a_scanned_slip_is_entered_and_another_circulars_slip_is_refused(
    qtbot: Any, screen: ReplyEntry, window: MainWindow
) -> None:
    enter(qtbot, screen, slip_code(screen.circular_id, "0006"), "2")
    assert screen.last_result.text() == "Recorded: 0006 石川 節子（1班） — 欠席"
    other = sent(window, CircularData(title="清掃のお知らせ", body="", issued_on=date(2026, 6, 2),
                                      ask=Ask.READ, deadline=date(2026, 6, 9)))
    enter(qtbot, screen, slip_code(other, "0007"), "1")
    assert screen.last_result.text().startswith(
        "This slip belongs to 「清掃のお知らせ」, not to 「夏祭りのお知らせ」.")
    assert stored(window, screen.circular_id) == {"0006": ("欠席",)}


def test_a_read_confirmation_records_on_enter_by_the_channel_chosen(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    circular_id = sent(window, CircularData(title="回覧", body="", issued_on=date(2026, 6, 1),
                                            ask=Ask.READ, deadline=date(2026, 6, 9)))
    screen = window.circular_actions.enter_replies(circular_id)
    assert screen is not None and screen.answers == []
    screen.channel.setCurrentIndex(screen.channel.findData(ReplyChannel.PHONE.value))
    type_text(qtbot, screen.entry, "０００１")  # full width, as an IME left on types it
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert screen.last_result.text() == "Recorded: 0001 服部 修（1班） — 確認"
    with window.file.read() as session:
        status = replies.reply_status(session, circular_id=circular_id)
    assert [(r.number, r.channel) for s in status for r in s.answered] == [
        ("0001", ReplyChannel.PHONE)]


def test_a_survey_has_one_field_per_question(qtbot: Any, window: MainWindow) -> None:
    survey = CircularData(
        title="アンケート", body="", issued_on=date(2026, 6, 1), ask=Ask.SURVEY,
        deadline=date(2026, 6, 30),
        questions=(Question("防災訓練に参加しますか", QuestionKind.CHOICE, ("はい", "いいえ")),
                   Question("ご意見", QuestionKind.TEXT)))
    screen = window.circular_actions.enter_replies(sent(window, survey))
    assert screen is not None and len(screen.answers) == 2
    enter(qtbot, screen, "18", "2", "none")
    assert screen.last_result.text() == "Recorded: 0018 大野 隆（2班） — いいえ / none"


def test_the_unanswered_list_prints_through_the_preview(
    qtbot: Any, screen: ReplyEntry, window: MainWindow, tmp_path: Path
) -> None:
    enter(qtbot, screen, "0004", "1")
    screen.print_button.click()
    qtbot.waitUntil(lambda: screen.preview is not None, timeout=WAIT)
    preview = screen.preview
    assert preview is not None and preview.page_count == 2  # a sheet per 班
    texts = [page.extract_text() for page in pypdf.PdfReader(preview.path).pages]
    assert "未回答一覧" in texts[0] and "1班" in texts[0] and "0006" in texts[0]
    assert "0004" not in texts[0]  # answered
    assert "2班" in texts[1]
    preview.reject()
    assert list((tmp_path / "jobs").iterdir()) == []  # the PDF went with the preview

    screen.group_filter.setCurrentIndex(screen.group_filter.findText("2班"))
    screen.print_button.click()
    qtbot.waitUntil(lambda: screen.preview is not preview, timeout=WAIT)
    assert screen.preview is not None and screen.preview.page_count == 1
    screen.preview.reject()


def test_a_draft_has_no_reply_screen(window: MainWindow, messages: Messages) -> None:
    with window.file.write() as session:
        draft = circulars.create_circular(session, data=ATTENDANCE)
    assert window.circular_actions.enter_replies(draft) is None
    assert messages.warnings == [
        "「夏祭りのお知らせ」 has not been sent yet. Send it before entering replies."]
