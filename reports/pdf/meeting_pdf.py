"""The general meeting (総会) on paper: the forms each voter returns, the door's check-in list
and the results sheet (議決結果) for the minutes.

The forms: one A4 page per voter with a notice to keep (the meeting, the deadline, what to
return) and three parts to cut off along 切り取り線 — 出欠票, 委任状 and 書面議決書 — each
carrying the voter's 世帯番号, name and a QR code of their slip code, so a part returned on
its own is still entered with one scan. Speed comes from doing the shared work once, as the
circular's personal copies do: the page is laid out once, drawn once into a PDF Form XObject
(page furniture included), and every voter's page only places that form and draws its own
number, name and QR code (encoded once, drawn three times). Ten agenda items fit on the page
(their rows shrink a little first); when they do not — large print — the 書面議決書 goes to
a second page of its own, and a part still too tall is drawn smaller, never off the page.

The check-in list is a table per 班 (a new page each) in circulation order, with a 受付 box
and what each voter has already returned; the results sheet flows the tally's figures and
its arithmetic (from :mod:`desktop.domain.meeting.explain`) over as many pages as it needs,
ending with the signature lines of the chair and the two minute signers.

Documents are built in memory (or written beside a target path and renamed), so a job
cancelled from ``progress`` or a failure never leaves half a PDF. No Qt here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.errors import KairanError
from desktop.domain.meeting.explain import (
    item_arithmetic,
    item_breakdown,
    majority_text,
    quorum_text,
    status_label,
)
from desktop.domain.meeting.rules import AbsentHolder, CountAs, VotingUnit
from desktop.domain.meeting.tally import EntryKind, Severity, Status, Tally
from desktop.domain.wareki import era_of, format_wareki
from desktop.i18n import _
from reports.pdf.drawing import (
    MISSING_MARK,
    Box,
    Frame,
    Item,
    Rule,
    Slot,
    Text,
    binary_streams,
    cut_line,
    fit,
    frame_of,
    printable,
)
from reports.pdf.fonts import GOTHIC, MINCHO
from reports.pdf.markup import text_width, wrap_text
from reports.pdf.meeting_input import (
    MeetingPrint,
    MeetingVoterPrint,
    VoterGroup,
    group_voters,
)
from reports.pdf.output import deliver
from reports.pdf.page import PageLayout, Typography, draw_furniture, new_canvas
from reports.pdf.purpose import purpose_footer
from reports.pdf.qr import qr_path

__all__ = [
    "CHECKIN_TITLE",
    "FORMS_TITLE",
    "MISSING_MARK",
    "RESULTS_TITLE",
    "Progress",
    "item_label",
    "render_checkin_list",
    "render_forms",
    "render_results",
    "returned_text",
]

Progress = Callable[[int, int], None]
FORMS_TITLE = "出欠票・委任状・書面議決書"
CHECKIN_TITLE = "総会 受付名簿"
RESULTS_TITLE = "議決結果"
_WEEKDAYS = "月火水木金土日"
_PROGRESS_EVERY = 10  # voters between progress calls
_QR = 18 * mm  # ~0.7 mm modules for a short slip code: any scanner reads them
_TICK_BOX = 4.6 * mm  # room for a ✓ or ○ drawn by an unsteady hand
_PAD = 3.5 * mm  # inside a part's border
_ROW_SCALES = (1.0, 0.9, 0.8, 0.72)  # the written vote's item rows shrink this far first
_PAGE_ROW_SCALES = (1.5, 1.25, *_ROW_SCALES)  # on a page of its own they may grow


# ------------------------------------------------------------------ text helpers


# The fonts lack ≤ and ≥ (which the tally's arithmetic uses): their Japanese forms read the same.


def _day(day: date) -> str:
    """令和8年5月24日（日）."""
    return f"{format_wareki(day)}（{_WEEKDAYS[day.weekday()]}）"


def _middle(bottom: float, band: float, size: float) -> float:
    """The baseline that centres a line of ``size`` in a band from ``bottom``, ``band`` high."""
    return bottom + band / 2 - size * 0.38


def item_label(number: int) -> str:
    """「第1号議案」: how an agenda item is named on paper (``number`` from 1)."""
    return f"第{number}号議案"


def _unit(meeting: MeetingPrint) -> str:
    return "名" if meeting.voting_unit is VotingUnit.MEMBER else "世帯"


def returned_text(voter: MeetingVoterPrint) -> str:
    """What the check-in list shows as already returned: 委任（…）, 書面, 欠席 or ""."""
    if voter.returned is EntryKind.PROXY:
        return f"委任（{printable(voter.holder) or '議長'}）"
    words = {EntryKind.WRITTEN: "書面", EntryKind.ABSENT: "欠席",
             EntryKind.ATTEND: "出席（受付済み）"}
    return words.get(voter.returned, "") if voter.returned is not None else ""


def _counted_as(count_as: CountAs) -> str:
    words = {CountAs.ABSTAIN: _("an abstention"), CountAs.AGAINST: _("a vote against"),
             CountAs.FOR: _("a vote for")}
    return words[count_as]


# ------------------------------------------------------------------ drawing items


# ------------------------------------------------------------------ the forms' layout


@dataclass(frozen=True, slots=True)
class _Identity:
    """A voter's number, name and (on a part to return) QR code on one block."""

    number: Slot
    name: Slot
    qr: tuple[float, float, float] | None = None  # x, y (bottom-left), size


@dataclass(frozen=True, slots=True)
class _Block:
    """A piece of the page laid out once: items at x from the frame's left and y below the
    block's top (negative), and where the voter's own text goes."""

    height: float
    items: tuple[Item, ...]
    identities: tuple[_Identity, ...] = ()


@dataclass(frozen=True, slots=True)
class _Placed:
    """A block on a page: its top edge at ``top``, drawn scaled by ``scale`` from there."""

    block: _Block
    top: float
    scale: float = 1.0


def _cut_band(width: float, typo: Typography) -> _Block:
    """The dashed 切り取り線 across the frame, labelled in the middle."""
    band = typo.small * 2.3
    return _Block(band, tuple(cut_line(width, typo.small, band)))


@dataclass
class _Part:
    """A part to cut off being laid out: its items, its cursor, its identity.

    The QR code sits in the top right corner; rows beside it are narrower (``room``)."""

    width: float
    typo: Typography
    items: list[Item] = field(default_factory=list)
    y: float = 0.0
    qr_bottom: float = 0.0
    identity: _Identity | None = None

    @property
    def pad(self) -> float:
        return _PAD * self.typo.scale

    @property
    def inner(self) -> float:
        """The width inside the border."""
        return self.width - 2 * self.pad

    @property
    def qr_size(self) -> float:
        return _QR * (1.2 if self.typo.large else 1.0)

    @property
    def room(self) -> float:
        """The width a row starting at the cursor may take: narrower beside the QR code."""
        if self.y <= self.qr_bottom:
            return self.inner
        return self.inner - self.qr_size - 2 * mm

    def head(self, heading: str) -> None:
        """The heading, then 世帯番号 and name on the same line; the QR code at the right."""
        typo, pad = self.typo, self.pad
        qr = self.qr_size
        top = -pad
        self.y = top
        self.qr_bottom = top - qr
        room = self.room
        band = typo.heading * 1.75
        bottom = top - band
        heading_text, size = fit(heading, GOTHIC, typo.heading * 1.15, room * 0.35)
        self.items.append(Text(pad, _middle(bottom, band, size), heading_text, GOTHIC, size))
        x = pad + text_width(heading_text, GOTHIC, size) + typo.heading
        label = "世帯番号 "
        self.items.append(Text(x, _middle(bottom, band, typo.small), label, GOTHIC,
                                typo.small))
        x += text_width(label, GOTHIC, typo.small)
        number_width = text_width("00000", GOTHIC, typo.heading)
        number = Slot(x, _middle(bottom, band, typo.heading), typo.heading, number_width)
        x += number_width + typo.heading * 0.8
        name = Slot(x, _middle(bottom, band, typo.heading), typo.heading, pad + room - x)
        self.identity = _Identity(number, name, (self.width - pad - qr, top - qr, qr))
        self.y = bottom

    def below_qr(self) -> None:
        """Move the cursor below the QR code (rows after this take the full width)."""
        self.y = min(self.y, self.qr_bottom - self.typo.small * 0.3)

    def note(self, text: str, *, size: float | None = None, font: str = GOTHIC,
             gray: float = 0.25, spacing: float = 1.4) -> None:
        """A paragraph, wrapped to the room at the cursor."""
        size = size or self.typo.small
        leading = size * spacing
        for line in wrap_text(printable(text), font=font, size=size, width=self.room):
            self.y -= leading
            self.items.append(Text(self.pad, _middle(self.y, leading, size), line, font, size,
                                    gray=gray))

    def tick(self, x: float, bottom: float, band: float, label: str, size: float) -> float:
        """A box to tick with its label, centred in the band; returns the label's right."""
        box = min(_TICK_BOX * self.typo.scale, band * 0.8)
        self.items.append(Box(x, bottom + (band - box) / 2, box, box, 0.8))
        label_x = x + box + size * 0.4
        self.items.append(Text(label_x, _middle(bottom, band, size), label, GOTHIC, size))
        return label_x + text_width(label, GOTHIC, size)

    def finish(self) -> _Block:
        self.below_qr()
        bottom = self.y - self.pad
        self.items.append(Box(0, bottom, self.width, -bottom, 0.9))
        identities = () if self.identity is None else (self.identity,)
        return _Block(-bottom, tuple(self.items), identities)


def _meeting_phrase(meeting: MeetingPrint) -> str:
    """「令和8年5月24日開催の桜町自治会 令和8年度 定期総会」: the meeting as the forms name it."""
    association = printable(meeting.association)
    title = printable(meeting.title)
    held = f"{format_wareki(meeting.held_on)}開催の"
    return f"{held}{association} {title}" if association else f"{held}{title}"


def _notice(meeting: MeetingPrint, width: float, typo: Typography) -> _Block:
    """The top of the page, kept at home: the meeting and the addressee on the left, date,
    place and deadline on the right, then what to return and the association's purpose
    statement."""
    items: list[Item] = []
    half = width * 0.55
    y = 0.0
    for line in wrap_text(printable(meeting.title), font=GOTHIC, size=typo.title,
                          width=half):
        y -= typo.title * 1.35
        items.append(Text(0, _middle(y, typo.title * 1.35, typo.title), line, GOTHIC,
                           typo.title))
    band = typo.heading * 1.5
    y -= band
    items.append(Text(0, _middle(y, band, typo.heading), FORMS_TITLE, GOTHIC, typo.heading))
    y -= band
    name = Slot(0, _middle(y, band, typo.heading), typo.heading, half * 0.62)
    label = "世帯番号 "
    label_x = half * 0.64
    label_width = text_width(label, GOTHIC, typo.small)
    items.append(Text(label_x, _middle(y, band, typo.small), label, GOTHIC, typo.small))
    number = Slot(label_x + label_width, _middle(y, band, typo.body), typo.body,
                   half - label_x - label_width)
    deadline = (_day(meeting.deadline) if meeting.deadline is not None
                else _("by the start of the meeting"))
    info = (("日時", _day(meeting.held_on)), ("場所", printable(meeting.place) or "—"),
            ("提出期限", deadline))
    left = half + typo.body
    label_room = text_width("提出期限　", GOTHIC, typo.body)
    right_y = 0.0
    leading = typo.leading * 1.05
    for caption, value in info:
        right_y -= leading
        baseline = _middle(right_y, leading, typo.body)
        items.append(Text(left, baseline, caption, GOTHIC, typo.body))
        text, size = fit(value, GOTHIC, typo.body, width - left - label_room)
        items.append(Text(left + label_room, baseline, text, GOTHIC, size))
    y = min(y, right_y) - typo.small * 0.4
    guide = _("Coming to the meeting: return the attendance form. Not coming: return the "
              "attendance form and either the proxy or the written vote (not both). Cut along "
              "the dashed lines and hand the forms to your group leader by the deadline.")
    size = typo.small
    for line in wrap_text(printable(guide), font=GOTHIC, size=size, width=width):
        y -= size * 1.4
        items.append(Text(0, _middle(y, size * 1.4, size), line, GOTHIC, size))
    footer, height = purpose_footer(meeting.purpose_statement, x=0, top=y, width=width,
                                    typo=typo)
    items += footer
    y -= height
    return _Block(-y + typo.small * 0.2, tuple(items), (_Identity(number, name),))


def _attendance(meeting: MeetingPrint, width: float, typo: Typography) -> _Block:
    """出欠票: 出席 or 欠席."""
    part = _Part(width, typo)
    part.head("出欠票")
    part.note(_("At the {meeting}, I will be:").format(meeting=_meeting_phrase(meeting)),
              size=typo.body, font=MINCHO, gray=0.0)
    size = typo.heading
    band = size * 2.0
    part.y -= band
    right = part.tick(part.pad + size, part.y, band, "出席", size)
    part.tick(right + size * 5, part.y, band, "欠席", size)
    part.note(_("If you will not attend, also return the proxy or the written vote below."))
    return part.finish()


def _proxy(meeting: MeetingPrint, width: float, typo: Typography) -> _Block:
    """委任状: to a named member (name and 世帯番号 written in), or to the chair."""
    part = _Part(width, typo)
    part.head("委任状")
    body, pad = typo.body, part.pad
    band = body * 2.5  # room to write a name by hand
    room = part.room
    part.y -= band
    bottom = part.y
    baseline = _middle(bottom, band, body)
    rule_y = bottom + band * 0.2
    opening, number_label = "私は、", "（世帯番号"
    closing, rest = "）を代理人と定め、", ""
    number_line = body * 5.0
    fixed = sum(text_width(text, MINCHO, body) for text in (opening, number_label))
    if room - fixed - number_line - text_width(closing, MINCHO, body) < 40 * mm:
        closing, rest = "）", "を代理人と定め、"  # large print: the name needs the room
    name_line = room - fixed - number_line - text_width(closing, MINCHO, body)
    x = pad
    part.items.append(Text(x, baseline, opening, MINCHO, body))
    x += text_width(opening, MINCHO, body)
    part.items.append(Rule(x, rule_y, x + name_line, rule_y, 0.6))
    x += name_line
    part.items.append(Text(x, baseline, number_label, MINCHO, body))
    x += text_width(number_label, MINCHO, body)
    part.items.append(Rule(x, rule_y, x + number_line, rule_y, 0.6))
    part.items.append(Text(x + number_line, baseline, closing, MINCHO, body))
    part.below_qr()
    part.note(f"{rest}{_meeting_phrase(meeting)}における議決権の行使を委任します。",
              size=body, font=MINCHO, gray=0.0)
    size = typo.body * 1.1
    chair_band = size * 1.9
    part.y -= chair_band
    part.tick(pad + body, part.y, chair_band, "代理人を定めず、議長に一任します。", size)
    absent = (_("If the member you name does not attend, your vote goes to the chair.")
              if meeting.absent_holder is AbsentHolder.TO_CHAIR else
              _("If the member you name does not attend, this proxy does not count."))
    blank = _("A proxy with no member written in is left to the chair.")
    part.note(blank + ("" if blank.endswith("。") else " ") + absent)  # no space in Japanese
    sign_band = body * 2.4
    part.y -= sign_band
    era = era_of(meeting.held_on)
    written_on = f"記入日　{era.name if era else ''}　　年　　月　　日"
    sign_baseline = _middle(part.y, sign_band, body)
    part.items.append(Text(pad, sign_baseline, written_on, GOTHIC, body))
    sign = "委任者署名"
    sign_x = max(pad + part.inner * 0.5, pad + text_width(written_on, GOTHIC, body) + body * 2)
    part.items.append(Text(sign_x, sign_baseline, sign, GOTHIC, body))
    line_x = sign_x + text_width(sign, GOTHIC, body) + body * 0.5
    part.items.append(Rule(line_x, part.y + sign_band * 0.2, pad + part.inner,
                            part.y + sign_band * 0.2, 0.6))
    return part.finish()


def _item_title(title: str, *, size: float, row: float, width: float) -> tuple[list[str], float]:
    """An item's title in its row: one line (set a little smaller if that keeps it on one
    line), else as few lines as fit the row at the size they need, the last cut with 「…」
    when even three lines are not enough."""
    text, fitted = fit(title, MINCHO, size, width)
    if text == title and fitted >= size * 0.88:
        return [text], fitted
    lines: list[str] = [text]
    for count in (2, 3):
        line_size = min(size, row / (count * 1.2 + 0.3))
        lines = wrap_text(title, font=MINCHO, size=line_size, width=width)
        if len(lines) <= count:
            return lines, line_size
    last, last_size = fit("".join(lines[2:]), MINCHO, line_size, width)
    return [*lines[:2], last], min(line_size, last_size)


def _written(meeting: MeetingPrint, width: float, typo: Typography, rows: float) -> _Block:
    """書面議決書: each item with 賛成 and 反対 boxes; ``rows`` scales the item rows."""
    part = _Part(width, typo)
    part.head("書面議決書")
    part.note(f"{_meeting_phrase(meeting)}の各議案について、次のとおり議決権を行使します。",
              size=typo.body, font=MINCHO, gray=0.0)
    part.below_qr()
    blank = _counted_as(meeting.blank_counts_as)
    spoiled = _counted_as(meeting.spoiled_counts_as)
    part.note(_("Tick 賛成 (for) or 反対 (against) for each item. An item with both boxes "
                "ticked is spoiled and counts as {spoiled}; an item with neither ticked counts "
                "as {blank}.").format(spoiled=spoiled, blank=blank))
    body = typo.body
    row = typo.leading * 1.45 * rows
    choice_size = min(body * 1.1, row * 0.5)
    box = min(_TICK_BOX * typo.scale, row * 0.72)
    choices_width = 2 * (box + choice_size * 0.4 + text_width("賛成", GOTHIC, choice_size)) \
        + choice_size * 2.2
    size = min(body, row / 1.9)
    label_width = text_width(item_label(10), GOTHIC, size) + size * 0.8
    title_x = part.pad + label_width
    title_width = part.inner - label_width - choices_width - size
    part.y -= typo.small * 0.4
    top = part.y
    for number, item in enumerate(meeting.items, start=1):
        part.y -= row
        bottom = part.y
        part.items.append(Text(part.pad, _middle(bottom, row, size), item_label(number),
                                GOTHIC, size))
        lines, line_size = _item_title(printable(item.title), size=size, row=row,
                                       width=title_width)
        leading = line_size * 1.2
        first_baseline = _middle(bottom, row, line_size) + leading * (len(lines) - 1) / 2
        for index, line in enumerate(lines):
            part.items.append(Text(title_x, first_baseline - index * leading, line, MINCHO,
                                    line_size))
        x = part.pad + part.inner - choices_width + choice_size
        x = part.tick(x, bottom, row, "賛成", choice_size) + choice_size * 1.2
        part.tick(x, bottom, row, "反対", choice_size)
        part.items.append(Rule(part.pad, bottom, part.pad + part.inner, bottom, 0.4, (),
                                0.55))
    if meeting.items:
        part.items.append(Rule(part.pad, top, part.pad + part.inner, top, 0.4, (), 0.55))
    else:
        part.note(_("There are no agenda items yet."))
    part.y -= typo.small * 0.4
    return part.finish()


def _stack(blocks: Sequence[_Block], frame: Frame) -> list[_Placed]:
    """``blocks`` down the frame from its top, drawn smaller together if they are too tall.
    Spare room (up to 4 mm each) goes into the cut bands, easing the scissors."""
    total = sum(block.height for block in blocks)
    scale = min(1.0, frame.height / total) if total else 1.0
    cuts = sum(1 for block in blocks if not block.identities)
    spare = max(0.0, frame.height - total)
    extra = min(4 * mm, spare / cuts) if cuts else 0.0
    placed: list[_Placed] = []
    top = frame.top
    for block in blocks:
        placed.append(_Placed(block, top + (extra / 2 if not block.identities else 0), scale))
        top -= block.height * scale + (extra if not block.identities else 0)
    return placed


def _fits(blocks: Sequence[_Block], frame: Frame) -> bool:
    return sum(block.height for block in blocks) <= frame.height


def _lay_out_forms(meeting: MeetingPrint, frame: Frame,
                   typo: Typography) -> list[list[_Placed]]:
    """The pages of one voter's forms: one page if everything fits (the item rows shrinking
    a little first), else the 書面議決書 on a second page."""
    width = frame.width
    cut = _cut_band(width, typo)
    first = [_notice(meeting, width, typo), cut, _attendance(meeting, width, typo), cut,
             _proxy(meeting, width, typo)]
    for rows in _ROW_SCALES:
        written = _written(meeting, width, typo, rows)
        if _fits([*first, cut, written], frame):
            return [_stack([*first, cut, written], frame)]
    for rows in _PAGE_ROW_SCALES:
        written = _written(meeting, width, typo, rows)
        if _fits([written], frame):
            break
    return [_stack(first, frame), _stack([written], frame)]


# ------------------------------------------------------------------ the forms, drawn


def _draw_static(canvas: Canvas, placed: _Placed, left: float) -> None:
    canvas.saveState()
    canvas.translate(left, placed.top)
    if placed.scale != 1.0:
        canvas.scale(placed.scale, placed.scale)
    for item in placed.block.items:
        item.draw(canvas)
    canvas.restoreState()


class _Voter:
    """One voter's own text, fitted once per slot size, and their QR code's path."""

    def __init__(self, voter: MeetingVoterPrint, qr_size: float) -> None:
        self.number = printable(voter.number)
        self.name = printable(voter.name) + " 様"
        self.qr = qr_path(voter.slip_code or voter.number, x=0, y=0, size=qr_size)
        self.qr_size = qr_size
        self.fitted: dict[tuple[str, float, float], tuple[str, float]] = {}

    def draw(self, canvas: Canvas, identity: _Identity) -> None:
        for text, slot in ((self.number, identity.number), (self.name, identity.name)):
            key = (text, slot.size, slot.width)
            fitted = self.fitted.get(key)
            if fitted is None:
                fitted = self.fitted[key] = fit(text, GOTHIC, slot.size, slot.width)
            canvas.setFont(GOTHIC, fitted[1])
            canvas.drawString(slot.x, slot.y, fitted[0])
        if identity.qr is not None:
            x, y, size = identity.qr
            factor = size / self.qr_size
            canvas.addLiteral(f"q {factor:.4f} 0 0 {factor:.4f} {x:.2f} {y:.2f} cm\n"
                              f"{self.qr}\nQ")


def render_forms(out: BinaryIO | Path, *, meeting: MeetingPrint,
                 voters: Sequence[MeetingVoterPrint], large: bool = False,
                 progress: Progress | None = None) -> int:
    """The 出欠票・委任状・書面議決書 of each voter in ``voters`` (in the order given: 班,
    then circulation order), pre-filled with the voter's 世帯番号, name and a QR code of
    their ``slip_code`` on every part; the notice kept at home ends with the association's
    purpose statement. Returns the number of pages (one or two per voter).

    ``progress(done, total)`` counts voters; raising from it cancels and writes nothing.
    """
    if not voters:
        raise KairanError(_("The voter list of this meeting is empty, so there are no forms "
                            "to print. Check the record date of the meeting."))
    layout = PageLayout()
    typo = Typography(large=large)
    frame = frame_of(layout)
    pages = _lay_out_forms(meeting, frame, typo)
    qr_size = _QR * (1.2 if large else 1.0)
    total = len(voters)
    if progress is not None:
        progress(0, total)
    buffer = io.BytesIO()
    with binary_streams():
        canvas = new_canvas(buffer, title=f"{printable(meeting.title)} {FORMS_TITLE}",
                            author=printable(meeting.association))
        forms = []
        for index, page in enumerate(pages):
            name = f"forms{index}"
            canvas.beginForm(name)
            for placed in page:
                _draw_static(canvas, placed, frame.left)
            draw_furniture(canvas, association=printable(meeting.association),
                           issued_on=meeting.printed_on, page=index + 1, pages=len(pages),
                           layout=layout, typography=typo)
            canvas.endForm()
            forms.append(name)
        for done, voter in enumerate(voters, start=1):
            own = _Voter(voter, qr_size)
            for form, page in zip(forms, pages, strict=True):
                canvas.doForm(form)
                for placed in page:
                    if not placed.block.identities:
                        continue
                    canvas.saveState()
                    canvas.translate(frame.left, placed.top)
                    if placed.scale != 1.0:
                        canvas.scale(placed.scale, placed.scale)
                    for identity in placed.block.identities:
                        own.draw(canvas, identity)
                    canvas.restoreState()
                canvas.showPage()
            if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
        canvas.save()
    deliver(buffer.getvalue(), out)
    return len(pages) * total


# ------------------------------------------------------------------ the check-in list

# (title, share of the frame's width, centred)
_CHECKIN_COLUMNS = (("順", 0.07, True), ("世帯番号", 0.15, False), ("氏名", 0.38, False),
                    ("受付", 0.11, True), ("提出済み", 0.29, False))


@dataclass(frozen=True, slots=True)
class _CheckinPage:
    group: VoterGroup
    first: int  # index in the 班 of the first row
    rows: tuple[MeetingVoterPrint, ...]
    last: bool  # the 班's last page (the total line goes under it)


class _CheckinSheet:
    """Measures and draws the check-in pages."""

    def __init__(self, meeting: MeetingPrint, layout: PageLayout, typo: Typography) -> None:
        self.meeting = meeting
        self.layout = layout
        self.typo = typo
        self.frame = frame_of(layout)
        self.row = max(typo.body * 2.2, _TICK_BOX * typo.scale + 3 * mm)
        self.head_row = typo.body * 2.0
        self.heading = typo.title * 1.5 + typo.heading * 1.6 + typo.body * 2.2
        self.total_line = typo.body * 2.4
        xs = [self.frame.left]
        for _title, share, _centre in _CHECKIN_COLUMNS:
            xs.append(xs[-1] + share * self.frame.width)
        self.xs = xs

    def rows_per_page(self) -> int:
        room = self.frame.height - self.heading - self.head_row - self.total_line
        return max(1, int(room // self.row))

    def paginate(self, groups: Sequence[VoterGroup]) -> list[_CheckinPage]:
        per_page = self.rows_per_page()
        pages = []
        for group in groups:
            starts = range(0, max(len(group.voters), 1), per_page)
            for start in starts:
                pages.append(_CheckinPage(group, start, group.voters[start:start + per_page],
                                          last=start == starts[-1]))
        return pages

    def summary(self, group: VoterGroup) -> str:
        """「1班（続き）」 and 「12世帯　提出済み 委任 3・書面 2・欠席 1」."""
        counts = {EntryKind.PROXY: 0, EntryKind.WRITTEN: 0, EntryKind.ABSENT: 0}
        for voter in group.voters:
            if voter.returned in counts:
                counts[voter.returned] += 1
        words = {EntryKind.PROXY: "委任", EntryKind.WRITTEN: "書面", EntryKind.ABSENT: "欠席"}
        returned = "・".join(f"{words[kind]} {count}" for kind, count in counts.items())
        return f"{len(group.voters)}{_unit(self.meeting)}　提出済み {returned}"

    def draw(self, canvas: Canvas, page: _CheckinPage) -> None:
        typo, frame, meeting = self.typo, self.frame, self.meeting
        top = frame.top
        canvas.setFont(GOTHIC, typo.title)
        canvas.drawString(frame.left, top - typo.title * 1.1, CHECKIN_TITLE)
        subject, size = fit(f"{printable(meeting.title)}　{_day(meeting.held_on)}", GOTHIC,
                             typo.body, frame.width * 0.55)
        canvas.setFont(GOTHIC, size)
        canvas.drawRightString(frame.left + frame.width, top - typo.title * 1.1, subject)
        y = top - typo.title * 1.5 - typo.heading * 1.2
        group = printable(page.group.name) or "班なし"
        if page.first > 0:
            group += "（続き）"
        summary = self.summary(page.group)
        summary_width = text_width(summary, GOTHIC, typo.body)
        name, size = fit(group, GOTHIC, typo.heading, frame.width - summary_width - typo.body)
        canvas.setFont(GOTHIC, size)
        canvas.drawString(frame.left, y, name)
        summary, size = fit(summary, GOTHIC, typo.body, frame.width * 0.6)
        canvas.setFont(GOTHIC, size)
        canvas.drawRightString(frame.left + frame.width, y, summary)
        table_top = top - self.heading
        self.table(canvas, page, table_top)

    def table(self, canvas: Canvas, page: _CheckinPage, top: float) -> None:
        typo, xs = self.typo, self.xs
        left, right = xs[0], xs[-1]
        canvas.setFillGray(0.9)
        canvas.rect(left, top - self.head_row, right - left, self.head_row, stroke=0, fill=1)
        canvas.setFillGray(0)
        canvas.setFont(GOTHIC, typo.body)
        head_y = _middle(top - self.head_row, self.head_row, typo.body)
        for index, (title, _share, _centre) in enumerate(_CHECKIN_COLUMNS):
            canvas.drawCentredString((xs[index] + xs[index + 1]) / 2, head_y, title)
        y = top - self.head_row
        pad = 1.5 * mm * typo.scale
        box = _TICK_BOX * typo.scale
        for offset, voter in enumerate(page.rows):
            bottom = y - self.row
            returned = returned_text(voter)
            if returned:  # shade what came back, so the door sees it at a glance
                canvas.setFillGray(0.92)
                canvas.rect(xs[4], bottom + 0.5, xs[5] - xs[4], self.row - 1, stroke=0,
                            fill=1)  # inside the rulings: the next row's shade keeps this line
                canvas.setFillGray(0)
            texts = (str(page.first + offset + 1), printable(voter.number),
                     printable(voter.name), "", returned)
            sizes = (typo.body, typo.body, typo.heading, typo.body, typo.body)
            for index, text in enumerate(texts):
                if not text:
                    continue
                width = xs[index + 1] - xs[index] - 2 * pad
                fitted, size = fit(text, GOTHIC, sizes[index], width)
                canvas.setFont(GOTHIC, size)
                baseline = _middle(bottom, self.row, size)
                if _CHECKIN_COLUMNS[index][2]:
                    canvas.drawCentredString((xs[index] + xs[index + 1]) / 2, baseline,
                                             fitted)
                else:
                    canvas.drawString(xs[index] + pad, baseline, fitted)
            canvas.setLineWidth(0.8)
            canvas.rect((xs[3] + xs[4] - box) / 2, bottom + (self.row - box) / 2, box, box)
            canvas.setLineWidth(0.4)
            canvas.line(left, bottom, right, bottom)
            y = bottom
        canvas.setLineWidth(0.5)
        for x in xs[1:-1]:
            canvas.line(x, top, x, y)
        canvas.setLineWidth(0.8)
        canvas.rect(left, y, right - left, top - y)
        canvas.line(left, top - self.head_row, right, top - self.head_row)
        if page.last:
            total = f"受付 計　　　　　{_unit(self.meeting)}"
            canvas.setFont(GOTHIC, typo.body)
            baseline = y - typo.body * 1.6
            canvas.drawRightString(right, baseline, total)
            canvas.setLineWidth(0.6)
            line_right = right - text_width(_unit(self.meeting), GOTHIC, typo.body) - 1
            canvas.line(line_right - typo.body * 4.5, baseline - typo.body * 0.3, line_right,
                        baseline - typo.body * 0.3)


def render_checkin_list(out: BinaryIO | Path, *, meeting: MeetingPrint,
                        voters: Sequence[MeetingVoterPrint], large: bool = False,
                        progress: Progress | None = None) -> int:
    """The door's check-in list (受付名簿): each 班 from a new page, its voters in the order
    given (circulation order: as ``meeting_voters`` lists them), with 順, 世帯番号, 氏名, a
    受付 box to tick and what the voter has already returned (委任・書面・欠席), so the door
    can say "your written vote has already come in". Returns the number of pages.

    ``progress(done, total)`` counts pages; raising from it cancels and writes nothing.
    """
    if not voters:
        raise KairanError(_("The voter list of this meeting is empty, so there is no check-in "
                            "list to print. Check the record date of the meeting."))
    layout = PageLayout()
    typo = Typography(large=large)
    sheet = _CheckinSheet(meeting, layout, typo)
    pages = sheet.paginate(group_voters(voters))
    total = len(pages)
    if progress is not None:
        progress(0, total)
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"{CHECKIN_TITLE} {printable(meeting.title)}",
                        author=printable(meeting.association))
    for number, page in enumerate(pages, start=1):
        sheet.draw(canvas, page)
        draw_furniture(canvas, association=printable(meeting.association),
                       issued_on=meeting.printed_on, page=number, pages=total, layout=layout,
                       typography=typo)
        canvas.showPage()
        if progress is not None:
            progress(number, total)
    canvas.save()
    deliver(buffer.getvalue(), out)
    return total


# ------------------------------------------------------------------ the results sheet


@dataclass(frozen=True, slots=True)
class _Flowing:
    """A piece of the results sheet: its height, and how to draw it below ``top``."""

    height: float
    draw: Callable[[Canvas, float], None]
    keep_with_next: bool = False


class _Results:
    """The results sheet's pieces, made from a tally and drawn page after page."""

    def __init__(self, meeting: MeetingPrint, tally: Tally, layout: PageLayout,
                 typo: Typography) -> None:
        self.meeting = meeting
        self.tally = tally
        self.typo = typo
        self.frame = frame_of(layout)

    # -- simple pieces

    def lines(self, text: str, *, font: str = GOTHIC, size: float | None = None,
              indent: float = 0.0, gray: float = 0.0,
              keep_with_next: bool = False) -> _Flowing:
        """A wrapped paragraph."""
        size = size or self.typo.body
        leading = size * 1.5
        x = self.frame.left + indent
        wrapped = wrap_text(printable(text), font=font, size=size,
                            width=self.frame.width - indent)

        def draw(canvas: Canvas, top: float) -> None:
            canvas.setFont(font, size)
            if gray:
                canvas.setFillGray(gray)
            for index, line in enumerate(wrapped):
                canvas.drawString(x, _middle(top - (index + 1) * leading, leading, size), line)
            canvas.setFillGray(0)

        return _Flowing(leading * len(wrapped), draw, keep_with_next)

    @staticmethod
    def gap(height: float, *, keep_with_next: bool = False) -> _Flowing:
        return _Flowing(height, lambda _canvas, _top: None, keep_with_next)

    def heading(self, text: str) -> _Flowing:
        """A section heading with a rule under it; kept with what follows."""
        typo, frame = self.typo, self.frame
        band = typo.heading * 1.9

        def draw(canvas: Canvas, top: float) -> None:
            fitted, size = fit(printable(text), GOTHIC, typo.heading, frame.width)
            canvas.setFont(GOTHIC, size)
            canvas.drawString(frame.left, _middle(top - band, band, size) + size * 0.1, fitted)
            canvas.setLineWidth(0.8)
            canvas.line(frame.left, top - band + 1, frame.left + frame.width, top - band + 1)

        return _Flowing(band + typo.body * 0.4, draw, keep_with_next=True)

    def mark(self, canvas: Canvas, word: str, *, middle: float) -> None:
        """A verdict (可決・否決・成立・不成立) boxed at the frame's right, centred on
        ``middle``."""
        size = self.typo.heading * 1.2
        width, height = self.mark_size(word)
        right = self.frame.left + self.frame.width
        canvas.setLineWidth(1.4)
        canvas.rect(right - width, middle - height / 2, width, height)
        canvas.setFont(GOTHIC, size)
        canvas.drawCentredString(right - width / 2, middle - size * 0.38, word)

    def mark_size(self, word: str) -> tuple[float, float]:
        size = self.typo.heading * 1.2
        return text_width(word, GOTHIC, size) + size, size * 1.7

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[str]],
             shares: Sequence[float], *, width: float | None = None, mark: str = "",
             keep_with_next: bool = False) -> _Flowing:
        """A small ruled table, header shaded, numbers centred; ``mark`` boxed at its right."""
        typo, frame = self.typo, self.frame
        width = width or frame.width
        total_share = sum(shares)
        xs = [frame.left]
        for share in shares:
            xs.append(xs[-1] + width * share / total_share)
        row = typo.body * 2.0
        head = typo.small * 4.0  # three lines of a long caption

        def draw(canvas: Canvas, top: float) -> None:
            canvas.setFillGray(0.9)
            canvas.rect(xs[0], top - head, xs[-1] - xs[0], head, stroke=0, fill=1)
            canvas.setFillGray(0)
            for index, caption in enumerate(header):
                cell = xs[index + 1] - xs[index] - 2 * mm
                lines = wrap_text(printable(caption), font=GOTHIC, size=typo.small,
                                  width=cell)
                if len(lines) > 3:
                    lines = [*lines[:2], fit("".join(lines[2:]), GOTHIC, typo.small, cell)[0]]
                leading = typo.small * 1.2
                first = _middle(top - head, head, typo.small) + leading * (len(lines) - 1) / 2
                canvas.setFont(GOTHIC, typo.small)
                for number, line in enumerate(lines):
                    canvas.drawCentredString((xs[index] + xs[index + 1]) / 2,
                                             first - number * leading, line)
            y = top - head
            for values in rows:
                for index, value in enumerate(values):
                    cell = xs[index + 1] - xs[index] - 2 * mm
                    fitted, size = fit(printable(value), GOTHIC, typo.body, cell)
                    canvas.setFont(GOTHIC, size)
                    canvas.drawCentredString((xs[index] + xs[index + 1]) / 2,
                                             _middle(y - row, row, size), fitted)
                y -= row
                canvas.setLineWidth(0.4)
                canvas.line(xs[0], y, xs[-1], y)
            canvas.setLineWidth(0.5)
            for x in xs[1:-1]:
                canvas.line(x, top, x, y)
            canvas.setLineWidth(0.8)
            canvas.rect(xs[0], y, xs[-1] - xs[0], top - y)
            canvas.line(xs[0], top - head, xs[-1], top - head)
            if mark:
                self.mark(canvas, mark, middle=(top - head + y) / 2)

        return _Flowing(head + row * len(rows) + typo.body * 0.6, draw, keep_with_next)

    def verdict(self, word: str, text: str, *, keep_with_next: bool = False) -> _Flowing:
        """The arithmetic, wrapped, with its verdict boxed at the right."""
        typo, frame = self.typo, self.frame
        mark_width, mark_height = self.mark_size(word)
        width = frame.width - mark_width - typo.body
        wrapped = wrap_text(printable(text), font=GOTHIC, size=typo.body, width=width)
        leading = typo.body * 1.5
        height = max(leading * len(wrapped), mark_height) + typo.body * 0.4

        def draw(canvas: Canvas, top: float) -> None:
            canvas.setFont(GOTHIC, typo.body)
            for index, line in enumerate(wrapped):
                canvas.drawString(frame.left,
                                  _middle(top - (index + 1) * leading, leading, typo.body), line)
            self.mark(canvas, word, middle=top - mark_height / 2)

        return _Flowing(height, draw, keep_with_next)

    # -- the sections

    def pieces(self) -> list[_Flowing]:
        typo, meeting, tally = self.typo, self.meeting, self.tally
        pieces = [self.title()]
        counts = tally.counts
        unit = _unit(meeting)
        pieces.append(self.heading(_("Attendance")))
        statuses = (Status.IN_PERSON, Status.PROXY_TO_HOLDER, Status.PROXY_TO_CHAIR,
                    Status.WRITTEN, Status.ABSENT, Status.NO_REPLY, Status.LAPSED)
        values = (counts.in_person, counts.to_holder, counts.to_chair, counts.written,
                  counts.absent, counts.no_reply, counts.lapsed)
        header = [_("Voters"), *map(status_label, statuses), _("Counted present")]
        row = [f"{counts.eligible}{unit}", *(str(value) for value in values),
               f"{counts.present}{unit}"]
        pieces.append(self.grid(header, [row], [1.25, 1, 1, 1, 1, 1, 1, 1, 1.25]))
        pieces.append(self.heading(_("Quorum")))
        quorum = tally.quorum
        pieces.append(self.verdict("成立" if quorum.reached else "不成立", quorum_text(tally)))
        pieces.append(self.heading(_("Agenda items")))
        for result in tally.items:
            number = result.index + 1
            pieces.append(self.lines(f"{item_label(number)}　{printable(result.item.title)}",
                                     size=typo.body * 1.1, keep_with_next=True))
            pieces.append(self.lines(majority_text(result.item.majority), size=typo.small,
                                     gray=0.3, keep_with_next=True))
            pieces.append(self.gap(typo.body * 0.3, keep_with_next=True))
            table = [[word, *(str(getattr(part, name)) for part in (
                         result.written, result.chair, result.floor, result.votes))]
                     for word, name in (("賛成", "for_"), ("反対", "against"),
                                        ("棄権", "abstain"))]
            pieces.append(self.grid(["", "書面", "議長一任", "挙手", "計"], table,
                                    [1, 1, 1, 1, 1], width=self.frame.width * 0.7,
                                    mark="可決" if result.passed else "否決",
                                    keep_with_next=True))
            notes = item_breakdown(result, tally.rules)[3:]  # the first three are the table
            pieces.append(self.lines(item_arithmetic(result), keep_with_next=bool(notes)))
            pieces.extend(self.lines(f"※ {note}", size=typo.small, indent=typo.body, gray=0.25,
                                     keep_with_next=index < len(notes) - 1)
                          for index, note in enumerate(notes))
            pieces.append(self.gap(typo.body * 0.9))
        if not tally.items:
            pieces.append(self.lines(_("There are no agenda items yet.")))
        if tally.problems:
            pieces.append(self.heading(_("Problems and notes")))
            for problem in tally.problems:
                mark = "※" if problem.severity is Severity.WARNING else "・"
                pieces.append(self.lines(f"{mark} {problem.message}", size=typo.small,
                                         indent=0.0))
        pieces.append(self.gap(typo.body))
        pieces.append(self.signatures())
        return pieces

    def title(self) -> _Flowing:
        typo, frame, meeting = self.typo, self.frame, self.meeting
        info = [f"日時　{_day(meeting.held_on)}",
                f"場所　{printable(meeting.place) or '—'}",
                f"基準日　{format_wareki(meeting.record_date)}"]
        if meeting.chair:
            info.append(f"議長　{printable(meeting.chair)}")
        title_lines = wrap_text(printable(meeting.title), font=GOTHIC, size=typo.heading,
                                width=frame.width)
        band = typo.title * 1.6
        leading = typo.body * 1.6
        height = band + typo.heading * 1.5 * len(title_lines) + leading * len(info) \
            + typo.body * 0.6

        def draw(canvas: Canvas, top: float) -> None:
            middle = frame.left + frame.width / 2
            canvas.setFont(GOTHIC, typo.title)
            canvas.drawCentredString(middle, _middle(top - band, band, typo.title),
                                     RESULTS_TITLE)
            y = top - band
            canvas.setFont(GOTHIC, typo.heading)
            for line in title_lines:
                y -= typo.heading * 1.5
                canvas.drawCentredString(middle, _middle(y, typo.heading * 1.5, typo.heading),
                                         line)
            for line in info:
                y -= leading
                fitted, size = fit(line, GOTHIC, typo.body, frame.width)
                canvas.setFont(GOTHIC, size)
                canvas.drawString(frame.left, _middle(y, leading, size), fitted)

        return _Flowing(height, draw)

    def signatures(self) -> _Flowing:
        """The date and the lines the chair and two minute signers sign and seal."""
        typo, frame, meeting = self.typo, self.frame, self.meeting
        body = typo.body
        sentence = wrap_text(printable(_("We certify that the above is a true record of the "
                                          "decisions of the meeting.")),
                             font=MINCHO, size=body, width=frame.width)
        line = body * 3.0
        era = era_of(meeting.held_on)
        signers = ("議長", "議事録署名人", "議事録署名人")
        height = body * 1.6 * len(sentence) + line * (1 + len(signers))

        def draw(canvas: Canvas, top: float) -> None:
            y = top
            canvas.setFont(MINCHO, body)
            for text in sentence:
                y -= body * 1.6
                canvas.drawString(frame.left, _middle(y, body * 1.6, body), text)
            y -= line
            canvas.setFont(GOTHIC, body)
            canvas.drawString(frame.left + frame.width * 0.1, _middle(y, line, body),
                              f"{era.name if era else ''}　　　年　　　月　　　日")
            right = frame.left + frame.width
            label_x = frame.left + frame.width * 0.35
            line_x = label_x + text_width("議事録署名人", GOTHIC, body) + body
            for signer in signers:
                y -= line
                baseline = _middle(y, line, body)
                canvas.drawString(label_x, baseline, signer)
                canvas.setLineWidth(0.6)
                canvas.line(line_x, baseline - body * 0.3, right - body * 1.6,
                            baseline - body * 0.3)
                canvas.drawRightString(right, baseline, "印")

        return _Flowing(height, draw)


def _paginate(pieces: Sequence[_Flowing], height: float) -> list[list[_Flowing]]:
    """Pieces onto pages; a piece that is kept with the next moves with it."""
    pages: list[list[_Flowing]] = [[]]
    room = height
    index = 0
    while index < len(pieces):
        run = [pieces[index]]
        while run[-1].keep_with_next and index + len(run) < len(pieces):
            run.append(pieces[index + len(run)])
        need = sum(piece.height for piece in run)
        if need > room and pages[-1]:
            pages.append([])
            room = height
        for piece in run:
            if piece.height > room and pages[-1]:
                pages.append([])
                room = height
            pages[-1].append(piece)
            room -= piece.height
        index += len(run)
    return pages


def render_results(out: BinaryIO | Path, *, meeting: MeetingPrint, tally: Tally,
                   large: bool = False, progress: Progress | None = None) -> int:
    """The results sheet (議決結果) for the minutes: the meeting; voters and how they count;
    quorum with its arithmetic and 成立/不成立; each item's votes for, against and abstaining
    by source (書面, 議長一任, 挙手) with 可決/否決 and the arithmetic; the problems; the
    signature lines of the chair and two minute signers (議事録署名人). Item titles are the
    tally's. Returns the number of pages.

    ``progress(done, total)`` counts pages; raising from it cancels and writes nothing.
    """
    layout = PageLayout()
    typo = Typography(large=large)
    results = _Results(meeting, tally, layout, typo)
    frame = results.frame
    pages = _paginate(results.pieces(), frame.height)
    total = len(pages)
    if progress is not None:
        progress(0, total)
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"{RESULTS_TITLE} {printable(meeting.title)}",
                        author=printable(meeting.association))
    for number, page in enumerate(pages, start=1):
        top = frame.top
        for piece in page:
            if top - piece.height < frame.bottom - 0.5:  # taller than a page: drawn smaller
                scale = (top - frame.bottom) / piece.height
                canvas.saveState()
                canvas.translate(frame.left, top)
                canvas.scale(scale, scale)
                canvas.translate(-frame.left, -top)
                piece.draw(canvas, top)
                canvas.restoreState()
                top = frame.bottom
                continue
            piece.draw(canvas, top)
            top -= piece.height
        draw_furniture(canvas, association=printable(meeting.association),
                       issued_on=meeting.printed_on, page=number, pages=total, layout=layout,
                       typography=typo)
        canvas.showPage()
        if progress is not None:
            progress(number, total)
    canvas.save()
    deliver(buffer.getvalue(), out)
    return total

