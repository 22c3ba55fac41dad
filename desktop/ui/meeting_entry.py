"""Entering a general meeting's returned forms and checking people in at the door — keyboard
first, with the live tally beside it.

The cursor starts in the number field: a barcode scanner types the form's QR code and presses
Enter; an officer types the household number and Enter. The voter's name and what has been
entered for them so far appear at once. Then one key says what the form is:

- ``1`` 出席 (present in person) and Enter;
- ``2`` 委任 (proxy): the holder's number and Enter — Enter alone is a blank proxy, left to
  the chair (議長一任);
- ``3`` 書面 (written vote): one key per item, ``1`` 賛成 ``2`` 反対 ``3`` 棄権, ``0`` nothing
  ticked, ``9`` both ticked; the cursor moves on by itself, Enter on the last records;
- ``4`` 欠席 (absent) and Enter.

The result stays in large type (recorded / the same form again, nothing changed / the problem
in red) and the cursor is back in the number field. A different form of a kind already
entered is kept only when the officer confirms it is a correction; an entry typed by mistake
is cancelled from the voter's history. Nothing is ever overwritten: the history shows who
entered what, when, and from where (a returned form or the door).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.domain.meeting import entries, meetings
from desktop.domain.meeting.entries import AlreadyEntered, EntryOutcome
from desktop.domain.meeting.explain import reason_text, status_label
from desktop.domain.meeting.meetings import ItemRecord
from desktop.domain.meeting.tally import Entry, EntryKind, Source, Tally, Vote, Voter
from desktop.domain.slips import parse_slip_code
from desktop.domain.wareki import format_wareki
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.meeting_tally_panel import MeetingTallyPanel, officer_name

RESULT_SCALE = 1.3  # the last entry's result reads from arm's length
_GOOD, _SAME, _BAD = "#1b5e20", "#7a4f00", "#b00020"
KIND_KEYS: dict[str, EntryKind] = {"1": EntryKind.ATTEND, "2": EntryKind.PROXY,
                                   "3": EntryKind.WRITTEN, "4": EntryKind.ABSENT}
KIND_NAMES: dict[EntryKind, str] = {
    EntryKind.ATTEND: N_("in person"), EntryKind.PROXY: N_("proxy"),
    EntryKind.WRITTEN: N_("written vote"), EntryKind.ABSENT: N_("absent"),
}
VOTE_KEYS: dict[str, Vote] = {"1": Vote.FOR, "2": Vote.AGAINST, "3": Vote.ABSTAIN,
                              "0": Vote.BLANK, "9": Vote.SPOILED}
SOURCE_LABELS: dict[Source, str] = {
    Source.FORM: N_("Returned forms (scan the QR code or type the number)"),
    Source.DOOR: N_("Check-in at the door on the day"),
}
SHORT_SOURCES: dict[Source, str] = {Source.FORM: N_("form"), Source.DOOR: N_("door"),
                                    Source.RELAY: N_("app")}
HISTORY_COLUMNS = (N_("No."), N_("When"), N_("Entered"), N_("From"), N_("By"))
_MEMBER_PLACE = re.compile(r"(.+?)\s*[-/]\s*(\d{1,3})")  # 0012-2: household 0012's 2nd member


def _key(text: str) -> str:
    """One key as typed, full width (an input method left on) folded to half width."""
    return unicodedata.normalize("NFKC", text).strip()


def _number_key(number: str) -> str:
    """「12」, 「０１２」 and 「0012」 name the same household (as the domain reads them)."""
    folded = _key(number)
    return str(int(folded)) if folded.isascii() and folded.isdigit() else folded


class MeetingEntry(QDialog):
    """The entry screen of one general meeting."""

    recorded = Signal()  # an entry, a cancel or a show of hands was written

    def __init__(
        self,
        parent: QWidget | None,
        association_file: AssociationFile,
        *,
        meeting_id: uuid.UUID,
        entered_by: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        source: Source = Source.FORM,
    ) -> None:
        super().__init__(parent)
        self.file = association_file
        self.meeting_id = meeting_id
        self.entered_by = officer_name() if entered_by is None else entered_by
        self.now = now
        self.voter: Voter | None = None  # the voter whose number was entered
        self.shown_voter: Voter | None = None  # the voter whose history is shown
        self.history_entries: list[Entry] = []
        with association_file.read() as session:
            record = meetings.get_meeting(session, meeting_id=meeting_id)
            voters = meetings.meeting_voters(session, meeting_id=meeting_id)
        self.record = record
        self.items: tuple[ItemRecord, ...] = record.items
        self.by_key = {voter.key: voter for voter in voters}
        self.by_number: dict[str, list[Voter]] = {}
        for voter in voters:
            self.by_number.setdefault(_number_key(voter.number), []).append(voter)
        self.setWindowTitle(_("Forms and check-in: {title}").format(title=record.data.title))

        self.tally_panel = MeetingTallyPanel(association_file, meeting_id=meeting_id,
                                             entered_by=self.entered_by, now=now)
        self.tally_panel.updated.connect(lambda _tally: self._show_status())
        self.tally_panel.floor_recorded.connect(lambda _vote: self.recorded.emit())
        entry_side = QWidget()
        entry_layout = QVBoxLayout(entry_side)
        entry_layout.setContentsMargins(0, 0, 0, 0)
        entry_layout.addWidget(self._build_heading())
        entry_layout.addLayout(self._build_form(voters, source))
        entry_layout.addWidget(self.record_button, 0, Qt.AlignmentFlag.AlignLeft)
        entry_layout.addWidget(self.last_result)
        entry_layout.addWidget(self._build_history(), 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(entry_side)
        splitter.addWidget(self.tally_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.close_buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_buttons.rejected.connect(self.close_screen)
        QShortcut(QKeySequence("Ctrl+Return"), self).activated.connect(self.record_entry)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.close_buttons)
        self._kind_changed()
        self.tally_panel.refresh()
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 96, em * 50)
        self.entry.setFocus()

    # ------------------------------------------------------------ building

    def _build_heading(self) -> QLabel:
        data = self.record.data
        parts = [data.title, format_wareki(data.held_on)]
        if data.place:
            parts.append(data.place)
        heading = QLabel("　".join(parts))
        heading.setWordWrap(True)
        _scale(heading, 1.15, bold=True)
        return heading

    def _build_form(self, voters: list[Voter], source: Source) -> QFormLayout:
        """The source, the 班, the number, the kind key, the holder, one field per item."""
        self.source = QComboBox()
        for value, label in SOURCE_LABELS.items():
            self.source.addItem(_(label), value.value)
        self.source.setCurrentIndex(max(0, self.source.findData(source.value)))
        self.source.currentIndexChanged.connect(lambda _index: self._source_changed())
        self.group_filter = QComboBox()
        self.group_filter.addItem(_("All 班"), "")
        for name in dict.fromkeys(voter.group_name for voter in voters if voter.group_name):
            self.group_filter.addItem(name, name)
        self.group_filter.currentIndexChanged.connect(lambda _index: self._group_changed())

        self.entry = QLineEdit()
        self.entry.setPlaceholderText(
            _("Scan the form's QR code, or type the household number and press Enter"))
        _scale(self.entry, RESULT_SCALE)
        self.entry.textChanged.connect(self._show_who)
        self.who = QLabel()
        self.who.setWordWrap(True)
        self.kind = QLineEdit()
        self.kind.setMaxLength(2)  # a full-width digit may arrive with its IME mark
        self.kind.setPlaceholderText("　".join(
            f"{key} = {_(KIND_NAMES[kind])}" for key, kind in KIND_KEYS.items()))
        _scale(self.kind, RESULT_SCALE)
        self.kind.textEdited.connect(lambda _text: self._kind_typed())
        self.holder = QLineEdit()
        self.holder.setPlaceholderText(
            _("The holder's number; Enter alone leaves the proxy to the chair (議長一任)"))
        _scale(self.holder, RESULT_SCALE)
        self.holder.textChanged.connect(lambda _text: self._show_holder())
        self.holder_shown = QLabel()
        self.item_fields: list[QLineEdit] = []
        for field in (self.entry, self.kind, self.holder):
            field.installEventFilter(self)

        form = QFormLayout()
        form.addRow(_("Entering &from"), self.source)
        form.addRow(_("&Group (班)"), self.group_filter)
        form.addRow(_("&Number or QR code"), self.entry)
        form.addRow("", self.who)
        form.addRow(_("&Kind of form"), self.kind)
        form.addRow(_("Proxy &holder"), self.holder)
        form.addRow("", self.holder_shown)
        self._add_item_fields(form)
        self.record_button = QPushButton(_("&Record (Enter)"))
        self.record_button.clicked.connect(self.record_entry)
        self.last_result = QLabel()
        self.last_result.setWordWrap(True)
        self.last_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _scale(self.last_result, RESULT_SCALE, bold=True)
        return form

    def _add_item_fields(self, form: QFormLayout) -> None:
        """One answer field per agenda item, with the item's title."""
        hint = "　".join(f"{key} = {entries.vote_label(vote)}" for key, vote in VOTE_KEYS.items())
        for number, item in enumerate(self.items, start=1):
            field = QLineEdit()
            field.setMaxLength(2)
            field.setPlaceholderText(hint)
            field.installEventFilter(self)
            field.textEdited.connect(lambda _text, f=field: self._answer_typed(f))
            label = f"{number}. {item.title}"
            if item.added_after_forms:
                field.setToolTip(_("Added after the forms were printed: leave it empty unless "
                                   "the form answers it."))
                label += _(" (not on the forms)")
            self.item_fields.append(field)
            form.addRow(label, field)

    def _build_history(self) -> QWidget:
        """The voter's entries, how they count now, and the cancel button."""
        self.history_title = QLabel(_("Entries of the voter"))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.history = QTreeWidget()
        self.history.setColumnCount(len(HISTORY_COLUMNS))
        self.history.setHeaderLabels([_(title) for title in HISTORY_COLUMNS])
        self.history.setRootIsDecorated(False)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.history.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.history.currentItemChanged.connect(lambda *_items: self._update_cancel())
        self.cancel_button = QPushButton(_("&Cancel the chosen entry…"))
        self.cancel_button.clicked.connect(self.cancel_chosen)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.history_title)
        layout.addWidget(self.status)
        layout.addWidget(self.note)
        layout.addWidget(self.history, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._update_cancel()
        return box

    # ------------------------------------------------------------ keys

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                          Qt.KeyboardModifier.KeypadModifier)):
            self._enter_pressed(watched)
            return True
        return super().eventFilter(watched, event)

    def _enter_pressed(self, watched: QObject) -> None:
        if watched is self.entry:
            if self.look_up() is not None:
                self.kind.setFocus()
                self.kind.selectAll()
        elif watched is self.kind:
            kind = self.current_kind()
            if kind is EntryKind.PROXY:
                self._focus(self.holder)
            elif kind is EntryKind.WRITTEN and self.item_fields:
                self._focus(self.item_fields[0])
            else:
                self.record_entry()
        elif watched is self.holder:
            self.record_entry()
        elif watched in self.item_fields:
            position = self.item_fields.index(watched)
            if position + 1 < len(self.item_fields):
                self._focus(self.item_fields[position + 1])
            else:
                self.record_entry()

    @staticmethod
    def _focus(field: QLineEdit) -> None:
        field.setFocus()
        field.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape clears what is half typed; Escape on an empty form closes the screen."""
        if event.key() == Qt.Key.Key_Escape and self._typing():
            self._ready()
            return
        super().keyPressEvent(event)

    def _typing(self) -> bool:
        return any(field.text() for field in (self.entry, self.kind, self.holder,
                                              *self.item_fields))

    def current_kind(self) -> EntryKind | None:
        """The kind of form chosen with its key, if a valid one is typed."""
        return KIND_KEYS.get(_key(self.kind.text()))

    def current_source(self) -> Source:
        """Where the forms being entered come from."""
        return Source(self.source.currentData())

    def expected_group(self) -> str:
        """The 班 being entered ("" for every 班)."""
        return str(self.group_filter.currentData() or "")

    def _kind_typed(self) -> None:
        """A kind key: 2 and 3 move on to the holder or the first item at once."""
        text = _key(self.kind.text())
        kind = KIND_KEYS.get(text)
        self._kind_changed()
        if text and kind is None:
            self._show(_("「{key}」 is not a kind of form. Press 1 in person, 2 proxy, "
                         "3 written vote or 4 absent.").format(key=text), _BAD)
            self.kind.clear()
            return
        if kind is EntryKind.PROXY:
            self._focus(self.holder)
        elif kind is EntryKind.WRITTEN and self.item_fields:
            self._focus(self.item_fields[0])

    def _kind_changed(self) -> None:
        """Only the fields the chosen kind needs take the cursor."""
        kind = self.current_kind()
        self.holder.setEnabled(kind is EntryKind.PROXY)
        for field in self.item_fields:
            field.setEnabled(kind is EntryKind.WRITTEN)

    def _answer_typed(self, field: QLineEdit) -> None:
        """An answer key moves on to the next item; anything else is refused at once."""
        text = _key(field.text())
        if not text:
            return
        position = self.item_fields.index(field)
        if text not in VOTE_KEYS:
            self._show(_("Item {number}: 「{key}」 is not an answer. Press 1 for, 2 against, "
                         "3 abstain, 0 nothing ticked, 9 both ticked.").format(
                             number=position + 1, key=text), _BAD)
            field.clear()
            return
        field.setText(text)
        if position + 1 < len(self.item_fields):
            self._focus(self.item_fields[position + 1])

    def _source_changed(self) -> None:
        """Back to the number (at the door, finding the voter types 1, in person)."""
        self.entry.setFocus()

    def _group_changed(self) -> None:
        self.tally_panel.set_group_filter(self.expected_group())
        self.entry.setFocus()

    # ------------------------------------------------------------ finding the voter

    def look_up(self) -> Voter | None:
        """The voter the number field names (shown with their history), or None after
        saying why in red."""
        try:
            with self.file.read() as session:
                voter = entries.find_voter(session, meeting_id=self.meeting_id,
                                           entry=self.entry.text())
            expected = self.expected_group()
            if expected and voter.group_name != expected:
                raise KairanError(_(
                    "{who} is in {group}, not in {expected}. Check the number, or choose "
                    "「All 班」 to enter it.").format(
                        who=voter.label, group=voter.group_name or _("(no 班)"),
                        expected=expected), field="entry")
        except KairanError as error:
            self.voter = None
            self._problem(error)
            return None
        self.voter = voter
        self.show_history(voter)
        if self.current_source() is Source.DOOR and not self.kind.text():
            self.kind.setText("1")
            self._kind_changed()
        return voter

    def named(self, text: str) -> list[Voter]:
        """The voters a typed or scanned text names, as far as the list in memory tells
        (for the live preview; recording asks the domain): a household number, ``0012-2``
        for a member, or a form's code (which carries a member's key)."""
        try:
            reference = parse_slip_code(text).household_number
        except KairanError:
            return []
        if reference in self.by_key:
            return [self.by_key[reference]]
        found = self.by_number.get(_number_key(reference), [])
        parts = _MEMBER_PLACE.fullmatch(_key(reference))
        if not found and parts is not None:
            members = self.by_number.get(_number_key(parts[1]), [])
            place = int(parts[2])
            found = members[place - 1:place] if place >= 1 else []
        return found

    def _show_who(self, text: str) -> None:
        """While typing: whose number it is and how they count now."""
        self.voter = None
        if not text.strip():
            self.who.clear()
            return
        found = self.named(text)
        if not found:
            self.who.setText(_("(not on the voter list)"))
            return
        voter = found[0]
        where = f"（{voter.group_name}）" if voter.group_name else ""
        shown = f"→ {voter.label}{where}"
        if len(found) > 1:
            shown = _("→ household {number}: {count} members on the list").format(
                number=voter.number, count=len(found))
        elif (status := self._status_of(voter)) is not None:
            shown += "　" + status
        self.who.setText(shown)

    def _status_of(self, voter: Voter) -> str | None:
        tally = self.tally_panel.tally
        if tally is None or voter.key not in tally.positions:
            return None
        return _("now: {status}").format(status=status_label(tally.outcome(voter.key).status))

    def _show_holder(self) -> None:
        text = self.holder.text().strip()
        if not text:
            self.holder_shown.setText(_("(empty: to the chair)")
                                      if self.current_kind() is EntryKind.PROXY else "")
            return
        found = self.named(text)
        self.holder_shown.setText(f"→ {found[0].label}" if len(found) == 1 else "")

    # ------------------------------------------------------------ recording

    def votes(self) -> list[Vote | None]:
        """The written answers typed, one per item (None where nothing was typed)."""
        return [VOTE_KEYS.get(_key(field.text())) for field in self.item_fields]

    def record_entry(self) -> EntryOutcome | None:
        """Record the form typed; show the result and be ready for the next one."""
        voter = self.voter or self.look_up()
        if voter is None:
            return None
        kind = self.current_kind()
        if kind is None:
            self._show(_("What kind of form is it? Press 1 in person, 2 proxy, 3 written vote "
                         "or 4 absent, then Enter."), _BAD)
            self._focus(self.kind)
            return None
        holder = self.holder.text().strip() if kind is EntryKind.PROXY else None
        votes = self.votes() if kind is EntryKind.WRITTEN else []
        try:
            outcome, entry = self._record(voter, kind, holder, votes, correct=False)
            corrected = False
        except AlreadyEntered as error:
            if not messages.confirm(self, _("{message}\n\nEnter this form as a correction?")
                                    .format(message=error.message),
                                    title=_("Already entered")):
                self._show(_("Not changed: {who} keeps 「{entry}」.").format(
                    who=self._who(voter), entry=self._describe(error.existing)), _SAME)
                self._ready()
                return EntryOutcome.UNCHANGED
            try:
                outcome, entry = self._record(voter, kind, holder, votes, correct=True)
                corrected = True
            except KairanError as second:
                self._problem(second)
                return None
        except KairanError as error:
            self._problem(error)
            return None
        if outcome is EntryOutcome.UNCHANGED:
            self._show(_("Already entered, the same form: {who} — {entry}. Nothing changed.")
                       .format(who=self._who(voter), entry=self._describe(entry)), _SAME)
        else:
            template = (_("Corrected: {who} — now {entry}") if corrected else
                        _("Recorded: {who} — {entry}"))
            self._show(template.format(who=self._who(voter), entry=self._describe(entry)),
                       _GOOD)
            self.recorded.emit()
            self.tally_panel.refresh()
        self.show_history(voter)
        self._ready()
        return outcome

    def _record(self, voter: Voter, kind: EntryKind, holder: str | None,
                votes: list[Vote | None], *, correct: bool) -> tuple[EntryOutcome, Entry]:
        with self.file.write() as session:
            return entries.record_entry(
                session, meeting_id=self.meeting_id, voter_key=voter.key, kind=kind,
                holder=holder, votes=votes, source=self.current_source(),
                entered_by=self.entered_by, entered_at=self.now(), correct=correct)

    def _describe(self, entry: Entry) -> str:
        holder = self.by_key.get(entry.holder_key or "")
        return entries.describe_entry(entry, holder=holder)

    @staticmethod
    def _who(voter: Voter) -> str:
        where = f"（{voter.group_name}）" if voter.group_name else ""
        return f"{voter.label}{where}"

    def _show(self, text: str, colour: str) -> None:
        self.last_result.setText(text)
        self.last_result.setStyleSheet(f"color: {colour};")

    def _problem(self, error: KairanError) -> None:
        """Say what is wrong, in red, and put the cursor where it can be fixed."""
        self._show(error.message, _BAD)
        if error.field == "holder":
            target = self.holder
        elif error.field == "votes" and self.item_fields:
            target = self.item_fields[0]
        else:
            target = self.entry
        self._focus(target)

    def _ready(self) -> None:
        for field in (self.entry, self.kind, self.holder, *self.item_fields):
            field.clear()
        self.voter = None
        self._kind_changed()
        self.holder_shown.clear()
        self.entry.setFocus()

    # ------------------------------------------------------------ history and cancelling

    def show_history(self, voter: Voter) -> None:
        """Show every entry typed for ``voter`` and how they count now."""
        with self.file.read() as session:
            self.history_entries = entries.voter_entries(session, meeting_id=self.meeting_id,
                                                         voter_key=voter.key)
            note = entries.voter_note(session, meeting_id=self.meeting_id,
                                      voter_key=voter.key)
        self.shown_voter = voter
        self.history_title.setText(_("Entries of {who}").format(who=self._who(voter)))
        self.note.setText(note)
        cancelled = {entry.cancels: entry.sequence for entry in self.history_entries
                     if entry.kind is EntryKind.CANCEL}
        self.history.clear()
        for entry in self.history_entries:
            what = self._describe(entry)
            if entry.sequence in cancelled:
                what = _("{entry} (cancelled by entry {cancel})").format(
                    entry=what, cancel=cancelled[entry.sequence])
            row = QTreeWidgetItem([
                str(entry.sequence), entry.entered_at.astimezone().strftime("%m/%d %H:%M"),
                what, _(SHORT_SOURCES[entry.source]), entry.entered_by])
            row.setData(0, Qt.ItemDataRole.UserRole, entry.sequence)
            if entry.sequence in cancelled or entry.kind is EntryKind.CANCEL:
                font = QFont(row.font(2))
                font.setStrikeOut(entry.kind is not EntryKind.CANCEL)
                row.setFont(2, font)
            self.history.addTopLevelItem(row)
        if not self.history_entries:
            self.history.addTopLevelItem(QTreeWidgetItem(["", "", _("Nothing entered yet")]))
        self._show_status()
        self._update_cancel()

    def history_shown(self) -> list[str]:
        """The history's lines as shown (number, what), for reading back."""
        items = (self.history.topLevelItem(row) for row in range(self.history.topLevelItemCount()))
        return [f"{item.text(0)} {item.text(2)}".strip() for item in items if item is not None]

    def _show_status(self) -> None:
        """How the voter whose history is shown counts in the newest tally, and why."""
        voter = self.shown_voter
        tally: Tally | None = self.tally_panel.tally
        if voter is None or tally is None or voter.key not in tally.positions:
            self.status.clear()
            return
        outcome = tally.outcome(voter.key)
        self.status.setText(_("Counts as: {status} — {reason}").format(
            status=status_label(outcome.status), reason=reason_text(outcome)))

    def _chosen_sequence(self) -> int | None:
        item = self.history.currentItem()
        value = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return int(value) if value is not None else None

    def _update_cancel(self) -> None:
        sequence = self._chosen_sequence()
        live = any(entry.sequence == sequence and entry.kind is not EntryKind.CANCEL
                   for entry in self.history_entries)
        self.cancel_button.setEnabled(live)

    def cancel_chosen(self) -> Entry | None:
        """Cancel the entry chosen in the history (after asking); it stays on record."""
        sequence = self._chosen_sequence()
        voter = self.shown_voter
        chosen = next((entry for entry in self.history_entries if entry.sequence == sequence),
                      None)
        if voter is None or chosen is None or sequence is None:
            return None
        if not messages.confirm(self, _(
                "Cancel entry {sequence} of {who} (「{entry}」)? It stays on record, marked as "
                "cancelled, and no longer counts.").format(
                    sequence=sequence, who=self._who(voter), entry=self._describe(chosen))):
            return None
        try:
            with self.file.write() as session:
                cancel = entries.cancel_entry(session, meeting_id=self.meeting_id,
                                              sequence=sequence, entered_by=self.entered_by,
                                              entered_at=self.now())
        except KairanError as error:
            self._show(error.message, _BAD)
            return None
        self._show(_("Cancelled entry {sequence} of {who}.").format(
            sequence=sequence, who=self._who(voter)), _GOOD)
        self.recorded.emit()
        self.tally_panel.refresh()
        self.show_history(voter)
        self.entry.setFocus()
        return cancel

    # ------------------------------------------------------------ closing

    def close_screen(self) -> None:
        """Close; what is entered is saved already."""
        self.reject()


def _scale(widget: QWidget, factor: float, *, bold: bool = False) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(bold)
    widget.setFont(font)
