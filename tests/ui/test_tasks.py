"""Background work: results and errors come back on the main thread, progress reaches the
dialog, and cancelling stops the work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from desktop.ui.main_window import MainWindow
from desktop.ui.tasks import TaskCancelled, TaskContext, TaskRunner
from tests.ui.helpers import Messages

MAIN = threading.get_ident()


@dataclass
class Outcome:
    """What the callbacks received, and on which thread."""

    results: list[Any] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)

    def success(self, result: Any) -> None:
        self.results.append(result)
        self.threads.append(threading.get_ident())

    def failure(self, error: BaseException) -> None:
        self.errors.append(error)
        self.threads.append(threading.get_ident())

    def done(self) -> bool:
        return bool(self.results or self.errors)


@pytest.fixture
def parent(qtbot: Any) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def runner(parent: QWidget) -> TaskRunner:
    return TaskRunner(parent)


def _run(
    runner: TaskRunner, parent: QWidget, work: Callable[[TaskContext], Any], outcome: Outcome
) -> Any:
    return runner.run(
        work,
        parent=parent,
        title="Working…",
        on_success=outcome.success,
        on_failure=outcome.failure,
    )


def test_result_arrives_on_the_main_thread(qtbot: Any, runner: TaskRunner, parent: QWidget) -> None:
    worker: list[int] = []

    def work(context: TaskContext) -> int:
        worker.append(threading.get_ident())
        for step in range(1, 6):
            context.progress(step, 5)
        return 42

    outcome = Outcome()
    _run(runner, parent, work, outcome)
    assert runner.busy()
    qtbot.waitUntil(outcome.done, timeout=3000)
    assert outcome.results == [42]
    assert outcome.errors == []
    assert outcome.threads == [MAIN]
    assert worker and worker[0] != MAIN  # the work itself ran elsewhere
    assert not runner.busy()


def test_progress_reaches_the_dialog_while_the_work_runs(
    qtbot: Any, runner: TaskRunner, parent: QWidget
) -> None:
    release = threading.Event()

    def work(context: TaskContext) -> str:
        context.progress(3, 7)
        release.wait(5)
        return "done"

    outcome = Outcome()
    task = _run(runner, parent, work, outcome)
    try:
        qtbot.waitUntil(lambda: task.dialog.maximum() == 7, timeout=3000)
        assert task.dialog.value() == 3
        assert not outcome.done()
    finally:
        release.set()
    qtbot.waitUntil(outcome.done, timeout=3000)
    assert outcome.results == ["done"]


def test_cancel_stops_the_work(qtbot: Any, runner: TaskRunner, parent: QWidget) -> None:
    started = threading.Event()
    steps: list[int] = []

    def work(context: TaskContext) -> None:
        started.set()
        for step in range(1_000_000):
            steps.append(step)
            context.progress(step, 1_000_000)
            threading.Event().wait(0.001)

    outcome = Outcome()
    task = _run(runner, parent, work, outcome)
    assert started.wait(3)
    task.context.cancel()
    qtbot.waitUntil(outcome.done, timeout=3000)
    assert task.wait(1)  # the worker has ended
    assert [type(error) for error in outcome.errors] == [TaskCancelled]
    assert outcome.threads == [MAIN]
    assert outcome.results == []
    done = len(steps)
    qtbot.wait(20)
    assert len(steps) == done < 1_000_000
    assert not runner.busy()


def test_cancel_button_cancels(qtbot: Any, runner: TaskRunner, parent: QWidget) -> None:
    started = threading.Event()

    def work(context: TaskContext) -> None:
        started.set()
        while not context.cancelled():
            threading.Event().wait(0.001)
        context.check()

    outcome = Outcome()
    task = _run(runner, parent, work, outcome)
    assert started.wait(3)
    task.dialog.canceled.emit()  # what the dialog's Cancel button sends
    qtbot.waitUntil(outcome.done, timeout=3000)
    assert [type(error) for error in outcome.errors] == [TaskCancelled]


def test_an_exception_reaches_on_failure(qtbot: Any, runner: TaskRunner, parent: QWidget) -> None:
    def work(_context: TaskContext) -> None:
        raise ValueError("boom")

    outcome = Outcome()
    _run(runner, parent, work, outcome)
    qtbot.waitUntil(outcome.done, timeout=3000)
    assert [str(error) for error in outcome.errors] == ["boom"]
    assert isinstance(outcome.errors[0], ValueError)
    assert outcome.threads == [MAIN]
    assert outcome.results == []
    assert not runner.busy()


def test_several_tasks_each_deliver_their_own_result(
    qtbot: Any, runner: TaskRunner, parent: QWidget
) -> None:
    outcome = Outcome()
    for number in range(5):
        _run(runner, parent, lambda _context, n=number: n * n, outcome)
    qtbot.waitUntil(lambda: len(outcome.results) == 5, timeout=3000)
    assert sorted(outcome.results) == [0, 1, 4, 9, 16]
    assert set(outcome.threads) == {MAIN}


# ---------------------------------------------------------------- in the window


def test_back_up_now_runs_in_the_background_and_says_where(
    qtbot: Any, window: MainWindow, messages: Messages
) -> None:
    window.backup_now()
    qtbot.waitUntil(lambda: bool(messages.informations), timeout=5000)
    (backup,) = window.file.backups.list()
    assert messages.informations == [f"Backed up to {backup.path}."]
    assert backup.reason == "manual"
    assert not window.tasks.busy()


def test_closing_while_working_is_refused(
    qtbot: Any, window: MainWindow, messages: Messages
) -> None:
    release = threading.Event()
    outcome = Outcome()
    window.tasks.run(
        lambda _context: release.wait(5),
        parent=window,
        title="Working…",
        on_success=outcome.success,
        on_failure=outcome.failure,
    )
    try:
        assert window.close() is False
        assert window.isVisible()
        assert "still working" in messages.warnings[0]
    finally:
        release.set()
    qtbot.waitUntil(outcome.done, timeout=3000)
    assert window.close() is True
