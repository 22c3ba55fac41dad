"""The live tally: quorum reached and by how much, each item with the arithmetic that decides
it once the show of hands is typed, the problems, who has not returned a form per 班 — counted
off the UI thread, the newest result last."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.domain.meeting import entries, meetings
from desktop.domain.meeting.meetings import ItemData, MeetingData
from desktop.domain.meeting.rules import TWO_THIRDS_OF_PRESENT
from desktop.domain.meeting.tally import EntryKind, Vote
from desktop.ui.main_window import MainWindow
from desktop.ui.meeting_tally_panel import MeetingTallyWindow, TallyRefresher

WAIT = 5000  # ms
AT = datetime(2026, 6, 10, 9, tzinfo=UTC)
MEETING = MeetingData(title="定期総会", held_on=date(2026, 6, 20), place="集会所",
                      record_date=date(2026, 6, 1))
ITEMS = (ItemData("事業報告"), ItemData("予算"), ItemData("規約改正", TWO_THIRDS_OF_PRESENT))
WRITTEN = [f"{number:04d}" for number in range(1, 16)]  # 15 written votes: 賛成 反対 賛成
IN_PERSON = ["0018", "0019", "0020", "0021", "0022"]
TO_CHAIR = ["0023", "0024", "0025"]
ABSENT_HOLDER = "0026"  # a proxy to 0027, who does not come: to the chair


def prepared(window: MainWindow) -> uuid.UUID:
    """A meeting of the 40 demo households: 5 present, 4 proxies to the chair, 15 written."""
    with window.file.write() as session:
        meeting_id = meetings.create_meeting(session, data=MEETING, items=ITEMS)

        def add(number: str, kind: EntryKind, **details: Any) -> None:
            entries.record_entry(session, meeting_id=meeting_id, voter_key=number, kind=kind,
                                 entered_by="受付", entered_at=AT, **details)

        for number in WRITTEN:
            add(number, EntryKind.WRITTEN, votes=[Vote.FOR, Vote.AGAINST, Vote.FOR])
        for number in IN_PERSON:
            add(number, EntryKind.ATTEND)
        for number in TO_CHAIR:
            add(number, EntryKind.PROXY)
        add(ABSENT_HOLDER, EntryKind.PROXY, holder="0027")
    return meeting_id


@pytest.fixture
def tally_window(window: MainWindow, qtbot: Any) -> Iterator[MeetingTallyWindow]:
    shown = window.meeting_actions.show_tally(prepared(window))
    assert shown is not None
    qtbot.waitExposed(shown)
    qtbot.waitUntil(lambda: shown.panel.tally is not None, timeout=WAIT)
    yield shown
    qtbot.waitUntil(lambda: not shown.panel.busy(), timeout=WAIT)
    shown.close()


def test_quorum_and_items_show_the_arithmetic(tally_window: MeetingTallyWindow) -> None:
    panel = tally_window.panel
    assert panel.quorum.text() == (
        "Quorum: in person 5 + proxies 4 + written 15 = 24 of 40 households; more than half "
        "needs 21 → reached with 3 to spare")
    assert "1b5e20" in panel.quorum.styleSheet()  # green
    assert panel.item_row(0) == ["1. 事業報告（more than half of those present）", "19", "0",
                                 "0", "Carried"]
    assert panel.item_lines(0)[0] == "For 19 > attendance 24 × 1/2 = 12 → carried"
    assert "For 19 (written 15, chair 4, show of hands 0)" in panel.item_lines(0)
    assert "The show of hands is not entered yet." in panel.item_lines(0)
    assert panel.item_row(1)[1:] == ["4", "15", "0", "Rejected"]
    assert panel.item_lines(1)[0] == "For 4 ≤ attendance 24 × 1/2 = 12 → rejected"
    assert panel.item_lines(2)[0] == "For 19 ≥ attendance 24 × 2/3 = 16 → carried"


def test_a_show_of_hands_typed_on_the_day_counts(
    qtbot: Any, tally_window: MeetingTallyWindow, window: MainWindow
) -> None:
    panel = tally_window.panel
    assert panel.floor_hint.text().startswith(
        "In the room: 5 present in person holding 0 proxies, 5 hands in all.")
    panel.floor_item.setCurrentIndex(1)
    tally_window.activateWindow()
    panel.floor_for.setFocus()
    for spin, count in ((panel.floor_for, "4"), (panel.floor_against, "1"),
                        (panel.floor_abstain, "0")):
        spin.lineEdit().selectAll()
        qtbot.keyClicks(spin, count)
        qtbot.keyClick(spin, Qt.Key.Key_Return)  # the last Enter records
    qtbot.waitUntil(lambda: panel.item_row(1)[1] == "8", timeout=WAIT)
    assert panel.item_row(1)[1:] == ["8", "16", "0", "Rejected"]
    assert "For 8 (written 0, chair 4, show of hands 4)" in panel.item_lines(1)
    assert "The show of hands is not entered yet." not in panel.item_lines(1)
    assert panel.floor_item.currentIndex() == 2  # ready for the next item
    with window.file.read() as session:
        tally = entries.meeting_tally(session, meeting_id=panel.meeting_id)
    assert (tally.items[1].floor.for_, tally.items[1].floor.against) == (4, 1)

    panel.floor_item.setCurrentIndex(0)
    panel.floor_for.setValue(40)  # more hands than people in the room
    assert panel.record_floor() is not None
    qtbot.waitUntil(lambda: panel.item_row(0)[1] == "59", timeout=WAIT)
    assert any("the show of hands counts 40 hands, more than the people" in
               panel.problems.item(row).text() for row in range(panel.problems.count()))


def test_problems_and_the_not_returned_list_per_group(
    tally_window: MeetingTallyWindow,
) -> None:
    panel = tally_window.panel
    problems = [panel.problems.item(row).text() for row in range(panel.problems.count())]
    assert problems == [
        "0026 松尾 大翔: the proxy holder 0027 石川 直樹 is not present; the proxy goes to the "
        "chair."]
    assert panel.lists.tabText(0) == "Problems (0 to check, 1 notes)"
    shown = panel.not_returned_shown()
    assert list(shown) == ["1班", "2班"]
    assert shown["1班"] == ["0016  山本 隆", "0017  鈴木 哲也"]
    assert len(shown["2班"]) == 23 - len(IN_PERSON) - len(TO_CHAIR) - 1
    assert "0027  石川 直樹" in shown["2班"]
    assert panel.lists.tabText(1) == f"Not returned ({2 + len(shown['2班'])})"
    panel.set_group_filter("1班")
    assert list(panel.not_returned_shown()) == ["1班"]


def test_the_newest_count_is_shown_last(
    qtbot: Any, tally_window: MeetingTallyWindow, window: MainWindow
) -> None:
    panel = tally_window.panel
    with window.file.write() as session:
        for number in ("0030", "0031"):
            entries.record_entry(session, meeting_id=panel.meeting_id, voter_key=number,
                                 kind=EntryKind.ATTEND, entered_by="受付",
                                 entered_at=AT + timedelta(hours=1))
    for _ in range(3):
        panel.refresh()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=WAIT)
    assert panel.tally is not None and panel.tally.counts.in_person == 7


def test_requests_while_counting_are_folded_into_one_more_count(qtbot: Any) -> None:
    started: list[int] = []
    threads: list[threading.Thread] = []
    version = [0]
    gate = threading.Event()

    def load() -> Any:
        threads.append(threading.current_thread())
        started.append(version[0])
        gate.wait(WAIT / 1000)  # the first count is slow: the data change meanwhile
        return started[-1]

    refresher = TallyRefresher(load)
    shown: list[int] = []
    refresher.ready.connect(shown.append)
    refresher.request()
    qtbot.waitUntil(lambda: started == [0], timeout=WAIT)
    for version[0] in (1, 2, 3):  # three changes while the first count runs
        refresher.request()
    gate.set()
    qtbot.waitUntil(lambda: not refresher.busy(), timeout=WAIT)
    assert started == [0, 3]  # one count more, of the newest data
    assert shown[-1] == 3
    assert threading.main_thread() not in threads  # never on the UI thread
