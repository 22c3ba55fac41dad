"""Address labels (宛名ラベル) on A4 label sheets: 12 per sheet (2×6) or 24 per sheet (3×8).

Each label carries 〒123-4567, the address (wrapped, and shrunk where it is long), the name
with 「様」 in larger type, and optionally the 世帯番号 small in the top right corner. Every
piece of text is fitted inside the label less its padding, so nothing is ever printed across
a label's edge onto the next one. Large print uses the bigger labels of the 12-per-sheet
geometry with bigger type. The association name, the date and 「page / pages」 go in the
strips above and below the labels, which are not part of any label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.errors import ValidationError
from desktop.i18n import _
from reports.pdf.fonts import GOTHIC
from reports.pdf.output import pdf_target
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas
from reports.pdf.roster_pdf import (
    ASCENT,
    DESCENT,
    Progress,
    draw_fitted,
    fit_text,
)

__all__ = ["LABELS_12", "LABELS_24", "Addressee", "LabelSheet", "label_pages", "render_labels"]

HONORIFIC = "様"
LABEL_TITLE = "宛名ラベル"


@dataclass(frozen=True, slots=True)
class Addressee:
    """What one label shows."""

    name: str
    postal_code: str = ""  # "123-4567"
    address: str = ""
    number: str = ""  # 世帯番号


@dataclass(frozen=True, slots=True)
class LabelSheet:
    """The geometry of a label sheet, in points, measured from the paper's top left corner.

    Labels are numbered from 0 at the top left, across and then down.
    """

    name: str
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float  # paper edge to the first column of labels
    top: float  # paper edge to the first row of labels
    column_pitch: float  # left edge to left edge of neighbouring labels
    row_pitch: float  # top edge to top edge
    padding_x: float  # kept free of text inside each label
    padding_y: float

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def bottom(self) -> float:
        """The strip below the last row of labels."""
        return A4[1] - self.top - (self.rows - 1) * self.row_pitch - self.label_height

    def cell(self, position: int) -> tuple[float, float, float, float]:
        """(x, y, width, height) of label ``position`` in PDF coordinates (origin bottom
        left), the label's whole area."""
        row, column = divmod(position, self.columns)
        x = self.left + column * self.column_pitch
        top = A4[1] - self.top - row * self.row_pitch
        return x, top - self.label_height, self.label_width, self.label_height


# The usual geometry of A4 label sheets sold in Japan (labels touching, no gaps between them):
# 12面: 86.4 × 42.3 mm labels, 18.6 mm side margins and 21.6 mm top and bottom strips;
# 24面: 70 × 33.9 mm labels, the full width of the paper (no side margins), 12.9 mm strips.
# The 24面 labels reach the paper's edge, where most printers cannot print, so their text
# keeps 6 mm from the left and right edges of each label.
LABELS_12 = LabelSheet("12面", columns=2, rows=6, label_width=86.4 * mm,
                       label_height=42.3 * mm, left=18.6 * mm, top=21.6 * mm,
                       column_pitch=86.4 * mm, row_pitch=42.3 * mm, padding_x=5 * mm,
                       padding_y=4 * mm)
LABELS_24 = LabelSheet("24面", columns=3, rows=8, label_width=70 * mm, label_height=33.9 * mm,
                       left=0.0, top=12.9 * mm, column_pitch=70 * mm, row_pitch=33.9 * mm,
                       padding_x=6 * mm, padding_y=3 * mm)


def label_pages(count: int, *, sheet: LabelSheet, first_position: int = 1) -> int:
    """How many sheets ``count`` labels take, starting at label ``first_position`` (1-based)."""
    return max(1, -(-(first_position - 1 + count) // sheet.per_sheet))


@dataclass(frozen=True, slots=True)
class _LabelType:
    """Type sizes on a label; they follow ``Typography``, so large print is bigger."""

    postal: float
    number: float
    address_max: float
    address_min: float
    name_max: float
    name_min: float
    gap: float

    @classmethod
    def of(cls, typography: Typography) -> _LabelType:
        return cls(postal=typography.body, number=typography.small * 0.85,
                   address_max=typography.body * 1.05, address_min=typography.small * 0.7,
                   name_max=typography.heading * 1.15, name_min=typography.body * 0.75,
                   gap=typography.small * 0.35)


def _draw_label(canvas: Canvas, sheet: LabelSheet, position: int, addressee: Addressee,
                kind: _LabelType, *, show_number: bool) -> None:
    x, y, width, height = sheet.cell(position)
    left, bottom = x + sheet.padding_x, y + sheet.padding_y
    width, height = width - 2 * sheet.padding_x, height - 2 * sheet.padding_y
    top = bottom + height
    # Top line: 〒 at the left, the household number small at the right.
    number_width = 0.0
    if show_number and addressee.number:
        number = fit_text(addressee.number, font=GOTHIC, width=width * 0.35,
                          height=kind.number, max_size=kind.number, min_size=kind.number * 0.6)
        canvas.setFillGray(0.3)
        draw_fitted(canvas, number, font=GOTHIC, x=left, top=top, width=width, align="right")
        canvas.setFillGray(0)
        number_width = stringWidth(number.lines[0], GOTHIC, number.size) + kind.gap * 2
    address_top = top
    if addressee.postal_code:
        postal = fit_text(f"〒{addressee.postal_code}", font=GOTHIC,
                          width=width - number_width, height=kind.postal,
                          max_size=kind.postal, min_size=kind.postal * 0.6)
        draw_fitted(canvas, postal, font=GOTHIC, x=left, top=top, width=width - number_width)
        address_top = top - postal.height - kind.gap * 2
    # The name at the bottom, larger, with 様; the address fills what is left between.
    name_height = 0.0
    if addressee.name:
        name = fit_text(f"{addressee.name}　{HONORIFIC}", font=GOTHIC, width=width,
                        height=kind.name_max, max_size=kind.name_max,
                        min_size=kind.name_min)
        draw_fitted(canvas, name, font=GOTHIC, x=left, top=bottom + name.height, width=width,
                    align="centre")
        name_height = name.height + kind.gap * 2
    room = address_top - bottom - name_height
    if addressee.address and room >= kind.address_min * (ASCENT + DESCENT):
        if not addressee.postal_code:  # the number alone must not collide with the address
            room -= kind.number
            address_top -= kind.number
        address = fit_text(addressee.address, font=GOTHIC, width=width, height=room,
                           max_size=kind.address_max, min_size=kind.address_min,
                           max_lines=4)
        draw_fitted(canvas, address, font=GOTHIC, x=left, top=address_top, width=width)


def _strip_layout(sheet: LabelSheet, typography: Typography) -> PageLayout | None:
    """A page layout whose header and footer fall in the strips above and below the labels,
    or None when a strip is too narrow to print in (5 mm from the edge, clear of labels)."""
    needed = 6 + typography.small * 1.3 + 5 * mm
    if min(sheet.top, sheet.bottom) < needed:
        return None
    return PageLayout(margin_top=sheet.top, margin_bottom=sheet.bottom)


def render_labels(
    out: BinaryIO | Path,
    *,
    association: str,
    issued_on: date,
    addressees: Sequence[Addressee],
    sheet: LabelSheet = LABELS_12,
    show_number: bool = True,
    first_position: int = 1,
    large: bool = False,
    progress: Progress | None = None,
) -> int:
    """Address labels for ``addressees`` in order, from label ``first_position`` (1-based, so
    a sheet partly used before can be used up). ``large`` prints bigger type on the 12-per-
    sheet geometry whatever ``sheet`` says. Returns the number of sheets."""
    typography = Typography(large=large)
    if large:
        sheet = LABELS_12
    if not 1 <= first_position <= sheet.per_sheet:
        raise ValidationError(
            _("The first label must be a number from 1 to {count} (the labels on one sheet).")
            .format(count=sheet.per_sheet), field="first_position")
    kind = _LabelType.of(typography)
    strips = _strip_layout(sheet, typography)
    total = label_pages(len(addressees), sheet=sheet, first_position=first_position)
    if progress is not None:
        progress(0, total)
    positions = range(first_position - 1, first_position - 1 + len(addressees))
    with pdf_target(out) as target:
        canvas = new_canvas(target, title=f"{LABEL_TITLE} {association}", author=association)
        page = 0
        for position, addressee in zip(positions, addressees, strict=True):
            on_sheet = position % sheet.per_sheet
            if on_sheet == 0 and position > 0:
                page = _finish_sheet(canvas, page, total, progress)
            if on_sheet == 0 or position == first_position - 1:
                _start_sheet(canvas, strips, association=association, issued_on=issued_on,
                             page=page + 1, pages=total, typography=typography)
            _draw_label(canvas, sheet, on_sheet, addressee, kind, show_number=show_number)
        if not addressees:
            _start_sheet(canvas, strips, association=association, issued_on=issued_on, page=1,
                         pages=total, typography=typography)
        _finish_sheet(canvas, page, total, progress)
        canvas.save()
    return total


def _start_sheet(canvas: Canvas, strips: PageLayout | None, *, association: str,
                 issued_on: date, page: int, pages: int, typography: Typography) -> None:
    if strips is not None:
        draw_furniture(canvas, association=association, issued_on=issued_on, page=page,
                       pages=pages, layout=strips, typography=typography)


def _finish_sheet(canvas: Canvas, page: int, total: int, progress: Progress | None) -> int:
    canvas.showPage()
    if progress is not None:
        progress(page + 1, total)
    return page + 1
