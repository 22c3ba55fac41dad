"""The application: QApplication, settings, language, fonts, and opening the association file.

The controller owns the one main window; changing language rebuilds it, opening another file
or restoring a backup closes the current file first.
"""

from __future__ import annotations

import sqlite3
import sys
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QEvent, QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox
from sqlalchemy.exc import DatabaseError

from desktop import __version__, paths
from desktop.domain.association import create_association
from desktop.domain.errors import KairanError
from desktop.i18n import _, set_language
from desktop.store.association_file import (
    AssociationFile,
    DamagedFile,
    MissingFile,
    backup_store_for,
    create_association_file,
    open_association,
)
from desktop.store.backups import restore
from desktop.ui import messages
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import BACKUP_KEEP, LANGUAGE, LAST_FILE, TEXT_SIZE, TEXT_SIZES, Settings
from desktop.ui.tasks import TaskContext, TaskRunner

FILE_FILTER = "Kairan (*.kairan)"
AUTO_BACKUP_DELAY_MS = 10_000


def ensure_japanese_font() -> None:
    """Register the shipped IPAex Gothic when the system has no font for Japanese."""
    if QFontDatabase.families(QFontDatabase.WritingSystem.Japanese):
        return
    font_file = resources.files("resources") / "fonts" / "ipaexg.ttf"
    with resources.as_file(font_file) as path:
        font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id)
    if families:
        font = QApplication.font()
        font.setFamilies([families[0], *font.families()])
        QApplication.setFont(font)


class AppController:
    """Opens association files into the main window and applies app-wide settings."""

    def __init__(self, app: QApplication, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.window: MainWindow | None = None
        self.file: AssociationFile | None = None
        self._base_point_size = app.font().pointSizeF()
        self._qt_translator: QTranslator | None = None
        self.apply_language(settings.language())
        self.apply_text_size(settings.text_size())

    # ------------------------------------------------------------ settings

    def apply_language(self, language: str) -> None:
        """Use ``language`` for Kairan's strings and Qt's own (buttons, standard dialogs)."""
        set_language(language)
        if self._qt_translator is not None:
            self.app.removeTranslator(self._qt_translator)
            self._qt_translator = None
        if language != "en":
            translator = QTranslator(self.app)
            folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if translator.load(QLocale(language), "qtbase", "_", folder):
                self.app.installTranslator(translator)
                self._qt_translator = translator

    def change_language(self, language: str) -> None:
        """Switch language now: the window is rebuilt in the new language."""
        self.settings.set(LANGUAGE, language)
        self.apply_language(language)
        if self.file is not None:
            self._show(self.file)

    def apply_text_size(self, percent: int) -> None:
        """Scale every font of the UI (large print for elderly officers)."""
        font = QFont(self.app.font())
        font.setPointSizeF(self._base_point_size * percent / 100)
        self.app.setFont(font)  # reaches every widget that has not chosen a font of its own
        if self.window is not None:
            # Qt posts the change to each widget; deliver it now, or the fitting below would
            # measure the old font.
            QApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
            self.window.fit_to_text_size()

    def step_text_size(self, step: int) -> None:
        """One size larger (+1), smaller (-1) or back to standard (0)."""
        current = TEXT_SIZES.index(self.settings.text_size())
        index = 0 if step == 0 else max(0, min(len(TEXT_SIZES) - 1, current + step))
        self.settings.set(TEXT_SIZE, TEXT_SIZES[index])
        self.apply_text_size(TEXT_SIZES[index])

    # ------------------------------------------------------------ files

    def open_path(self, path: Path) -> bool:
        """Open the file at ``path`` in the window; explains any problem and returns False."""
        try:
            opened = open_association(path, backup_keep=self.settings.get(BACKUP_KEEP),
                                      verify_now=False)
        except DamagedFile as problem:
            return self._offer_restore(problem)
        except MissingFile:
            if path == paths.default_association_path():
                return self.create_new(path)
            messages.warn(None, _("There is no file at {file}.").format(file=path))
            return False
        except KairanError as problem:
            messages.warn(None, problem.message)
            return False
        try:
            self._show(opened)
        except (DatabaseError, sqlite3.DatabaseError):
            # Damage met while painting the roster, before the background check got to it.
            opened.close()
            try:
                opened.verify()
            except DamagedFile as problem:
                return self._offer_restore(problem)
            raise
        self.settings.set(LAST_FILE, str(path))
        return True

    def _show(self, opened: AssociationFile) -> None:
        old_window, old_file = self.window, self.file
        window = MainWindow(opened, self.settings)  # first: it may meet a damaged file
        self.file, self.window = opened, window
        self.window.open_requested.connect(self.choose_file)
        self.window.restore_requested.connect(self.choose_backup)
        self.window.language_requested.connect(self.change_language)
        self.window.text_size_requested.connect(self.step_text_size)
        self.window.bundle_actions.file_made.connect(self.open_path)
        self.window.show()
        self.window.audit_actions.ask_after_open()
        if old_window is not None:
            old_window.close()
            old_window.deleteLater()
        if old_file is not None and old_file is not opened:
            old_file.close()
        if not opened.verified:
            self._verify(opened)

    def _verify(self, opened: AssociationFile) -> None:
        """Check the file's integrity in the background while the officer looks at it; a
        damaged file is closed and the newest good backup offered."""

        def work(_context: TaskContext) -> None:
            opened.verify()

        def sound(_result: None) -> None:
            if self.window is not None and opened is self.file:
                # The day's backup can wait until the officer has the roster in front of them.
                QTimer.singleShot(AUTO_BACKUP_DELAY_MS, self.window, self.window.backup_if_due)

        def damaged(error: BaseException) -> None:
            if not isinstance(error, DamagedFile):
                raise error
            if opened is self.file and self.window is not None:
                self.window.close()
                self.window.deleteLater()
                self.window = None
                self.file = None
            opened.close()
            if self._offer_restore(error) is False:
                self.app.quit()

        assert self.window is not None
        self.window.tasks.run(work, parent=self.window, title=_("Checking the file…"),
                              on_success=sound, on_failure=damaged, cancellable=False)

    def create_new(self, path: Path) -> bool:
        """First start: make a new association file after asking for its name, or receive
        the association from another office PC that shares it."""
        if self._first_start_choice() == "receive":
            return self.receive_at_start(path.parent)
        name, ok = QInputDialog.getText(
            None, _("Welcome to Kairan"),
            _("There is no association file yet. Type the association's name to start one "
              "(for example 桜町自治会):"))
        if not ok:
            return False
        try:
            opened = create_association_file(path)
            with opened.write() as session:
                create_association(session, name=name)
        except KairanError as problem:
            messages.warn(None, problem.message)
            return False
        self._show(opened)
        self.settings.set(LAST_FILE, str(path))
        return True

    def _first_start_choice(self) -> str:
        """「新しく始める」 or 「別のPCの名簿を受け取る」, asked once on a PC with no file."""
        box = QMessageBox(QMessageBox.Icon.Question, _("Welcome to Kairan"), _(
            "There is no association file on this PC yet. Start a new one, or receive the "
            "roster from another office PC of your association that already uses Kairan "
            "(you need the pairing code from the relay's administrator and a key code shown "
            "on that PC, or the recovery sheet)."))
        new = box.addButton(_("Start a &new association file"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(_("&Receive the roster from another PC"), QMessageBox.ButtonRole.ActionRole)
        box.setDefaultButton(new)
        box.exec()
        return "new" if box.clickedButton() is new else "receive"

    def receive_at_start(self, folder: Path) -> bool:
        """Show the join wizard with no window yet; the received file opens when it is done
        (closing the wizard without a file ends Kairan, as closing the window would)."""
        from desktop.ui.sharing.join_wizard import open_join_wizard

        folder.mkdir(parents=True, exist_ok=True)
        self._join_tasks = TaskRunner(self.app)
        self._join_wizard = open_join_wizard(None, self._join_tasks,
                                             opened=lambda path: self.open_path(Path(path)),
                                             folder=folder)
        return True

    def _offer_restore(self, problem: DamagedFile) -> bool:
        if problem.backup is None:
            messages.warn(None, problem.message + "\n\n" + _("There is no good backup of it."))
            return False
        question = problem.message + "\n\n" + _(
            "Restore the newest good backup, made {when}? The damaged file is kept beside it "
            "with .damaged added to its name.").format(
                when=f"{problem.backup.created_at:%Y-%m-%d %H:%M}")
        if not messages.confirm(None, question):
            return False
        damaged = problem.path.with_name(problem.path.name + ".damaged")
        try:
            problem.path.replace(damaged)
            restore(problem.backup.path, problem.path, store=backup_store_for(problem.path))
        except (KairanError, OSError) as error:
            messages.warn(None, str(error))
            return False
        return self.open_path(problem.path)

    def choose_file(self) -> None:
        """Ask for another association file and open it."""
        start = str(self.file.path.parent) if self.file else str(paths.data_dir())
        name, _filter = QFileDialog.getOpenFileName(self.window, _("Open association file"),
                                                    start, FILE_FILTER)
        if name:
            self.open_path(Path(name))

    def choose_backup(self) -> None:
        """List this file's backups and restore the one chosen over it."""
        if self.file is None or self.window is None:
            return
        backups = self.file.backups.list()
        if not backups:
            messages.warn(self.window, _("There are no backups of this file yet."))
            return
        labels = [f"{b.created_at:%Y-%m-%d %H:%M:%S}  ({b.reason})" for b in backups]
        label, ok = QInputDialog.getItem(self.window, _("Restore from a backup"),
                                         _("Replace the current file with the backup of:"),
                                         labels, 0, False)
        if not ok:
            return
        chosen = backups[labels.index(label)]
        path = self.file.path
        self.file.close()
        try:
            restore(chosen.path, path, store=self.file.backups)
        except KairanError as error:
            messages.warn(self.window, error.message)
        self.open_path(path)


def run_app(db: Path | None, *, language: str | None = None,
            quit_after_paint: bool = False) -> int:
    """Start the window on ``db`` (or the last file, or the default file).

    ``quit_after_paint`` ends the program once the roster is painted: a cold start is timed
    by running it so (tests/bench/bundle_start.py).
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Kairan")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(resources.files("resources") / "icons" / "kairan.png")))
    ensure_japanese_font()
    settings = Settings()
    if language is not None:
        settings.set(LANGUAGE, language)
    controller = AppController(app, settings)
    last = settings.get(LAST_FILE)
    path = db or (Path(last) if last else paths.default_association_path())
    if not controller.open_path(Path(path).expanduser().absolute()):
        return 1
    if quit_after_paint and controller.window is not None:
        from desktop.ui.startup_probe import exit_after_first_paint

        exit_after_first_paint(controller.window.roster.table.viewport())
    return app.exec()


