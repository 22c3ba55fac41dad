"""The general meeting on paper: the forms per voter (three parts with QR codes, ten items on
one page, large print on two), the door's check-in list per 班, the results sheet for the
minutes, and the safety nets (nothing off the page, cancelling, empty lists)."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
import zxingcpp
from sqlmodel import Session

from desktop.domain.errors import KairanError
from desktop.domain.households import HouseholdData, MemberData, create_household
from desktop.domain.meeting.entries import find_voter, meeting_slip_code, record_entry
from desktop.domain.meeting.explain import item_arithmetic, quorum_text
from desktop.domain.meeting.meetings import (
    ItemData,
    MeetingData,
    create_meeting,
    save_rules,
    set_chair,
)
from desktop.domain.meeting.rules import (
    MAJORITY_OF_PRESENT,
    TWO_THIRDS_OF_PRESENT,
    AbsentHolder,
    CountAs,
    Rules,
    VotingUnit,
)
from desktop.domain.meeting.tally import (
    AgendaItem,
    Entry,
    EntryKind,
    FloorVote,
    Tally,
    Vote,
    Voter,
    tally,
)
from desktop.store.association_file import AssociationFile
from reports.pdf.meeting_input import MeetingItemPrint, MeetingPrint, MeetingVoterPrint
from reports.pdf.meeting_pdf import (
    MISSING_MARK,
    render_checkin_list,
    render_forms,
    render_results,
)
from reports.pdf.meeting_source import load_documents
from tests.domain.test_circulars import build_town
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
    render,
)

TAG = "0a1b2c3d"
TITLES = ("令和7年度 事業報告の件", "令和7年度 決算報告及び監査報告の件",
          "令和8年度 事業計画（案）の件", "令和8年度 予算（案）の件",
          "規約改正の件（第12条 役員の任期を2年とする）", "役員選出の件",
          "集会所の建て替え積立金の新設について、とても長い題名の議案で二行に折り返す件",
          "防犯灯LED化の件", "ごみ集積所の移設の件", "その他")


def meeting(count: int = 4, **changes: object) -> MeetingPrint:
    base = MeetingPrint(
        association="桜町自治会", title="令和8年度 定期総会", held_on=date(2026, 5, 24),
        place="桜町集会所", record_date=date(2026, 4, 1), printed_on=date(2026, 5, 1),
        items=tuple(MeetingItemPrint(title, TWO_THIRDS_OF_PRESENT if index == 4
                                     else MAJORITY_OF_PRESENT)
                    for index, title in enumerate(TITLES[:count])),
        deadline=date(2026, 5, 20))
    return replace(base, **changes)


def voter(number: int, name: str = "", group: str = "1班", *,
          returned: EntryKind | None = None, holder: str = "") -> MeetingVoterPrint:
    text = f"{number:04d}"
    return MeetingVoterPrint(key=text, number=text, name=name or f"佐藤 {number}郎",
                             group_name=group, slip_code=f"KRN1:{TAG}:{text}",
                             returned=returned, holder=holder)


def pdf_of(render_function: object, **arguments: object) -> tuple[bytes, int]:
    out = io.BytesIO()
    pages = render_function(out, **arguments)  # type: ignore[operator]
    return out.getvalue(), pages


def printed(text: str) -> str:
    """``text`` as the documents print it (the fonts have ≦ and ≧, not ≤ and ≥), without
    spaces (text extraction adds and drops them)."""
    return text.replace("≤", "≦").replace("≥", "≧").replace(" ", "")


def decoded(pdf: bytes, page: int) -> list[str]:
    return sorted(result.text for result in zxingcpp.read_barcodes(render(pdf, page, dpi=200)))


def sample_tally(items: int = 3) -> Tally:
    """Eight voters in two 班: in person, proxies to a present member, to the chair and to an
    absent member, written votes (one spoiled), an absence, no reply; a show of hands."""
    voters = [Voter(f"{n:04d}", f"{n:04d}", f"佐藤 {n}郎", "1班" if n <= 4 else "2班")
              for n in range(1, 9)]
    at = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
    entries = [
        Entry("0001", EntryKind.ATTEND, 1, at, "受付"),
        Entry("0002", EntryKind.PROXY, 2, at, "山田", holder_key="0001"),
        Entry("0003", EntryKind.PROXY, 3, at, "山田"),
        Entry("0004", EntryKind.PROXY, 4, at, "山田", holder_key="0008"),
        Entry("0005", EntryKind.WRITTEN, 5, at, "山田", votes=(Vote.FOR,) * items),
        Entry("0006", EntryKind.WRITTEN, 6, at, "山田",
              votes=(Vote.SPOILED, *(Vote.AGAINST,) * (items - 1))),
        Entry("0007", EntryKind.ABSENT, 7, at, "山田"),
    ]
    agenda = [AgendaItem(title, TWO_THIRDS_OF_PRESENT if index == 2 else MAJORITY_OF_PRESENT)
              for index, title in enumerate(TITLES[:items])]
    return tally(voters=voters, entries=entries, items=agenda, rules=Rules(),
                 floor_votes=[FloorVote(0, 2, 0, 0, 1)])


# ---------------------------------------------------------------- the forms


def test_each_voter_gets_a_page_with_the_three_parts() -> None:
    voters = [voter(5, "渡辺 一郎"), voter(9, "小林 花子")]
    pdf, pages = pdf_of(render_forms, meeting=meeting(), voters=voters)
    texts = page_texts(pdf)
    assert pages == page_count(pdf) == 2
    for text, (number, name) in zip(texts, [("0005", "渡辺 一郎"), ("0009", "小林 花子")],
                                    strict=True):
        assert text.count(f"{name} 様") == 4  # the notice and each of the three parts
        assert text.count(number) >= 4 and text.count("世帯番号") >= 5
        assert all(part in text for part in ("出欠票", "委任状", "書面議決書"))
        assert text.count("切り取り線") == 3
        assert "出席" in text and "欠席" in text
        assert "私は、" in text and "を代理人と定め" in text and "議長に一任します" in text
        assert "令和8年度 定期総会" in text and "令和8年5月24日（日）" in text
        assert "桜町集会所" in text and "提出期限" in text and "令和8年5月20日（水）" in text
        for number_, title in enumerate(TITLES[:4], start=1):
            assert f"第{number_}号議案" in text and title in text
        assert text.count("賛成") == text.count("反対") == 4 + 1  # items + the note
        assert "spoiled" in text  # ticking both boxes spoils the item
        assert "桜町自治会" in text and "令和8年5月1日" in text and "1 / 1" in text
    assert "渡辺" not in texts[1] and "小林" not in texts[0]
    assert_fonts_embedded(pdf)


def test_every_part_carries_a_qr_code_of_the_slip_code() -> None:
    pdf, _pages = pdf_of(render_forms, meeting=meeting(), voters=[voter(5), voter(1234)])
    assert decoded(pdf, 0) == [f"KRN1:{TAG}:0005"] * 3
    assert decoded(pdf, 1) == [f"KRN1:{TAG}:1234"] * 3


@pytest.mark.parametrize("large", [False, True])
def test_ten_items_fit_and_large_print_moves_the_written_vote(large: bool) -> None:
    pdf, pages = pdf_of(render_forms, meeting=meeting(10), voters=[voter(1), voter(2)],
                        large=large)
    texts = page_texts(pdf)
    per_voter = 2 if large else 1
    assert pages == len(texts) == 2 * per_voter
    written = texts[per_voter - 1]
    assert "書面議決書" in written
    assert all(f"第{number}号議案" in written for number in range(1, 11))
    assert TITLES[6] in written.replace("\n", "")  # a long title wraps, it is not cut short
    if large:
        assert "第1号議案" not in texts[0] and "委任状" in texts[0]
        assert "1 / 2" in texts[0] and "2 / 2" in texts[1] and "佐藤 1郎 様" in texts[1]
        assert decoded(pdf, 0) == [f"KRN1:{TAG}:0001"] * 2
        assert decoded(pdf, 1) == [f"KRN1:{TAG}:0001"]
    else:
        assert decoded(pdf, 0) == [f"KRN1:{TAG}:0001"] * 3
    assert_ink_within(pdf)


def _squares(pdf: bytes, page: int) -> list[float]:
    """The sides (mm) of the squares a page draws (the tick boxes), forms included."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    streams = [reader.pages[page].get_contents()]
    resources = reader.pages[page]["/Resources"].get_object()
    for form in resources.get("/XObject", {}).values():
        streams.append(form.get_object())
    sides = []
    for stream in streams:
        assert stream is not None
        for _x, _y, w, h in re.findall(rb"(-?[\d.]+) (-?[\d.]+) ([\d.]+) ([\d.]+) re",
                                       stream.get_data()):
            if w == h:
                sides.append(round(float(w) * 25.4 / 72, 1))
    return sides


@pytest.mark.parametrize("large", [False, True])
def test_long_texts_stay_inside_the_page(large: bool) -> None:
    long = meeting(title="令和8年度 桜町自治会 第45回 定期総会（臨時の議案を含む）" * 2,
                   association="桜町自治会連合会 東地区" * 3, place="桜町集会所 2階 大会議室" * 4,
                   items=tuple(MeetingItemPrint(title * 3) for title in TITLES)
                   + (MeetingItemPrint("追加の議案"),) * 10)  # 20 items: the most allowed
    voters = [voter(1, "長い名前の世帯主" * 8), voter(2, group="長い班の名前" * 10)]
    pdf, pages = pdf_of(render_forms, meeting=long, voters=voters, large=large)
    assert_ink_within(pdf)
    assert decoded(pdf, pages - 1) == [f"KRN1:{TAG}:0002"]  # the written vote's own page
    assert "第20号議案" in page_texts(pdf)[pages - 1]
    assert min(_squares(pdf, pages - 1)) >= 3.0  # tick boxes stay big enough to tick
    pdf, _pages = pdf_of(render_checkin_list, meeting=long, voters=voters, large=large)
    assert_ink_within(pdf)


def test_unprintable_characters_print_as_geta() -> None:
    pdf, _pages = pdf_of(render_forms, meeting=meeting(title="𠮷野家の総会"),
                         voters=[voter(1, "𰻞 太郎")])
    text = page_texts(pdf)[0]
    assert f"{MISSING_MARK}野家の総会" in text and f"{MISSING_MARK} 太郎 様" in text


def test_the_rules_decide_what_the_forms_say() -> None:
    strict = meeting(absent_holder=AbsentHolder.LAPSE, blank_counts_as=CountAs.AGAINST,
                     spoiled_counts_as=CountAs.ABSTAIN, deadline=None)
    text = page_texts(pdf_of(render_forms, meeting=strict, voters=[voter(1)])[0])[0]
    text = text.replace("\n", " ")
    assert "does not count" in text and "neither ticked counts as a vote against" in text
    assert "by the start of the meeting" in text
    text = page_texts(pdf_of(render_forms, meeting=meeting(), voters=[voter(1)])[0])[0]
    text = text.replace("\n", " ")
    assert "goes to the chair" in text and "neither ticked counts as an abstention" in text


def test_two_thousand_voters_share_one_drawn_page() -> None:
    voters = [voter(number, group=f"{number // 20}班") for number in range(1, 2001)]
    started = time.perf_counter()
    pdf, pages = pdf_of(render_forms, meeting=meeting(10), voters=voters)
    seconds = time.perf_counter() - started
    assert pages == 2000
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    own = reader.pages[1234].get_contents()
    assert own is not None
    drawn = own.get_data()
    assert drawn.startswith(b"1 0 0 1 0 0 cm \n/FormXob.forms0 Do")  # the shared page
    assert drawn.count(b" re\n") < 3 * 300 and drawn.count(b"BT ") == 8  # own text, 3 QR
    assert len(pdf) / pages < 2000
    assert seconds < 4  # about 1 s here; the figure's guard, not its measure


# ---------------------------------------------------------------- the check-in list


def test_check_in_list_per_group_in_order_with_what_came_back() -> None:
    first = [voter(12, "鈴木 一郎", returned=EntryKind.PROXY, holder="0003 高橋 花子"),
             voter(3, "高橋 花子"), voter(7, "田中 次郎", returned=EntryKind.WRITTEN),
             voter(8, "中村 三郎", returned=EntryKind.PROXY),
             voter(9, "小林 四郎", returned=EntryKind.ABSENT)]
    second = [voter(21, "伊藤 三郎", "2班", returned=EntryKind.ATTEND)]
    pdf, pages = pdf_of(render_checkin_list, meeting=meeting(), voters=[*first, *second])
    texts = page_texts(pdf)
    assert pages == len(texts) == 2  # each 班 from a new page
    one, two = texts
    assert "総会 受付名簿" in one and "1班" in one and "令和8年度 定期総会" in one
    assert "受付" in one and "提出済み" in one
    order = [one.index(name) for name in ("鈴木 一郎", "高橋 花子", "田中 次郎", "中村 三郎",
                                          "小林 四郎")]
    assert order == sorted(order)  # as given: the route, not the numbers
    assert "委任（0003 高橋 花子）" in one and "委任（議長）" in one
    assert "書面" in one and "欠席" in one
    assert "5世帯" in one and "委任 2・書面 1・欠席 1" in one
    assert "伊藤 三郎" in two and "出席（受付済み）" in two and "鈴木" not in two
    assert "1 / 2" in one and "2 / 2" in two
    assert_fonts_embedded(pdf)


@pytest.mark.parametrize("large", [False, True])
def test_a_long_group_continues_on_more_pages(large: bool) -> None:
    members = [voter(number, returned=EntryKind.WRITTEN if number % 3 == 0 else None)
               for number in range(1, 61)]
    pdf, pages = pdf_of(render_checkin_list, meeting=meeting(voting_unit=VotingUnit.MEMBER),
                        voters=members, large=large)
    texts = page_texts(pdf)
    assert pages == len(texts) >= (3 if large else 2)
    assert "（続き）" not in texts[0] and all("1班（続き）" in text for text in texts[1:])
    joined = "\n".join(texts)
    positions = [joined.index(f"佐藤 {number}郎") for number in range(1, 61)]
    assert positions == sorted(positions)
    assert "60名" in texts[0]  # one vote per member counts members
    assert "受付 計" in texts[-1] and "受付 計" not in texts[0]
    assert_ink_within(pdf)


# ---------------------------------------------------------------- the results sheet


@pytest.mark.parametrize("large", [False, True])
def test_results_show_the_counts_the_arithmetic_and_the_signatures(large: bool) -> None:
    counted = sample_tally()
    pdf, pages = pdf_of(render_results, meeting=meeting(3, chair="0001 佐藤 1郎"),
                        tally=counted, large=large)
    texts = page_texts(pdf)
    assert pages == len(texts)
    joined = "".join(texts).replace("\n", "")
    assert "議決結果" in texts[0] and "令和8年度 定期総会" in texts[0]
    assert "令和8年5月24日（日）" in texts[0] and "基準日" in texts[0]
    assert "0001 佐藤 1郎" in texts[0]  # the chair
    assert printed(quorum_text(counted)) in printed(joined)
    assert "成立" in joined and "不成立" not in joined
    for result in counted.items:
        assert TITLES[result.index] in joined
        assert printed(item_arithmetic(result)) in printed(joined)
    assert [result.passed for result in counted.items] == [True, False, False]
    assert joined.count("可決") == 1 and joined.count("否決") == 2
    assert "書面" in joined and "議長一任" in joined and "挙手" in joined
    for problem in counted.problems:
        assert printed(problem.message)[:40] in printed(joined)
    assert "議長" in texts[-1] and texts[-1].count("議事録署名人") == 2
    assert f"{pages} / {pages}" in texts[-1]
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


def test_results_of_many_items_flow_over_pages_keeping_each_item_whole() -> None:
    counted = sample_tally(10)
    pdf, pages = pdf_of(render_results, meeting=meeting(10), tally=counted)
    texts = page_texts(pdf)
    assert pages == len(texts) >= 3
    for number in range(1, 11):
        page = next(text for text in texts if f"第{number}号議案" in text)
        arithmetic = printed(item_arithmetic(counted.items[number - 1]))
        assert arithmetic in printed(page.replace("\n", ""))  # not split off
    assert_ink_within(pdf)


# ---------------------------------------------------------------- safety nets


def test_cancelling_leaves_no_file(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def cancel(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 10:
            raise KeyboardInterrupt  # what a cancel button's exception stands for

    target = tmp_path / "forms.pdf"
    with pytest.raises(KeyboardInterrupt):
        render_forms(target, meeting=meeting(), voters=[voter(n) for n in range(1, 40)],
                     progress=cancel)
    assert seen[0] == (0, 39) and list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt):
        render_checkin_list(target, meeting=meeting(), progress=cancel,
                            voters=[voter(n, group=f"{n}班") for n in range(1, 20)])
    assert list(tmp_path.iterdir()) == []

    def stop(_done: int, _total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_results(target, meeting=meeting(), tally=sample_tally(), progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_writes_a_path_and_reports_progress_to_the_end(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    target = tmp_path / "forms.pdf"
    pages = render_forms(target, meeting=meeting(), voters=[voter(n) for n in range(1, 13)],
                         progress=lambda done, total: seen.append((done, total)))
    assert page_count(target) == pages == 12 and list(tmp_path.iterdir()) == [target]
    assert seen == [(0, 12), (10, 12), (12, 12)]
    seen.clear()
    target = tmp_path / "results.pdf"
    pages = render_results(target, meeting=meeting(), tally=sample_tally(),
                           progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, pages) and seen[-1] == (pages, pages)
    with pytest.raises(KairanError, match="does not exist"):
        render_checkin_list(tmp_path / "missing" / "x.pdf", meeting=meeting(),
                            voters=[voter(1)])


def test_an_empty_voter_list_is_a_clear_error() -> None:
    with pytest.raises(KairanError, match="voter list of this meeting is empty"):
        render_forms(io.BytesIO(), meeting=meeting(), voters=[])
    with pytest.raises(KairanError, match="voter list of this meeting is empty"):
        render_checkin_list(io.BytesIO(), meeting=meeting(), voters=[])


# ---------------------------------------------------------------- from the association file


def _meeting_in(association_file: AssociationFile, *, unit: VotingUnit) -> uuid.UUID:
    with association_file.write() as session:
        town = build_town(session)
        if unit is VotingUnit.MEMBER:
            create_household(session, data=HouseholdData(number="0009", display_name="二人"),
                             members=(MemberData(name="二人 一郎"), MemberData(name="二人 花子")),
                             group_id=town.han2)
        save_rules(session, rules=Rules(voting_unit=unit))
        meeting_id = create_meeting(
            session, data=MeetingData("令和7年度 定期総会", date(2025, 5, 18), "集会所",
                                      date(2025, 4, 1)),
            items=[ItemData("事業報告"), ItemData("予算案")])
    return meeting_id


def _entered(session: Session, meeting_id: uuid.UUID, key: str, kind: EntryKind,
             **values: Any) -> None:
    record_entry(session, meeting_id=meeting_id, voter_key=key, kind=kind, entered_by="テスト",
                 entered_at=datetime(2025, 5, 10, tzinfo=UTC), **values)


def test_loaded_from_the_association_file(association_file: AssociationFile) -> None:
    meeting_id = _meeting_in(association_file, unit=VotingUnit.HOUSEHOLD)
    with association_file.write() as session:
        _entered(session, meeting_id, "0001", EntryKind.PROXY, holder="0002")
        _entered(session, meeting_id, "0004", EntryKind.WRITTEN, votes=(Vote.FOR, Vote.AGAINST))
        _entered(session, meeting_id, "0005", EntryKind.ABSENT)
        set_chair(session, meeting_id=meeting_id, voter_key="0006")
    with association_file.read() as session:
        documents = load_documents(session, meeting_id=meeting_id,
                                   printed_on=date(2025, 5, 1))
    printed = documents.meeting
    assert printed.title == "令和7年度 定期総会" and printed.chair == "0006 世帯0006"
    assert [item.title for item in printed.items] == ["事業報告", "予算案"]
    numbers = [v.number for v in documents.voters]
    # 1班 in its route order, 2班, 3班 (0007 withdrew after the record date), no 班 last.
    assert numbers == ["0003", "0001", "0002", "0004", "0005", "0006", "0007", "0008"]
    returned = {v.number: (v.returned, v.holder) for v in documents.voters}
    assert returned["0001"] == (EntryKind.PROXY, "0002 世帯0002")
    assert returned["0004"] == (EntryKind.WRITTEN, "")
    assert returned["0005"] == (EntryKind.ABSENT, "")
    assert returned["0003"] == (None, "")
    assert all(v.slip_code == meeting_slip_code(meeting_id, v.number)
               for v in documents.voters)

    pdf, _pages = pdf_of(render_forms, meeting=printed, voters=documents.voters[:2])
    scanned = decoded(pdf, 1)
    assert len(scanned) == 3
    with association_file.read() as session:
        assert find_voter(session, meeting_id=meeting_id,
                          entry=scanned[0]).number == "0001"
    pdf, _pages = pdf_of(render_checkin_list, meeting=printed, voters=documents.voters)
    assert "委任（0002 世帯0002）" in page_texts(pdf)[0]
    pdf, _pages = pdf_of(render_results, meeting=printed, tally=documents.tally)
    assert "事業報告" in page_texts(pdf)[0]


def test_per_member_forms_find_each_member(association_file: AssociationFile) -> None:
    meeting_id = _meeting_in(association_file, unit=VotingUnit.MEMBER)
    with association_file.read() as session:
        documents = load_documents(session, meeting_id=meeting_id,
                                   printed_on=date(2025, 5, 1))
    couple = [v for v in documents.voters if v.number.startswith("0009")]
    assert [(v.number, v.name) for v in couple] == [("0009-1", "二人 一郎"),
                                                    ("0009-2", "二人 花子")]
    assert next(v for v in documents.voters if v.name == "住人0001").number == "0001"
    pdf, _pages = pdf_of(render_forms, meeting=documents.meeting, voters=couple)
    with association_file.read() as session:
        for page, member in enumerate(couple):
            codes: Sequence[str] = decoded(pdf, page)
            assert len(set(codes)) == 1
            found = find_voter(session, meeting_id=meeting_id,
                               entry=codes[0])
            assert found.key == member.key and found.name == member.name
