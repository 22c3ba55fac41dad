"""What the officer does with general meetings (総会) from the window: prepare a meeting and
its agenda, set the association's rules, enter the returned forms and check people in, follow
the live tally, print the forms, lists and results, and export everything to Excel.

Meetings are not on the undo stack: every entry is kept for the record (a mistake is
cancelled by a later entry, never erased), and the editors save when they are told to.
Every write goes through the window's association file; entries carry the officer's name
(the computer's user name) and the time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.errors import KairanError
from desktop.domain.meeting import meetings
from desktop.domain.meeting.tally import Source
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop.ui.main_window import MainWindow
    from desktop.ui.meeting_editor import MeetingEditor
    from desktop.ui.meeting_entry import MeetingEntry
    from desktop.ui.meeting_print import AskSavePath, MeetingPrintDialog
    from desktop.ui.meeting_rules_dialog import MeetingRulesDialog
    from desktop.ui.meeting_tally_panel import MeetingTallyWindow
    from desktop.ui.tasks import Task


class MeetingActions(WindowActions):
    """The general-meeting commands of the main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.panel = window.meetings
        self.editor_dialog: MeetingEditor | None = None
        self.rules_dialog: MeetingRulesDialog | None = None
        self.entry_screen: MeetingEntry | None = None
        self.tally_window: MeetingTallyWindow | None = None
        self.print_dialog: MeetingPrintDialog | None = None
        self.job_folder: Path | None = None  # where PDFs are made (tests point it elsewhere)
        self.ask_save_path: AskSavePath | None = None  # the export's file picker (tests)
        self.entered_by: str | None = None  # None: the computer's user name
        panel = self.panel
        panel.new_requested.connect(self.new_meeting)
        panel.edit_requested.connect(self.edit_meeting)
        panel.entry_requested.connect(self.enter_forms)
        panel.tally_requested.connect(self.show_tally)
        panel.print_requested.connect(self.print_meeting)
        panel.export_requested.connect(self.export_meeting)
        panel.rules_requested.connect(self.edit_rules)

    @staticmethod
    def now() -> datetime:
        """The time entries are stamped with (UTC)."""
        return datetime.now(UTC)

    def refresh(self, select: uuid.UUID | None = None) -> None:
        """Read the list of meetings again."""
        with self.file.read() as session:
            rows = meetings.list_meetings(session)
        self.panel.set_rows(rows, select)

    def _show_panel(self) -> None:
        if self.window.tabs.currentWidget() is not self.panel:
            self.window.tabs.setCurrentWidget(self.panel)

    def _chosen(self) -> uuid.UUID | None:
        self._show_panel()
        meeting_id = self.panel.current_id()
        if meeting_id is None:
            messages.warn(self.window, _("Choose a meeting in the list first, or make one "
                                         "with 「New meeting」."))
        return meeting_id

    # ------------------------------------------------------------ preparing

    def new_meeting(self) -> MeetingEditor | None:
        """Open the editor for a new meeting (saved only when the editor saves)."""
        self._show_panel()
        return self._open_editor(None)

    def edit_selected(self) -> MeetingEditor | None:
        """Edit the meeting chosen in the list."""
        meeting_id = self._chosen()
        return self._open_editor(meeting_id) if meeting_id is not None else None

    def edit_meeting(self, meeting_id: uuid.UUID) -> MeetingEditor | None:
        """Edit a meeting: its facts, chair and agenda."""
        return self._open_editor(meeting_id)

    def _open_editor(self, meeting_id: uuid.UUID | None) -> MeetingEditor | None:
        from desktop.ui.meeting_editor import MeetingEditor

        if self.editor_dialog is not None and self.editor_dialog.isVisible():
            self.editor_dialog.raise_()
            self.editor_dialog.activateWindow()
            return self.editor_dialog
        try:
            editor = MeetingEditor(self.window, self.file, meeting_id=meeting_id,
                                   today=self.window.today)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        if self.editor_dialog is not None:
            self.editor_dialog.deleteLater()
        self.editor_dialog = editor
        editor.finished.connect(lambda _result: self.refresh(select=editor.meeting_id))
        editor.open()  # window-modal, without a nested event loop
        return editor

    def edit_rules(self) -> MeetingRulesDialog:
        """Open the association's meeting rules (kept for every new meeting)."""
        from desktop.ui.meeting_rules_dialog import MeetingRulesDialog

        self._show_panel()
        if self.rules_dialog is not None and not self.rules_dialog.isVisible():
            self.rules_dialog.deleteLater()
        dialog = MeetingRulesDialog(self.window, self.file)
        self.rules_dialog = dialog
        dialog.open()
        return dialog

    # ------------------------------------------------------------ the returns and the tally

    def enter_forms_selected(self) -> MeetingEntry | None:
        """Enter the returned forms of the meeting chosen in the list."""
        meeting_id = self._chosen()
        return self.enter_forms(meeting_id) if meeting_id is not None else None

    def check_in_selected(self) -> MeetingEntry | None:
        """Check people in at the door for the meeting chosen in the list."""
        meeting_id = self._chosen()
        return (self.enter_forms(meeting_id, source=Source.DOOR) if meeting_id is not None
                else None)

    def enter_forms(self, meeting_id: uuid.UUID,
                    source: Source = Source.FORM) -> MeetingEntry | None:
        """Open the entry screen of a meeting (returned forms, or the door)."""
        from desktop.ui.meeting_entry import MeetingEntry

        try:
            screen = MeetingEntry(self.window, self.file, meeting_id=meeting_id,
                                  entered_by=self.entered_by, now=self.now, source=source)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        if self.entry_screen is not None and not self.entry_screen.isVisible():
            self.entry_screen.deleteLater()
        self.entry_screen = screen
        screen.recorded.connect(self._entered)
        # From the screen, the print dialog belongs to it: the window behind is blocked.
        screen.tally_panel.print_requested.connect(
            lambda: self.print_meeting(meeting_id, parent=screen))
        screen.finished.connect(lambda _result: self.refresh(select=meeting_id))
        screen.open()
        return screen

    def _entered(self) -> None:
        """Something was entered: an open tally window counts again too."""
        if self.tally_window is not None and self.tally_window.isVisible():
            self.tally_window.panel.refresh()

    def show_tally_selected(self) -> MeetingTallyWindow | None:
        """Show the live tally of the meeting chosen in the list."""
        meeting_id = self._chosen()
        return self.show_tally(meeting_id) if meeting_id is not None else None

    def show_tally(self, meeting_id: uuid.UUID) -> MeetingTallyWindow | None:
        """Open the live tally of a meeting in a window of its own (not modal)."""
        from desktop.ui.meeting_tally_panel import MeetingTallyWindow

        try:
            with self.file.read() as session:
                title = meetings.get_meeting(session, meeting_id=meeting_id).data.title
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        if self.tally_window is not None:
            if self.tally_window.isVisible() and self.tally_window.panel.meeting_id == meeting_id:
                self.tally_window.raise_()
                self.tally_window.panel.refresh()
                return self.tally_window
            self.tally_window.close()
            self.tally_window.deleteLater()
        window = MeetingTallyWindow(self.window, self.file, meeting_id=meeting_id, title=title,
                                    entered_by=self.entered_by, now=self.now)
        window.panel.print_requested.connect(lambda: self.print_meeting(meeting_id))
        window.panel.floor_recorded.connect(lambda _vote: self.refresh(select=meeting_id))
        self.tally_window = window
        window.show()
        return window

    # ------------------------------------------------------------ printing and exporting

    def print_selected(self) -> MeetingPrintDialog | None:
        """Print for the meeting chosen in the list."""
        meeting_id = self._chosen()
        return self.print_meeting(meeting_id) if meeting_id is not None else None

    def print_meeting(self, meeting_id: uuid.UUID,
                      parent: QWidget | None = None) -> MeetingPrintDialog | None:
        """Open the print dialog of a meeting (forms, check-in list, not returned, results),
        over ``parent`` (the window, or the entry screen it was asked from)."""
        from desktop.ui.meeting_print import MeetingPrintDialog

        try:
            dialog = MeetingPrintDialog(parent or self.window, self.file, self.window.tasks,
                                        meeting_id=meeting_id, today=self.window.today,
                                        now=self.now, job_folder=self.job_folder)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        if self.print_dialog is not None and not self.print_dialog.running:
            self.print_dialog.deleteLater()
        self.print_dialog = dialog
        dialog.open()
        return dialog

    def export_selected(self) -> Task[int] | None:
        """Export the meeting chosen in the list."""
        meeting_id = self._chosen()
        return self.export_meeting(meeting_id) if meeting_id is not None else None

    def export_meeting(self, meeting_id: uuid.UUID) -> Task[int] | None:
        """Ask where, then write the meeting's voters and tally to an Excel file."""
        from desktop.ui.meeting_print import ask_xlsx_path, export_meeting

        def done(path: Path, rows: int) -> None:
            messages.inform(self.window, _("Wrote {count} voters and the tally to {file}.")
                            .format(count=rows, file=path))

        try:
            return export_meeting(self.window, self.file, self.window.tasks,
                                  meeting_id=meeting_id, today=self.window.today(),
                                  ask_path=self.ask_save_path or ask_xlsx_path, done=done)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
