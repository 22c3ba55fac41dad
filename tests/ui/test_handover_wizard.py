"""The handover wizard, page by page and all the way through, on the demo association (officers
of 令和8年度, today 2026-06-01): year → officers → 班長 → open items and memos → summary and
hand over → the relay page when paired; then the 引継書 in the preview. Also the role rules
the wizard checks (required, not together) edited on the role board, and an earlier circular
used as a template."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QWizard

from desktop.domain import circulars, roles
from desktop.domain.groups import group_tree
from desktop.domain.handover import apply_handover, get_handover, plan_handover
from desktop.domain.handover_items import list_memos
from desktop.domain.households import get_household, han_route, update_household
from desktop.ui.handover_actions import HandoverActions
from desktop.ui.handover_wizard import (
    ITEMS_PAGE,
    LEADERS_PAGE,
    OFFICERS_PAGE,
    RELAY_PAGE,
    SUMMARY_PAGE,
    YEAR_PAGE,
    HandoverWizard,
    default_new_year,
)
from desktop.ui.main_window import MainWindow
from desktop.ui.member_picker import MemberPicker
from desktop.ui.role_board import board_years
from tests.sync.helpers import mark_paired
from tests.ui.helpers import YEAR, Messages

NEW = YEAR + 1
WAIT = 5000  # ms


@pytest.fixture
def actions(window: MainWindow, tmp_path: Path) -> Iterator[HandoverActions]:
    window.sync_actions.stop()  # no relay here: no sync cycles
    made = HandoverActions(window)
    made.job_folder = tmp_path / "jobs"
    made.job_folder.mkdir()
    yield made
    if made.preview is not None:
        made.preview.reject()


def open_wizard(qtbot: Any, actions: HandoverActions) -> HandoverWizard:
    actions.run_wizard()
    qtbot.waitUntil(lambda: actions.wizard is not None and actions.wizard.isVisible(),
                    timeout=WAIT)
    assert actions.wizard is not None
    return actions.wizard


def settle(qtbot: Any, wizard: HandoverWizard) -> None:
    """Wait for planning or handing over to finish."""
    qtbot.waitUntil(lambda: not wizard.busy, timeout=WAIT)


@pytest.fixture
def wizard(qtbot: Any, actions: HandoverActions) -> HandoverWizard:
    return open_wizard(qtbot, actions)


@pytest.fixture
def pick(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[MemberPicker]]:
    """Replace the member picker's ``exec``: type ``text`` and take the first match (or
    cancel when nothing matches)."""

    def patch(text: str) -> list[MemberPicker]:
        opened: list[MemberPicker] = []

        def fake_exec(picker: MemberPicker) -> int:
            opened.append(picker)
            picker.search.setText(text)
            if picker.results.count():
                picker.accept()
            else:
                picker.reject()
            return picker.result()

        monkeypatch.setattr(MemberPicker, "exec", fake_exec)
        return opened

    return patch


def rows(table: Any) -> list[list[str]]:
    return [[table.item(row, column).text() for column in range(table.columnCount())]
            for row in range(table.rowCount())]


def select(table: Any, first_cell: str) -> None:
    table.selectRow(next(index for index, row in enumerate(rows(table))
                         if row[0] == first_cell))


def go_to(wizard: HandoverWizard, page: int) -> None:
    while wizard.currentId() != page:
        wizard.next()


# ---------------------------------------------------------------- 1. the year


def test_the_default_year_is_the_coming_one_unless_the_handover_is_late() -> None:
    assert default_new_year(2026, today=date(2026, 6, 1), start_month=4,
                            current_done=False) == 2027
    assert default_new_year(2026, today=date(2026, 4, 20), start_month=4,
                            current_done=False) == 2026
    assert default_new_year(2026, today=date(2026, 4, 20), start_month=4,
                            current_done=True) == 2027
    assert default_new_year(2026, today=date(2027, 3, 10), start_month=4,
                            current_done=False) == 2027


def test_year_page_offers_the_coming_year_and_its_dates(qtbot: Any,
                                                        wizard: HandoverWizard) -> None:
    page = wizard.year_page
    assert wizard.currentId() == YEAR_PAGE
    assert page.year.currentText() == "令和9年度（2027）"
    assert page.dates() == (date(2027, 4, 1), date(2028, 3, 31))
    assert "令和8年度" in page.outgoing.text() and "令和9年度" in page.outgoing.text()
    assert page.starts_text.text() == "令和9年4月1日 (2027-04-01)"
    assert page.isComplete()

    page.ends.setDate(QDate(2027, 3, 1))
    assert not page.isComplete() and "starts after it ends" in page.note.text()
    page.ends.setDate(QDate(2028, 4, 30))  # a year that ends at the general meeting
    assert page.isComplete() and wizard.choices.ends_on == date(2028, 4, 30)

    page.year.setCurrentIndex(page.year.findData(YEAR))  # the current year: a late handover
    assert not page.isComplete()  # until the plan of that year is in
    settle(qtbot, wizard)
    assert page.isComplete()
    assert wizard.plan.new_year == YEAR and wizard.plan.from_year == YEAR - 1
    assert page.dates() == (date(2026, 4, 1), date(2027, 3, 31))


def test_a_year_handed_over_already_cannot_be_chosen_again(
        qtbot: Any, actions: HandoverActions) -> None:
    with actions.file.write() as session:
        apply_handover(session, plan_handover(session, new_year=NEW).choices(),
                       done_by="前任 一郎")
    wizard = open_wizard(qtbot, actions)
    page = wizard.year_page
    assert not page.isComplete()
    assert "already done" in page.note.text() and "前任 一郎" in page.note.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    page.year.setCurrentIndex(page.year.findData(NEW + 1))
    settle(qtbot, wizard)
    assert page.isComplete() and page.note.text() == ""


# ---------------------------------------------------------------- 2. officers


def test_officers_page_carries_over_chooses_and_flags(
        wizard: HandoverWizard, pick: Callable[[str], list[MemberPicker]],
        messages: Messages) -> None:
    go_to(wizard, OFFICERS_PAGE)
    page = wizard.officers_page
    table = rows(page.table)
    assert table[0] == ["会長 (required)", "木村 修（0040）", "木村 修（0040）",
                        "Carried over from 令和8年度."]
    assert page.table.horizontalHeaderItem(1).text() == "令和8年度"
    assert ["監事", "(vacant)", "(vacant)", "Nobody held it in 令和8年度."] in table
    assert page.warnings.text() == ""

    select(page.table, "会計 (required)")  # the 会長 as 会計 too: flagged, not refused
    opened = pick("木村 修")
    page.pick.click()
    assert opened[0].windowTitle() == "Who holds 会計 in 令和9年度?"
    assert rows(page.table)[2][2:] == ["木村 修（0040）", "Chosen by hand."]
    assert "木村 修 would hold both 会長 and 会計" in page.warnings.text()

    select(page.table, "会長 (required)")
    page.vacant.click()
    assert rows(page.table)[0][2] == "(vacant)"
    assert "会長 is required by the bylaws but left vacant" in page.warnings.text()
    assert "would hold both" not in page.warnings.text()
    page.carry.click()
    assert rows(page.table)[0][2] == "木村 修（0040）"

    select(page.table, "副会長")  # two may hold it, and two do: choose again after vacating
    pick("服部")
    page.pick.click()
    assert rows(page.table)[1][2] == rows(page.table)[1][1]  # refused: both seats are taken
    assert "副会長 already has 2 holders" in messages.warnings[-1]
    page.vacant.click()
    page.pick.click()
    assert rows(page.table)[1][2] == "服部 修（0001）"


# ---------------------------------------------------------------- 3. 班長


def test_leaders_page_rotates_and_can_be_overridden(
        qtbot: Any, wizard: HandoverWizard, pick: Callable[[str], list[MemberPicker]]) -> None:
    go_to(wizard, LEADERS_PAGE)
    page = wizard.leaders_page
    assert [row[:4] for row in rows(page.table)] == [
        ["1班", "班長", "河野 一郎（0007）", "小山 義男（0008）"],
        ["2班", "班長", "山口 由香（0021）", "宮崎 信夫（0022）"]]
    assert rows(page.table)[0][4] == "Next on the route after 河野 一郎."
    assert not page.empty.isVisible()

    select(page.table, "2班")
    opened = pick("服部 修")  # of 1班: not offered for 2班
    page.pick.click()
    assert opened[0].results.count() == 0
    assert rows(page.table)[1][3] == "宮崎 信夫（0022）"
    pick("0023")
    page.pick.click()
    assert rows(page.table)[1][3:] == ["小川 大輔（0023）", "Chosen by hand."]

    page.recent.setValue(0)  # replanning keeps what was chosen by hand
    settle(qtbot, wizard)
    assert wizard.plan.recent_years == 0
    assert rows(page.table)[1][3] == "小川 大輔（0023）"
    page.rotation.click()
    assert rows(page.table)[1][3] == "宮崎 信夫（0022）"
    page.vacant.click()
    assert rows(page.table)[1][3] == "(vacant)"


def test_a_han_whose_every_household_is_exempt_is_said(
        qtbot: Any, actions: HandoverActions) -> None:
    with actions.file.write() as session:
        han = next(node for node in group_tree(session) if node.name == "2班")
        for stop in han_route(session, group_id=han.id):
            record = get_household(session, household_id=stop.household_id)
            update_household(session, household_id=stop.household_id,
                             data=replace(record.data, exempt_han_leader=True),
                             members=record.members)
    wizard = open_wizard(qtbot, actions)
    go_to(wizard, LEADERS_PAGE)
    page = wizard.leaders_page
    assert rows(page.table)[1][3] == "(vacant)"
    assert "Every household of 2班 is exempt" in rows(page.table)[1][4]
    assert "Every household of 2班 is exempt" in page.warnings.text()


# ---------------------------------------------------------------- 4. open items and memos


def test_items_page_lists_open_circulars_and_keeps_memos(
        wizard: HandoverWizard, messages: Messages) -> None:
    go_to(wizard, ITEMS_PAGE)
    page = wizard.items_page
    [line] = [page.circulars.item(i).text() for i in range(page.circulars.count())]
    assert line.startswith("「秋の一斉清掃のお知らせ」 (令和8年10月1日): 6 of 40 answered")
    assert "1班 12、2班 22" in line
    assert page.memos.count() == 0 and not page.delete.isEnabled()

    page.role.setCurrentIndex(page.role.findText("会長"))
    page.text.setPlainText("会館の鍵は会長宅の金庫にあります。")
    page.save.click()
    assert page.memos.count() == 1
    assert page.memos.currentItem().text() == "【会長】 会館の鍵は会長宅の金庫にあります。"
    page.text.setPlainText("会館の鍵は書記宅にあります。")
    page.save.click()  # edits the memo shown, not a new one
    page.new.click()
    page.text.setPlainText("   ")
    page.save.click()
    assert messages.warnings and "The memo is empty" in messages.warnings[-1]
    page.text.setPlainText("全体：総会の資料は倉庫の棚。")
    page.role.setCurrentIndex(0)
    wizard.next()  # typed but not saved: saved on the way on, not lost
    assert wizard.currentId() == SUMMARY_PAGE
    with wizard.file.read() as session:
        memos = list_memos(session, year=NEW)
    assert [(m.role_name, m.text) for m in memos] == [
        ("", "全体：総会の資料は倉庫の棚。"), ("会長", "会館の鍵は書記宅にあります。")]

    wizard.back()
    page.memos.setCurrentRow(0)
    messages.answer = True
    page.delete.click()
    assert page.memos.count() == 1 and "Delete this memo?" in messages.questions[-1]


# ---------------------------------------------------------------- 5. and 6.: the whole path


def test_the_whole_path_hands_over_and_shows_the_report(
        qtbot: Any, window: MainWindow, actions: HandoverActions, wizard: HandoverWizard,
        pick: Callable[[str], list[MemberPicker]]) -> None:
    wizard.next()
    page = wizard.officers_page
    select(page.table, "監事")
    pick("服部 修")
    page.pick.click()
    wizard.next()
    wizard.next()
    wizard.items_page.text.setPlainText("会計：通帳は金庫。")
    wizard.next()
    summary = wizard.summary_page
    assert wizard.currentId() == SUMMARY_PAGE and summary.isFinalPage()
    assert summary.isCommitPage()
    text = summary.summary_text()
    assert "令和8年度 → 令和9年度" in text
    assert "会長：(unchanged) 木村 修（0040）" in text
    assert "監事：(vacant) → 服部 修（0001）" in text
    assert "班長（1班）：河野 一郎（0007） → 小山 義男（0008）" in text
    assert "Memos for the successors: 1" in text
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.text().replace("&", "") == "Hand over"
    finish.click()

    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
    with window.file.read() as session:
        record = get_handover(session, year=NEW)
        board = {f"{s.role_name}{s.group_name or ''}": [h.member_name for h in s.holders]
                 for s in roles.role_board(session, year=NEW)}
    assert record is not None and record.from_year == YEAR
    assert board["監事"] == ["服部 修"] and board["班長1班"] == ["小山 義男"]
    assert window.tabs.currentWidget() is window.role_board
    assert window.role_board.current_year() == NEW

    qtbot.waitUntil(lambda: actions.preview is not None, timeout=WAIT)
    assert actions.preview is not None
    text = "".join(p.extract_text() for p in pypdf.PdfReader(actions.preview.path).pages)
    assert "役員引継書（令和8年度 → 令和9年度）" in text
    assert "服部 修（0001）" in text and "小山 義男（0008）" in text
    assert "通帳は金庫。" in text


def test_a_handover_made_meanwhile_elsewhere_is_refused_on_the_summary(
        qtbot: Any, wizard: HandoverWizard, messages: Messages) -> None:
    go_to(wizard, SUMMARY_PAGE)
    with wizard.file.write() as session:  # someone else finished first
        apply_handover(session, plan_handover(session, new_year=NEW).choices(),
                       done_by="別の役員")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    settle(qtbot, wizard)
    assert wizard.isVisible() and wizard.currentId() == SUMMARY_PAGE
    assert wizard.handover is None
    assert "already done" in messages.warnings[-1] and "別の役員" in messages.warnings[-1]
    assert "already done" in wizard.summary_page.problem.text()


def test_a_paired_file_ends_on_what_to_do_on_the_relay(
        qtbot: Any, actions: HandoverActions) -> None:
    with actions.file.write() as session:
        mark_paired(session, relay_url="https://relay.example.jp", association_id="assoc-7")
    wizard = open_wizard(qtbot, actions)
    go_to(wizard, SUMMARY_PAGE)
    assert not wizard.summary_page.isFinalPage()
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert commit.text().replace("&", "") == "Hand over"
    commit.click()
    qtbot.waitUntil(lambda: wizard.currentId() == RELAY_PAGE, timeout=WAIT)
    assert wizard.handover is not None
    assert not wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    text = wizard.relay_page.text.text()
    assert "https://relay.example.jp" in text
    assert "kairan-relay token revoke HASH_PREFIX" in text
    assert "kairan-relay pairing-code assoc-7" in text
    assert "cannot list or revoke the other PCs itself yet" in text
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: actions.preview is not None, timeout=WAIT)


# ---------------------------------------------------------------- role rules and templates


def test_required_and_not_together_are_edited_on_the_role_board(
        window: MainWindow, actions: HandoverActions) -> None:
    window.show_role_board()
    board = window.role_board
    assert board.table.horizontalHeaderItem(4).text() == "Rules"
    assert board.table.item(0, 4).text() == "Required · not with 会計"
    board.table.selectRow(next(r for r in range(board.table.rowCount())
                               if board.table.item(r, 0).text() == "書記"))
    board.required.click()
    assert window.undo_stack.count() == 1
    with window.file.read() as session:
        assert next(r for r in roles.list_roles(session) if r.name == "書記").required
    board.conflicts.click()
    dialog = window.role_actions.conflicts_dialog
    assert dialog is not None and dialog.isVisible()
    for index in range(dialog.roles.count()):
        if dialog.roles.item(index).text() == "会長":
            dialog.roles.item(index).setCheckState(Qt.CheckState.Checked)
    dialog.accept()
    with window.file.read() as session:
        pairs = {(p.role_name, p.other_role_name) for p in roles.list_conflicts(session)}
    assert ("会長", "書記") in pairs
    window.undo_stack.undo()
    window.undo_stack.undo()
    with window.file.read() as session:
        pairs = {(p.role_name, p.other_role_name) for p in roles.list_conflicts(session)}
        secretary = next(r for r in roles.list_roles(session) if r.name == "書記")
    assert ("会長", "書記") not in pairs and not secretary.required


def test_a_past_circular_used_as_a_template_names_the_new_officers(
        window: MainWindow, actions: HandoverActions) -> None:
    with window.file.write() as session:
        plan = plan_handover(session, new_year=NEW)
        chair = next(slot for slot in plan.slots if slot.label == "会長")
        successor = next(slot for slot in plan.slots if slot.label == "会計").proposed
        apply_handover(session, plan.choices().with_slot(chair.key, successor).with_slot(
            (next(s for s in plan.slots if s.label == "会計").role_id, None), ()),
            done_by="")
        source = next(c.id for c in circulars.list_circulars(session)
                      if c.title == "秋の一斉清掃のお知らせ")
    window.today = lambda: date(NEW, 9, 1)  # type: ignore[method-assign]
    editor = window.circular_actions.use_as_template(source)
    assert editor is not None
    with window.file.read() as session:
        drafts = [c for c in circulars.list_circulars(session)
                  if c.title == "秋の一斉清掃のお知らせ" and c.issued_on == date(NEW, 9, 1)]
        [draft] = drafts
        record = circulars.get_circular(session, circular_id=draft.id)
    assert record.data.issuer == "会長 高橋 昭彦"
    assert "会長 高橋 昭彦" in window.statusBar().currentMessage()
    editor.reject()


def test_any_past_year_can_be_offered_on_the_role_board() -> None:
    assert board_years(2026, []) == list(range(2021, 2028))
    assert board_years(2026, [2012, 2019, 2026]) == [2012, 2019, *range(2021, 2028)]


def test_an_earlier_years_report_can_be_shown_again(
        qtbot: Any, window: MainWindow, actions: HandoverActions, messages: Messages,
        answer_input: Callable[..., Any]) -> None:
    actions.print_earlier_report()
    assert "No handover has been recorded" in messages.informations[-1]
    with window.file.write() as session:
        for year in (NEW, NEW + 1):
            apply_handover(session, plan_handover(session, new_year=year).choices(),
                           done_by="")
    asked = answer_input("getItem", "令和9年度")
    actions.print_earlier_report()
    assert asked.calls[0][3] == ["令和10年度", "令和9年度"]  # newest first
    qtbot.waitUntil(lambda: actions.preview is not None, timeout=WAIT)
    assert actions.preview is not None
    text = "".join(p.extract_text() for p in pypdf.PdfReader(actions.preview.path).pages)
    assert "役員引継書（令和8年度 → 令和9年度）" in text


def test_closing_while_planning_waits_for_the_plan(qtbot: Any, wizard: HandoverWizard) -> None:
    wizard.year_page.year.setCurrentIndex(wizard.year_page.year.findData(NEW + 1))
    assert wizard.busy
    wizard.reject()
    settle(qtbot, wizard)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
