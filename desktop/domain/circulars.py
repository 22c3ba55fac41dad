"""Circulars (回覧・お知らせ): compose, keep drafts, copy as templates, and send to households.

A circular is written once. Sending it freezes the households it goes to, with their 班 and
place on the 回覧板 route at that moment (``circular_recipient``), so the packets printed and
the answers expected later never change when the roster does.

Every function takes a session and plain values; the caller's transaction makes each call
all-or-nothing (``AssociationFile.write``).
"""

from __future__ import annotations

import enum
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Uuid, delete, func, insert, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from desktop.domain import audit
from desktop.domain.association import current_year
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import group_tree
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    Ask,
    AttachmentKind,
    Circular,
    CircularAttachment,
    CircularRecipient,
    CircularStatus,
    GroupKind,
    NoticeChannel,
    Reply,
    Role,
    RosterGroup,
    TargetKind,
)
from desktop.domain.roles import role_board
from desktop.i18n import _
from sync import outbox

MAX_QUESTIONS = 10
MAX_CHOICES = 10
MAX_TITLE_LENGTH = 100
ATTENDANCE_QUESTION = "出欠"
ATTENDANCE_CHOICES = ("出席", "欠席")
MIN_REFERENCE_LENGTH = 4


class QuestionKind(enum.StrEnum):
    """A question answered by picking a choice, or in a few free words."""

    CHOICE = "choice"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a survey (or the implied 出欠 question of an attendance call)."""

    text: str
    kind: QuestionKind = QuestionKind.CHOICE
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CircularData:
    """The editable facts of a circular."""

    title: str
    body: str  # markup: "# " heading, "## " subheading, "- "/"・" bullet, "1. " numbered
    issued_on: date
    issuer: str = ""  # as printed, e.g. "会長 山田 太郎"
    map_url: str = ""
    target_kind: TargetKind = TargetKind.ALL
    target_group_ids: tuple[uuid.UUID, ...] = ()  # 班 (or 地区: all its 班) when GROUPS
    target_role_id: uuid.UUID | None = None  # households of this year's holders when ROLE
    ask: Ask = Ask.NOTHING
    questions: tuple[Question, ...] = ()  # SURVEY only
    deadline: date | None = None  # required when ask != NOTHING


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """An attachment as the editor lists it (without its data)."""

    id: uuid.UUID
    kind: AttachmentKind
    file_name: str
    page_count: int
    position: int


@dataclass(frozen=True, slots=True)
class CircularRecord:
    """A saved circular, as :func:`get_circular` returns it."""

    id: uuid.UUID
    data: CircularData
    status: CircularStatus
    sent_at: datetime | None
    attachments: tuple[AttachmentInfo, ...]


@dataclass(frozen=True, slots=True)
class CircularSummary:
    """One line of the list of circulars."""

    id: uuid.UUID
    title: str
    issued_on: date
    status: CircularStatus
    ask: Ask
    recipients: int  # frozen when sent; the households targeted now for a draft
    replies: int


@dataclass(frozen=True, slots=True)
class Recipient:
    """A household a circular goes to, with what printing and reply entry need."""

    household_id: uuid.UUID
    number: str
    display_name: str
    postal_code: str
    address: str
    channel: NoticeChannel
    group_id: uuid.UUID | None
    group_name: str
    circulation_order: int


# ---------------------------------------------------------------- validation


def _single_line(text: str) -> str:
    return " ".join(text.split())


def _clean_body(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _clean_map_url(text: str) -> str:
    url = unicodedata.normalize("NFKC", text).strip()  # a URL typed in full width still works
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise ValidationError(
            _("The map link 「{value}」 is not a web address. Paste the whole address, "
              "starting with https://, or leave it empty.").format(value=text.strip()),
            field="map_url",
        )
    return url


def choice_key(text: str) -> str:
    """How a choice is compared: width, case and spaces folded, and the circle and cross
    marks people type in many forms (〇 ◯ o for ○, x ✕ for ×) read as one."""
    folded = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _MARKS.get(folded, folded)


_MARKS = {
    **dict.fromkeys(("○", "〇", "◯", "o", "⭕", "◦", "丸", "まる"), "○"),
    **dict.fromkeys(("×", "x", "✕", "✖", "╳", "☓", "✗", "✘", "ばつ", "バツ"), "×"),
}


def _clean_question(number: int, question: Question) -> Question:
    text = _single_line(question.text)
    if not text:
        raise ValidationError(
            _("Question {number} is empty. Type the question or remove it.").format(
                number=number),
            field="questions",
        )
    kind = QuestionKind(question.kind)
    if kind == QuestionKind.TEXT:
        return Question(text, kind, ())
    choices = tuple(choice for raw in question.choices if (choice := _single_line(raw)))
    if len(choices) < 2:
        raise ValidationError(
            _("Question {number} 「{text}」 needs at least two choices (for example ○ and ×), "
              "or make it a free-text question.").format(number=number, text=text),
            field="questions",
        )
    if len(choices) > MAX_CHOICES:
        raise ValidationError(
            _("Question {number} 「{text}」 has more than {count} choices. Keep it short.")
            .format(number=number, text=text, count=MAX_CHOICES),
            field="questions",
        )
    keys = [choice_key(choice) for choice in choices]
    if len(set(keys)) != len(keys):
        raise ValidationError(
            _("Question {number} 「{text}」 has the same choice twice. Make every choice "
              "different.").format(number=number, text=text),
            field="questions",
        )
    return Question(text, kind, choices)


def _clean_questions(data: CircularData) -> tuple[Question, ...]:
    if data.ask != Ask.SURVEY:
        return ()
    if not data.questions:
        raise ValidationError(
            _("A survey needs at least one question. Add a question, or choose another "
              "kind of answer."),
            field="questions",
        )
    if len(data.questions) > MAX_QUESTIONS:
        raise ValidationError(
            _("A survey can have at most {count} questions.").format(count=MAX_QUESTIONS),
            field="questions",
        )
    return tuple(_clean_question(number, question)
                 for number, question in enumerate(data.questions, start=1))


def _clean_targets(data: CircularData) -> tuple[tuple[uuid.UUID, ...], uuid.UUID | None]:
    kind = TargetKind(data.target_kind)
    if kind == TargetKind.GROUPS:
        groups = tuple(dict.fromkeys(data.target_group_ids))
        if not groups:
            raise ValidationError(
                _("No 班 is chosen. Choose the 班 (or 地区) this circular is for, or send it "
                  "to the whole association."),
                field="target",
            )
        return groups, None
    if kind == TargetKind.ROLE:
        if data.target_role_id is None:
            raise ValidationError(
                _("No role is chosen. Choose the role whose holders receive this circular "
                  "(for example 班長)."),
                field="target",
            )
        return (), data.target_role_id
    return (), None


def clean_circular(data: CircularData) -> CircularData:
    """The circular as it will be stored, or :class:`ValidationError` naming the field."""
    title = _single_line(data.title)
    if not title:
        raise ValidationError(
            _("The title is empty. Type a title such as 秋の一斉清掃のお知らせ."), field="title"
        )
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationError(
            _("The title is longer than {count} characters. Shorten it and put the details "
              "in the text.").format(count=MAX_TITLE_LENGTH),
            field="title",
        )
    groups, role = _clean_targets(data)
    ask = Ask(data.ask)
    deadline = data.deadline if ask != Ask.NOTHING else None
    if ask != Ask.NOTHING and deadline is None:
        raise ValidationError(
            _("This circular asks for an answer but has no deadline. Choose the date "
              "answers are due."),
            field="deadline",
        )
    if deadline is not None and deadline < data.issued_on:
        raise ValidationError(
            _("The deadline is before the date of the circular. Choose a later deadline."),
            field="deadline",
        )
    return CircularData(
        title=title,
        body=_clean_body(data.body),
        issued_on=data.issued_on,
        issuer=_single_line(data.issuer),
        map_url=_clean_map_url(data.map_url),
        target_kind=TargetKind(data.target_kind),
        target_group_ids=groups,
        target_role_id=role,
        ask=ask,
        questions=_clean_questions(data),
        deadline=deadline,
    )


def questions_of(data: CircularData) -> tuple[Question, ...]:
    """The questions a reply answers: a survey's own, the one 出欠 question of an attendance
    call, none for a read confirmation or a plain notice."""
    if data.ask == Ask.ATTENDANCE:
        return (Question(ATTENDANCE_QUESTION, QuestionKind.CHOICE, ATTENDANCE_CHOICES),)
    if data.ask == Ask.SURVEY:
        return data.questions
    return ()


def _check_targets(session: Session, data: CircularData) -> None:
    for group_id in data.target_group_ids:
        if session.get(RosterGroup, group_id) is None:
            raise NotFoundError(
                _("One of the chosen 班 no longer exists. Choose the 班 again."), field="target"
            )
    if data.target_role_id is not None and session.get(Role, data.target_role_id) is None:
        raise NotFoundError(
            _("The chosen role no longer exists. Choose the role again."), field="target"
        )


# ---------------------------------------------------------------- stored form


def _questions_to_json(questions: tuple[Question, ...]) -> list[dict[str, object]]:
    return [{"text": q.text, "kind": str(q.kind), "choices": list(q.choices)}
            for q in questions]


def _questions_from_json(stored: list[dict[str, Any]]) -> tuple[Question, ...]:
    return tuple(Question(str(item["text"]), QuestionKind(item["kind"]),
                          tuple(str(choice) for choice in item.get("choices", ())))
                 for item in stored)


def _apply(circular: Circular, data: CircularData) -> None:
    circular.title = data.title
    circular.body = data.body
    circular.issued_on = data.issued_on
    circular.issuer = data.issuer
    circular.map_url = data.map_url
    circular.target_kind = data.target_kind
    circular.target_group_ids = [group_id.hex for group_id in data.target_group_ids]
    circular.target_role_id = data.target_role_id
    circular.ask = data.ask
    circular.questions = _questions_to_json(data.questions)
    circular.deadline = data.deadline
    circular.updated_at = datetime.now(UTC).replace(microsecond=0)


def _data_of(circular: Circular) -> CircularData:
    return CircularData(
        title=circular.title,
        body=circular.body,
        issued_on=circular.issued_on,
        issuer=circular.issuer,
        map_url=circular.map_url,
        target_kind=TargetKind(circular.target_kind),
        target_group_ids=tuple(uuid.UUID(hex=hex_id) for hex_id in circular.target_group_ids),
        target_role_id=circular.target_role_id,
        ask=Ask(circular.ask),
        questions=_questions_from_json(circular.questions),
        deadline=circular.deadline,
    )


def _circular(session: Session, circular_id: uuid.UUID) -> Circular:
    circular = session.get(Circular, circular_id)
    if circular is None:
        raise NotFoundError(_("This circular no longer exists. Reload the list of circulars."))
    return circular


def _draft(session: Session, circular_id: uuid.UUID) -> Circular:
    circular = _circular(session, circular_id)
    if circular.status == CircularStatus.SENT:
        raise ConflictError(
            _("「{title}」 has been sent and can no longer be changed. Copy it to make a new "
              "circular from it.").format(title=circular.title)
        )
    return circular


# ---------------------------------------------------------------- writing


def create_circular(session: Session, *, data: CircularData) -> uuid.UUID:
    """Save a new draft; returns its id."""
    data = clean_circular(data)
    _check_targets(session, data)
    circular = Circular(id=uuid7(), title=data.title, issued_on=data.issued_on)
    _apply(circular, data)
    session.add(circular)
    session.flush()
    return circular.id


def update_circular(session: Session, *, circular_id: uuid.UUID, data: CircularData) -> None:
    """Replace a draft's facts (a sent circular is fixed: :class:`ConflictError`)."""
    circular = _draft(session, circular_id)
    data = clean_circular(data)
    _check_targets(session, data)
    _apply(circular, data)
    session.flush()


def copy_circular(session: Session, *, circular_id: uuid.UUID, issued_on: date) -> uuid.UUID:
    """A new draft from any circular (a template), dated ``issued_on``, with its attachments.

    The deadline keeps its distance from the date. The copy is not validated: the source may
    aim at a role deleted since, and the officer fixes that in the editor.
    """
    source = _circular(session, circular_id)
    data = _data_of(source)
    deadline = (issued_on + (data.deadline - data.issued_on)
                if data.deadline is not None else None)
    copy = Circular(id=uuid7(), title=data.title, issued_on=issued_on)
    _apply(copy, replace(data, issued_on=issued_on, deadline=deadline))
    session.add(copy)
    session.flush()
    now = datetime.now(UTC).replace(microsecond=0)
    attachment_ids = session.exec(
        select(CircularAttachment.id).where(CircularAttachment.circular_id == circular_id)
    ).all()
    for attachment_id in attachment_ids:  # copied inside SQLite: the data never loads here
        session.execute(insert(CircularAttachment).from_select(
            ["id", "circular_id", "kind", "file_name", "media_type", "data", "page_count",
             "position", "created_at"],
            sa_select(
                literal(uuid7(), Uuid()), literal(copy.id, Uuid()),
                col(CircularAttachment.kind), col(CircularAttachment.file_name),
                col(CircularAttachment.media_type), col(CircularAttachment.data),
                col(CircularAttachment.page_count), col(CircularAttachment.position),
                literal(now, UTCDateTime()),
            ).where(col(CircularAttachment.id) == attachment_id),
        ))
    session.flush()
    return copy.id


@dataclass(frozen=True, slots=True)
class TemplateCopy:
    """A new draft made from an earlier circular, and what was brought up to date in it."""

    circular_id: uuid.UUID
    notes: tuple[str, ...]  # what changed from the source, in the officer's words


def _current_issuer(session: Session, issuer: str, year: int) -> str | None:
    """The issuer naming this year's holder, when ``issuer`` is 「役職 氏名」 for a role held
    by one other person now (a template from before a handover); None when it stands."""
    parts = unicodedata.normalize("NFKC", issuer).split(maxsplit=1)
    if len(parts) != 2:  # not a role and a name
        return None
    role_name, person = parts
    for slot in role_board(session, year=year):
        if slot.group_id is None and slot.role_name == role_name and len(slot.holders) == 1:
            holder = slot.holders[0].member_name
            same = "".join(holder.split()) == "".join(person.split())
            return None if same else f"{role_name} {holder}"
    return None


def copy_circular_as_draft(session: Session, *, circular_id: uuid.UUID,
                           issued_on: date) -> TemplateCopy:
    """A new draft from an earlier circular (any year), like :func:`copy_circular`, with
    what went stale since brought up to date: chosen 班 that no longer exist are dropped,
    a target role deleted since is said, and an issuer naming a role's earlier holder
    (「会長 木村 修」 before a handover) names this year's holder."""
    copy_id = copy_circular(session, circular_id=circular_id, issued_on=issued_on)
    copy = _circular(session, copy_id)
    notes: list[str] = []
    kept = [hex_id for hex_id in copy.target_group_ids
            if session.get(RosterGroup, uuid.UUID(hex=hex_id)) is not None]
    if len(kept) != len(copy.target_group_ids):
        notes.append(_("{count} of the 班 it went to no longer exist: check the recipients.")
                     .format(count=len(copy.target_group_ids) - len(kept)))
        copy.target_group_ids = kept
    if copy.target_kind == TargetKind.ROLE and copy.target_role_id is None:
        notes.append(_("The role it went to no longer exists: choose the recipients again."))
    issuer = _current_issuer(session, copy.issuer, current_year(session, today=issued_on))
    if issuer is not None:
        notes.append(_("The issuer 「{old}」 is now 「{new}」.").format(old=copy.issuer,
                                                                     new=issuer))
        copy.issuer = issuer
    session.flush()
    return TemplateCopy(copy_id, tuple(notes))


def delete_circular(session: Session, *, circular_id: uuid.UUID) -> None:
    """Delete a draft with its attachments (a sent circular stays as history)."""
    circular = _draft(session, circular_id)
    session.execute(
        delete(CircularAttachment).where(col(CircularAttachment.circular_id) == circular_id)
    )
    session.delete(circular)
    session.flush()


# ---------------------------------------------------------------- reading


def get_circular(session: Session, *, circular_id: uuid.UUID) -> CircularRecord:
    """A circular with the list of its attachments (their data is read separately)."""
    circular = _circular(session, circular_id)
    rows = session.execute(
        sa_select(col(CircularAttachment.id), col(CircularAttachment.kind),
                  col(CircularAttachment.file_name), col(CircularAttachment.page_count),
                  col(CircularAttachment.position))
        .where(col(CircularAttachment.circular_id) == circular_id)
        .order_by(col(CircularAttachment.position), col(CircularAttachment.id))
    ).all()
    attachments = tuple(AttachmentInfo(attachment_id, AttachmentKind(kind), name, pages,
                                       position)
                        for attachment_id, kind, name, pages, position in rows)
    return CircularRecord(circular.id, _data_of(circular), CircularStatus(circular.status),
                          circular.sent_at, attachments)


def list_circulars(session: Session) -> list[CircularSummary]:
    """Every circular, newest first, with how many households it went to and answered."""
    circulars = session.exec(
        select(Circular).order_by(col(Circular.issued_on).desc(), col(Circular.id).desc())
    ).all()
    recipient_counts = dict(session.exec(
        select(CircularRecipient.circular_id, func.count())
        .group_by(col(CircularRecipient.circular_id))
    ).all())
    reply_counts = dict(session.exec(
        select(Reply.circular_id, func.count()).group_by(col(Reply.circular_id))
    ).all())
    summaries = []
    for circular in circulars:
        if circular.status == CircularStatus.SENT:
            count = recipient_counts.get(circular.id, 0)
        else:  # drafts are few; what they would reach now is worth showing
            count = _target_count(session, _data_of(circular))
        summaries.append(CircularSummary(
            circular.id, circular.title, circular.issued_on, CircularStatus(circular.status),
            Ask(circular.ask), count, reply_counts.get(circular.id, 0),
        ))
    return summaries


def find_circular(session: Session, *, reference: str) -> uuid.UUID:
    """The circular a full id or a unique hex prefix of at least 4 digits names (for the CLI)."""
    typed = unicodedata.normalize("NFKC", reference).strip().lower().replace("-", "")
    if len(typed) < MIN_REFERENCE_LENGTH or any(c not in "0123456789abcdef" for c in typed):
        raise ValidationError(
            _("「{reference}」 is not a circular id. Type at least the first {count} characters "
              "of the id shown in the list of circulars.").format(
                reference=reference, count=MIN_REFERENCE_LENGTH),
            field="reference",
        )
    ids = session.exec(select(Circular.id)).all()
    matches = [circular_id for circular_id in ids if circular_id.hex.startswith(typed)]
    if not matches:
        raise NotFoundError(
            _("No circular has an id starting with {reference}. Check the id in the list of "
              "circulars.").format(reference=reference.strip()),
            field="reference",
        )
    if len(matches) > 1:
        raise ValidationError(
            _("{count} circulars have an id starting with {reference}. Type more of the id.")
            .format(count=len(matches), reference=reference.strip()),
            field="reference",
        )
    return matches[0]


# ---------------------------------------------------------------- recipients


# Plain SQL and tuples: an association-wide circular of a 連合自治会 reaches tens of thousands
# of households, and the ORM's per-value conversions would cost more than the query.
_HOUSEHOLDS = (
    "SELECT id, number, display_name, postal_code, address, channel, group_id, "
    "circulation_order FROM household WHERE left_on IS NULL"
)
_ROLE_HOLDERS = (
    " AND id IN (SELECT member.household_id FROM member JOIN role_assignment "
    "ON role_assignment.member_id = member.id "
    "WHERE role_assignment.role_id = ? AND role_assignment.year = ?)"
)
_FROZEN = (
    "SELECT household.id, household.number, household.display_name, household.postal_code, "
    "household.address, circular_recipient.channel, circular_recipient.group_id, "
    "circular_recipient.group_name, circular_recipient.circulation_order "
    "FROM circular_recipient JOIN household ON household.id = circular_recipient.household_id "
    "WHERE circular_recipient.circular_id = ?"
)
_FROZEN_ORDER = (
    " ORDER BY circular_recipient.group_id IS NULL, circular_recipient.group_order, "
    "circular_recipient.circulation_order, household.number"
)
_RECIPIENT_INSERT = (
    "INSERT INTO circular_recipient (circular_id, household_id, group_id, group_name, "
    "group_order, circulation_order, channel) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_CHANNELS = {str(channel): channel for channel in NoticeChannel}

# A household a circular would reach now, as stored: (id hex, number, name, postal code,
# address, channel, 班 id hex or None, 班 name, the 班's place in the tree, circulation order).
_TargetRow = tuple[str, str, str, str, str, str, str | None, str, int, int]


def _fetch(session: Session, sql: str, parameters: Sequence[object]) -> list[tuple[Any, ...]]:
    """Rows straight from the driver, in the session's transaction (pending changes first)."""
    session.flush()
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return list(driver.execute(sql, parameters).fetchall())


def _tree_order(session: Session) -> tuple[dict[str, tuple[int, str]], dict[str, list[str]]]:
    """Each group's place in the group tree and its name, and each 地区's 班 (hex ids)."""
    nodes = group_tree(session, counts={})
    places = {node.id.hex: (place, node.name) for place, node in enumerate(nodes, start=1)}
    hans: dict[str, list[str]] = {}
    for node in nodes:
        if node.kind == GroupKind.HAN and node.parent_id is not None:
            hans.setdefault(node.parent_id.hex, []).append(node.id.hex)
    return places, hans


def _target_where(session: Session, data: CircularData,
                  district_hans: dict[str, list[str]]) -> tuple[str, list[object]] | None:
    """The conditions on ``household`` (after :data:`_HOUSEHOLDS`) that pick the households
    ``data`` aims at, with their parameters; None when it can reach no one."""
    kind = TargetKind(data.target_kind)
    if kind == TargetKind.GROUPS:
        # A group deleted since the draft was saved was empty (deleting needs that): skip it.
        chosen = list(dict.fromkeys(
            han for group_id in data.target_group_ids
            for han in (group_id.hex, *district_hans.get(group_id.hex, ()))))
        return f" AND group_id IN ({', '.join('?' * len(chosen))})", list(chosen)
    if kind == TargetKind.ROLE:
        if data.target_role_id is None:
            return None
        return _ROLE_HOLDERS, [data.target_role_id.hex,
                               current_year(session, today=data.issued_on)]
    return "", []


def _target_rows(session: Session, data: CircularData) -> list[_TargetRow]:
    """The current households ``data`` aims at, in route order: 班 in tree order, then the
    circulation order, then the number; households in no 班 last."""
    places, district_hans = _tree_order(session)
    where = _target_where(session, data, district_hans)
    if where is None:
        return []
    no_group = (0, "")
    rows: list[_TargetRow] = []
    for household_id, number, name, postal, address, channel, group_id, order in (
            _fetch(session, _HOUSEHOLDS + where[0], where[1])):
        place, group_name = places.get(group_id, no_group) if group_id else no_group
        rows.append((household_id, number, name, postal, address, channel, group_id,
                     group_name, place, order))
    rows.sort(key=lambda row: (row[6] is None, row[8], row[9], row[1]))
    return rows


def _target_count(session: Session, data: CircularData) -> int:
    _places, district_hans = _tree_order(session)
    where = _target_where(session, data, district_hans)
    if where is None:
        return 0
    sql = "SELECT count(*) FROM household WHERE left_on IS NULL" + where[0]
    [(count,)] = _fetch(session, sql, where[1])
    return int(count)


class _Uuids(dict[str, uuid.UUID]):
    """Hex ids made into UUIDs once each (every household of a 班 shares its 班's id)."""

    def __missing__(self, hex_id: str) -> uuid.UUID:
        value = self[hex_id] = uuid.UUID(hex=hex_id)
        return value


def _recipient(row: _TargetRow, uuids: _Uuids) -> Recipient:
    household_id, number, name, postal, address, channel, group_id, group_name, _place, order = (
        row)
    return Recipient(uuid.UUID(hex=household_id), number, name, postal, address,
                     _CHANNELS[channel], uuids[group_id] if group_id else None, group_name,
                     order)


def target_households(session: Session, *, data: CircularData) -> list[Recipient]:
    """The current households (not withdrawn) a circular with ``data`` would go to now, in
    route order: 班 in tree order, then circulation order; households in no 班 last."""
    uuids = _Uuids()
    return [_recipient(row, uuids) for row in _target_rows(session, data)]


def send_circular(session: Session, *, circular_id: uuid.UUID, sent_at: datetime) -> int:
    """Mark a draft sent (``sent_at``: an aware datetime) and freeze the households it goes
    to; returns how many. :class:`ValidationError` when it is incomplete or reaches no
    household."""
    circular = _draft(session, circular_id)
    data = clean_circular(_data_of(circular))
    _check_targets(session, data)
    rows = _target_rows(session, data)
    if not rows:
        raise ValidationError(
            _("「{title}」 reaches no household: the chosen 班 or role holders have no current "
              "household. Choose other recipients.").format(title=data.title),
            field="target",
        )
    session.flush()
    # Stored as the ORM stores them: UUIDs as 32 hex digits, the channel by value.
    driver = session.connection().connection.driver_connection
    assert driver is not None
    driver.executemany(_RECIPIENT_INSERT, [
        (circular_id.hex, household_id, group_id, group_name, place, order, channel)
        for household_id, _n, _d, _p, _a, channel, group_id, group_name, place, order in rows
    ])
    circular.status = CircularStatus.SENT
    circular.sent_at = sent_at
    circular.updated_at = datetime.now(UTC).replace(microsecond=0)
    session.flush()
    # The frozen recipients are recorded by their number only: the list itself is on record.
    audit.record(session, action="update", entity=Circular.__tablename__,
                 entity_id=circular_id.hex, summary=circular.title,
                 changes={"recipients": (None, len(rows))})
    outbox.circular_sent(session, circular_id=circular_id)
    return len(rows)


def _group_and_its_hans(session: Session, group_id: uuid.UUID) -> set[str]:
    hans = session.exec(select(RosterGroup.id).where(RosterGroup.parent_id == group_id)).all()
    return {group_id.hex, *(han.hex for han in hans)}


def recipients(
    session: Session,
    *,
    circular_id: uuid.UUID,
    group_id: uuid.UUID | None = None,
    channel: NoticeChannel | None = None,
) -> list[Recipient]:
    """The households of a circular in route order: the frozen list once sent, the current
    target of a draft. ``group_id`` keeps one 班 (or a 地区's 班), ``channel`` one channel."""
    circular = _circular(session, circular_id)
    groups = _group_and_its_hans(session, group_id) if group_id is not None else None
    wanted = str(channel) if channel is not None else None
    uuids = _Uuids()
    if circular.status != CircularStatus.SENT:
        return [
            _recipient(row, uuids) for row in _target_rows(session, _data_of(circular))
            if (groups is None or row[6] in groups) and (wanted is None or row[5] == wanted)
        ]
    sql, parameters = _FROZEN, [circular_id.hex]
    if groups is not None:
        sql += f" AND circular_recipient.group_id IN ({', '.join('?' * len(groups))})"
        parameters += sorted(groups)
    if wanted is not None:
        sql += " AND circular_recipient.channel = ?"
        parameters.append(wanted)
    return [
        Recipient(uuid.UUID(hex=household_id), number, name, postal, address,
                  _CHANNELS[stored_channel], uuids[group] if group else None, group_name, order)
        for household_id, number, name, postal, address, stored_channel, group, group_name, order
        in _fetch(session, sql + _FROZEN_ORDER, parameters)
    ]
