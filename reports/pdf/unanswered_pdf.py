"""The unanswered list (未回答一覧): for each 班, the households whose reply has not come back.

The 班長 takes their own sheet round the 班 to follow up, so every 班 starts on a new page;
households are listed in circulation order (the order the 回覧板 goes) with an empty box to
tick. Pages are counted before drawing (rows are one line each), so the footer can say
「2 / 5」. The file is written beside the target and renamed at the end, so a cancelled or
failed job never leaves half a PDF. No Qt here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlmodel import Session

from desktop.domain.association import get_association
from desktop.domain.circulars import get_circular
from desktop.domain.replies import reply_status
from desktop.domain.wareki import format_wareki
from desktop.i18n import _
from reports.pdf.fonts import GOTHIC
from reports.pdf.output import pdf_target
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas

__all__ = [
    "UnansweredGroup",
    "UnansweredHousehold",
    "UnansweredList",
    "load_unanswered",
    "render_unanswered",
]

Progress = Callable[[int, int], None]
# Column widths as shares of the frame: 世帯番号, 氏名, 住所, 確認
_COLUMNS = (0.14, 0.28, 0.46, 0.12)
_MIN_SHRINK = 0.7  # a long address is set smaller down to this, then cut with 「…」


@dataclass(frozen=True, slots=True)
class UnansweredHousehold:
    """One household to follow up."""

    number: str
    display_name: str
    address: str


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    """One 班's sheet: who has not answered, of how many."""

    name: str  # "" for households without a 班
    households: tuple[UnansweredHousehold, ...]
    recipients: int


@dataclass(frozen=True, slots=True)
class UnansweredList:
    """Everything the document prints."""

    association: str
    circular_title: str
    deadline: date | None
    printed_on: date
    groups: tuple[UnansweredGroup, ...]


def load_unanswered(session: Session, *, circular_id: uuid.UUID, printed_on: date,
                    group_ids: Sequence[uuid.UUID | None] | None = None) -> UnansweredList:
    """Read the unanswered households of a circular, per 班 (only ``group_ids`` if given).

    班 where everyone has answered are left out: there is nothing to follow up there.
    """
    record = get_circular(session, circular_id=circular_id)
    wanted = set(group_ids) if group_ids is not None else None
    groups = []
    for status in reply_status(session, circular_id=circular_id):
        if wanted is not None and status.group_id not in wanted:
            continue
        if not status.unanswered:
            continue
        groups.append(UnansweredGroup(
            name=status.group_name,
            households=tuple(UnansweredHousehold(r.number, r.display_name, r.address)
                             for r in status.unanswered),
            recipients=len(status.answered) + len(status.unanswered)))
    return UnansweredList(
        association=get_association(session).name,
        circular_title=record.data.title,
        deadline=record.data.deadline,
        printed_on=printed_on,
        groups=tuple(groups),
    )


@dataclass(frozen=True, slots=True)
class _Page:
    group: UnansweredGroup
    rows: tuple[UnansweredHousehold, ...]
    first: bool  # the first page of its 班 (later ones say 「続き」)


class _Sheet:
    """Measures and draws the pages."""

    def __init__(self, typography: Typography, layout: PageLayout) -> None:
        self.type = typography
        self.layout = layout
        self.x, self.y, self.width, self.height = layout.frame
        self.row_height = typography.body * 2.2
        self.header_height = typography.title * 1.8 + typography.heading * 3.2

    def rows_per_page(self) -> int:
        table = self.height - self.header_height - self.row_height  # the column titles
        return max(1, int(table // self.row_height))

    def paginate(self, groups: Sequence[UnansweredGroup]) -> list[_Page]:
        per_page = self.rows_per_page()
        pages: list[_Page] = []
        for group in groups:
            rows = group.households
            for start in range(0, max(len(rows), 1), per_page):
                pages.append(_Page(group, rows[start:start + per_page], first=start == 0))
        return pages

    def _fit(self, canvas: Canvas, text: str, x: float, baseline: float, width: float) -> None:
        """Draw ``text`` in ``width``: set smaller if needed, then cut with 「…」."""
        size = self.type.body
        natural = stringWidth(text, GOTHIC, size)
        if natural > width:
            size = max(size * _MIN_SHRINK, size * width / natural)
            if stringWidth(text, GOTHIC, size) > width:
                while text and stringWidth(text + "…", GOTHIC, size) > width:
                    text = text[:-1]
                text += "…"
        canvas.setFont(GOTHIC, size)
        canvas.drawString(x, baseline, text)

    def draw(self, canvas: Canvas, page: _Page, document: UnansweredList) -> None:
        kind = self.type
        top = self.y + self.height
        canvas.setFont(GOTHIC, kind.title)
        canvas.drawString(self.x, top - kind.title, "未回答一覧")
        canvas.setFont(GOTHIC, kind.heading)
        line = top - kind.title * 1.8 - kind.heading
        canvas.drawString(self.x, line, document.circular_title)
        group = page.group
        name = group.name or "班なし"
        if not page.first:
            name += "（続き）"
        summary = f"{name}　未回答 {len(group.households)} 世帯 / {group.recipients} 世帯"
        if document.deadline is not None:
            summary += f"　締切 {format_wareki(document.deadline)}"
        canvas.drawString(self.x, line - kind.heading * 1.6, summary)

        widths = [share * self.width for share in _COLUMNS]
        lefts = [self.x + sum(widths[:index]) for index in range(len(widths))]
        row_top = top - self.header_height
        canvas.setLineWidth(0.6)
        titles = ("世帯番号", "氏名", "住所", "確認")
        canvas.setFillGray(0.9)
        canvas.rect(self.x, row_top - self.row_height, self.width, self.row_height,
                    stroke=0, fill=1)
        canvas.setFillGray(0)
        canvas.setFont(GOTHIC, kind.body)
        baseline_offset = (self.row_height - kind.body) / 2 + kind.body * 0.15
        for left, title in zip(lefts, titles, strict=True):
            canvas.drawString(left + 2 * mm, row_top - self.row_height + baseline_offset, title)
        rows = len(page.rows) + 1
        for index in range(rows + 1):
            y = row_top - index * self.row_height
            canvas.line(self.x, y, self.x + self.width, y)
        bottom = row_top - rows * self.row_height
        for left in [*lefts, self.x + self.width]:
            canvas.line(left, row_top, left, bottom)
        pad = 2 * mm
        for index, household in enumerate(page.rows, start=1):
            baseline = row_top - (index + 1) * self.row_height + baseline_offset
            for column, text in enumerate((household.number, household.display_name,
                                           household.address)):
                self._fit(canvas, text, lefts[column] + pad, baseline, widths[column] - 2 * pad)
            box = kind.body * 1.2
            canvas.rect(lefts[3] + (widths[3] - box) / 2,
                        row_top - (index + 1) * self.row_height + (self.row_height - box) / 2,
                        box, box)


def render_unanswered(
    out: BinaryIO | Path,
    *,
    document: UnansweredList,
    large: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write the unanswered list to ``out``; returns the page count.

    ``progress(done, total)`` is called per page and may raise to cancel: nothing is written
    then. With nobody left to follow up, one page says so.
    """
    layout = PageLayout()
    sheet = _Sheet(Typography(large=large), layout)
    pages = sheet.paginate(document.groups)
    total = max(len(pages), 1)
    if progress is not None:
        progress(0, total)
    with pdf_target(out) as target:
        _draw(target, document, sheet, pages, progress)
    return total


def _draw(target: str | BinaryIO, document: UnansweredList, sheet: _Sheet,
          pages: Sequence[_Page], progress: Progress | None) -> None:
    canvas = new_canvas(target, title=f"未回答一覧 {document.circular_title}",
                        author=document.association)
    total = max(len(pages), 1)
    if not pages:
        canvas.setFont(GOTHIC, sheet.type.title)
        x, y, _width, height = sheet.layout.frame
        canvas.drawString(x, y + height - sheet.type.title, "未回答一覧")
        canvas.setFont(GOTHIC, sheet.type.heading)
        canvas.drawString(x, y + height - sheet.type.title * 3, document.circular_title)
        canvas.drawString(x, y + height - sheet.type.title * 4.5,
                          _("Every household has answered."))
    for number, page in enumerate(pages, start=1):
        if number > 1:
            canvas.showPage()
        sheet.draw(canvas, page, document)
        draw_furniture(canvas, association=document.association, issued_on=document.printed_on,
                       page=number, pages=total, layout=sheet.layout, typography=sheet.type)
        if progress is not None:
            progress(number, total)
    if not pages:
        draw_furniture(canvas, association=document.association, issued_on=document.printed_on,
                       page=1, pages=1, layout=sheet.layout, typography=sheet.type)
    canvas.showPage()
    canvas.save()
