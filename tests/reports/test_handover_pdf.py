"""The handover report (引継書): roles old and new, 班長, contacts, open items and memos, read
from a real handover; fonts embedded, nothing off the page, long reports paginated, a
cancelled job leaves no file."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.groups import create_group
from desktop.domain.handover import Person, apply_handover, plan_handover
from desktop.domain.handover_items import GroupUnanswered, MemoInfo, OpenCircular, add_memo
from desktop.domain.households import HouseholdData, MemberData, create_household, get_household
from desktop.domain.models import Ask
from desktop.domain.roles import assign_role, list_roles
from desktop.store.association_file import AssociationFile
from reports.pdf.handover_pdf import render_handover
from reports.pdf.handover_source import HandoverReport, RoleLine, load_handover_report
from reports.pdf.roster_pdf import OfficerLine
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
)

PRINTED = date(2027, 3, 28)


def _home(session: Session, group: uuid.UUID, number: str, name: str,
          phone: str) -> tuple[uuid.UUID, uuid.UUID]:
    household_id = create_household(
        session, data=HouseholdData(number=number, display_name=name, phone=phone,
                                    postal_code="198-0001", address=f"桜町1丁目{number}番"),
        members=(MemberData(name=name, is_head=True),), group_id=group)
    member_id = get_household(session, household_id=household_id).members[0].id
    assert member_id is not None
    return household_id, member_id


@pytest.fixture
def handed_over(association_file: AssociationFile) -> AssociationFile:
    """2026: 会長 木村, 班長（1班） 木村. Handed over into 2027 with 会長 田中 and the rotation,
    a memo for the 会長, and a circular still awaiting answers."""
    with association_file.write() as session:
        roles = {role.name: role.id for role in list_roles(session)}
        han = create_group(session, name="1班")
        kimura = _home(session, han, "0001", "木村 修", "042-111-2222")
        tanaka = _home(session, han, "0002", "田中 実", "090-3333-4444")
        assign_role(session, role_id=roles["会長"], year=2026, member_id=kimura[1])
        assign_role(session, role_id=roles["班長"], year=2026, member_id=kimura[1],
                    group_id=han)
        circular = create_circular(session, data=CircularData(
            title="秋の一斉清掃", body="", issued_on=date(2026, 10, 1), ask=Ask.ATTENDANCE,
            deadline=date(2026, 10, 15)))
        send_circular(session, circular_id=circular, sent_at=datetime(2026, 10, 1, tzinfo=UTC))
        plan = plan_handover(session, new_year=2027)
        choices = plan.choices().with_slot(
            (roles["会長"], None), [Person(tanaka[1], "田中 実", tanaka[0], "0002")])
        add_memo(session, year=2027, role_id=roles["会長"],
                 text="会館の鍵は会長宅の金庫にあります。\n総会の資料は書記が保管。",
                 written_by="木村 修")
        apply_handover(session, choices, done_by="木村 修")
    return association_file


def test_the_report_shows_the_handover(handed_over: AssociationFile, tmp_path: Path) -> None:
    with handed_over.read() as session:
        report = load_handover_report(session, year=2027, printed_on=PRINTED)
    out = tmp_path / "引継書.pdf"
    pages = render_handover(out, report=report)
    assert pages == page_count(out) == 1
    [text] = page_texts(out)
    assert "役員引継書（令和8年度 → 令和9年度）" in text
    assert "引継ぎ者：木村 修" in text
    lines = text.splitlines()
    chair = lines.index("会長", lines.index("1. 役員（前年度と新年度）"))
    assert lines[chair + 1:chair + 3] == ["木村 修（0001）", "田中 実（0002）"]  # old, new
    assert "（空席）" in text  # 会計 and the rest
    leaders = lines.index("1班", lines.index("2. 班長一覧"))
    assert lines[leaders + 1:leaders + 3] == ["木村 修（0001）", "田中 実（0002）"]
    contacts = text[text.index("3. 連絡先"):text.index("4. 未完了")]
    assert "田中 実" in contacts and "090-3333-4444" in contacts
    assert "木村 修" not in contacts  # only the new year's officers
    open_items = text[text.index("4. 未完了"):text.index("5. 引継ぎメモ")]
    assert "秋の一斉清掃" in open_items and "0 / 2" in open_items
    assert "1班 2世帯" in open_items
    memos = text[text.index("5. 引継ぎメモ"):]
    assert "【会長】" in memos and "会館の鍵は会長宅の金庫にあります。" in memos
    assert "総会の資料は書記が保管。" in memos and "木村 修" in memos
    assert "桜町自治会" in text and "令和9年3月28日" in text and "1 / 1" in text
    assert_fonts_embedded(out)
    assert_ink_within(out)


def test_a_year_not_handed_over_prints_as_a_draft(handed_over: AssociationFile) -> None:
    with handed_over.read() as session:
        report = load_handover_report(session, year=2028, printed_on=PRINTED)
    assert report.done_at is None and report.from_label == "令和9年度"
    out = Path(handed_over.path).with_name("draft.pdf")
    render_handover(out, report=report)
    assert "引継ぎ前の下書き" in page_texts(out)[0]


def _long_report() -> HandoverReport:
    officers = tuple(RoleLine(f"役職{n}", f"前任 {n}（{n:04d}）", f"後任 {n}（{n:04d}）")
                     for n in range(30))
    leaders = tuple(RoleLine(f"{n}班", f"旧班長 {n}", f"新班長 {n}", "班長") for n in range(60))
    contacts = tuple(OfficerLine(role=f"役職{n}", name=f"後任 {n}", phone="090-0000-0000",
                                 email=f"officer{n}@example.jp", postal_code="198-0001",
                                 address="桜町" + "一丁目二番地三号サンシャインマンション" * 3)
                     for n in range(12))
    circulars = tuple(OpenCircular(uuid.uuid4(), f"回覧 {n}", date(2026, 6, n + 1),
                                   date(2026, 7, n + 1), 120, 100,
                                   tuple(GroupUnanswered(f"{g}班", 1) for g in range(20)))
                      for n in range(8))
    memos = tuple(MemoInfo(uuid.uuid4(), 2027, None, "", "長い申し送り。" * 200, "",
                           datetime(2027, 3, 1, tzinfo=UTC)) for _n in range(2))
    return HandoverReport("桜町自治会", "令和9年度", "令和8年度", date(2027, 4, 1),
                          date(2028, 3, 31), datetime(2027, 3, 28, tzinfo=UTC), "山田",
                          PRINTED, officers, leaders, contacts, circulars, memos)


@pytest.mark.parametrize("large", [False, True])
def test_a_long_report_runs_onto_pages_with_its_column_titles(tmp_path: Path,
                                                              large: bool) -> None:
    out = tmp_path / "long.pdf"
    pages = render_handover(out, report=_long_report(), large=large)
    texts = page_texts(out)
    assert pages == len(texts) >= 4
    assert all(f"{n} / {pages}" in texts[n - 1] for n in range(1, pages + 1))
    leader_pages = [text for text in texts if "新班長" in text]
    assert len(leader_pages) >= 2
    assert all("前年度（令和8年度）" in text for text in leader_pages)  # titles repeated
    assert "59班" in "".join(texts) and "回覧 7" in "".join(texts)
    assert_ink_within(out)


def test_a_cancelled_report_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "cancelled.pdf"

    def progress(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        render_handover(out, report=_long_report(), progress=progress)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    report = replace(_long_report(), memos=())
    render_handover(out, report=report)
    assert out.exists()
