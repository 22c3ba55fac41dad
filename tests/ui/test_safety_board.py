"""The safety check tab: switch disaster mode on, enter answers gathered by phone with the
keyboard, watch the board per 班 follow, print the unanswered list per 班, switch off and keep
the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import Qt

from desktop.domain import safety
from desktop.ui.main_window import MainWindow
from desktop.ui.safety_board import SafetyBoardPanel
from tests.ui.helpers import Messages, is_focused, type_text

WAIT = 5000  # ms


@pytest.fixture
def board(window: MainWindow, tmp_path: Path, answer_input: Any) -> SafetyBoardPanel:
    """The safety check tab, with disaster mode switched on."""
    window.safety_actions.job_folder = tmp_path / "jobs"
    window.safety_actions.job_folder.mkdir()
    window.show_safety_board()
    answer_input("getText", "避難所は公民館です")
    assert window.safety_actions.switch()
    return window.safety_board


def enter(qtbot: Any, board: SafetyBoardPanel, number: str, answer: int = 1,
          note: str = "") -> None:
    """Type the household number, pick the answer with Alt+1..3, Enter."""
    type_text(qtbot, board.entry, number)
    qtbot.keyClick(board.entry, Qt.Key(Qt.Key.Key_0 + answer), Qt.KeyboardModifier.AltModifier)
    if note:
        board.note.setFocus()
        type_text(qtbot, board.note, note)
        qtbot.keyClick(board.note, Qt.Key.Key_Return)
    else:
        qtbot.keyClick(board.entry, Qt.Key.Key_Return)


def test_switching_on_shows_everyone_unanswered(window: MainWindow, board: SafetyBoardPanel
                                                ) -> None:
    assert "Disaster mode is ON since" in board.state.text()
    assert "避難所は公民館です" in board.state.text()
    assert board.switch_button.text() == "Switch disaster mode &off…"
    counts = board.counts()
    assert counts["All"] == (0, 40, 0, 0)
    assert sum(line[1] for name, line in counts.items() if name != "All") == 40
    with window.file.read() as session:
        state = safety.disaster_state(session)
    assert state is not None and state.on and state.message == "避難所は公民館です"


def test_answers_typed_with_the_keyboard_fill_the_board(
    qtbot: Any, window: MainWindow, board: SafetyBoardPanel
) -> None:
    assert is_focused(board.entry)
    enter(qtbot, board, "1")  # 0001: 問題なし
    assert board.result.text().startswith("Recorded: 0001 服部 修")
    assert is_focused(board.entry) and board.entry.text() == ""
    enter(qtbot, board, "0002", answer=3, note="足をけがした")  # 至急支援要
    enter(qtbot, board, "0003", answer=2)  # 連絡要
    assert board.counts()["All"] == (3, 37, 1, 1)
    listed = dict(board.listed())
    assert listed["0001 服部 修"] == "Safe (問題なし)"
    assert listed["0002 " + next(name.split(" ", 1)[1] for name in listed
                                 if name.startswith("0002"))] == "Needs help now (至急支援要)"


def test_a_wrong_number_is_said_and_nothing_recorded(
    qtbot: Any, window: MainWindow, board: SafetyBoardPanel
) -> None:
    enter(qtbot, board, "9999")
    assert "No household has the number 9999" in board.result.text()
    assert board.entry.text() == "9999" and is_focused(board.entry)
    assert board.counts()["All"] == (0, 40, 0, 0)


def test_the_unanswered_list_prints_per_han(
    qtbot: Any, window: MainWindow, board: SafetyBoardPanel, tmp_path: Path
) -> None:
    enter(qtbot, board, "0001")
    board.print_button.click()
    qtbot.waitUntil(lambda: window.safety_actions.preview is not None, timeout=WAIT)
    preview = window.safety_actions.preview
    assert preview is not None
    texts = [page.extract_text() for page in pypdf.PdfReader(preview.path).pages]
    assert preview.page_count == len(texts) >= 2  # a sheet per 班
    assert all("未回答一覧" in text and "安否確認" in text for text in texts)
    assert "1班" in texts[0] and "0001" not in texts[0]  # 0001 answered
    assert "2班" in texts[-1]
    preview.reject()
    assert list((tmp_path / "jobs").iterdir()) == []

    board.summary.selectRow(1)  # only the 2班 sheet
    board.print_button.click()
    qtbot.waitUntil(lambda: window.safety_actions.preview is not preview, timeout=WAIT)
    second = window.safety_actions.preview
    assert second is not None and second.page_count == 1
    assert "2班" in pypdf.PdfReader(second.path).pages[0].extract_text()
    second.reject()


def test_switching_off_keeps_the_record(
    qtbot: Any, window: MainWindow, board: SafetyBoardPanel, messages: Messages
) -> None:
    enter(qtbot, board, "0001")
    messages.answer = True
    assert window.safety_actions.switch()
    assert "Switch disaster mode off?" in messages.questions[0]
    assert "Disaster mode is off" in board.state.text()
    assert board.switch_button.text() == "Switch disaster mode &on…"
    assert board.counts()["All"] == (1, 39, 0, 0)  # the record stays


def test_declining_the_message_leaves_disaster_mode_off(
    window: MainWindow, answer_input: Any
) -> None:
    window.show_safety_board()
    assert "never been switched on" in window.safety_board.state.text()
    answer_input("getText", "", ok=False)
    assert not window.safety_actions.switch()
    with window.file.read() as session:
        assert safety.disaster_state(session) is None
