"""What the outgoing officers hand on besides the roles: circulars still awaiting answers (with
who has not answered, 班 by 班) and the notes for the successor per role (引継ぎメモ).

Memos are written one at a time as the officer types them, each in its own transaction, so a
note is never lost when the wizard is closed half-way; they belong to the 年度 whose
successor reads them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from desktop.domain.errors import NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    Ask,
    Circular,
    CircularRecipient,
    CircularStatus,
    HandoverMemo,
    Reply,
    Role,
)
from desktop.i18n import _

__all__ = [
    "MAX_MEMO_LENGTH",
    "GroupUnanswered",
    "MemoInfo",
    "OpenCircular",
    "add_memo",
    "aware",
    "delete_memo",
    "list_memos",
    "open_circulars",
    "restore_memo",
    "update_memo",
]

MAX_MEMO_LENGTH = 4000  # about two printed pages: a note, not an archive


@dataclass(frozen=True, slots=True)
class GroupUnanswered:
    """How many households of one 班 have not answered."""

    group_name: str  # "" for households in no 班
    count: int


@dataclass(frozen=True, slots=True)
class OpenCircular:
    """A sent circular that asks for answers and still lacks some."""

    circular_id: uuid.UUID
    title: str
    issued_on: date
    deadline: date | None
    recipients: int
    answered: int
    by_group: tuple[GroupUnanswered, ...]  # 班 with households still to answer, route order

    @property
    def unanswered(self) -> int:
        """Households still to answer."""
        return self.recipients - self.answered


def open_circulars(session: Session, *, since: date) -> list[OpenCircular]:
    """Sent circulars issued on or after ``since`` that ask for answers and still miss some,
    oldest first, with the 班 where answers are missing."""
    rows = session.execute(
        sa_select(col(Circular.id), col(Circular.title), col(Circular.issued_on),
                  col(Circular.deadline))
        .where(col(Circular.status) == CircularStatus.SENT, col(Circular.ask) != Ask.NOTHING,
               col(Circular.issued_on) >= since)
        .order_by(col(Circular.issued_on), col(Circular.id))
    ).all()
    found = []
    for circular_id, title, issued_on, deadline in rows:
        missing = session.execute(
            sa_select(col(CircularRecipient.group_name), func.count())
            .select_from(CircularRecipient)
            .outerjoin(Reply, and_(col(Reply.circular_id) == col(CircularRecipient.circular_id),
                                   col(Reply.household_id) == col(CircularRecipient.household_id)))
            .where(col(CircularRecipient.circular_id) == circular_id, col(Reply.id).is_(None))
            .group_by(col(CircularRecipient.group_id), col(CircularRecipient.group_name),
                      col(CircularRecipient.group_order))
            .order_by(col(CircularRecipient.group_id).is_(None),
                      col(CircularRecipient.group_order))
        ).all()
        if not missing:
            continue
        recipients = session.exec(
            select(func.count()).select_from(CircularRecipient)
            .where(CircularRecipient.circular_id == circular_id)
        ).one()
        unanswered = sum(count for _name, count in missing)
        found.append(OpenCircular(
            circular_id, title, issued_on, deadline, recipients, recipients - unanswered,
            tuple(GroupUnanswered(name or "", count) for name, count in missing)))
    return found


# ---------------------------------------------------------------- memos (引継ぎメモ)


@dataclass(frozen=True, slots=True)
class MemoInfo:
    """A note for the successor, as listed and printed."""

    id: uuid.UUID
    year: int
    role_id: uuid.UUID | None  # None: for the whole office
    role_name: str  # "" for the whole office
    text: str
    written_by: str
    written_at: datetime  # aware


def _clean_text(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cleaned = "\n".join(line.rstrip() for line in lines).strip("\n")
    if not cleaned.strip():
        raise ValidationError(
            _("The memo is empty. Write what your successor should know, for example where "
              "the keys of the hall are kept."), field="text")
    if len(cleaned) > MAX_MEMO_LENGTH:
        raise ValidationError(
            _("The memo is longer than {count} characters. Keep it short, or split it into "
              "memos per role.").format(count=MAX_MEMO_LENGTH), field="text")
    return cleaned


def _check_role(session: Session, role_id: uuid.UUID | None) -> None:
    if role_id is not None and session.get(Role, role_id) is None:
        raise NotFoundError(_("The role of this memo no longer exists. Choose another role."),
                            field="role")


def _memo(session: Session, memo_id: uuid.UUID) -> HandoverMemo:
    memo = session.get(HandoverMemo, memo_id)
    if memo is None:
        raise NotFoundError(_("This memo no longer exists. Open the list of memos again."))
    return memo


def aware(moment: datetime) -> datetime:
    """A stored UTC time with its zone (SQLite gives it back without)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _info(memo: HandoverMemo, role_names: dict[uuid.UUID, str]) -> MemoInfo:
    role_name = role_names.get(memo.role_id, "") if memo.role_id is not None else ""
    return MemoInfo(memo.id, memo.year, memo.role_id, role_name, memo.text, memo.written_by,
                    aware(memo.written_at))


def list_memos(session: Session, *, year: int) -> list[MemoInfo]:
    """The memos for the successors of ``year``: the whole office first, then by role in
    board order, each in the order written."""
    roles = session.exec(select(Role)).all()
    names = {role.id: role.name for role in roles}
    positions = {role.id: role.position for role in roles}
    memos = session.exec(select(HandoverMemo).where(HandoverMemo.year == year)).all()
    ordered = sorted(memos, key=lambda memo: (
        memo.role_id is not None, positions.get(memo.role_id, 0) if memo.role_id else 0,
        memo.written_at, memo.id.hex))
    return [_info(memo, names) for memo in ordered]


def add_memo(session: Session, *, year: int, role_id: uuid.UUID | None, text: str,
             written_by: str = "", memo_id: uuid.UUID | None = None) -> uuid.UUID:
    """Write a memo for the successors of ``year`` (for one role, or the whole office)."""
    _check_role(session, role_id)
    memo = HandoverMemo(id=memo_id or uuid7(), year=year, role_id=role_id,
                        text=_clean_text(text), written_by=written_by.strip(),
                        written_at=datetime.now(UTC).replace(microsecond=0))
    session.add(memo)
    session.flush()
    return memo.id


def update_memo(session: Session, *, memo_id: uuid.UUID, text: str,
                role_id: uuid.UUID | None, written_by: str = "") -> MemoInfo:
    """Rewrite a memo (its text and role); returns it as it was, for undo."""
    memo = _memo(session, memo_id)
    names = {role.id: role.name for role in session.exec(select(Role)).all()}
    before = _info(memo, names)
    _check_role(session, role_id)
    memo.text = _clean_text(text)
    memo.role_id = role_id
    if written_by.strip():
        memo.written_by = written_by.strip()
    memo.written_at = datetime.now(UTC).replace(microsecond=0)
    session.flush()
    return before


def delete_memo(session: Session, *, memo_id: uuid.UUID) -> MemoInfo:
    """Delete a memo; returns it, so it can be put back (:func:`restore_memo`)."""
    memo = _memo(session, memo_id)
    names = {role.id: role.name for role in session.exec(select(Role)).all()}
    removed = _info(memo, names)
    session.delete(memo)
    session.flush()
    return removed


def restore_memo(session: Session, *, memo: MemoInfo) -> None:
    """Put back a memo deleted by :func:`delete_memo`, as it was."""
    role_id = memo.role_id
    if role_id is not None and session.get(Role, role_id) is None:
        role_id = None  # the role was deleted meanwhile: the note stays, for the whole office
    session.add(HandoverMemo(id=memo.id, year=memo.year, role_id=role_id, text=memo.text,
                             written_by=memo.written_by, written_at=memo.written_at))
    session.flush()
