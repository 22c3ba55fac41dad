"""The mail status of a sent circular: per 班 the e-mail households with 「メール送信済」
「メール未達」「リンクを開いた」 beside their read mark and their answer from any channel; the
households to mail again (not read, not answered, still mailable); and a household's address
problems for the editor."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.errors import ConflictError
from desktop.domain.households import (
    HouseholdData,
    create_household,
    get_household,
    update_household,
)
from desktop.domain.mail_status import (
    MailState,
    household_mail_problems,
    mail_status,
    problem_label,
    resend_mail_to_unread,
    unread_mail_households,
)
from desktop.domain.models import (
    Ask,
    CircularRead,
    MailDelivery,
    MailEvent,
    MailProblem,
    MailProblemKind,
    NoticeChannel,
    OutboxOp,
    ReplyChannel,
)
from desktop.domain.replies import record_reply
from desktop.store.association_file import AssociationFile
from sync.protocol import OpKind
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import mark_paired

SENT_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)


class Mailed:
    """The town with five more e-mail households in 2班 and a circular sent to all."""

    def __init__(self, town: Town, circular_id: uuid.UUID, mail: dict[str, uuid.UUID]) -> None:
        self.town, self.circular_id, self.mail = town, circular_id, mail


@pytest.fixture
def mailed(association_file: AssociationFile) -> Mailed:
    with association_file.write() as session:
        town = build_town(session)
        mail = {number: create_household(session, data=HouseholdData(
            number=number, display_name=f"世帯{number}", channel=NoticeChannel.EMAIL,
            emails=(f"{number}a@example.jp", f"{number}b@example.jp")), group_id=town.han2)
            for number in ("0101", "0102", "0103", "0104", "0105")}
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2026, 6, 1), ask=Ask.ATTENDANCE,
            deadline=date(2026, 6, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    return Mailed(town, circular_id, mail)


def _event(session: Session, mailed: Mailed, number: str, event: MailEvent, *,
           address: str | None = None, detail: str = "") -> None:
    session.add(MailDelivery(circular_id=mailed.circular_id, household_id=mailed.mail[number],
                             address=f"{number}a@example.jp" if address is None else address,
                             event=event, detail=detail, at=AT))


def _problem(session: Session, household_id: uuid.UUID, address: str,
             problem: MailProblemKind = MailProblemKind.BOUNCED) -> None:
    session.add(MailProblem(household_id=household_id, address=address, problem=problem,
                            detail="550 5.1.1 unknown", at=AT))


def test_each_email_household_shows_its_mail_read_and_answer(
    association_file: AssociationFile, mailed: Mailed
) -> None:
    with association_file.write() as session:
        _event(session, mailed, "0101", MailEvent.SENT)
        _event(session, mailed, "0102", MailEvent.SENT)
        _event(session, mailed, "0102", MailEvent.OPENED, address="")
        session.add(CircularRead(circular_id=mailed.circular_id,
                                 household_id=mailed.mail["0102"], read_at=AT,
                                 channel=ReplyChannel.APP))
        _event(session, mailed, "0103", MailEvent.FAILED, detail="451 greylisted")
        _event(session, mailed, "0103", MailEvent.BOUNCED, address="0103b@example.jp",
               detail="550 no such user")
        _event(session, mailed, "0104", MailEvent.SENT)  # and b bounced: still delivered
        _event(session, mailed, "0104", MailEvent.BOUNCED, address="0104b@example.jp")
        _problem(session, mailed.mail["0104"], "0104b@example.jp")
        session.flush()
        record_reply(session, circular_id=mailed.circular_id, entry="0101", answers=["出席"],
                     channel=ReplyChannel.PAPER, received_at=AT)
        groups = mail_status(session, circular_id=mailed.circular_id)
    assert [(group.group_name, [h.number for h in group.households]) for group in groups] == [
        ("2班", ["0005", "0101", "0102", "0103", "0104", "0105"])]
    shown = {h.number: h for h in groups[0].households}
    assert {number: h.mail for number, h in shown.items()} == {
        "0005": MailState.NONE, "0101": MailState.SENT, "0102": MailState.OPENED,
        "0103": MailState.NOT_DELIVERED, "0104": MailState.SENT, "0105": MailState.NONE}
    assert shown["0103"].mail_detail in ("451 greylisted", "550 no such user")
    assert shown["0101"].answer_channel is ReplyChannel.PAPER and shown["0101"].has_read
    assert shown["0102"].read_at == AT and shown["0102"].answer_channel is None
    assert [p.address for p in shown["0104"].problems] == ["0104b@example.jp"]
    assert shown["0104"].mailable  # a is still fine
    group = groups[0]
    assert (group.count(MailState.SENT), group.count(MailState.OPENED), group.unread) == (2, 1, 4)


def test_a_household_with_every_address_stopped_is_not_delivered_nor_mailed_again(
    association_file: AssociationFile, mailed: Mailed
) -> None:
    household = mailed.mail["0105"]
    with association_file.write() as session:
        _problem(session, household, "0105a@example.jp", MailProblemKind.UNSUBSCRIBED)
        _problem(session, household, "0105b@example.jp", MailProblemKind.UNSUBSCRIBED)
        session.flush()
        [group] = mail_status(session, circular_id=mailed.circular_id)
        unread = unread_mail_households(session, circular_id=mailed.circular_id)
    shown = {h.number: h for h in group.households}["0105"]
    assert shown.mail is MailState.NOT_DELIVERED and not shown.mailable
    assert shown.mail_detail == problem_label(MailProblemKind.UNSUBSCRIBED)
    assert household not in unread


def test_resend_queues_the_unread_email_households_in_route_order(
    association_file: AssociationFile, mailed: Mailed
) -> None:
    with association_file.write() as session:
        with pytest.raises(ConflictError, match="not connected"):
            resend_mail_to_unread(session, circular_id=mailed.circular_id)
        mark_paired(session)
        session.add(CircularRead(circular_id=mailed.circular_id,
                                 household_id=mailed.mail["0102"], read_at=AT,
                                 channel=ReplyChannel.APP))
        session.flush()
        record_reply(session, circular_id=mailed.circular_id, entry="0103", answers=["欠席"],
                     channel=ReplyChannel.PHONE, received_at=AT)
        record = get_household(session, household_id=mailed.mail["0104"])
        update_household(session, household_id=mailed.mail["0104"], members=record.members,
                         data=HouseholdData(number="0104", display_name="世帯0104",
                                            channel=NoticeChannel.PAPER))  # switched since
        for op in session.exec(select(OutboxOp)).all():
            session.delete(op)
        session.flush()
        assert resend_mail_to_unread(session, circular_id=mailed.circular_id) == 3
        [op] = session.exec(select(OutboxOp)).all()
    assert op.kind == OpKind.MAIL_RESEND
    assert op.body == {"circular_id": str(mailed.circular_id), "household_ids": [
        str(mailed.town.households["0005"]), str(mailed.mail["0101"]),
        str(mailed.mail["0105"])]}


def test_nobody_to_mail_queues_nothing_and_a_draft_has_no_status(
    association_file: AssociationFile
) -> None:
    with association_file.write() as session:
        build_town(session)
        mark_paired(session)
        draft = create_circular(session, data=CircularData(
            title="班長会", body="", issued_on=date(2026, 6, 1)))
        with pytest.raises(ConflictError, match="not been sent"):
            mail_status(session, circular_id=draft)
        everyone = create_circular(session, data=CircularData(
            title="お知らせ", body="", issued_on=date(2026, 6, 1)))
        send_circular(session, circular_id=everyone, sent_at=SENT_AT)
        session.add(CircularRead(circular_id=everyone, household_id=next(
            h.household_id for g in mail_status(session, circular_id=everyone)
            for h in g.households), read_at=AT, channel=ReplyChannel.APP))
        session.flush()
        before = len(session.exec(select(OutboxOp)).all())
        assert resend_mail_to_unread(session, circular_id=everyone) == 0
        assert len(session.exec(select(OutboxOp)).all()) == before


def test_the_editor_sees_only_problems_of_addresses_still_mailed(
    association_file: AssociationFile, mailed: Mailed
) -> None:
    household = mailed.mail["0101"]
    with association_file.write() as session:
        _problem(session, household, "0101b@example.jp")
        _problem(session, household, "0101a@example.jp", MailProblemKind.UNSUBSCRIBED)
        _problem(session, household, "old@example.jp")  # left behind by another PC's edit
        session.flush()
        problems = household_mail_problems(session, household_id=household)
        assert [(p.address, p.problem) for p in problems] == [
            ("0101a@example.jp", MailProblemKind.UNSUBSCRIBED),
            ("0101b@example.jp", MailProblemKind.BOUNCED)]  # in the household's order
        assert problems[1].detail == "550 5.1.1 unknown" and problems[1].at == AT
        assert household_mail_problems(session, household_id=uuid.uuid4()) == []
