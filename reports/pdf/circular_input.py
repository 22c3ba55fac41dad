"""What the circular documents print: plain values, read once from the association file.

The renderers (``reports.pdf.circular_pdf``) take these and nothing else, so they can be
tested and benchmarked without a database; ``reports.pdf.circular_source`` fills them from a
session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desktop.domain.circulars import ATTENDANCE_CHOICES, ATTENDANCE_QUESTION, Question
from desktop.domain.models import Ask, AttachmentKind

__all__ = ["CircularPrint", "PrintHousehold", "RouteHousehold", "SlipHousehold"]


@dataclass(frozen=True, slots=True)
class CircularPrint:
    """A circular as printed: text, what it asks, and the attachments' bytes in order."""

    association: str
    title: str
    body: str  # markup: see reports.pdf.markup
    issued_on: date
    issuer: str = ""  # e.g. 会長 山田 太郎
    map_url: str = ""
    ask: Ask = Ask.NOTHING
    questions: tuple[Question, ...] = ()  # as asked (questions_of): 出欠 for attendance
    deadline: date | None = None
    images: tuple[tuple[bytes, AttachmentKind], ...] = ()  # JPEG/PNG; IMAGE or MAP
    pdf_attachments: tuple[bytes, ...] = ()  # whole PDF files, appended in this order
    purpose_statement: str = ""  # at the foot of the reply slip (個人情報の利用目的)

    @property
    def slip_questions(self) -> tuple[Question, ...]:
        """The questions the reply slip carries (an attendance call always asks 出欠)."""
        if self.ask is Ask.ATTENDANCE and not self.questions:
            return (Question(ATTENDANCE_QUESTION, choices=ATTENDANCE_CHOICES),)
        if self.ask in (Ask.ATTENDANCE, Ask.SURVEY):
            return self.questions
        return ()

    @property
    def has_slip(self) -> bool:
        """Whether personal copies carry a reply slip (the circular asks for an answer)."""
        return self.ask is not Ask.NOTHING


@dataclass(frozen=True, slots=True)
class PrintHousehold:
    """A household as the circular documents print it.

    The route sheet reads ``number``, ``name`` and ``circulation_order``; a personal copy
    and its reply slip read ``number``, ``name`` and ``slip_code`` (what the QR code carries).
    """

    number: str  # 世帯番号
    name: str  # as addressed: 山田 太郎 (「様」 is added when printed)
    address: str = ""
    group_name: str = ""  # 班, "" for a household without one
    circulation_order: int = 0
    slip_code: str = ""  # desktop.domain.slips.slip_code; the number alone when empty


SlipHousehold = PrintHousehold  # a paper household's personal copy
RouteHousehold = PrintHousehold  # a row of a 班's route sheet
