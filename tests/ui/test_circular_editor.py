"""The circular editor: a new draft is saved as typed, a problem focuses the field at fault,
attachments are checked as they are added, and characters the font lacks are named at once."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PIL import Image
from PySide6.QtWidgets import QWidget

from desktop.domain import circulars
from desktop.domain.models import Ask, AttachmentKind, CircularStatus, TargetKind
from desktop.ui.circular_editor import CircularEditor
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import TODAY, Messages

WAIT = 5000  # ms


def open_new(window: MainWindow) -> CircularEditor:
    editor = window.circular_actions.new_circular()
    assert editor is not None and editor.isVisible()
    return editor


def record(window: MainWindow, editor: CircularEditor) -> circulars.CircularRecord:
    with window.file.read() as session:
        return circulars.get_circular(session, circular_id=editor.circular_id)


def tick(editor: CircularEditor, *names: str) -> None:
    for row in range(editor.group_list.count()):
        item = editor.group_list.item(row)
        if item.text().strip() in names:
            item.setCheckState(item.checkState().Checked)


def test_a_new_circular_is_saved_as_a_draft(
    qtbot: Any, window: MainWindow, messages: Messages
) -> None:
    editor = open_new(window)
    assert window.tabs.currentWidget() is window.circulars
    assert editor.title.text() == "New circular" and editor.title.selectedText()
    assert editor.issued_on.text() == TODAY.isoformat()
    assert editor.issued_shown.text().startswith("令和8年6月1日")
    assert editor.recipient_count.text() == "Reaches 40 households (11 on paper)."

    editor.title.setText("防災訓練のお知らせ")
    editor.body.setPlainText("# 防災訓練\n・日時：6月28日\n・場所：公園")
    officers = [editor.issuer.itemText(i) for i in range(editor.issuer.count())]
    assert officers and officers[0].startswith("会長 ")  # this year's officers to pick from
    editor.issuer.setEditText("会長 山田 太郎")
    editor.target_groups.setChecked(True)
    tick(editor, "2班")
    editor.count_recipients()
    assert editor.recipient_count.text().startswith("Reaches 23 households")
    editor.ask.setCurrentIndex(editor.ask.findData(Ask.ATTENDANCE.value))
    editor.deadline.setText("令和8年6月20日")
    editor.buttons.accepted.emit()

    assert not editor.isVisible() and editor.saved
    assert messages.warnings == []
    saved = record(window, editor)
    assert saved.status == CircularStatus.DRAFT
    data = saved.data
    assert (data.title, data.issuer, data.ask, data.deadline) == (
        "防災訓練のお知らせ", "会長 山田 太郎", Ask.ATTENDANCE, date(2026, 6, 20))
    assert data.body.startswith("# 防災訓練\n・日時")
    assert data.target_kind == TargetKind.GROUPS and len(data.target_group_ids) == 1
    panel = window.circulars
    assert panel.current_id() == editor.circular_id  # listed and chosen
    current = panel.current()
    assert current is not None and current.title == "防災訓練のお知らせ"


def test_a_survey_keeps_its_questions(window: MainWindow) -> None:
    editor = open_new(window)
    editor.title.setText("アンケート")
    editor.ask.setCurrentIndex(editor.ask.findData(Ask.SURVEY.value))
    assert editor.survey_box.isVisibleTo(editor) and editor.questions.rowCount() == 1
    editor.questions.item(0, 0).setText("夏祭りに参加しますか")
    editor.questions.item(0, 2).setText("参加する／参加しない")  # a full-width slash too
    editor.add_question()
    editor.questions.item(1, 0).setText("ご意見")
    kind = editor.questions.cellWidget(1, 1)
    kind.setCurrentIndex(kind.findData("text"))  # type: ignore[attr-defined]
    editor.deadline.setText("2026-06-30")
    editor.accept()
    questions = record(window, editor).data.questions
    assert [(q.text, q.kind, q.choices) for q in questions] == [
        ("夏祭りに参加しますか", "choice", ("参加する", "参加しない")),
        ("ご意見", "text", ()),
    ]
    for _more in range(8):
        editor.add_question()
    assert editor.questions.rowCount() == 10


def test_a_problem_focuses_the_field_at_fault(
    qtbot: Any, window: MainWindow, messages: Messages
) -> None:
    editor = open_new(window)
    editor.ask.setCurrentIndex(editor.ask.findData(Ask.READ.value))
    editor.accept()  # no deadline
    assert editor.isVisible() and not editor.saved
    assert "has no deadline" in messages.warnings[-1]
    assert editor.focusWidget() is editor.deadline

    editor.deadline.setText("いつか")
    editor.accept()
    assert messages.warnings[-1].startswith("「いつか」 is not a date.")
    assert editor.focusWidget() is editor.deadline

    editor.deadline.setText("2026-06-30")
    editor.title.clear()
    editor.accept()
    assert messages.warnings[-1].startswith("The title is empty.")
    assert editor.focusWidget() is editor.title

    editor.title.setText("清掃")
    editor.target_groups.setChecked(True)  # but no 班 ticked
    editor.accept()
    assert messages.warnings[-1].startswith("No 班 is chosen.")
    assert editor.focusWidget() is editor.group_list

    editor.target_all.setChecked(True)
    editor.map_url.setText("地図")
    editor.accept()
    assert editor.focusWidget() is editor.map_url
    assert record(window, editor).data.title == "New circular"  # nothing saved yet
    editor.map_url.clear()
    editor.accept()
    assert not editor.isVisible()
    assert record(window, editor).data.title == "清掃"


def test_cancelling_a_new_circular_asks_then_drops_it(
    window: MainWindow, messages: Messages
) -> None:
    with window.file.read() as session:
        before = circulars.list_circulars(session)  # the demo's two
    editor = open_new(window)
    editor.title.setText("下書き")
    messages.answer = False
    editor.reject()
    assert editor.isVisible() and messages.questions == ["Close without saving the changes?"]
    messages.answer = True
    editor.reject()
    assert not editor.isVisible()
    with window.file.read() as session:
        assert circulars.list_circulars(session) == before
    assert window.circulars.model.rows == before


def test_characters_outside_the_font_are_named_as_they_are_typed(
    qtbot: Any, window: MainWindow
) -> None:
    editor = open_new(window)
    assert editor.font_warning.isHidden()
    editor.body.setPlainText("ご参加ください🙂 よろしく")
    qtbot.waitUntil(lambda: not editor.font_warning.isHidden(), timeout=WAIT)  # after a pause
    assert "🙂" in editor.font_warning.text()
    assert editor.check_characters() == ["🙂"]
    editor.body.setPlainText("ご参加ください")
    assert editor.check_characters() == []
    assert editor.font_warning.isHidden()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo, "JPEG")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    plain, locked = io.BytesIO(), io.BytesIO()
    writer.write(plain)
    writer.encrypt("secret")
    writer.write(locked)
    made = {"photo.jpg": photo.getvalue(), "資料.pdf": plain.getvalue(),
            "locked.pdf": locked.getvalue(), "notes.jpg": b"this is not a picture"}
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


def test_attachments_are_added_checked_and_removed(
    qtbot: Any, window: MainWindow, files: dict[str, Path], messages: Messages
) -> None:
    picks: list[Path | None] = []
    window.circular_actions.open_file = lambda _parent, _title, _filter: picks.pop(0)
    editor = open_new(window)

    def add(button: QWidget, name: str) -> None:
        picks.append(files[name])
        button.click()  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: not editor.busy, timeout=WAIT)

    add(editor.add_image_button, "photo.jpg")
    add(editor.add_pdf_button, "資料.pdf")
    add(editor.add_map_button, "photo.jpg")
    assert [editor.attachments.item(row).text() for row in range(editor.attachments.count())] \
        == ["Image: photo.jpg", "PDF: 資料.pdf (2 pages)", "Map: photo.jpg"]
    kinds = [a.kind for a in record(window, editor).attachments]
    assert kinds == [AttachmentKind.IMAGE, AttachmentKind.PDF, AttachmentKind.MAP]
    assert messages.warnings == []

    add(editor.add_image_button, "notes.jpg")
    assert "notes.jpg" in messages.warnings[-1]
    assert "notes.jpg" in editor.attachment_status.text()
    add(editor.add_pdf_button, "locked.pdf")
    assert "locked.pdf" in messages.warnings[-1]
    assert len(record(window, editor).attachments) == 3  # neither was kept

    picks.append(None)  # the officer closes the file picker
    editor.add_image_button.click()
    assert not editor.busy and len(picks) == 0

    editor.attachments.setCurrentRow(1)
    messages.answer = True
    editor.remove_attachment()
    assert messages.questions[-1] == "Remove PDF: 資料.pdf (2 pages) from the circular?"
    assert [a.file_name for a in record(window, editor).attachments] == ["photo.jpg",
                                                                        "photo.jpg"]
    assert editor.attachments.count() == 2
