"""Answers to circulars: entering the slips that come back on paper, who has not answered yet,
and the tally.

Every answer, whichever way it came (paper, app, e-mail, phone, in person), is one row of the
``reply`` table: one current answer per household and circular, with its channel. Entering
the same slip twice changes nothing; a different answer replaces the first only when the
officer says it is a correction.
"""

from __future__ import annotations

import enum
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from desktop.domain.circulars import (
    CircularData,
    Question,
    QuestionKind,
    Recipient,
    choice_key,
    get_circular,
    questions_of,
    recipients,
)
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    Ask,
    Circular,
    CircularRecipient,
    CircularStatus,
    Household,
    Reply,
    ReplyChannel,
    RosterGroup,
)
from desktop.domain.slips import circular_tag, parse_slip_code
from desktop.domain.wareki import format_dual
from desktop.i18n import N_, _
from sync import outbox

# What a reader may write on a slip that only asks to confirm having read the circular.
_CONFIRMATIONS = frozenset(choice_key(word) for word in ("", "確認", "○", "済", "済み", "既読"))
_LONGEST_NUMBER = 15  # digits compared as an integer (leading zeros dropped) in SQLite

_CHANNEL_LABELS: dict[ReplyChannel, str] = {
    ReplyChannel.PAPER: N_("Paper"),
    ReplyChannel.APP: N_("App"),
    ReplyChannel.EMAIL: N_("E-mail"),
    ReplyChannel.PHONE: N_("Phone"),
    ReplyChannel.IN_PERSON: N_("In person"),
}


def channel_label(channel: ReplyChannel) -> str:
    """How an answer came in, in the officer's language."""
    return _(_CHANNEL_LABELS[ReplyChannel(channel)])


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """A household's current answer to a circular."""

    household_id: uuid.UUID
    number: str
    display_name: str
    group_name: str
    answers: tuple[str, ...]  # one per question; empty for a read confirmation
    channel: ReplyChannel
    received_at: datetime


class ReplyOutcome(enum.StrEnum):
    """What entering a reply did."""

    RECORDED = "recorded"
    CORRECTED = "corrected"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class GroupReplyStatus:
    """Who in one 班 has answered and who has not (households in no 班: group None)."""

    group_id: uuid.UUID | None
    group_name: str
    answered: tuple[ReplyRecord, ...]
    unanswered: tuple[Recipient, ...]


class AlreadyAnswered(ConflictError):
    """The household has answered differently before; enter it as a correction to replace."""

    def __init__(self, message: str, *, existing: ReplyRecord) -> None:
        super().__init__(message, field="answers")
        self.existing = existing


# ---------------------------------------------------------------- answers


def _match_choice(number: int, question: Question, typed: str) -> str:
    key = choice_key(typed)
    for choice in question.choices:
        if choice_key(choice) == key:
            return choice
    # Keyboard-first entry: "1" for the first choice, unless the choices are numbers.
    if (key.isascii() and key.isdigit()
            and not any(choice_key(choice).isdigit() for choice in question.choices)
            and 1 <= int(key) <= len(question.choices)):
        return question.choices[int(key) - 1]
    raise ValidationError(
        _("Question {number} 「{question}」: 「{answer}」 is not one of the choices ({choices}). "
          "Type one of them.").format(number=number, question=question.text,
                                      answer=typed.strip(), choices=" / ".join(question.choices)),
        field="answers",
    )


def clean_answers(data: CircularData, answers: Sequence[str]) -> tuple[str, ...]:
    """The answers as they will be stored, or :class:`ValidationError` saying what is wrong.

    A read confirmation stores no answers. An attendance call needs 出席 or 欠席. A survey
    takes one answer per question; a question left blank on the slip stays blank, but at
    least one must be answered. Choices match whatever the width, case or form of ○/×.
    """
    ask = Ask(data.ask)
    if ask == Ask.NOTHING:
        raise ValidationError(
            _("「{title}」 asks for no answer, so there is nothing to record.").format(
                title=data.title),
            field="answers",
        )
    if ask == Ask.READ:
        if any(choice_key(answer) not in _CONFIRMATIONS for answer in answers):
            raise ValidationError(
                _("「{title}」 only asks the reader to confirm reading it: leave the answer "
                  "empty.").format(title=data.title),
                field="answers",
            )
        return ()
    questions = questions_of(data)
    if len(answers) > len(questions):
        raise ValidationError(
            _("{count} answers were entered, but 「{title}」 has {questions} questions.").format(
                count=len(answers), title=data.title, questions=len(questions)),
            field="answers",
        )
    padded = [*answers, *[""] * (len(questions) - len(answers))]
    cleaned: list[str] = []
    for number, (question, answer) in enumerate(zip(questions, padded, strict=True), start=1):
        typed = unicodedata.normalize("NFC", answer).replace("\r\n", "\n").strip()
        if not typed:
            cleaned.append("")
        elif question.kind == QuestionKind.TEXT:
            cleaned.append(typed)
        else:
            cleaned.append(_match_choice(number, question, typed))
    if ask == Ask.ATTENDANCE and not cleaned[0]:
        raise ValidationError(
            _("Type the answer: {choices}.").format(choices=" / ".join(questions[0].choices)),
            field="answers",
        )
    if not any(cleaned):
        raise ValidationError(
            _("No answer was entered. Type at least one answer from the slip."),
            field="answers",
        )
    return tuple(cleaned)


def format_answers(answers: Sequence[str]) -> str:
    """Answers on one line, as messages and lists show them (確認 for a read confirmation)."""
    return " / ".join(answer or "—" for answer in answers) if answers else "確認"


# ---------------------------------------------------------------- entering a reply


def _household_by_number(session: Session, circular_id: uuid.UUID, number: str) -> Household:
    household = session.exec(select(Household).where(Household.number == number)).first()
    if household is not None:
        return household
    # "12" for 0012: digits only, compared as numbers; this circular's households first.
    if number.isascii() and number.isdigit() and len(number) <= _LONGEST_NUMBER:
        candidates = session.exec(
            select(Household)
            .where(text("household.number != '' AND household.number NOT GLOB '*[^0-9]*' "
                        "AND length(household.number) <= :longest "
                        "AND CAST(household.number AS INTEGER) = :value"))
            .params(value=int(number), longest=_LONGEST_NUMBER)
        ).all()
        if len(candidates) > 1:
            received = set(session.exec(
                select(CircularRecipient.household_id).where(
                    CircularRecipient.circular_id == circular_id,
                    col(CircularRecipient.household_id).in_([h.id for h in candidates]))
            ).all())
            candidates = [h for h in candidates if h.id in received]
        if len(candidates) == 1:
            return candidates[0]
    raise NotFoundError(
        _("No household has the number {number}. Check the number on the slip and type it "
          "again.").format(number=number),
        field="entry",
    )


def _check_slip_circular(session: Session, circular: Circular, tag: str | None) -> None:
    if tag is None or tag == circular_tag(circular.id):
        return
    other = next((title for circular_id, title in session.exec(
        select(Circular.id, Circular.title)).all() if circular_tag(circular_id) == tag), None)
    if other is None:
        raise ValidationError(
            _("This slip belongs to a circular that is not in this file, not to 「{title}」. "
              "Check the slip.").format(title=circular.title),
            field="entry",
        )
    raise ValidationError(
        _("This slip belongs to 「{other}」, not to 「{title}」. Enter it on the replies of "
          "「{other}」.").format(other=other, title=circular.title),
        field="entry",
    )


def _record(household: Household, group_name: str, reply: Reply) -> ReplyRecord:
    return ReplyRecord(household.id, household.number, household.display_name, group_name,
                       tuple(reply.answers), ReplyChannel(reply.channel), reply.received_at)


def record_reply(
    session: Session,
    *,
    circular_id: uuid.UUID,
    entry: str,
    answers: Sequence[str],
    channel: ReplyChannel,
    received_at: datetime,
    expected_group_id: uuid.UUID | None = None,
    correct: bool = False,
) -> tuple[ReplyOutcome, ReplyRecord]:
    """Record a household's answer from a scanned slip code or a typed household number,
    received at ``received_at`` (an aware datetime).

    ``expected_group_id`` is the 班 (or 地区) being entered, so a slip of another 班 is
    caught. The same answer again changes nothing (UNCHANGED); a different one raises
    :class:`AlreadyAnswered` unless ``correct`` is set, which replaces it (CORRECTED).
    """
    circular = session.get(Circular, circular_id)
    if circular is None:
        raise NotFoundError(_("This circular no longer exists. Reload the list of circulars."))
    if circular.status != CircularStatus.SENT:
        raise ConflictError(
            _("「{title}」 has not been sent yet. Send it before entering replies.").format(
                title=circular.title)
        )
    slip = parse_slip_code(entry)
    _check_slip_circular(session, circular, slip.circular_tag)
    household = _household_by_number(session, circular_id, slip.household_number)
    who = f"{household.number} {household.display_name}"
    frozen = session.get(CircularRecipient, (circular_id, household.id))
    if frozen is None:
        raise ValidationError(
            _("{who} is not among the households 「{title}」 was sent to. Check the number on "
              "the slip.").format(who=who, title=circular.title),
            field="entry",
        )
    if expected_group_id is not None:
        expected = session.get(RosterGroup, expected_group_id)
        allowed = {expected_group_id, *session.exec(
            select(RosterGroup.id).where(RosterGroup.parent_id == expected_group_id)).all()}
        if frozen.group_id not in allowed:
            raise ValidationError(
                _("{who} is in {group}, not in {expected}. Check the number, or enter this "
                  "slip under {group}.").format(
                    who=who, group=frozen.group_name or _("no 班"),
                    expected=expected.name if expected is not None else _("this 班")),
                field="entry",
            )
    cleaned = clean_answers(get_circular(session, circular_id=circular_id).data, answers)
    existing = session.exec(
        select(Reply).where(Reply.circular_id == circular_id, Reply.household_id == household.id)
    ).first()
    if existing is None:
        reply = Reply(id=uuid7(), circular_id=circular_id, household_id=household.id,
                      answers=list(cleaned), channel=channel, received_at=received_at)
        session.add(reply)
        session.flush()
        outbox.reply_recorded(session, circular_id=circular_id, household_id=household.id)
        return ReplyOutcome.RECORDED, _record(household, frozen.group_name, reply)
    if tuple(existing.answers) == cleaned:
        return ReplyOutcome.UNCHANGED, _record(household, frozen.group_name, existing)
    if not correct:
        before = _record(household, frozen.group_name, existing)
        raise AlreadyAnswered(
            _("{who} has already answered 「{answers}」 ({channel}, {date}). To replace it with "
              "「{new}」, enter it again as a correction.").format(
                who=who, answers=format_answers(before.answers),
                channel=channel_label(before.channel),
                date=format_dual(before.received_at.astimezone().date()),
                new=format_answers(cleaned)),
            existing=before,
        )
    existing.answers = list(cleaned)
    existing.channel = channel
    existing.received_at = received_at
    existing.updated_at = datetime.now(UTC).replace(microsecond=0)
    session.flush()
    outbox.reply_recorded(session, circular_id=circular_id, household_id=household.id)
    return ReplyOutcome.CORRECTED, _record(household, frozen.group_name, existing)


# ---------------------------------------------------------------- who answered, and the tally


def _replies(session: Session, circular_id: uuid.UUID) -> dict[uuid.UUID, Reply]:
    return {reply.household_id: reply
            for reply in session.exec(select(Reply).where(Reply.circular_id == circular_id))}


def reply_status(session: Session, *, circular_id: uuid.UUID) -> list[GroupReplyStatus]:
    """Per 班 in route order: the households that answered and those that have not."""
    replies = _replies(session, circular_id)
    groups: list[GroupReplyStatus] = []
    answered: list[ReplyRecord] = []
    unanswered: list[Recipient] = []
    current: tuple[uuid.UUID | None, str] | None = None

    def close() -> None:
        if current is not None:
            groups.append(GroupReplyStatus(current[0], current[1], tuple(answered),
                                           tuple(unanswered)))

    for recipient in recipients(session, circular_id=circular_id):
        key = (recipient.group_id, recipient.group_name)
        if key != current:
            close()
            current, answered, unanswered = key, [], []
        reply = replies.get(recipient.household_id)
        if reply is None:
            unanswered.append(recipient)
        else:
            answered.append(ReplyRecord(
                recipient.household_id, recipient.number, recipient.display_name,
                recipient.group_name, tuple(reply.answers), ReplyChannel(reply.channel),
                reply.received_at))
    close()
    return groups


def tally(session: Session, *, circular_id: uuid.UUID) -> list[tuple[Question, dict[str, int]]]:
    """For each question, how many chose each choice (every choice listed, in order); for a
    free-text question, one entry (labelled "Answered") with how many wrote something."""
    questions = questions_of(get_circular(session, circular_id=circular_id).data)
    all_answers = [reply.answers for reply in _replies(session, circular_id).values()]
    result: list[tuple[Question, dict[str, int]]] = []
    for index, question in enumerate(questions):
        given = [answers[index] for answers in all_answers
                 if index < len(answers) and answers[index]]
        if question.kind == QuestionKind.TEXT:
            result.append((question, {_("Answered"): len(given)}))
            continue
        counts = dict.fromkeys(question.choices, 0)
        for answer in given:
            counts[answer] = counts.get(answer, 0) + 1
        result.append((question, counts))
    return result
