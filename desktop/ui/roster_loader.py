"""Reading what the window shows of the roster: the table, the group tree and their counts.

A small roster is read at once. A large one (a 連合自治会 with tens of thousands of
households) first shows its first screenful, read through the 50音 index in a millisecond,
while the whole roster is read on a worker thread; anything that needs the whole (a search,
a filter) waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.domain import groups
from desktop.domain.groups import GroupNode
from desktop.domain.roster import RosterTable, count_households, load_roster, load_roster_head
from desktop.store.association_file import AssociationFile

HEAD_FIRST_FROM = 5000  # households; below this the whole roster reads in a blink
HEAD_ROWS = 120  # more than a large screen shows


@dataclass(frozen=True, slots=True)
class RosterData:
    """Everything the roster view and the group tree show."""

    table: RosterTable
    tree: list[GroupNode]
    unassigned: int

    @property
    def active(self) -> int:
        """Member households (withdrawn ones not counted)."""
        return self.unassigned + sum(node.households for node in self.tree
                                     if node.parent_id is None)


def read_roster(association_file: AssociationFile) -> RosterData:
    """The whole roster with its group tree, in one read transaction."""
    with association_file.read() as session:
        table = load_roster(session)
        counts = groups.household_counts(session)
        tree = groups.group_tree(session, counts=counts)
    return RosterData(table, tree, counts.get(None, (0, 0))[0])


class _Bridge(QObject):
    arrived = Signal(object)


class RosterLoader:
    """Reads the roster for the window, the head first when it is large."""

    def __init__(self, association_file: AssociationFile,
                 apply: Callable[[RosterData], None]) -> None:
        self._file = association_file
        self._apply = apply
        self._pending: Future[RosterData] | None = None
        self._bridge = _Bridge()
        self._bridge.arrived.connect(self._arrived)

    def load(self, *, head_first: bool = False) -> None:
        """Read the roster and apply it; with ``head_first``, a large roster's first screenful
        is applied now and the whole when it has been read."""
        if head_first:
            with self._file.read() as session:
                large = count_households(session) >= HEAD_FIRST_FROM
                head = load_roster_head(session, limit=HEAD_ROWS) if large else None
            if head is not None:
                self._start_background()
                self._apply(RosterData(head, [], 0))
                return
        self._pending = None  # a newer read wins over one still under way
        self._apply(read_roster(self._file))

    def finish(self) -> None:
        """Wait for a background read and apply it now (a search needs the whole roster)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._apply(pending.result())

    @property
    def loading(self) -> bool:
        """Whether the whole roster is still being read."""
        return self._pending is not None

    def _start_background(self) -> None:
        future: Future[RosterData] = Future()
        self._pending = future

        def work() -> None:
            try:
                future.set_result(read_roster(self._file))
            except BaseException as error:  # re-raised on the main thread
                future.set_exception(error)
            self._bridge.arrived.emit(future)

        threading.Thread(target=work, name="roster", daemon=True).start()

    def _arrived(self, future: Future[RosterData]) -> None:
        if future is self._pending:  # not already applied by finish(), nor overtaken
            self._pending = None
            self._apply(future.result())
