"""The recovery sheet (復旧シート): the 12 recovery words on one A4 page, for the safe.

The words derive the recovery key (:func:`sync.e2e.keys.recovery_identity`), for which every
generation of the association key is also wrapped: with the sheet, a new PC can open the
association's shared data after every office PC is lost. So the sheet says plainly that it
belongs in the safe and that whoever holds it can read the roster. The words are printed
large, numbered, in two columns of six, and once more as a QR code (the words joined by
spaces); the relay address, the date (和暦 and 西暦) and how to use the sheet are beside them.
The words are stored nowhere else: this page is the only copy. The file is written beside the
target and renamed at the end. No Qt here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.wareki import format_dual
from desktop.i18n import _
from reports.pdf.drawing import fit, printable
from reports.pdf.fonts import GOTHIC
from reports.pdf.markup import wrap_text
from reports.pdf.output import pdf_target
from reports.pdf.page import PageLayout, Typography, new_canvas
from reports.pdf.qr import draw_qr

__all__ = ["WORD_COUNT", "recovery_sheet_pdf", "sheet_qr_text"]

WORD_COUNT = 12
_ROWS = WORD_COUNT // 2
_WORD_SIZE = 26.0  # points: read and typed letter by letter, by eyes that need it big
_NUMBER_SIZE = 16.0
_ROW_HEIGHT = 13 * mm
_QR_SIZE = 46 * mm  # with its quiet zone
_PAD = 5 * mm


def sheet_qr_text(words: Sequence[str]) -> str:
    """What the sheet's QR code holds: the words in order, joined by single spaces."""
    return " ".join(words)


def _paragraph(canvas: Canvas, text: str, *, x: float, y: float, width: float,
               size: float, leading: float = 1.45) -> float:
    """Draw ``text`` wrapped to ``width`` from baseline ``y`` down; the next free baseline."""
    canvas.setFont(GOTHIC, size)
    for line in wrap_text(printable(text), font=GOTHIC, size=size, width=width):
        canvas.drawString(x, y, line)
        y -= size * leading
    return y


def _draw_heading(canvas: Canvas, *, association_name: str, made_on: date, x: float,
                  y: float, width: float, kind: Typography) -> float:
    """Title, association and date from the top ``y``; the y below them."""
    y -= kind.title
    title, size = fit(printable(_("Recovery sheet (keep in the safe)")), GOTHIC,
                      kind.title * 1.25, width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(x, y, title)
    y -= kind.heading * 2.0
    name, size = fit(printable(association_name), GOTHIC, kind.heading, width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(x, y, name)
    y -= kind.heading * 1.6
    made = _("Made on {date}").format(date=format_dual(made_on))
    made, size = fit(printable(made), GOTHIC, kind.body, width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(x, y, made)
    return y - kind.body * 1.4


def _draw_warning(canvas: Canvas, *, x: float, y: float, width: float,
                  kind: Typography) -> float:
    """The warning in a heavy box from the top ``y``; the y below it."""
    warning = [
        _("Anyone holding this sheet can read the association's roster and everything the "
          "office PCs share. Keep it in the safe."),
        _("Do not photograph or copy it, and never send the words by e-mail or message."),
    ]
    inner = width - 2 * _PAD
    lines = [line for text in warning
             for line in wrap_text(printable(text), font=GOTHIC, size=kind.body, width=inner)]
    box_height = len(lines) * kind.body * 1.45 + 2 * _PAD - kind.body * 0.45
    canvas.setLineWidth(2.4)
    canvas.rect(x, y - box_height, width, box_height)
    line_y = y - _PAD - kind.body * 0.8
    canvas.setFont(GOTHIC, kind.body)
    for line in lines:
        canvas.drawString(x + _PAD, line_y, line)
        line_y -= kind.body * 1.45
    return y - box_height


def _draw_words(canvas: Canvas, words: Sequence[str], *, x: float, y: float, width: float,
                kind: Typography) -> float:
    """The numbered words, 1–6 on the left and 7–12 on the right, from the top ``y``; the y
    below them."""
    canvas.setFont(GOTHIC, kind.heading)
    canvas.drawString(x, y, printable(_("The 12 recovery words")))
    y -= kind.heading * 0.8
    words_height = _ROWS * _ROW_HEIGHT + 2 * _PAD
    canvas.setLineWidth(1.2)
    canvas.rect(x, y - words_height, width, words_height)
    canvas.setLineWidth(0.5)
    canvas.line(x + width / 2, y - words_height + _PAD, x + width / 2, y - _PAD)
    column_width = width / 2
    for index, word in enumerate(words):
        column, row = divmod(index, _ROWS)
        left = x + column * column_width + _PAD
        baseline = y - _PAD - row * _ROW_HEIGHT - _ROW_HEIGHT * 0.72
        canvas.setFillGray(0.35)
        canvas.setFont(GOTHIC, _NUMBER_SIZE)
        canvas.drawRightString(left + 12 * mm, baseline, f"{index + 1}.")
        canvas.setFillGray(0)
        text, size = fit(word, GOTHIC, _WORD_SIZE, column_width - 2 * _PAD - 16 * mm)
        canvas.setFont(GOTHIC, size)
        canvas.drawString(left + 16 * mm, baseline, text)
    return y - words_height


def _draw_usage(canvas: Canvas, words: Sequence[str], *, relay_url: str, x: float, y: float,
                width: float, kind: Typography) -> None:
    """The QR code (right) beside how to use the sheet and the relay address (left)."""
    qr_x = x + width - _QR_SIZE
    qr_y = y - _QR_SIZE + kind.heading
    draw_qr(canvas, sheet_qr_text(words), x=qr_x, y=qr_y, size=_QR_SIZE)
    caption_y = qr_y - kind.small
    canvas.setFont(GOTHIC, kind.small)
    for line in wrap_text(printable(_("The same 12 words as a QR code")), font=GOTHIC,
                          size=kind.small, width=_QR_SIZE):
        canvas.drawCentredString(qr_x + _QR_SIZE / 2, caption_y, line)
        caption_y -= kind.small * 1.3
    canvas.setFont(GOTHIC, kind.heading)
    canvas.drawString(x, y, printable(_("How to use it")))
    y -= kind.heading * 1.5
    steps = [
        _("When an office PC is lost or broken and no other office PC can give a key code: "
          "install Kairan on a new PC, start it and choose Receive the roster from another "
          "PC → Recovery sheet, and type the 12 words in the order of their numbers."),
        _("Relay address: {address}").format(address=relay_url),
        _("When a new recovery sheet is made, this one no longer opens new keys: shred it "
          "then."),
    ]
    for step in steps:
        y = _paragraph(canvas, step, x=x, y=y, width=width - _QR_SIZE - 6 * mm, size=kind.body)
        y -= kind.body * 0.5


def _draw_sheet(canvas: Canvas, *, association_name: str, words: Sequence[str],
                relay_url: str, made_on: date, layout: PageLayout, kind: Typography) -> None:
    x, bottom, width, height = layout.frame
    y = _draw_heading(canvas, association_name=association_name, made_on=made_on, x=x,
                      y=bottom + height, width=width, kind=kind)
    y = _draw_warning(canvas, x=x, y=y, width=width, kind=kind)
    y = _draw_words(canvas, words, x=x, y=y - kind.heading * 1.8, width=width, kind=kind)
    _draw_usage(canvas, words, relay_url=relay_url, x=x, y=y - kind.heading * 1.8,
                width=width, kind=kind)


def recovery_sheet_pdf(path: Path | BinaryIO, *, association_name: str, words: Sequence[str],
                       relay_url: str, made_on: date) -> None:
    """Write the recovery sheet of ``words`` (the 12 recovery words) to ``path`` (a file
    object is fine too), one A4 page, fonts embedded."""
    if len(words) != WORD_COUNT:
        raise ValueError(f"a recovery sheet has {WORD_COUNT} words, not {len(words)}")
    layout = PageLayout()
    kind = Typography(large=True)
    with pdf_target(path) as target:
        canvas = new_canvas(target, title=_("Recovery sheet"), author=association_name)
        _draw_sheet(canvas, association_name=association_name, words=words,
                    relay_url=relay_url, made_on=made_on, layout=layout, kind=kind)
        canvas.showPage()
        canvas.save()
