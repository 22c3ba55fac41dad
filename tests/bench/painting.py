"""Qt helpers of the measured children: the QApplication, waiting for a widget's first paint,
and the floor — the least a Qt program must do to show the roster (raw sqlite3, a minimal
model, a plain QTableView).

Imported only inside child processes, after the timing of a cold start has begun.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QEventLoop,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView, QWidget

from tests.bench.common import FLOOR_SQL

WINDOW_SIZE = (1200, 760)  # what the main window opens at without saved geometry
Index = QModelIndex | QPersistentModelIndex


def has_rows(view: QTableView) -> Callable[[], bool]:
    """A ``ready`` test for :func:`wait_for_first_paint`: the view's model has rows."""
    return lambda: view.model() is not None and view.model().rowCount() > 0


def make_app() -> QApplication:
    """The QApplication of a child (offscreen platform, set by the parent)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    return app


class _PaintWatcher(QObject):
    """Notes the first Paint event of a widget and records the time once it is handled."""

    def __init__(self, loop: QEventLoop, ready: Callable[[], bool]) -> None:
        super().__init__()
        self.loop = loop
        self.ready = ready
        self.seen = False
        self.painted_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.seen and event.type() == QEvent.Type.Paint and self.ready():
            self.seen = True
            # Runs once the event loop is back: the paint (and the flush) is complete then.
            QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        self.painted_at = time.perf_counter()
        self.loop.quit()


def wait_for_first_paint(widget: QWidget, *, ready: Callable[[], bool] = lambda: True,
                         timeout: float = 120.0) -> float | None:
    """Run the event loop until ``widget`` has finished its next paint made while ``ready()``
    holds (a table with rows, not an empty placeholder); return ``time.perf_counter()`` at that
    moment, or None on timeout."""
    loop = QEventLoop()
    watcher = _PaintWatcher(loop, ready)
    widget.installEventFilter(watcher)
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    loop.exec()
    widget.removeEventFilter(watcher)
    return watcher.painted_at


def process_events_until(done: Callable[[], bool], *, timeout: float) -> bool:
    """Keep the event loop turning until ``done()`` is true; False on timeout."""
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return True


# ------------------------------------------------------------------ the floor


def ensure_japanese_font_floor() -> None:
    """The floor's equivalent of the app's font set-up: register the shipped IPAex Gothic only
    when the system has no font for Japanese (so both sides render the same glyphs)."""
    if QFontDatabase.families(QFontDatabase.WritingSystem.Japanese):
        return
    with resources.as_file(resources.files("resources") / "fonts" / "ipaexg.ttf") as path:
        QFontDatabase.addApplicationFont(str(path))


def load_floor_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every household as a plain tuple, straight from sqlite3."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(FLOOR_SQL).fetchall()
    finally:
        connection.close()


class FloorModel(QAbstractTableModel):
    """The smallest table model over a list of tuples, optionally showing a subset of rows."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        super().__init__()
        self.rows = rows
        self.columns = len(rows[0]) if rows else 0
        self.shown: list[int] | None = None  # None: every row

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self.rows) if self.shown is None else len(self.shown)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.columns

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        row = index.row() if self.shown is None else self.shown[index.row()]
        return self.rows[row][index.column()]

    def show_rows(self, shown: list[int] | None) -> None:
        """Show only ``shown`` (None: all), resetting the model as a plain filter would."""
        self.beginResetModel()
        self.shown = shown
        self.endResetModel()


def floor_window(rows: list[tuple[Any, ...]]) -> tuple[QMainWindow, QTableView, FloorModel]:
    """A QMainWindow with a QTableView over ``rows`` as its central widget, shown."""
    model = FloorModel(rows)
    window = QMainWindow()
    view = QTableView()
    view.setModel(model)
    window.setCentralWidget(view)
    window.resize(*WINDOW_SIZE)
    window.show()
    return window, view, model
