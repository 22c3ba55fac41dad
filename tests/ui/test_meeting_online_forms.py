"""The meeting editor's online-forms checkbox: shown as saved, and saved as ticked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop.domain.meeting import meetings
from desktop.ui.main_window import MainWindow
from tests.ui.test_meeting_editor import MEETING, saved


def test_online_forms_are_off_by_default_and_saved_when_ticked(
    window: MainWindow, qtbot: Any
) -> None:
    meeting_id = saved(window)
    editor = window.meeting_actions.edit_meeting(meeting_id)
    assert editor is not None
    qtbot.waitExposed(editor)
    assert not editor.online_forms.isChecked()
    assert not editor.changed()
    editor.online_forms.setChecked(True)
    assert editor.changed()
    editor.accept()
    assert editor.saved
    with window.file.read() as session:
        record = meetings.get_meeting(session, meeting_id=meeting_id)
    assert record.data == replace(MEETING, online_forms=True)
    again = window.meeting_actions.edit_meeting(meeting_id)
    assert again is not None and again.online_forms.isChecked()
    again.reject()
