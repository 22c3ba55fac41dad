"""The meeting editor: the general meeting's title, date, place and record date, its chair,
and its agenda (議案) with the majority each item needs.

A majority is chosen among the usual ones (more than half of those present; more than half
of the votes for and against; at least two-thirds of those present, for bylaw changes and
dissolution) or set as any fraction, with the rule shown in words as the results sheet will
print it. Once the forms are printed an item can no longer be removed or moved (written
votes keep their answers by place); an item added then is marked as not on the forms.

Saving writes everything in one transaction: a problem keeps the dialog open with the field
at fault focused, like the other editors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.domain.meeting import entries, meetings
from desktop.domain.meeting.explain import majority_text
from desktop.domain.meeting.meetings import ItemData, MeetingData, MeetingRecord
from desktop.domain.meeting.rules import (
    MAJORITY_OF_CAST,
    MAJORITY_OF_PRESENT,
    TWO_THIRDS_OF_PRESENT,
    Base,
    Majority,
)
from desktop.domain.meeting.tally import Voter
from desktop.domain.wareki import format_dual, format_nendo, parse_date
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages

if TYPE_CHECKING:
    from sqlmodel import Session

    from desktop.ui.meeting_rules_dialog import MeetingRulesDialog

PRESETS: tuple[tuple[Majority, str], ...] = (
    (MAJORITY_OF_PRESENT, N_("the usual: reports, budgets, officers")),
    (MAJORITY_OF_CAST, N_("when the bylaws count only votes for and against")),
    (TWO_THIRDS_OF_PRESENT, N_("bylaw changes (規約変更), dissolution (解散)")),
)
CUSTOM = -1  # the preset box's data for "another fraction"
BASE_LABELS: dict[Base, str] = {
    Base.PRESENT: N_("of those present (in person, proxies, written votes)"),
    Base.CAST: N_("of the votes for and against (abstentions left out)"),
    Base.ALL: N_("of all voters on the list"),
}
STRICT_LABELS: dict[bool, str] = {  # the same words as the quorum's in the rules dialog
    True: N_("more than that (e.g. 過半数)"),
    False: N_("that or more (以上)"),
}
MAX_DENOMINATOR = 10
TITLE, RULE = range(2)
DEFAULT_TITLE = "定期総会"  # the office word; the 年度 goes in front


@dataclass(slots=True)
class _Row:
    """One agenda row as edited: where it was stored (None: new) and its majority."""

    stored_index: int | None
    majority: Majority
    added_after_forms: bool = False


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A form label whose Alt+letter moves the cursor to ``widget`` (a row whose field is
    a layout gets no buddy of its own)."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def typed_reference(voters: Sequence[Voter], key: str) -> str:
    """What an officer types for the voter with ``key``: the household number, or
    ``0012-2`` for the 2nd member of household 0012 when it has several on the list."""
    chosen = next((voter for voter in voters if voter.key == key), None)
    if chosen is None:
        return ""
    same = [voter.key for voter in voters if voter.number == chosen.number]
    return chosen.number if len(same) == 1 else f"{chosen.number}-{same.index(key) + 1}"


class MeetingEditor(QDialog):
    """Make a new general meeting (``meeting_id`` None) or change one."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile, *,
                 meeting_id: uuid.UUID | None = None,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.file = association_file
        self.meeting_id = meeting_id
        self.saved = False
        self.record: MeetingRecord | None = None
        self.chair_number = ""
        if meeting_id is not None:
            with association_file.read() as session:
                self.record = meetings.get_meeting(session, meeting_id=meeting_id)
                if self.record.chair_key is not None:
                    voters = meetings.meeting_voters(session, meeting_id=meeting_id)
                    self.chair_number = typed_reference(voters, self.record.chair_key)
        record = self.record
        day = today()
        data = record.data if record is not None else MeetingData(
            title=f"{format_nendo(day.year if day.month >= 4 else day.year - 1)} "
                  f"{DEFAULT_TITLE}",
            held_on=day, place="", record_date=day)
        self.forms_printed = record is not None and record.forms_printed_at is not None
        self.has_entries = record is not None and record.entries > 0
        self.setWindowTitle(_("New general meeting") if record is None else
                            _("General meeting: {title}").format(title=data.title))
        self.rows: list[_Row] = []
        self.rules_dialog: MeetingRulesDialog | None = None

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self.accept)
        QShortcut(QKeySequence("Ctrl+Return"), self).activated.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_facts(data))
        layout.addWidget(self._build_agenda(), 1)
        layout.addWidget(self.buttons)
        for item in (record.items if record is not None else ()):
            self._append_row(item.title, _Row(item.index, item.majority,
                                              item.added_after_forms))
        if record is None:
            self._append_row("", _Row(None, MAJORITY_OF_PRESENT))
        self.items.setCurrentCell(0, TITLE)
        self._row_changed()
        self._initial = self._snapshot()
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 60, em * 44)
        self.title.setFocus()
        self.title.selectAll()

    # ------------------------------------------------------------ building

    def _date_field(self, value: date) -> tuple[QLineEdit, QVBoxLayout]:
        edit = QLineEdit(value.isoformat())
        edit.setPlaceholderText(_("e.g. 令和7年4月1日 or 2025-04-01"))
        shown = QLabel()

        def show(text: str) -> None:
            try:
                shown.setText(format_dual(parse_date(text)) if text.strip() else "")
            except ValueError:
                shown.setText(_("(not a date)"))

        edit.textChanged.connect(show)
        show(edit.text())
        column = QVBoxLayout()
        column.addWidget(edit)
        column.addWidget(shown)
        return edit, column

    def _build_facts(self, data: MeetingData) -> QFormLayout:
        self.title = QLineEdit(data.title)
        self.title.setPlaceholderText(_("e.g. 令和8年度 定期総会"))
        self.held_on, held = self._date_field(data.held_on)
        self.place = QLineEdit(data.place)
        self.place.setPlaceholderText(_("e.g. 集会所 2階"))
        self.record_date, record = self._date_field(data.record_date)
        record_hint = QLabel(
            _("The voter list is the roster of this day (基準日): households that joined "
              "after it do not vote; households that left after it still do.")
            if not self.has_entries else
            _("Forms are entered already, so the record date (and the voter list) can no "
              "longer change."))
        record_hint.setWordWrap(True)
        record.addWidget(record_hint)
        self.record_date.setEnabled(not self.has_entries)
        self.chair = QLineEdit(self.chair_number)
        self.chair.setPlaceholderText(_("Household number of the chair, if known"))
        self.chair_shown = QLabel()
        self.chair.textChanged.connect(lambda _text: self.show_chair())
        chair = QVBoxLayout()
        chair.addWidget(self.chair)
        chair.addWidget(self.chair_shown)
        chair_hint = QLabel(_("A proxy naming the chair's household counts as left to the "
                              "chair (議長一任). It may be left empty until the day."))
        chair_hint.setWordWrap(True)
        chair.addWidget(chair_hint)
        self.online_forms = QCheckBox(_("Residents may send their forms &online"))
        self.online_forms.setChecked(data.online_forms)
        self.online_forms.setToolTip(_(
            "When the forms are printed, the meeting goes to the resident page (if this file "
            "is paired with a relay): households send attendance, proxy or written vote "
            "there, and the office pulls them in as entries."))
        self.rules_button = QPushButton(_("Rules of this &meeting…"))
        self.rules_button.setEnabled(self.record is not None)
        self.rules_button.clicked.connect(self.edit_rules)
        self.rules_button.setToolTip(
            _("Save the new meeting first: it starts with the association's rules.")
            if self.record is None else "")
        form = QFormLayout()
        form.addRow(_("&Title"), self.title)
        form.addRow(_buddy(_("&Held on"), self.held_on), held)
        form.addRow(_("&Place"), self.place)
        form.addRow(_buddy(_("&Record date (基準日)"), self.record_date), record)
        form.addRow(_buddy(_("&Chair (議長)"), self.chair), chair)
        form.addRow("", self.online_forms)
        form.addRow("", self.rules_button)
        self.show_chair()
        return form

    def _build_agenda(self) -> QGroupBox:
        box = QGroupBox(_("Agenda (議案)"))
        self.items = QTableWidget(0, 2)
        self.items.setHorizontalHeaderLabels([_("Item"), _("Passes with")])
        header = self.items.horizontalHeader()
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(RULE, QHeaderView.ResizeMode.ResizeToContents)
        self.items.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.items.setTabKeyNavigation(False)
        self.items.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        self.items.currentCellChanged.connect(lambda *_cells: self._row_changed())

        self.add_button = QPushButton(_("&Add an item"))
        self.add_button.clicked.connect(self.add_item)
        self.remove_button = QPushButton(_("Remo&ve"))
        self.remove_button.clicked.connect(self.remove_item)
        self.up_button = QPushButton(_("Move &up"))
        self.up_button.clicked.connect(lambda: self.move_item(-1))
        self.down_button = QPushButton(_("Move do&wn"))
        self.down_button.clicked.connect(lambda: self.move_item(+1))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self._build_majority()
        majority = QFormLayout()
        majority.addRow(_("The chosen item passes w&ith"), self.preset)
        majority.addRow("", self.custom)
        majority.addRow("", self.majority_problem)
        layout = QVBoxLayout(box)
        layout.addWidget(self.items, 1)
        layout.addLayout(buttons)
        layout.addLayout(majority)
        layout.addWidget(self.agenda_note)
        return box

    def _build_majority(self) -> None:
        """The chosen item's majority: a usual one, or any fraction of any base."""
        self.preset = QComboBox()
        for position, (majority, usage) in enumerate(PRESETS):
            self.preset.addItem(_("{rule} — {usage}").format(
                rule=majority_text(majority), usage=_(usage)), position)
        self.preset.addItem(_("Another fraction…"), CUSTOM)
        self.preset.currentIndexChanged.connect(lambda _index: self._preset_chosen())
        self.strict = QComboBox()
        for value, label in STRICT_LABELS.items():
            self.strict.addItem(_(label), value)
        self.numerator = QSpinBox()
        self.numerator.setRange(1, MAX_DENOMINATOR)
        self.denominator = QSpinBox()
        self.denominator.setRange(1, MAX_DENOMINATOR)
        self.base = QComboBox()
        for base, label in BASE_LABELS.items():
            self.base.addItem(_(label), base.value)
        self.custom = QWidget()
        custom = QHBoxLayout(self.custom)
        custom.setContentsMargins(0, 0, 0, 0)
        share = QLabel(_("Votes for, as a &share:"))
        share.setBuddy(self.numerator)
        custom.addWidget(share)
        custom.addWidget(self.numerator)
        custom.addWidget(QLabel("/"))
        custom.addWidget(self.denominator)
        custom.addWidget(self.base, 1)
        custom.addWidget(self.strict)
        for combo in (self.strict, self.base):
            combo.currentIndexChanged.connect(lambda _index: self._custom_changed())
        for spin in (self.numerator, self.denominator):
            spin.valueChanged.connect(lambda _value: self._custom_changed())
        self.majority_problem = QLabel()
        self.majority_problem.setWordWrap(True)
        self.majority_problem.setStyleSheet("color: #b00020;")
        self.agenda_note = QLabel()
        self.agenda_note.setWordWrap(True)
        if self.forms_printed:
            self.agenda_note.setText(_(
                "The forms are printed: items can no longer be removed or moved. An item "
                "added now is not on the printed written-vote forms; written votes count for "
                "it only when they answer it."))
        elif self.has_entries:
            self.agenda_note.setText(_("Forms are entered already: items can no longer be "
                                       "moved."))

    # ------------------------------------------------------------ rows

    def _append_row(self, title: str, row: _Row) -> None:
        position = self.items.rowCount()
        self.items.insertRow(position)
        self.rows.append(row)
        self._show_row(position, title)

    def _show_row(self, position: int, title: str) -> None:
        row = self.rows[position]
        title_item = QTableWidgetItem(title)
        if row.added_after_forms:
            title_item.setToolTip(_("Added after the forms were printed"))
        self.items.setItem(position, TITLE, title_item)
        rule = QTableWidgetItem(majority_text(row.majority)
                                + (_(" (not on the forms)") if row.added_after_forms else ""))
        rule.setFlags(rule.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.items.setItem(position, RULE, rule)

    def _title_at(self, position: int) -> str:
        item = self.items.item(position, TITLE)
        return item.text() if item is not None else ""

    def add_item(self) -> None:
        """Add an item at the end of the agenda and start typing its title."""
        if self.items.rowCount() >= meetings.MAX_ITEMS:
            messages.warn(self, _("A meeting can have at most {count} agenda items on its "
                                  "forms.").format(count=meetings.MAX_ITEMS))
            return
        self._append_row("", _Row(None, MAJORITY_OF_PRESENT, self.forms_printed))
        position = self.items.rowCount() - 1
        self.items.setCurrentCell(position, TITLE)
        item = self.items.item(position, TITLE)
        if self.isVisible() and item is not None:
            self.items.setFocus()
            self.items.editItem(item)

    def remove_item(self) -> None:
        """Take the chosen item off the agenda (one saved before the forms only)."""
        position = self.items.currentRow()
        if position < 0:
            return
        row = self.rows[position]
        if row.stored_index is not None and self.forms_printed:
            messages.warn(self, _("Item {number} is printed on the forms already and cannot be "
                                  "removed. If it is withdrawn, leave it on the agenda and "
                                  "record that in the minutes.").format(number=position + 1))
            return
        del self.rows[position]
        self.items.removeRow(position)
        self._row_changed()

    def move_item(self, step: int) -> None:
        """Move the chosen item up (-1) or down (+1), before any form is printed or entered."""
        position = self.items.currentRow()
        target = position + step
        if position < 0 or not 0 <= target < self.items.rowCount() or not self._can_move():
            return
        titles = [self._title_at(position), self._title_at(target)]
        self.rows[position], self.rows[target] = self.rows[target], self.rows[position]
        self._show_row(position, titles[1])
        self._show_row(target, titles[0])
        self.items.setCurrentCell(target, TITLE)

    def _can_move(self) -> bool:
        return not self.forms_printed and not self.has_entries

    def _row_changed(self) -> None:
        position = self.items.currentRow()
        chosen = 0 <= position < len(self.rows)
        row = self.rows[position] if chosen else None
        self.remove_button.setEnabled(chosen and not (
            self.forms_printed and row is not None and row.stored_index is not None))
        self.up_button.setEnabled(chosen and self._can_move() and position > 0)
        self.down_button.setEnabled(chosen and self._can_move()
                                    and position + 1 < len(self.rows))
        for widget in (self.preset, self.custom):
            widget.setEnabled(chosen)
        if row is None:
            return
        self._show_majority(row.majority)

    def _show_majority(self, majority: Majority) -> None:
        """Set the majority widgets to ``majority`` without treating it as an edit."""
        presets = [preset for preset, _usage in PRESETS]
        for widget in (self.preset, self.strict, self.numerator, self.denominator, self.base):
            widget.blockSignals(True)
        try:
            self.preset.setCurrentIndex(
                presets.index(majority) if majority in presets else self.preset.count() - 1)
            self.strict.setCurrentIndex(self.strict.findData(majority.strict))
            self.numerator.setValue(majority.numerator)
            self.denominator.setValue(majority.denominator)
            self.base.setCurrentIndex(self.base.findData(majority.base.value))
        finally:
            for widget in (self.preset, self.strict, self.numerator, self.denominator,
                           self.base):
                widget.blockSignals(False)
        self.custom.setVisible(self.preset.currentData() == CUSTOM)
        self.majority_problem.clear()

    def _preset_chosen(self) -> None:
        position = self.items.currentRow()
        if not 0 <= position < len(self.rows):
            return
        chosen = self.preset.currentData()
        self.custom.setVisible(chosen == CUSTOM)
        if chosen == CUSTOM:
            self._custom_changed()
            return
        self._set_majority(position, PRESETS[int(chosen)][0])

    def _custom_changed(self) -> None:
        position = self.items.currentRow()
        if not 0 <= position < len(self.rows) or self.preset.currentData() != CUSTOM:
            return
        try:
            majority = Majority(self.numerator.value(), self.denominator.value(),
                                strict=bool(self.strict.currentData()),
                                base=Base(self.base.currentData()))
        except KairanError as error:
            self.majority_problem.setText(error.message)
            return
        self.majority_problem.clear()
        self._set_majority(position, majority)

    def _set_majority(self, position: int, majority: Majority) -> None:
        self.rows[position].majority = majority
        self._show_row(position, self._title_at(position))

    def set_custom_majority(self, numerator: int, denominator: int, *, strict: bool,
                            base: Base) -> None:
        """Choose another fraction for the chosen item (as the officer would)."""
        self.preset.setCurrentIndex(self.preset.findData(CUSTOM))
        self.strict.setCurrentIndex(self.strict.findData(strict))
        self.base.setCurrentIndex(self.base.findData(base.value))
        self.numerator.setValue(numerator)
        self.denominator.setValue(denominator)
        self._custom_changed()

    def item_data(self) -> list[ItemData]:
        """The agenda as typed, in order."""
        return [ItemData(self._title_at(position), row.majority)
                for position, row in enumerate(self.rows)]

    # ------------------------------------------------------------ rules and the chair

    def edit_rules(self) -> MeetingRulesDialog | None:
        """Open this meeting's own rules (saved by that dialog, apart from this one)."""
        from desktop.ui.meeting_rules_dialog import MeetingRulesDialog

        if self.meeting_id is None:
            return None
        try:
            dialog = MeetingRulesDialog(self, self.file, meeting_id=self.meeting_id)
        except KairanError as error:
            messages.warn(self, error.message)
            return None
        self.rules_dialog = dialog
        dialog.open()
        return dialog

    def show_chair(self) -> None:
        """Name the chair whose number is typed (for a saved meeting)."""
        text = self.chair.text().strip()
        if not text or self.meeting_id is None:
            self.chair_shown.setText("")
            return
        try:
            with self.file.read() as session:
                voter = entries.find_voter(session, meeting_id=self.meeting_id, entry=text)
        except KairanError as error:
            self.chair_shown.setText(error.message)
            self.chair_shown.setStyleSheet("color: #b00020;")
            return
        self.chair_shown.setStyleSheet("")
        self.chair_shown.setText(f"→ {voter.label}")

    # ------------------------------------------------------------ saving

    def _date(self, edit: QLineEdit, field: str) -> date:
        text = edit.text().strip()
        try:
            return parse_date(text)
        except ValueError:
            raise KairanError(
                _("「{value}」 is not a date. Type it as 令和7年4月1日 or 2025-04-01.")
                .format(value=text), field=field) from None

    def form(self) -> MeetingData:
        """The meeting's facts as typed (the domain checks them when saving)."""
        return MeetingData(title=self.title.text(),
                           held_on=self._date(self.held_on, "held_on"),
                           place=self.place.text(),
                           record_date=self._date(self.record_date, "record_date"),
                           online_forms=self.online_forms.isChecked())

    def _snapshot(self) -> object:
        try:
            return (self.form(), self.item_data(), self.chair.text().strip())
        except KairanError:
            return None

    def changed(self) -> bool:
        """Whether anything differs from what was last saved."""
        return self._snapshot() != self._initial

    def accept(self) -> None:
        """Save; on a problem, say what and where, focus the field and stay open."""
        try:
            data = meetings.clean_meeting(self.form())
            items = [meetings.clean_item(number, item)
                     for number, item in enumerate(self.item_data(), start=1)]
            with self.file.write() as session:
                if self.meeting_id is None:
                    self.meeting_id = meetings.create_meeting(session, data=data, items=items)
                else:
                    meetings.update_meeting(session, meeting_id=self.meeting_id, data=data)
                    self._save_agenda(session, items)
                self._save_chair(session)
        except KairanError as error:
            if self.record is None:
                self.meeting_id = None  # nothing was kept: the transaction rolled back
            messages.warn(self, error.message, title=_("Cannot save"))
            self.focus_field(error.field)
            return
        self.saved = True
        super().accept()

    def _save_agenda(self, session: Session, items: list[ItemData]) -> None:
        """Bring the stored agenda to ``items``: removals, additions at the end, then the
        titles and majorities of every place that differs."""
        assert self.record is not None and self.meeting_id is not None
        stored = list(self.record.items)
        kept = {row.stored_index for row in self.rows if row.stored_index is not None}
        for index in sorted((item.index for item in stored if item.index not in kept),
                            reverse=True):
            meetings.remove_item(session, meeting_id=self.meeting_id,
                                 index=index)
        now_stored = [ItemData(item.title, item.majority) for item in stored
                      if item.index in kept]
        for row, item in zip(self.rows, items, strict=True):
            if row.stored_index is None:
                meetings.add_item(session, meeting_id=self.meeting_id,
                                  item=item)
                now_stored.append(item)
        for index, (wanted, present) in enumerate(zip(items, now_stored, strict=True)):
            if wanted != present:
                meetings.update_item(session,
                                     meeting_id=self.meeting_id, index=index, item=wanted)

    def _save_chair(self, session: Session) -> None:
        assert self.meeting_id is not None
        text = self.chair.text().strip()
        if not text and (self.record is None or self.record.chair_key is None):
            return
        key = (entries.find_voter(session, meeting_id=self.meeting_id, entry=text).key
               if text else None)
        meetings.set_chair(session, meeting_id=self.meeting_id, voter_key=key)

    def reject(self) -> None:
        """Cancel; changes are dropped after asking."""
        if self.changed() and not messages.confirm(
                self, _("Close without saving the changes?")):
            return
        super().reject()

    def focus_field(self, field: str | None) -> QWidget | None:
        """Put the cursor in the field a validation error names."""
        name = (field or "").split(".", 1)[0].split("[", 1)[0]
        widgets: dict[str, QWidget] = {
            "title": self.title, "held_on": self.held_on, "place": self.place,
            "record_date": self.record_date, "items": self.items, "chair": self.chair,
            "entry": self.chair, "majority": self.preset, "online_forms": self.online_forms,
        }
        widget = widgets.get(name)
        if widget is None:
            return None
        widget.setFocus()
        if isinstance(widget, QLineEdit):
            widget.selectAll()
        return widget
