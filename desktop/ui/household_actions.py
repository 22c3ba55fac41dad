"""What the officer does to households from the window: add, edit, move, withdraw, re-admit,
delete; each is one undoable edit (but deleting for good)."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QInputDialog
from sqlmodel import Session

from desktop.domain import association, groups, households, roles
from desktop.domain.errors import KairanError
from desktop.domain.households import HouseholdData, MemberData
from desktop.domain.ids import uuid7
from desktop.domain.mail_status import household_mail_problems
from desktop.domain.models import GroupKind
from desktop.domain.wareki import format_nendo, parse_date
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.commands import Change
from desktop.ui.household_dialog import HouseholdDialog, HouseholdForm
from desktop.ui.window_actions import WindowActions


class HouseholdActions(WindowActions):
    """The household commands of the main window."""

    def _han_choices(self) -> list[tuple[uuid.UUID, str]]:
        with self.file.read() as session:
            tree = groups.group_tree(session)
        names = {node.id: node.name for node in tree}
        return [
            (node.id, f"{names[node.parent_id]} {node.name}" if node.parent_id else node.name)
            for node in tree
            if node.kind == GroupKind.HAN
        ]

    def _selected_household(self) -> uuid.UUID | None:
        household_id = self.window.roster.current_household()
        if household_id is None:
            messages.warn(self.window, _("Choose a household in the roster first."))
        return household_id

    def new_household(self) -> None:
        """Open the editor for a new household (in the chosen 班, if one is chosen)."""
        created: list[uuid.UUID] = []

        def save(form: HouseholdForm) -> None:
            household_id = uuid7()
            group_id = form.group_id

            def redo(session: Session) -> None:
                households.create_household(
                    session,
                    data=form.data,
                    members=form.members,
                    group_id=group_id,
                    household_id=household_id,
                )

            def undo(session: Session) -> None:
                households.delete_new_household(session, household_id=household_id)

            self._apply_or_raise(
                _("New household {name}").format(name=form.data.display_name), redo, undo
            )
            created.append(household_id)

        head = MemberData(name="", is_head=True, relation="世帯主")
        dialog = HouseholdDialog(
            self.window,
            title=_("New household"),
            data=HouseholdData(number="", display_name=""),
            members=[head],
            groups=self._han_choices(),
            group_id=self.window.groups.current_group_id(),
            save=save,
        )
        if dialog.exec() and created:
            self.window.roster.select_household(created[0])

    def edit_selected(self) -> None:
        household_id = self._selected_household()
        if household_id is not None:
            self.edit_household(household_id)

    def edit_household(self, household_id: uuid.UUID) -> None:
        """Open the editor for a household; saving is one undoable edit."""
        try:
            with self.file.read() as session:
                before = households.get_household(session, household_id=household_id)
                problems = household_mail_problems(session, household_id=household_id)
        except KairanError as error:
            messages.warn(self.window, error.message)
            self.window.reload()
            return

        def save(form: HouseholdForm) -> None:
            def redo(session: Session) -> None:
                households.update_household(
                    session, household_id=household_id, data=form.data, members=form.members
                )
                if form.group_id != before.group_id:
                    households.move_household(
                        session, household_id=household_id, group_id=form.group_id
                    )

            def undo(session: Session) -> None:
                households.update_household(
                    session, household_id=household_id, data=before.data, members=before.members
                )
                if form.group_id != before.group_id:
                    households.move_household(
                        session,
                        household_id=household_id,
                        group_id=before.group_id,
                        circulation_order=before.circulation_order,
                    )

            self._apply_or_raise(_("Edit {name}").format(name=form.data.display_name), redo, undo)

        dialog = HouseholdDialog(
            self.window,
            title=_("Household {number}").format(number=before.data.number),
            data=before.data,
            members=before.members,
            groups=self._han_choices(),
            group_id=before.group_id,
            save=save,
            mail_problems=problems,
        )
        dialog.exec()

    def _apply_or_raise(self, text: str, redo: Change, undo: Change) -> None:
        """Make an edit for a dialog: problems are raised so the dialog stays open."""
        with self.file.write() as session:
            redo(session)
        self.editor.record(text, redo, undo)

    def move_household(self) -> None:
        """Move the selected household to another 班 (end of its route)."""
        household_id = self._selected_household()
        if household_id is None:
            return
        with self.file.read() as session:
            before = households.get_household(session, household_id=household_id)
        choices = self._han_choices()
        names = [name for _id, name in choices]
        current = next((i for i, (gid, _n) in enumerate(choices) if gid == before.group_id), 0)
        name, ok = QInputDialog.getItem(
            self.window,
            _("Move household"),
            _("Move {name} to:").format(name=before.data.display_name),
            names,
            current,
            False,
        )
        if not ok:
            return
        target = choices[names.index(name)][0]
        self.editor.apply(
            _("Move {name}").format(name=before.data.display_name),
            lambda s: households.move_household(s, household_id=household_id, group_id=target),
            lambda s: households.move_household(
                s,
                household_id=household_id,
                group_id=before.group_id,
                circulation_order=before.circulation_order,
            ),
        )

    def withdraw_household(self) -> None:
        """Record that the selected household left the association."""
        household_id = self._selected_household()
        if household_id is None:
            return
        with self.file.read() as session:
            before = households.get_household(session, household_id=household_id)
        text, ok = QInputDialog.getText(
            self.window,
            _("Withdraw household"),
            _("{name} withdraws (退会) on:").format(name=before.data.display_name),
            text=self.window.today().isoformat(),
        )
        if not ok:
            return
        try:
            left_on = parse_date(text)
        except ValueError:
            messages.warn(
                self.window,
                _("「{value}」 is not a date. Type it as 令和7年4月1日 or 2025-04-01.").format(
                    value=text
                ),
            )
            return
        with self.file.read() as session:
            year = association.current_year(session, today=left_on)
            held = roles.roles_held_by_household(session, household_id=household_id, year=year)
        if held and not messages.confirm(self.window, _(
                "{name}'s household holds these roles in {year}:\n{roles}\n\nWithdraw it "
                "anyway? The roles stay on the role board until you hand them to someone "
                "else.").format(name=before.data.display_name, year=format_nendo(
                    year, self.window.association.fiscal_year_start_month),
                                roles="\n".join(f"・{role}" for role in held))):
            return
        self.editor.apply(
            _("Withdraw {name}").format(name=before.data.display_name),
            lambda s: households.withdraw_household(s, household_id=household_id, left_on=left_on),
            lambda s: households.readmit_household(
                s, household_id=household_id, circulation_order=before.circulation_order
            ),
        )

    def readmit_household(self) -> None:
        """Take the selected withdrawn household back."""
        household_id = self._selected_household()
        if household_id is None:
            return
        with self.file.read() as session:
            before = households.get_household(session, household_id=household_id)
        left_on = before.left_on
        if left_on is None:
            messages.warn(
                self.window, _("{name} is a member already.").format(name=before.data.display_name)
            )
            return
        self.editor.apply(
            _("Re-admit {name}").format(name=before.data.display_name),
            lambda s: households.readmit_household(s, household_id=household_id),
            lambda s: households.withdraw_household(s, household_id=household_id, left_on=left_on),
        )

    def purge_household(self) -> None:
        """Delete a withdrawn household for good (asks first; cannot be undone)."""
        household_id = self._selected_household()
        if household_id is None:
            return
        with self.file.read() as session:
            before = households.get_household(session, household_id=household_id)
        if not messages.confirm(
            self.window,
            _(
                "Delete {name} and its members for good? This cannot be undone. "
                "A backup is made first."
            ).format(name=before.data.display_name),
        ):
            return
        try:
            self.file.backups.make(self.file.path, reason="manual")
            with self.file.write() as session:
                households.purge_household(session, household_id=household_id)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return
        self.window.undo_stack.clear()  # earlier edits may refer to the deleted household
        self.window.reload()
