"""A general meeting (総会) as an Excel workbook (.xlsx): every voter's record and the tally.

Two sheets. 「投票者」: one row per voter on the voter list, in list order (班, then
circulation order) — 世帯番号, 氏名, 班, how the voter counts and why, the proxy holder, each
item's written answer, and the entry that decided it (its number, when and by whom it was
typed, from where), so anyone can check a figure against the paper. 「集計」: quorum and
every item with its votes by source, the majority it needed and the arithmetic, then the
attendance counts and the problems the tally reported.

Column titles and the written answers (賛成・反対・棄権・白紙・無効) are fixed Japanese words,
as the roster export's; statuses, reasons and the arithmetic come from
:mod:`desktop.domain.meeting.explain` in the current language, like the results sheet. Long
lists stream through openpyxl's write-only mode; the file is written beside the target and
renamed at the end (:func:`reports.output.replacing`), so a failure or a cancel from
``progress`` never leaves half a file. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.page import PageMargins, PrintPageSetup
from openpyxl.worksheet.properties import PageSetupProperties, WorksheetProperties

from desktop.domain.meeting.explain import (
    fraction_rule_text,
    item_arithmetic,
    majority_text,
    quorum_text,
    reason_text,
    status_label,
)
from desktop.domain.meeting.tally import Source, Status, Tally, Vote
from desktop.domain.wareki import format_wareki
from desktop.i18n import _
from reports.pdf.meeting_input import MeetingPrint
from reports.pdf.meeting_pdf import item_label
from reports.xlsx_files import check_xlsx_target, discard_workbook, save_workbook

__all__ = ["SUMMARY_SHEET", "VOTERS_SHEET", "VOTE_WORDS", "export_meeting_xlsx"]

Progress = Callable[[int, int], None]
VOTERS_SHEET = "投票者"
SUMMARY_SHEET = "集計"
VOTE_WORDS = {Vote.FOR: "賛成", Vote.AGAINST: "反対", Vote.ABSTAIN: "棄権", Vote.BLANK: "白紙",
              Vote.SPOILED: "無効"}
SOURCE_WORDS = {Source.FORM: "用紙", Source.DOOR: "受付", Source.RELAY: "アプリ"}
DATETIME_FORMAT = "yyyy/mm/dd hh:mm"
_VOTER_HEADS = ("世帯番号", "氏名", "班", "状態", "理由", "代理人")
_ENTRY_HEADS = ("入力番号", "入力日時", "入力者", "入力元", "注意")
# Widths in Excel's character units, by column title; items get _ITEM_WIDTH.
_WIDTHS = {"世帯番号": 10, "氏名": 18, "班": 10, "状態": 14, "理由": 40, "代理人": 18,
           "入力番号": 9, "入力日時": 17, "入力者": 12, "入力元": 8, "注意": 50}
_ITEM_WIDTH = 11
_SUMMARY_HEADS = ("区分", "件名", "議決要件", "賛成", "反対", "棄権", "基準数", "必要数", "結果",
                  "計算", "書面 賛成", "書面 反対", "書面 棄権", "議長一任 賛成",
                  "議長一任 反対", "議長一任 棄権", "挙手 賛成", "挙手 反対", "挙手 棄権")
_SUMMARY_WIDTHS = (12, 30, 24, 7, 7, 7, 8, 8, 8, 60, *(9,) * 9)
_PROGRESS_EVERY = 500
PAPER_A4 = 9  # the paperSize code of A4 in SpreadsheetML


class _SheetParts(Protocol):
    """What a write-only sheet has like any worksheet, which the type stubs leave out."""

    column_dimensions: DimensionHolder[str, ColumnDimension]
    page_setup: PrintPageSetup
    page_margins: PageMargins
    auto_filter: AutoFilter
    sheet_properties: WorksheetProperties


def _text(value: str) -> str | None:
    """Text as a cell keeps it: characters Excel refuses dropped, empty as no value."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value or None


class _Writer:
    """The styles and the set-up shared by both sheets."""

    def __init__(self, meeting: MeetingPrint) -> None:
        self.meeting = meeting
        self.bold = Font(bold=True)
        self.fill = PatternFill("solid", fgColor="D9E1F2")
        self.border = Border(bottom=Side(style="thin"))
        self.centre = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def header(self, sheet: WriteOnlyWorksheet, titles: Sequence[str]) -> list[Cell]:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font, cell.fill, cell.border = self.bold, self.fill, self.border
            cell.alignment = self.centre
            cells.append(cell)
        return cells

    def bold_cell(self, sheet: WriteOnlyWorksheet, value: str) -> Cell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = self.bold
        return cell

    def set_up(self, sheet: WriteOnlyWorksheet, widths: Sequence[float], *, frozen: str,
               caption: str) -> None:
        """Widths, frozen panes and the print set-up: everything set before the first row."""
        parts = cast(_SheetParts, sheet)
        for index, width in enumerate(widths, start=1):
            parts.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = frozen
        parts.page_setup.paperSize = PAPER_A4
        parts.page_setup.orientation = "landscape"
        parts.page_setup.fitToWidth = 1
        parts.page_setup.fitToHeight = 0
        parts.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        parts.page_margins = PageMargins(left=0.4, right=0.4, top=0.8, bottom=0.7,
                                         header=0.3, footer=0.3)
        sheet.print_title_rows = "1:1"
        header, footer = sheet.oddHeader, sheet.oddFooter
        assert header is not None and footer is not None  # made with every sheet
        meeting = self.meeting
        header.left.text = f"{meeting.association} {meeting.title}".replace("&", "&&")
        header.center.text = caption
        header.right.text = format_wareki(meeting.held_on)
        footer.center.text = "&P / &N"

    @staticmethod
    def timestamp(sheet: WriteOnlyWorksheet, value: datetime) -> Cell:
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))  # Excel has no zones
        cell.number_format = DATETIME_FORMAT
        return cell


def _voter_rows(writer: _Writer, sheet: WriteOnlyWorksheet, tally: Tally,
                tick: Callable[[], None]) -> None:
    items = len(tally.items)
    sheet.append(writer.header(sheet, (*_VOTER_HEADS,
                                       *(item_label(n) for n in range(1, items + 1)),
                                       *_ENTRY_HEADS)))
    for outcome in tally.outcomes():
        voter, entry = outcome.voter, outcome.entry
        holder = (outcome.holder.label if outcome.holder is not None
                  else outcome.holder_key or "")
        answers: list[str | None] = [None] * items
        if outcome.status is Status.WRITTEN and entry is not None:
            for index, vote in enumerate(entry.votes[:items]):
                answers[index] = None if vote is None else VOTE_WORDS[vote]
        row: list[object] = [
            _text(voter.number), _text(voter.name), _text(voter.group_name),
            status_label(outcome.status), reason_text(outcome), _text(holder), *answers]
        if entry is None:
            row += [None, None, None, None]
        else:
            row += [entry.sequence, writer.timestamp(sheet, entry.entered_at),
                    _text(entry.entered_by), SOURCE_WORDS[entry.source]]
        row.append(_text("\n".join(problem.message for problem in outcome.problems)))
        sheet.append(row)
        tick()
    last = f"{get_column_letter(len(_VOTER_HEADS) + items + len(_ENTRY_HEADS))}" \
           f"{len(tally.voters) + 1}"
    cast(_SheetParts, sheet).auto_filter.ref = f"A1:{last}"


def _summary_rows(writer: _Writer, sheet: WriteOnlyWorksheet, meeting: MeetingPrint,
                  tally: Tally) -> None:
    sheet.append(writer.header(sheet, _SUMMARY_HEADS))
    quorum, rule = tally.quorum, tally.rules.quorum
    sheet.append(["定足数", _text(meeting.title),
                  fraction_rule_text(rule.numerator, rule.denominator, strict=rule.strict),
                  None, None, None, quorum.eligible, quorum.required,
                  "成立" if quorum.reached else "不成立", quorum_text(tally)])
    for result in tally.items:
        votes, by_source = result.votes, (result.written, result.chair, result.floor)
        sheet.append([
            item_label(result.index + 1), _text(result.item.title),
            majority_text(result.item.majority), votes.for_, votes.against, votes.abstain,
            result.base, result.required, "可決" if result.passed else "否決",
            item_arithmetic(result),
            *(value for part in by_source for value in (part.for_, part.against,
                                                        part.abstain))])
    counts = tally.counts
    sheet.append([])
    sheet.append([writer.bold_cell(sheet, "出欠"), writer.bold_cell(sheet, "数")])
    sheet.append([_("Voters"), counts.eligible])
    for status, count in ((Status.IN_PERSON, counts.in_person),
                          (Status.PROXY_TO_HOLDER, counts.to_holder),
                          (Status.PROXY_TO_CHAIR, counts.to_chair),
                          (Status.WRITTEN, counts.written), (Status.ABSENT, counts.absent),
                          (Status.NO_REPLY, counts.no_reply), (Status.LAPSED, counts.lapsed)):
        sheet.append([status_label(status), count])
    sheet.append([_("Counted present"), counts.present])
    sheet.append([_("Counted for the quorum"), quorum.counted])
    if tally.problems:
        sheet.append([])
        sheet.append([writer.bold_cell(sheet, _("Problems and notes"))])
        for problem in tally.problems:
            sheet.append([None, problem.message])


def export_meeting_xlsx(path: Path, *, meeting: MeetingPrint, tally: Tally,
                        progress: Progress | None = None) -> int:
    """Write the meeting's voters and tally to the .xlsx file ``path``; returns how many
    voter rows were written. ``meeting`` is the meeting as printed
    (``reports.pdf.meeting_source.meeting_print`` makes it from a ``MeetingRecord``); the
    items' titles are the tally's. ``progress(done, total)`` counts voter rows; raising from
    it cancels and leaves nothing behind. Trouble with the target (not .xlsx, open in Excel,
    folder missing or read-only, disk full) raises :class:`KairanError`."""
    check_xlsx_target(path)
    total = len(tally.voters)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)

    if progress is not None:
        progress(0, total)
    workbook = Workbook(write_only=True)
    writer = _Writer(meeting)
    try:
        voters = workbook.create_sheet(VOTERS_SHEET)
        items = len(tally.items)
        widths = [*(_WIDTHS[title] for title in _VOTER_HEADS), *(_ITEM_WIDTH,) * items,
                  *(_WIDTHS[title] for title in _ENTRY_HEADS)]
        writer.set_up(voters, widths, frozen="C2", caption=VOTERS_SHEET)
        _voter_rows(writer, voters, tally, tick)
        voters.close()
        summary = workbook.create_sheet(SUMMARY_SHEET)
        writer.set_up(summary, _SUMMARY_WIDTHS, frozen="B2", caption=SUMMARY_SHEET)
        _summary_rows(writer, summary, meeting, tally)
        summary.close()
        save_workbook(workbook, path)
    except BaseException:
        discard_workbook(workbook)
        raise
    return total
