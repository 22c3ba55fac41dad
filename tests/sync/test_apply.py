"""Log items applied to the file: idempotent, in the log's order, local pending changes first,
and nothing for households or circulars this file does not hold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from desktop.domain import audit
from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.models import (
    Ask,
    CircularRead,
    Reply,
    ReplyChannel,
    SafetyAnswer,
    SafetyStatus,
)
from desktop.domain.replies import record_reply
from desktop.domain.safety import disaster_state, set_disaster_mode
from desktop.store.association_file import AssociationFile
from sync.apply import apply_items, read_markers
from sync.protocol import LogItem
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import mark_paired

SENT_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
AT = "2026-06-02T10:00:00+00:00"


@pytest.fixture
def setup(association_file: AssociationFile) -> tuple[Town, uuid.UUID]:
    with association_file.write() as session:
        town = build_town(session)
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2026, 6, 1), ask=Ask.ATTENDANCE,
            deadline=date(2026, 6, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    return town, circular_id


def _items(*entries: tuple[str, dict[str, Any]]) -> list[LogItem]:
    return [LogItem(seq, kind, body, AT) for seq, (kind, body) in enumerate(entries, start=1)]


def _answer(circular_id: uuid.UUID, household_id: uuid.UUID, answers: list[str],
            **extra: Any) -> tuple[str, dict[str, Any]]:
    return ("answer", {"answer_id": str(uuid.uuid4()), "circular_id": str(circular_id),
                       "household_id": str(household_id), "answers": answers,
                       "channel": "app", "at": AT, **extra})


def _replies(session: Session) -> dict[uuid.UUID, tuple[tuple[str, ...], ReplyChannel]]:
    return {r.household_id: (tuple(r.answers), ReplyChannel(r.channel))
            for r in session.exec(select(Reply)).all()}


def test_residents_answers_join_the_paper_ones_and_mark_the_circular_read(
    association_file: AssociationFile, setup: tuple[Town, uuid.UUID]
) -> None:
    town, circular_id = setup
    first = town.households["0001"]
    items = _items(_answer(circular_id, first, ["出席"]),
                   ("read", {"circular_id": str(circular_id),
                             "household_id": str(town.households["0002"]), "at": AT}))
    with association_file.write() as session:
        applied = apply_items(session, items)
        again = apply_items(session, items)  # a page applied twice changes nothing
        replies = _replies(session)
        reads = read_markers(session, circular_id=circular_id)
    assert (applied.answers, applied.reads, again.changed) == (1, 1, 0)
    assert replies == {first: (("出席",), ReplyChannel.APP)}
    assert set(reads) == {first, town.households["0002"]}  # answering is reading
    assert reads[first] == datetime.fromisoformat(AT)


def test_the_later_answer_in_the_log_wins(association_file: AssociationFile,
                                          setup: tuple[Town, uuid.UUID]) -> None:
    town, circular_id = setup
    household = town.households["0003"]
    with association_file.write() as session:
        record_reply(session, circular_id=circular_id, entry="0003", answers=["出席"],
                     channel=ReplyChannel.PAPER, received_at=SENT_AT)
        apply_items(session, _items(_answer(circular_id, household, ["欠席"])))
        assert _replies(session)[household] == (("欠席",), ReplyChannel.APP)


def test_a_change_still_in_the_outbox_is_newer_than_the_log(
    association_file: AssociationFile, setup: tuple[Town, uuid.UUID]
) -> None:
    town, circular_id = setup
    household = town.households["0003"]
    with association_file.write() as session:
        mark_paired(session)
        record_reply(session, circular_id=circular_id, entry="0003", answers=["出席"],
                     channel=ReplyChannel.PAPER, received_at=SENT_AT)
        set_disaster_mode(session, on=True, at=SENT_AT)
        applied = apply_items(session, _items(
            _answer(circular_id, household, ["欠席"]),
            ("answer.record", {"circular_id": str(circular_id),
                               "household_id": str(household), "answers": ["欠席"],
                               "channel": "phone"}),
            ("disaster.set", {"on": False, "message": ""})))
        assert applied.changed == 0 and applied.skipped == 3
        assert _replies(session)[household] == (("出席",), ReplyChannel.PAPER)
        state = disaster_state(session)
        assert state is not None and state.on


def test_items_about_unknown_households_or_circulars_are_skipped(
    association_file: AssociationFile, setup: tuple[Town, uuid.UUID]
) -> None:
    town, circular_id = setup
    stranger, withdrawn = uuid.uuid4(), town.households["0007"]  # 0007 got no copy
    with association_file.write() as session:
        applied = apply_items(session, _items(
            _answer(circular_id, stranger, ["出席"]),
            _answer(uuid.uuid4(), town.households["0001"], ["出席"]),
            _answer(circular_id, withdrawn, ["出席"]),
            ("read", {"circular_id": "garbage", "household_id": str(stranger)}),
            ("safety", {"answer_id": str(uuid.uuid4()), "household_id": str(stranger),
                        "status": "ok", "note": "", "needs_help": False, "at": AT}),
            ("safety", {"answer_id": str(uuid.uuid4()),
                        "household_id": str(town.households["0001"]), "status": "fine"}),
            ("household.upsert", {"household_id": str(uuid.uuid4())}),
            ("something.new", {}),
        ))
        assert applied.changed == 0 and applied.skipped == 8
        assert session.exec(select(Reply)).all() == []
        assert session.exec(select(CircularRead)).all() == []
        assert session.exec(select(SafetyAnswer)).all() == []


def test_safety_answers_are_stored_once(association_file: AssociationFile,
                                        setup: tuple[Town, uuid.UUID]) -> None:
    town, _circular_id = setup
    answer_id = str(uuid.uuid4())
    item = ("safety", {"answer_id": answer_id, "household_id": str(town.households["0004"]),
                       "status": "contact", "note": "電話ください", "needs_help": True,
                       "at": AT})
    household_id = town.households["0004"]
    with association_file.write() as session:
        audit.attach(session, audit.RELAY)
        assert apply_items(session, _items(item, item)).safety == 1
        assert apply_items(session, _items(item)).safety == 0
    with association_file.read() as session:  # written past the ORM: read back through it
        [stored] = session.exec(select(SafetyAnswer)).all()
        assert (str(stored.id), stored.household_id, stored.status, stored.note,
                stored.needs_help, stored.channel, stored.at.replace(tzinfo=UTC),
                stored.entered_by) == (
            answer_id, household_id, SafetyStatus.CONTACT, "電話ください", True,
            ReplyChannel.APP, datetime.fromisoformat(AT), "")
        [record] = [e for e in audit.history(session) if e.entity == "safety_answer"]
    assert (record.action, record.entity_id, record.household_id, record.summary,
            record.changes) == (
        "insert", uuid.UUID(answer_id).hex, household_id, "0004",
        {"status": [None, "contact"], "note": [None, "電話ください"], "needs_help": [None, True],
         "channel": [None, "app"], "at": [None, "2026-06-02T10:00:00.000000"]})
