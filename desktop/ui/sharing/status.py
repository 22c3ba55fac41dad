"""The sharing part of the status bar: the changes waiting to be checked, a PC clock that is
wrong, and an office PC that needs a newer Kairan. Hidden when there is nothing to say."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

from desktop.i18n import _
from desktop.ui.sharing.common import BAD

if TYPE_CHECKING:
    from sync.replica.service import SharingInfo


def status_parts(info: SharingInfo | None) -> list[str]:
    """The short texts the status bar shows for ``info`` (none when sharing is off)."""
    if info is None or not info.enabled:
        return []
    parts = []
    if info.review_count:
        parts.append(_("Changes to check: {count}").format(count=info.review_count))
    parts += [text for text in (info.clock_warning, info.update_needed) if text]
    return parts


class SharingStatusLabel(QLabel):
    """The permanent status-bar widget; a click opens what it is about."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sharing_status")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setStyleSheet(f"color: {BAD}; font-weight: bold;")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.hide()

    def show_info(self, info: SharingInfo | None) -> None:
        """Show the warnings and the count of changes to check (hidden when none)."""
        parts = status_parts(info)
        self.setText(" · ".join(parts))
        self.setToolTip("\n".join(parts))
        self.setVisible(bool(parts))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)
