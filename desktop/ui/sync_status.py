"""The status bar's word on sync: where things stand, always (オフライン・12件送信待ち,
同期済み 10:42, 同期中…, or what stops it).

:func:`status_text` is plain and tested on its own; :class:`SyncStatusLabel` shows it, with
the details (the relay, the last error) in its tooltip.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

from desktop.i18n import _
from sync.engine import Outcome, SyncStatus


def _when(moment: datetime, now: datetime) -> str:
    local = moment.astimezone(now.tzinfo)
    if local.date() == now.date():
        return f"{local:%H:%M}"
    return f"{local.month}/{local.day} {local:%H:%M}"


def status_text(status: SyncStatus, *, syncing: bool, now: datetime) -> str:
    """One short line for the status bar ("" when the file is not paired)."""
    if not status.paired:
        return ""
    parts: list[str] = []
    if syncing:
        parts.append(_("Syncing…"))
    elif status.outcome == Outcome.OFFLINE:
        parts.append(_("Offline"))
    elif status.outcome == Outcome.BUSY:
        parts.append(_("Relay busy, trying again soon"))
    elif status.outcome == Outcome.REFUSED or (status.outcome is None and status.error):
        parts.append(_("Sync stopped"))
    elif status.synced_at is not None:
        parts.append(_("Synced {time}").format(time=_when(status.synced_at, now)))
    else:
        parts.append(_("Not synced yet"))
    if status.pending:
        parts.append(_("{count} waiting to be sent").format(count=status.pending))
    if status.rejected:
        parts.append(_("{count} sync problems").format(count=status.rejected))
    return "・".join(parts)


def status_details(status: SyncStatus, *, now: datetime) -> str:
    """The tooltip: the relay, the last complete sync, and the last problem in full."""
    if not status.paired:
        return ""
    lines = [_("Relay: {url}").format(url=status.relay_url)]
    if status.synced_at is not None:
        lines.append(_("Last synced: {time}").format(time=_when(status.synced_at, now)))
    if status.error:
        lines.append(status.error)
    return "\n".join(lines)


class SyncStatusLabel(QLabel):
    """The permanent status-bar widget; a click asks for the sync problems when there are."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync_status")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

    def show_status(self, status: SyncStatus, *, syncing: bool, now: datetime) -> None:
        """Show where sync stands (hidden for a file that is not paired)."""
        self.setText(status_text(status, syncing=syncing, now=now))
        self.setToolTip(status_details(status, now=now))
        self.setVisible(status.paired)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)
