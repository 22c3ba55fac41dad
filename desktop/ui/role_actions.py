"""What the officer does on the role board: assign and remove holders, add, rename and
delete roles, mark a role required, and choose the roles one person may not hold together."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import members, roles
from desktop.domain.errors import KairanError
from desktop.domain.ids import uuid7
from desktop.domain.models import RoleScope
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.member_picker import MemberPicker
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


class ConflictsDialog(QDialog):
    """Tick the roles the holder of one role may not hold too."""

    def __init__(self, parent: QWidget | None, role: roles.RoleInfo,
                 others: Sequence[roles.RoleInfo], ticked: Sequence[uuid.UUID]) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Not together with {role}").format(role=role.name))
        self.roles = QListWidget()
        for other in others:
            item = QListWidgetItem(other.name)
            item.setData(Qt.ItemDataRole.UserRole, other.id.hex)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if other.id in ticked
                               else Qt.CheckState.Unchecked)
            self.roles.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        note = QLabel(_("One person may not hold {role} together with the roles ticked. The "
                        "handover wizard flags such a choice.").format(role=role.name))
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.roles)
        layout.addWidget(buttons)

    def ticked(self) -> list[uuid.UUID]:
        """The roles ticked."""
        return [uuid.UUID(hex=item.data(Qt.ItemDataRole.UserRole))
                for index in range(self.roles.count())
                if (item := self.roles.item(index)).checkState() == Qt.CheckState.Checked]


class RoleActions(WindowActions):
    """The role commands of the main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.conflicts_dialog: ConflictsDialog | None = None
        window.role_board.required_requested.connect(self.toggle_required)
        window.role_board.conflicts_requested.connect(self.edit_conflicts)

    def unassign_selected(self) -> None:
        self.window.tabs.setCurrentWidget(self.window.role_board)
        self.window.role_board.unassign_selected()

    def _selected_role(self) -> roles.RoleInfo | None:
        self.window.tabs.setCurrentWidget(self.window.role_board)
        slot = self.window.role_board.selected_slot()
        if slot is None:
            messages.warn(self.window, _("Choose a role on the role board first."))
            return None
        with self.file.read() as session:
            return next((r for r in roles.list_roles(session) if r.id == slot.role_id), None)

    def rename_role(self) -> None:
        """Rename the selected role or change how many may hold it."""
        role = self._selected_role()
        if role is None:
            return
        name, ok = QInputDialog.getText(
            self.window, _("Rename role"), _("New name:"), text=role.name
        )
        if ok:
            self.editor.apply(
                _("Rename {role}").format(role=role.name),
                lambda s: roles.update_role(
                    s, role_id=role.id, name=name, max_holders=role.max_holders
                ),
                lambda s: roles.update_role(
                    s, role_id=role.id, name=role.name, max_holders=role.max_holders
                ),
            )

    def delete_role(self) -> None:
        """Delete the selected role if nobody ever held it."""
        role = self._selected_role()
        if role is None or not messages.confirm(
            self.window, _("Delete the role {role}?").format(role=role.name)
        ):
            return
        try:
            with self.file.write() as session:
                roles.delete_role(session, role_id=role.id)
        except KairanError as error:
            messages.warn(self.window, error.message)
        self.window.load_role_board()

    def assign_selected(self) -> None:
        self.window.tabs.setCurrentWidget(self.window.role_board)
        self.window.role_board.assign_selected()

    def assign_role(self, slot: roles.RoleSlot) -> None:
        """Pick a member for a role slot in the year shown."""
        year = self.window.role_board.current_year()
        where = f"{slot.role_name}（{slot.group_name}）" if slot.group_name else slot.role_name

        def find(text: str) -> list[members.MemberChoice]:
            with self.file.read() as session:
                return members.find_members(session, text=text)

        picker = MemberPicker(
            self.window, title=_("Who holds {role}?").format(role=where), find=find
        )
        if not picker.exec():
            return
        member_id = picker.chosen()
        if member_id is None:
            return
        assignment_id = uuid7()
        self.editor.apply(
            _("Assign {role}").format(role=where),
            lambda s: roles.assign_role(
                s,
                role_id=slot.role_id,
                year=year,
                member_id=member_id,
                group_id=slot.group_id,
                assignment_id=assignment_id,
            ),
            lambda s: roles.unassign_role(s, assignment_id=assignment_id),
        )

    def unassign_role(self, assignment_id: uuid.UUID) -> None:
        """Remove a holder from a role (undo puts them back)."""
        with self.file.read() as session:
            removed = next(
                (
                    roles.Assignment(
                        h.assignment_id,
                        slot.role_id,
                        self.window.role_board.current_year(),
                        h.member_id,
                        slot.group_id,
                    )
                    for slot in roles.role_board(
                        session, year=self.window.role_board.current_year()
                    )
                    for h in slot.holders
                    if h.assignment_id == assignment_id
                ),
                None,
            )
        if removed is None:
            return
        self.editor.apply(
            _("Remove role holder"),
            lambda s: roles.unassign_role(s, assignment_id=assignment_id),
            lambda s: roles.assign_role(
                s,
                role_id=removed.role_id,
                year=removed.year,
                member_id=removed.member_id,
                group_id=removed.group_id,
                assignment_id=removed.id,
            ),
        )

    def add_role(self) -> None:
        """Add a role to the association's list."""
        name, ok = QInputDialog.getText(self.window, _("Add a role"), _("Name of the role:"))
        if not ok:
            return
        scopes = [_("Whole association"), _("Each 班")]
        scope_name, ok = QInputDialog.getItem(
            self.window, _("Add a role"), _("Held for:"), scopes, 0, False
        )
        if not ok:
            return
        scope = RoleScope.ASSOCIATION if scope_name == scopes[0] else RoleScope.GROUP
        try:
            with self.file.write() as session:
                roles.create_role(session, name=name, scope=scope)
        except KairanError as error:
            messages.warn(self.window, error.message)
        self.window.show_role_board()

    def _role_of(self, slot: roles.RoleSlot) -> roles.RoleInfo | None:
        with self.file.read() as session:
            return next((r for r in roles.list_roles(session) if r.id == slot.role_id), None)

    def toggle_required(self, slot: roles.RoleSlot | None = None) -> None:
        """Mark the selected role required by the bylaws, or not any more (with undo)."""
        slot = slot or self.window.role_board.selected_slot()
        role = self._role_of(slot) if slot is not None else None
        if role is None:
            messages.warn(self.window, _("Choose a role on the role board first."))
            return
        required = not role.required
        text = (_("Mark {role} required") if required else _("Mark {role} not required")
                ).format(role=role.name)
        self.editor.apply(
            text,
            lambda s: roles.set_role_required(s, role_id=role.id, required=required),
            lambda s: roles.set_role_required(s, role_id=role.id, required=role.required),
        )

    def edit_conflicts(self, slot: roles.RoleSlot | None = None) -> ConflictsDialog | None:
        """Choose the roles the selected role's holder may not hold too (with undo)."""
        slot = slot or self.window.role_board.selected_slot()
        role = self._role_of(slot) if slot is not None else None
        if role is None:
            messages.warn(self.window, _("Choose a role on the role board first."))
            return None
        with self.file.read() as session:
            others = [r for r in roles.list_roles(session) if r.id != role.id]
            before = roles.conflicts_of(session, role_id=role.id)
        if self.conflicts_dialog is not None:
            self.conflicts_dialog.deleteLater()
        dialog = ConflictsDialog(self.window, role, others, before)
        self.conflicts_dialog = dialog

        def chosen() -> None:
            wanted = dialog.ticked()
            if set(wanted) == set(before):
                return
            self.editor.apply(
                _("Roles not together with {role}").format(role=role.name),
                lambda s: roles.set_conflicts(s, role_id=role.id, other_role_ids=wanted),
                lambda s: roles.set_conflicts(s, role_id=role.id, other_role_ids=before),
            )

        dialog.accepted.connect(chosen)
        dialog.open()  # window-modal, without a nested event loop
        return dialog
