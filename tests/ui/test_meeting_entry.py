"""The meeting entry screen: a number (or a form's QR code), a kind key, Enter — 出席, 委任 to a
member or to the chair, 書面 with a key per item, 欠席; the same form twice changes nothing; a
different one needs a yes; unknown numbers, late joiners and proxies to non-members are
explained; an entry typed by mistake is cancelled from the history; the door checks in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.domain.meeting import entries, meetings
from desktop.domain.meeting.entries import meeting_slip_code
from desktop.domain.meeting.meetings import ItemData, MeetingData
from desktop.domain.meeting.rules import TWO_THIRDS_OF_PRESENT
from desktop.domain.meeting.tally import EntryKind, Source, Status, Vote
from desktop.ui.main_window import MainWindow
from desktop.ui.meeting_entry import MeetingEntry
from tests.ui.helpers import Messages, is_focused, type_text

WAIT = 5000  # ms
MEETING = MeetingData(title="臨時総会", held_on=date(2026, 6, 20), place="集会所",
                      record_date=date(2023, 6, 1))  # 0003 joined in October 2023
ITEMS = (ItemData("事業報告"), ItemData("予算"), ItemData("規約改正", TWO_THIRDS_OF_PRESENT))


def make_meeting(window: MainWindow) -> uuid.UUID:
    """A meeting of the demo association with three items (two simple, one 2/3)."""
    with window.file.write() as session:
        return meetings.create_meeting(session, data=MEETING, items=ITEMS)


@pytest.fixture
def screen(window: MainWindow, qtbot: Any) -> Iterator[MeetingEntry]:
    window.meeting_actions.entered_by = "書記 佐藤"
    entry = window.meeting_actions.enter_forms(make_meeting(window))
    assert entry is not None
    qtbot.waitExposed(entry)
    entry.activateWindow()
    qtbot.waitUntil(lambda: entry.tally_panel.tally is not None, timeout=WAIT)
    yield entry
    qtbot.waitUntil(lambda: not entry.tally_panel.busy(), timeout=WAIT)


def enter(qtbot: Any, screen: MeetingEntry, number: str, kind: str, *rest: str) -> None:
    """Type as an officer would: the number and Enter, the kind key, then the holder and Enter
    (a proxy), one key per item and Enter (a written vote), or Enter (the others)."""
    type_text(qtbot, screen.entry, number)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    type_text(qtbot, screen.kind, kind)
    if kind == "2":
        assert is_focused(screen.holder)  # the key alone moves on
        type_text(qtbot, screen.holder, rest[0] if rest else "")
        qtbot.keyClick(screen.holder, Qt.Key.Key_Return)
    elif kind == "3":
        assert is_focused(screen.item_fields[0])
        for field, answer in zip(screen.item_fields, rest, strict=True):
            assert is_focused(field)
            type_text(qtbot, field, answer)
        qtbot.keyClick(screen.item_fields[-1], Qt.Key.Key_Return)
    else:
        qtbot.keyClick(screen.kind, Qt.Key.Key_Return)


def stored(window: MainWindow, screen: MeetingEntry, number: str) -> list[entries.Entry]:
    with window.file.read() as session:
        return entries.voter_entries(session, meeting_id=screen.meeting_id, voter_key=number)


def status(screen: MeetingEntry, number: str) -> Status:
    tally = screen.tally_panel.tally
    assert tally is not None
    return tally.outcome(number).status


def settle(qtbot: Any, screen: MeetingEntry) -> None:
    """Wait until the tally has counted everything entered so far."""
    qtbot.waitUntil(lambda: not screen.tally_panel.busy(), timeout=WAIT)


def test_each_kind_of_form_is_recorded_from_the_keyboard(
    qtbot: Any, screen: MeetingEntry, window: MainWindow
) -> None:
    assert is_focused(screen.entry)
    assert screen.kind.placeholderText() == (
        "1 = in person　2 = proxy　3 = written vote　4 = absent")
    qtbot.keyClicks(screen.entry, "4")
    assert screen.who.text() == "→ 0004 河野 進（1班）　now: No reply"
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert is_focused(screen.kind)  # the number alone records nothing
    assert screen.history_shown() == ["Nothing entered yet"]
    qtbot.keyClicks(screen.kind, "1")
    qtbot.keyClick(screen.kind, Qt.Key.Key_Return)
    assert screen.last_result.text() == "Recorded: 0004 河野 進（1班） — Present in person"
    assert is_focused(screen.entry) and screen.entry.text() == ""

    enter(qtbot, screen, "0006", "2")  # Enter alone: to the chair
    assert screen.last_result.text() == (
        "Recorded: 0006 石川 節子（1班） — Proxy to the chair (blank)")
    enter(qtbot, screen, "7", "2", "4")
    assert screen.last_result.text() == "Recorded: 0007 河野 一郎（1班） — Proxy to 0004 河野 進"
    enter(qtbot, screen, "0008", "3", "1", "2", "9")
    assert screen.last_result.text() == (
        "Recorded: 0008 小山 義男（1班） — Written vote: For / Against / Both ticked")
    enter(qtbot, screen, "0009", "4")
    assert screen.last_result.text() == "Recorded: 0009 池田 蓮（1班） — Absent"

    [written] = stored(window, screen, "0008")
    assert (written.kind, written.votes, written.source) == (
        EntryKind.WRITTEN, (Vote.FOR, Vote.AGAINST, Vote.SPOILED), Source.FORM)
    assert written.entered_by == "書記 佐藤"
    [proxy] = stored(window, screen, "0007")
    assert proxy.holder_key == "0004"
    settle(qtbot, screen)
    assert [status(screen, n) for n in ("0004", "0006", "0007", "0008", "0009", "0010")] == [
        Status.IN_PERSON, Status.PROXY_TO_CHAIR, Status.PROXY_TO_HOLDER, Status.WRITTEN,
        Status.ABSENT, Status.NO_REPLY]
    assert screen.history_shown()[0].startswith("5 Absent")  # the last voter's history
    assert screen.status.text() == "Counts as: Absent — Absent, with no proxy or written vote."


def test_a_blank_answer_and_a_wrong_key_on_a_written_vote(
    qtbot: Any, screen: MeetingEntry, window: MainWindow
) -> None:
    type_text(qtbot, screen.entry, "0010")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    type_text(qtbot, screen.kind, "5")
    assert screen.last_result.text().startswith("「5」 is not a kind of form.")
    assert screen.kind.text() == ""
    type_text(qtbot, screen.kind, "3")
    type_text(qtbot, screen.item_fields[0], "7")
    assert screen.last_result.text().startswith("Item 1: 「7」 is not an answer.")
    assert is_focused(screen.item_fields[0]) and screen.item_fields[0].text() == ""
    type_text(qtbot, screen.item_fields[0], "０")  # full width, as an input method types it
    assert is_focused(screen.item_fields[1])
    type_text(qtbot, screen.item_fields[1], "1")
    type_text(qtbot, screen.item_fields[2], "3")
    qtbot.keyClick(screen.item_fields[2], Qt.Key.Key_Return)
    assert screen.last_result.text() == (
        "Recorded: 0010 林 拓海（1班） — Written vote: Blank / For / Abstain")


def test_the_same_form_twice_changes_nothing_and_a_correction_needs_a_yes(
    qtbot: Any, screen: MeetingEntry, window: MainWindow, messages: Messages
) -> None:
    enter(qtbot, screen, "0012", "3", "1", "1", "1")
    enter(qtbot, screen, meeting_slip_code(screen.meeting_id, "0012"), "3", "1", "1", "1")
    assert screen.last_result.text() == (
        "Already entered, the same form: 0012 藤原 明（1班） — Written vote: For / For / For. "
        "Nothing changed.")
    assert len(stored(window, screen, "0012")) == 1
    assert messages.questions == []

    messages.answer = False
    enter(qtbot, screen, "0012", "3", "1", "2", "1")
    assert "already has 「Written vote: For / For / For」" in messages.questions[0]
    assert screen.last_result.text() == (
        "Not changed: 0012 藤原 明（1班） keeps 「Written vote: For / For / For」.")
    assert len(stored(window, screen, "0012")) == 1

    messages.answer = True
    enter(qtbot, screen, "0012", "3", "1", "2", "1")
    assert screen.last_result.text() == (
        "Corrected: 0012 藤原 明（1班） — now Written vote: For / Against / For")
    first, second = stored(window, screen, "0012")  # the earlier entry stays on record
    assert (first.votes[1], second.votes[1]) == (Vote.FOR, Vote.AGAINST)
    assert screen.history_shown() == ["1 Written vote: For / For / For",
                                      "2 Written vote: For / Against / For"]


def test_unknown_numbers_late_joiners_and_proxies_to_non_members_are_explained(
    qtbot: Any, screen: MeetingEntry, window: MainWindow
) -> None:
    type_text(qtbot, screen.entry, "9999")
    assert screen.who.text() == "(not on the voter list)"
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert screen.last_result.text().startswith("No household has the number 9999.")
    assert "b00020" in screen.last_result.styleSheet()  # in red
    assert is_focused(screen.entry) and screen.entry.selectedText() == "9999"

    screen.entry.clear()
    type_text(qtbot, screen.entry, "0003")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert screen.last_result.text().startswith(
        "0003 大野 颯太 joined on 令和5年10月2日 (2023-10-02), after the record date "
        "令和5年6月1日 (2023-06-01), so it is not on the voter list of 「臨時総会」.")
    assert is_focused(screen.entry)

    screen.entry.clear()
    enter(qtbot, screen, "0005", "2", "0003")
    assert screen.last_result.text().startswith("The proxy holder: 0003 大野 颯太 joined on")
    assert "A proxy can only go to a member on the voter list." in screen.last_result.text()
    assert is_focused(screen.holder) and screen.holder.selectedText() == "0003"
    screen.holder.clear()
    qtbot.keyClicks(screen.holder, "5")
    qtbot.keyClick(screen.holder, Qt.Key.Key_Return)
    assert screen.last_result.text().startswith("The proxy of 0005 坂本 洋子 names 0005 坂本 洋子")
    assert stored(window, screen, "0005") == []
    assert stored(window, screen, "0003") == []


def test_another_groups_number_is_refused_while_entering_one_group(
    qtbot: Any, screen: MeetingEntry, window: MainWindow
) -> None:
    screen.group_filter.setCurrentIndex(screen.group_filter.findText("1班"))
    assert list(screen.tally_panel.not_returned_shown()) == ["1班"]
    enter(qtbot, screen, "0020", "1")
    assert screen.last_result.text().startswith(
        "0020 石田 キヨ is in 2班, not in 1班. Check the number, or choose 「All 班」")
    assert stored(window, screen, "0020") == []


def test_a_mistake_is_cancelled_from_the_history_after_asking(
    qtbot: Any, screen: MeetingEntry, window: MainWindow, messages: Messages
) -> None:
    enter(qtbot, screen, "0013", "4")
    screen.history.setCurrentItem(screen.history.topLevelItem(0))
    assert screen.cancel_button.isEnabled()
    messages.answer = False
    assert screen.cancel_chosen() is None
    assert "Cancel entry 1 of 0013 竹内 湊（1班） (「Absent」)?" in messages.questions[0]
    messages.answer = True
    cancel = screen.cancel_chosen()
    assert cancel is not None and cancel.cancels == 1
    assert screen.last_result.text() == "Cancelled entry 1 of 0013 竹内 湊（1班）."
    assert screen.history_shown() == ["1 Absent (cancelled by entry 2)", "2 Cancels entry 1"]
    screen.history.setCurrentItem(screen.history.topLevelItem(1))
    assert not screen.cancel_button.isEnabled()  # a cancel is not cancelled
    settle(qtbot, screen)
    assert status(screen, "0013") == Status.NO_REPLY
    assert screen.status.text() == (
        "Counts as: No reply — Every entry for this voter was cancelled.")


def test_checking_in_at_the_door_is_number_enter_enter(
    qtbot: Any, window: MainWindow
) -> None:
    meeting_id = make_meeting(window)
    window.meeting_actions.refresh(select=meeting_id)
    screen = window.meeting_actions.check_in_selected()
    assert screen is not None and screen.current_source() is Source.DOOR
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: screen.tally_panel.tally is not None, timeout=WAIT)
    type_text(qtbot, screen.entry, "0018")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert screen.kind.text() == "1" and is_focused(screen.kind)
    qtbot.keyClick(screen.kind, Qt.Key.Key_Return)
    assert screen.last_result.text() == "Recorded: 0018 大野 隆（2班） — Present in person"
    with window.file.read() as session:
        [entry] = entries.voter_entries(session, meeting_id=meeting_id, voter_key="0018")
    assert entry.source is Source.DOOR
    assert screen.history_shown()[0].endswith("Present in person")
    assert screen.history.topLevelItem(0).text(3) == "door"
    qtbot.waitUntil(lambda: not screen.tally_panel.busy(), timeout=WAIT)


def test_printing_from_the_screen_opens_over_it(
    screen: MeetingEntry, window: MainWindow
) -> None:
    screen.tally_panel.print_button.click()
    dialog = window.meeting_actions.print_dialog
    assert dialog is not None and dialog.parentWidget() is screen  # not behind the screen
    assert dialog.meeting_id == screen.meeting_id
    dialog.reject()


def test_escape_clears_what_is_half_typed_and_a_holder_may_be_unknown(
    qtbot: Any, screen: MeetingEntry, window: MainWindow
) -> None:
    type_text(qtbot, screen.entry, "0014")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    type_text(qtbot, screen.kind, "2")
    type_text(qtbot, screen.holder, "9999")
    qtbot.keyClick(screen.holder, Qt.Key.Key_Return)
    assert screen.last_result.text().startswith(
        "The proxy holder: No household has the number 9999.")
    qtbot.keyClick(screen.holder, Qt.Key.Key_Escape)
    assert screen.isVisible()  # the screen stays; the half-typed form goes
    assert (screen.entry.text(), screen.kind.text(), screen.holder.text()) == ("", "", "")
    assert is_focused(screen.entry) and not screen.holder.isEnabled()
    assert stored(window, screen, "0014") == []


def test_one_vote_per_member_is_entered_as_number_and_place(
    qtbot: Any, window: MainWindow
) -> None:
    from desktop.domain.meeting.rules import Rules, VotingUnit

    with window.file.write() as session:
        meetings.save_rules(session, rules=Rules(voting_unit=VotingUnit.MEMBER))
        meeting_id = meetings.create_meeting(session, data=MEETING, items=ITEMS)
        members = [voter for voter in meetings.meeting_voters(session, meeting_id=meeting_id)
                   if voter.number == "0001"]
    assert len(members) == 3
    screen = window.meeting_actions.enter_forms(meeting_id)
    assert screen is not None
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: screen.tally_panel.tally is not None, timeout=WAIT)
    type_text(qtbot, screen.entry, "0001")
    assert screen.who.text() == "→ household 0001: 3 members on the list"
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert "Household 0001 has 3 members on the voter list" in screen.last_result.text()
    screen.entry.clear()
    type_text(qtbot, screen.entry, "0001-2")
    assert screen.who.text().startswith(f"→ 0001 {members[1].name}（1班）")
    screen.entry.clear()
    enter(qtbot, screen, meeting_slip_code(meeting_id, members[2].key), "1")
    assert screen.last_result.text() == (
        f"Recorded: 0001 {members[2].name}（1班） — Present in person")
    enter(qtbot, screen, "0001-2", "2", "0001-3")
    assert screen.last_result.text() == (
        f"Recorded: 0001 {members[1].name}（1班） — Proxy to 0001 {members[2].name}")
    qtbot.waitUntil(lambda: not screen.tally_panel.busy(), timeout=WAIT)
