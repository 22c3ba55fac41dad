"""Read on the app, from the circulars tab: per 班 which app households read a sent circular
(markers brought in by sync), and 「未読の世帯に再送」 queueing the circular again after a yes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import select

from desktop.domain.circulars import create_circular, recipients
from desktop.domain.models import CircularRead, NoticeChannel, OutboxOp, ReplyChannel
from desktop.ui.main_window import MainWindow
from sync.protocol import OpKind
from tests.sync.helpers import mark_paired
from tests.ui.helpers import Messages
from tests.ui.test_reply_entry import ATTENDANCE, sent

AT = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)


def _app_households(window: MainWindow, circular_id: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    with window.file.read() as session:
        return [(r.number, r.household_id) for r in recipients(
            session, circular_id=circular_id, channel=NoticeChannel.APP)]


def test_read_and_unread_per_han_and_resend(window: MainWindow, messages: Messages) -> None:
    window.sync_actions.stop()  # no relay here: no sync cycles
    circular_id = sent(window)
    app = _app_households(window, circular_id)
    assert len(app) >= 2
    first_number, first_id = app[0]
    with window.file.write() as session:
        session.add(CircularRead(circular_id=circular_id, household_id=first_id, read_at=AT,
                                 channel=ReplyChannel.APP))
        mark_paired(session)

    window.circular_actions.refresh(select=circular_id)
    panel = window.circulars
    assert panel.current_id() == circular_id and panel.read_button.isEnabled()
    panel.read_button.click()
    dialog = window.circular_actions.read_status
    assert dialog is not None and dialog.isVisible()
    shown = dialog.listed()
    rows = [row for han in shown.values() for row in han]
    assert sorted(number for number, _read in rows) == sorted(number for number, _id in app)
    assert (first_number, True) in rows
    assert sum(1 for _number, read in rows if not read) == len(app) - 1
    assert f"not yet: {len(app) - 1}" in dialog.summary.text()

    messages.answer = False  # asked first: "no" queues nothing
    assert dialog.resend() == 0
    assert messages.questions and str(len(app) - 1) in messages.questions[-1]
    messages.answer = True
    dialog.resend_button.click()
    with window.file.read() as session:
        ops = session.exec(select(OutboxOp)).all()
    assert [op.kind for op in ops] == [OpKind.CIRCULAR_PUBLISH]
    assert {str(h) for _n, h in app} <= set(ops[0].body["household_ids"])  # type: ignore[arg-type]
    dialog.reject()


def test_a_draft_has_no_read_status(window: MainWindow, messages: Messages) -> None:
    with window.file.write() as session:
        draft = create_circular(session, data=ATTENDANCE)
    window.show_circulars()
    window.circular_actions.refresh(select=draft)
    assert window.circulars.current_id() == draft
    assert not window.circulars.read_button.isEnabled()
    assert window.circular_actions.show_read_status(draft) is None
    assert messages.warnings and "not been sent" in messages.warnings[-1]
