"""「別のPCの名簿を受け取る」: on a new PC, receive the association's roster from the other
office PCs, into a new association file.

Three pages: the relay (its address, a pairing code from its administrator, this PC's name,
the CA file, and where to keep the new file) → the key (the key code shown on another office
PC, or the 12 words of the recovery sheet) → done. Receiving runs in the background with
progress and Cancel when the officer leaves the key page; a problem sends them back to the
field to fix. :attr:`JoinWizard.joined` gives the new file once they press 「ファイルを開く」.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop import paths
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.ui.relay_form import RelayForm
from desktop.ui.sharing.common import enlarge, paragraph, problem_label
from desktop.ui.task_wizard import TaskWizard
from desktop.ui.tasks import TaskCancelled, TaskContext, TaskRunner

if TYPE_CHECKING:
    from sync.replica.service import JoinRequest

RELAY_PAGE, KEY_PAGE, DONE_PAGE = range(3)
KEY_FIELDS = {"key_code", "transfer_code", "recovery_words", "words"}
INPUT_SCALE = 1.5


class RelayPage(QWizardPage):
    """The relay, this PC's name, and the folder for the new file."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.setTitle(_("Receive the roster from the other PCs"))
        self.setSubTitle(_("Step 1 of 2: the relay"))
        self.form = RelayForm()
        self.form.form.addRow(_("&Folder for the new file"), self._folder_row(folder))
        self.problem = problem_label()
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(_(
            "This PC will get the same roster as the association's other office PCs. You "
            "need the relay's address and a new pairing code from the relay's administrator, "
            "and then either the key code shown on another office PC or the recovery sheet "
            "from the safe.")))
        layout.addWidget(self.form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        for field in (self.form.relay_url, self.form.code, self.form.device_name, self.folder):
            field.textChanged.connect(self.completeChanged)

    def _folder_row(self, folder: Path) -> QHBoxLayout:
        self.folder = QLineEdit(str(folder))
        browse = QPushButton(_("Choose a &folder…"))
        browse.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        return row

    def choose_folder(self) -> None:
        """Pick the folder the new association file goes into."""
        chosen = QFileDialog.getExistingDirectory(self, _("Folder for the new file"),
                                                  self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def isComplete(self) -> bool:
        wizard = self.wizard()
        busy = isinstance(wizard, JoinWizard) and wizard.busy
        return not busy and self.form.filled() and bool(self.folder.text().strip())

    def show_problem(self, error: KairanError) -> None:
        """Say what is wrong and put the cursor in the field to fix."""
        self.problem.setText(error.message)
        if error.field == "folder":
            self.folder.setFocus()
            self.folder.selectAll()
        else:
            self.form.focus_field(error)


class KeyPage(QWizardPage):
    """The key code from another PC, or the recovery sheet's 12 words."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle(_("Receive the roster from the other PCs"))
        self.setSubTitle(_("Step 2 of 2: the key"))
        self.use_code = QRadioButton(_("Type the &key code (鍵コード) shown on another office "
                                       "PC"))
        self.use_words = QRadioButton(_("Type the 12 words of the &recovery sheet (復旧シート) "
                                        "from the safe"))
        for button in (self.use_code, self.use_words):
            enlarge(button, 1.1, bold=True)
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.use_code)
        self.choice.addButton(self.use_words)
        self.use_code.setChecked(True)
        self.key_code = QLineEdit()
        self.key_code.setPlaceholderText("XXXXX-XXXXX")
        big = QFont("monospace")
        big.setStyleHint(QFont.StyleHint.Monospace)
        big.setPointSizeF(self.font().pointSizeF() * INPUT_SCALE * 1.2)
        self.key_code.setFont(big)
        self.words = QPlainTextEdit()
        self.words.setPlaceholderText(_("The 12 words, in order, with a space between them"))
        enlarge(self.words, INPUT_SCALE)
        self.words.setMaximumHeight(self.words.fontMetrics().lineSpacing() * 5)
        self.problem = problem_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.use_code)
        layout.addWidget(paragraph(_(
            "On an office PC that already has the roster, choose 同期 → 別のPCを追加 "
            "(鍵コードを表示). The code shown there works for 15 minutes.")))
        layout.addWidget(self.key_code)
        layout.addSpacing(12)
        layout.addWidget(self.use_words)
        layout.addWidget(paragraph(_(
            "When no other office PC can be used. Put the sheet back in the safe "
            "afterwards.")))
        layout.addWidget(self.words)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.choice.buttonToggled.connect(lambda _button, _on: self._chosen())
        self.key_code.textChanged.connect(self.completeChanged)
        self.words.textChanged.connect(self.completeChanged)
        self._chosen()

    def _chosen(self) -> None:
        by_code = self.use_code.isChecked()
        self.key_code.setEnabled(by_code)
        self.words.setEnabled(not by_code)
        (self.key_code if by_code else self.words).setFocus()
        self.completeChanged.emit()

    def key_code_text(self) -> str:
        """The key code typed, when that is the way chosen (else "")."""
        return self.key_code.text().strip() if self.use_code.isChecked() else ""

    def words_text(self) -> str:
        """The recovery words typed, when that is the way chosen (else "")."""
        return " ".join(self.words.toPlainText().split()) if self.use_words.isChecked() \
            else ""

    def isComplete(self) -> bool:
        wizard = self.wizard()
        busy = isinstance(wizard, JoinWizard) and wizard.busy
        return not busy and bool(self.key_code_text() or self.words_text())

    def validatePage(self) -> bool:
        wizard = self.wizard()
        assert isinstance(wizard, JoinWizard)
        if wizard.path is not None:
            return True
        wizard.receive()
        return False

    def show_problem(self, error: KairanError) -> None:
        """Say what is wrong with the key, and put the cursor where to fix it."""
        self.problem.setText(error.message)
        field = self.key_code if self.use_code.isChecked() else self.words
        field.setFocus()


class DonePage(QWizardPage):
    """The roster arrived: where the new file is."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle(_("The roster has arrived"))
        self.where = paragraph("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(paragraph(_(
            "Press 「ファイルを開く」 to open it. From now on changes made on this PC and on "
            "the other office PCs reach each other when they sync.")))
        layout.addStretch(1)

    def initializePage(self) -> None:
        wizard = self.wizard()
        assert isinstance(wizard, JoinWizard)
        self.where.setText(_("The association's roster is in the new file {file}.").format(
            file=wizard.path))


class JoinWizard(TaskWizard):
    """The relay → the key → done; receiving runs in the background."""

    joined = Signal(object)  # Path of the new association file, once it is to be opened

    def __init__(self, parent: QWidget | None, tasks: TaskRunner, *,
                 folder: Path | None = None) -> None:
        super().__init__(parent, tasks)
        self.path: Path | None = None
        self.setWindowTitle(_("Receive the roster from another PC"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.relay_page = RelayPage(folder if folder is not None else paths.data_dir())
        self.key_page = KeyPage()
        self.done_page = DonePage()
        self.setPage(RELAY_PAGE, self.relay_page)
        self.setPage(KEY_PAGE, self.key_page)
        self.setPage(DONE_PAGE, self.done_page)
        self.setButtonText(QWizard.WizardButton.FinishButton, _("&Open the file"))
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 46, em * 34)

    def request(self) -> JoinRequest:
        """The :class:`sync.replica.service.JoinRequest` of what the pages hold."""
        from sync.replica import service

        form = self.relay_page.form
        return service.JoinRequest(
            folder=Path(self.relay_page.folder.text().strip()),
            relay_url=form.relay_url.text().strip(), pairing_code=form.code.text().strip(),
            device_name=form.device_name.text().strip(), ca_file=form.ca_file.text().strip(),
            key_code=self.key_page.key_code_text(), recovery_words=self.key_page.words_text())

    def receive(self) -> None:
        """Receive the roster in the background; on success move to the last page."""
        if self.busy:
            return
        from sync.replica import service

        request = self.request()

        def work(context: TaskContext) -> Path:
            return service.join_association(request, progress=context.progress,
                                            cancelled=context.cancelled)

        def done(path: Path) -> None:
            self.path = path
            self.next()

        self.relay_page.problem.clear()
        self.key_page.problem.clear()
        self.run(work, title=_("Receiving the roster…"), done=done, failed=self._failed)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, TaskCancelled):
            self.key_page.problem.setText(_("Cancelled: nothing was received."))
            return
        if not isinstance(error, KairanError):
            raise error
        if error.field in KEY_FIELDS:
            self.key_page.show_problem(error)
            return
        if error.field is None:
            self.key_page.show_problem(error)
            return
        self.back()  # the relay page holds the field to fix
        self.relay_page.show_problem(error)

    def accept(self) -> None:
        """「ファイルを開く」: hand the new file to whoever opens it."""
        super().accept()
        if self.path is not None:
            self.joined.emit(self.path)


def open_join_wizard(parent: QWidget | None, tasks: TaskRunner, *,
                     opened: Callable[[Path], object],
                     folder: Path | None = None) -> JoinWizard:
    """Show the wizard (window-modal, no nested event loop); ``opened`` gets the new file.

    For the start of Kairan on a new PC too: ``AppController`` can call it with its
    ``open_path``."""
    wizard = JoinWizard(parent, tasks, folder=folder)
    wizard.joined.connect(opened)
    wizard.open()
    return wizard
