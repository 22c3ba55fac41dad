"""What the officer does with roster files from the window: import a roster spreadsheet
through the wizard, export the roster to Excel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.export_dialog import ExportDialog
from desktop.ui.import_wizard import ImportDone, ImportWizard

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


class FileActions:
    """The import and export commands of the main window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.wizard: ImportWizard | None = None
        self.export_dialog: ExportDialog | None = None
        self._export_folder = ""

    def import_roster(self) -> ImportWizard:
        """Open the import wizard (or bring back the one already open)."""
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return self.wizard
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = ImportWizard(self.window, self.window.file, self.window.tasks,
                                   today=self.window.today, imported=self._imported)
        self.wizard.open()  # window-modal, without a nested event loop
        return self.wizard

    def _imported(self, done: ImportDone) -> None:
        # Earlier edits may refer to households the import changed: they cannot be undone now.
        self.window.undo_stack.clear()
        self.window.reload()
        result = done.result
        messages.inform(self.window, _(
            "Imported {file}: {added} added, {updated} updated, {withdrawn} withdrawn, "
            "{groups} 班 created.\n\nA backup of the file as it was before was made first: "
            "{backup}\nAn import cannot be undone with Undo; to go back, restore that backup "
            "(File → Restore from a backup…).").format(
                file=done.file, added=result.added, updated=result.updated,
                withdrawn=result.withdrawn, groups=result.groups_created,
                backup=done.backup.path))

    def export_roster(self) -> ExportDialog:
        """Open the export dialog (or bring back the one already open)."""
        if self.export_dialog is not None and self.export_dialog.isVisible():
            self.export_dialog.raise_()
            self.export_dialog.activateWindow()
            return self.export_dialog
        if self.export_dialog is not None:
            self._export_folder = self.export_dialog.folder
            self.export_dialog.deleteLater()
        self.export_dialog = ExportDialog(self.window, self.window.file, self.window.tasks,
                                          today=self.window.today, folder=self._export_folder)
        self.export_dialog.open()
        return self.export_dialog
