"""The safety check (安否確認) in the window: the disaster-mode switch, the live board per 班,
answers gathered by phone or at the door, and the unanswered list printed per 班.

The board counts, per 班, the households that answered since disaster mode was switched on,
those that have not, those to contact (連絡要, or safe but someone at home needs help) and
those that need help now (至急支援要); choosing a 班 lists its households in route order,
the ones in need first in colour. It is read again after every sync that brought answers,
after each answer entered here, and whenever the tab is shown.

Entry is keyboard-first: type the household number, pick the answer (1 / 2 / 3), Enter.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import safety
from desktop.domain.association import get_association
from desktop.domain.errors import KairanError
from desktop.domain.models import ReplyChannel, SafetyStatus
from desktop.domain.replies import channel_label
from desktop.domain.safety import DisasterState, GroupSafety, HouseholdSafety, SafetyBoard
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.tasks import Task, TaskCancelled
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow
    from desktop.ui.pdf_preview import PdfPreview
    from desktop.ui.print_dialog import Progress
    from reports.pdf.unanswered_pdf import UnansweredList
    from sync.engine import SyncStatus

ENTRY_CHANNELS = (ReplyChannel.PHONE, ReplyChannel.IN_PERSON, ReplyChannel.PAPER)
_URGENT, _CONTACT, _OK = "#b00020", "#7a4f00", "#1b5e20"
_ID = Qt.ItemDataRole.UserRole


def _item(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None  # every cell is filled when a row is made
    return item
_NO_GROUP = "-"


def _when(moment: datetime) -> str:
    local = moment.astimezone()
    return f"{local.month}/{local.day} {local:%H:%M}"


def _group_name(group: GroupSafety) -> str:
    return group.group_name or _("No 班")


class SafetyBoardPanel(QWidget):
    """The 安否確認 tab: switch, board per 班, the chosen 班's households, entry."""

    switch_requested = Signal()
    record_requested = Signal()
    print_requested = Signal()
    event_chosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.board: SafetyBoard | None = None
        self.state = QLabel()
        self.state.setWordWrap(True)
        bold = QFont(self.state.font())
        bold.setPointSizeF(bold.pointSizeF() * 1.2)
        bold.setBold(True)
        self.state.setFont(bold)
        self.switch_button = QPushButton()
        self.switch_button.clicked.connect(self.switch_requested.emit)
        self.events = QComboBox()
        self.events.currentIndexChanged.connect(lambda _index: self.event_chosen.emit())
        top = QHBoxLayout()
        top.addWidget(self.state, 1)
        top.addWidget(QLabel(_("Safety check of")))
        top.addWidget(self.events)
        top.addWidget(self.switch_button)

        self.summary = QTableWidget(0, 5)
        self.summary.setHorizontalHeaderLabels([
            _("班"), _("Answered"), _("Unanswered"), _("Needs contact"), _("Needs help now")])
        self._table(self.summary)
        self.summary.horizontalHeader().setStretchLastSection(False)
        self.summary.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.summary.itemSelectionChanged.connect(self._show_group)
        self.households = QTableWidget(0, 6)
        self.households.setHorizontalHeaderLabels([
            _("Household"), _("Answer"), _("Help at home"), _("Note"), _("When, how"),
            _("Phone")])
        self._table(self.households)
        entry = self._build_entry()
        self.print_button = QPushButton(_("&Print the unanswered list per 班…"))
        self.print_button.clicked.connect(self.print_requested.emit)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.households, 3)
        layout.addLayout(entry)
        layout.addWidget(self.result)
        layout.addWidget(self.print_button, 0, Qt.AlignmentFlag.AlignLeft)

    def _build_entry(self) -> QHBoxLayout:
        """The row where an officer types an answer gathered by phone or at the door."""
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(_("Household number"))
        self.status = QComboBox()
        for number, status in enumerate(SafetyStatus, start=1):
            self.status.addItem(f"{number} {safety.status_label(status)}", status.value)
        self.needs_help = QCheckBox(_("Someone at home needs &help"))
        self.note = QLineEdit()
        self.note.setPlaceholderText(_("Note (optional)"))
        self.channel = QComboBox()
        for channel in ENTRY_CHANNELS:
            self.channel.addItem(channel_label(channel), channel.value)
        self.record_button = QPushButton(_("&Record"))
        self.record_button.clicked.connect(self.record_requested.emit)
        for field in (self.entry, self.note):
            field.returnPressed.connect(self.record_requested.emit)
        for number in range(1, len(SafetyStatus) + 1):  # Alt+1..3 picks the answer
            QShortcut(QKeySequence(f"Alt+{number}"), self).activated.connect(
                lambda index=number - 1: self.status.setCurrentIndex(index))
        entry = QHBoxLayout()
        label = QLabel(_("&Enter an answer:"))
        label.setBuddy(self.entry)
        entry.addWidget(label)
        entry.addWidget(self.entry)
        entry.addWidget(self.status)
        entry.addWidget(self.needs_help)
        entry.addWidget(self.note, 1)
        entry.addWidget(self.channel)
        entry.addWidget(self.record_button)
        self.result = QLabel()
        self.result.setWordWrap(True)
        return entry

    @staticmethod
    def _table(table: QTableWidget) -> None:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)

    # ------------------------------------------------------------ showing

    def set_events(self, events: list[DisasterState], chosen: uuid.UUID | None) -> None:
        """The events to choose from, newest first."""
        self.events.blockSignals(True)
        self.events.clear()
        for event in events:
            end = _when(event.ended_at) if event.ended_at is not None else _("now")
            self.events.addItem(f"{_when(event.started_at)} – {end}", event.event_id.hex)
        if chosen is not None:
            self.events.setCurrentIndex(max(self.events.findData(chosen.hex), 0))
        self.events.blockSignals(False)
        self.events.setEnabled(bool(events))

    def chosen_event(self) -> uuid.UUID | None:
        """The event whose board is shown (None: the newest)."""
        value = self.events.currentData()
        return uuid.UUID(hex=value) if value else None

    def set_board(self, board: SafetyBoard) -> None:
        """Show a board, keeping the chosen 班."""
        chosen = self.chosen_group()
        self.board = board
        state = board.state
        if state is None:
            self.state.setText(_("Disaster mode has never been switched on."))
        elif state.on:
            text = _("Disaster mode is ON since {time}.").format(time=_when(state.started_at))
            if state.message:
                text += f"　「{state.message}」"
            self.state.setText(text)
        else:
            self.state.setText(_("Disaster mode is off (the record of {time} is kept).").format(
                time=_when(state.started_at)))
        self.state.setStyleSheet(f"color: {_URGENT}" if state is not None and state.on else "")
        self.switch_button.setText(_("Switch disaster mode &off…") if state is not None
                                   and state.on else _("Switch disaster mode &on…"))
        self.summary.setRowCount(len(board.groups) + 1)
        totals = [0, 0, 0, 0]
        for row, group in enumerate(board.groups):
            counts = [group.answered, len(group.unanswered), group.needs_contact,
                      group.needs_help_now]
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            self._summary_row(row, _group_name(group), counts,
                              group.group_id.hex if group.group_id else _NO_GROUP)
        self._summary_row(len(board.groups), _("All"), totals, "")
        row = next((r for r in range(self.summary.rowCount())  # all 班 unless one is chosen
                    if _item(self.summary, r, 0).data(_ID) == chosen), len(board.groups))
        self.summary.selectRow(row)
        self._show_group()

    def _summary_row(self, row: int, name: str, counts: list[int], key: str) -> None:
        item = QTableWidgetItem(name)
        item.setData(_ID, key)
        self.summary.setItem(row, 0, item)
        for column, count in enumerate(counts, start=1):
            cell = QTableWidgetItem(str(count))
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if count and column == 4:
                cell.setForeground(QBrush(QColor(_URGENT)))
            elif count and column == 3:
                cell.setForeground(QBrush(QColor(_CONTACT)))
            self.summary.setItem(row, column, cell)

    def chosen_group(self) -> str | None:
        """The key of the 班 chosen in the summary ("" for all, "-" for no 班)."""
        rows = self.summary.selectionModel().selectedRows() if self.summary.rowCount() else []
        if not rows:
            return None
        return str(_item(self.summary, rows[0].row(), 0).data(_ID))

    def shown_groups(self) -> list[GroupSafety]:
        """The 班 whose households are listed (all of them for the 「All」 row)."""
        if self.board is None:
            return []
        key = self.chosen_group()
        if not key:
            return list(self.board.groups)
        return [group for group in self.board.groups
                if (group.group_id.hex if group.group_id else _NO_GROUP) == key]

    def _show_group(self) -> None:
        households = [household for group in self.shown_groups()
                      for household in group.households]
        self.households.setRowCount(len(households))
        for row, household in enumerate(households):
            self._household_row(row, household)

    def _household_row(self, row: int, household: HouseholdSafety) -> None:
        status = household.status
        texts = [
            f"{household.number} {household.display_name}",
            safety.status_label(status) if status is not None else _("No answer yet"),
            _("Yes") if household.needs_help else "",
            household.note,
            (f"{_when(household.at)} {channel_label(household.channel)}"
             if household.at is not None and household.channel is not None else ""),
            household.phone,
        ]
        colour = (_URGENT if status == SafetyStatus.URGENT
                  else _CONTACT if household.needs_contact
                  else _OK if status is not None else None)
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            if colour is not None and column < 3:
                item.setForeground(QBrush(QColor(colour)))
            self.households.setItem(row, column, item)

    def listed(self) -> list[tuple[str, str]]:
        """(household, answer) of the rows listed, as shown."""
        return [(_item(self.households, row, 0).text(), _item(self.households, row, 1).text())
                for row in range(self.households.rowCount())]

    def counts(self) -> dict[str, tuple[int, int, int, int]]:
        """Per 班 as shown: answered, unanswered, needs contact, needs help now."""
        return {_item(self.summary, row, 0).text(): tuple(  # type: ignore[misc]
                    int(_item(self.summary, row, column).text()) for column in range(1, 5))
                for row in range(self.summary.rowCount())}


class SafetyActions(WindowActions):
    """What the officer does with the safety check."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.panel = window.safety_board
        self.job_folder: Path | None = None  # where PDFs are made (tests point it elsewhere)
        self.printing = False
        self.task: Task[Path] | None = None
        self.preview: PdfPreview | None = None
        panel = self.panel
        panel.switch_requested.connect(self.switch)
        panel.record_requested.connect(self.record)
        panel.print_requested.connect(self.print_unanswered)
        panel.event_chosen.connect(self.refresh)

    def refresh(self) -> None:
        """Read the board again (the event chosen, or the newest)."""
        chosen = self.panel.chosen_event()
        with self.file.read() as session:
            events = safety.disaster_events(session)
            if chosen is not None and chosen not in {event.event_id for event in events}:
                chosen = None
            board = safety.safety_board(session, event_id=chosen)
        self.panel.set_events(events, board.state.event_id if board.state else None)
        self.panel.set_board(board)

    def synced(self, status: SyncStatus) -> None:
        """After a sync: read the board again if answers (or a switch) came in."""
        if status.applied.safety or status.applied.disaster:
            self.refresh()

    def switch(self) -> bool:
        """Switch disaster mode on (asking the message for residents) or off (asking first)."""
        with self.file.read() as session:
            state = safety.disaster_state(session)
        on = state is None or not state.on
        message = ""
        if on:
            message, ok = QInputDialog.getText(
                self.window, _("Switch disaster mode on"),
                _("Residents' page becomes the safety check. A short message for them "
                  "(for example: 避難所は公民館です):"))
            if not ok:
                return False
        elif not messages.confirm(self.window, _(
                "Switch disaster mode off? The safety check ends on residents' page; the "
                "answers are kept.")):
            return False
        try:
            with self.file.write() as session:
                safety.set_disaster_mode(session, on=on, message=message,
                                         at=datetime.now(UTC))
        except KairanError as error:
            messages.warn(self.window, error.message)
            return False
        self._reset_event()
        self.refresh()
        self.window.sync_actions.local_change()
        return True

    def _reset_event(self) -> None:
        """Show the newest event (the one just switched) from now on."""
        self.panel.events.blockSignals(True)
        self.panel.events.clear()
        self.panel.events.blockSignals(False)

    def record(self) -> HouseholdSafety | None:
        """Record the answer typed in the entry row; ready for the next one."""
        panel = self.panel
        try:
            with self.file.write() as session:
                recorded = safety.record_safety_answer(
                    session, entry=panel.entry.text(),
                    status=SafetyStatus(panel.status.currentData()),
                    channel=ReplyChannel(panel.channel.currentData()),
                    needs_help=panel.needs_help.isChecked(), note=panel.note.text(),
                    at=datetime.now(UTC))
        except KairanError as error:
            panel.result.setStyleSheet(f"color: {_URGENT}")
            panel.result.setText(error.message)
            panel.entry.setFocus()
            panel.entry.selectAll()
            return None
        panel.result.setStyleSheet(f"color: {_OK}")
        panel.result.setText(_("Recorded: {number} {name} — {answer}").format(
            number=recorded.number, name=recorded.display_name,
            answer=safety.status_label(recorded.status or SafetyStatus.OK)))
        panel.entry.clear()
        panel.note.clear()
        panel.needs_help.setChecked(False)
        panel.status.setCurrentIndex(0)
        panel.entry.setFocus()
        self.refresh()
        return recorded

    def unanswered_document(self, *, printed_on: date) -> UnansweredList:
        # Imported when first used: reportlab would cost the window's start-up.
        from reports.pdf.unanswered_pdf import (
            UnansweredGroup,
            UnansweredHousehold,
            UnansweredList,
        )

        """The unanswered households of the board shown, per 班 (the 班 chosen, or all)."""
        with self.file.read() as session:
            association = get_association(session).name
        board = self.panel.board
        state = board.state if board is not None else None
        title = "安否確認"
        if state is not None:
            title += f"（{_when(state.started_at)}〜）"
        groups = tuple(
            UnansweredGroup(group.group_name, tuple(
                UnansweredHousehold(h.number, h.display_name, h.address)
                for h in group.unanswered), len(group.households))
            for group in self.panel.shown_groups() if group.unanswered)
        return UnansweredList(association=association, circular_title=title, deadline=None,
                              printed_on=printed_on, groups=groups)

    def print_unanswered(self) -> None:
        """Make the unanswered list, one page per 班, and preview it for printing."""
        if self.printing:
            return
        from desktop.ui.print_dialog import file_name, render_to_preview
        from reports.pdf.unanswered_pdf import render_unanswered

        today = self.window.today()
        document = self.unanswered_document(printed_on=today)

        def render(path: Path, progress: Progress) -> int:
            return render_unanswered(path, document=document, progress=progress)

        def shown(preview: PdfPreview) -> None:
            self.printing = False
            self.preview = preview

        def failed(error: BaseException) -> None:
            self.printing = False
            if isinstance(error, KairanError):
                messages.warn(self.window, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        self.printing = True
        self.task = render_to_preview(
            self.window, self.window.tasks, render=render, title=_("Unanswered list"),
            suggested_name=file_name(document.association, "安否確認_未回答", today),
            job_folder=self.job_folder, shown=shown, failed=failed)
