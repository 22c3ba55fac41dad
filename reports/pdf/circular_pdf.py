"""The circular on paper: the 回覧板 packet of each 班, and a personal copy for each paper
household with its reply slip.

Speed comes from doing the shared work once. The body is laid out once (``markup``), its
pages are drawn once each into a PDF Form XObject (the page furniture too, for personal
copies), and every copy then only places those forms and draws what belongs to its household:
the addressee 「○○ 様」, and on the reply slip the household number, the name and the QR code.
2,000 copies cost little more than 2,000 page breaks. Platypus is not used: its per-page
layout is what made the copies slow.

The slip sits below a dashed 切り取り線 at the foot of the copy's last page, or on a page of
its own when the body leaves no room. Attached pictures are drawn across the frame (a map with
its web address and a QR code of it); attached PDF pages are appended after the circular of
every copy and packet with pypdf, the same page objects each time, so the file does not grow
with each copy. Characters the fonts lack are printed as 〓 (the typesetter's mark) and are
listed beforehand by :func:`unprintable_characters` so the window can warn.

Everything is built in memory and written at the end (through a temporary file beside a
path), so a job cancelled from ``progress`` or a failure never leaves half a PDF. No Qt here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pypdf
from pypdf.errors import PyPdfError
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.circulars import Question, QuestionKind
from desktop.domain.errors import KairanError
from desktop.domain.models import Ask, AttachmentKind
from desktop.domain.wareki import era_of, format_wareki
from desktop.i18n import _
from reports.pdf.circular_input import CircularPrint, PrintHousehold, RouteHousehold
from reports.pdf.drawing import (
    MISSING_MARK,
    Box,
    Code,
    Frame,
    Item,
    Moved,
    Picture,
    Rule,
    Slot,
    Text,
    binary_streams,
    cut_line,
    fit,
    frame_of,
    printable,
)
from reports.pdf.fonts import GOTHIC, MINCHO, missing_characters
from reports.pdf.markup import Line, layout_body, text_width, wrap_text
from reports.pdf.output import deliver
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas
from reports.pdf.purpose import purpose_footer
from reports.pdf.qr import draw_qr

__all__ = [
    "MISSING_MARK",
    "Progress",
    "render_packet",
    "render_packets_and_copies",
    "render_personal_copies",
    "unprintable_characters",
]

Progress = Callable[[int, int], None]
_WEEKDAYS = "月火水木金土日"
_PROGRESS_EVERY = 10  # copies between progress calls: often enough for a smooth bar
_SEAL_BOX = 15 * mm  # 確認印: room for a 認印 (10.5–12 mm) with a margin
_SLIP_QR = 20 * mm  # ~0.7 mm modules: any phone or hand scanner reads them
_MAP_QR = 18 * mm
_PICTURE_TALLEST = 0.6  # of the frame's height
_PICTURE_SHORTEST = 0.35  # set a picture this small to fill a page's rest, not smaller
_ROUTE_HEADS = ("順番", "世帯番号", "氏名", "受取日", "確認印")


# ------------------------------------------------------------------ text helpers


def _day(day: date) -> str:
    """令和7年4月20日（日）."""
    return f"{format_wareki(day)}（{_WEEKDAYS[day.weekday()]}）"


def unprintable_characters(circular: CircularPrint, *,
                           households: Sequence[PrintHousehold] = ()) -> list[str]:
    """The characters of the circular (and of the households' names, if given) that the
    embedded fonts cannot show, in order of appearance. They print as 〓; warn before."""
    texts = [circular.association, circular.title, circular.body, circular.issuer,
             circular.map_url]
    for question in circular.slip_questions:
        texts += [question.text, *question.choices]
    texts += [household.name for household in households]
    texts += [household.number for household in households]
    joined = "\n".join(texts)
    found = dict.fromkeys(missing_characters(joined, MINCHO))
    found.update(dict.fromkeys(missing_characters(joined, GOTHIC)))
    return list(found)


# ------------------------------------------------------------------ drawing items


# ------------------------------------------------------------------ geometry


def _printable(text: str) -> str:
    """``text`` as printed, keeping its line breaks (see :func:`printable`)."""
    return printable(text, keep_line_breaks=True)


@dataclass(frozen=True, slots=True)
class _Slip:
    """The reply slip, laid out once. Coordinates are the slip's own: origin at its top-left
    corner (the 切り取り線), y up, so everything is at negative y."""

    height: float
    scale: float
    items: tuple[Item, ...]
    number: Slot
    name: Slot
    qr: tuple[float, float, float]  # x, y (bottom-left), size

    @property
    def drawn_height(self) -> float:
        return self.height * self.scale

    def static(self, x: float, top: float) -> Item:
        return Moved(self.items, x, top, self.scale)

    def draw_household(self, canvas: Canvas, x: float, top: float,
                       household: PrintHousehold) -> None:
        canvas.saveState()
        canvas.translate(x, top)
        if self.scale != 1.0:
            canvas.scale(self.scale, self.scale)
        number, size = fit(_printable(household.number), GOTHIC, self.number.size,
                            self.number.width)
        canvas.setFont(GOTHIC, size)
        canvas.drawString(self.number.x, self.number.y, number)
        name, size = fit(_printable(household.name) + " 様", GOTHIC, self.name.size,
                          self.name.width)
        canvas.setFont(GOTHIC, size)
        canvas.drawString(self.name.x, self.name.y, name)
        qr_x, qr_y, qr_size = self.qr
        draw_qr(canvas, household.slip_code or household.number, x=qr_x, y=qr_y, size=qr_size)
        canvas.restoreState()


def _slip_heading(ask: Ask) -> str:
    if ask is Ask.ATTENDANCE:
        return _("Attendance reply")
    if ask is Ask.SURVEY:
        return _("Survey reply")
    return _("Read confirmation")


def _cut_line(width: float, typo: Typography) -> tuple[list[Item], float]:
    """The dashed 切り取り線 across the slip's top, labelled in the middle; its band height."""
    band = typo.small * 2.2
    return cut_line(width, typo.small, band), band


def _choice_rows(question: Question, *, x: float, width: float, size: float,
                 y: float, row: float) -> tuple[list[Item], float]:
    """The choices set wide apart (room to circle each); wrapped to more rows if needed."""
    items: list[Item] = []
    space = size * 2.4
    cursor = x
    for raw in question.choices:
        choice = _printable(raw)
        choice_width = text_width(choice, GOTHIC, size)
        if cursor > x and cursor + choice_width > x + width:
            cursor = x
            y -= row
        items.append(Text(cursor + size * 0.6, y - row / 2 - size * 0.38, choice, GOTHIC,
                           size))
        cursor += choice_width + space
    return items, y - row


def _slip_answers(circular: CircularPrint, items: list[Item], *, x: float, width: float,
                  y: float, typo: Typography) -> float:
    """The slip's lower part: what to do, then a seal box (read confirmation) or the
    questions with their choices to circle and boxes to write in. Returns the new bottom."""
    body, leading = typo.body, typo.leading
    questions = circular.slip_questions
    if circular.ask is Ask.READ or not questions:
        hint = _("Press your seal, cut off this slip and hand it to your group leader.")
    elif any(question.kind is QuestionKind.TEXT for question in questions):
        hint = _("Circle your answers or write in the box, cut off this slip and hand it to "
                 "your group leader.")
    else:
        hint = _("Circle your answers, cut off this slip and hand it to your group leader.")
    hint, size = fit(hint, GOTHIC, typo.small, width)
    y -= typo.small * 1.8
    items.append(Text(x, y + typo.small * 0.5, hint, GOTHIC, size, gray=0.25))
    if circular.ask is Ask.READ or not questions:
        seal = _SEAL_BOX * typo.scale
        y -= seal + leading * 0.3
        items.append(Text(x, y + seal / 2 - body * 0.38, _("I have read this circular."),
                           MINCHO, body))
        items.append(Box(x + width - seal, y, seal, seal, 0.6))
        items.append(Text(x + width - seal - body * 0.5, y + body * 0.3, "確認印", GOTHIC,
                           typo.small, "right", 0.3))
        return y
    numbered = len(questions) > 1
    indent = body * 1.6 if numbered else body * 0.8
    for number, question in enumerate(questions, start=1):
        prefix = f"{number}. " if numbered else ""
        for text in wrap_text(prefix + _printable(question.text), font=GOTHIC, size=body,
                              width=width):
            y -= leading
            items.append(Text(x, y + leading / 2 - body * 0.38, text, GOTHIC, body))
        if question.kind is QuestionKind.TEXT:
            box = leading * 2.0
            y -= box + leading * 0.2
            items.append(Box(x + indent, y, width - indent, box, 0.5))
        else:
            choices, y = _choice_rows(question, x=x + indent, width=width - indent,
                                      size=body * 1.15, y=y, row=leading * 1.5)
            items += choices
        y -= leading * 0.25
    return y


def _lay_out_slip(circular: CircularPrint, *, width: float, typo: Typography) -> _Slip:
    """The reply slip laid out ``width`` points wide, at its natural size, with the
    association's purpose statement at its foot."""
    items, band = _cut_line(width, typo)
    pad = 3.5 * mm * typo.scale
    qr_size = _SLIP_QR * (1.2 if typo.large else 1.0)
    body, leading, heading = typo.body, typo.leading, typo.heading
    box_top = -band - typo.small * 0.5
    left_width = width - 3 * pad - qr_size
    y = box_top - pad

    y -= heading * 1.5
    items.append(Text(pad, y + heading * 0.4, _slip_heading(circular.ask), GOTHIC, heading))
    title, size = fit(f"「{_printable(circular.title)}」", MINCHO, body, left_width)
    y -= leading
    items.append(Text(pad, y + leading / 2 - size * 0.38, title, MINCHO, size))
    if circular.deadline is not None:
        y -= leading
        text, size = fit(f"提出期限　{_day(circular.deadline)}", GOTHIC, body, left_width)
        items.append(Text(pad, y + leading / 2 - size * 0.38, text, GOTHIC, size))
    y -= heading * 1.6
    label = "世帯番号　"
    items.append(Text(pad, y + heading * 0.5, label, GOTHIC, body))
    label_width = text_width(label, GOTHIC, body)
    number = Slot(pad + label_width, y + heading * 0.5, heading, left_width - label_width)
    y -= heading * 1.6
    name = Slot(pad, y + heading * 0.5, heading, left_width)
    qr_y = box_top - pad - qr_size
    qr = (width - pad - qr_size, qr_y, qr_size)
    y = min(y, qr_y) - pad * 0.6

    y = _slip_answers(circular, items, x=pad, width=width - 2 * pad, y=y, typo=typo)
    footer, height = purpose_footer(circular.purpose_statement, x=pad, top=y,
                                    width=width - 2 * pad, typo=typo)
    items += footer
    y -= height
    bottom = y - pad * 0.6
    items.append(Box(0, bottom, width, box_top - bottom, 0.9))
    return _Slip(-bottom, 1.0, tuple(items), number, name, qr)


def _build_slip(circular: CircularPrint, *, width: float, typo: Typography,
                available: float) -> _Slip:
    """The reply slip for a frame ``width`` wide. One taller than ``available`` (ten long
    questions in large print) is laid out wider and drawn scaled down to fit the frame:
    smaller type, but whole on one page and as wide as the frame."""
    slip = _lay_out_slip(circular, width=width, typo=typo)
    laid_width = width
    for _attempt in range(4):
        if slip.height * width / laid_width <= available:
            break
        laid_width = width * slip.height / available  # wider wraps less: shorter
        slip = _lay_out_slip(circular, width=laid_width, typo=typo)
    scale = min(width / laid_width, available / slip.height)
    return replace(slip, scale=scale)


# ------------------------------------------------------------------ the circular's pages


@dataclass(frozen=True, slots=True)
class _Header:
    """Page 1's left header slot: the addressee of a copy, or the 回覧 mark of a packet."""

    x: float
    first: float  # baseline of the first line
    second: float  # baseline of the second line
    width: float
    size: float
    small: float


@dataclass
class _Flow:
    """Pages being filled from the top of the frame down."""

    frame: Frame
    pages: list[list[Item]] = field(default_factory=lambda: [[]])
    y: float = 0.0

    def __post_init__(self) -> None:
        self.y = self.frame.top

    @property
    def room(self) -> float:
        return self.y - self.frame.bottom

    @property
    def at_top(self) -> bool:
        return self.y >= self.frame.top

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.frame.top

    def add(self, *items: Item) -> None:
        self.pages[-1].extend(items)


@dataclass(frozen=True, slots=True)
class _Circular:
    """The circular laid out once: each page's shared drawing, where the household's own
    text goes, and where the slip sits (on the last page)."""

    pages: tuple[tuple[Item, ...], ...]
    header: _Header
    slip: _Slip | None
    slip_top: float  # y of the slip's top edge on the last page


def _letter_head(circular: CircularPrint, flow: _Flow, typo: Typography) -> _Header:
    """The issuer top right (the date is in the page furniture), the title centred below;
    the left is kept for the addressee (a copy) or the 回覧 mark (a packet)."""
    frame = flow.frame
    first = frame.top - typo.heading
    second = first - typo.leading * 1.1
    half = frame.width / 2
    if circular.issuer:
        issuer, size = fit(_printable(circular.issuer), MINCHO, typo.body * 1.1,
                            half - typo.body)
        flow.add(Text(frame.right, first, issuer, MINCHO, size, "right"))
    flow.y = second - typo.leading * 1.2
    title_size = typo.title
    for line in wrap_text(_printable(circular.title), font=GOTHIC, size=title_size,
                          width=frame.width):
        flow.y -= title_size * 1.45
        flow.add(Text(frame.left + frame.width / 2, flow.y + title_size * 0.3, line, GOTHIC,
                       title_size, "centre"))
    flow.y -= typo.leading * 0.8
    return _Header(frame.left, first, second, half - typo.body, typo.heading, typo.body)


def _place_lines(flow: _Flow, lines: Sequence[Line]) -> None:
    frame = flow.frame
    for index, line in enumerate(lines):
        gap = line.advance - line.height
        need = line.advance
        if line.keep_with_next and index + 1 < len(lines):
            need += lines[index + 1].advance
        if need > flow.room and not flow.at_top:
            flow.new_page()
        if flow.at_top:
            gap = 0.0  # no gap at the top of a page
        top = flow.y - gap
        baseline = top - line.height / 2 - line.size * 0.38
        if line.text:
            flow.add(Text(frame.left + line.x, baseline, line.text, line.font, line.size))
        if line.label:
            flow.add(Text(frame.left + line.label_x, baseline, line.label, line.font,
                           line.size))
        if line.underline:
            rule_y = baseline - line.size * 0.35
            flow.add(Rule(frame.left, rule_y, frame.right, rule_y, 0.8))
        flow.y = top - line.height


def _map_caption(flow: _Flow, url: str, typo: Typography, *, label: bool) -> None:
    """The map's web address (wrapped) with its QR code beside it, at the flow's cursor."""
    frame = flow.frame
    size = typo.small
    text = f"{_('Map')}: {url}" if label else url
    width = frame.width - _MAP_QR - 3 * mm
    lines = wrap_text(_printable(text), font=GOTHIC, size=size, width=width)
    height = max(_MAP_QR, len(lines) * size * 1.5) + typo.leading * 0.4
    if height > flow.room and not flow.at_top:
        flow.new_page()
    top = flow.y - typo.leading * 0.3
    for index, line in enumerate(lines):
        flow.add(Text(frame.left, top - size * (1.2 + 1.5 * index), line, GOTHIC, size))
    flow.add(Code(url, frame.right - _MAP_QR, top - _MAP_QR, _MAP_QR))
    flow.y -= height


def _place_picture(flow: _Flow, data: bytes, typo: Typography, *, caption: float) -> None:
    """A picture across the frame width, with ``caption`` points kept free under it.

    A tall picture is kept to 60 % of the frame's height, and set smaller still (down to
    35 %) rather than leave half a page empty before it.
    """
    frame = flow.frame
    try:
        image = ImageReader(io.BytesIO(data))
        pixels_wide, pixels_high = image.getSize()
    except Exception as error:  # Pillow raises many kinds for a damaged file
        raise KairanError(
            _("An attached picture could not be read ({reason}). Remove it from the circular "
              "and attach it again.").format(reason=error)
        ) from error
    gap = 0.0 if flow.at_top else typo.leading * 0.6
    height = min(frame.width * pixels_high / pixels_wide, frame.height * _PICTURE_TALLEST)
    room = flow.room - gap - caption
    if height > room:
        if room >= frame.height * _PICTURE_SHORTEST:
            height = room
        else:
            flow.new_page()
            gap = 0.0
    width = height * pixels_wide / pixels_high
    y = flow.y - gap - height
    flow.add(Picture(image, frame.left + (frame.width - width) / 2, y, width, height))
    flow.y = y


def _lay_out_circular(circular: CircularPrint, *, layout: PageLayout, typo: Typography,
                      with_slip: bool) -> _Circular:
    frame = frame_of(layout)
    flow = _Flow(frame)
    header = _letter_head(circular, flow, typo)
    _place_lines(flow, layout_body(_printable(circular.body), width=frame.width,
                                   typography=typo))
    map_shown = False
    for data, kind in circular.images:
        if kind not in (AttachmentKind.IMAGE, AttachmentKind.MAP):
            continue
        is_map = kind is AttachmentKind.MAP and bool(circular.map_url) and not map_shown
        caption = _MAP_QR + typo.leading if is_map else 0.0
        _place_picture(flow, data, typo, caption=caption)
        if is_map:
            _map_caption(flow, circular.map_url, typo, label=False)
            map_shown = True
    if circular.map_url and not map_shown:
        _map_caption(flow, circular.map_url, typo, label=True)
    slip = None
    slip_top = frame.top
    if with_slip and circular.has_slip:
        slip = _build_slip(circular, width=frame.width, typo=typo, available=frame.height)
        if flow.room < slip.drawn_height + typo.leading:
            flow.new_page()
        else:
            slip_top = frame.bottom + slip.drawn_height
        flow.add(slip.static(frame.left, slip_top))
    return _Circular(tuple(tuple(page) for page in flow.pages), header, slip, slip_top)


def _draw_addressee(canvas: Canvas, header: _Header, household: PrintHousehold) -> None:
    name, size = fit(_printable(household.name) + " 様", GOTHIC, header.size, header.width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(header.x, header.first, name)
    number, size = fit(f"世帯番号 {_printable(household.number)}", GOTHIC, header.small,
                        header.width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(header.x, header.second, number)


def _draw_circulation_mark(canvas: Canvas, header: _Header, group_name: str) -> None:
    """「回覧」 in a box, and the 班 the packet goes round."""
    size = header.size
    mark_width = text_width("回覧", GOTHIC, size) + size * 0.8
    canvas.setLineWidth(1.0)
    canvas.rect(header.x, header.first - size * 0.4, mark_width, size * 1.45)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(header.x + size * 0.4, header.first, "回覧")
    if group_name:
        text, fitted = fit(_printable(group_name), GOTHIC, header.small,
                            header.width - mark_width - size)
        canvas.setFont(GOTHIC, fitted)
        canvas.drawString(header.x + mark_width + size * 0.6, header.first, text)


# ------------------------------------------------------------------ route sheet


@dataclass(frozen=True, slots=True)
class _RouteTable:
    """The route sheet's columns and rows for one typography."""

    row: float
    seal: float
    header_depth: float  # title and captions above the table
    head_row: float  # the table's heading row
    note: float  # the note under the table
    rows_per_page: int
    columns: tuple[float, ...]  # left edges of 順番, 世帯番号, 氏名, 受取日, 確認印, and the right


def _route_table(frame: Frame, typo: Typography) -> _RouteTable:
    seal = _SEAL_BOX * typo.scale
    row = seal + 3 * mm * typo.scale
    header_depth = typo.title * 1.6 + typo.leading * 2.6
    head_row = typo.body * 2.0
    note = typo.leading * 1.8
    usable = frame.height - header_depth - head_row - note
    widths = (typo.body * 3.2, typo.body * 6.5, 0.0, typo.body * 7.5, seal + 6 * mm)
    name_width = frame.width - sum(widths)
    edges = [frame.left]
    for width in (*widths[:2], name_width, *widths[3:]):
        edges.append(edges[-1] + width)
    return _RouteTable(row, seal, header_depth, head_row, note,
                       max(1, int(usable // row)), tuple(edges))


def _route_page_count(households: int, table: _RouteTable) -> int:
    return max(1, math.ceil(households / table.rows_per_page))


def _draw_route_captions(canvas: Canvas, *, circular: CircularPrint, group_name: str,
                         frame: Frame, typo: Typography) -> None:
    """「回覧板 順路表」, the 班, a 回覧開始日 to fill in, and the circular's title."""
    title_size = typo.title
    y = frame.top - title_size * 1.1
    canvas.setFont(GOTHIC, title_size)
    canvas.drawCentredString(frame.left + frame.width / 2, y, "回覧板 順路表")
    y -= typo.leading * 1.5
    era = era_of(circular.issued_on)
    start = f"回覧開始日　{era.name if era else ''}　　年　　月　　日"
    canvas.setFont(GOTHIC, typo.body)
    canvas.drawRightString(frame.right, y, start)
    room = frame.width - text_width(start, GOTHIC, typo.body) - typo.body * 2
    group, size = fit(_printable(group_name) or _("(no group)"), GOTHIC, typo.heading, room)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(frame.left, y, group)
    y -= typo.leading * 1.1
    subject, size = fit(f"件名：{_printable(circular.title)}", MINCHO, typo.body, frame.width)
    canvas.setFont(MINCHO, size)
    canvas.drawString(frame.left, y, subject)


def _draw_route_row(canvas: Canvas, household: RouteHousehold, *, order: int,
                    row_bottom: float, typo: Typography, table: _RouteTable) -> None:
    edges = table.columns
    body = typo.body
    middle = row_bottom + table.row / 2 - body * 0.38
    canvas.setFont(GOTHIC, body)
    canvas.drawCentredString((edges[0] + edges[1]) / 2, middle, str(order))
    number, size = fit(_printable(household.number), GOTHIC, body, edges[2] - edges[1] - body)
    canvas.setFont(GOTHIC, size)
    canvas.drawCentredString((edges[1] + edges[2]) / 2, middle, number)
    name, size = fit(_printable(household.name), MINCHO, typo.heading,
                      edges[3] - edges[2] - body)
    canvas.setFont(MINCHO, size)
    canvas.drawString(edges[2] + body * 0.5, middle, name)
    canvas.setFont(GOTHIC, typo.small)  # 「月　日」 guides to write the date in
    canvas.setFillGray(0.45)
    date_width = edges[4] - edges[3]
    canvas.drawString(edges[3] + date_width * 0.40, middle, "月")
    canvas.drawString(edges[3] + date_width * 0.80, middle, "日")
    canvas.setFillGray(0)
    seal_x = (edges[4] + edges[5]) / 2 - table.seal / 2
    canvas.rect(seal_x, row_bottom + (table.row - table.seal) / 2, table.seal, table.seal)


def _draw_route_page(canvas: Canvas, *, circular: CircularPrint, group_name: str,
                     rows: Sequence[RouteHousehold], first_order: int, frame: Frame,
                     typo: Typography, table: _RouteTable) -> None:
    """One page of a 班's 回覧板 順路表: captions, the table, the note under it."""
    _draw_route_captions(canvas, circular=circular, group_name=group_name, frame=frame,
                         typo=typo)
    edges = table.columns
    top = frame.top - table.header_depth
    bottom = top - table.head_row - len(rows) * table.row
    canvas.setFillGray(0.9)
    canvas.rect(edges[0], top - table.head_row, edges[-1] - edges[0], table.head_row,
                stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.setLineWidth(0.8)
    canvas.rect(edges[0], bottom, edges[-1] - edges[0], top - bottom)
    canvas.setLineWidth(0.5)
    for edge in edges[1:-1]:
        canvas.line(edge, top, edge, bottom)
    canvas.setFont(GOTHIC, typo.body)
    head_y = top - table.head_row / 2 - typo.body * 0.38
    for left, right, head in zip(edges, edges[1:], _ROUTE_HEADS, strict=False):
        canvas.drawCentredString((left + right) / 2, head_y, head)
    y = top - table.head_row
    for offset, household in enumerate(rows):
        canvas.line(edges[0], y, edges[-1], y)
        y -= table.row
        _draw_route_row(canvas, household, order=first_order + offset, row_bottom=y,
                        typo=typo, table=table)
    note = _("When it has gone round, the last household returns the 回覧板 to the group "
             "leader.")
    note_text, size = fit(note, GOTHIC, typo.body, frame.width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(frame.left, bottom - typo.leading * 1.2, note_text)


# ------------------------------------------------------------------ attachments and output


def _attachment_pages(attachments: Sequence[bytes]) -> list[pypdf.PageObject]:
    pages: list[pypdf.PageObject] = []
    for number, data in enumerate(attachments, start=1):
        try:
            pages.extend(pypdf.PdfReader(io.BytesIO(data)).pages)
        except (PyPdfError, ValueError, OSError) as error:
            raise KairanError(
                _("Attached PDF {number} could not be read ({reason}). Remove it from the "
                  "circular and attach it again.").format(number=number, reason=error)
            ) from error
    return pages


def _insert_attachments(pdf: bytes, pages: Sequence[pypdf.PageObject],
                        after: Sequence[int]) -> bytes:
    """``pdf`` with ``pages`` inserted after each page index in ``after``. pypdf shares the
    content of a page added many times, so 2,000 copies hold one copy of each page."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    writer = pypdf.PdfWriter()
    inserts = set(after)
    for index, page in enumerate(reader.pages):
        writer.add_page(page)
        if index in inserts:
            for attached in pages:
                writer.add_page(attached)
    if reader.metadata is not None:
        writer.add_metadata(dict(reader.metadata))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _canvas(buffer: BinaryIO, circular: CircularPrint) -> Canvas:
    return new_canvas(buffer, title=_printable(circular.title),
                      author=_printable(circular.association))


def _furniture(canvas: Canvas, circular: CircularPrint, *, page: int, pages: int,
               layout: PageLayout, typo: Typography) -> None:
    draw_furniture(canvas, association=_printable(circular.association),
                   issued_on=circular.issued_on, page=page, pages=pages, layout=layout,
                   typography=typo)


def _define_forms(canvas: Canvas, pages: Sequence[Sequence[Item]], prefix: str,
                  furniture: Callable[[int], None] | None = None) -> list[str]:
    """Each page's shared drawing as a Form XObject, drawn once; returns their names."""
    names = []
    for index, items in enumerate(pages):
        name = f"{prefix}{index}"
        canvas.beginForm(name)
        for item in items:
            item.draw(canvas)
        if furniture is not None:
            furniture(index)
        canvas.endForm()
        names.append(name)
    return names


# ------------------------------------------------------------------ the documents


def render_personal_copies(out: BinaryIO | Path, *, circular: CircularPrint,
                           households: Sequence[PrintHousehold], large: bool = False,
                           progress: Progress | None = None) -> int:
    """One personal copy of ``circular`` for each of ``households`` (the paper households),
    addressed 「○○ 様」 with the 世帯番号, and a reply slip with a QR code of the household's
    ``slip_code`` when the circular asks for an answer; the slip's foot carries the
    association's purpose statement. Returns the number of pages.

    ``progress(done, total)`` counts copies; raising from it cancels and writes nothing.
    """
    if not households:
        raise KairanError(_("No household gets this circular on paper, so there are no "
                            "personal copies to print."))
    layout = PageLayout()
    typo = Typography(large=large)
    attached = _attachment_pages(circular.pdf_attachments)
    shape = _lay_out_circular(circular, layout=layout, typo=typo, with_slip=True)
    ours = len(shape.pages)
    per_copy = ours + len(attached)
    frame = frame_of(layout)
    total = len(households)
    if progress is not None:
        progress(0, total)
    buffer = io.BytesIO()
    with binary_streams():
        canvas = _canvas(buffer, circular)
        forms = _define_forms(
            canvas, shape.pages, "copy",
            lambda index: _furniture(canvas, circular, page=index + 1, pages=per_copy,
                                     layout=layout, typo=typo))
        for done, household in enumerate(households, start=1):
            for index, form in enumerate(forms):
                canvas.doForm(form)
                if index == 0:
                    _draw_addressee(canvas, shape.header, household)
                if index == ours - 1 and shape.slip is not None:
                    shape.slip.draw_household(canvas, frame.left, shape.slip_top, household)
                canvas.showPage()
            if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
        canvas.save()
    data = buffer.getvalue()
    if attached:
        data = _insert_attachments(data, attached, [copy * ours + ours - 1
                                                    for copy in range(total)])
    deliver(data, out)
    return per_copy * total


def render_packet(out: BinaryIO | Path, *, circular: CircularPrint,
                  groups: Sequence[tuple[str, Sequence[RouteHousehold]]], large: bool = False,
                  progress: Progress | None = None) -> int:
    """The 回覧板 packet of each 班 in ``groups`` (name, households in circulation order):
    the circular, its attached PDF pages, then the route sheet 「回覧板 順路表」 with a
    受取日 column and a 確認印 box per household. Pages are numbered per packet. Returns the
    number of pages.

    ``progress(done, total)`` counts packets; raising from it cancels and writes nothing.
    """
    if not groups:
        raise KairanError(_("There is no group to print a 回覧板 packet for."))
    layout = PageLayout()
    typo = Typography(large=large)
    frame = frame_of(layout)
    attached = _attachment_pages(circular.pdf_attachments)
    shape = _lay_out_circular(circular, layout=layout, typo=typo, with_slip=False)
    ours = len(shape.pages)
    table = _route_table(frame, typo)
    total = len(groups)
    if progress is not None:
        progress(0, total)
    buffer = io.BytesIO()
    after: list[int] = []  # reportlab's page indexes the attached pages follow
    drawn = 0
    pages = 0
    with binary_streams():
        canvas = _canvas(buffer, circular)
        forms = _define_forms(canvas, shape.pages, "packet")
        for done, (group_name, households) in enumerate(groups, start=1):
            route_pages = _route_page_count(len(households), table)
            in_packet = ours + len(attached) + route_pages
            for index, form in enumerate(forms):
                canvas.doForm(form)
                if index == 0:
                    _draw_circulation_mark(canvas, shape.header, group_name)
                _furniture(canvas, circular, page=index + 1, pages=in_packet, layout=layout,
                           typo=typo)
                canvas.showPage()
            drawn += ours
            after.append(drawn - 1)
            for route_page in range(route_pages):
                first = route_page * table.rows_per_page
                _draw_route_page(canvas, circular=circular, group_name=group_name,
                                 rows=households[first:first + table.rows_per_page],
                                 first_order=first + 1, frame=frame, typo=typo, table=table)
                _furniture(canvas, circular, page=ours + len(attached) + route_page + 1,
                           pages=in_packet, layout=layout, typo=typo)
                canvas.showPage()
            drawn += route_pages
            pages += in_packet
            if progress is not None:
                progress(done, total)
        canvas.save()
    data = buffer.getvalue()
    if attached:
        data = _insert_attachments(data, attached, after)
    deliver(data, out)
    return pages


def render_packets_and_copies(out: BinaryIO | Path, *, circular: CircularPrint,
                              groups: Sequence[tuple[str, Sequence[RouteHousehold]]],
                              households: Sequence[PrintHousehold], large: bool = False,
                              progress: Progress | None = None) -> int:
    """The 回覧板 packets, then the personal copies, as one PDF: one print job for the
    officer. Without paper households it is the packets alone. ``progress`` counts packets
    and copies together; raising from it cancels and writes nothing."""
    if not households:
        return render_packet(out, circular=circular, groups=groups, large=large,
                             progress=progress)
    total = len(groups) + len(households)

    def share(offset: int) -> Progress | None:
        if progress is None:
            return None
        report = progress
        return lambda done, _total: report(offset + done, total)

    packets, copies = io.BytesIO(), io.BytesIO()
    pages = render_packet(packets, circular=circular, groups=groups, large=large,
                          progress=share(0))
    pages += render_personal_copies(copies, circular=circular, households=households,
                                    large=large, progress=share(len(groups)))
    writer = pypdf.PdfWriter()
    for part in (packets, copies):
        writer.append(pypdf.PdfReader(io.BytesIO(part.getvalue())))
    buffer = io.BytesIO()
    writer.write(buffer)
    deliver(buffer.getvalue(), out)
    return pages
