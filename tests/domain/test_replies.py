"""Replies: entering paper slips (typed or scanned), the bad entries of the issue, corrections,
who has not answered per 班, and the tally."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from desktop.domain.circulars import (
    CircularData,
    Question,
    QuestionKind,
    create_circular,
    list_circulars,
    send_circular,
)
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.models import Ask, NoticeChannel, Reply, ReplyChannel, TargetKind
from desktop.domain.replies import (
    AlreadyAnswered,
    ReplyOutcome,
    ReplyRecord,
    channel_label,
    clean_answers,
    record_reply,
    reply_status,
    tally,
)
from desktop.domain.slips import slip_code
from desktop.store.association_file import AssociationFile
from tests.domain.test_circulars import Town, build_town

SENT_AT = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
RECEIVED = datetime(2025, 10, 5, 10, 0, tzinfo=UTC)
SURVEY = (
    Question("避難所を知っていますか", QuestionKind.CHOICE, ("○", "×")),
    Question("参加人数", QuestionKind.CHOICE, ("1", "2", "3")),
    Question("ご意見", QuestionKind.TEXT),
)


def _send(session: Session, **changes: object) -> uuid.UUID:
    values: dict[str, object] = {
        "title": "秋の一斉清掃のお知らせ", "body": "", "issued_on": date(2025, 10, 1),
        "ask": Ask.ATTENDANCE, "deadline": date(2025, 10, 15), **changes,
    }
    circular_id = create_circular(session, data=CircularData(**values))  # type: ignore[arg-type]
    send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    return circular_id


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return build_town(session)


@pytest.fixture
def cleanup(association_file: AssociationFile, town: Town) -> uuid.UUID:
    """An attendance call sent to every household."""
    with association_file.write() as session:
        return _send(session)


def _enter(
    association_file: AssociationFile,
    circular_id: uuid.UUID,
    entry: str,
    *answers: str,
    channel: ReplyChannel = ReplyChannel.PAPER,
    received_at: datetime = RECEIVED,
    expected_group_id: uuid.UUID | None = None,
    correct: bool = False,
) -> tuple[ReplyOutcome, ReplyRecord]:
    with association_file.write() as session:
        return record_reply(session, circular_id=circular_id, entry=entry, answers=answers,
                            channel=channel, received_at=received_at,
                            expected_group_id=expected_group_id, correct=correct)


def _stored(association_file: AssociationFile) -> list[tuple[list[str], str, datetime, datetime]]:
    with association_file.read() as session:
        return [(reply.answers, str(reply.channel), reply.received_at, reply.updated_at)
                for reply in session.exec(select(Reply))]


# ---------------------------------------------------------------- entering


def test_a_typed_number_records_the_answer(association_file: AssociationFile, town: Town,
                                           cleanup: uuid.UUID) -> None:
    outcome, record = _enter(association_file, cleanup, "0003", "出席")
    assert outcome == ReplyOutcome.RECORDED
    assert record.household_id == town.households["0003"]
    assert (record.number, record.display_name, record.group_name) == (
        "0003", "世帯0003", "1班")
    assert record.answers == ("出席",)
    assert record.channel == ReplyChannel.PAPER
    assert record.received_at == RECEIVED
    [(answers, channel, received_at, updated_at)] = _stored(association_file)
    assert (answers, channel, received_at) == (["出席"], "paper", RECEIVED)
    assert updated_at.tzinfo is not None


@pytest.mark.parametrize("entry", ["０００３", " 0003 ", "3", "３"])
def test_full_width_digits_and_dropped_zeros_find_the_household(
    association_file: AssociationFile, cleanup: uuid.UUID, entry: str
) -> None:
    _outcome, record = _enter(association_file, cleanup, entry, "欠席")
    assert record.number == "0003"


def test_a_scanned_slip_records_the_answer(association_file: AssociationFile,
                                           cleanup: uuid.UUID) -> None:
    _outcome, record = _enter(association_file, cleanup, slip_code(cleanup, "0004"), "1")
    assert (record.number, record.answers) == ("0004", ("出席",))


def test_an_unknown_number_is_not_found(association_file: AssociationFile,
                                        cleanup: uuid.UUID) -> None:
    with pytest.raises(NotFoundError, match="No household has the number 9999") as caught:
        _enter(association_file, cleanup, "９９９９", "出席")
    assert caught.value.field == "entry"
    assert _stored(association_file) == []


def test_a_slip_of_another_circular_is_refused(association_file: AssociationFile,
                                               cleanup: uuid.UUID) -> None:
    with association_file.write() as session:
        other = _send(session, title="防災訓練のお知らせ")
    with pytest.raises(ValidationError, match="belongs to 「防災訓練のお知らせ」"):
        _enter(association_file, cleanup, slip_code(other, "0003"), "出席")
    with pytest.raises(ValidationError, match="not in this file"):
        _enter(association_file, cleanup, slip_code(uuid.uuid4(), "0003"), "出席")
    assert _stored(association_file) == []


def test_a_household_the_circular_did_not_go_to(association_file: AssociationFile,
                                                town: Town) -> None:
    with association_file.write() as session:
        han2_only = _send(session, target_kind=TargetKind.GROUPS, target_group_ids=(town.han2,))
    for number in ("0001", "0007"):  # another 班; withdrawn before sending
        with pytest.raises(ValidationError, match="is not among the households") as caught:
            _enter(association_file, han2_only, number, "出席")
        assert number in caught.value.message


def test_a_household_of_another_han_than_the_one_entered(
    association_file: AssociationFile, town: Town, cleanup: uuid.UUID
) -> None:
    with pytest.raises(ValidationError) as caught:
        _enter(association_file, cleanup, "0004", "出席", expected_group_id=town.han1)
    assert caught.value.message.startswith("0004 世帯0004 is in 2班, not in 1班.")
    with pytest.raises(ValidationError, match="is in no 班, not in 1班"):
        _enter(association_file, cleanup, "0008", "出席", expected_group_id=town.han1)
    assert _stored(association_file) == []
    # Entering a whole 地区 accepts the slips of its 班.
    outcome, _record = _enter(association_file, cleanup, "0004", "出席",
                              expected_group_id=town.district)
    assert outcome == ReplyOutcome.RECORDED


def test_the_same_slip_twice_changes_nothing(association_file: AssociationFile,
                                             cleanup: uuid.UUID) -> None:
    _enter(association_file, cleanup, "0003", "出席")
    before = _stored(association_file)
    outcome, record = _enter(association_file, cleanup, slip_code(cleanup, "0003"), "出 席",
                             channel=ReplyChannel.PHONE,
                             received_at=RECEIVED + timedelta(days=1))
    assert outcome == ReplyOutcome.UNCHANGED
    assert record.channel == ReplyChannel.PAPER  # the one on record
    assert _stored(association_file) == before


def test_a_different_answer_needs_a_correction(association_file: AssociationFile,
                                               cleanup: uuid.UUID) -> None:
    _enter(association_file, cleanup, "0003", "出席")
    before = _stored(association_file)
    with pytest.raises(AlreadyAnswered) as caught:
        _enter(association_file, cleanup, "0003", "欠席")
    assert isinstance(caught.value, ConflictError)
    assert caught.value.existing.answers == ("出席",)
    assert caught.value.existing.number == "0003"
    assert "has already answered 「出席」 (Paper, 令和7年10月5日" in caught.value.message
    assert "「欠席」" in caught.value.message
    assert _stored(association_file) == before

    later = RECEIVED + timedelta(days=2)
    outcome, record = _enter(association_file, cleanup, "0003", "欠席", correct=True,
                             channel=ReplyChannel.PHONE, received_at=later)
    assert outcome == ReplyOutcome.CORRECTED
    assert record.answers == ("欠席",)
    [(answers, channel, received_at, _updated)] = _stored(association_file)
    assert (answers, channel, received_at) == (["欠席"], "phone", later)


def test_a_draft_takes_no_replies(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        draft = create_circular(session, data=CircularData(
            title="下書き", body="", issued_on=date(2025, 10, 1), ask=Ask.ATTENDANCE,
            deadline=date(2025, 10, 9)))
    with pytest.raises(ConflictError, match="has not been sent yet"):
        _enter(association_file, draft, "0003", "出席")


# ---------------------------------------------------------------- answers


def _data(ask: Ask, questions: tuple[Question, ...] = ()) -> CircularData:
    return CircularData(title="回覧", body="", issued_on=date(2025, 10, 1), ask=ask,
                        questions=questions, deadline=date(2025, 10, 9))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("出席", "出席"), (" 欠席 ", "欠席"), ("1", "出席"), ("２", "欠席")],
)
def test_attendance_answers(typed: str, stored: str) -> None:
    assert clean_answers(_data(Ask.ATTENDANCE), [typed]) == (stored,)


@pytest.mark.parametrize("answers", [[], [""], ["たぶん"], ["3"], ["出席", "欠席"]])
def test_bad_attendance_answers(answers: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_answers(_data(Ask.ATTENDANCE), answers)
    assert caught.value.field == "answers"


@pytest.mark.parametrize(
    ("answers", "stored"),
    [
        (["〇", "２", "  駐車場が\r\n欲しい "], ("○", "2", "駐車場が\n欲しい")),
        (["o", "3", ""], ("○", "3", "")),
        (["ｘ", "", ""], ("×", "", "")),
        (["X"], ("×", "", "")),  # questions left blank on the slip stay blank
        (["✕", "1"], ("×", "1", "")),
        (["", "", "意見だけ"], ("", "", "意見だけ")),
    ],
)
def test_survey_answers_fold_widths_and_marks(answers: list[str],
                                              stored: tuple[str, ...]) -> None:
    assert clean_answers(_data(Ask.SURVEY, SURVEY), answers) == stored


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["△"], "Question 1 「避難所を知っていますか」: 「△」 is not one of the choices (○ / ×)"),
        (["○", "4"], "Question 2"),
        (["", "", ""], "No answer was entered"),
        (["○", "1", "a", "extra"], "4 answers were entered"),
    ],
)
def test_bad_survey_answers(answers: list[str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_answers(_data(Ask.SURVEY, SURVEY), answers)
    assert caught.value.message.startswith(message)


def test_read_confirmation_takes_no_answer() -> None:
    assert clean_answers(_data(Ask.READ), []) == ()
    assert clean_answers(_data(Ask.READ), ["確認"]) == ()
    with pytest.raises(ValidationError, match="only asks the reader to confirm"):
        clean_answers(_data(Ask.READ), ["欠席"])
    with pytest.raises(ValidationError, match="asks for no answer"):
        clean_answers(_data(Ask.NOTHING), [])


def test_channel_labels() -> None:
    assert [channel_label(c) for c in ReplyChannel] == [
        "Paper", "App", "E-mail", "Phone", "In person"]


# ---------------------------------------------------------------- status and tally


def test_reply_status_per_han_in_route_order(association_file: AssociationFile, town: Town,
                                             cleanup: uuid.UUID) -> None:
    _enter(association_file, cleanup, "0001", "出席")
    _enter(association_file, cleanup, "0006", "欠席", channel=ReplyChannel.APP)
    with association_file.read() as session:
        status = reply_status(session, circular_id=cleanup)
    assert [(g.group_id, g.group_name) for g in status] == [
        (town.han1, "1班"), (town.han2, "2班"), (town.han3, "3班"), (None, "")]
    assert [[r.number for r in g.answered] for g in status] == [["0001"], [], ["0006"], []]
    assert [[r.number for r in g.unanswered] for g in status] == [
        ["0003", "0002"], ["0004", "0005"], [], ["0008"]]
    assert status[2].answered[0].channel == ReplyChannel.APP
    assert status[0].unanswered[1].channel == NoticeChannel.APP


def test_tally_counts_each_choice(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        survey = _send(session, title="アンケート", ask=Ask.SURVEY, questions=SURVEY)
    _enter(association_file, survey, "0001", "○", "2", "意見")
    _enter(association_file, survey, "0003", "〇", "", "")
    _enter(association_file, survey, "0004", "×", "2", "")
    with association_file.read() as session:
        counts = tally(session, circular_id=survey)
        listed = {c.id: c.replies for c in list_circulars(session)}
        stored = session.exec(select(func.count()).select_from(Reply)).one()
    assert [result for _question, result in counts] == [
        {"○": 2, "×": 1}, {"1": 0, "2": 2, "3": 0}, {"Answered": 1}]
    assert [question for question, _result in counts] == list(SURVEY)
    assert listed[survey] == stored == 3


def test_tally_of_an_attendance_call(association_file: AssociationFile,
                                     cleanup: uuid.UUID) -> None:
    for number, answer in (("0001", "出席"), ("0003", "欠席"), ("0004", "出席")):
        _enter(association_file, cleanup, number, answer)
    with association_file.read() as session:
        [(question, counts)] = tally(session, circular_id=cleanup)
    assert question.text == "出欠"
    assert counts == {"出席": 2, "欠席": 1}
