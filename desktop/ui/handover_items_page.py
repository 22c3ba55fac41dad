"""Step 4 of the handover wizard: the circulars still awaiting answers, and the memos for the
successors (引継ぎメモ), written, edited and deleted here and saved as they are written."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.domain.errors import KairanError
from desktop.domain.handover_items import (
    MemoInfo,
    OpenCircular,
    add_memo,
    delete_memo,
    list_memos,
    update_memo,
)
from desktop.domain.roles import list_roles
from desktop.domain.wareki import format_wareki
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.handover_pages import Page

if TYPE_CHECKING:
    from desktop.ui.handover_wizard import HandoverWizard

__all__ = ["ItemsPage", "circular_line"]

_MEMO = Qt.ItemDataRole.UserRole


def circular_line(item: OpenCircular) -> str:
    """One circular awaiting answers, in a line."""
    groups = "、".join(f"{group.group_name or _('no 班')} {group.count}"
                      for group in item.by_group)
    deadline = (_("due {day}").format(day=format_wareki(item.deadline))
                if item.deadline else "")
    return _("「{title}」 ({day}): {answered} of {count} answered, {deadline}; not yet: "
             "{groups}").format(title=item.title, day=format_wareki(item.issued_on),
                                answered=item.answered, count=item.recipients,
                                deadline=deadline, groups=groups)


class ItemsPage(Page):
    """Circulars still awaiting answers, and the memos for the successors."""

    def __init__(self, owner: HandoverWizard) -> None:
        super().__init__(owner)
        self.setTitle(_("Open items and memos"))
        self.setSubTitle(_("What the new officers take on. Write a memo for each role: where "
                           "things are kept, who to call, what is still to do. Memos are "
                           "saved as you write them."))
        self.circulars = QListWidget()
        self.memos = QListWidget()
        self.memos.currentItemChanged.connect(lambda _new, _old: self._show_memo())
        self.role = QComboBox()
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(_("For example: the keys of the hall are with the 会長; "
                                       "the bank seal is kept by the 会計."))
        self.new = QPushButton(_("&New memo"))
        self.new.clicked.connect(self.new_memo)
        self.save = QPushButton(_("&Save memo"))
        self.save.clicked.connect(self.save_memo)
        self.delete = QPushButton(_("&Delete memo"))
        self.delete.clicked.connect(self.delete_memo)
        self.editing: uuid.UUID | None = None
        buttons = QHBoxLayout()
        for button in (self.new, self.save, self.delete):
            buttons.addWidget(button)
        buttons.addStretch(1)
        role_row = QFormLayout()
        role_row.addRow(_("Memo &for:"), self.role)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Circulars still awaiting answers:")))
        layout.addWidget(self.circulars, 1)
        layout.addWidget(QLabel(_("Memos for the successors:")))
        layout.addWidget(self.memos, 1)
        layout.addLayout(role_row)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)

    def initializePage(self) -> None:
        self.circulars.clear()
        for item in self.owner.plan.open_items.circulars:
            self.circulars.addItem(circular_line(item))
        if not self.owner.plan.open_items.circulars:
            self.circulars.addItem(_("No circular is awaiting answers."))
        self.role.clear()
        self.role.addItem(_("The whole office"), None)
        with self.owner.file.read() as session:
            for role in list_roles(session):
                self.role.addItem(role.name, role.id.hex)
        self.reload()

    def reload(self, select: uuid.UUID | None = None) -> None:
        """Read the memos again (``select``: the one to show)."""
        with self.owner.file.read() as session:
            memos = list_memos(session, year=self.owner.plan.new_year)
        self.memos.blockSignals(True)
        self.memos.clear()
        for memo in memos:
            first = memo.text.splitlines()[0] if memo.text else ""
            item = QListWidgetItem(f"【{memo.role_name or _('The whole office')}】 {first}")
            item.setData(_MEMO, memo)
            self.memos.addItem(item)
            if memo.id == select:
                self.memos.setCurrentItem(item)
        self.memos.blockSignals(False)
        self._show_memo()

    def current_memo(self) -> MemoInfo | None:
        """The memo selected in the list."""
        item = self.memos.currentItem()
        memo: MemoInfo | None = item.data(_MEMO) if item is not None else None
        return memo

    def _show_memo(self) -> None:
        memo = self.current_memo()
        self.editing = memo.id if memo is not None else None
        self.text.setPlainText(memo.text if memo is not None else "")
        role = memo.role_id.hex if memo is not None and memo.role_id is not None else None
        self.role.setCurrentIndex(max(0, self.role.findData(role)))
        self.delete.setEnabled(memo is not None)

    def new_memo(self) -> None:
        """Start a new memo (the one shown is left as saved)."""
        self.memos.blockSignals(True)
        self.memos.setCurrentRow(-1)
        self.memos.blockSignals(False)
        self.editing = None
        self.text.clear()
        self.delete.setEnabled(False)
        self.text.setFocus()

    def _role_id(self) -> uuid.UUID | None:
        data = self.role.currentData()
        return uuid.UUID(hex=data) if data else None

    def save_memo(self) -> bool:
        """Save the memo being written; returns whether it was saved."""
        try:
            with self.owner.file.write() as session:
                if self.editing is None:
                    memo_id = add_memo(session, year=self.owner.plan.new_year,
                                       role_id=self._role_id(), text=self.text.toPlainText(),
                                       written_by=self.owner.done_by)
                else:
                    memo_id = self.editing
                    update_memo(session, memo_id=memo_id, text=self.text.toPlainText(),
                                role_id=self._role_id(), written_by=self.owner.done_by)
        except KairanError as error:
            messages.warn(self, error.message)
            return False
        self.reload(select=memo_id)
        return True

    def delete_memo(self) -> None:
        """Delete the memo selected (after asking)."""
        memo = self.current_memo()
        if memo is None or not messages.confirm(self, _("Delete this memo?")):
            return
        try:
            with self.owner.file.write() as session:
                delete_memo(session, memo_id=memo.id)
        except KairanError as error:
            messages.warn(self, error.message)
        self.reload()

    def validatePage(self) -> bool:
        """A memo typed but not saved is saved on the way on, rather than lost."""
        memo = self.current_memo()
        typed = self.text.toPlainText().strip()
        unsaved = typed and (memo is None or typed != memo.text.strip()
                             or self._role_id() != memo.role_id)
        return self.save_memo() if unsaved else True
