"""Undo and redo of roster edits: each edit is a pair of domain calls in one transaction.

An edit runs once when the officer makes it (so errors reach the officer before anything is
put on the stack); the stack then only replays it on redo after an undo.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack
from sqlmodel import Session

from desktop.domain.errors import KairanError
from desktop.store.association_file import AssociationFile

Change = Callable[[Session], object]  # a domain call; its result is not needed


class EditCommand(QUndoCommand):
    """A roster edit with its inverse."""

    def __init__(self, editor: Editor, text: str, redo: Change, undo: Change) -> None:
        super().__init__(text)
        self._editor = editor
        self._redo = redo
        self._undo = undo
        self._done_once = True  # the edit was applied before it was pushed

    def redo(self) -> None:
        if self._done_once:
            self._done_once = False
            return
        self._editor.replay(self._redo, self.text())

    def undo(self) -> None:
        self._editor.replay(self._undo, self.text())


class Editor:
    """Applies edits to the association file and keeps them on an undo stack."""

    def __init__(
        self,
        association_file: AssociationFile,
        stack: QUndoStack,
        *,
        changed: Callable[[], None],
        report: Callable[[str], None],
    ) -> None:
        self.file = association_file
        self.stack = stack
        self._changed = changed  # reload the views
        self._report = report  # show a problem to the officer

    def apply(self, text: str, redo: Change, undo: Change) -> bool:
        """Make an edit now; on success it can be undone. Returns whether it was made."""
        try:
            with self.file.write() as session:
                redo(session)
        except KairanError as error:
            self._report(error.message)
            return False
        self.record(text, redo, undo)
        return True

    def record(self, text: str, redo: Change, undo: Change) -> None:
        """Put an edit that has just been made on the undo stack and refresh the views."""
        self.stack.push(EditCommand(self, text, redo, undo))
        self._changed()

    def replay(self, change: Change, text: str) -> None:
        """Run an undo or redo; if the roster changed meanwhile so it cannot, say so and
        forget the history (the roster itself is left as it is)."""
        try:
            with self.file.write() as session:
                change(session)
        except KairanError as error:
            self._report(error.message)
            # Clearing from inside an undo/redo is not allowed; do it right after.
            QTimer.singleShot(0, self.stack.clear)
        self._changed()
