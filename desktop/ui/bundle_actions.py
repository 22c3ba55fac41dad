"""The window's commands for the whole association and its privacy duties: export everything
to a zip (or folder) of open files, make a new association file from such an export, edit the
association settings (name, purpose statement, retention period), and purge withdrawn
households after the retention period.

Exports and imports run in the background with progress and Cancel. A new file made from a
bundle is offered through :attr:`BundleActions.file_made`, which the application connects to
opening a file. reportlab and openpyxl load only when an export starts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog

from desktop import paths
from desktop.domain.errors import KairanError
from desktop.i18n import N_, _
from desktop.ui import messages
from desktop.ui.tasks import TaskCancelled, TaskContext
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from desktop.domain.bundle.export import ExportResult
    from desktop.domain.bundle.restore import ImportResult
    from desktop.ui.association_dialog import AssociationDialog
    from desktop.ui.main_window import MainWindow
    from desktop.ui.retention_dialog import RetentionDialog

_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|]')

# The menu entries of these commands (translated where the menus are built: _(MENU_…)).
MENU_EXPORT = N_("Export &everything (all data)…")
MENU_IMPORT = N_("Make a new file from a &full export…")
MENU_SETTINGS = N_("Association &settings…")
MENU_PURGE = N_("&Purge withdrawn households after the retention period…")


class _Signals(QObject):
    file_made = Signal(object)  # Path of a new association file made from a bundle


class BundleActions(WindowActions):
    """Export everything, import a bundle, association settings, purge after retention."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.signals = _Signals(window)
        self.file_made = self.signals.file_made
        self.association_dialog: AssociationDialog | None = None
        self.retention_dialog: RetentionDialog | None = None
        self.folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        self.last_export: ExportResult | None = None

    # ------------------------------------------------------------ export everything

    def suggested_name(self) -> str:
        """「桜町自治会_全データ_20260601」: the association and the day."""
        name = _UNSAFE_IN_NAMES.sub("_", self.window.association.name).strip() or "Kairan"
        return f"{name}_全データ_{self.window.today():%Y%m%d}"

    def export_all(self) -> None:
        """Ask where, then write the bundle in the background."""
        zip_filter, folder_filter = _("Zip file (*.zip)"), _("Folder")
        name, chosen = QFileDialog.getSaveFileName(
            self.window, _("Export everything to"),
            str(Path(self.folder) / f"{self.suggested_name()}.zip"),
            f"{zip_filter};;{folder_filter}")
        if not name:
            return
        as_zip = chosen != folder_filter
        path = Path(name)
        if not as_zip and path.suffix.lower() == ".zip":
            path = path.with_suffix("")
        self.folder = str(path.parent)
        self.run_export(path, as_zip=as_zip)

    def run_export(self, path: Path, *, as_zip: bool) -> None:
        """Write the bundle to ``path`` in the background (the save dialog already asked
        about replacing an existing zip file)."""
        from desktop.domain.bundle.export import export_bundle

        association_file, today = self.file, self.window.today()

        def work(context: TaskContext) -> ExportResult:
            with association_file.read() as session:
                return export_bundle(session, path, as_zip=as_zip, today=today, replace=True,
                                     progress=context.progress)

        def done(result: ExportResult) -> None:
            self.last_export = result
            text = _("Wrote everything to {path}: {tables} tables with {rows} rows, {documents} "
                     "PDF files. Keep it safe: it holds personal data.").format(
                path=result.path, tables=result.tables, rows=result.rows,
                documents=result.documents)
            if result.skipped:
                text += "\n\n" + _("These PDFs could not be made (the data is complete):") \
                    + "\n" + "\n".join(result.skipped)
            messages.inform(self.window, text)

        def failed(error: BaseException) -> None:
            if isinstance(error, TaskCancelled):
                self.window.statusBar().showMessage(
                    _("The export was cancelled: nothing was written."), 8000)
            elif isinstance(error, KairanError):
                messages.warn(self.window, error.message)
            else:
                raise error

        self.window.tasks.run(work, parent=self.window, title=_("Exporting everything…"),
                              on_success=done, on_failure=failed)

    # ------------------------------------------------------------ a bundle into a new file

    def import_bundle(self) -> None:
        """Ask for a bundle and the new file's name, then make the file in the background."""
        name, _filter = QFileDialog.getOpenFileName(
            self.window, _("Open a full export"), self.folder,
            _("Kairan full export (*.zip manifest.json)"))
        if not name:
            return
        bundle = Path(name)
        stem = bundle.parent.name if bundle.name == "manifest.json" else bundle.stem
        target, _filter = QFileDialog.getSaveFileName(
            self.window, _("Make the new association file"),
            str(paths.data_dir() / f"{stem}{paths.FILE_SUFFIX}"),
            _("Kairan association file (*{suffix})").format(suffix=paths.FILE_SUFFIX))
        if not target:
            return
        path = Path(target)
        if path.suffix != paths.FILE_SUFFIX:
            path = path.with_name(path.name + paths.FILE_SUFFIX)
        if path.exists():
            messages.warn(self.window, _("{file} already exists. A full export is always "
                                         "opened as a new file: choose a new name.")
                          .format(file=path))
            return
        self.run_import(bundle, path)

    def run_import(self, bundle: Path, path: Path) -> None:
        """Make ``path`` from ``bundle`` in the background, then offer to open it."""
        from desktop.domain.bundle.restore import import_into_new_file

        def work(context: TaskContext) -> ImportResult:
            return import_into_new_file(bundle, path, progress=context.progress)

        def done(result: ImportResult) -> None:
            if messages.confirm(self.window, _(
                    "Made {file} with {association}: {rows} rows in {tables} tables. Open it "
                    "now?").format(file=path, association=result.association, rows=result.rows,
                                   tables=result.tables)):
                self.file_made.emit(path)

        def failed(error: BaseException) -> None:
            if isinstance(error, TaskCancelled):
                self.window.statusBar().showMessage(
                    _("The import was cancelled: no file was made."), 8000)
            elif isinstance(error, KairanError):
                messages.warn(self.window, error.message)
            else:
                raise error

        self.window.tasks.run(work, parent=self.window, title=_("Reading the full export…"),
                              on_success=done, on_failure=failed)

    # ------------------------------------------------------------ privacy duties

    def edit_association(self) -> AssociationDialog:
        """Open the association settings (or bring back the dialog already open)."""
        from desktop.ui.association_dialog import AssociationDialog

        if self.association_dialog is not None and self.association_dialog.isVisible():
            self.association_dialog.raise_()
            return self.association_dialog
        if self.association_dialog is not None:
            self.association_dialog.deleteLater()
        dialog = self.association_dialog = AssociationDialog(self.window, self.file)
        dialog.accepted.connect(self._settings_saved)
        dialog.open()
        return dialog

    def _settings_saved(self) -> None:
        from desktop.domain.association import get_association

        with self.file.read() as session:
            self.window.association = get_association(session)
        self.window.setWindowTitle(f"{self.window.association.name} — Kairan")
        self.window.statusBar().showMessage(_("The association settings were saved."), 8000)

    def purge_withdrawn(self) -> RetentionDialog:
        """Open the preview of withdrawn households due for deletion."""
        from desktop.ui.retention_dialog import RetentionDialog

        if self.retention_dialog is not None and self.retention_dialog.isVisible():
            self.retention_dialog.raise_()
            return self.retention_dialog
        if self.retention_dialog is not None:
            self.retention_dialog.deleteLater()
        dialog = self.retention_dialog = RetentionDialog(
            self.window, self.file, self.window.tasks, today=self.window.today,
            purged=self._purged)
        dialog.open()
        return dialog

    def _purged(self, _count: int) -> None:
        # Earlier edits may refer to the deleted households: they cannot be undone now.
        self.window.undo_stack.clear()
        self.window.reload()
