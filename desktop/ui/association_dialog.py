"""The association's settings: its name, the purpose statement (個人情報の利用目的) residents
see on their page and on every form they hand back, and how long withdrawn households are kept.

A standard wording of the purpose statement is one click away, to adapt rather than to write
from nothing. The retention period is in months; 「Keep」 (the lowest value) means withdrawn
households stay until deleted by hand.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import association
from desktop.domain.association import MAX_PURPOSE_LENGTH, MAX_RETENTION_MONTHS
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages

KEEP = 0  # the spin box's lowest value stands for "no retention period"


def standard_purpose() -> str:
    """A common wording of the purpose statement, for the officer to adapt."""
    return _("We use the personal data you give us only to run the association: to deliver "
             "circulars and notices, keep the roster and dues, run general meetings, and "
             "check on residents' safety in a disaster. We do not give it to anyone else "
             "without your consent, except where the law requires it.")


class AssociationDialog(QDialog):
    """Edit the name, purpose statement and retention period; saved together on OK."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile) -> None:
        super().__init__(parent)
        self.file = association_file
        self.saved = False
        with association_file.read() as session:
            self.initial = association.get_association(session)
        self.setWindowTitle(_("Association settings"))

        self.name = QLineEdit(self.initial.name)
        self.purpose = QPlainTextEdit(self.initial.purpose_statement)
        self.purpose.setTabChangesFocus(True)
        self.purpose.setPlaceholderText(_("For example: {text}").format(text=standard_purpose()))
        self.purpose.textChanged.connect(self._count)
        self.standard = QPushButton(_("Use the &standard wording"))
        self.standard.clicked.connect(self.use_standard)
        self.count = QLabel()
        purpose_help = QLabel(_("Why the association keeps personal data (利用目的). Residents "
                                "see it on their page, and it is printed small on every reply "
                                "slip and meeting form."))
        purpose_help.setWordWrap(True)

        self.retention = QSpinBox()
        self.retention.setRange(KEEP, MAX_RETENTION_MONTHS)
        self.retention.setSpecialValueText(_("Keep (no purge)"))
        self.retention.setSuffix(_(" months"))
        self.retention.setValue(self.initial.retention_months or KEEP)
        retention_help = QLabel(_("Months a withdrawn household is kept after it left. After "
                                  "that, 「Purge withdrawn households」 lists it for deletion "
                                  "(you confirm first). For example, 36 months is 3 years."))
        retention_help.setWordWrap(True)

        form = QFormLayout()
        form.addRow(_("&Name:"), self.name)
        form.addRow(_("&Purpose statement:"), self.purpose)
        form.addRow("", self.count)
        form.addRow("", self.standard)
        form.addRow("", purpose_help)
        form.addRow(_("&Retention after withdrawal:"), self.retention)
        form.addRow("", retention_help)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(560, 440)
        self._count()
        self.name.setFocus()

    def use_standard(self) -> None:
        """Put the standard wording in, to adapt."""
        self.purpose.setPlainText(standard_purpose())
        self.purpose.setFocus()

    def _count(self) -> None:
        length = len(self.purpose.toPlainText().strip())
        self.count.setText(_("{count} of {limit} characters").format(
            count=length, limit=MAX_PURPOSE_LENGTH))
        self.count.setStyleSheet("color: #b00020;" if length > MAX_PURPOSE_LENGTH else "")

    def retention_months(self) -> int | None:
        """The period chosen; None to keep withdrawn households."""
        value = self.retention.value()
        return None if value == KEEP else value

    def accept(self) -> None:
        """Save all three together; a value that cannot be kept says why and keeps the dialog
        open at that field."""
        try:
            with self.file.write() as session:
                association.update_settings(
                    session, name=self.name.text(), purpose_statement=self.purpose.toPlainText(),
                    retention_months=self.retention_months())
        except KairanError as error:
            messages.warn(self, error.message, title=_("Cannot save"))
            field = {"name": self.name, "purpose_statement": self.purpose,
                     "retention_months": self.retention}.get(error.field or "")
            if field is not None:
                field.setFocus()
            return
        self.saved = True
        super().accept()
