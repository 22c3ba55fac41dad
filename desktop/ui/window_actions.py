"""The base of the window's command groups (households, groups, roles, files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


class WindowActions:
    """Commands that act on the window's association file through its undoable editor."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.file = window.file
        self.editor = window.editor
