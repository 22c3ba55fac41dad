"""Read/unread per household on the app, per 班, and re-sending a circular to the app
households that have not read it (the whole recipient list goes again: publishing replaces
it on the relay)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from desktop.domain.circulars import create_circular, send_circular
from desktop.domain.errors import ConflictError
from desktop.domain.models import CircularRead, NoticeChannel, OutboxOp, ReplyChannel
from desktop.domain.read_status import read_status, resend_to_unread, unread_app_households
from desktop.store.association_file import AssociationFile
from sync.protocol import OpKind
from tests.domain.test_circulars import Town, _household, build_town, notice
from tests.sync.helpers import mark_paired

AT = datetime(2025, 10, 2, 9, 0, tzinfo=UTC)


def test_read_and_unread_per_han_and_resend(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        town: Town = build_town(session)
        app_han2 = _household(session, "0009", town.han2, NoticeChannel.APP)
        circular_id = create_circular(session, data=notice())
        with pytest.raises(ConflictError, match="not been sent"):
            read_status(session, circular_id=circular_id)
        send_circular(session, circular_id=circular_id, sent_at=AT)
        paper_reader = town.households["0004"]
        session.add(CircularRead(circular_id=circular_id, household_id=paper_reader,
                                 read_at=AT, channel=ReplyChannel.APP))
        session.add(CircularRead(circular_id=circular_id, household_id=app_han2, read_at=AT,
                                 channel=ReplyChannel.APP))
        session.flush()
        groups = read_status(session, circular_id=circular_id)
        assert [(g.group_name, [h.number for h in g.households], g.read, g.unread)
                for g in groups] == [("1班", ["0002"], 0, 1), ("2班", ["0004", "0009"], 2, 0)]
        assert unread_app_households(session, circular_id=circular_id) == \
            [town.households["0002"]]
        with pytest.raises(ConflictError, match="not connected"):
            resend_to_unread(session, circular_id=circular_id)

        mark_paired(session)
        assert resend_to_unread(session, circular_id=circular_id) == 1
        ops = session.exec(select(OutboxOp)).all()
        assert [op.kind for op in ops] == [OpKind.CIRCULAR_PUBLISH]
        sent_to = set(ops[0].body["household_ids"])  # type: ignore[arg-type]
        assert {str(town.households["0002"]), str(app_han2), str(paper_reader)} <= sent_to

        session.add(CircularRead(circular_id=circular_id, household_id=town.households["0002"],
                                 read_at=AT, channel=ReplyChannel.APP))
        session.flush()
        assert resend_to_unread(session, circular_id=circular_id) == 0
        assert len(session.exec(select(OutboxOp)).all()) == 1  # nothing more queued
