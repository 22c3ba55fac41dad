"""Knowing when the roster is first painted: for the self-test and for timing a cold start.

The moment an officer can read the roster is the end of start-up, so both the installed
program's self-test and the start-up benchmark wait for the first paint of the roster table,
not for the window merely being created.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop.i18n import _, current_language, set_language

if TYPE_CHECKING:
    from desktop.app import AppController

PAINT_TIMEOUT_MS = 60_000


class FirstPaint(QObject):
    """Calls ``then`` once, after the watched widget has painted for the first time."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then: Callable[[], None] | None = then
        widget.installEventFilter(self)
        widget.update()  # in case it painted already (events processed while opening)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            then, self._then = self._then, None
            watched.removeEventFilter(self)
            QTimer.singleShot(0, then)  # after this paint has finished
        return False


def use_offscreen_without_display() -> None:
    """On a Linux machine with no screen (a CI runner), let Qt draw offscreen."""
    if (sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in os.environ
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def exit_after_first_paint(roster_view: QWidget) -> None:
    """End the process as soon as ``roster_view`` has painted (timing a cold start).

    At once, with ``os._exit``: an orderly shutdown would wait for, or race with, the
    background work the window started (the file's integrity check), which is not start-up.
    Nothing has been written by then.
    """
    def leave() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    FirstPaint(roster_view, leave)


def paint_roster_once(path: Path) -> tuple[int, int, int]:
    """Open ``path`` in the real main window, wait for the roster's first paint, and close.

    Returns the roster's row count and the window's painted size.
    """
    use_offscreen_without_display()
    from desktop.app import AppController, ensure_japanese_font
    from desktop.ui.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    ensure_japanese_font()
    language = current_language()
    try:
        return _paint_and_close(app, AppController(app, Settings()), path)
    finally:
        set_language(language)  # the window took the settings' language


def _paint_and_close(app: QApplication, controller: AppController,
                     path: Path) -> tuple[int, int, int]:
    if not controller.open_path(path):
        raise RuntimeError(_("the window could not open {file}").format(file=path))
    window = controller.window
    assert window is not None and controller.file is not None
    # A loop of our own, not app.exec(): after exec() returns, Qt treats the application as
    # closing, which a test run (or anything after the self-test) must not inherit.
    loop = QEventLoop()
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    timeout.start(PAINT_TIMEOUT_MS)
    FirstPaint(window.roster.table.viewport(), loop.quit)
    loop.exec()
    painted = timeout.isActive()
    timeout.stop()
    deadline = time.monotonic() + PAINT_TIMEOUT_MS / 1000
    while window.tasks.busy() and time.monotonic() < deadline:  # the background file check
        app.processEvents()
        time.sleep(0.01)
    image = window.grab().toImage()
    rows = window.model.rowCount()
    window.close()
    controller.file.close()
    # Gone for good, with the timers it owns (the day's backup, 10 s after the file check):
    # nothing of this window may fire later into whatever runs next in this process.
    controller.window = controller.file = None
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if not painted:
        raise RuntimeError(_("the roster was not painted within a minute"))
    return rows, image.width(), image.height()
