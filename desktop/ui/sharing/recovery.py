"""The recovery sheet (復旧シート): print it, and put it in the association's safe.

Its twelve words are never stored: they live in this dialog only while it is open. The
dialog shows them (to copy by hand when no printer works), prints or saves the sheet through
the app's usual preview, and does not let the officer close it without saying the sheet is
in the safe, or agreeing to go on without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.pdf_preview import PdfPreview
from desktop.ui.print_dialog import Progress, file_name, render_to_preview
from desktop.ui.sharing.common import enlarge, heading, paragraph, problem_label
from desktop.ui.tasks import Task, TaskCancelled, TaskRunner

WORD_SCALE = 1.6
SHEET_DOCUMENT = "復旧シート"  # in the suggested file name, whatever the language


def render_sheet(path: Path, *, association_name: str, words: Sequence[str], relay_url: str,
                 made_on: date) -> int:
    """Write the recovery sheet to ``path`` (on a worker thread); returns its page count."""
    from reports.pdf import recovery_sheet  # the module attribute, so tests can replace it

    recovery_sheet.recovery_sheet_pdf(path, association_name=association_name,
                                      words=list(words), relay_url=relay_url, made_on=made_on)
    return 1


class RecoverySheetDialog(QDialog):
    """The new recovery sheet's words, a button to print it, and 「金庫に保管しました」."""

    def __init__(self, parent: QWidget | None, tasks: TaskRunner, *, words: Sequence[str],
                 association_name: str, relay_url: str, made_on: date,
                 job_folder: Path | None = None,
                 render: Callable[..., int] = render_sheet) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.words = list(words)
        self.association_name = association_name
        self.relay_url = relay_url
        self.made_on = made_on
        self.job_folder = job_folder
        self.render_sheet = render
        self.task: Task[Path] | None = None
        self.preview: PdfPreview | None = None
        self.setWindowTitle(_("Recovery sheet (復旧シート)"))
        self.print_button = QPushButton(_("Show and &print the recovery sheet…"))
        enlarge(self.print_button, 1.2, bold=True)
        self.print_button.clicked.connect(self.show_sheet)
        self.kept = QCheckBox(_("I printed the recovery sheet and put it in the association's "
                                "&safe (or another locked place)."))
        enlarge(self.kept, 1.1)
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("&Close"))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Print the recovery sheet and keep it in the safe")))
        layout.addWidget(paragraph(_(
            "With this sheet the roster can be received again on a new PC even when every "
            "office PC is lost or broken (同期 → 別のPCの名簿を受け取る → 復旧シート).")))
        layout.addWidget(paragraph(_(
            "Anyone who holds the sheet can read the roster. Do not photograph it, do not "
            "keep it in the PC, and do not leave it on a desk."), warning=True))
        layout.addWidget(self.print_button)
        layout.addWidget(paragraph(_(
            "If no printer works, copy these 12 words by hand, in this order, onto paper "
            "and keep that paper in the safe:")))
        layout.addLayout(self._word_grid())
        layout.addWidget(paragraph(_(
            "Kairan does not keep the words: once this window is closed they cannot be shown "
            "again. A new sheet can always be made (同期 → 新しい復旧シートを作る).")))
        layout.addWidget(self.kept)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 44, self.sizeHint().height())
        self.print_button.setFocus()

    def _word_grid(self) -> QGridLayout:
        grid = QGridLayout()
        half = (len(self.words) + 1) // 2
        for index, word in enumerate(self.words):
            label = QLabel(f"{index + 1:>2}. {word}")
            enlarge(label, WORD_SCALE, bold=True)
            label.setObjectName(f"word{index + 1}")
            grid.addWidget(label, index % half, index // half)
        return grid

    def word_texts(self) -> list[str]:
        """The words as shown, in order."""
        return [label.text().split(". ", 1)[1]
                for index in range(len(self.words))
                if (label := self.findChild(QLabel, f"word{index + 1}")) is not None]

    def show_sheet(self) -> None:
        """Make the sheet's PDF in the background, then open it in the preview to print or
        save."""
        if self.task is not None:
            return
        words, name, url, day = self.words, self.association_name, self.relay_url, self.made_on
        render = self.render_sheet

        def write(path: Path, _progress: Progress) -> int:
            return render(path, association_name=name, words=words, relay_url=url,
                          made_on=day)

        def shown(preview: PdfPreview) -> None:
            self.task = None
            self.print_button.setEnabled(True)
            self.preview = preview

        def failed(error: BaseException) -> None:
            self.task = None
            self.print_button.setEnabled(True)
            if isinstance(error, TaskCancelled):
                self.problem.setText(_("Cancelled: the recovery sheet was not made."))
            elif isinstance(error, KairanError):
                self.problem.setText(error.message)

        self.problem.clear()
        self.print_button.setEnabled(False)
        self.task = render_to_preview(
            self, self.tasks, render=write, title=_("Recovery sheet (復旧シート)"),
            suggested_name=file_name(name, SHEET_DOCUMENT, day), job_folder=self.job_folder,
            shown=shown, failed=failed)

    def reject(self) -> None:
        """Close, once the officer says the sheet is in the safe (or agrees to go on without
        it); never while the sheet is being made."""
        if self.task is not None:
            return
        if not self.kept.isChecked() and not messages.confirm(self, _(
                "Close without keeping a recovery sheet in the safe? The 12 words cannot be "
                "shown again. If every office PC were lost, the roster could not be received "
                "again. You can make a new sheet later (同期 → 新しい復旧シートを作る).")):
            return
        self.words = []
        for label in self.findChildren(QLabel):
            if label.objectName().startswith("word"):
                label.clear()
        super().reject()
