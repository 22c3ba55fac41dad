"""The office window: roster, group tree and role board over one association file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QTabWidget,
)

from desktop.domain import association, roles
from desktop.domain.errors import KairanError
from desktop.domain.models import GroupKind
from desktop.domain.wareki import format_nendo
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.store.backups import BackupInfo
from desktop.ui import messages
from desktop.ui.audit_actions import AuditActions
from desktop.ui.bundle_actions import (
    MENU_EXPORT,
    MENU_IMPORT,
    MENU_PURGE,
    MENU_SETTINGS,
    BundleActions,
)
from desktop.ui.circular_actions import CircularActions
from desktop.ui.circulars_panel import CircularsPanel
from desktop.ui.commands import Editor
from desktop.ui.file_actions import FileActions
from desktop.ui.group_actions import GroupActions
from desktop.ui.group_tree import GroupTree
from desktop.ui.handover_actions import HandoverActions
from desktop.ui.household_actions import HouseholdActions
from desktop.ui.invitation_actions import InvitationActions
from desktop.ui.meeting_actions import MeetingActions
from desktop.ui.meetings_panel import MeetingsPanel
from desktop.ui.role_actions import RoleActions
from desktop.ui.role_board import RoleBoard, board_years
from desktop.ui.roster_loader import RosterData, RosterLoader
from desktop.ui.roster_model import RosterModel
from desktop.ui.roster_panel import RosterPanel
from desktop.ui.safety_board import SafetyActions, SafetyBoardPanel
from desktop.ui.settings import (
    BACKUP_EVERY_HOURS,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    Settings,
)
from desktop.ui.sharing.actions import add_sharing_actions
from desktop.ui.sync_actions import SyncActions
from desktop.ui.sync_status import SyncStatusLabel
from desktop.ui.tasks import TaskContext, TaskRunner
from desktop.ui.update_notice import UpdateActions, UpdateBar, with_bar
from sync.engine import SyncStatus


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
        self.groups = GroupTree()
        self.groups.filter_changed.connect(lambda ids: self.model.set_filter(group_ids=ids))
        self.role_board = RoleBoard()
        self.role_board.year_changed.connect(lambda _year: self.load_role_board())
        self.circulars = CircularsPanel()
        self.meetings = MeetingsPanel()
        self.safety_board = SafetyBoardPanel()

        self.tabs = self._build_tabs()
        self.update_bar = UpdateBar()  # hidden until a newer Kairan is known
        self.setCentralWidget(with_bar(self.update_bar, self.tabs))
        dock = QDockWidget(_("Groups"), self)
        dock.setObjectName("groups")
        dock.setWidget(self.groups)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.status, self.sync_label = self._build_status_bar()

        self._build_actions()
        self._build_menus()
        self.setWindowTitle(f"{self.association.name} — Kairan")
        self.resize(1200, 760)
        geometry = settings.get(WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(geometry)
            self.restoreState(settings.get(WINDOW_STATE))
        self.loader.load(head_first=True)
        self.roster.focus_search()
        self.sync_actions.start()
        self.update_actions.start()

    def _build_tabs(self) -> QTabWidget:
        tabs = QTabWidget()
        tabs.addTab(self.roster, _("Roster"))
        tabs.addTab(self.role_board, _("Roles"))
        tabs.addTab(self.circulars, _("Circulars"))
        tabs.addTab(self.meetings, _("General meetings"))
        tabs.addTab(self.safety_board, _("Safety check"))
        tabs.currentChanged.connect(lambda _index: self._tab_changed())
        return tabs

    def _build_status_bar(self) -> tuple[QLabel, SyncStatusLabel]:
        status, sync = QLabel(), SyncStatusLabel()
        self.statusBar().addPermanentWidget(status)
        self.statusBar().addPermanentWidget(sync)
        return status, sync

    def _build_actions(self) -> None:
        """The commands, one object per area, and the panels' requests wired to them."""
        self.file_actions = FileActions(self)
        self.household_actions = HouseholdActions(self)
        self.group_actions = GroupActions(self)
        self.role_actions = RoleActions(self)
        self.circular_actions = CircularActions(self)
        self.meeting_actions = MeetingActions(self)
        self.sync_actions = SyncActions(self, self.sync_label)
        self.safety_actions = SafetyActions(self)
        self.handover_actions = HandoverActions(self)
        self.bundle_actions = BundleActions(self)
        self.audit_actions = AuditActions(self)
        self.update_actions = UpdateActions(self, self.update_bar)
        self.sync_actions.synced.connect(self._synced)
        self.roster.open_household.connect(self.household_actions.edit_household)
        self.role_board.assign_requested.connect(self.role_actions.assign_role)
        self.role_board.unassign_requested.connect(self.role_actions.unassign_role)

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
        self._file_menu(bar)
        self._edit_menu(bar)
        self._household_menu(bar)
        self._group_menu(bar)
        self._role_menu(bar)
        self._circular_menu(bar)
        self._meeting_menu(bar)
        self._sync_menu(bar)
        self._view_menu(bar)
        self._help_menu(bar)

    def _file_menu(self, bar: QMenuBar) -> None:
        file_menu = bar.addMenu(_("&File"))
        self._action(file_menu, _("&Open…"), self.open_requested.emit,
                     QKeySequence.StandardKey.Open)
        file_menu.addSeparator()
        self._action(file_menu, _("&Import a roster…"), self.file_actions.import_roster, "Ctrl+I")
        self._action(file_menu, _("E&xport the roster…"), self.file_actions.export_roster,
                     "Ctrl+Shift+E")
        self._action(file_menu, _("&Print the roster…"), self.circular_actions.print_roster,
                     "Ctrl+Shift+P")
        file_menu.addSeparator()
        self._action(file_menu, _("&Back up now"), self.backup_now, "Ctrl+B")
        self._action(file_menu, _("&Restore from a backup…"), self.restore_requested.emit)
        file_menu.addSeparator()
        bundle = self.bundle_actions
        self._action(file_menu, _(MENU_EXPORT), bundle.export_all)
        self._action(file_menu, _(MENU_IMPORT), bundle.import_bundle)
        file_menu.addSeparator()
        self._action(file_menu, _("&Who is using Kairan…"), self.audit_actions.choose_profile,
                     "Ctrl+Alt+U")
        self._action(file_menu, _("History of &changes…"), self.audit_actions.show_history,
                     "Ctrl+H")
        file_menu.addSeparator()
        self._action(file_menu, _(MENU_SETTINGS), bundle.edit_association)
        self._action(file_menu, _(MENU_PURGE), bundle.purge_withdrawn)
        file_menu.addSeparator()
        self._action(file_menu, _("&Quit"), self.close, "Ctrl+Q")  # Windows has no standard

    def _edit_menu(self, bar: QMenuBar) -> None:
        edit_menu = bar.addMenu(_("&Edit"))
        undo = self.undo_stack.createUndoAction(self, _("&Undo"))
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, _("&Redo"))
        redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        edit_menu.addActions([undo, redo])
        edit_menu.addSeparator()
        self._action(edit_menu, _("&Find"), self._find, QKeySequence.StandardKey.Find)

    def _household_menu(self, bar: QMenuBar) -> None:
        household_menu = bar.addMenu(_("&Household"))
        homes = self.household_actions
        self._action(household_menu, _("&New household…"), homes.new_household, "Ctrl+N")
        self._action(household_menu, _("&Edit household…"), homes.edit_selected, "Ctrl+E")
        self._action(household_menu, _("&Move to another group…"), homes.move_household,
                     "Ctrl+M")
        self._action(household_menu, _("&History of this household…"),
                     self.audit_actions.show_selected_household_history, "Ctrl+Shift+H")
        household_menu.addSeparator()
        self._action(household_menu, _("&Withdraw (退会)…"), homes.withdraw_household, "Ctrl+D")
        self._action(household_menu, _("Re-&admit"), homes.readmit_household, "Ctrl+R")
        self._action(household_menu, _("&Delete for good…"), homes.purge_household,
                     "Ctrl+Shift+Delete")

    def _group_menu(self, bar: QMenuBar) -> None:
        group_menu = bar.addMenu(_("&Groups"))
        group = self.group_actions
        self._action(group_menu, _("Add a &group (班)…"), lambda: group.add_group(GroupKind.HAN),
                     "Ctrl+G")
        self._action(group_menu, _("Add a &district (地区)…"),
                     lambda: group.add_group(GroupKind.DISTRICT), "Ctrl+Shift+G")
        self._action(group_menu, _("&Rename group…"), group.rename_group, "F2")
        self._action(group_menu, _("De&lete group"), group.delete_group)
        self._action(group_menu, _("&Circulation order…"), group.edit_route, "Ctrl+K")

    def _role_menu(self, bar: QMenuBar) -> None:
        role_menu = bar.addMenu(_("&Roles"))
        role = self.role_actions
        self._action(role_menu, _("&Assign the selected role…"), role.assign_selected, "Ctrl+J")
        self._action(role_menu, _("&Remove the selected holder"), role.unassign_selected,
                     "Ctrl+Shift+J")
        role_menu.addSeparator()
        self._action(role_menu, _("Add a &role…"), role.add_role)
        self._action(role_menu, _("Re&name the selected role…"), role.rename_role)
        self._action(role_menu, _("&Delete the selected role"), role.delete_role)
        self._action(role_menu, _("Re&quired by the bylaws (on/off)"), role.toggle_required)
        self._action(role_menu, _("Not &together with…"), role.edit_conflicts)
        role_menu.addSeparator()
        handover = self.handover_actions
        self._action(role_menu, _("Officer &handover (役員交代)…"), handover.run_wizard,
                     "Ctrl+Alt+H")
        self._action(role_menu, _("Handover &report (引継書) of a past year…"),
                     handover.print_earlier_report)

    def _circular_menu(self, bar: QMenuBar) -> None:
        circular_menu = bar.addMenu(_("&Circulars"))
        circular = self.circular_actions
        self._action(circular_menu, _("&New circular…"), circular.new_circular, "Ctrl+Shift+N")
        self._action(circular_menu, _("&Print the circular…"), circular.print_selected,
                     QKeySequence.StandardKey.Print)
        self._action(circular_menu, _("Enter &replies…"), circular.enter_replies_selected,
                     "Ctrl+Shift+R")

    def _meeting_menu(self, bar: QMenuBar) -> None:
        meeting_menu = bar.addMenu(_("&Meeting"))
        meeting = self.meeting_actions
        self._action(meeting_menu, _("&New meeting…"), meeting.new_meeting, "Ctrl+Shift+M")
        self._action(meeting_menu, _("&Edit the meeting…"), meeting.edit_selected,
                     "Ctrl+Alt+M")
        meeting_menu.addSeparator()
        self._action(meeting_menu, _("Enter returned &forms…"), meeting.enter_forms_selected,
                     "Ctrl+Shift+F")
        self._action(meeting_menu, _("Check in at the &door…"), meeting.check_in_selected,
                     "Ctrl+Shift+D")
        self._action(meeting_menu, _("Live &tally…"), meeting.show_tally_selected,
                     "Ctrl+Shift+T")
        meeting_menu.addSeparator()
        self._action(meeting_menu, _("&Print for the meeting…"), meeting.print_selected,
                     "Ctrl+Alt+P")
        self._action(meeting_menu, _("E&xport the meeting to Excel…"), meeting.export_selected,
                     "Ctrl+Alt+X")
        meeting_menu.addSeparator()
        self._action(meeting_menu, _("Meeting &rules…"), meeting.edit_rules, "Ctrl+Shift+U")

    def _sync_menu(self, bar: QMenuBar) -> None:
        sync_menu = bar.addMenu(_("&Sync"))
        sync = self.sync_actions
        self.invitation_actions = InvitationActions(self)  # its only entry is in this menu
        self._action(sync_menu, _("Sync &now"), sync.sync_now, "F5")
        self._action(sync_menu, _("Sync &problems…"), sync.show_problems, "Ctrl+Alt+S")
        sync_menu.addSeparator()
        self._action(sync_menu, _("Disaster &mode on/off…"), self.safety_actions.switch,
                     "Ctrl+Alt+E")
        self._action(sync_menu, _("&Invite residents…"), self.invitation_actions.invite,
                     "Ctrl+Alt+I")
        sync_menu.addSeparator()
        self._action(sync_menu, _("&Connect to the relay…"), sync.connect_relay, "Ctrl+Alt+C")
        self._action(sync_menu, _("&Disconnect from the relay…"), sync.disconnect_relay,
                     "Ctrl+Alt+Shift+C")
        self.sharing_actions = add_sharing_actions(self, sync_menu)

    def _view_menu(self, bar: QMenuBar) -> None:
        view_menu = bar.addMenu(_("&View"))
        self._action(view_menu, _("&Roster"), lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(view_menu, _("R&oles"), lambda: self.tabs.setCurrentIndex(1), "Ctrl+2")
        self._action(view_menu, _("&Groups"), self.groups.setFocus, "Ctrl+3")
        self._action(view_menu, _("&Circulars"), self.show_circulars, "Ctrl+4")
        self._action(view_menu, _("General &meetings"), self.show_meetings, "Ctrl+5")
        self._action(view_menu, _("&Safety check"), self.show_safety_board, "Ctrl+6")
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

    def _help_menu(self, bar: QMenuBar) -> None:
        help_menu = bar.addMenu(_("&Help"))
        self._action(help_menu, _("Check for a &new version"), self.update_actions.check_now,
                     "Ctrl+Alt+V")
        help_menu.addSeparator()
        self._action(help_menu, _("&About Kairan"), self.update_actions.about,
                     QKeySequence.StandardKey.HelpContents)  # F1: the key for help

    def fit_to_text_size(self) -> None:
        """Resize rows and columns after the text size changed."""
        self.roster.apply_text_size()
        self.groups.fit_columns()

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        """Read the roster, groups and counts again after a change."""
        self.loader.load()
        self.sync_actions.local_change()

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
            self.load_role_board()
        elif self.tabs.currentWidget() is self.circulars:
            self.circular_actions.refresh()  # a draft's households follow the roster
        elif self.tabs.currentWidget() is self.meetings:
            self.meeting_actions.refresh()

    def _tab_changed(self) -> None:
        if self.tabs.currentWidget() is self.circulars:
            self.circular_actions.refresh()
        if self.tabs.currentWidget() is self.meetings:
            self.meeting_actions.refresh()
        if self.tabs.currentWidget() is self.safety_board:
            self.safety_actions.refresh()
        if self.tabs.currentWidget() is self.role_board:
            if self.role_board.year.count() == 0:
                with self.file.read() as session:
                    on_record = roles.years_on_record(session)
                self.role_board.set_years(board_years(self.year, on_record), self.year,
                                          self.association.fiscal_year_start_month)
            self.load_role_board()

    def show_circulars(self) -> None:
        """Bring the circulars tab to the front, with the cursor in its list."""
        self.tabs.setCurrentWidget(self.circulars)
        self.circulars.table.setFocus()

    def show_meetings(self) -> None:
        """Bring the general meetings tab to the front, with the cursor in its list."""
        self.tabs.setCurrentWidget(self.meetings)
        self.meetings.table.setFocus()

    def show_safety_board(self) -> None:
        """Bring the safety check to the front, with the cursor in its entry field."""
        self.tabs.setCurrentWidget(self.safety_board)
        self.safety_board.entry.setFocus()

    def _synced(self, status: SyncStatus) -> None:
        """After a sync cycle: what came in shows where the officer is looking."""
        self.safety_actions.synced(status)
        if status.applied.answers and self.tabs.currentWidget() is self.circulars:
            self.circular_actions.refresh(select=self.circulars.current_id())

    def show_role_board(self) -> None:
        """Bring the role board to the front, read afresh."""
        if self.tabs.currentWidget() is self.role_board:
            self._tab_changed()
        else:
            self.tabs.setCurrentWidget(self.role_board)

    def load_role_board(self) -> None:
        """Read the role board of the year shown."""
        with self.file.read() as session:
            slots = roles.role_board(session, year=self.role_board.current_year())
        self.role_board.set_slots(slots)

    def today(self) -> date:
        """Today's date (tests pin it)."""
        return self._today()

    def _find(self) -> None:
        self.tabs.setCurrentWidget(self.roster)
        self.roster.focus_search()

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
        self.sync_actions.stop()  # a cycle under way ends at its next step
        self.update_actions.stop()
        self.settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        self.settings.set(WINDOW_STATE, bytes(self.saveState().data()))
        super().closeEvent(event)
