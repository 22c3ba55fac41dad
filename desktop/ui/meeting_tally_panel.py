"""The live tally of a general meeting: quorum, every item with the arithmetic that decides
it, the show of hands typed on the day, the problems to look at, and who has not returned a
form yet, per 班.

The count runs off the UI thread (:class:`TallyRefresher`) after every entry; when entries
come faster than the count, the requests are folded into one more run, so the panel always
ends on the newest result and never queues stale work. Every text with numbers comes from
:mod:`desktop.domain.meeting.explain`, the same words the results sheet and the command line
print, so what the screen says can be checked against the paper.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.domain.meeting import entries
from desktop.domain.meeting.explain import item_breakdown, majority_text, quorum_text
from desktop.domain.meeting.tally import FloorVote, Severity, Tally
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile

GOOD, BAD = "#1b5e20", "#b00020"
ITEM_COLUMNS = (N_("Item"), N_("For"), N_("Against"), N_("Abstain"), N_("Result"))
TITLE, FOR, AGAINST, ABSTAIN, RESULT = range(len(ITEM_COLUMNS))
QUORUM_SCALE = 1.25  # the quorum line is read from across the room on the day
Load = Callable[[], Tally]


class _Bridge(QObject):
    """Carries a finished count from the worker thread to the main thread (queued)."""

    done = Signal(object, object)  # Tally | None, BaseException | None


class TallyRefresher(QObject):
    """Counts the meeting on a worker thread; asking again while it counts runs it once
    more afterwards, so the last result shown is always from after the last request."""

    ready = Signal(object)  # Tally
    failed = Signal(object)  # BaseException

    def __init__(self, load: Load, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.load = load
        self.running = False
        self.pending = False
        # Not a child of this object: a count that ends after the panel closed still has
        # somewhere to deliver to (and nothing listens any more).
        self._bridge = _Bridge()
        self._bridge.done.connect(self._done)
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Count again (now, or as soon as the count under way ends)."""
        if self.running:
            self.pending = True
            return
        self.running = True
        self.pending = False
        bridge, load = self._bridge, self.load

        def work() -> None:
            try:
                result = load()
            except BaseException as error:  # delivered to the main thread, which decides
                bridge.done.emit(None, error)
            else:
                bridge.done.emit(result, None)

        self._thread = threading.Thread(target=work, name="Meeting tally", daemon=True)
        self._thread.start()

    def busy(self) -> bool:
        """Whether a count is under way or asked for."""
        return self.running or self.pending

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until the count under way has finished (shutdown and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    @Slot(object, object)
    def _done(self, result: Tally | None, error: BaseException | None) -> None:
        self.running = False
        if self.pending:
            self.request()
        if error is not None:
            self.failed.emit(error)
        else:
            self.ready.emit(result)


def officer_name() -> str:
    """Who is entering, for the record: the user signed in to the computer (Kairan keeps no
    officer accounts); empty when the system cannot say."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in the environment (rare)
        return ""


class MeetingTallyPanel(QWidget):
    """The tally of one meeting, counted afresh on every :meth:`refresh`."""

    updated = Signal(object)  # Tally: a new count is shown
    floor_recorded = Signal(object)  # FloorVote
    print_requested = Signal()

    def __init__(self, association_file: AssociationFile, *, meeting_id: uuid.UUID,
                 entered_by: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file = association_file
        self.meeting_id = meeting_id
        self.entered_by = officer_name() if entered_by is None else entered_by
        self.now = now
        self.tally: Tally | None = None
        self.group_filter = ""  # the 班 the not-returned list shows ("" for every 班)

        def load() -> Tally:
            with association_file.read() as session:
                return entries.meeting_tally(session, meeting_id=meeting_id)

        self.refresher = TallyRefresher(load, self)
        self.refresher.ready.connect(self.show_tally)
        self.refresher.failed.connect(self._failed)

        self._build_summary()
        floor_box = self._build_floor()
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.not_returned = QTreeWidget()
        self.not_returned.setColumnCount(2)
        self.not_returned.setHeaderLabels([_("班 / voter"), _("Not returned")])
        self.not_returned.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.not_returned.header().setStretchLastSection(False)
        self.print_button = QPushButton(_("Print or e&xport…"))
        self.print_button.clicked.connect(self.print_requested.emit)
        chase = QWidget()
        chase_layout = QVBoxLayout(chase)
        chase_layout.setContentsMargins(0, 0, 0, 0)
        chase_layout.addWidget(self.not_returned, 1)
        self.lists = QTabWidget()
        self.lists.addTab(self.problems, _("Problems"))
        self.lists.addTab(chase, _("Not returned"))

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.quorum)
        top_layout.addWidget(self.counts)
        top_layout.addWidget(self.items, 1)
        top_layout.addLayout(floor_box)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.lists)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.print_button, 0, Qt.AlignmentFlag.AlignLeft)

    def _build_summary(self) -> None:
        """The quorum line, the counts, and the items with their arithmetic."""
        self.quorum = QLabel(_("Counting…"))
        self.quorum.setWordWrap(True)
        self.quorum.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.quorum.font())
        font.setPointSizeF(font.pointSizeF() * QUORUM_SCALE)
        font.setBold(True)
        self.quorum.setFont(font)
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.items = QTreeWidget()
        self.items.setColumnCount(len(ITEM_COLUMNS))
        self.items.setHeaderLabels([_(title) for title in ITEM_COLUMNS])
        header = self.items.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (FOR, AGAINST, ABSTAIN, RESULT):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.items.setWordWrap(True)


    def _build_floor(self) -> QVBoxLayout:
        """The show of hands (挙手): the item, then for / against / abstaining, Enter."""
        self.floor_item = QComboBox()
        self.floor_for = QSpinBox()
        self.floor_against = QSpinBox()
        self.floor_abstain = QSpinBox()
        for spin in (self.floor_for, self.floor_against, self.floor_abstain):
            spin.setRange(0, 999_999)
            spin.installEventFilter(self)
        self.floor_button = QPushButton(_("Record the &show of hands"))
        self.floor_button.clicked.connect(self.record_floor)
        self.floor_hint = QLabel()
        self.floor_hint.setWordWrap(True)
        item_row = QHBoxLayout()
        item_row.addWidget(QLabel(_("Show of hands (挙手) on")))
        item_row.addWidget(self.floor_item, 1)
        counts_row = QHBoxLayout()
        for label, spin in ((_("for"), self.floor_for), (_("against"), self.floor_against),
                            (_("abstaining"), self.floor_abstain)):
            counts_row.addWidget(QLabel(label))
            counts_row.addWidget(spin)
        counts_row.addWidget(self.floor_button)
        counts_row.addStretch(1)
        box = QVBoxLayout()
        box.addLayout(item_row)
        box.addLayout(counts_row)
        box.addWidget(self.floor_hint)
        return box

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in a count moves to the next; on the last it records."""
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            spins = [self.floor_for, self.floor_against, self.floor_abstain]
            if watched in spins:
                position = spins.index(watched)
                if position + 1 < len(spins):
                    spins[position + 1].setFocus()
                    spins[position + 1].selectAll()
                else:
                    self.record_floor()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ counting

    def refresh(self) -> None:
        """Count again in the background; the panel shows the result when it comes."""
        self.refresher.request()

    def busy(self) -> bool:
        """Whether a count is under way."""
        return self.refresher.busy()

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, KairanError):
            raise error
        self.quorum.setText(error.message)
        self.quorum.setStyleSheet(f"color: {BAD};")

    def show_tally(self, tally: Tally) -> None:
        """Show a finished count."""
        self.tally = tally
        reached = tally.quorum.reached
        self.quorum.setText(quorum_text(tally))
        self.quorum.setStyleSheet(f"color: {GOOD if reached else BAD};")
        counts = tally.counts
        self.counts.setText(_(
            "{eligible} voters: in person {in_person} · proxies {proxies} (to the chair "
            "{to_chair}) · written {written} · absent {absent} · no reply {no_reply}"
            " · lapsed {lapsed}").format(
                eligible=counts.eligible, in_person=counts.in_person, proxies=counts.proxies,
                to_chair=counts.to_chair, written=counts.written, absent=counts.absent,
                no_reply=counts.no_reply, lapsed=counts.lapsed))
        self._show_items(tally)
        self._show_problems(tally)
        self._show_not_returned()
        self.floor_hint.setText(_(
            "In the room: {people} present in person holding {held} proxies, {hands} hands "
            "in all. Proxies left to the chair ({chair}) and written votes are added by "
            "Kairan; do not count them again.").format(
                people=counts.in_person, held=counts.to_holder, hands=counts.on_the_floor,
                chair=counts.to_chair))
        self.updated.emit(tally)

    def _show_items(self, tally: Tally) -> None:
        collapsed = {index for index in range(self.items.topLevelItemCount())
                    if (item := self.items.topLevelItem(index)) is not None
                    and not item.isExpanded()}
        self.items.clear()
        chosen = self.floor_item.currentIndex()
        self.floor_item.clear()
        bold = QFont(self.items.font())
        bold.setBold(True)
        for result in tally.items:
            number = result.index + 1
            title = _("{number}. {title}").format(number=number, title=result.item.title)
            self.floor_item.addItem(title, result.index)
            verdict = _("Carried") if result.passed else _("Rejected")
            row = QTreeWidgetItem([
                f"{title}（{majority_text(result.item.majority)}）", str(result.votes.for_),
                str(result.votes.against), str(result.votes.abstain), verdict])
            for column in (FOR, AGAINST, ABSTAIN):
                row.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            row.setForeground(RESULT, QBrush(QColor(GOOD if result.passed else BAD)))
            row.setFont(RESULT, bold)
            arithmetic = QTreeWidgetItem([result.arithmetic])
            arithmetic.setFont(TITLE, bold)
            row.addChild(arithmetic)
            for line in item_breakdown(result, tally.rules):
                row.addChild(QTreeWidgetItem([line]))
            self.items.addTopLevelItem(row)
            for child in range(row.childCount()):
                child_item = row.child(child)
                if child_item is not None:
                    child_item.setFirstColumnSpanned(True)
            row.setExpanded(result.index not in collapsed)  # as the officer left it
        if tally.items:
            self.floor_item.setCurrentIndex(min(max(chosen, 0), len(tally.items) - 1))

    def _show_problems(self, tally: Tally) -> None:
        self.problems.clear()
        for problem in tally.problems:
            item = QListWidgetItem(problem.message)
            if problem.severity is Severity.WARNING:
                item.setForeground(QBrush(QColor(BAD)))
            self.problems.addItem(item)
        warnings = sum(problem.severity is Severity.WARNING for problem in tally.problems)
        self.lists.setTabText(0, _("Problems ({warnings} to check, {notes} notes)").format(
            warnings=warnings, notes=len(tally.problems) - warnings))

    def set_group_filter(self, group_name: str) -> None:
        """Show the not-returned list of one 班 only ("" for every 班)."""
        self.group_filter = group_name
        self._show_not_returned()

    def _show_not_returned(self) -> None:
        self.not_returned.clear()
        if self.tally is None:
            return
        shown = [chase for chase in self.tally.not_returned
                 if not self.group_filter or chase.group_name == self.group_filter]
        total = 0
        for chase in shown:
            group = QTreeWidgetItem([chase.group_name or _("(no 班)"), str(len(chase.voters))])
            group.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            for voter in chase.voters:
                group.addChild(QTreeWidgetItem([f"{voter.number}  {voter.name}"]))
            self.not_returned.addTopLevelItem(group)
            group.setExpanded(bool(self.group_filter) or len(shown) <= 3)
            total += len(chase.voters)
        self.not_returned.resizeColumnToContents(1)
        self.lists.setTabText(1, _("Not returned ({count})").format(count=total))

    # ------------------------------------------------------------ the show of hands

    def record_floor(self) -> FloorVote | None:
        """Record the show of hands typed for the chosen item, and count again."""
        index = self.floor_item.currentData()
        if index is None:
            self.floor_hint.setText(_("There is no agenda item to count hands for."))
            return None
        try:
            with self.file.write() as session:
                vote = entries.record_floor_vote(
                    session, meeting_id=self.meeting_id, item_index=int(index),
                    for_=self.floor_for.value(), against=self.floor_against.value(),
                    abstain=self.floor_abstain.value(), entered_by=self.entered_by,
                    entered_at=self.now())
        except KairanError as error:
            self.floor_hint.setText(error.message)
            self.floor_hint.setStyleSheet(f"color: {BAD};")
            return None
        self.floor_hint.setStyleSheet("")
        for spin in (self.floor_for, self.floor_against, self.floor_abstain):
            spin.setValue(0)
        if self.floor_item.currentIndex() + 1 < self.floor_item.count():
            self.floor_item.setCurrentIndex(self.floor_item.currentIndex() + 1)
        self.floor_for.setFocus()
        self.floor_for.selectAll()
        self.floor_recorded.emit(vote)
        self.refresh()
        return vote

    # ------------------------------------------------------------ reading (tests, printing)

    def item_lines(self, index: int) -> list[str]:
        """What the panel shows under item ``index``: the arithmetic, then the breakdown."""
        row = self.items.topLevelItem(index)
        if row is None:
            return []
        return [child.text(TITLE) for child in (row.child(n) for n in range(row.childCount()))
                if child is not None]

    def item_row(self, index: int) -> list[str]:
        """The item's line: title and rule, for, against, abstaining, the verdict."""
        row = self.items.topLevelItem(index)
        return [] if row is None else [row.text(column) for column in range(len(ITEM_COLUMNS))]

    def not_returned_shown(self) -> dict[str, list[str]]:
        """班 → the voters listed as not returned (number and name)."""
        shown: dict[str, list[str]] = {}
        for index in range(self.not_returned.topLevelItemCount()):
            group = self.not_returned.topLevelItem(index)
            if group is None:
                continue
            shown[group.text(0)] = [
                child.text(0) for child in (group.child(n) for n in range(group.childCount()))
                if child is not None]
        return shown


class MeetingTallyWindow(QDialog):
    """The live tally on its own, to keep open beside the entry screen or on a projector."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile, *,
                 meeting_id: uuid.UUID, title: str, entered_by: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Tally: {title}").format(title=title))
        self.panel = MeetingTallyPanel(association_file, meeting_id=meeting_id,
                                       entered_by=entered_by, now=now)
        self.refresh_button = QPushButton(_("Count &again"))
        self.refresh_button.clicked.connect(self.panel.refresh)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 64, em * 46)
        self.panel.refresh()
