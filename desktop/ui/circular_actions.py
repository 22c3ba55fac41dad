"""What the officer does with circulars from the window: write, copy as a template, edit,
delete a draft, send, print, enter the replies — and print the roster.

Circulars are not on the undo stack: a draft is saved when the editor saves it, deleting
or sending asks first, and sending cannot be taken back (the households it went to are
frozen, and replies start to come in).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain import circulars
from desktop.domain.circulars import CircularData
from desktop.domain.errors import KairanError
from desktop.domain.models import CircularStatus, NoticeChannel
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from desktop.ui.circular_editor import CircularEditor, OpenFile
    from desktop.ui.main_window import MainWindow
    from desktop.ui.print_dialog import CircularPrintDialog, RosterPrintDialog
    from desktop.ui.read_status import ReadStatusDialog
    from desktop.ui.reply_entry import ReplyEntry


class CircularActions(WindowActions):
    """The circular commands of the main window (and printing the roster)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.panel = window.circulars
        self.editor_dialog: CircularEditor | None = None
        self.print_dialog: CircularPrintDialog | RosterPrintDialog | None = None
        self.reply_entry: ReplyEntry | None = None
        self.read_status: ReadStatusDialog | None = None
        self.job_folder: Path | None = None  # where PDFs are made (tests point it elsewhere)
        self.open_file: OpenFile | None = None  # the editor's file picker (tests drive it)
        panel = self.panel
        panel.new_requested.connect(self.new_circular)
        panel.copy_requested.connect(self.use_as_template)
        panel.edit_requested.connect(self.edit_circular)
        panel.delete_requested.connect(self.delete_circular)
        panel.send_requested.connect(self.send_circular)
        panel.print_requested.connect(self.print_circular)
        panel.replies_requested.connect(self.enter_replies)
        panel.read_status_requested.connect(self.show_read_status)

    def refresh(self, select: uuid.UUID | None = None) -> None:
        """Read the list of circulars again."""
        with self.file.read() as session:
            rows = circulars.list_circulars(session)
        self.panel.set_rows(rows, select)

    def _show_panel(self) -> None:
        if self.window.tabs.currentWidget() is not self.panel:
            self.window.tabs.setCurrentWidget(self.panel)

    def _chosen(self) -> uuid.UUID | None:
        self._show_panel()
        circular_id = self.panel.current_id()
        if circular_id is None:
            messages.warn(self.window, _("Choose a circular in the list first."))
        return circular_id

    # ------------------------------------------------------------ writing

    def new_circular(self) -> CircularEditor | None:
        """Start a new circular: a draft dated today, opened in the editor."""
        self._show_panel()
        data = CircularData(title=_("New circular"), body="", issued_on=self.window.today())
        try:
            with self.file.write() as session:
                circular_id = circulars.create_circular(session, data=data)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
        return self._open_editor(circular_id, is_new=True)

    def use_as_template(self, circular_id: uuid.UUID) -> CircularEditor | None:
        """A new draft from a circular of any year, with what went stale since (班 gone, an
        earlier officer as issuer) brought up to date and said, opened in the editor."""
        try:
            with self.file.write() as session:
                made = circulars.copy_circular_as_draft(session, circular_id=circular_id,
                                                        issued_on=self.window.today())
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        editor = self._open_editor(made.circular_id, is_new=True)
        if made.notes:
            self.window.statusBar().showMessage(" ".join(made.notes), 15000)
        return editor

    def edit_circular(self, circular_id: uuid.UUID) -> CircularEditor | None:
        """Open a draft in the editor."""
        return self._open_editor(circular_id, is_new=False)

    def _open_editor(self, circular_id: uuid.UUID, *, is_new: bool) -> CircularEditor | None:
        # The dialogs load reportlab and PDFium: imported when first used, not at start-up.
        from desktop.ui.circular_editor import CircularEditor, open_file_dialog, read_choices

        if self.editor_dialog is not None and self.editor_dialog.isVisible():
            self.editor_dialog.raise_()
            self.editor_dialog.activateWindow()
            return self.editor_dialog
        try:
            editor = CircularEditor(
                self.window, self.file, self.window.tasks, circular_id=circular_id,
                choices=read_choices(self.file, year=self.window.year), is_new=is_new,
                open_file=self.open_file or open_file_dialog)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        if self.editor_dialog is not None:
            self.editor_dialog.deleteLater()
        self.editor_dialog = editor
        editor.finished.connect(lambda _result: self.refresh(
            select=circular_id if editor.saved or not is_new else None))
        self.refresh(select=circular_id)
        editor.open()  # window-modal, without a nested event loop
        return editor

    def delete_circular(self, circular_id: uuid.UUID) -> bool:
        """Delete a draft (after asking); returns whether it was deleted."""
        try:
            with self.file.read() as session:
                record = circulars.get_circular(session, circular_id=circular_id)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return False
        if not messages.confirm(self.window, _(
                "Delete the draft 「{title}」 and its attachments? This cannot be undone.")
                .format(title=record.data.title)):
            return False
        try:
            with self.file.write() as session:
                circulars.delete_circular(session, circular_id=circular_id)
        except KairanError as error:
            messages.warn(self.window, error.message)
        self.refresh()
        return True

    def send_circular(self, circular_id: uuid.UUID) -> int | None:
        """Send a draft (after confirming how many households it reaches); returns how many."""
        try:
            with self.file.read() as session:
                record = circulars.get_circular(session, circular_id=circular_id)
                reached = circulars.recipients(session, circular_id=circular_id)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        if record.status != CircularStatus.DRAFT:
            messages.warn(self.window, _("「{title}」 has been sent already.").format(
                title=record.data.title))
            return None
        paper = sum(1 for recipient in reached if recipient.channel == NoticeChannel.PAPER)
        if not messages.confirm(self.window, _(
                "Send 「{title}」 to {count} households ({paper} of them on paper)?\n\n"
                "The households are fixed now; the circular can no longer be changed "
                "(copy it to make a new one).").format(
                    title=record.data.title, count=len(reached), paper=paper)):
            return None
        try:
            with self.file.write() as session:
                count = circulars.send_circular(session, circular_id=circular_id,
                                                sent_at=datetime.now(UTC))
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
        self.refresh(select=circular_id)
        self.window.statusBar().showMessage(
            _("Sent 「{title}」 to {count} households.").format(title=record.data.title,
                                                            count=count), 8000)
        return count

    # ------------------------------------------------------------ printing and replies

    def print_selected(self) -> CircularPrintDialog | None:
        """Print the circular chosen in the list."""
        circular_id = self._chosen()
        return self.print_circular(circular_id) if circular_id is not None else None

    def print_circular(self, circular_id: uuid.UUID) -> CircularPrintDialog | None:
        """Open the print dialog of a circular."""
        from desktop.ui.print_dialog import CircularPrintDialog

        try:
            dialog = CircularPrintDialog(self.window, self.file, self.window.tasks,
                                         circular_id=circular_id, today=self.window.today,
                                         job_folder=self.job_folder)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.refresh()
            return None
        self._replace_print_dialog(dialog)
        return dialog

    def print_roster(self) -> RosterPrintDialog:
        """Open the roster print dialog (班 lists, officers, labels)."""
        from desktop.ui.print_dialog import RosterPrintDialog

        dialog = RosterPrintDialog(self.window, self.file, self.window.tasks,
                                   year=self.window.year, today=self.window.today,
                                   job_folder=self.job_folder)
        self._replace_print_dialog(dialog)
        return dialog

    def _replace_print_dialog(self, dialog: CircularPrintDialog | RosterPrintDialog) -> None:
        if self.print_dialog is not None and not self.print_dialog.running:
            self.print_dialog.deleteLater()
        self.print_dialog = dialog
        dialog.open()

    def enter_replies_selected(self) -> ReplyEntry | None:
        """Enter the replies of the circular chosen in the list."""
        circular_id = self._chosen()
        return self.enter_replies(circular_id) if circular_id is not None else None

    def enter_replies(self, circular_id: uuid.UUID) -> ReplyEntry | None:
        """Open the reply-entry screen of a sent circular."""
        from desktop.ui.reply_entry import ReplyEntry

        try:
            entry = ReplyEntry(self.window, self.file, self.window.tasks,
                               circular_id=circular_id, today=self.window.today,
                               job_folder=self.job_folder)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
        if self.reply_entry is not None and not self.reply_entry.isVisible():
            self.reply_entry.deleteLater()
        self.reply_entry = entry
        entry.finished.connect(lambda _result: self.refresh(select=circular_id))
        entry.open()
        return entry

    def show_read_status(self, circular_id: uuid.UUID) -> ReadStatusDialog | None:
        """Who has read a sent circular on the app, with re-sending to the rest."""
        from desktop.ui.read_status import ReadStatusDialog

        try:
            dialog = ReadStatusDialog(self.window, self.file, circular_id=circular_id)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
        if self.read_status is not None and not self.read_status.isVisible():
            self.read_status.deleteLater()
        self.read_status = dialog
        dialog.resent.connect(lambda _count: self.window.sync_actions.local_change())
        dialog.open()
        return dialog
