"""The e-mail channel in the window: the read-status dialog's e-mail tab (「メール送信済」
「メール未達」「リンクを開いた」 beside the read mark and the answer) with 「未読の世帯にメールを
再送」 (asked first, with how many; off while not paired or with nobody to mail), and the
household editor's mail problems with 「紙に切り替える」 (one undoable save)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from desktop.domain import households
from desktop.domain.circulars import recipients
from desktop.domain.models import (
    CircularRead,
    Household,
    MailDelivery,
    MailEvent,
    MailProblem,
    MailProblemKind,
    NoticeChannel,
    OutboxOp,
    ReplyChannel,
)
from desktop.domain.replies import record_reply
from desktop.ui.household_dialog import HouseholdDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.read_status import ReadStatusDialog
from sync.protocol import OpKind
from tests.sync.helpers import mark_paired
from tests.ui.helpers import Messages
from tests.ui.test_reply_entry import ATTENDANCE, sent

AT = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)


def _mailed(window: MainWindow, circular_id: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    with window.file.read() as session:
        return [(r.number, r.household_id) for r in recipients(
            session, circular_id=circular_id, channel=NoticeChannel.EMAIL)]


def _event(session: Session, circular_id: uuid.UUID, household_id: uuid.UUID,
           event: MailEvent, detail: str = "") -> None:
    address = "" if event is MailEvent.OPENED else households.get_household(
        session, household_id=household_id).data.emails[0]
    session.add(MailDelivery(circular_id=circular_id, household_id=household_id,
                             address=address, event=event, detail=detail, at=AT))


def _open(window: MainWindow, circular_id: uuid.UUID) -> ReadStatusDialog:
    window.circular_actions.refresh(select=circular_id)
    window.circulars.read_button.click()
    dialog = window.circular_actions.read_status
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_email_tab_shows_mail_read_and_answer_and_mails_the_unread_again(
    window: MainWindow, messages: Messages
) -> None:
    window.sync_actions.stop()  # no relay here: no sync cycles
    circular_id = sent(window, ATTENDANCE)
    mailed = _mailed(window, circular_id)
    assert len(mailed) >= 4
    (sent_no, sent_id), (opened_no, opened_id), (lost_no, lost_id), (paper_no, _id) = mailed[:4]
    with window.file.write() as session:
        _event(session, circular_id, sent_id, MailEvent.SENT)
        _event(session, circular_id, opened_id, MailEvent.SENT)
        _event(session, circular_id, opened_id, MailEvent.OPENED)
        session.add(CircularRead(circular_id=circular_id, household_id=opened_id, read_at=AT,
                                 channel=ReplyChannel.APP))
        _event(session, circular_id, lost_id, MailEvent.BOUNCED, "550 5.1.1 User unknown")
        session.flush()
        record_reply(session, circular_id=circular_id, entry=paper_no, answers=["出席"],
                     channel=ReplyChannel.PAPER, received_at=AT)

    dialog = _open(window, circular_id)
    rows = {row[0]: row for han in dialog.mail_listed().values() for row in han}
    assert set(rows) == {number for number, _id in mailed}
    assert rows[sent_no][1].startswith("Mail sent") and rows[sent_no][2] == "Unread"
    assert rows[opened_no][1].startswith("Link opened") and rows[opened_no][2] != "Unread"
    assert rows[lost_no][1].startswith("Mail not delivered")
    assert rows[paper_no][3].startswith("Paper") and rows[paper_no][1] == "—"
    assert f"By e-mail: {len(mailed)} households" in dialog.mail_summary.text()
    lost_item = next(
        item for index in range(dialog.mail_tree.topLevelItemCount())
        for parent in (dialog.mail_tree.topLevelItem(index),) if parent is not None
        for item in (parent.child(row) for row in range(parent.childCount()))
        if item is not None and item.text(0) == lost_no)
    assert "550 5.1.1 User unknown" in lost_item.toolTip(2)
    assert not dialog.mail_resend_button.isEnabled()  # not paired: only the relay mails
    assert "connect" in dialog.mail_resend_button.toolTip()

    with window.file.write() as session:
        mark_paired(session)
    dialog.refresh()
    assert dialog.mail_resend_button.isEnabled()
    unread = len(mailed) - 2  # the one that opened the link, the one that answered on paper
    messages.answer = False  # asked first: "no" queues nothing
    assert dialog.resend_mail() == 0
    assert messages.questions and f"the {unread} e-mail households" in messages.questions[-1]
    resent: list[int] = []
    dialog.resent.connect(resent.append)
    messages.answer = True
    dialog.mail_resend_button.click()
    with window.file.read() as session:
        ops = session.exec(select(OutboxOp)).all()
    assert [op.kind for op in ops] == [OpKind.MAIL_RESEND] and resent == [unread]
    body = ops[0].body
    assert body["circular_id"] == str(circular_id)
    assert str(opened_id) not in body["household_ids"]  # type: ignore[operator]
    assert str(sent_id) in body["household_ids"]  # type: ignore[operator]
    assert str(unread) in messages.informations[-1]
    dialog.reject()


def test_nobody_left_to_mail_turns_the_button_off(window: MainWindow) -> None:
    window.sync_actions.stop()
    circular_id = sent(window, ATTENDANCE)
    with window.file.write() as session:
        mark_paired(session)
        for _number, household_id in _mailed(window, circular_id):
            session.add(CircularRead(circular_id=circular_id, household_id=household_id,
                                     read_at=AT, channel=ReplyChannel.APP))
    dialog = _open(window, circular_id)
    assert not dialog.mail_resend_button.isEnabled()
    assert dialog.resend_mail() == 0
    dialog.reject()


# ---------------------------------------------------------------- the household editor

Fill = Callable[[HouseholdDialog], None]


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch) -> Callable[[Fill], list[HouseholdDialog]]:
    """Replace the editor's ``exec``: show it and let ``fill`` act on it."""

    def patch(fill: Fill) -> list[HouseholdDialog]:
        opened: list[HouseholdDialog] = []

        def fake_exec(dialog: HouseholdDialog) -> int:
            opened.append(dialog)
            dialog.show()
            fill(dialog)
            return dialog.result()

        monkeypatch.setattr(HouseholdDialog, "exec", fake_exec)
        return opened

    return patch


def _email_household(window: MainWindow) -> tuple[uuid.UUID, tuple[str, ...]]:
    with window.file.read() as session:
        household = session.exec(select(Household).where(
            Household.channel == NoticeChannel.EMAIL).order_by(col(Household.number))).first()
        assert household is not None
        return household.id, tuple(household.emails)


def test_a_bounced_address_is_shown_and_switching_to_paper_is_undoable(
    window: MainWindow, drive: Callable[[Fill], list[HouseholdDialog]], messages: Messages
) -> None:
    household_id, emails = _email_household(window)
    with window.file.write() as session:
        mark_paired(session)
        session.add(MailProblem(household_id=household_id, address=emails[0],
                                problem=MailProblemKind.BOUNCED,
                                detail="550 5.1.1 User unknown", at=AT))
    seen: list[str] = []

    def switch(dialog: HouseholdDialog) -> None:
        assert dialog.paper_button.isVisible() and dialog.mail_problems.isVisible()
        seen.append(dialog.mail_problems.text())
        assert dialog.emails[0].toolTip() == "Mail bounced"
        dialog.paper_button.click()

    opened = drive(switch)
    window.household_actions.edit_household(household_id)
    assert not opened[0].isVisible() and messages.warnings == []
    assert emails[0] in seen[0] and "Mail bounced" in seen[0] and "550 5.1.1" in seen[0]
    with window.file.read() as session:
        record = households.get_household(session, household_id=household_id)
        assert record.data.channel == NoticeChannel.PAPER
        assert record.data.emails == emails  # kept on record, just not mailed
        assert session.exec(select(MailProblem)).all() == []  # the problem ended with it
        queued = [(op.kind, op.body) for op in session.exec(
            select(OutboxOp).order_by(col(OutboxOp.position))).all()]
    assert queued == [(OpKind.HOUSEHOLD_UPSERT, queued[0][1]),
                      (OpKind.MAIL_ADDRESSES, {"household_id": str(household_id),
                                               "addresses": []})]
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    with window.file.read() as session:
        record = households.get_household(session, household_id=household_id)
        assert record.data.channel == NoticeChannel.EMAIL
        last = session.exec(select(OutboxOp).order_by(col(OutboxOp.position).desc())).first()
    assert last is not None and last.kind == OpKind.MAIL_ADDRESSES
    assert last.body["addresses"] == list(emails)


def test_no_problem_no_switch_and_an_invalid_address_is_still_refused(
    window: MainWindow, drive: Callable[[Fill], list[HouseholdDialog]], messages: Messages
) -> None:
    household_id, _emails = _email_household(window)
    with window.file.write() as session:
        mark_paired(session)

    def typo(dialog: HouseholdDialog) -> None:
        assert not dialog.paper_button.isVisible()
        dialog.emails[0].setText("yamada@example")  # no dotted domain
        dialog.accept()

    opened = drive(typo)
    window.household_actions.edit_household(household_id)
    assert "is not an e-mail address" in messages.warnings[0]
    assert opened[0].isVisible() and opened[0].focusWidget() is opened[0].emails[0]
    opened[0].reject()
    with window.file.read() as session:
        assert session.exec(select(OutboxOp)).all() == []  # nothing saved, nothing sent
