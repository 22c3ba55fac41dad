"""The purge of withdrawn households after the retention period: first a preview of who and
what goes, then the deletion of the households the officer leaves ticked, after one more
question. Nothing is deleted by opening the dialog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import association, retention
from desktop.domain.errors import KairanError
from desktop.domain.retention import PurgeCandidate
from desktop.domain.wareki import format_wareki
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.tasks import TaskContext, TaskRunner

COLUMNS = 5  # tick + number, name, withdrew, due, what goes


def what_goes(candidate: PurgeCandidate) -> str:
    """What the purge of one household removes, in a line."""
    parts = [_("{count} members").format(count=candidate.members)]
    for count, text in ((candidate.replies, _("{count} answers to circulars")),
                        (candidate.role_assignments, _("{count} roles held")),
                        (candidate.safety_answers, _("{count} safety answers")),
                        (candidate.circulars_received, _("{count} circulars received"))):
        if count:
            parts.append(text.format(count=count))
    if candidate.meeting_voters:
        parts.append(_("name removed from {count} meeting voter lists (votes stay)").format(
            count=candidate.meeting_voters))
    if candidate.audit_records:
        parts.append(_("values blanked in {count} history records").format(
            count=candidate.audit_records))
    return _(", ").join(parts)


class RetentionDialog(QDialog):
    """The households due for deletion, ticked; 「Delete…」 removes the ticked ones."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, today: Callable[[], date] = date.today,
                 purged: Callable[[int], None] | None = None) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self._today = today
        self._purged = purged
        self.running = False
        self.candidates: list[PurgeCandidate] = []
        self.setWindowTitle(_("Purge withdrawn households"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, COLUMNS)
        self.table.setHorizontalHeaderLabels([_("No."), _("Name"), _("Withdrew"),
                                              _("Due for deletion"), _("What goes")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            COLUMNS - 1, QHeaderView.ResizeMode.Stretch)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.delete_button = self.buttons.addButton(
            _("&Delete the ticked households for good…"),
            QDialogButtonBox.ButtonRole.DestructiveRole)
        self.delete_button.clicked.connect(self.delete_ticked)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(self.buttons)
        self.resize(860, 460)
        self.load()

    def load(self) -> None:
        """Read the households due now and list them, every one ticked."""
        with self.file.read() as session:
            months = association.get_association(session).retention_months
            self.candidates = retention.purge_preview(session, today=self._today())
        self.table.setRowCount(len(self.candidates))
        for row, candidate in enumerate(self.candidates):
            number = QTableWidgetItem(candidate.number)
            number.setFlags(number.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            number.setCheckState(Qt.CheckState.Checked)
            self.table.setItem(row, 0, number)
            for column, text in enumerate((candidate.name, format_wareki(candidate.left_on),
                                           format_wareki(candidate.due_on),
                                           what_goes(candidate)), start=1):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if months is None:
            self.summary.setText(_("No retention period is set, so withdrawn households are "
                                   "kept. Set one in Association settings."))
        elif not self.candidates:
            self.summary.setText(_("No withdrawn household has been kept longer than {months} "
                                   "months. Nothing to delete.").format(months=months))
        else:
            self.summary.setText(_(
                "These {count} withdrawn households left more than {months} months ago. "
                "Untick any to keep, then delete. Deleted households cannot be brought back "
                "(a backup is made first).").format(count=len(self.candidates), months=months))
        self.delete_button.setEnabled(bool(self.candidates))

    def ticked(self) -> list[uuid.UUID]:
        """The households left ticked."""
        return [candidate.household_id for row, candidate in enumerate(self.candidates)
                if (item := self.table.item(row, 0)) is not None
                and item.checkState() == Qt.CheckState.Checked]

    def delete_ticked(self) -> None:
        """Ask once more, then delete the ticked households in the background."""
        ids = self.ticked()
        if self.running:
            return
        if not ids:
            messages.warn(self, _("Tick the households to delete first."))
            return
        if not messages.confirm(self, _(
                "Delete {count} households for good, with their members, answers and role "
                "history? This cannot be undone.").format(count=len(ids))):
            return
        association_file, today = self.file, self._today()

        def work(_context: TaskContext) -> int:
            association_file.backups.make(association_file.path, reason="before-purge")
            with association_file.write() as session:
                return retention.purge(session, ids, today=today)

        def done(count: int) -> None:
            self.running = False
            self.load()
            if self._purged is not None:
                self._purged(count)
            messages.inform(self, _("Deleted {count} households.").format(count=count))

        def failed(error: BaseException) -> None:
            self.running = False
            self.load()
            if not isinstance(error, KairanError):
                raise error
            messages.warn(self, error.message)

        self.running = True
        self.delete_button.setEnabled(False)
        self.tasks.run(work, parent=self, title=_("Deleting households…"), on_success=done,
                       on_failure=failed, cancellable=False)

    def reject(self) -> None:
        """Close, but not while households are being deleted."""
        if not self.running:
            super().reject()
