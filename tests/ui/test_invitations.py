"""Inviting residents from the window: refused until the file is paired, then the 同期 menu
asks whom to invite, issues a code per household (only hashes queued) and opens the slips
in the preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtGui import QAction
from sqlmodel import select

from desktop.domain.invitations import invitation_households
from desktop.domain.models import OutboxOp
from desktop.ui.main_window import MainWindow
from sync.invitation_codes import invitation_code_hash
from sync.protocol import OpKind
from tests.sync.helpers import mark_paired
from tests.ui.helpers import Messages

WAIT = 5000  # ms


@pytest.fixture
def paired_window(window: MainWindow, tmp_path: Path) -> MainWindow:
    window.sync_actions.stop()  # no relay here: no sync cycles
    with window.file.write() as session:
        mark_paired(session, relay_url="https://relay.example.jp")
    window.invitation_actions.job_folder = tmp_path / "jobs"
    window.invitation_actions.job_folder.mkdir()
    return window


def _menu_action(window: MainWindow, text: str) -> QAction:
    return next(action for action in window.findChildren(QAction)
                if action.text().replace("&", "") == text)


def test_an_unpaired_file_is_told_to_connect_first(window: MainWindow,
                                                   messages: Messages) -> None:
    action = _menu_action(window, "Invite residents…")
    assert action.shortcut().toString() == "Ctrl+Alt+I"
    action.trigger()
    assert window.invitation_actions.dialog is None
    assert messages.warnings and "connect this file first" in messages.warnings[-1]


def test_inviting_one_han_prints_a_slip_per_household(
    qtbot: Any, paired_window: MainWindow, tmp_path: Path
) -> None:
    window = paired_window
    dialog = window.invitation_actions.invite()
    assert dialog is not None and dialog.everyone.isChecked()
    assert not dialog.groups.isEnabled()
    dialog.one_group.click()
    assert dialog.groups.isEnabled()
    dialog.groups.setCurrentIndex(dialog.groups.count() - 1)
    chosen = dialog.chosen_group()
    name = dialog.groups.currentText()
    with window.file.read() as session:
        expected = invitation_households(session, group_id=chosen)
    assert expected
    dialog.ok.click()
    qtbot.waitUntil(lambda: window.invitation_actions.preview is not None, timeout=WAIT)
    preview = window.invitation_actions.preview
    assert preview is not None
    texts = [page.extract_text() for page in pypdf.PdfReader(preview.path).pages]
    assert preview.page_count == len(texts) == len(expected)
    assert all(name in text for text in texts)
    with window.file.read() as session:
        ops = session.exec(select(OutboxOp).where(
            OutboxOp.kind == OpKind.INVITATION_ISSUE)).all()
    assert [op.body["household_id"] for op in ops] == [str(h) for h in expected]
    for op, text in zip(ops, texts, strict=True):  # each page carries its own code
        assert any(invitation_code_hash(word) == op.body["code_hash"]
                   for word in text.split() if len(word) == 9 and word[4] == "-")
    preview.reject()
    assert list((tmp_path / "jobs").iterdir()) == []


def test_paper_households_only(qtbot: Any, paired_window: MainWindow) -> None:
    window = paired_window
    dialog = window.invitation_actions.invite()
    assert dialog is not None
    dialog.paper.click()
    with window.file.read() as session:
        expected = invitation_households(session, paper_only=True)
        everyone = invitation_households(session)
    assert 0 < len(expected) < len(everyone)
    dialog.ok.click()
    qtbot.waitUntil(lambda: window.invitation_actions.preview is not None, timeout=WAIT * 4)
    preview = window.invitation_actions.preview
    assert preview is not None and preview.page_count == len(expected)
    preview.reject()
