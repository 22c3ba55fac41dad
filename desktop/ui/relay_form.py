"""The relay's address, the pairing code, this PC's name and the CA certificate file, as one
widget: 「リレーに接続」 (:mod:`desktop.ui.pairing_dialog`) and the join wizard of a new PC
ask for them the same way."""

from __future__ import annotations

import socket

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import _

# The names a service may give ``KairanError.field`` for each of the form's fields.
RELAY_FIELDS = {
    "relay_url": "relay_url", "url": "relay_url",
    "code": "code", "pairing_code": "code",
    "device_name": "device_name",
    "ca_file": "ca_file",
}


class RelayForm(QWidget):
    """The relay's address, the one-time pairing code, this PC's name and (for a relay with
    its own certificate) the CA certificate file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.relay_url = QLineEdit()
        self.relay_url.setPlaceholderText("https://relay.example.jp")
        self.code = QLineEdit()
        self.code.setPlaceholderText(_("The code from the relay's administrator"))
        self.device_name = QLineEdit(socket.gethostname())
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText(_("Only for a relay with its own certificate"))
        self.browse = QPushButton(_("&Choose…"))
        self.browse.clicked.connect(self.choose_ca_file)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.browse)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow(_("Relay &address"), self.relay_url)
        self.form.addRow(_("&Pairing code"), self.code)
        self.form.addRow(_("&Name of this PC"), self.device_name)
        self.form.addRow(_("CA &certificate file"), ca_row)

    def choose_ca_file(self) -> None:
        """Pick the relay's CA certificate file (.pem)."""
        path, _filter = QFileDialog.getOpenFileName(
            self, _("CA certificate file"), "", _("Certificates (*.pem *.crt *.cer);;All (*)"))
        if path:
            self.ca_file.setText(path)

    def field_for(self, error: KairanError) -> QLineEdit | None:
        """The field ``error`` is about, or None when it is about none of this form's."""
        name = RELAY_FIELDS.get(error.field or "")
        fields = {"relay_url": self.relay_url, "code": self.code,
                  "device_name": self.device_name, "ca_file": self.ca_file}
        return fields.get(name) if name else None

    def focus_field(self, error: KairanError) -> None:
        """Put the cursor in the field ``error`` is about (the address when none is named)."""
        field = self.field_for(error) or self.relay_url
        field.setFocus()
        field.selectAll()

    def filled(self) -> bool:
        """Whether the address, the code and the PC's name are all typed."""
        return all(field.text().strip()
                   for field in (self.relay_url, self.code, self.device_name))
