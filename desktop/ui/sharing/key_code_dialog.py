"""「別のPCを追加（鍵コードを表示）」: the key code (鍵コード) the new PC types, shown big, with
the minutes it stays valid counting down.

The code is asked for from the relay in the background when the dialog opens; after 15
minutes it no longer works, and 「新しい鍵コードを表示」 asks for another.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui.sharing.common import enlarge, heading, paragraph, problem_label
from desktop.ui.tasks import Task, TaskCancelled, TaskContext, TaskRunner

VALID_SECONDS = 15 * 60
CODE_SCALE = 3.0
TICK_MS = 1000


class KeyCodeDialog(QDialog):
    """The key code in large letters, the time left, and how to use it on the new PC."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.clock = clock
        self.task: Task[str] | None = None
        self.expires_at: float | None = None
        self.setWindowTitle(_("Add another PC"))
        self.code = QLabel("―――――-―――――")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(self.font().pointSizeF() * CODE_SCALE)
        font.setBold(True)
        self.code.setFont(font)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.left = QLabel()
        self.left.setAlignment(Qt.AlignmentFlag.AlignCenter)
        enlarge(self.left, 1.3, bold=True)
        self.problem = problem_label()
        self.again_button = QPushButton(_("Show a &new key code"))
        self.again_button.clicked.connect(self.ask_code)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("&Close"))
        self.buttons.rejected.connect(self.reject)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Key code (鍵コード) for the new PC")))
        layout.addWidget(self.code)
        layout.addWidget(self.left)
        layout.addWidget(paragraph(_(
            "On the new PC:\n"
            "1. Start Kairan and choose 別のPCの名簿を受け取る (on a PC with a file open: 同期 → "
            "別のPCの名簿を受け取る).\n"
            "2. Type the relay's address and a pairing code from the relay's administrator.\n"
            "3. Choose 「鍵コード」 and type the code above.")))
        layout.addWidget(paragraph(_(
            "The key code opens the roster. Tell it to no one: type it on the new PC "
            "yourself, or read it out only to the officer sitting at it."), warning=True))
        layout.addWidget(self.problem)
        layout.addWidget(self.again_button)
        layout.addWidget(self.buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 40, self.sizeHint().height())
        self.ask_code()

    def ask_code(self) -> None:
        """Ask the relay for a new key code in the background."""
        if self.task is not None:
            return
        store = self.file

        def work(_context: TaskContext) -> str:
            from sync.replica import service

            return service.offer_key(store)

        def done(code: str) -> None:
            self.task = None
            self.show_code(code)

        def failed(error: BaseException) -> None:
            self.task = None
            self.again_button.setEnabled(True)
            if isinstance(error, TaskCancelled):
                self.left.setText(_("No key code was made."))
            elif isinstance(error, KairanError):
                self.problem.setText(error.message)
                self.left.setText(_("No key code was made."))
            else:
                raise error

        self.problem.clear()
        self.again_button.setEnabled(False)
        self.left.setText(_("Asking the relay for a key code…"))
        self.task = self.tasks.run(work, parent=self, title=_("Making a key code…"),
                                   on_success=done, on_failure=failed)

    def show_code(self, code: str) -> None:
        """Show ``code``, valid for :data:`VALID_SECONDS` from now."""
        self.code.setText(code)
        self.code.setEnabled(True)
        self.expires_at = self.clock() + VALID_SECONDS
        self.again_button.setEnabled(True)
        self.timer.start()
        self.tick()

    def seconds_left(self) -> int:
        """Whole seconds the code shown still works (0 when none is shown or it expired)."""
        if self.expires_at is None:
            return 0
        return max(0, int(self.expires_at - self.clock() + 0.999))

    def tick(self) -> None:
        """Count down; once the code has expired, say so and grey it out."""
        left = self.seconds_left()
        if left <= 0:
            self.timer.stop()
            self.code.setEnabled(False)
            self.left.setText(_("This key code no longer works. Press 「新しい鍵コードを表示」 "
                                "for a new one."))
            return
        minutes, seconds = divmod(left, 60)
        self.left.setText(_("Valid for {minutes} min {seconds} s more").format(
            minutes=minutes, seconds=f"{seconds:02d}"))

    def reject(self) -> None:
        """Close (the code still works on the relay until it expires)."""
        if self.task is not None:
            return
        self.timer.stop()
        super().reject()
