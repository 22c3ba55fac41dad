"""Small drawing pieces the documents lay out once and draw many times, and text that fits.

A document lays its shared parts out as lists of items (text, rules, boxes, QR codes), draws
them into a Form XObject once and then, per household, only what is that household's own.
Text goes through :func:`printable` first, so a character the fonts lack prints as 〓 rather
than as nothing; :func:`fit` sets a line smaller, then cuts it, so it never crosses a rule.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from reports.pdf.fonts import GOTHIC, MINCHO, missing_characters
from reports.pdf.markup import text_width
from reports.pdf.page import PageLayout
from reports.pdf.qr import draw_qr

__all__ = [
    "MISSING_MARK",
    "Box",
    "Code",
    "Frame",
    "Item",
    "Moved",
    "Picture",
    "Rule",
    "Slot",
    "Text",
    "binary_streams",
    "cut_line",
    "fit",
    "frame_of",
    "printable",
]

CUT_MARK = "✂"
MISSING_MARK = "〓"  # ゲタ: printed where the font has no glyph, as typesetters do
SMALLEST = 0.7  # a long line is set smaller down to this share of its size, then cut
# Signs the fonts lack, printed as the ones they have that mean the same.
_SAME_MEANING = str.maketrans({"≤": "≦", "≥": "≧"})


def printable(text: str, *, keep_line_breaks: bool = False) -> str:
    """``text`` without control characters, and with characters the fonts lack as 〓."""
    if text.isascii() and text.isprintable():
        return text
    kept = "\n \u3000" if keep_line_breaks else " \u3000"
    text = "".join(char for char in text.translate(_SAME_MEANING)
                   if char in kept or unicodedata.category(char) not in ("Cc", "Cf"))
    missing = set(missing_characters(text, MINCHO)) | set(missing_characters(text, GOTHIC))
    if not missing:
        return text
    return text.translate({ord(char): MISSING_MARK for char in missing})


def fit(text: str, font: str, size: float, width: float) -> tuple[str, float]:
    """``text`` and a size at which it fits ``width``: set smaller, then cut with 「…」."""
    natural = text_width(text, font, size)
    if natural <= width:
        return text, size
    size = size * max(SMALLEST, width / natural)
    if text_width(text, font, size) <= width:
        return text, size
    while text and text_width(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…", size


@contextmanager
def binary_streams() -> Iterator[None]:
    """Write compressed streams as binary, not wrapped in ASCII85 as reportlab does by
    default: its pure-Python ASCII85 encoder took a third of the time of 2,000 copies, and
    the file is a quarter smaller. (A process-wide reportlab setting, restored after; a
    document saved meanwhile in another thread is merely written the old way.)"""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


class Item(Protocol):
    """Anything laid out once and drawn later."""

    def draw(self, canvas: Canvas) -> None: ...


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text at a baseline."""

    x: float
    y: float
    text: str
    font: str
    size: float
    align: str = "left"  # or "right", "centre"
    gray: float = 0.0

    def draw(self, canvas: Canvas) -> None:
        canvas.setFont(self.font, self.size)
        if self.gray:
            canvas.setFillGray(self.gray)
        if self.align == "right":
            canvas.drawRightString(self.x, self.y, self.text)
        elif self.align == "centre":
            canvas.drawCentredString(self.x, self.y, self.text)
        else:
            canvas.drawString(self.x, self.y, self.text)
        if self.gray:
            canvas.setFillGray(0)


@dataclass(frozen=True, slots=True)
class Rule:
    """A straight line, solid or dashed (切り取り線)."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.6
    dash: tuple[float, ...] = ()
    gray: float = 0.0

    def draw(self, canvas: Canvas) -> None:
        canvas.setLineWidth(self.width)
        canvas.setStrokeGray(self.gray)
        if self.dash:
            canvas.setDash(list(self.dash))
        canvas.line(self.x1, self.y1, self.x2, self.y2)
        if self.dash:
            canvas.setDash([])
        canvas.setStrokeGray(0)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle (a 確認印 or tick box), optionally shaded."""

    x: float
    y: float
    width: float
    height: float
    line_width: float = 0.7
    fill_gray: float | None = None

    def draw(self, canvas: Canvas) -> None:
        canvas.setLineWidth(self.line_width)
        if self.fill_gray is not None:
            canvas.setFillGray(self.fill_gray)
        canvas.rect(self.x, self.y, self.width, self.height, stroke=1,
                    fill=int(self.fill_gray is not None))
        canvas.setFillGray(0)


@dataclass(frozen=True, slots=True)
class Picture:
    """An image scaled into a rectangle."""

    image: ImageReader
    x: float
    y: float
    width: float
    height: float

    def draw(self, canvas: Canvas) -> None:
        canvas.drawImage(self.image, self.x, self.y, self.width, self.height, mask="auto")


@dataclass(frozen=True, slots=True)
class Code:
    """A QR code of ``text``, ``size`` wide, its bottom-left corner at (x, y)."""

    text: str
    x: float
    y: float
    size: float

    def draw(self, canvas: Canvas) -> None:
        draw_qr(canvas, self.text, x=self.x, y=self.y, size=self.size)


@dataclass(frozen=True, slots=True)
class Moved:
    """Items drawn in their own coordinates: origin at (x, y), scaled by ``scale``."""

    items: tuple[Item, ...]
    x: float
    y: float
    scale: float = 1.0

    def draw(self, canvas: Canvas) -> None:
        canvas.saveState()
        canvas.translate(self.x, self.y)
        if self.scale != 1.0:
            canvas.scale(self.scale, self.scale)
        for item in self.items:
            item.draw(canvas)
        canvas.restoreState()


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a household's own text goes on a shared page: baseline at (x, y), ``width`` to
    fit in."""

    x: float
    y: float
    size: float
    width: float


@dataclass(frozen=True, slots=True)
class Frame:
    """The area a page draws in."""

    left: float
    bottom: float
    width: float
    height: float

    @property
    def top(self) -> float:
        return self.bottom + self.height

    @property
    def right(self) -> float:
        return self.left + self.width


def frame_of(layout: PageLayout) -> Frame:
    """The frame of a page layout."""
    return Frame(*layout.frame)


def cut_line(width: float, size: float, band: float) -> list[Item]:
    """A dashed 切り取り線 ``width`` wide, labelled in the middle, centred in a band
    ``band`` high below y = 0 (the label in type ``size``)."""
    label = "切り取り線"
    if not missing_characters(CUT_MARK, GOTHIC):  # IPAex has no scissors: text only
        label = f"{CUT_MARK} {label}"
    half = text_width(label, GOTHIC, size) / 2 + size
    middle = width / 2
    y = -band / 2
    dash = (4.0, 3.0)
    return [
        Rule(0, y, middle - half, y, 0.6, dash, 0.2),
        Rule(middle + half, y, width, y, 0.6, dash, 0.2),
        Text(middle, y - size * 0.35, label, GOTHIC, size, "centre", 0.25),
    ]
