"""What the sharing dialogs share: large, plain text for elderly officers, and dates in
和暦 with the 西暦 beside them."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from desktop.domain.wareki import format_dual
from desktop.i18n import _

BAD = "#b00020"  # the app's colour for a problem the officer must read
HEADING_SCALE = 1.3
BODY_SCALE = 1.1


def enlarge(widget: QWidget, scale: float, *, bold: bool = False) -> None:
    """Make ``widget``'s text ``scale`` times the application's size (and bold)."""
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(bold)
    widget.setFont(font)


def heading(text: str) -> QLabel:
    """A large, bold line that says what the dialog is for."""
    label = QLabel(text)
    label.setWordWrap(True)
    enlarge(label, HEADING_SCALE, bold=True)
    return label


def paragraph(text: str, *, warning: bool = False) -> QLabel:
    """A wrapped paragraph, a little larger than the rest; red and bold for a warning."""
    label = QLabel(text)
    label.setWordWrap(True)
    enlarge(label, BODY_SCALE, bold=warning)
    if warning:
        label.setStyleSheet(f"color: {BAD}")
    return label


def problem_label() -> QLabel:
    """The red line where a dialog says what went wrong, next to what to fix."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {BAD}")
    enlarge(label, BODY_SCALE, bold=True)
    return label


def format_moment(moment: datetime | None) -> str:
    """「令和8年6月1日 (2026-06-01) 14:05」 in this PC's time zone; 「まだありません」 for None."""
    if moment is None:
        return _("Not yet")
    local = moment.astimezone()
    return f"{format_dual(local.date())} {local:%H:%M}"
