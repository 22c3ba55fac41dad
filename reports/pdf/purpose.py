"""The association's purpose statement (個人情報の利用目的) as a small footer on the forms a
household fills in and hands back: reply slips and general-meeting forms.

Residents are told on the form itself why the association keeps what they write. The footer
is laid out once, as drawing items, by the document that places it; a long statement is cut
to a few lines (the settings dialog limits its length, so that is rare).
"""

from __future__ import annotations

from reports.pdf.drawing import Item, Text, printable
from reports.pdf.fonts import GOTHIC
from reports.pdf.markup import text_width, wrap_text
from reports.pdf.page import Typography

__all__ = ["PURPOSE_LABEL", "purpose_footer", "purpose_lines"]

PURPOSE_LABEL = "個人情報の利用目的："
MAX_LINES = 3
_GRAY = 0.35
_SIZE = 0.82  # of the small type size


def purpose_size(typo: Typography) -> float:
    """The footer's type size: smaller than the form's notes, still legible."""
    return typo.small * _SIZE


def purpose_lines(statement: str, *, width: float, size: float) -> list[str]:
    """The statement after its label, wrapped to ``width`` and cut to :data:`MAX_LINES`
    (the last line ending in 「…」 when cut). No lines for an empty statement."""
    text = " ".join(line.strip() for line in printable(statement, keep_line_breaks=True)
                    .splitlines() if line.strip())
    if not text:
        return []
    lines = wrap_text(PURPOSE_LABEL + text, font=GOTHIC, size=size, width=width)
    if len(lines) <= MAX_LINES:
        return lines
    last = lines[MAX_LINES - 1]
    while last and text_width(last + "…", GOTHIC, size) > width:
        last = last[:-1]
    return [*lines[:MAX_LINES - 1], last + "…"]


def purpose_footer(statement: str, *, x: float, top: float, width: float,
                   typo: Typography) -> tuple[list[Item], float]:
    """Items drawing the footer with its top at ``top`` (y up), and the height it takes;
    nothing and 0 for an empty statement."""
    size = purpose_size(typo)
    lines = purpose_lines(statement, width=width, size=size)
    if not lines:
        return [], 0.0
    leading = size * 1.35
    gap = size * 0.5
    items: list[Item] = []
    y = top - gap
    for line in lines:
        y -= leading
        items.append(Text(x, y + leading * 0.25, line, GOTHIC, size, gray=_GRAY))
    return items, top - y
