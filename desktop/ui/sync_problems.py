"""同期の問題: the changes the relay refused, in plain words, with what it said.

A refused change never blocks the others; it waits here until the officer sends it again
(after fixing the cause: the household it names reached the relay meanwhile, a newer relay
was installed…) or gives it up.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlmodel import Session

from desktop.domain.errors import KairanError
from desktop.domain.models import Circular, Household
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from sync import outbox
from sync.protocol import LogKind, OpKind

_ID = Qt.ItemDataRole.UserRole


def _item(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None  # every cell is filled when a row is made
    return item


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _household(session: Session, body: Mapping[str, object]) -> str:
    household_id = _uuid(body.get("household_id"))
    household = session.get(Household, household_id) if household_id is not None else None
    if household is not None:
        return f"{household.number} {household.display_name}"
    if "number" in body:
        return f"{body.get('number', '')} {body.get('display_name', '')}".strip()
    return _("a household no longer in this file")


def _circular(session: Session, body: Mapping[str, object]) -> str:
    circular_id = _uuid(body.get("circular_id"))
    circular = session.get(Circular, circular_id) if circular_id is not None else None
    if circular is not None:
        return circular.title
    return str(body.get("title") or _("a circular no longer in this file"))


_WHAT: dict[str, str] = {
    OpKind.HOUSEHOLD_UPSERT: N_("Household {who}"),
    OpKind.HOUSEHOLD_PURGE: N_("Removal of household {who}"),
    OpKind.CIRCULAR_PUBLISH: N_("Circular 「{title}」"),
    OpKind.CIRCULAR_RETRACT: N_("Withdrawal of circular 「{title}」"),
    OpKind.ANSWER_RECORD: N_("Answer of {who} to 「{title}」"),
    OpKind.INVITATION_ISSUE: N_("Invitation of household {who}"),
    OpKind.INVITATION_REVOKE: N_("Invitation of household {who}"),
    LogKind.MEETING_ANSWER: N_("Online meeting form of household {who}"),
    OpKind.SAFETY_RECORD: N_("Safety answer of household {who}"),
    OpKind.ASSOCIATION_PROFILE: N_("The association's purpose statement"),
}


def describe(session: Session, kind: str, body: Mapping[str, object]) -> str:
    """What a queued change was, in the officer's words."""
    if kind == OpKind.DISASTER_SET:
        return _("Disaster mode on") if body.get("on") else _("Disaster mode off")
    template = _WHAT.get(kind)
    if template is None:
        return kind
    who = _household(session, body) if "{who}" in template else ""
    title = _circular(session, body) if "{title}" in template else ""
    return _(template).format(who=who, title=title)


class SyncProblemsDialog(QDialog):
    """The refused changes: when, what, why; send again or give up."""

    changed = Signal()

    def __init__(self, parent: QWidget | None, association_file: AssociationFile) -> None:
        super().__init__(parent)
        self.file = association_file
        self.setWindowTitle(_("Sync problems"))
        intro = QLabel(_("The relay refused these changes. Everything else was sent. Fix the "
                         "cause and send a change again, or give it up."))
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([_("Made"), _("Change"), _("What the relay said")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.retry_button = QPushButton(_("&Send again"))
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button = QPushButton(_("&Give up…"))
        self.discard_button.clicked.connect(self.discard_selected)
        actions = QHBoxLayout()
        actions.addWidget(self.retry_button)
        actions.addWidget(self.discard_button)
        actions.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 60, em * 28)
        self.refresh()

    def refresh(self) -> None:
        """Read the refused changes again."""
        with self.file.read() as session:
            rows = [(problem.id, problem.created_at,
                     describe(session, problem.kind, problem.body),
                     problem.error_message or problem.error_code)
                    for problem in outbox.problems(session)]
        self.table.setRowCount(len(rows))
        for row, (op_id, made, what, why) in enumerate(rows):
            when = QTableWidgetItem(f"{made.astimezone():%Y-%m-%d %H:%M}")
            when.setData(_ID, op_id.hex)
            self.table.setItem(row, 0, when)
            self.table.setItem(row, 1, QTableWidgetItem(what))
            self.table.setItem(row, 2, QTableWidgetItem(why))
        if rows:
            self.table.selectRow(0)
        for button in (self.retry_button, self.discard_button):
            button.setEnabled(bool(rows))

    def problem_texts(self) -> list[tuple[str, str]]:
        """(change, what the relay said) of every row, as shown."""
        return [(_item(self.table, row, 1).text(), _item(self.table, row, 2).text())
                for row in range(self.table.rowCount())]

    def _selected(self) -> list[uuid.UUID]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [uuid.UUID(hex=_item(self.table, row, 0).data(_ID)) for row in rows]

    def retry_selected(self) -> None:
        """Queue the selected changes again (they go at the end, with new ids)."""
        chosen = self._selected()
        if not chosen:
            return
        try:
            with self.file.write() as session:
                for op_id in chosen:
                    outbox.retry_problem(session, op_id=op_id)
        except KairanError as problem:
            messages.warn(self, problem.message)
        self.refresh()
        self.changed.emit()

    def discard_selected(self) -> None:
        """Give up the selected changes, after asking."""
        chosen = self._selected()
        if not chosen or not messages.confirm(self, _(
                "Give up {count} change(s)? They will never reach the relay.").format(
                    count=len(chosen))):
            return
        with self.file.write() as session:
            for op_id in chosen:
                outbox.discard_problem(session, op_id=op_id)
        self.refresh()
        self.changed.emit()
