"""Connecting this association file to a relay (リレーに接続): once, with the relay's
address and the one-time pairing code from its administrator.

The code is exchanged on a worker thread (with progress and without freezing the window);
the device token goes into the OS keyring only. A problem (no keyring, a mistyped code, an
untrusted certificate) is said in the dialog, next to the field to fix, and the code is not
used up by a check that fails before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui.relay_form import RelayForm
from desktop.ui.tasks import Task, TaskContext, TaskRunner
from sync import pairing

_BAD = "#b00020"


class PairingDialog(QDialog):
    """The relay's address, the pairing code, this PC's name and (for a self-hosted relay)
    its CA certificate file."""

    paired = Signal(object)  # pairing.PairingResult

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.today = today
        self.task: Task[pairing.PairingResult] | None = None
        self.result_: pairing.PairingResult | None = None
        self.setWindowTitle(_("Connect to the relay"))
        self.form = RelayForm()
        # The fields by name, as the tests and _show_problem reach them.
        self.relay_url, self.code = self.form.relay_url, self.form.code
        self.device_name, self.ca_file = self.form.device_name, self.form.ca_file
        intro = QLabel(_("Residents' phones reach the association through the relay. Only "
                         "what residents must see leaves this PC: circulars and the "
                         "households' numbers and names, never addresses or phone numbers."))
        intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {_BAD}")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("&Connect"))
        self.buttons.accepted.connect(self.connect_relay)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 36, self.sizeHint().height())
        self.relay_url.setFocus()

    def _show_problem(self, error: KairanError) -> None:
        self.problem.setText(error.message)
        self.form.focus_field(error)

    def connect_relay(self) -> None:
        """Pair in the background; the dialog closes once the file is connected."""
        if self.task is not None:
            return
        store, today = self.file, self.today()
        relay_url, code = self.relay_url.text(), self.code.text()
        device, ca_file = self.device_name.text(), self.ca_file.text().strip()

        def work(_context: TaskContext) -> pairing.PairingResult:
            return pairing.pair(store, relay_url=relay_url, code=code, device_name=device,
                                ca_file=ca_file, today=today)

        def done(result: pairing.PairingResult) -> None:
            self.task = None
            self.result_ = result
            self._enable(True)
            self.accept()
            self.paired.emit(result)

        def failed(error: BaseException) -> None:
            self.task = None
            self._enable(True)
            if not isinstance(error, KairanError):
                raise error
            self._show_problem(error)

        self.problem.clear()
        self._enable(False)
        self.task = self.tasks.run(work, parent=self, title=_("Connecting to the relay…"),
                                   on_success=done, on_failure=failed, cancellable=False)

    def _enable(self, on: bool) -> None:
        for widget in (self.relay_url, self.code, self.device_name, self.ca_file,
                       self.buttons):
            widget.setEnabled(on)

    def reject(self) -> None:
        """Close, but not while the code is being exchanged."""
        if self.task is None:
            super().reject()
