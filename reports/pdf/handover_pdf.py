"""The handover report (役員引継書): the roles old and new, the 班長 list, the new officers'
contacts, what is still open (circulars awaiting answers, 班 by 班) and the memos for the
successors.

The document is laid out first as pages of drawing items (:mod:`reports.pdf.drawing`), so the
footer can say 「2 / 3」, then drawn. Tables repeat their column titles on a new page; a
row's cells wrap, and a section heading never ends a page alone. Japanese fonts are embedded;
the file is written beside the target and renamed at the end. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm

from desktop.domain.wareki import format_wareki
from reports.pdf.drawing import Box, Frame, Item, Rule, Text, fit, frame_of, printable
from reports.pdf.fonts import GOTHIC, MINCHO
from reports.pdf.handover_source import HandoverReport
from reports.pdf.markup import wrap_text
from reports.pdf.output import pdf_target
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas

__all__ = ["TITLE", "render_handover"]

Progress = Callable[[int, int], None]
TITLE = "役員引継書"
NONE = "なし"
MAX_CELL_LINES = 8  # a longer cell is cut with 「…」: a table row never outgrows a page
_PAD = 1.6 * mm


@dataclass(frozen=True, slots=True)
class _Column:
    title: str
    share: float  # of the frame's width


class _Composer:
    """Lays the report out as pages of items, top to bottom."""

    def __init__(self, typography: Typography, layout: PageLayout) -> None:
        self.type = typography
        self.frame: Frame = frame_of(layout)
        self.pages: list[list[Item]] = [[]]
        self.y = self.frame.top
        self.line = typography.body * 1.45

    @property
    def items(self) -> list[Item]:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.frame.top

    def ensure(self, height: float) -> bool:
        """Start a new page unless ``height`` fits below; True if a page was started."""
        if self.y - height >= self.frame.bottom or self.y == self.frame.top:
            return False
        self.new_page()
        return True

    def text(self, text: str, *, size: float, font: str = GOTHIC, gap: float = 0.0,
             gray: float = 0.0) -> None:
        line, fitted = fit(printable(text), font, size, self.frame.width)
        self.ensure(size * 1.5 + gap)
        self.y -= size * 1.2 + gap
        self.items.append(Text(self.frame.left, self.y, line, font, fitted, gray=gray))
        self.y -= size * 0.3

    def heading(self, text: str, *, keep: float) -> None:
        """A section heading, kept on the page with the next ``keep`` points."""
        size = self.type.heading
        self.ensure(size * 2.6 + keep)
        self.y -= size * 1.4
        self.items.append(Text(self.frame.left, self.y, printable(text), GOTHIC, size))
        self.y -= size * 0.4
        self.items.append(Rule(self.frame.left, self.y, self.frame.right, self.y, width=0.8))
        self.y -= size * 0.6

    def paragraph(self, text: str, *, font: str = MINCHO, indent: float = 0.0) -> None:
        size = self.type.body
        width = self.frame.width - indent
        for typed in printable(text, keep_line_breaks=True).split("\n"):
            for line in wrap_text(typed, font=font, size=size, width=width):
                self.ensure(self.line)
                self.y -= self.line
                self.items.append(Text(self.frame.left + indent, self.y + self.line * 0.25,
                                       line, font, size))

    def _cell_lines(self, text: str, width: float) -> list[str]:
        lines = [line for typed in printable(text, keep_line_breaks=True).split("\n")
                 for line in wrap_text(typed, font=GOTHIC, size=self.type.body, width=width)]
        if len(lines) > MAX_CELL_LINES:
            last, _size = fit(lines[MAX_CELL_LINES - 1] + "…", GOTHIC, self.type.body, width)
            lines = [*lines[:MAX_CELL_LINES - 1], last]
        return lines

    def _row(self, columns: Sequence[_Column], cells: Sequence[str], *, header: bool) -> None:
        widths = [column.share * self.frame.width for column in columns]
        wrapped = [self._cell_lines(cell, width - 2 * _PAD)
                   for cell, width in zip(cells, widths, strict=True)]
        height = max(len(lines) for lines in wrapped) * self.line + _PAD
        top = self.y
        if header:
            self.items.append(Box(self.frame.left, top - height, self.frame.width, height,
                                  line_width=0.6, fill_gray=0.9))
        left = self.frame.left
        for lines, width in zip(wrapped, widths, strict=True):
            for index, line in enumerate(lines):
                baseline = top - _PAD / 2 - (index + 1) * self.line + self.line * 0.28
                self.items.append(Text(left + _PAD, baseline, line, GOTHIC, self.type.body))
            self.items.append(Rule(left, top, left, top - height, width=0.5))
            left += width
        self.items.append(Rule(left, top, left, top - height, width=0.5))
        self.items.append(Rule(self.frame.left, top - height, self.frame.right, top - height,
                               width=0.5))
        if not header:
            self.items.append(Rule(self.frame.left, top, self.frame.right, top, width=0.5))
        self.y -= height

    def table(self, columns: Sequence[_Column], rows: Sequence[Sequence[str]]) -> None:
        """A table whose column titles repeat on every page it runs onto."""
        titles = [column.title for column in columns]
        self._row(columns, titles, header=True)
        for cells in rows:
            widths = [column.share * self.frame.width - 2 * _PAD for column in columns]
            lines = max(len(self._cell_lines(cell, width))
                        for cell, width in zip(cells, widths, strict=True))
            if self.ensure(lines * self.line + _PAD):
                self._row(columns, titles, header=True)
            self._row(columns, cells, header=False)
        self.y -= self.type.body * 0.6


def _compose(report: HandoverReport, composer: _Composer) -> None:
    kind = composer.type
    composer.text(f"{TITLE}（{report.from_label} → {report.year_label}）", size=kind.title)
    composer.text(f"新年度：{report.year_label}　{format_wareki(report.starts_on)} 〜 "
                  f"{format_wareki(report.ends_on)}", size=kind.body, gap=kind.body * 0.4)
    if report.done_at is not None:
        done = format_wareki(report.done_at.astimezone().date())
        by = f"　引継ぎ者：{report.done_by}" if report.done_by else ""
        composer.text(f"引継ぎ日：{done}{by}", size=kind.body)
    else:
        composer.text("（引継ぎ前の下書き）", size=kind.body, gray=0.3)
    row = kind.body * 3.5

    composer.heading("1. 役員（前年度と新年度）", keep=row)
    composer.table((_Column("役職", 0.2), _Column(f"前年度（{report.from_label}）", 0.4),
                    _Column(f"新年度（{report.year_label}）", 0.4)),
                   [(line.role, line.old, line.new) for line in report.officers])

    composer.heading("2. 班長一覧", keep=row)
    if report.han_leaders:
        roles = {line.group_role for line in report.han_leaders}
        composer.table(
            (_Column("班", 0.2), _Column(f"前年度（{report.from_label}）", 0.4),
             _Column(f"新年度（{report.year_label}）", 0.4)),
            [(line.role if len(roles) == 1 else f"{line.role} {line.group_role}",
              line.old, line.new) for line in report.han_leaders])
    else:
        composer.paragraph(NONE, font=GOTHIC)

    composer.heading("3. 連絡先（新年度の役員）", keep=row)
    if report.contacts:
        composer.table(
            (_Column("役職", 0.13), _Column("氏名", 0.17), _Column("電話", 0.19),
             _Column("メール", 0.25), _Column("住所", 0.26)),
            [(line.role, line.name, line.phone, line.email,
              f"〒{line.postal_code} {line.address}" if line.postal_code else line.address)
             for line in report.contacts])
    else:
        composer.paragraph("新年度の役員がまだ決まっていません。", font=GOTHIC)

    composer.heading("4. 未完了の事項（回答待ちの回覧）", keep=row)
    if report.open_circulars:
        composer.table(
            (_Column("回覧", 0.34), _Column("締切", 0.2), _Column("回答", 0.12),
             _Column("未回答の班", 0.34)),
            [(f"{item.title}（{format_wareki(item.issued_on)}）",
              format_wareki(item.deadline) if item.deadline else "",
              f"{item.answered} / {item.recipients}",
              "、".join(f"{group.group_name or '班なし'} {group.count}世帯"
                       for group in item.by_group))
             for item in report.open_circulars])
    else:
        composer.paragraph("回答待ちの回覧はありません。", font=GOTHIC)

    composer.heading("5. 引継ぎメモ", keep=row)
    if not report.memos:
        composer.paragraph(NONE, font=GOTHIC)
    for memo in report.memos:
        composer.text(f"【{memo.role_name or '全体'}】", size=kind.body, gap=kind.body * 0.3)
        composer.paragraph(memo.text, indent=kind.body)
        signed = format_wareki(memo.written_at.astimezone().date())
        if memo.written_by:
            signed = f"{memo.written_by}　{signed}"
        composer.text(f"（{signed}）", size=kind.small, gray=0.3)


def render_handover(out: BinaryIO | Path, *, report: HandoverReport, large: bool = False,
                    progress: Progress | None = None) -> int:
    """Write the 引継書 to ``out``; returns the page count. ``progress(done, total)`` is
    called per page and may raise to cancel: nothing is written then."""
    layout = PageLayout()
    typography = Typography(large=large)
    composer = _Composer(typography, layout)
    _compose(report, composer)
    pages = composer.pages
    total = len(pages)
    if progress is not None:
        progress(0, total)
    with pdf_target(out) as target:
        canvas = new_canvas(target, title=f"{TITLE} {report.year_label}",
                            author=report.association)
        for number, items in enumerate(pages, start=1):
            for item in items:
                item.draw(canvas)
            draw_furniture(canvas, association=report.association, issued_on=report.printed_on,
                           page=number, pages=total, layout=layout, typography=typography)
            canvas.showPage()
            if progress is not None:
                progress(number, total)
        canvas.save()
    return total
