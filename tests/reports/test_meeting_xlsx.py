"""The meeting's Excel export: every voter's record (status, reason, holder, written answers,
the deciding entry) and the tally (quorum, items with the arithmetic, counts, problems), set
up to read and print, and written safely."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from openpyxl.worksheet.worksheet import Worksheet

from desktop.domain.errors import KairanError
from desktop.domain.meeting.explain import item_arithmetic, quorum_text, status_label
from desktop.domain.meeting.tally import Status
from reports.meeting_xlsx import SUMMARY_SHEET, VOTERS_SHEET, export_meeting_xlsx
from tests.reports.pdf.test_meeting_pdf import TITLES, meeting, sample_tally


def _sheet(path: Path, name: str) -> Worksheet:
    sheet = openpyxl.load_workbook(path)[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def _rows(sheet: Worksheet) -> list[dict[str, object]]:
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row, strict=True))
            for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_every_voter_with_status_reason_holder_and_answers(tmp_path: Path) -> None:
    counted = sample_tally()
    target = tmp_path / "meeting.xlsx"
    assert export_meeting_xlsx(target, meeting=meeting(3), tally=counted) == 8
    assert openpyxl.load_workbook(target).sheetnames == [VOTERS_SHEET, SUMMARY_SHEET]
    sheet = _sheet(target, VOTERS_SHEET)
    header = [cell.value for cell in sheet[1]]
    assert header == ["世帯番号", "氏名", "班", "状態", "理由", "代理人", "第1号議案",
                      "第2号議案", "第3号議案", "入力番号", "入力日時", "入力者", "入力元", "注意"]
    rows = {row["世帯番号"]: row for row in _rows(sheet)}
    assert list(rows) == [f"{n:04d}" for n in range(1, 9)]  # the voter list's order
    assert rows["0001"]["状態"] == status_label(Status.IN_PERSON)
    assert rows["0001"]["入力元"] == "用紙" and rows["0001"]["入力者"] == "受付"
    assert rows["0002"]["状態"] == status_label(Status.PROXY_TO_HOLDER)
    assert rows["0002"]["代理人"] == "0001 佐藤 1郎"
    assert rows["0002"]["理由"] == "Proxy to 0001 佐藤 1郎, who is present."
    assert rows["0003"]["状態"] == status_label(Status.PROXY_TO_CHAIR)
    assert rows["0003"]["代理人"] is None
    assert rows["0004"]["状態"] == status_label(Status.PROXY_TO_CHAIR)  # holder not present
    assert "not present" in str(rows["0004"]["注意"])
    assert [rows["0005"][f"第{n}号議案"] for n in (1, 2, 3)] == ["賛成"] * 3
    assert [rows["0006"][f"第{n}号議案"] for n in (1, 2, 3)] == ["無効", "反対", "反対"]
    assert "both boxes ticked" in str(rows["0006"]["注意"])
    assert rows["0007"]["状態"] == status_label(Status.ABSENT)
    assert rows["0007"]["第1号議案"] is None  # only written votes have answers
    assert rows["0008"]["状態"] == status_label(Status.NO_REPLY)
    assert rows["0008"]["入力番号"] is None and rows["0008"]["入力日時"] is None
    assert rows["0005"]["入力番号"] == 5
    assert rows["0005"]["入力日時"].isoformat() == "2026-05-10T09:00:00"  # type: ignore[union-attr]
    assert sheet.cell(row=2, column=11).number_format == "yyyy/mm/dd hh:mm"
    assert sheet.freeze_panes == "C2" and sheet["A1"].font.bold
    assert sheet.auto_filter.ref == "A1:N9"
    assert sheet.column_dimensions["E"].width >= 30  # the reason is readable
    assert sheet.print_title_rows == "$1:$1"


def test_the_tally_with_the_arithmetic(tmp_path: Path) -> None:
    counted = sample_tally()
    target = tmp_path / "meeting.xlsx"
    export_meeting_xlsx(target, meeting=meeting(3), tally=counted)
    sheet = _sheet(target, SUMMARY_SHEET)
    assert sheet.freeze_panes == "B2"
    rows = _rows(sheet)
    quorum = rows[0]
    assert quorum["区分"] == "定足数" and quorum["結果"] == "成立"
    assert quorum["基準数"] == 8 and quorum["必要数"] == counted.quorum.required
    assert quorum["計算"] == quorum_text(counted)
    for row, result in zip(rows[1:4], counted.items, strict=True):
        assert row["区分"] == f"第{result.index + 1}号議案"
        assert row["件名"] == TITLES[result.index]
        assert (row["賛成"], row["反対"], row["棄権"]) == (
            result.votes.for_, result.votes.against, result.votes.abstain)
        assert (row["書面 賛成"], row["議長一任 賛成"], row["挙手 賛成"]) == (
            result.written.for_, result.chair.for_, result.floor.for_)
        assert row["基準数"] == result.base and row["必要数"] == result.required
        assert row["結果"] == ("可決" if result.passed else "否決")
        assert row["計算"] == item_arithmetic(result)
    values = [row for row in sheet.iter_rows(min_row=6, values_only=True) if any(row)]
    counts = {label: count for label, count, *_rest in values[1:10]}
    assert values[0][:2] == ("出欠", "数")
    assert counts["Voters"] == 8 and counts[status_label(Status.NO_REPLY)] == 1
    assert counts["Counted present"] == counted.counts.present
    problems = [row[1] for row in values if row[0] is None]
    assert problems == [problem.message for problem in counted.problems]


def test_cancelling_or_failing_leaves_no_file(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    target = tmp_path / "meeting.xlsx"
    export_meeting_xlsx(target, meeting=meeting(3), tally=sample_tally(),
                        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 8), (8, 8)]
    target.unlink()

    def cancel(done: int, _total: int) -> None:
        if done:
            raise KeyboardInterrupt

    scratch = set(ALL_TEMP_FILES)
    with pytest.raises(KeyboardInterrupt):
        export_meeting_xlsx(target, meeting=meeting(3), tally=sample_tally(), progress=cancel)
    assert list(tmp_path.iterdir()) == []
    assert set(ALL_TEMP_FILES) == scratch  # openpyxl's per-sheet scratch files are gone too
    with pytest.raises(KairanError, match=r"\.xlsx"):
        export_meeting_xlsx(tmp_path / "meeting.xls", meeting=meeting(3), tally=sample_tally())
    with pytest.raises(KairanError, match="does not exist"):
        export_meeting_xlsx(tmp_path / "missing" / "meeting.xlsx", meeting=meeting(3),
                            tally=sample_tally())
    assert list(tmp_path.iterdir()) == []
