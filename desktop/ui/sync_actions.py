"""Sync from the window: on a timer, when the network comes back, after a change, and on
「今すぐ同期」; pairing, disconnecting and the sync problems.

Every cycle runs on a worker thread of its own runner (:class:`desktop.ui.tasks.TaskRunner`),
quietly: no progress dialog pops up every few minutes, and closing the window never waits
for it (a cut-short cycle repeats at most one batch or page, which the relay and the file
take as a repeat). The status bar always says where things stand.

Scheduling: a synced file syncs again every :data:`SYNC_EVERY_SECONDS`, and a few seconds
after a change was queued. After a passing failure the next try waits as the backoff says
(full jitter, 1 s to 5 min, never sooner than the relay's Retry-After); while offline, a cheap
TCP check each minute notices the network is back and syncs at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.sync_status import SyncStatusLabel
from desktop.ui.tasks import Task, TaskContext, TaskRunner
from desktop.ui.window_actions import WindowActions
from sync import pairing
from sync.backoff import Backoff
from sync.client import reachable
from sync.engine import Outcome, SyncStatus, open_client, read_status, sync_once

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow
    from desktop.ui.pairing_dialog import PairingDialog
    from desktop.ui.sync_problems import SyncProblemsDialog

TICK_SECONDS = 60  # the timer; also how often an offline PC checks for the network
SYNC_EVERY_SECONDS = 120
AFTER_CHANGE_SECONDS = 3
_NEVER = 1 << 30  # ms: the quiet task's progress dialog never shows
R = TypeVar("R")


class _Signals(QObject):
    synced = Signal(object)  # SyncStatus, after every cycle


class SyncActions(WindowActions):
    """The 同期 menu's commands and the scheduler behind the status bar."""

    def __init__(self, window: MainWindow, label: SyncStatusLabel) -> None:
        super().__init__(window)
        self.label = label
        self.signals = _Signals(window)
        self.synced = self.signals.synced
        # Not the window's: a cycle may outlive a window closed under it (a language switch
        # rebuilds the window), and must not be deleted with it half-way.
        self._host = QWidget()
        self.runner = TaskRunner()
        self.stopped = False
        self.backoff = Backoff()
        self.task: Task[SyncStatus] | None = None
        self.probe: Task[bool] | None = None
        self.pairing_dialog: PairingDialog | None = None
        self.problems_dialog: SyncProblemsDialog | None = None
        self.status = read_status(self.file)
        self.next_at = time.monotonic() + AFTER_CHANGE_SECONDS  # soon after opening
        self.manual = False
        self.timer = QTimer(window)
        self.timer.setInterval(TICK_SECONDS * 1000)
        self.timer.timeout.connect(self.tick)
        self.soon = QTimer(window)
        self.soon.setSingleShot(True)
        self.soon.timeout.connect(self.tick)
        label.clicked.connect(self._label_clicked)
        self.refresh_label()

    def start(self) -> None:
        """Start the timer (the window does once it is shown)."""
        self.timer.start()
        if self.status.paired:
            self.soon.start(AFTER_CHANGE_SECONDS * 1000)

    def stop(self) -> None:
        """Stop scheduling, and ask a cycle under way to stop at its next step (its result
        is then dropped: the window is going)."""
        self.stopped = True
        self.timer.stop()
        self.soon.stop()
        if self.task is not None:
            self.task.context.cancel()

    @property
    def syncing(self) -> bool:
        """Whether a cycle is under way."""
        return self.task is not None

    def refresh_label(self) -> None:
        """Bring the status bar up to date."""
        self.label.show_status(self.status, syncing=self.syncing,
                               now=datetime.now().astimezone())

    # ------------------------------------------------------------ scheduling

    def local_change(self) -> None:
        """Something changed in the file: show the new count, and sync shortly."""
        if self.syncing:
            return
        self.status = read_status(self.file, outcome=self.status.outcome,
                                  error=self.status.error, retry_in=self.status.retry_in)
        self.refresh_label()
        if self.status.paired and self.status.pending and self.status.outcome in (
                None, Outcome.SYNCED):
            self.next_at = min(self.next_at, time.monotonic() + AFTER_CHANGE_SECONDS)
            self.soon.start(AFTER_CHANGE_SECONDS * 1000)

    def tick(self) -> None:
        """The timer: sync when due; while offline, check whether the network is back."""
        if not self.status.paired or self.syncing or self.probe is not None:
            return
        if time.monotonic() >= self.next_at:
            self._run()
        elif self.status.outcome == Outcome.OFFLINE:
            self._probe()
        else:  # the counts; a change queued meanwhile (a circular sent) goes soon
            self.local_change()

    def _probe(self) -> None:
        url = self.status.relay_url

        def back(up: bool) -> None:
            self.probe = None
            if up and not self.syncing and not self.stopped:
                self._run()  # the network is back: do not wait for the backoff

        def failed(error: BaseException) -> None:
            self.probe = None
            raise error

        self.probe = self._quiet(lambda _context: reachable(url), back, failed,
                                 _("Checking the network…"))

    def sync_now(self) -> None:
        """「今すぐ同期」: a cycle at once, whatever the backoff says."""
        if not self.status.paired:
            messages.warn(self.window, _("This file is not connected to a relay. Connect it "
                                         "first (同期 → リレーに接続)."))
            return
        self.manual = True
        if not self.syncing:
            self._run()

    def _run(self) -> None:
        store, backoff = self.file, self.backoff

        def work(context: TaskContext) -> SyncStatus:
            with open_client(store) as client:
                return sync_once(store, client, backoff=backoff, cancelled=context.cancelled)

        self.task = self._quiet(work, self._done, self._failed, _("Syncing…"))
        self.refresh_label()

    def _quiet(self, work: Callable[[TaskContext], R], done: Callable[[R], None],
               failed: Callable[[BaseException], None], title: str) -> Task[R]:
        task = self.runner.run(work, parent=self._host, title=title, on_success=done,
                               on_failure=failed, cancellable=False)
        task.dialog.setMinimumDuration(_NEVER)  # background work: no progress dialog
        return task

    def _done(self, status: SyncStatus) -> None:
        self.task = None
        if self.stopped:
            return
        self.status = status
        wait = status.retry_in if status.retry_in is not None else SYNC_EVERY_SECONDS
        if status.outcome == Outcome.SYNCED and status.pending:
            wait = 0  # changes were queued while this cycle ran
        self.next_at = time.monotonic() + wait
        if 0 < wait < TICK_SECONDS:
            self.soon.start(int(wait * 1000))
        elif wait == 0:
            self.soon.start(0)
        manual, self.manual = self.manual, False
        self.refresh_label()
        if manual and status.outcome in (Outcome.OFFLINE, Outcome.BUSY, Outcome.REFUSED):
            messages.warn(self.window, status.error)
        self.synced.emit(status)

    def _failed(self, error: BaseException) -> None:
        self.task = None
        if not isinstance(error, KairanError):  # a bug: loudly
            raise error
        if self.stopped:
            return
        # No keyring, no token: nothing will change until the officer acts.
        wait = self.backoff.failed()
        self.next_at = time.monotonic() + max(wait, SYNC_EVERY_SECONDS)
        self.status = read_status(self.file, outcome=Outcome.REFUSED, error=error.message)
        manual, self.manual = self.manual, False
        self.refresh_label()
        if manual:
            messages.warn(self.window, error.message)

    # ------------------------------------------------------------ pairing and problems

    def connect_relay(self) -> PairingDialog | None:
        """「リレーに接続…」: the pairing dialog."""
        from desktop.ui.pairing_dialog import PairingDialog

        if pairing.pairing_info(self.file) is not None:
            info = pairing.pairing_info(self.file)
            assert info is not None
            messages.inform(self.window, _(
                "This file is connected to {name} at {url} as 「{device}」. To connect it "
                "to another relay, disconnect it first.").format(
                    name=info.association_name, url=info.relay_url, device=info.device_name))
            return None
        dialog = PairingDialog(self.window, self.file, self.window.tasks,
                               today=self.window.today)
        dialog.paired.connect(self._paired)
        self.pairing_dialog = dialog
        dialog.open()
        return dialog

    def _paired(self, result: pairing.PairingResult) -> None:
        self.backoff.succeeded()
        self.status = read_status(self.file)
        self.window.statusBar().showMessage(
            _("Connected to {name}. {count} households and circulars will be sent.").format(
                name=result.association_name, count=result.queued), 8000)
        self._run()

    def disconnect_relay(self) -> bool:
        """「リレーから切断…」: forget the pairing (after asking)."""
        info = pairing.pairing_info(self.file)
        if info is None:
            messages.warn(self.window, _("This file is not connected to a relay."))
            return False
        if self.syncing:
            messages.warn(self.window, _("Kairan is syncing right now. Wait a moment and try "
                                         "again."))
            return False
        pending = self.status.pending
        question = _("Disconnect this file from the relay {url}? Residents' answers will no "
                     "longer come in, and the relay keeps what it has until its administrator "
                     "removes this PC.").format(url=info.relay_url)
        if pending:
            question += "\n\n" + _("{count} changes not sent yet will never be sent.").format(
                count=pending)
        if not messages.confirm(self.window, question):
            return False
        try:
            pairing.unpair(self.file)
        except KairanError as error:
            messages.warn(self.window, error.message)
            return False
        self.status = read_status(self.file)
        self.refresh_label()
        return True

    def show_problems(self) -> SyncProblemsDialog:
        """「同期の問題…」: the operations the relay refused."""
        from desktop.ui.sync_problems import SyncProblemsDialog

        if self.problems_dialog is not None:
            self.problems_dialog.deleteLater()
        dialog = SyncProblemsDialog(self.window, self.file)
        dialog.changed.connect(self.local_change)
        self.problems_dialog = dialog
        dialog.open()
        return dialog

    def _label_clicked(self) -> None:
        if self.status.rejected:
            self.show_problems()
        elif self.status.error:
            messages.inform(self.window, self.status.error)
