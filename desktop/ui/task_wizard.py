"""A wizard whose pages start background work: one task at a time, progress and cancel.

The import wizard (reading, previewing, importing) and the handover wizard (planning, handing
over) both run long work off the UI thread from their pages. A newer run makes an older one's
result stale (dropped when it arrives); Cancel or Escape first stops the work under way, and
the wizard closes once it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget, QWizard

from desktop.ui.tasks import Task, TaskContext, TaskRunner

R = TypeVar("R")


class TaskWizard(QWizard):
    """A QWizard with :meth:`run` for its pages' background work."""

    def __init__(self, parent: QWidget | None, tasks: TaskRunner) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.task: Task[Any] | None = None
        self._token = 0
        self._closing = False

    @property
    def busy(self) -> bool:
        """Whether background work is under way."""
        return self.task is not None

    def run(self, work: Callable[[TaskContext], R], *, title: str,
            done: Callable[[R], None], failed: Callable[[BaseException], None],
            cancellable: bool = True) -> None:
        """Run ``work`` in the background with progress; ``done`` gets its result, ``failed``
        its error (cancelling included), unless a newer run overtook it."""
        if self.task is not None:
            self.task.context.cancel()
        self._token += 1
        token = self._token

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            if token != self._token:
                return  # overtaken by a newer run
            self.task = None
            try:
                callback(value)
            finally:
                self._settled()

        self.task = self.tasks.run(work, parent=self, title=title, cancellable=cancellable,
                                   on_success=lambda result: finish(done, result),
                                   on_failure=lambda error: finish(failed, error))
        self.task.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._settled()

    def _settled(self) -> None:
        page = self.currentPage()
        if page is not None:
            page.completeChanged.emit()
        if self.task is None and self._closing and self.isVisible():
            super().reject()

    def reject(self) -> None:
        """Cancel (or Escape): stop the work under way first; the wizard closes when it has."""
        if self.task is not None:
            self._closing = True
            self.task.context.cancel()
            return
        super().reject()
