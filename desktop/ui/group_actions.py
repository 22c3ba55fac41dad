"""What the officer does to 班 and 地区 from the window: add, rename, delete, and set the
回覧板 route; each is one undoable edit."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from desktop.domain import groups, households
from desktop.domain.ids import uuid7
from desktop.domain.models import GroupKind
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.route_dialog import RouteDialog
from desktop.ui.window_actions import WindowActions


class GroupActions(WindowActions):
    """The group commands of the main window."""

    def add_group(self, kind: GroupKind) -> None:
        """Add a 班 (inside the chosen 地区, if one is chosen) or a 地区."""
        parent_id = None
        chosen = self.window.groups.current_group_id()
        if kind == GroupKind.HAN and chosen is not None:
            with self.file.read() as session:
                node = next((n for n in groups.group_tree(session) if n.id == chosen), None)
            if node is not None and node.kind == GroupKind.DISTRICT:
                parent_id = node.id
        label = (
            _("Name of the new group (e.g. 3班):")
            if kind == GroupKind.HAN
            else _("Name of the new district (e.g. 東地区):")
        )
        name, ok = QInputDialog.getText(self.window, _("Add"), label)
        if not ok:
            return
        group_id = uuid7()
        self.editor.apply(
            _("Add {name}").format(name=name),
            lambda s: groups.create_group(
                s, name=name, kind=kind, parent_id=parent_id, group_id=group_id
            ),
            lambda s: groups.delete_group(s, group_id=group_id),
        )

    def _chosen_group(self) -> groups.GroupNode | None:
        chosen = self.window.groups.current_group_id()
        if chosen is None:
            messages.warn(self.window, _("Choose a group in the group list first."))
            return None
        with self.file.read() as session:
            return next((n for n in groups.group_tree(session) if n.id == chosen), None)

    def rename_group(self) -> None:
        """Rename the chosen group."""
        node = self._chosen_group()
        if node is None:
            return
        name, ok = QInputDialog.getText(
            self.window, _("Rename group"), _("New name:"), text=node.name
        )
        if ok:
            self.editor.apply(
                _("Rename {name}").format(name=node.name),
                lambda s: groups.rename_group(s, group_id=node.id, name=name),
                lambda s: groups.rename_group(s, group_id=node.id, name=node.name),
            )

    def delete_group(self) -> None:
        """Delete the chosen group if it is empty."""
        node = self._chosen_group()
        if node is None:
            return
        self.editor.apply(
            _("Delete {name}").format(name=node.name),
            lambda s: groups.delete_group(s, group_id=node.id),
            lambda s: groups.create_group(
                s, name=node.name, kind=node.kind, parent_id=node.parent_id, group_id=node.id
            ),
        )

    def edit_route(self) -> None:
        """Reorder the chosen 班's 回覧板 route (one undoable edit)."""
        node = self._chosen_group()
        if node is None:
            return
        if node.kind != GroupKind.HAN:
            messages.warn(
                self.window, _("Choose a 班 (not a district) to set its circulation order.")
            )
            return
        with self.file.read() as session:
            stops = households.han_route(session, group_id=node.id)
        dialog = RouteDialog(self.window, han_name=node.name, stops=stops)
        if not dialog.exec():
            return
        before = [stop.household_id for stop in stops]
        after = dialog.order()
        if after != before:
            self.editor.apply(
                _("Circulation order of {han}").format(han=node.name),
                lambda s: households.set_circulation_order(
                    s, group_id=node.id, household_ids=after
                ),
                lambda s: households.set_circulation_order(
                    s, group_id=node.id, household_ids=before
                ),
            )
