"""「PC間の共有を始める」: what sharing the roster between office PCs means, then (after the
officer says so) the association's key is made in the background and the recovery sheet's
words are handed to :class:`desktop.ui.sharing.recovery.RecoverySheetDialog`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui.sharing.common import heading, paragraph, problem_label
from desktop.ui.tasks import Task, TaskCancelled, TaskContext, TaskRunner


class StartSharingDialog(QDialog):
    """Explains sharing, and starts it when the officer presses 「共有を始める」."""

    started = Signal(object)  # list[str]: the recovery sheet's 12 words (never stored)

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.task: Task[list[str]] | None = None
        self.setWindowTitle(_("Start sharing with other PCs"))
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton(_("&Start sharing"),
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Keep the same roster on several office PCs")))
        layout.addWidget(paragraph(_(
            "The PCs of the association's officers (for example the chair's and the "
            "treasurer's) will all have the same roster, and a change made on one reaches the "
            "others through the relay.")))
        layout.addWidget(paragraph(_(
            "Everything is locked on this PC before it is sent. The relay only passes it on: "
            "it cannot read names, addresses or phone numbers.")))
        layout.addWidget(paragraph(_(
            "Next, Kairan makes a recovery sheet (復旧シート). Print it and keep it in the "
            "association's safe: with it the roster can be received again even if every PC "
            "is lost. Have the printer ready.")))
        layout.addWidget(paragraph(_(
            "Anyone who holds the recovery sheet can read the roster."), warning=True))
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 42, self.sizeHint().height())
        self.start_button.setFocus()

    def start(self) -> None:
        """Make the association's key in the background (progress and Cancel)."""
        if self.task is not None:
            return
        store = self.file

        def work(context: TaskContext) -> list[str]:
            from sync.replica import service

            return service.enable_sharing(store, progress=context.progress,
                                          cancelled=context.cancelled)

        def done(words: list[str]) -> None:
            self.task = None
            self.start_button.setEnabled(True)
            self.accept()
            self.started.emit(words)

        def failed(error: BaseException) -> None:
            self.task = None
            self.start_button.setEnabled(True)
            if isinstance(error, TaskCancelled):
                self.problem.setText(_("Cancelled: sharing has not started. You can start "
                                       "it again at any time."))
            elif isinstance(error, KairanError):
                self.problem.setText(error.message)
            else:
                raise error

        self.problem.clear()
        self.start_button.setEnabled(False)
        self.task = self.tasks.run(work, parent=self, title=_("Starting to share…"),
                                   on_success=done, on_failure=failed)

    def reject(self) -> None:
        """Close, but not while the key is being made (Cancel the progress first)."""
        if self.task is None:
            super().reject()
