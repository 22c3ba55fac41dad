"""The meeting rules dialog: every rule of the bylaws set and saved for the association or for
one meeting, the quorum said in numbers, rules that cannot hold refused, the voting unit fixed
once forms are entered."""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtWidgets import QLabel

from desktop.domain.meeting import entries, meetings
from desktop.domain.meeting.meetings import ItemData, MeetingData
from desktop.domain.meeting.rules import (
    AbsentHolder,
    ChairVote,
    CountAs,
    FormConflict,
    Quorum,
    Rules,
    VotingUnit,
)
from desktop.domain.meeting.tally import EntryKind
from desktop.ui.main_window import MainWindow
from desktop.ui.meeting_rules_dialog import MeetingRulesDialog
from tests.ui.helpers import Messages


def choose(combo: object, value: object) -> None:
    from PySide6.QtWidgets import QComboBox

    assert isinstance(combo, QComboBox)
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)


def test_every_rule_is_explained_and_saved_for_the_association(window: MainWindow) -> None:
    dialog = window.meeting_actions.edit_rules()
    assert dialog.windowTitle() == "Meeting rules of the association"
    assert dialog.rules() == Rules()  # never saved: the usual rules
    assert dialog.quorum_example.text() == (
        "With 100 households, 51 must be counted present (more than half of 100).")
    explanations = [label.text() for label in dialog.findChildren(QLabel)
                    if label.wordWrap() and label.text()]
    for words in ("bylaws (規約)", "more than half", "白票は賛成とみなす", "cannot be read (無効)",
                  "Both forms are printed on one sheet", "votes in the room",
                  "A proxy with no name (白紙委任) always goes to the chair",
                  "The chair has no limit"):
        assert any(words in text for text in explanations), words

    dialog.member.setChecked(True)
    choose(dialog.quorum_strict, False)
    dialog.quorum_numerator.setValue(1)
    dialog.quorum_denominator.setValue(3)
    dialog.count_written.setChecked(False)
    assert dialog.quorum_example.text() == (
        "With 100 members, 34 must be counted present (at least 1/3 of 100).")
    choose(dialog.blank_counts_as, CountAs.FOR)
    choose(dialog.spoiled_counts_as, CountAs.AGAINST)
    choose(dialog.proxy_and_written, FormConflict.LATEST_WINS)
    dialog.attendance_overrides.setChecked(False)
    choose(dialog.absent_holder, AbsentHolder.LAPSE)
    choose(dialog.chair_votes, ChairVote.ABSTAIN)
    assert not dialog.cap.isEnabled()
    dialog.cap_on.setChecked(True)
    assert dialog.cap.isEnabled()
    dialog.cap.setValue(3)
    dialog.accept()
    assert dialog.saved and not dialog.isVisible()

    expected = Rules(
        voting_unit=VotingUnit.MEMBER,
        quorum=Quorum(1, 3, strict=False, count_written=False),
        blank_counts_as=CountAs.FOR, spoiled_counts_as=CountAs.AGAINST,
        proxy_and_written=FormConflict.LATEST_WINS, attendance_overrides_forms=False,
        absent_holder=AbsentHolder.LAPSE, chair_votes=ChairVote.ABSTAIN, proxy_cap=3)
    with window.file.read() as session:
        assert meetings.get_rules(session) == expected
    again = window.meeting_actions.edit_rules()
    assert again.rules() == expected  # shown as saved
    again.defaults_button.click()
    assert again.rules() == Rules()


def test_a_quorum_that_counts_nobody_is_refused(
    window: MainWindow, messages: Messages
) -> None:
    dialog = window.meeting_actions.edit_rules()
    for box in (dialog.count_in_person, dialog.count_proxies, dialog.count_written):
        box.setChecked(False)
    assert dialog.quorum_example.text().startswith("The quorum counts nobody.")
    assert "b00020" in dialog.quorum_example.styleSheet()
    dialog.accept()
    assert messages.warnings == [
        "The quorum counts nobody. Tick at least one of in person, proxies or written votes."]
    assert dialog.isVisible() and not dialog.saved
    dialog.count_in_person.setChecked(True)
    dialog.quorum_numerator.setValue(0)
    assert dialog.quorum_example.text() == "No quorum: the meeting is always valid."
    messages.answer = False
    dialog.reject()  # changed: asks first
    assert messages.questions == ["Close without saving the changes?"]
    assert dialog.isVisible()
    messages.answer = True
    dialog.reject()
    with window.file.read() as session:
        assert meetings.get_rules(session) == Rules()


def test_a_meetings_own_rules_keep_the_voting_unit_once_forms_are_entered(
    window: MainWindow,
) -> None:
    with window.file.write() as session:
        meeting_id = meetings.create_meeting(
            session, data=MeetingData("総会", date(2026, 6, 20), "", date(2026, 6, 1)),
            items=[ItemData("事業報告")])
        entries.record_entry(session, meeting_id=meeting_id, voter_key="0001",
                             kind=EntryKind.ATTEND, entered_by="受付",
                             entered_at=datetime(2026, 6, 20, tzinfo=UTC))
    dialog = MeetingRulesDialog(window, window.file, meeting_id=meeting_id)
    assert dialog.windowTitle() == "Rules of 「総会」"
    assert not dialog.household.isEnabled() and not dialog.member.isEnabled()
    assert dialog.quorum_example.text() == (
        "With 40 households, 21 must be counted present (more than half of 40).")
    dialog.cap_on.setChecked(True)
    dialog.cap.setValue(2)
    dialog.accept()
    with window.file.read() as session:
        assert meetings.get_meeting(session, meeting_id=meeting_id).rules.proxy_cap == 2
        assert meetings.get_rules(session).proxy_cap is None  # the association's stay
