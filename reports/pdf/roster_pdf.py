"""Roster printouts: the 班 lists (班別名簿) and the officers' contact list (役員連絡先一覧).

Both are tables drawn straight on the reportlab canvas with fixed row heights, so the pages
are planned before anything is drawn (「3 / 12」 needs the total) and a 2,000-household roster
takes about a second. Every cell is fitted to its box: a long address wraps onto a second
line and shrinks, and what still does not fit ends in 「…」, so no text crosses a ruling or
leaves the page. The text-fitting helpers and the safe file output here are shared with the
address labels (``reports.pdf.labels``).

The documents print in Japanese whatever the window's language: they go to residents and
officers of a Japanese association, like the column titles of the Excel export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Literal

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.models import NoticeChannel
from reports.pdf.fonts import GOTHIC, register_fonts
from reports.pdf.output import pdf_target
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas

__all__ = [
    "ASCENT",
    "CHANNEL_WORDS",
    "DESCENT",
    "LINE_SPACING",
    "FittedText",
    "GroupList",
    "OfficerLine",
    "Progress",
    "RosterLine",
    "block_height",
    "draw_fitted",
    "fit_text",
    "render_group_lists",
    "render_officer_list",
    "wrap_text",
]

Progress = Callable[[int, int], None]
Align = Literal["left", "centre", "right"]

# The words the Excel export writes for the notice channel, whatever the UI language.
CHANNEL_WORDS = {NoticeChannel.PAPER: "紙", NoticeChannel.APP: "アプリ",
                 NoticeChannel.EMAIL: "メール"}
NO_GROUP = "班なし"  # the section of households that are in no 班 yet
VACANT = "（空席）"
HANDLE_WITH_CARE = "取扱注意"
PRIVACY_NOTE = "個人情報を含みます。役員の連絡以外に使わず、不要になったら裁断してください。"

# ---------------------------------------------------------------- fitting text into boxes

ASCENT = 0.88  # IPAex glyphs reach this far above the baseline (in em)
DESCENT = 0.12  # and this far below it
LINE_SPACING = 1.15  # baseline to baseline inside a fitted block, in em
_SHRINK = 0.94  # each try at fitting is this much smaller than the last
_ONE_LINE_FIRST = 0.8  # shrink this far to keep text on one line before wrapping it
ELLIPSIS = "…"
# Kinsoku: characters a line may not start with, and characters it may not end with.
_NO_LINE_START = frozenset("、。，．,.)）」』】〕〉》ゝゞー々"
                           "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ！？!?・：；:;")
_NO_LINE_END = frozenset("(（「『【〔〈《〒")
_SPACES = " \u3000"
_DIGITS = frozenset("0123456789０１２３４５６７８９-－‐")
_COUNTERS = frozenset("丁目番地号")  # 1丁目4番15号: a number stays with what it counts


@dataclass(frozen=True, slots=True)
class FittedText:
    """Text broken into lines at the size where it fits its box."""

    lines: tuple[str, ...]
    size: float
    truncated: bool = False  # too long even at the smallest size: ends in 「…」

    @property
    def leading(self) -> float:
        """Baseline to baseline."""
        return self.size * LINE_SPACING

    @property
    def height(self) -> float:
        """From the top of the first line's glyphs to the bottom of the last line's."""
        return block_height(len(self.lines), self.size)


def block_height(lines: int, size: float) -> float:
    """The height ``lines`` lines of text at ``size`` take up, glyph top to glyph bottom."""
    return size * (ASCENT + DESCENT + LINE_SPACING * max(lines - 1, 0))


def _break(line: str, following: str) -> tuple[str, str]:
    """Where to end a full ``line`` when ``following`` does not fit: (this line, carried on)."""
    space = max(line.rfind(" "), line.rfind("\u3000"))
    if space > len(line) // 2:  # a space in the second half: break there (an address's 号 | 建物)
        return line[:space].rstrip(_SPACES), line[space + 1:].lstrip(_SPACES)
    at = line.rfind("@")
    if at > len(line) // 3:  # an e-mail address: name | @domain
        return line[:at], line[at:]
    if following in _DIGITS or following in _COUNTERS:
        digits = len(line) - len(line.rstrip("".join(_DIGITS)))
        if 0 < digits <= len(line) // 2:  # 1丁目4番 | 15号, not 1丁目4番15 | 号
            return line[:-digits], line[-digits:]
    if len(line) > 1 and (following in _NO_LINE_START or line[-1] in _NO_LINE_END):
        return line[:-1], line[-1]
    return line, ""


def wrap_text(text: str, *, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (Japanese breaks between any two
    characters; a space in the second half of a line is preferred, and kinsoku is kept)."""
    register_fonts()  # measuring needs the font; cached after the first call
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        if stringWidth(paragraph, font, size) <= width:  # the usual case: it fits
            lines.append(paragraph)
            continue
        line, line_width = "", 0.0
        for char in paragraph:
            if not line and char in _SPACES:
                continue
            char_width = stringWidth(char, font, size)
            if line and line_width + char_width > width:
                head, line = _break(line, char)
                lines.append(head)
                line_width = stringWidth(line, font, size)
            line += char
            line_width += char_width
        lines.append(line.rstrip(_SPACES))
    return lines


def _ellipsize(line: str, *, font: str, size: float, width: float) -> str:
    while line and stringWidth(line + ELLIPSIS, font, size) > width:
        line = line[:-1]
    return line + ELLIPSIS


def fit_text(
    text: str,
    *,
    font: str,
    width: float,
    height: float,
    max_size: float,
    min_size: float,
    max_lines: int = 1,
) -> FittedText:
    """``text`` at the largest size from ``max_size`` down to ``min_size`` at which it fits in
    ``width`` × ``height`` on at most ``max_lines`` lines; text that fits on one line when a
    little smaller stays on one line. Text too long even at ``min_size`` keeps the lines that
    fit, the last ending in 「…」: nothing is ever drawn outside the box."""
    register_fonts()  # measuring needs the font; cached after the first call
    min_size = min(min_size, max_size)

    def fits(lines: Sequence[str], size: float) -> bool:
        return (len(lines) <= max_lines and block_height(len(lines), size) <= height
                and all(stringWidth(line, font, size) <= width for line in lines))

    size = max_size
    if max_lines > 1 and "\n" not in text:
        while size >= max(min_size, max_size * _ONE_LINE_FIRST):
            if fits((text,), size):
                return FittedText((text,), size)
            size *= _SHRINK
        size = max_size
    while True:
        lines = wrap_text(text, font=font, size=size, width=width)
        if fits(lines, size):
            return FittedText(tuple(lines), size)
        if size <= min_size:
            break
        size = max(min_size, size * _SHRINK)
    room = int((height / size - ASCENT - DESCENT) / LINE_SPACING) + 1
    kept = lines[:max(1, min(max_lines, room, len(lines)))]
    kept = [line if stringWidth(line, font, size) <= width
            else _ellipsize(line, font=font, size=size, width=width) for line in kept]
    if len(kept) < len(lines) and not kept[-1].endswith(ELLIPSIS):
        kept[-1] = _ellipsize(kept[-1], font=font, size=size, width=width)
    return FittedText(tuple(kept), size, truncated=True)


def draw_fitted(
    canvas: Canvas,
    fitted: FittedText,
    *,
    font: str,
    x: float,
    top: float,
    width: float,
    align: Align = "left",
) -> None:
    """Draw fitted text with its glyphs starting at ``top`` (not the first baseline)."""
    canvas.setFont(font, fitted.size)
    baseline = top - fitted.size * ASCENT
    for line in fitted.lines:
        if align == "left":
            canvas.drawString(x, baseline, line)
        elif align == "centre":
            canvas.drawCentredString(x + width / 2, baseline, line)
        else:
            canvas.drawRightString(x + width, baseline, line)
        baseline -= fitted.leading


# ---------------------------------------------------------------- safe output


# ---------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class _Column:
    title: str
    width: float  # share of the frame's width (millimetres at A4)
    align: Align = "left"
    large: float | None = None  # the share in large print, where it differs


_CELL_PAD_X = 1.2 * mm
_RULE_GREY = 0.55
_HEADER_FILL = 0.88


class _Table:
    """Column positions, rulings and the header row of one table on the page."""

    def __init__(self, columns: Sequence[_Column], layout: PageLayout,
                 typography: Typography) -> None:
        x, _y, width, _height = layout.frame
        shares = [column.large or column.width if typography.large else column.width
                  for column in columns]
        scale = width / sum(shares)
        self.columns = tuple(columns)
        self.left, self.right = x, x + width
        self.xs: list[float] = []
        self.widths: list[float] = []
        for share in shares:
            self.xs.append(x)
            self.widths.append(share * scale)
            x += share * scale
        self.typography = typography
        self.header_height = typography.small * 2.1
        self._titles = [
            fit_text(column.title, font=GOTHIC, width=self.inner(index),
                     height=self.header_height, max_size=typography.small,
                     min_size=typography.small * 0.6)
            for index, column in enumerate(columns)
        ]

    def inner(self, index: int) -> float:
        """The width text may take in column ``index``."""
        return self.widths[index] - 2 * _CELL_PAD_X

    def text(self, canvas: Canvas, fitted: FittedText, index: int, top: float,
             height: float, *, align: Align | None = None) -> None:
        """Draw fitted text in column ``index``, centred in a box ``height`` high."""
        draw_fitted(canvas, fitted, font=GOTHIC, x=self.xs[index] + _CELL_PAD_X,
                    top=top - (height - fitted.height) / 2, width=self.inner(index),
                    align=align or self.columns[index].align)

    def header(self, canvas: Canvas, top: float) -> float:
        """Draw the header row below ``top``; returns the top of the first body row."""
        bottom = top - self.header_height
        canvas.setFillGray(_HEADER_FILL)
        canvas.rect(self.left, bottom, self.right - self.left, self.header_height,
                    stroke=0, fill=1)
        canvas.setFillGray(0)
        for index, title in enumerate(self._titles):
            self.text(canvas, title, index, top, self.header_height, align="centre")
        return bottom

    def rulings(self, canvas: Canvas, top: float, bottom: float,
                rows: Sequence[float]) -> None:
        """The frame, column lines from ``top`` to ``bottom``, and a line under each row."""
        canvas.setStrokeGray(_RULE_GREY)
        canvas.setLineWidth(0.4)
        for y in rows:
            canvas.line(self.left, y, self.right, y)
        for x in self.xs[1:]:
            canvas.line(x, top, x, bottom)
        canvas.setStrokeGray(0)
        canvas.setLineWidth(0.8)
        canvas.rect(self.left, bottom, self.right - self.left, top - bottom, stroke=1, fill=0)
        canvas.line(self.left, top - self.header_height, self.right, top - self.header_height)


def _single(text: str, table: _Table, index: int, height: float, size: float,
            *, min_scale: float = 0.6) -> FittedText:
    return fit_text(text, font=GOTHIC, width=table.inner(index), height=height,
                    max_size=size, min_size=size * min_scale)


def _heading(canvas: Canvas, *, left: str, right: str, top: float, layout: PageLayout,
             typography: Typography, left_size: float) -> None:
    """A heading line: ``left`` large at the frame's left, ``right`` small in what remains."""
    x, _y, width, _height = layout.frame
    height = left_size * (ASCENT + DESCENT)
    title = fit_text(left, font=GOTHIC, width=width * 0.7, height=height,
                     max_size=left_size, min_size=left_size * 0.6)
    draw_fitted(canvas, title, font=GOTHIC, x=x, top=top, width=width * 0.7)
    if right:
        used = stringWidth(title.lines[0], GOTHIC, title.size) + 4 * mm
        note = fit_text(right, font=GOTHIC, width=width - used, height=height,
                        max_size=typography.small, min_size=typography.small * 0.6,
                        max_lines=2)
        draw_fitted(canvas, note, font=GOTHIC, x=x + used, top=top - (height - note.height),
                    width=width - used, align="right")


def _start(progress: Progress | None, total: int) -> None:
    if progress is not None:
        progress(0, total)


# ---------------------------------------------------------------- 班別名簿


@dataclass(frozen=True, slots=True)
class RosterLine:
    """One household on a 班 list."""

    number: str
    name: str
    furigana: str = ""
    address: str = ""
    phone: str = ""
    members: int = 0
    channel: NoticeChannel = NoticeChannel.PAPER
    marks: tuple[str, ...] = ()  # roles held in this 班 this year, e.g. ("班長",)


@dataclass(frozen=True, slots=True)
class GroupList:
    """One 班 (its own pages), households in circulation order."""

    name: str  # as printed, e.g. 「東地区 3班」
    households: tuple[RosterLine, ...]
    leaders: tuple[str, ...] = ()  # e.g. ("班長 山田 太郎",)


GROUP_TITLE = "班別名簿"
# Large print gives the phone number the room to stay large; the address wraps instead.
_GROUP_COLUMNS = (
    _Column("順", 9, "centre", 8), _Column("世帯番号", 17), _Column("氏名", 38),
    _Column("住所", 58, large=48), _Column("電話", 25, large=36), _Column("人数", 11, "centre"),
    _Column("配布", 16, "centre"),
)
_ORDER, _NUMBER, _NAME, _ADDRESS, _PHONE, _MEMBERS, _CHANNEL = range(len(_GROUP_COLUMNS))


@dataclass(frozen=True, slots=True)
class _GroupMetrics:
    """Heights on a 班 list page; every one scales with the type, so large print simply
    puts fewer rows on a page."""

    typography: Typography

    @property
    def pad(self) -> float:
        return 2.0 * self.typography.scale

    @property
    def furigana(self) -> float:
        return self.typography.small * 0.75

    @property
    def row(self) -> float:
        body = self.typography.body
        return 2 * self.pad + self.furigana + 0.12 * body + body

    @property
    def heading(self) -> float:
        return self.typography.heading * 1.9

    @property
    def count_line(self) -> float:
        return self.typography.body * 2.0


@dataclass(frozen=True, slots=True)
class _GroupPage:
    group: GroupList
    first: int  # index of the first household on this page
    rows: tuple[RosterLine, ...]
    continued: bool
    last: bool


def _plan_group_pages(groups: Sequence[GroupList], capacity: int) -> list[_GroupPage]:
    pages: list[_GroupPage] = []
    for group in groups:
        households = group.households
        starts = range(0, max(len(households), 1), capacity)
        for start in starts:
            pages.append(_GroupPage(group, start, households[start:start + capacity],
                                    continued=start > 0, last=start == starts[-1]))
    return pages


def _draw_marks(canvas: Canvas, marks: Sequence[str], *, right: float, middle: float,
                size: float) -> float:
    """Boxed role tags (「班長」) ending at ``right``; returns where they start."""
    x = right
    canvas.setLineWidth(0.6)
    for mark in reversed(marks):
        width = stringWidth(mark, GOTHIC, size) + size * 0.5
        x -= width
        canvas.rect(x, middle - size * 0.65, width, size * 1.3, stroke=1, fill=0)
        canvas.setFont(GOTHIC, size)
        canvas.drawString(x + size * 0.25, middle - size * 0.36, mark)
        x -= size * 0.3
    return x


def _draw_household(canvas: Canvas, table: _Table, metrics: _GroupMetrics, *, top: float,
                    order: int, household: RosterLine) -> None:
    typography = metrics.typography
    body, height = typography.body, metrics.row
    inner = height - 2 * metrics.pad
    table.text(canvas, _single(str(order), table, _ORDER, inner, body), _ORDER, top, height)
    table.text(canvas, _single(household.number, table, _NUMBER, inner, body), _NUMBER, top,
               height)
    # 氏名: furigana small above the name, role tags (班長) at the right of the cell.
    x = table.xs[_NAME] + _CELL_PAD_X
    right = x + table.inner(_NAME)
    if household.marks:
        right = _draw_marks(canvas, household.marks, right=right, middle=top - height / 2,
                            size=typography.small * 0.9)
    width = right - x
    if household.furigana:
        furigana = fit_text(household.furigana, font=GOTHIC, width=width,
                            height=metrics.furigana, max_size=metrics.furigana,
                            min_size=metrics.furigana * 0.6)
        draw_fitted(canvas, furigana, font=GOTHIC, x=x, top=top - metrics.pad, width=width)
    name = fit_text(household.name, font=GOTHIC, width=width, height=body, max_size=body,
                    min_size=body * 0.6)
    # Below the furigana, or in the middle of the row when there is none.
    name_top = (top - height + metrics.pad + body if household.furigana
                else top - (height - name.height) / 2)
    draw_fitted(canvas, name, font=GOTHIC, x=x, top=name_top, width=width)
    address = fit_text(household.address, font=GOTHIC, width=table.inner(_ADDRESS),
                       height=inner, max_size=body, min_size=typography.small * 0.75,
                       max_lines=2)
    table.text(canvas, address, _ADDRESS, top, height)
    table.text(canvas, _single(household.phone, table, _PHONE, inner, body), _PHONE, top,
               height)
    table.text(canvas, _single(str(household.members), table, _MEMBERS, inner, body),
               _MEMBERS, top, height)
    table.text(canvas, _single(CHANNEL_WORDS[household.channel], table, _CHANNEL, inner,
                               body), _CHANNEL, top, height)


def _count_line(group: GroupList) -> str:
    channels = {channel: 0 for channel in CHANNEL_WORDS}
    for household in group.households:
        channels[household.channel] += 1
    people = sum(household.members for household in group.households)
    by_channel = "・".join(f"{word} {channels[channel]}"
                          for channel, word in CHANNEL_WORDS.items())
    return f"計 {len(group.households)}世帯・{people}人（{by_channel}）"


def render_group_lists(
    out: BinaryIO | Path,
    *,
    association: str,
    issued_on: date,
    groups: Sequence[GroupList],
    year_label: str = "",
    large: bool = False,
    progress: Progress | None = None,
) -> int:
    """The 班別名簿: each 班 from a new page, households in circulation order, the table
    header on every page, the 班's role holders (``leaders``, of ``year_label``) in its
    heading and a count line at its end. Returns the number of pages."""
    typography, layout = Typography(large=large), PageLayout()
    metrics = _GroupMetrics(typography)
    table = _Table(_GROUP_COLUMNS, layout, typography)
    frame_x, frame_y, frame_width, frame_height = layout.frame
    room = frame_height - metrics.heading - table.header_height - metrics.count_line
    capacity = max(1, int(room // metrics.row))
    pages = _plan_group_pages(groups, capacity)
    total = max(len(pages), 1)
    _start(progress, total)
    with pdf_target(out) as target:
        canvas = new_canvas(target, title=f"{GROUP_TITLE} {association}", author=association)
        if not pages:
            draw_furniture(canvas, association=association, issued_on=issued_on, page=1,
                           pages=1, layout=layout, typography=typography)
            _heading(canvas, left=GROUP_TITLE, right="該当する世帯はありません",
                     top=frame_y + frame_height, layout=layout, typography=typography,
                     left_size=typography.heading)
            canvas.showPage()
        for number, page in enumerate(pages, start=1):
            draw_furniture(canvas, association=association, issued_on=issued_on,
                           page=number, pages=total, layout=layout, typography=typography)
            group = page.group
            caption = f"{GROUP_TITLE}　{group.name}" + ("（続き）" if page.continued else "")
            leaders = "　".join(group.leaders)
            if leaders and year_label:
                leaders = f"{year_label}　{leaders}"
            top = frame_y + frame_height
            _heading(canvas, left=caption, right=leaders, top=top, layout=layout,
                     typography=typography, left_size=typography.heading)
            table_top = top - metrics.heading
            y = table.header(canvas, table_top)
            lines = []
            for offset, household in enumerate(page.rows):
                _draw_household(canvas, table, metrics, top=y, order=page.first + offset + 1,
                                household=household)
                y -= metrics.row
                lines.append(y)
            table.rulings(canvas, table_top, y, lines[:-1])
            if page.last:
                count = fit_text(_count_line(group), font=GOTHIC, width=frame_width,
                                 height=typography.body, max_size=typography.body,
                                 min_size=typography.small * 0.7)
                draw_fitted(canvas, count, font=GOTHIC, x=frame_x,
                            top=y - typography.body * 0.6, width=frame_width, align="right")
            canvas.showPage()
            if progress is not None:
                progress(number, total)
        canvas.save()
    return total


# ---------------------------------------------------------------- 役員連絡先一覧


@dataclass(frozen=True, slots=True)
class OfficerLine:
    """One holder of a role (or a vacant role) on the officers' contact list."""

    role: str
    group: str = ""  # the 班 of a per-班 role
    name: str = ""  # empty: nobody holds it
    phone: str = ""
    email: str = ""
    postal_code: str = ""
    address: str = ""


OFFICER_TITLE = "役員連絡先一覧"
_OFFICER_COLUMNS = (
    _Column("役職", 22, large=20), _Column("班", 16, large=14), _Column("氏名", 30),
    _Column("電話", 25, large=34), _Column("メール", 38, large=34), _Column("住所", 43, large=42),
)
_ROLE, _GROUP, _HOLDER, _TEL, _MAIL, _HOME = range(len(_OFFICER_COLUMNS))


def _stamp(canvas: Canvas, text: str, *, right: float, top: float, size: float) -> float:
    """The 取扱注意 mark, boxed, ending at ``right``; returns its left edge."""
    width = stringWidth(text, GOTHIC, size) + size
    height = size * 1.6
    left = right - width
    canvas.setLineWidth(1.2)
    canvas.rect(left, top - height, width, height, stroke=1, fill=0)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(left + size * 0.5, top - height + size * 0.42, text)
    return left


@dataclass(frozen=True, slots=True)
class _OfficerRow:
    officer: OfficerLine
    height: float
    email: FittedText
    address: FittedText


def _officer_row(officer: OfficerLine, table: _Table, typography: Typography,
                 pad: float) -> _OfficerRow:
    """An officer's row, taller than usual where the e-mail or the address needs more lines:
    a contact list must not cut an address short."""
    usual = block_height(2, typography.small)
    small = typography.small

    def fitted(index: int, texts: Sequence[str]) -> FittedText:
        tries = ((usual, typography.body, small * 0.7, 2), (block_height(6, small), small,
                                                             small * 0.7, 6))
        for height, max_size, min_size, lines in tries:
            for text in texts:  # the first way that fits whole, else the last cut short
                result = fit_text(text, font=GOTHIC, width=table.inner(index), height=height,
                                  max_size=max_size, min_size=min_size, max_lines=lines)
                if not result.truncated:
                    return result
        return result

    email = fitted(_MAIL, (officer.email,))
    address = fitted(_HOME, _postal_address(officer.postal_code, officer.address))
    height = 2 * pad + max(usual, email.height, address.height)
    return _OfficerRow(officer, height, email, address)


def _plan_officer_pages(rows: Sequence[_OfficerRow], room: float) -> list[list[_OfficerRow]]:
    pages: list[list[_OfficerRow]] = [[]]
    used = 0.0
    for row in rows:
        if pages[-1] and used + row.height > room:
            pages.append([])
            used = 0.0
        pages[-1].append(row)
        used += row.height
    return pages


def render_officer_list(
    out: BinaryIO | Path,
    *,
    association: str,
    issued_on: date,
    year_label: str,
    officers: Sequence[OfficerLine],
    large: bool = False,
    progress: Progress | None = None,
) -> int:
    """The 役員連絡先一覧 of one 年度: each role in role order with its holders (a vacant role
    as 「（空席）」), marked 取扱注意 on every page. Returns the number of pages."""
    typography, layout = Typography(large=large), PageLayout()
    table = _Table(_OFFICER_COLUMNS, layout, typography)
    frame_x, _frame_y, frame_width, frame_height = layout.frame
    pad = 2.0 * typography.scale
    heading = typography.title * 1.5 + typography.small * 2.0
    rows = [_officer_row(officer, table, typography, pad) for officer in officers]
    pages = _plan_officer_pages(rows, frame_height - heading - table.header_height)
    total = len(pages)
    _start(progress, total)
    body = typography.body
    with pdf_target(out) as target:
        canvas = new_canvas(target, title=f"{OFFICER_TITLE} {year_label} {association}",
                            author=association)
        for number, page in enumerate(pages, start=1):
            draw_furniture(canvas, association=association, issued_on=issued_on,
                           page=number, pages=total, layout=layout, typography=typography)
            top = layout.frame[1] + frame_height
            stamp_left = _stamp(canvas, HANDLE_WITH_CARE, right=frame_x + frame_width,
                                top=top, size=typography.heading)
            title_width = stamp_left - frame_x - 4 * mm
            title = fit_text(f"{OFFICER_TITLE}　{year_label}", font=GOTHIC, width=title_width,
                             height=typography.title, max_size=typography.title,
                             min_size=typography.heading)
            draw_fitted(canvas, title, font=GOTHIC, x=frame_x, top=top, width=title_width)
            note = fit_text(PRIVACY_NOTE, font=GOTHIC, width=frame_width,
                            height=typography.small, max_size=typography.small,
                            min_size=typography.small * 0.6)
            draw_fitted(canvas, note, font=GOTHIC, x=frame_x,
                        top=top - typography.title * 1.5, width=frame_width)
            table_top = top - heading
            y = table.header(canvas, table_top)
            lines = []
            previous_role = None
            for row in page:
                officer, height = row.officer, row.height
                inner = height - 2 * pad
                if officer.role != previous_role:  # a role's name once, and on each page
                    table.text(canvas, _single(officer.role, table, _ROLE, inner, body),
                               _ROLE, y, height)
                    previous_role = officer.role
                table.text(canvas, _single(officer.group, table, _GROUP, inner, body),
                           _GROUP, y, height)
                if officer.name:
                    table.text(canvas, _single(officer.name, table, _HOLDER, inner, body),
                               _HOLDER, y, height)
                else:
                    canvas.setFillGray(0.4)
                    table.text(canvas, _single(VACANT, table, _HOLDER, inner, body), _HOLDER,
                               y, height)
                    canvas.setFillGray(0)
                table.text(canvas, _single(officer.phone, table, _TEL, inner, body), _TEL, y,
                           height)
                table.text(canvas, row.email, _MAIL, y, height)
                table.text(canvas, row.address, _HOME, y, height)
                y -= height
                lines.append(y)
            table.rulings(canvas, table_top, y, lines[:-1])
            canvas.showPage()
            if progress is not None:
                progress(number, total)
        canvas.save()
    return total


def _postal_address(postal_code: str, address: str) -> tuple[str, ...]:
    """The ways to print an address, best first: 〒 on a line of its own, else run on."""
    if not postal_code:
        return (address,)
    return (f"〒{postal_code}\n{address}", f"〒{postal_code} {address}")
