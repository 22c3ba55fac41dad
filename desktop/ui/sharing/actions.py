"""The 同期 menu's sharing commands (PC間の共有), and the sharing part of the status bar.

:func:`add_sharing_actions` is all the window needs: it adds the commands to the menu it is
given, puts :class:`~desktop.ui.sharing.status.SharingStatusLabel` in the status bar and
reads :func:`sync.replica.service.sharing_info` again after every sync cycle. The commands
open the dialogs of this package; a roster received from another PC is opened through
``window.bundle_actions.file_made`` (the application opens any new file offered there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop.domain.errors import KairanError
from desktop.i18n import N_, _
from desktop.ui import messages
from desktop.ui.sharing.devices_dialog import DevicesDialog
from desktop.ui.sharing.join_wizard import JoinWizard, open_join_wizard
from desktop.ui.sharing.key_code_dialog import KeyCodeDialog
from desktop.ui.sharing.review_dialog import ReviewDialog
from desktop.ui.sharing.start_dialog import StartSharingDialog
from desktop.ui.sharing.status import SharingStatusLabel
from desktop.ui.tasks import TaskCancelled, TaskContext
from desktop.ui.window_actions import WindowActions
from sync import pairing

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow
    from desktop.ui.sharing.recovery import RecoverySheetDialog
    from sync.replica.service import SharingInfo

# The menu's texts (English source; Japanese in the catalogue) and their shortcuts. The
# rare ones (once per PC or per year) have none.
MENU_START = N_("Start &sharing with other PCs…")
MENU_ADD_PC = N_("&Add another PC (show a key code)…")
MENU_DEVICES = N_("&Office PCs…")
MENU_REVIEW = N_("Changes to chec&k…")
MENU_NEW_SHEET = N_("Make a new reco&very sheet…")
MENU_RECEIVE = N_("&Receive the roster from another PC…")
SHORTCUTS: dict[str, str | None] = {
    MENU_START: None,
    MENU_ADD_PC: "Ctrl+Alt+K",
    MENU_DEVICES: "Ctrl+Alt+L",
    MENU_REVIEW: "Ctrl+Alt+R",
    MENU_NEW_SHEET: None,
    MENU_RECEIVE: None,
}


class SharingActions(WindowActions):
    """The sharing commands of one window, and the status bar's sharing warnings."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.info: SharingInfo | None = None
        self.label = SharingStatusLabel()
        window.statusBar().addPermanentWidget(self.label)
        self.label.clicked.connect(self._label_clicked)
        window.sync_actions.synced.connect(lambda _status: self.refresh_status())
        self.start_dialog: StartSharingDialog | None = None
        self.sheet_dialog: RecoverySheetDialog | None = None
        self.key_dialog: KeyCodeDialog | None = None
        self.devices_dialog: DevicesDialog | None = None
        self.review_dialog: ReviewDialog | None = None
        self.join_wizard: JoinWizard | None = None
        self.refresh_status()

    # ------------------------------------------------------------ status

    def refresh_status(self) -> None:
        """Read the sharing state of the file again and show its warnings."""
        from sync.replica import service

        try:
            self.info = service.sharing_info(self.file)
        except KairanError:
            self.info = None
        self.label.show_info(self.info)

    def _label_clicked(self) -> None:
        info = self.info
        if info is None:
            return
        if info.review_count:
            self.show_review()
            return
        texts = [text for text in (info.clock_warning, info.update_needed) if text]
        if texts:
            messages.inform(self.window, "\n\n".join(texts))

    def _enabled(self) -> bool:
        """Whether sharing is on; says how to start it when it is not."""
        self.refresh_status()
        if self.info is not None and self.info.enabled:
            return True
        messages.warn(self.window, _(
            "This file is not shared with other PCs yet. Start with 同期 → PC間の共有を始める."))
        return False

    # ------------------------------------------------------------ the commands

    def start_sharing(self) -> StartSharingDialog | None:
        """「PC間の共有を始める」: explain, make the key, then the recovery sheet."""
        self.refresh_status()
        if self.info is not None and self.info.enabled:
            messages.inform(self.window, _(
                "This file is already shared with other PCs. To add a PC, choose 同期 → "
                "別のPCを追加 (鍵コードを表示)."))
            return None
        if pairing.pairing_info(self.file) is None:
            messages.warn(self.window, _(
                "Connect this file to the relay first (同期 → リレーに接続), then start "
                "sharing."))
            return None
        dialog = StartSharingDialog(self.window, self.file, self.window.tasks)
        dialog.started.connect(self._started)
        self.start_dialog = dialog
        dialog.open()
        return dialog

    def _started(self, words: list[str]) -> None:
        self.refresh_status()
        self.show_recovery_sheet(words)

    def show_recovery_sheet(self, words: list[str]) -> RecoverySheetDialog:
        """The new recovery sheet's words, to print and put in the safe."""
        info = pairing.pairing_info(self.file)
        name = (self.info.association_name if self.info is not None else "") \
            or self.window.association.name
        from desktop.ui.sharing.recovery import RecoverySheetDialog  # loads the PDF libraries

        dialog = RecoverySheetDialog(
            self.window, self.window.tasks, words=words, association_name=name,
            relay_url=info.relay_url if info is not None else "",
            made_on=self.window.today())
        self.sheet_dialog = dialog
        dialog.open()
        return dialog

    def add_pc(self) -> KeyCodeDialog | None:
        """「別のPCを追加（鍵コードを表示）」: the key code for the new PC."""
        if not self._enabled():
            return None
        dialog = KeyCodeDialog(self.window, self.file, self.window.tasks)
        self.key_dialog = dialog
        dialog.open()
        return dialog

    def show_devices(self) -> DevicesDialog | None:
        """「PCの一覧」: the office PCs, and disabling a lost one."""
        if not self._enabled():
            return None
        dialog = DevicesDialog(self.window, self.file, self.window.tasks)
        dialog.revoked.connect(lambda _device: self.refresh_status())
        self.devices_dialog = dialog
        dialog.open()
        return dialog

    def show_review(self) -> ReviewDialog | None:
        """「確認が必要な変更」: what two PCs changed at once."""
        if not self._enabled():
            return None
        dialog = ReviewDialog(self.window, self.file)
        dialog.changed.connect(self._reviewed)
        self.review_dialog = dialog
        dialog.open()
        return dialog

    def _reviewed(self) -> None:
        self.window.reload()
        self.refresh_status()

    def new_recovery_sheet(self) -> None:
        """「新しい復旧シートを作る」: after asking, new words (the old sheet stops opening
        the keys made from now on), then print them."""
        if not self._enabled():
            return
        if not messages.confirm(self.window, _(
                "Make a new recovery sheet? Do this when the old sheet is lost, or may have "
                "been seen by someone else.\n\nThe old sheet will not open anything changed "
                "from now on. Once the new sheet is in the safe, shred the old one.")):
            return
        store = self.file

        def work(_context: TaskContext) -> list[str]:
            from sync.replica import service

            return service.new_recovery_sheet(store)

        def failed(error: BaseException) -> None:
            if isinstance(error, KairanError):
                messages.warn(self.window, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        def done(words: list[str]) -> None:
            self.show_recovery_sheet(words)

        self.window.tasks.run(work, parent=self.window, title=_("Making a new recovery sheet…"),
                              on_success=done, on_failure=failed, cancellable=False)

    def receive_roster(self) -> JoinWizard:
        """「別のPCの名簿を受け取る」: the wizard; the new file is opened in the window."""
        wizard = open_join_wizard(self.window, self.window.tasks,
                                  opened=self.window.bundle_actions.file_made.emit)
        self.join_wizard = wizard
        return wizard


def add_sharing_actions(window: MainWindow, menu: QMenu) -> SharingActions:
    """Add the sharing commands to ``menu`` (the 同期 menu), after a separator; returns the
    object behind them (the window keeps it)."""
    actions = SharingActions(window)
    slots: dict[str, Callable[[], Any]] = {
        MENU_START: actions.start_sharing,
        MENU_ADD_PC: actions.add_pc,
        MENU_DEVICES: actions.show_devices,
        MENU_REVIEW: actions.show_review,
        MENU_NEW_SHEET: actions.new_recovery_sheet,
        MENU_RECEIVE: actions.receive_roster,
    }
    menu.addSeparator()
    for key, slot in slots.items():
        if key == MENU_NEW_SHEET:
            menu.addSeparator()
        action = QAction(_(key), window)
        shortcut = SHORTCUTS[key]
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        menu.addAction(action)
    return actions
