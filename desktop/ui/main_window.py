"""The office window: roster, group tree and role board over one association file."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
)
from sqlmodel import Session

from desktop.domain import association, groups, households, members, roles
from desktop.domain.errors import KairanError
from desktop.domain.households import HouseholdData, MemberData
from desktop.domain.ids import uuid7
from desktop.domain.models import GroupKind, RoleScope
from desktop.domain.wareki import format_nendo, parse_date
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.store.backups import BackupInfo
from desktop.ui import messages
from desktop.ui.commands import Change, Editor
from desktop.ui.group_tree import GroupTree
from desktop.ui.household_dialog import HouseholdDialog, HouseholdForm
from desktop.ui.member_picker import MemberPicker
from desktop.ui.role_board import RoleBoard
from desktop.ui.roster_loader import RosterData, RosterLoader
from desktop.ui.roster_model import RosterModel
from desktop.ui.roster_panel import RosterPanel
from desktop.ui.route_dialog import RouteDialog
from desktop.ui.settings import (
    BACKUP_EVERY_HOURS,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    Settings,
)
from desktop.ui.tasks import TaskContext, TaskRunner


class MainWindow(QMainWindow):
    """One association's office window."""

    open_requested = Signal()  # the officer asks to open another file
    restore_requested = Signal()  # the officer asks to restore a backup
    language_requested = Signal(str)
    text_size_requested = Signal(int)  # +1 larger, -1 smaller, 0 standard

    def __init__(
        self,
        association_file: AssociationFile,
        settings: Settings,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__()
        self.file = association_file
        self.settings = settings
        self._today = today
        self.tasks = TaskRunner(self)
        self.undo_stack = QUndoStack(self)
        self.editor = Editor(association_file, self.undo_stack, changed=self.reload,
                             report=lambda text: messages.warn(self, text))
        with self.file.read() as session:
            self.association = association.get_association(session)
            self.year = association.current_year(session, today=today())

        self.loader = RosterLoader(association_file, self._show_roster)
        self.model = RosterModel(complete_table=self.loader.finish)
        self.roster = RosterPanel(self.model)
        self.roster.open_household.connect(self.edit_household)
        self.groups = GroupTree()
        self.groups.filter_changed.connect(lambda ids: self.model.set_filter(group_ids=ids))
        self.role_board = RoleBoard()
        self.role_board.year_changed.connect(lambda _year: self._load_role_board())
        self.role_board.assign_requested.connect(self.assign_role)
        self.role_board.unassign_requested.connect(self.unassign_role)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.roster, _("Roster"))
        self.tabs.addTab(self.role_board, _("Roles"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.setCentralWidget(self.tabs)
        dock = QDockWidget(_("Groups"), self)
        dock.setObjectName("groups")
        dock.setWidget(self.groups)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)

        self._build_menus()
        self.setWindowTitle(f"{self.association.name} — Kairan")
        self.resize(1200, 760)
        geometry = settings.get(WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(geometry)
            self.restoreState(settings.get(WINDOW_STATE))
        self.loader.load(head_first=True)
        self.roster.focus_search()

    # ------------------------------------------------------------ menus

    def _action(self, menu: QMenu, text: str, slot: Callable[[], Any],
                shortcut: QKeySequence | str | QKeySequence.StandardKey | None = None
                ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(_("&File"))
        self._action(file_menu, _("&Open…"), self.open_requested.emit,
                     QKeySequence.StandardKey.Open)
        file_menu.addSeparator()
        self._action(file_menu, _("&Back up now"), self.backup_now, "Ctrl+B")
        self._action(file_menu, _("&Restore from a backup…"), self.restore_requested.emit)
        file_menu.addSeparator()
        self._action(file_menu, _("&Quit"), self.close, "Ctrl+Q")  # Windows has no standard

        edit_menu = bar.addMenu(_("&Edit"))
        undo = self.undo_stack.createUndoAction(self, _("&Undo"))
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, _("&Redo"))
        redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        edit_menu.addActions([undo, redo])
        edit_menu.addSeparator()
        self._action(edit_menu, _("&Find"), self._find, QKeySequence.StandardKey.Find)

        household_menu = bar.addMenu(_("&Household"))
        self._action(household_menu, _("&New household…"), self.new_household, "Ctrl+N")
        self._action(household_menu, _("&Edit household…"), self._edit_current, "Ctrl+E")
        self._action(household_menu, _("&Move to another group…"), self.move_household, "Ctrl+M")
        household_menu.addSeparator()
        self._action(household_menu, _("&Withdraw (退会)…"), self.withdraw_household, "Ctrl+D")
        self._action(household_menu, _("Re-&admit"), self.readmit_household, "Ctrl+R")
        self._action(household_menu, _("&Delete for good…"), self.purge_household,
                     "Ctrl+Shift+Delete")

        group_menu = bar.addMenu(_("&Groups"))
        self._action(group_menu, _("Add a &group (班)…"), lambda: self.add_group(GroupKind.HAN),
                     "Ctrl+G")
        self._action(group_menu, _("Add a &district (地区)…"),
                     lambda: self.add_group(GroupKind.DISTRICT), "Ctrl+Shift+G")
        self._action(group_menu, _("&Rename group…"), self.rename_group, "F2")
        self._action(group_menu, _("De&lete group"), self.delete_group)
        self._action(group_menu, _("&Circulation order…"), self.edit_route, "Ctrl+K")

        role_menu = bar.addMenu(_("&Roles"))
        self._action(role_menu, _("&Assign the selected role…"), self._assign_selected, "Ctrl+J")
        self._action(role_menu, _("&Remove the selected holder"), self._unassign_selected,
                     "Ctrl+Shift+J")
        role_menu.addSeparator()
        self._action(role_menu, _("Add a &role…"), self.add_role)
        self._action(role_menu, _("Re&name the selected role…"), self.rename_role)
        self._action(role_menu, _("&Delete the selected role"), self.delete_role)

        view_menu = bar.addMenu(_("&View"))
        self._action(view_menu, _("&Roster"), lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(view_menu, _("R&oles"), lambda: self.tabs.setCurrentIndex(1), "Ctrl+2")
        self._action(view_menu, _("&Groups"), self.groups.setFocus, "Ctrl+3")
        view_menu.addSeparator()
        self._action(view_menu, _("&Larger text"), lambda: self.text_size_requested.emit(1),
                     QKeySequence.StandardKey.ZoomIn)
        self._action(view_menu, _("&Smaller text"), lambda: self.text_size_requested.emit(-1),
                     QKeySequence.StandardKey.ZoomOut)
        self._action(view_menu, _("S&tandard text size"), lambda: self.text_size_requested.emit(0),
                     "Ctrl+0")
        languages = view_menu.addMenu(_("Lan&guage"))
        self._action(languages, "日本語", lambda: self.language_requested.emit("ja"))
        self._action(languages, "English", lambda: self.language_requested.emit("en"))

    def fit_to_text_size(self) -> None:
        """Resize rows and columns after the text size changed."""
        self.roster.apply_text_size()
        self.groups.fit_columns()

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        """Read the roster, groups and counts again after a change."""
        self.loader.load()

    def _show_roster(self, data: RosterData) -> None:
        current = self.roster.current_household()
        self.model.set_table(data.table)
        self.groups.set_groups(data.tree, unassigned=data.unassigned)
        if current is not None:
            self.roster.select_household(current)
        count: object = data.active if data.table.complete else "…"
        self.status.setText(
            _("{name} · {count} households · {year} · {file}").format(
                name=self.association.name, count=count,
                year=format_nendo(self.year, self.association.fiscal_year_start_month),
                file=self.file.path)
        )
        if self.tabs.currentWidget() is self.role_board:
            self._load_role_board()

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.role_board:
            if self.role_board.year.count() == 0:
                years = range(self.year - 5, self.year + 2)
                self.role_board.set_years(list(years), self.year,
                                          self.association.fiscal_year_start_month)
            self._load_role_board()

    def _load_role_board(self) -> None:
        with self.file.read() as session:
            slots = roles.role_board(session, year=self.role_board.current_year())
        self.role_board.set_slots(slots)

    def _find(self) -> None:
        self.tabs.setCurrentWidget(self.roster)
        self.roster.focus_search()

    # ------------------------------------------------------------ households

    def _han_choices(self) -> list[tuple[uuid.UUID, str]]:
        with self.file.read() as session:
            tree = groups.group_tree(session)
        names = {node.id: node.name for node in tree}
        return [
            (node.id, f"{names[node.parent_id]} {node.name}" if node.parent_id else node.name)
            for node in tree if node.kind == GroupKind.HAN
        ]

    def _selected_household(self) -> uuid.UUID | None:
        household_id = self.roster.current_household()
        if household_id is None:
            messages.warn(self, _("Choose a household in the roster first."))
        return household_id

    def new_household(self) -> None:
        """Open the editor for a new household (in the chosen 班, if one is chosen)."""
        created: list[uuid.UUID] = []

        def save(form: HouseholdForm) -> None:
            household_id = uuid7()
            group_id = form.group_id

            def redo(session: Session) -> None:
                households.create_household(session, data=form.data, members=form.members,
                                            group_id=group_id, household_id=household_id)

            def undo(session: Session) -> None:
                households.delete_new_household(session, household_id=household_id)

            self._apply_or_raise(_("New household {name}").format(name=form.data.display_name),
                                 redo, undo)
            created.append(household_id)

        head = MemberData(name="", is_head=True, relation="世帯主")
        dialog = HouseholdDialog(self, title=_("New household"),
                                 data=HouseholdData(number="", display_name=""),
                                 members=[head], groups=self._han_choices(),
                                 group_id=self.groups.current_group_id(), save=save)
        if dialog.exec() and created:
            self.roster.select_household(created[0])

    def _edit_current(self) -> None:
        household_id = self._selected_household()
        if household_id is not None:
            self.edit_household(household_id)

    def edit_household(self, household_id: uuid.UUID) -> None:
        """Open the editor for a household; saving is one undoable edit."""
        try:
            with self.file.read() as session:
                before = households.get_household(session, household_id=household_id)
        except KairanError as error:
            messages.warn(self, error.message)
            self.reload()
            return

        def save(form: HouseholdForm) -> None:
            def redo(session: Session) -> None:
                households.update_household(session, household_id=household_id,
                                            data=form.data, members=form.members)
                if form.group_id != before.group_id:
                    households.move_household(session, household_id=household_id,
                                              group_id=form.group_id)

            def undo(session: Session) -> None:
                households.update_household(session, household_id=household_id,
                                            data=before.data, members=before.members)
                if form.group_id != before.group_id:
                    households.move_household(session, household_id=household_id,
                                              group_id=before.group_id,
                                              circulation_order=before.circulation_order)

            self._apply_or_raise(_("Edit {name}").format(name=form.data.display_name),
                                 redo, undo)

        dialog = HouseholdDialog(self, title=_("Household {number}").format(
                                     number=before.data.number),
                                 data=before.data, members=before.members,
                                 groups=self._han_choices(), group_id=before.group_id, save=save)
        dialog.exec()

    def _apply_or_raise(self, text: str, redo: Change,
                        undo: Change) -> None:
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
        name, ok = QInputDialog.getItem(self, _("Move household"),
                                        _("Move {name} to:").format(
                                            name=before.data.display_name),
                                        names, current, False)
        if not ok:
            return
        target = choices[names.index(name)][0]
        self.editor.apply(
            _("Move {name}").format(name=before.data.display_name),
            lambda s: households.move_household(s, household_id=household_id, group_id=target),
            lambda s: households.move_household(s, household_id=household_id,
                                                group_id=before.group_id,
                                                circulation_order=before.circulation_order),
        )

    def withdraw_household(self) -> None:
        """Record that the selected household left the association."""
        household_id = self._selected_household()
        if household_id is None:
            return
        with self.file.read() as session:
            before = households.get_household(session, household_id=household_id)
        text, ok = QInputDialog.getText(
            self, _("Withdraw household"),
            _("{name} withdraws (退会) on:").format(name=before.data.display_name),
            text=self._today().isoformat())
        if not ok:
            return
        try:
            left_on = parse_date(text)
        except ValueError:
            messages.warn(self, _("「{value}」 is not a date. Type it as 令和7年4月1日 or "
                                  "2025-04-01.").format(value=text))
            return
        self.editor.apply(
            _("Withdraw {name}").format(name=before.data.display_name),
            lambda s: households.withdraw_household(s, household_id=household_id,
                                                    left_on=left_on),
            lambda s: households.readmit_household(s, household_id=household_id,
                                                   circulation_order=before.circulation_order),
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
            messages.warn(self, _("{name} is a member already.").format(
                name=before.data.display_name))
            return
        self.editor.apply(
            _("Re-admit {name}").format(name=before.data.display_name),
            lambda s: households.readmit_household(s, household_id=household_id),
            lambda s: households.withdraw_household(s, household_id=household_id,
                                                    left_on=left_on),
        )

    def purge_household(self) -> None:
        """Delete a withdrawn household for good (asks first; cannot be undone)."""
        household_id = self._selected_household()
        if household_id is None:
            return
        with self.file.read() as session:
            before = households.get_household(session, household_id=household_id)
        if not messages.confirm(self, _(
                "Delete {name} and its members for good? This cannot be undone. "
                "A backup is made first.").format(name=before.data.display_name)):
            return
        try:
            self.file.backups.make(self.file.path, reason="manual")
            with self.file.write() as session:
                households.purge_household(session, household_id=household_id)
        except KairanError as error:
            messages.warn(self, error.message)
            return
        self.undo_stack.clear()  # earlier edits may refer to the deleted household
        self.reload()

    # ------------------------------------------------------------ groups

    def add_group(self, kind: GroupKind) -> None:
        """Add a 班 (inside the chosen 地区, if one is chosen) or a 地区."""
        parent_id = None
        chosen = self.groups.current_group_id()
        if kind == GroupKind.HAN and chosen is not None:
            with self.file.read() as session:
                node = next((n for n in groups.group_tree(session) if n.id == chosen), None)
            if node is not None and node.kind == GroupKind.DISTRICT:
                parent_id = node.id
        label = _("Name of the new group (e.g. 3班):") if kind == GroupKind.HAN else \
            _("Name of the new district (e.g. 東地区):")
        name, ok = QInputDialog.getText(self, _("Add"), label)
        if not ok:
            return
        group_id = uuid7()
        self.editor.apply(
            _("Add {name}").format(name=name),
            lambda s: groups.create_group(s, name=name, kind=kind, parent_id=parent_id,
                                          group_id=group_id),
            lambda s: groups.delete_group(s, group_id=group_id),
        )

    def _chosen_group(self) -> groups.GroupNode | None:
        chosen = self.groups.current_group_id()
        if chosen is None:
            messages.warn(self, _("Choose a group in the group list first."))
            return None
        with self.file.read() as session:
            return next((n for n in groups.group_tree(session) if n.id == chosen), None)

    def rename_group(self) -> None:
        """Rename the chosen group."""
        node = self._chosen_group()
        if node is None:
            return
        name, ok = QInputDialog.getText(self, _("Rename group"), _("New name:"), text=node.name)
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
            lambda s: groups.create_group(s, name=node.name, kind=node.kind,
                                          parent_id=node.parent_id, group_id=node.id),
        )

    def edit_route(self) -> None:
        """Reorder the chosen 班's 回覧板 route (one undoable edit)."""
        node = self._chosen_group()
        if node is None:
            return
        if node.kind != GroupKind.HAN:
            messages.warn(self, _("Choose a 班 (not a district) to set its circulation order."))
            return
        with self.file.read() as session:
            stops = households.han_route(session, group_id=node.id)
        dialog = RouteDialog(self, han_name=node.name, stops=stops)
        if not dialog.exec():
            return
        before = [stop.household_id for stop in stops]
        after = dialog.order()
        if after != before:
            self.editor.apply(
                _("Circulation order of {han}").format(han=node.name),
                lambda s: households.set_circulation_order(s, group_id=node.id,
                                                           household_ids=after),
                lambda s: households.set_circulation_order(s, group_id=node.id,
                                                           household_ids=before),
            )

    # ------------------------------------------------------------ roles

    def _unassign_selected(self) -> None:
        self.tabs.setCurrentWidget(self.role_board)
        self.role_board._unassign()

    def _selected_role(self) -> roles.RoleInfo | None:
        self.tabs.setCurrentWidget(self.role_board)
        slot = self.role_board.selected_slot()
        if slot is None:
            messages.warn(self, _("Choose a role on the role board first."))
            return None
        with self.file.read() as session:
            return next((r for r in roles.list_roles(session) if r.id == slot.role_id), None)

    def rename_role(self) -> None:
        """Rename the selected role or change how many may hold it."""
        role = self._selected_role()
        if role is None:
            return
        name, ok = QInputDialog.getText(self, _("Rename role"), _("New name:"), text=role.name)
        if ok:
            self.editor.apply(
                _("Rename {role}").format(role=role.name),
                lambda s: roles.update_role(s, role_id=role.id, name=name,
                                            max_holders=role.max_holders),
                lambda s: roles.update_role(s, role_id=role.id, name=role.name,
                                            max_holders=role.max_holders),
            )

    def delete_role(self) -> None:
        """Delete the selected role if nobody ever held it."""
        role = self._selected_role()
        if role is None or not messages.confirm(
                self, _("Delete the role {role}?").format(role=role.name)):
            return
        try:
            with self.file.write() as session:
                roles.delete_role(session, role_id=role.id)
        except KairanError as error:
            messages.warn(self, error.message)
        self._load_role_board()


    def _assign_selected(self) -> None:
        self.tabs.setCurrentWidget(self.role_board)
        self.role_board._assign()

    def assign_role(self, slot: roles.RoleSlot) -> None:
        """Pick a member for a role slot in the year shown."""
        year = self.role_board.current_year()
        where = f"{slot.role_name}（{slot.group_name}）" if slot.group_name else slot.role_name

        def find(text: str) -> list[members.MemberChoice]:
            with self.file.read() as session:
                return members.find_members(session, text=text)

        picker = MemberPicker(self, title=_("Who holds {role}?").format(role=where), find=find)
        if not picker.exec():
            return
        member_id = picker.chosen()
        if member_id is None:
            return
        assignment_id = uuid7()
        self.editor.apply(
            _("Assign {role}").format(role=where),
            lambda s: roles.assign_role(s, role_id=slot.role_id, year=year, member_id=member_id,
                                        group_id=slot.group_id,
                                        assignment_id=assignment_id),
            lambda s: roles.unassign_role(s, assignment_id=assignment_id),
        )

    def unassign_role(self, assignment_id: uuid.UUID) -> None:
        """Remove a holder from a role (undo puts them back)."""
        with self.file.read() as session:
            removed = next(
                (roles.Assignment(h.assignment_id, slot.role_id, self.role_board.current_year(),
                                  h.member_id, slot.group_id)
                 for slot in roles.role_board(session, year=self.role_board.current_year())
                 for h in slot.holders if h.assignment_id == assignment_id), None)
        if removed is None:
            return
        self.editor.apply(
            _("Remove role holder"),
            lambda s: roles.unassign_role(s, assignment_id=assignment_id),
            lambda s: roles.assign_role(s, role_id=removed.role_id, year=removed.year,
                                        member_id=removed.member_id, group_id=removed.group_id,
                                        assignment_id=removed.id),
        )

    def add_role(self) -> None:
        """Add a role to the association's list."""
        name, ok = QInputDialog.getText(self, _("Add a role"), _("Name of the role:"))
        if not ok:
            return
        scopes = [_("Whole association"), _("Each 班")]
        scope_name, ok = QInputDialog.getItem(self, _("Add a role"), _("Held for:"), scopes, 0,
                                              False)
        if not ok:
            return
        scope = RoleScope.ASSOCIATION if scope_name == scopes[0] else RoleScope.GROUP
        try:
            with self.file.write() as session:
                roles.create_role(session, name=name, scope=scope)
        except KairanError as error:
            messages.warn(self, error.message)
        self._tab_changed(self.tabs.currentIndex())

    # ------------------------------------------------------------ backups

    def backup_now(self, *, reason: str = "manual", quiet: bool = False) -> None:
        """Back up the file in the background, with progress."""

        def work(context: TaskContext) -> BackupInfo:
            return self.file.backups.make(self.file.path, reason=reason,
                                          progress=context.progress, cancelled=context.cancelled)

        def done(info: BackupInfo) -> None:
            text = _("Backed up to {file}.").format(file=info.path)
            self.statusBar().showMessage(text, 8000)
            if not quiet:
                messages.inform(self, text)

        def failed(error: BaseException) -> None:
            if isinstance(error, KairanError):
                messages.warn(self, error.message)
            elif not isinstance(error, Exception) or type(error).__name__ != "BackupCancelled":
                raise error

        self.tasks.run(work, parent=self, title=_("Backing up…"), on_success=done,
                       on_failure=failed)

    def backup_if_due(self) -> None:
        """Make the automatic backup when the newest is older than the setting allows."""
        newest = self.file.backups.list()[:1]
        hours = self.settings.get(BACKUP_EVERY_HOURS)
        if not newest or datetime.now() - newest[0].created_at > timedelta(hours=hours):
            self.backup_now(reason="auto", quiet=True)

    # ------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tasks.busy():
            messages.warn(self, _("Kairan is still working (for example on a backup). "
                                  "Wait a moment and close it again."))
            event.ignore()
            return
        self.settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        self.settings.set(WINDOW_STATE, bytes(self.saveState().data()))
        super().closeEvent(event)
