"""The 回覧板 route of one 班: the order the board goes from house to house.

Keyboard-first: Ctrl+Up / Ctrl+Down move the selected household; dragging works too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.households import RouteStop
from desktop.domain.labels import channel_label
from desktop.i18n import _

_ID = Qt.ItemDataRole.UserRole


class RouteDialog(QDialog):
    """Reorder the households of a 班."""

    def __init__(self, parent: QWidget | None, *, han_name: str,
                 stops: Sequence[RouteStop]) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Circulation order of {han}").format(han=han_name))
        self.stops = QListWidget()
        self.stops.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        for stop in stops:
            item = QListWidgetItem(
                f"{stop.number}  {stop.display_name}  ({channel_label(stop.channel)})")
            item.setData(_ID, stop.household_id.hex)
            self.stops.addItem(item)
        if stops:
            self.stops.setCurrentRow(0)
        up = QPushButton(_("Move &up"))
        up.clicked.connect(lambda: self.move_selected(-1))
        down = QPushButton(_("Move &down"))
        down.clicked.connect(lambda: self.move_selected(1))
        QShortcut(QKeySequence("Ctrl+Up"), self).activated.connect(lambda: self.move_selected(-1))
        QShortcut(QKeySequence("Ctrl+Down"), self).activated.connect(lambda: self.move_selected(1))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        side.addWidget(up)
        side.addWidget(down)
        side.addStretch()
        body = QHBoxLayout()
        body.addWidget(self.stops, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("The 回覧板 goes from the top to the bottom "
                                  "(Ctrl+Up / Ctrl+Down to move).")))
        layout.addLayout(body)
        layout.addWidget(buttons)
        self.resize(460, 520)

    def move_selected(self, step: int) -> None:
        """Move the selected household up (-1) or down (+1)."""
        row = self.stops.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.stops.count():
            return
        item = self.stops.takeItem(row)
        self.stops.insertItem(target, item)
        self.stops.setCurrentRow(target)

    def order(self) -> list[uuid.UUID]:
        """The households in the order shown."""
        return [uuid.UUID(hex=self.stops.item(row).data(_ID))
                for row in range(self.stops.count())]
