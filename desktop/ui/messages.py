"""Message boxes in one place: the officer's language, plain words, and one seam for tests."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.i18n import _


def warn(parent: QWidget | None, text: str, *, title: str | None = None) -> None:
    """Tell the officer about a problem they can fix."""
    QMessageBox.warning(parent, title or _("Kairan"), text)


def inform(parent: QWidget | None, text: str, *, title: str | None = None) -> None:
    """Tell the officer something went well or needs noting."""
    QMessageBox.information(parent, title or _("Kairan"), text)


def confirm(parent: QWidget | None, text: str, *, title: str | None = None) -> bool:
    """Ask a yes/no question; No is the default, so Enter never destroys anything."""
    answer = QMessageBox.question(
        parent,
        title or _("Kairan"),
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
