"""The handover from the window: run the wizard (役員交代…), then make the handover report
(引継書) off the UI thread and show it in the preview to print or save; and print the report
of an earlier year's handover again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QInputDialog

from desktop.domain.errors import KairanError
from desktop.domain.handover import list_handovers
from desktop.domain.wareki import format_nendo
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.handover_wizard import HandoverStart, HandoverWizard, start_handover
from desktop.ui.tasks import Task, TaskCancelled, TaskContext
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow
    from desktop.ui.pdf_preview import PdfPreview
    from desktop.ui.print_dialog import Progress

__all__ = ["HandoverActions"]


class HandoverActions(WindowActions):
    """The handover commands of the main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.wizard: HandoverWizard | None = None
        self.starting: Task[HandoverStart] | None = None
        self.job_folder: Path | None = None  # where PDFs are made (tests point it elsewhere)
        self.task: Task[Path] | None = None
        self.preview: PdfPreview | None = None

    def _done_by(self) -> str:
        # The officer profile chosen for this file (the audit trail's actor), if any.
        actor = getattr(self.file, "actor", None)
        return str(getattr(actor, "name", "") or "")

    def run_wizard(self) -> None:
        """「役員交代…」: plan the coming handover in the background, then open the wizard
        (:attr:`wizard`)."""
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return
        if self.starting is not None:
            return  # already on its way
        association_file, today = self.file, self.window.today()

        def work(_context: TaskContext) -> HandoverStart:
            return start_handover(association_file, today=today)

        def failed(error: BaseException) -> None:
            self.starting = None
            if isinstance(error, KairanError):
                messages.warn(self.window, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        self.starting = self.window.tasks.run(
            work, parent=self.window, title=_("Planning the handover…"),
            on_success=self._open, on_failure=failed)

    def _open(self, start: HandoverStart) -> None:
        self.starting = None
        if self.wizard is not None:
            self.wizard.deleteLater()
        wizard = HandoverWizard(self.window, self.file, self.window.tasks, start=start,
                                done_by=self._done_by())
        self.wizard = wizard
        wizard.handed_over.connect(self._handed_over)
        wizard.open()  # window-modal, without a nested event loop

    def _handed_over(self, year: int) -> None:
        self.window.reload()
        self.window.show_role_board()
        board = self.window.role_board
        index = board.year.findData(year)
        if index >= 0:
            board.year.setCurrentIndex(index)
        self.window.statusBar().showMessage(
            _("Handed over to the officers of {year}.").format(
                year=format_nendo(year, self.window.association.fiscal_year_start_month)),
            8000)
        self.print_report(year)

    def print_earlier_report(self) -> None:
        """Choose a year handed over before and show its report again."""
        with self.file.read() as session:
            done = list_handovers(session)
        if not done:
            messages.inform(self.window, _("No handover has been recorded in this file yet."))
            return
        start_month = self.window.association.fiscal_year_start_month
        names = [format_nendo(record.year, start_month) for record in done]
        name, ok = QInputDialog.getItem(self.window, _("Handover report"),
                                        _("Handover into:"), names, 0, False)
        if ok and name in names:
            self.print_report(done[names.index(name)].year)

    def print_report(self, year: int) -> None:
        """Make the handover report of ``year`` in the background and open the preview."""
        # Imported when first used: reportlab and PDFium would cost the window's start-up.
        from desktop.ui.print_dialog import file_name, render_to_preview
        from reports.pdf.handover_pdf import TITLE, render_handover
        from reports.pdf.handover_source import load_handover_report

        today = self.window.today()
        association = self.window.association.name
        label = format_nendo(year, self.window.association.fiscal_year_start_month)

        def render(path: Path, progress: Progress) -> int:
            with self.file.read() as session:
                report = load_handover_report(session, year=year, printed_on=today)
            return render_handover(path, report=report, progress=progress)

        def shown(preview: PdfPreview) -> None:
            self.preview = preview

        def failed(error: BaseException) -> None:
            if isinstance(error, KairanError):
                messages.warn(self.window, error.message + "\n\n" + _(
                    "The handover itself is recorded. Print its report again from the "
                    "menu."))
            elif not isinstance(error, TaskCancelled):
                raise error

        self.task = render_to_preview(
            self.window, self.window.tasks, render=render,
            title=_("Handover report {year}").format(year=label),
            suggested_name=file_name(association, f"{TITLE}_{label}", today),
            job_folder=self.job_folder, shown=shown, failed=failed)
