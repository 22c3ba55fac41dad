"""Read/unread on the app for a sent circular (既読状況): per 班, which app households have
read it and when, with 「未読の世帯に再送」 for the rest.

Opened from the circulars tab; reads the markers the last sync brought in (a sync while it
is open does not refresh it: 「更新」 reads them again).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.circulars import get_circular
from desktop.domain.errors import KairanError
from desktop.domain.read_status import GroupReads, read_status, resend_to_unread
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages

__all__ = ["ReadStatusDialog"]


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%m/%d %H:%M")


class ReadStatusDialog(QDialog):
    """Who has read a sent circular on the app, per 班, and the re-send button."""

    resent = Signal(int)  # how many unread households the circular was published again for

    def __init__(self, parent: QWidget | None, association_file: AssociationFile, *,
                 circular_id: uuid.UUID) -> None:
        super().__init__(parent)
        self.file = association_file
        self.circular_id = circular_id
        with association_file.read() as session:
            title = get_circular(session, circular_id=circular_id).data.title
            read_status(session, circular_id=circular_id)  # a draft: refused before showing
        self.setWindowTitle(_("Read on the app — {title}").format(title=title))
        self.summary = QLabel()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([_("Household"), _("Name"), _("Read")])
        self.tree.setRootIsDecorated(True)
        self.resend_button = QPushButton(_("&Re-send to unread households"))
        self.resend_button.clicked.connect(self.resend)
        self.refresh_button = QPushButton(_("Re&fresh"))
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.resend_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 36, em * 30)
        self.refresh()

    def refresh(self) -> None:
        """Read the markers again and show them."""
        with self.file.read() as session:
            groups = read_status(session, circular_id=self.circular_id)
        self._show(groups)

    def _show(self, groups: list[GroupReads]) -> None:
        self.tree.clear()
        for group in groups:
            parent = QTreeWidgetItem([group.group_name or _("No 班"), "",
                                      _("{read} read, {unread} unread").format(
                                          read=group.read, unread=group.unread)])
            for household in group.households:
                read = _when(household.read_at) if household.read_at else _("Unread")
                item = QTreeWidgetItem([household.number, household.display_name, read])
                item.setData(0, Qt.ItemDataRole.UserRole, household.household_id.hex)
                parent.addChild(item)
            self.tree.addTopLevelItem(parent)
            parent.setExpanded(group.unread > 0)  # where there is something to follow up
        read_count = sum(group.read for group in groups)
        unread = sum(group.unread for group in groups)
        if not groups:
            self.summary.setText(_("No household receives this circular on the app."))
        else:
            self.summary.setText(_("Read on the app: {read} households; not yet: {unread}.")
                                 .format(read=read_count, unread=unread))
        self.resend_button.setEnabled(unread > 0)
        for column in range(3):
            self.tree.resizeColumnToContents(column)

    def listed(self) -> dict[str, list[tuple[str, bool]]]:
        """Per 班 as shown: (household number, read) in order."""
        shown: dict[str, list[tuple[str, bool]]] = {}
        for index in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(index)
            assert parent is not None
            children = [parent.child(row) for row in range(parent.childCount())]
            shown[parent.text(0)] = [(child.text(0), child.text(2) != _("Unread"))
                                     for child in children if child is not None]
        return shown

    def resend(self) -> int:
        """Publish the circular again for the unread app households (after asking)."""
        with self.file.read() as session:
            unread = sum(group.unread for group in read_status(
                session, circular_id=self.circular_id))
        if not unread or not messages.confirm(self, _(
                "Send this circular again to the {count} households that have not read it on "
                "the app?").format(count=unread)):
            return 0
        try:
            with self.file.write() as session:
                count = resend_to_unread(session, circular_id=self.circular_id)
        except KairanError as error:
            messages.warn(self, error.message)
            return 0
        self.resent.emit(count)
        messages.inform(self, _("It goes again to {count} households with the next sync.")
                        .format(count=count))
        return count
