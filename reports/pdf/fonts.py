"""The Japanese fonts every PDF embeds, and a check for characters they cannot show.

The IPAex fonts ship in ``resources/fonts``; reportlab embeds the subset of glyphs a document
uses. A PDF that leaned on the viewer's CID fonts would show blank boxes on a PC without
Japanese fonts, so nothing here uses reportlab's built-in CID fonts.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["GOTHIC", "MINCHO", "missing_characters", "register_fonts"]

GOTHIC = "IPAexGothic"  # headings, tables, labels
MINCHO = "IPAexMincho"  # body text of circulars

_FILES = {GOTHIC: "ipaexg.ttf", MINCHO: "ipaexm.ttf"}


@cache
def register_fonts() -> tuple[str, str]:
    """Register both fonts with reportlab once per process; return (gothic, mincho)."""
    for name, file_name in _FILES.items():
        font_file = resources.files("resources") / "fonts" / file_name
        with resources.as_file(font_file) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    return GOTHIC, MINCHO


@cache
def _covered(font_name: str) -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(font_name)
    assert isinstance(font, TTFont)
    return frozenset(font.face.charToGlyph)


def missing_characters(text: str, font_name: str = MINCHO) -> list[str]:
    """The distinct characters of ``text`` the font has no glyph for, in order of appearance.

    Line breaks, tabs and other control or format characters are not drawn, so they never
    count as missing.
    """
    covered = _covered(font_name)
    seen: dict[str, None] = {}
    for char in text:
        if ord(char) in covered or char in seen:
            continue
        if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}:
            continue
        seen[char] = None
    return list(seen)
