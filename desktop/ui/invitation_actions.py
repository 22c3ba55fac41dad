"""Residents' invitations from the window (同期 → 住民の招待状…): choose whom to invite — one
班, the households on paper, or everyone — issue a new code for each, and look at the slips
in the print preview.

Codes are issued (their hashes queued for the relay) before the slips are drawn; the plain
codes live only in the PDF, so the officer is told to print it now: a household whose slip
was not printed or was lost is simply invited again (its new code replaces the old one).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.domain.groups import group_tree
from desktop.domain.invitations import (
    InvitationBatch,
    invitation_households,
    issue_invitations,
)
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.tasks import Task, TaskCancelled
from desktop.ui.window_actions import WindowActions
from sync import outbox

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow
    from desktop.ui.pdf_preview import PdfPreview
    from desktop.ui.print_dialog import Progress

__all__ = ["InvitationActions", "InvitationDialog"]


class InvitationDialog(QDialog):
    """Whom to invite: a 班 (with the groups under it), the paper households, or all."""

    def __init__(self, parent: QWidget | None, groups: list[tuple[uuid.UUID, str]]) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Invite residents"))
        self.everyone = QRadioButton(_("&Every household"))
        self.paper = QRadioButton(_("Households receiving notices on &paper"))
        self.one_group = QRadioButton(_("One &班:"))
        self.choice = QButtonGroup(self)
        for button in (self.everyone, self.paper, self.one_group):
            self.choice.addButton(button)
        self.groups = QComboBox()
        for group_id, name in groups:
            self.groups.addItem(name, group_id.hex)
        self.one_group.setEnabled(bool(groups))
        self.groups.setEnabled(False)
        self.one_group.toggled.connect(self.groups.setEnabled)
        self.everyone.setChecked(True)
        note = QLabel(_(
            "Each household gets a new code; its earlier code stops working. The codes are "
            "printed once and not kept: print the slips now."))
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(_("&Issue and preview…"),
                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.everyone, self.paper, self.one_group, self.groups, note, buttons):
            layout.addWidget(widget)

    def chosen_group(self) -> uuid.UUID | None:
        """The 班 chosen, when "one 班" is."""
        if not self.one_group.isChecked() or self.groups.currentIndex() < 0:
            return None
        return uuid.UUID(hex=str(self.groups.currentData()))


class InvitationActions(WindowActions):
    """Issue invitation codes and print the slips."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.dialog: InvitationDialog | None = None
        self.job_folder: Path | None = None  # where PDFs are made (tests point it elsewhere)
        self.task: Task[Path] | None = None
        self.preview: PdfPreview | None = None
        self.printing = False

    def invite(self) -> InvitationDialog | None:
        """「住民の招待状…」: ask whom to invite (only in a file connected to a relay)."""
        with self.file.read() as session:
            paired = outbox.is_paired(session)
            groups = [(node.id, node.name) for node in group_tree(session)]
        if not paired:
            messages.warn(self.window, _(
                "Invitations need a relay: connect this file first (同期 → Connect to the "
                "relay…)."))
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()
        dialog = InvitationDialog(self.window, groups)
        dialog.accepted.connect(lambda: self.issue(group_id=dialog.chosen_group(),
                                                   paper_only=dialog.paper.isChecked()))
        self.dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        return dialog

    def issue(self, *, group_id: uuid.UUID | None = None,
              paper_only: bool = False) -> InvitationBatch | None:
        """Issue codes for the households chosen and open the slips in the preview."""
        if self.printing:
            return None
        batch: InvitationBatch | None = None
        try:
            with self.file.write() as session:
                household_ids = invitation_households(session, group_id=group_id,
                                                      paper_only=paper_only)
                if household_ids:
                    batch = issue_invitations(session, household_ids=household_ids)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
        if batch is None:
            messages.inform(self.window, _("No current household was chosen: nothing was "
                                           "issued."))
            return None
        self.window.sync_actions.local_change()
        self._preview(batch)
        return batch

    def _preview(self, batch: InvitationBatch) -> None:
        # Imported when first used: reportlab and PDFium would cost the window's start-up.
        from desktop.ui.print_dialog import file_name, render_to_preview
        from reports.pdf.invitation_pdf import render_invitations

        today = self.window.today()

        def render(path: Path, progress: Progress) -> int:
            return render_invitations(path, batch=batch, printed_on=today, progress=progress)

        def shown(preview: PdfPreview) -> None:
            self.printing = False
            self.preview = preview

        def failed(error: BaseException) -> None:
            self.printing = False
            if not isinstance(error, KairanError | TaskCancelled):
                raise error
            reason = error.message if isinstance(error, KairanError) else ""
            messages.warn(self.window, (reason + "\n\n" if reason else "") + _(
                "The codes were issued but their slips were not made. Invite these "
                "households again to print new codes."))

        self.printing = True
        self.task = render_to_preview(
            self.window, self.window.tasks, render=render, title=_("Invitations"),
            suggested_name=file_name(batch.association, "招待状", today),
            job_folder=self.job_folder, shown=shown, failed=failed)
