"""Choosing a member (e.g. for a role): type part of a name, reading, number or address."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.members import MemberChoice
from desktop.i18n import _

Finder = Callable[[str], list[MemberChoice]]


class MemberPicker(QDialog):
    """A search field over members; Enter takes the highlighted one."""

    def __init__(self, parent: QWidget | None, *, title: str, find: Finder) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._find = find
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Name, furigana, household number or address"))
        self.search.textChanged.connect(self._refresh)
        self.search.installEventFilter(self)
        self.results = QListWidget()
        self.results.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("&Search:")))
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        layout.addWidget(buttons)
        self.resize(520, 420)
        self._refresh("")

    def _refresh(self, text: str) -> None:
        self.results.clear()
        for choice in self._find(text):
            group = f"・{choice.group_name}" if choice.group_name else ""
            label = (f"{choice.name}（{choice.furigana}）  {choice.relation}  "
                     f"No.{choice.household_number}{group}")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, choice.member_id.hex)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def chosen(self) -> uuid.UUID | None:
        """The member chosen, if any."""
        item = self.results.currentItem()
        return uuid.UUID(hex=item.data(Qt.ItemDataRole.UserRole)) if item else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up)):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
            self.results.setCurrentRow(row)
            return True
        return super().eventFilter(watched, event)
