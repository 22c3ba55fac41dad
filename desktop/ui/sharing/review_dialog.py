"""「確認が必要な変更」: where two office PCs changed the same thing before they synced, what
was kept and what was lost, so an officer can look and decide.

Each row says what happened in plain words, the value kept and the value lost, and which PC
made the change. 「このままにする」 accepts what was kept; 「元に戻す」 (only where it makes
sense) brings the lost value back. Decisions are written to the file at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.sharing.common import enlarge, heading, paragraph, problem_label

if TYPE_CHECKING:
    from sync.replica.service import ReviewItem

WHAT, WHERE, KEPT, LOST, BY = range(5)
_ID = Qt.ItemDataRole.UserRole

KINDS: dict[str, str] = {
    "overwritten": N_("Changed on two PCs; one change replaced the other"),
    "deleted_edit": N_("Deleted on one PC while changed on another"),
    "edit_after_delete": N_("Changed on one PC after it was deleted on another"),
    "role_twice": N_("The same role was given to two people"),
    "duplicate_value": N_("The same number was used twice"),
}
RESTORABLE = frozenset({"overwritten", "deleted_edit", "edit_after_delete"})
KEEP, RESTORE = "keep", "restore"


def describe_kind(kind: str) -> str:
    """What happened, in the officer's words."""
    template = KINDS.get(kind)
    return _(template) if template is not None else kind


class ReviewDialog(QDialog):
    """The changes to check, and 「このままにする」 / 「元に戻す」 for the one selected."""

    changed = Signal()  # a decision was written (the window reads the roster again)

    def __init__(self, parent: QWidget | None, association_file: AssociationFile) -> None:
        super().__init__(parent)
        self.file = association_file
        self.items: list[ReviewItem] = []
        self.setWindowTitle(_("Changes to check"))
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [_("What happened"), _("Where"), _("Kept now"), _("Lost"), _("Changed on PC")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        enlarge(self.table, 1.1)
        header = self.table.horizontalHeader()
        for column in (WHAT, WHERE, KEPT, LOST):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(BY, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.keep_button = QPushButton(_("&Keep it as it is"))
        self.keep_button.clicked.connect(lambda: self.decide(KEEP))
        self.restore_button = QPushButton(_("&Bring back what was lost"))
        self.restore_button.clicked.connect(lambda: self.decide(RESTORE))
        for button in (self.keep_button, self.restore_button):
            enlarge(button, 1.1, bold=True)
        self.problem = problem_label()
        row = QHBoxLayout()
        row.addWidget(self.keep_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("&Close"))
        buttons.rejected.connect(self.reject)
        self.empty = paragraph(_("There is nothing to check."))
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Changes made on two PCs at once")))
        layout.addWidget(paragraph(_(
            "These things were changed on two office PCs before they synced. Kairan kept "
            "one change; look at what was lost and decide.")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 64, em * 28)
        self.refresh()

    def refresh(self) -> None:
        """Read the changes to check from the file."""
        from sync.replica import service

        with self.file.read() as session:
            self.items = list(service.review_items(session))
        self.table.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            where = " · ".join(part for part in (item.row_label, item.field_label) if part)
            cells = (describe_kind(item.kind), where, item.kept or _("(empty)"),
                     item.lost or _("(empty)"), item.by_device)
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(_ID, item.id.hex)
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        self.empty.setVisible(not self.items)
        if self.items:
            self.table.selectRow(0)
        self._selection_changed()

    def rows(self) -> list[tuple[str, ...]]:
        """The table's texts, row by row."""
        def text(row: int, column: int) -> str:
            cell = self.table.item(row, column)
            return cell.text() if cell is not None else ""

        return [tuple(text(row, column) for column in range(self.table.columnCount()))
                for row in range(self.table.rowCount())]

    def selected(self) -> ReviewItem | None:
        """The change selected in the table, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.items):
            return None
        return self.items[rows[0].row()]

    def _selection_changed(self) -> None:
        item = self.selected()
        self.keep_button.setEnabled(item is not None)
        self.restore_button.setEnabled(item is not None and item.kind in RESTORABLE)

    def decide(self, choice: str) -> None:
        """Write the officer's decision about the selected change (「元に戻す」 after asking)."""
        item = self.selected()
        if item is None or (choice == RESTORE and item.kind not in RESTORABLE):
            return
        if choice == RESTORE and not messages.confirm(self, _(
                "Bring back 「{lost}」 in place of 「{kept}」 ({where})? The change is sent "
                "to the other office PCs too.").format(
                    lost=item.lost or _("(empty)"), kept=item.kept or _("(empty)"),
                    where=" · ".join(p for p in (item.row_label, item.field_label) if p))):
            return
        from sync.replica import service

        self.problem.clear()
        try:
            with self.file.write() as session:
                service.decide_review(session, review_id=item.id, choice=choice)
        except KairanError as error:
            self.problem.setText(error.message)
            return
        self.refresh()
        self.changed.emit()
