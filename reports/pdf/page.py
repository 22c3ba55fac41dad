"""The page every Kairan document shares: A4 portrait, margins, type sizes, header and footer.

Each document draws its own content inside ``PageLayout.frame``; ``draw_furniture`` adds the
association name and the date in 和暦 at the top and the page number at the bottom. The
large-print option scales every type size (and so the line spacing) by one factor, so a
document that honours ``Typography`` is large-print for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.wareki import format_wareki
from reports.pdf.fonts import GOTHIC, register_fonts

__all__ = ["LARGE_PRINT_SCALE", "PageLayout", "Typography", "draw_furniture", "new_canvas"]

LARGE_PRINT_SCALE = 1.4  # 10.5 pt body → ~15 pt: readable without glasses for most


@dataclass(frozen=True, slots=True)
class Typography:
    """Type sizes in points; ``large`` scales them all."""

    large: bool = False

    @property
    def scale(self) -> float:
        return LARGE_PRINT_SCALE if self.large else 1.0

    @property
    def body(self) -> float:
        return 10.5 * self.scale

    @property
    def small(self) -> float:
        return 8.5 * self.scale

    @property
    def heading(self) -> float:
        return 13.0 * self.scale

    @property
    def title(self) -> float:
        return 18.0 * self.scale

    @property
    def leading(self) -> float:
        """Line spacing of body text."""
        return self.body * 1.6


@dataclass(frozen=True, slots=True)
class PageLayout:
    """A4 portrait with margins that every office printer can reach."""

    width: float = A4[0]
    height: float = A4[1]
    margin_x: float = 18 * mm
    margin_top: float = 20 * mm
    margin_bottom: float = 18 * mm

    @property
    def frame(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) of the area a document may draw in, in points."""
        return (
            self.margin_x,
            self.margin_bottom,
            self.width - 2 * self.margin_x,
            self.height - self.margin_top - self.margin_bottom,
        )


def new_canvas(target: str | BinaryIO, *, title: str, author: str) -> Canvas:
    """A canvas for an A4 document, fonts registered, with PDF metadata set.

    ``target`` is a path or a binary file object. Page compression stays on: personal copies
    of 2,000 households stay small enough to e-mail to the print shop.
    """
    register_fonts()
    canvas = Canvas(
        target,
        pagesize=A4,
        pageCompression=1,
        initialFontName=GOTHIC,  # type: ignore[arg-type]  # stub says float; not Helvetica
    )
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("Kairan")
    return canvas


def draw_furniture(
    canvas: Canvas,
    *,
    association: str,
    issued_on: date,
    page: int,
    pages: int | None,
    layout: PageLayout,
    typography: Typography,
) -> None:
    """Association name and 和暦 date above the frame; 「page / pages」 below it."""
    size = typography.small
    top = layout.height - layout.margin_top + 6 + size * 0.3
    canvas.setFont(GOTHIC, size)
    canvas.setFillGray(0.25)
    canvas.drawString(layout.margin_x, top, association)
    canvas.drawRightString(layout.width - layout.margin_x, top, format_wareki(issued_on))
    number = f"{page} / {pages}" if pages else str(page)
    canvas.drawCentredString(layout.width / 2, layout.margin_bottom - 6 - size, number)
    canvas.setFillGray(0)
