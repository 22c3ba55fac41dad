"""The general meeting's rules (総会の規約): how Kairan counts, set to match the bylaws.

Each choice is explained in plain words right under it, and the quorum line shows what it
means in numbers ("with 240 households, 121 must be counted present"), so an officer can
check the screen against the printed bylaws without knowing any of the vocabulary.

The same dialog edits the association's rules (kept for every later meeting) and one
meeting's own copy; the voting unit of a meeting is fixed once forms have been entered,
because its voter list was built for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.domain.meeting import meetings
from desktop.domain.meeting.explain import fraction_rule_text
from desktop.domain.meeting.rules import (
    AbsentHolder,
    ChairVote,
    CountAs,
    FormConflict,
    Quorum,
    Rules,
    VotingUnit,
)
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages

T = TypeVar("T")
EXAMPLE_VOTERS = 100  # the quorum's example when the number of voters is not known yet
MAX_DENOMINATOR = 10  # bylaws write halves, thirds, quarters … never more than tenths

COUNT_AS_LABELS: dict[CountAs, str] = {
    CountAs.ABSTAIN: N_("As an abstention (棄権)"),
    CountAs.AGAINST: N_("As a vote against (反対)"),
    CountAs.FOR: N_("As a vote for (賛成)"),
}
CONFLICT_LABELS: dict[FormConflict, str] = {
    FormConflict.WRITTEN_WINS: N_("The written vote counts"),
    FormConflict.PROXY_WINS: N_("The proxy counts"),
    FormConflict.LATEST_WINS: N_("Whichever was entered later counts"),
}
ABSENT_HOLDER_LABELS: dict[AbsentHolder, str] = {
    AbsentHolder.TO_CHAIR: N_("The proxy goes to the chair (議長一任)"),
    AbsentHolder.LAPSE: N_("The proxy lapses: the household counts as not present"),
}
CHAIR_VOTE_LABELS: dict[ChairVote, str] = {
    ChairVote.FOR: N_("The chair votes them for the proposals (the usual practice)"),
    ChairVote.ABSTAIN: N_("The chair abstains with them"),
}
STRICT_LABELS: dict[bool, str] = {
    True: N_("more than that (e.g. 過半数)"),
    False: N_("that or more (以上)"),
}


def _explain(text: str) -> QLabel:
    """A plain-words explanation under a choice, in the normal colour (grey is hard to read)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A label whose Alt+letter moves the cursor to ``widget``."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def _combo(labels: Mapping[T, str], current: T) -> QComboBox:
    combo = QComboBox()
    for value, label in labels.items():
        combo.addItem(_(label), value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def _box(title: str, *parts: QWidget | QHBoxLayout) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    for part in parts:
        if isinstance(part, QHBoxLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    return box


class MeetingRulesDialog(QDialog):
    """Edit the association's meeting rules, or those of one meeting."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile, *,
                 meeting_id: uuid.UUID | None = None) -> None:
        super().__init__(parent)
        self.file = association_file
        self.meeting_id = meeting_id
        self.saved = False
        with association_file.read() as session:
            if meeting_id is None:
                rules = meetings.get_rules(session)
                self.voters: int | None = None
                self.unit_locked = False
                title = _("Meeting rules of the association")
            else:
                record = meetings.get_meeting(session, meeting_id=meeting_id)
                rules = record.rules
                self.voters = record.voters
                self.unit_locked = record.entries > 0
                title = _("Rules of 「{title}」").format(title=record.data.title)
        self.setWindowTitle(title)
        self.initial = rules

        intro = _explain(
            _("Set these as your bylaws (規約) say. They are kept for every new meeting; each "
              "meeting keeps its own copy, which its editor can change.")
            if meeting_id is None else
            _("These rules count this meeting only. The association's rules for later "
              "meetings stay as they are."))
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(intro)
        column.addWidget(self._build_unit(rules))
        column.addWidget(self._build_quorum(rules))
        column.addWidget(self._build_written(rules))
        column.addWidget(self._build_proxies(rules))
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.defaults_button = QPushButton(_("Use the &usual rules"))
        self.buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.defaults_button.clicked.connect(lambda: self.show_rules(Rules(
            voting_unit=self.voting_unit() if self.unit_locked else VotingUnit.HOUSEHOLD)))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self.accept)
        QShortcut(QKeySequence("Ctrl+Return"), self).activated.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self._quorum_changed()
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 48, em * 44)
        self.household.setFocus()

    # ------------------------------------------------------------ building

    def _build_unit(self, rules: Rules) -> QGroupBox:
        self.household = QRadioButton(_("One vote per &household (世帯ごとに1票)"))
        self.member = QRadioButton(_("One vote per &member (会員ごとに1票)"))
        self.unit_buttons = QButtonGroup(self)
        self.unit_buttons.addButton(self.household)
        self.unit_buttons.addButton(self.member)
        self.household.setChecked(rules.voting_unit is VotingUnit.HOUSEHOLD)
        self.member.setChecked(rules.voting_unit is VotingUnit.MEMBER)
        self.unit_buttons.buttonToggled.connect(lambda _button, _on: self._quorum_changed())
        parts: list[QWidget | QHBoxLayout] = [
            self.household, self.member,
            _explain(_("Most associations give each household one vote. Choose one vote per "
                       "member only when the bylaws give every member a vote."))]
        if self.unit_locked:
            self.household.setEnabled(False)
            self.member.setEnabled(False)
            parts.append(_explain(_("Forms have been entered for this meeting, so its voting "
                                    "unit can no longer change.")))
        return _box(_("Who votes"), *parts)

    def _build_quorum(self, rules: Rules) -> QGroupBox:
        quorum = rules.quorum
        self.quorum_strict = _combo(STRICT_LABELS, quorum.strict)
        self.quorum_numerator = QSpinBox()
        self.quorum_numerator.setRange(0, MAX_DENOMINATOR)
        self.quorum_numerator.setValue(quorum.numerator)
        self.quorum_denominator = QSpinBox()
        self.quorum_denominator.setRange(1, MAX_DENOMINATOR)
        self.quorum_denominator.setValue(quorum.denominator)
        fraction = QHBoxLayout()
        fraction.addWidget(_buddy(_("Those counted present, as a &share of all voters:"),
                                  self.quorum_numerator))
        fraction.addWidget(self.quorum_numerator)
        fraction.addWidget(QLabel("/"))
        fraction.addWidget(self.quorum_denominator)
        fraction.addWidget(self.quorum_strict)
        fraction.addStretch(1)
        self.count_in_person = QCheckBox(_("Count those who come &in person"))
        self.count_in_person.setChecked(quorum.count_in_person)
        self.count_proxies = QCheckBox(_("Count &proxies (委任状) that reach someone present or "
                                         "the chair"))
        self.count_proxies.setChecked(quorum.count_proxies)
        self.count_written = QCheckBox(_("Count &written votes (書面議決書)"))
        self.count_written.setChecked(quorum.count_written)
        self.quorum_example = _explain("")
        self.quorum_example.setStyleSheet("font-weight: bold;")
        for spin in (self.quorum_numerator, self.quorum_denominator):
            spin.valueChanged.connect(lambda _value: self._quorum_changed())
        self.quorum_strict.currentIndexChanged.connect(lambda _index: self._quorum_changed())
        for box in (self.count_in_person, self.count_proxies, self.count_written):
            box.toggled.connect(lambda _on: self._quorum_changed())
        return _box(
            _("Quorum (定足数): when the meeting is valid (成立)"),
            _explain(_("The meeting can decide only when enough voters take part. Most bylaws "
                       "say \u201cmore than half\u201d, counting proxies and written votes as "
                       "present. Set 0 for a meeting that is always valid.")),
            fraction, self.count_in_person, self.count_proxies, self.count_written,
            self.quorum_example)

    def _build_written(self, rules: Rules) -> QGroupBox:
        self.blank_counts_as = _combo(COUNT_AS_LABELS, rules.blank_counts_as)
        self.spoiled_counts_as = _combo(COUNT_AS_LABELS, rules.spoiled_counts_as)
        return _box(
            _("Written votes (書面議決書)"),
            _buddy(_("An item with &neither box ticked counts"), self.blank_counts_as),
            self.blank_counts_as,
            _explain(_("Usually an abstention. Some bylaws say an unmarked item approves the "
                       "proposal (白票は賛成とみなす).")),
            _buddy(_("An item with &both boxes ticked counts"), self.spoiled_counts_as),
            self.spoiled_counts_as,
            _explain(_("Such an answer cannot be read (無効); it is usually counted as an "
                       "abstention. Kairan lists these households so the count can be "
                       "checked.")))

    def _build_proxies(self, rules: Rules) -> QGroupBox:
        self.proxy_and_written = _combo(CONFLICT_LABELS, rules.proxy_and_written)
        self.attendance_overrides = QCheckBox(
            _("Coming in person &cancels the forms sent before"))
        self.attendance_overrides.setChecked(rules.attendance_overrides_forms)
        self.absent_holder = _combo(ABSENT_HOLDER_LABELS, rules.absent_holder)
        self.chair_votes = _combo(CHAIR_VOTE_LABELS, rules.chair_votes)
        self.cap_on = QCheckBox(_("&Limit the proxies one member may hold to"))
        self.cap = QSpinBox()
        self.cap.setRange(1, 999)
        self.cap.setValue(rules.proxy_cap or 1)
        self.cap_on.setChecked(rules.proxy_cap is not None)
        self.cap.setEnabled(rules.proxy_cap is not None)
        self.cap_on.toggled.connect(self.cap.setEnabled)
        cap = QHBoxLayout()
        cap.addWidget(self.cap_on)
        cap.addWidget(self.cap)
        cap.addStretch(1)
        return _box(
            _("Proxies (委任状) and attending"),
            _buddy(_("A household that sent both a proxy and a written v&ote:"),
                   self.proxy_and_written),
            self.proxy_and_written,
            _explain(_("Both forms are printed on one sheet, so some households fill in both. "
                       "Kairan counts one and lists the household.")),
            self.attendance_overrides,
            _explain(_("Ticked: a household that comes on the day votes in the room, and its "
                       "proxy or written vote no longer counts. Unticked: the form counts.")),
            _buddy(_("A proxy naming a member who does no&t come:"), self.absent_holder),
            self.absent_holder,
            _explain(_("A proxy with no name (白紙委任) always goes to the chair.")),
            _buddy(_("How the chair &votes the proxies left to the chair:"), self.chair_votes),
            self.chair_votes,
            cap,
            _explain(_("Leave unticked for no limit. The chair has no limit. Proxies beyond "
                       "the limit, in the order they were entered, go to the chair or lapse "
                       "as chosen above.")))

    # ------------------------------------------------------------ reading and showing

    def voting_unit(self) -> VotingUnit:
        """The voting unit chosen."""
        return VotingUnit.MEMBER if self.member.isChecked() else VotingUnit.HOUSEHOLD

    def rules(self) -> Rules:
        """The rules as chosen (:class:`~desktop.domain.errors.ValidationError` when they
        cannot hold, such as a quorum that counts nobody)."""
        quorum = Quorum(
            numerator=self.quorum_numerator.value(),
            denominator=self.quorum_denominator.value(),
            strict=bool(self.quorum_strict.currentData()),
            count_in_person=self.count_in_person.isChecked(),
            count_proxies=self.count_proxies.isChecked(),
            count_written=self.count_written.isChecked())
        return Rules(
            voting_unit=self.voting_unit(), quorum=quorum,
            blank_counts_as=CountAs(self.blank_counts_as.currentData()),
            spoiled_counts_as=CountAs(self.spoiled_counts_as.currentData()),
            proxy_and_written=FormConflict(self.proxy_and_written.currentData()),
            attendance_overrides_forms=self.attendance_overrides.isChecked(),
            absent_holder=AbsentHolder(self.absent_holder.currentData()),
            chair_votes=ChairVote(self.chair_votes.currentData()),
            proxy_cap=self.cap.value() if self.cap_on.isChecked() else None)

    def show_rules(self, rules: Rules) -> None:
        """Set every choice to ``rules``."""
        (self.member if rules.voting_unit is VotingUnit.MEMBER else self.household
         ).setChecked(True)
        quorum = rules.quorum
        self.quorum_strict.setCurrentIndex(self.quorum_strict.findData(quorum.strict))
        self.quorum_numerator.setValue(quorum.numerator)
        self.quorum_denominator.setValue(quorum.denominator)
        self.count_in_person.setChecked(quorum.count_in_person)
        self.count_proxies.setChecked(quorum.count_proxies)
        self.count_written.setChecked(quorum.count_written)
        for combo, value in ((self.blank_counts_as, rules.blank_counts_as),
                             (self.spoiled_counts_as, rules.spoiled_counts_as),
                             (self.proxy_and_written, rules.proxy_and_written),
                             (self.absent_holder, rules.absent_holder),
                             (self.chair_votes, rules.chair_votes)):
            combo.setCurrentIndex(combo.findData(value))
        self.attendance_overrides.setChecked(rules.attendance_overrides_forms)
        self.cap_on.setChecked(rules.proxy_cap is not None)
        self.cap.setValue(rules.proxy_cap or 1)
        self._quorum_changed()

    def _quorum_changed(self) -> None:
        """Say in numbers what the quorum means (or why it cannot hold)."""
        numerator = self.quorum_numerator.value()
        denominator = self.quorum_denominator.value()
        strict = bool(self.quorum_strict.currentData())
        try:
            quorum = Quorum(numerator, denominator, strict=strict,
                            count_in_person=self.count_in_person.isChecked(),
                            count_proxies=self.count_proxies.isChecked(),
                            count_written=self.count_written.isChecked())
        except KairanError as error:
            self.quorum_example.setText(error.message)
            self.quorum_example.setStyleSheet("font-weight: bold; color: #b00020;")
            return
        self.quorum_example.setStyleSheet("font-weight: bold;")
        if numerator == 0:
            self.quorum_example.setText(_("No quorum: the meeting is always valid."))
            return
        voters = self.voters if self.voters else EXAMPLE_VOTERS
        template = (_("With {voters} households, {required} must be counted present "
                      "({rule} of {voters}).") if self.voting_unit() is VotingUnit.HOUSEHOLD
                    else _("With {voters} members, {required} must be counted present "
                           "({rule} of {voters})."))
        self.quorum_example.setText(template.format(
            voters=voters, required=quorum.required(voters),
            rule=fraction_rule_text(numerator, denominator, strict=strict)))

    # ------------------------------------------------------------ saving

    def accept(self) -> None:
        """Save the rules; a rule that cannot hold keeps the dialog open and says why."""
        try:
            rules = self.rules()
            with self.file.write() as session:
                if self.meeting_id is None:
                    meetings.save_rules(session, rules=rules)
                else:
                    meetings.set_rules(session, meeting_id=self.meeting_id, rules=rules)
        except KairanError as error:
            messages.warn(self, error.message, title=_("Cannot save"))
            return
        self.saved = True
        super().accept()

    def reject(self) -> None:
        """Cancel; changed rules are dropped after asking."""
        try:
            changed = self.rules() != self.initial
        except KairanError:
            changed = True
        if changed and not messages.confirm(self, _("Close without saving the changes?")):
            return
        super().reject()
