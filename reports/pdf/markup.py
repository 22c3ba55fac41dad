"""The body of a circular: its light markup parsed into blocks, and laid out into lines.

Officers type the body in a plain text box, so the markup is what they would type anyway:
``# `` a heading, ``## `` a subheading, ``- `` or ``・`` a bullet, ``1. `` (or ``1)``, ``１．``)
a numbered item, a blank line between paragraphs. A single line break is kept where it was
typed: Japanese notices are often set line by line (日時：… / 場所：…).

Lines too long for the frame are broken the Japanese way: between any two kana or kanji, never
inside a Latin word or a number, and with 禁則処理 — closing brackets and 。、 never start a line
and opening brackets never end one (the character before is pushed to the next line with them,
追い出し, since nothing may hang outside the frame). Layout happens once per document; the
result is plain positioned lines that a renderer draws as often as it likes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.pdf.fonts import GOTHIC, MINCHO
from reports.pdf.page import Typography

__all__ = [
    "Block",
    "BlockKind",
    "Line",
    "layout_blocks",
    "layout_body",
    "parse_markup",
    "text_width",
    "wrap_text",
]


class BlockKind(StrEnum):
    """What a block of the body is."""

    HEADING = "heading"
    SUBHEADING = "subheading"
    BULLET = "bullet"
    NUMBERED = "numbered"
    PARAGRAPH = "paragraph"


@dataclass(frozen=True, slots=True)
class Block:
    """One heading, list item or paragraph, with the line breaks that were typed in it."""

    kind: BlockKind
    lines: tuple[str, ...]
    label: str = ""  # 「・」 or 「1.」 for list items
    gap_before: bool = False  # after a blank line, and every heading but a first block


@dataclass(frozen=True, slots=True)
class Line:
    """One laid-out line: draw ``text`` at ``x`` (from the frame's left edge) ``advance``
    points below the previous line's slot (the top of the area for the first line)."""

    text: str
    font: str
    size: float
    x: float
    advance: float  # the height of this line's slot, including any gap above it
    height: float  # the slot without the gap; glyphs are centred in it
    label: str = ""  # drawn at ``label_x`` on the first line of a list item
    label_x: float = 0.0
    underline: bool = False  # headings get a rule under them
    keep_with_next: bool = False  # a heading never ends a page


# ------------------------------------------------------------------ parsing

_HEADINGS = (BlockKind.HEADING, BlockKind.SUBHEADING)
_HEADING = re.compile(r"^#\s+(.*)$")
_SUBHEADING = re.compile(r"^#{2,}\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*•]\s+|・\s*)(.*)$")
_NUMBERED = re.compile(r"^\s*([0-9０-９]{1,3})\s*[.)．）]\s*(.*)$")


def _classify(line: str) -> tuple[BlockKind, str, str]:
    """(kind, text, label) of one typed line; continuation lines are PARAGRAPH."""
    if match := _SUBHEADING.match(line):
        return BlockKind.SUBHEADING, match.group(1).strip(), ""
    if match := _HEADING.match(line):
        return BlockKind.HEADING, match.group(1).strip(), ""
    if match := _NUMBERED.match(line):
        number = unicodedata.normalize("NFKC", match.group(1))
        return BlockKind.NUMBERED, match.group(2).rstrip(), f"{number}."
    if match := _BULLET.match(line):
        return BlockKind.BULLET, match.group(1).rstrip(), "・"
    return BlockKind.PARAGRAPH, line.rstrip(), ""


def parse_markup(body: str) -> list[Block]:
    """The blocks of ``body`` in order.

    A line that is not a heading or an item continues the block above it (a typed line
    break); a blank line ends the block. Headings are always blocks of their own.
    """
    blocks: list[Block] = []
    kind: BlockKind | None = None
    lines: list[str] = []
    label = ""
    gap = False

    def close() -> None:
        nonlocal kind, lines, label, gap
        if kind is not None:
            blocks.append(Block(kind, tuple(lines), label, gap_before=gap and bool(blocks)))
            gap = False
        kind, lines, label = None, [], ""

    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw.strip():
            close()
            gap = True
            continue
        line_kind, text, line_label = _classify(raw.expandtabs(4))
        if line_kind is BlockKind.PARAGRAPH and kind is not None and kind not in _HEADINGS:
            # continues the paragraph or list item above (an item's lines align with its text)
            lines.append(text if kind is BlockKind.PARAGRAPH else text.lstrip())
            continue
        close()
        gap = gap or line_kind in _HEADINGS
        kind, lines, label = line_kind, [text], line_label
    close()
    return blocks


# ------------------------------------------------------------------ line breaking

# 行頭禁則: never at the start of a line.
_NO_START = frozenset(
    "、。，．,.・：；:;？！?!)]}）］｝〕〉》」』】〙〗〟’”ゝゞ々ー゛゜ヽヾ"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ%％‰℃°′″"
)
# 行末禁則: never at the end of a line.
_NO_END = frozenset("([{（［｛〔〈《「『【〘〖〝‘“￥＄$#＃")
# Never split between two of the same: ……, ――.
_INSEPARABLE = frozenset("…‥―—")
_SPACES = frozenset(" \t")
_EPSILON = 1e-6


@cache
def _word_char(char: str) -> bool:
    """Latin letters, digits and the punctuation inside words, URLs and numbers: no break
    between two of them. Full-width letters and digits count too (「１２時」 stays whole)."""
    if char in _SPACES:
        return False
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return unicodedata.category(char) in ("Nd", "Lu", "Ll")
    return unicodedata.category(char)[0] in ("L", "N", "P", "S")


@cache
def _widths(font: str) -> dict[str, float]:
    """A cache of glyph advances at 1 pt for one font (filled as characters are met)."""
    return {}


def text_width(text: str, font: str, size: float) -> float:
    """The advance of ``text`` in ``font`` at ``size`` points (cached per character)."""
    widths = _widths(font)
    total = 0.0
    for char in text:
        width = widths.get(char)
        if width is None:
            width = widths[char] = stringWidth(char, font, 1.0)
        total += width
    return total * size


def _units(text: str) -> list[str]:
    """``text`` cut into the pieces a line may break between; spaces are pieces of their own."""
    units: list[str] = []
    previous = ""
    for char in text:
        if char in _SPACES:
            units.append(" ")
        elif units and units[-1] != " " and (
            char in _NO_START
            or previous in _NO_END
            or (char in _INSEPARABLE and previous == char)
            or (_word_char(char) and _word_char(previous))
        ):
            units[-1] += char
        else:
            units.append(char)
        previous = char
    return units


def _split_long(unit: str, font: str, size: float, width: float) -> list[str]:
    """A piece wider than the line (a long URL) broken wherever it must be."""
    pieces: list[str] = []
    current = ""
    for char in unit:
        if current and text_width(current + char, font, size) > width + _EPSILON:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, *, font: str, size: float, width: float) -> list[str]:
    """``text`` (one typed line) broken into lines no wider than ``width`` points.

    Spaces where a line breaks are dropped; an empty text is one empty line.
    """
    if text_width(text, font, size) <= width + _EPSILON:
        return [text]
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for unit in _units(text):
        unit_width = text_width(unit, font, size)
        if unit == " ":
            if current:
                current.append(unit)
                used += unit_width
            continue
        if used + unit_width <= width + _EPSILON:
            current.append(unit)
            used += unit_width
            continue
        if current:
            lines.append("".join(current).rstrip(" "))
        current, used = [], 0.0
        piece = unit
        if unit_width > width + _EPSILON:
            *whole, piece = _split_long(unit, font, size, width)
            lines.extend(whole)
            unit_width = text_width(piece, font, size)
        current, used = [piece], unit_width
    if current:
        lines.append("".join(current).rstrip(" "))
    return lines or [""]


# ------------------------------------------------------------------ layout


def layout_blocks(blocks: list[Block], *, width: float, typography: Typography) -> list[Line]:
    """The lines of ``blocks`` for a column ``width`` points wide."""
    body = typography.body
    leading = typography.leading
    gap = leading * 0.5
    lines: list[Line] = []
    for block in blocks:
        if block.kind is BlockKind.HEADING:
            font, size, height = GOTHIC, typography.heading, typography.heading * 1.7
        elif block.kind is BlockKind.SUBHEADING:
            font, size, height = GOTHIC, body * 1.1, body * 1.1 * 1.6
        else:
            font, size, height = MINCHO, body, leading
        indent = 0.0
        label_x = 0.0
        if block.kind is BlockKind.BULLET:
            label_x, indent = body * 0.5, body * 1.6
        elif block.kind is BlockKind.NUMBERED:
            label_x = body * 0.3
            indent = max(body * 2.2, label_x + text_width(block.label, font, size) + body * 0.5)
        heading = block.kind in _HEADINGS
        space = gap if block.gap_before else 0.0
        if heading and block.gap_before:
            space = leading * 0.8
        first = True
        for typed in block.lines:
            for text in wrap_text(typed, font=font, size=size, width=width - indent):
                lines.append(Line(
                    text=text, font=font, size=size, x=indent, advance=height + space,
                    height=height, label=block.label if first else "", label_x=label_x,
                    underline=block.kind is BlockKind.HEADING, keep_with_next=heading,
                ))
                first = False
                space = 0.0
    return lines


def layout_body(body: str, *, width: float, typography: Typography) -> list[Line]:
    """Parse and lay out a circular's body for a column ``width`` points wide."""
    return layout_blocks(parse_markup(body), width=width, typography=typography)
