"""Long work off the UI thread, with a progress dialog and a cancel button.

Like Anki's ``CollectionOp``: the work function runs on a worker thread and receives a
:class:`TaskContext` to report progress and see cancellation; its result (or exception) is
delivered back on the main thread. The worker never touches a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from desktop.i18n import _

R = TypeVar("R")


class TaskCancelled(Exception):
    """Raised inside work that noticed it was cancelled."""


class TaskContext:
    """What the work function sees: progress reporting and the cancel flag."""

    def __init__(self, emit: Callable[[int, int], None]) -> None:
        self._emit = emit
        self._cancel = threading.Event()

    def progress(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` steps (raises :class:`TaskCancelled` when cancelled)."""
        self.check()
        self._emit(done, total)

    def cancelled(self) -> bool:
        """Whether the officer pressed Cancel."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Stop the work here if the officer pressed Cancel."""
        if self._cancel.is_set():
            raise TaskCancelled

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()


class _Bridge(QObject):
    """Lives on the main thread; signals emitted from the worker are queued to it."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)


class Task(QObject, Generic[R]):
    """One piece of background work on its own (daemon) thread.

    A daemon thread never keeps Kairan from quitting: work that must not be cut short (a
    backup) writes under a temporary name and renames at the end, so an interrupted one
    leaves nothing behind.
    """

    finished = Signal()

    def __init__(
        self,
        work: Callable[[TaskContext], R],
        *,
        parent: QWidget,
        title: str,
        on_success: Callable[[R], None],
        on_failure: Callable[[BaseException], None],
        cancellable: bool = True,
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._on_success = on_success
        self._on_failure = on_failure
        self._bridge = _Bridge(self)
        self._bridge.progressed.connect(self._progressed)
        self._bridge.succeeded.connect(self._succeeded)
        self._bridge.failed.connect(self._failed)
        self.context = TaskContext(self._bridge.progressed.emit)
        self._thread = threading.Thread(target=self._run, name=title, daemon=True)
        self.dialog = QProgressDialog(title, _("Cancel") if cancellable else "", 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setMinimumDuration(400)  # quick work finishes without a flash
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        if not cancellable:
            self.dialog.setCancelButton(None)
        self.dialog.canceled.connect(self.context.cancel)

    def start(self) -> None:
        """Start the work on its own thread."""
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work is done (tests and shutdown); True if it finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._work(self.context)
        except BaseException as error:  # delivered to the main thread, which decides
            self._bridge.failed.emit(error)
        else:
            self._bridge.succeeded.emit(result)

    @Slot(int, int)
    def _progressed(self, done: int, total: int) -> None:
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))

    def _finish(self) -> None:
        self.dialog.reset()
        self.dialog.hide()
        self.dialog.deleteLater()
        self.finished.emit()

    @Slot(object)
    def _succeeded(self, result: R) -> None:
        self._finish()
        try:
            self._on_success(result)
        finally:
            self.deleteLater()

    @Slot(object)
    def _failed(self, error: BaseException) -> None:
        self._finish()
        try:
            self._on_failure(error)
        finally:
            self.deleteLater()


class TaskRunner(QObject):
    """Starts tasks and keeps them alive until they finish."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: set[Task[Any]] = set()

    def run(
        self,
        work: Callable[[TaskContext], R],
        *,
        parent: QWidget,
        title: str,
        on_success: Callable[[R], None],
        on_failure: Callable[[BaseException], None],
        cancellable: bool = True,
    ) -> Task[R]:
        """Run ``work`` in the background; the callbacks run on the main thread."""
        task: Task[R] = Task(work, parent=parent, title=title, on_success=on_success,
                             on_failure=on_failure, cancellable=cancellable)
        self._running.add(task)
        task.finished.connect(lambda: self._running.discard(task))
        task.start()
        return task

    def busy(self) -> bool:
        """Whether any task is still running."""
        return bool(self._running)

