"""Invitation slips (アプリ招待状): one A4 page per household, for residents to join the
association's page on their phones.

Each page says whose it is (name, 世帯番号, 班), shows the invitation code in large type and
a QR code of the join link, and explains the steps in short numbered sentences in large
print, for readers who have never scanned a code. The plain code exists only on this paper:
the office keeps no copy (a lost slip means a new code). The file is written beside the
target and renamed at the end, so a cancelled job never leaves half a PDF. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.invitations import Invitation, InvitationBatch
from desktop.i18n import _
from reports.pdf.drawing import fit, printable
from reports.pdf.fonts import GOTHIC
from reports.pdf.markup import text_width
from reports.pdf.output import pdf_target
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas
from reports.pdf.qr import draw_qr
from sync.invitation_codes import PHONES_PER_HOUSEHOLD

__all__ = ["render_invitations"]

Progress = Callable[[int, int], None]
_CODE_SIZE = 40.0  # points: the code is read and typed by eyes that need it big
_QR_SIZE = 56 * mm  # with its quiet zone; any phone camera reads it from arm's length
_NO_LINE_START = frozenset("、。，．）」』】？！ー…")


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking: inside a run of Latin letters only at a space (an English word
    or an address stays whole where it can), anywhere before a Japanese character."""
    lines: list[str] = []
    line = ""
    for char in text:
        if not line or char in _NO_LINE_START or text_width(line + char, GOTHIC,
                                                            size) <= width:
            line += char  # 。、）」 hang in the margin rather than start a line (禁則)
            continue
        cut = line.rfind(" ")
        word = line[cut + 1:] if cut >= 0 else line
        if char.isascii() and char != " " and cut > 0 and word.isascii():
            lines.append(line[:cut])  # move the word begun to the next line
            line = word + char
        else:
            lines.append(line.rstrip())
            line = char.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _steps(link_base: str) -> list[str]:
    return [
        _("1. Open the camera of your smartphone and point it at the square code on the "
          "right."),
        _("2. Touch the link that appears. The association's page opens."),
        _("3. If the page asks for the invitation code, type the code above. Capital or "
          "small letters, spaces and dashes do not matter."),
        _("4. Up to {count} people of your household can join, each on their own phone, "
          "with the same code.").format(count=PHONES_PER_HOUSEHOLD),
        _("Without a camera, type this address instead:") + "\n" + link_base,
        _("Keep this sheet. If it is lost, ask the association for a new code: the old one "
          "then stops working."),
    ]


def _draw_slip(canvas: Canvas, slip: Invitation, *, relay_url: str, layout: PageLayout,
               kind: Typography) -> None:
    x, bottom, width, height = layout.frame
    y = bottom + height - kind.title
    canvas.setFont(GOTHIC, kind.title)
    canvas.drawString(x, y, printable(_("Your association's notices on your phone")))
    y -= kind.title * 2.4
    name, size = fit(printable(f"{slip.display_name} 様"), GOTHIC, kind.title, width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(x, y, name)
    y -= kind.heading * 1.8
    where = f"世帯番号 {slip.number}"
    if slip.group_name:
        where += f"　{slip.group_name}"
    text, size = fit(printable(where), GOTHIC, kind.heading, width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(x, y, text)

    # The code (left) and the QR (right), side by side in a ruled box.
    box_top = y - kind.heading * 1.6
    box_height = _QR_SIZE + 8 * mm
    canvas.setLineWidth(1.2)
    canvas.rect(x, box_top - box_height, width, box_height)
    qr_x = x + width - _QR_SIZE - 4 * mm
    draw_qr(canvas, slip.link, x=qr_x, y=box_top - box_height + 4 * mm, size=_QR_SIZE)
    canvas.setFont(GOTHIC, kind.heading)
    label_y = box_top - 6 * mm - kind.heading
    canvas.drawString(x + 6 * mm, label_y, printable(_("Invitation code")))
    code_width = qr_x - x - 10 * mm
    code, code_size = fit(slip.code, GOTHIC, _CODE_SIZE, code_width)
    canvas.setFont(GOTHIC, code_size)
    canvas.drawString(x + 6 * mm, box_top - box_height / 2 - code_size / 3, code)
    caption, size = fit(printable(_("QR code → with the phone's camera")), GOTHIC, kind.body,
                        code_width)
    canvas.setFont(GOTHIC, size)
    canvas.drawString(x + 6 * mm, box_top - box_height + 6 * mm, caption)

    # The steps, in large print.
    y = box_top - box_height - kind.title * 1.4
    size = kind.body
    link_base = f"{relay_url.rstrip('/')}/r/join"
    canvas.setFont(GOTHIC, size)
    for step in _steps(link_base):
        for paragraph in step.split("\n"):
            for line in _wrap(printable(paragraph), size, width):
                canvas.drawString(x, y, line)
                y -= size * 1.45
        y -= size * 0.5


def render_invitations(
    out: BinaryIO | Path,
    *,
    batch: InvitationBatch,
    printed_on: date,
    progress: Progress | None = None,
) -> int:
    """Write one invitation slip per household to ``out``; returns the page count.

    ``progress(done, total)`` is called per page and may raise to cancel: nothing is written
    then. Always in large print: the slips go to every household, the oldest included.
    """
    layout = PageLayout()
    kind = Typography(large=True)
    slips = batch.invitations
    total = max(len(slips), 1)
    if progress is not None:
        progress(0, total)
    with pdf_target(out) as target:
        canvas = new_canvas(target, title=_("Invitations"), author=batch.association)
        if not slips:
            canvas.setFont(GOTHIC, kind.heading)
            x, y, _width, height = layout.frame
            canvas.drawString(x, y + height - kind.title, _("No household was chosen."))
        for number, slip in enumerate(slips, start=1):
            if number > 1:
                canvas.showPage()
            _draw_slip(canvas, slip, relay_url=batch.relay_url, layout=layout, kind=kind)
            draw_furniture(canvas, association=batch.association, issued_on=printed_on,
                           page=number, pages=total, layout=layout, typography=kind)
            if progress is not None:
                progress(number, total)
        canvas.showPage()
        canvas.save()
    return total
