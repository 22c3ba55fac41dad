"""The outbox: queued in the same transaction as the change, only when paired, in order, with
bodies the relay accepts and nothing of the roster it must not see."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.groups import rename_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    bulk_add_households,
    create_household,
    delete_new_household,
    get_household,
    move_household,
    purge_household,
    readmit_household,
    update_household,
    withdraw_household,
)
from desktop.domain.models import Ask, OutboxOp, OutboxState, ReplyChannel
from desktop.domain.replies import record_reply
from desktop.domain.safety import set_disaster_mode
from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.protocol import Op, check_op, hash_secret
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import mark_paired

SENT_AT = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def _queued(session: Session) -> list[tuple[str, dict[str, Any]]]:
    ops = session.exec(select(OutboxOp).order_by(OutboxOp.position)).all()  # type: ignore[arg-type]
    for op in ops:  # every queued body is one the relay takes
        check_op(Op(str(op.id), op.kind, op.body))
    return [(op.kind, dict(op.body)) for op in ops]


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return build_town(session)


def test_nothing_is_queued_while_the_file_is_not_paired(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        assert outbox.enqueue(session, kind="disaster.set",
                              body={"on": True, "message": ""}) is None
        set_disaster_mode(session, on=True, at=SENT_AT)
        assert _queued(session) == []


def test_household_changes_are_queued_with_only_what_residents_see(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        mark_paired(session)
        new_id = create_household(
            session, data=HouseholdData(number="0100", display_name="新井 一郎",
                                        address="桜町9-9", phone="03-1234-5678"),
            members=[MemberData(name="新井 一郎", phone="090-1111-2222")], group_id=town.han3)
        record = get_household(session, household_id=new_id)
        update_household(session, household_id=new_id,
                         data=HouseholdData(number="0100", display_name="新井 一郎様"),
                         members=record.members)
        move_household(session, household_id=new_id, group_id=town.han1)
        withdraw_household(session, household_id=new_id, left_on=date(2026, 3, 31))
        update_household(session, household_id=new_id,  # withdrawn: nothing for the relay
                         data=HouseholdData(number="0100", display_name="新井"),
                         members=record.members)
        readmit_household(session, household_id=new_id)
        withdraw_household(session, household_id=new_id, left_on=date(2026, 4, 30))
        purge_household(session, household_id=new_id)
        queued = _queued(session)
    assert [kind for kind, _body in queued] == [
        "household.upsert", "household.upsert", "household.upsert", "household.purge",
        "household.upsert", "household.purge", "household.purge"]
    first = queued[0][1]
    assert first == {"household_id": str(new_id), "number": "0100", "display_name": "新井 一郎",
                     "group_id": str(town.han3), "group_name": "3班"}
    assert queued[1][1]["display_name"] == "新井 一郎様"
    assert queued[2][1]["group_name"] == "1班"
    text = repr(queued)
    # (not "1234" alone: the random hex of an id may hold it)
    assert "桜町9-9" not in text and "03-1234-5678" not in text and "090-1111-2222" not in text
    assert all(set(body) == set(first) or set(body) == {"household_id"}
               for _kind, body in queued)  # nothing but what residents see


def test_undoing_a_new_household_purges_it(association_file: AssociationFile, town: Town
                                           ) -> None:
    with association_file.write() as session:
        mark_paired(session)
        new_id = create_household(session, data=HouseholdData(number="0100",
                                                              display_name="新井 一郎"))
        delete_new_household(session, household_id=new_id)
        assert [kind for kind, _ in _queued(session)] == ["household.upsert", "household.purge"]


def test_a_change_that_fails_queues_nothing(association_file: AssociationFile, town: Town
                                            ) -> None:
    with association_file.write() as session:
        mark_paired(session)
    with pytest.raises(RuntimeError), association_file.write() as session:
        create_household(session, data=HouseholdData(number="0100", display_name="新井 一郎"))
        assert len(_queued(session)) == 1
        raise RuntimeError("the transaction is rolled back")
    with association_file.read() as session:
        assert _queued(session) == []
        assert outbox.counts(session) == (0, 0)


def test_bulk_import_queues_every_new_household(association_file: AssociationFile, town: Town
                                                ) -> None:
    with association_file.write() as session:
        mark_paired(session)
        new = [NewHousehold(uuid.uuid4(), town.han2, index,
                            HouseholdData(number=f"9{index:03}", display_name=f"世帯{index}"), ())
               for index in range(3)]
        bulk_add_households(session, new)
        queued = _queued(session)
    assert [body["number"] for _kind, body in queued] == ["9000", "9001", "9002"]
    assert {body["group_name"] for _kind, body in queued} == {"2班"}


def test_sending_a_circular_publishes_it_to_its_households(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        mark_paired(session)
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="# 集合\n公民館", issued_on=date(2025, 10, 1),
            issuer="会長 山田", map_url="https://example.jp/map", ask=Ask.ATTENDANCE,
            deadline=date(2025, 10, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        [(kind, body)] = _queued(session)
    assert kind == "circular.publish"
    assert body["title"] == "防災訓練" and body["ask"] == "attendance"
    assert body["questions"] == [{"text": "出欠", "kind": "choice", "choices": ["出席", "欠席"]}]
    assert body["deadline"] == "2025-10-15" and body["issued_on"] == "2025-10-01"
    active = {str(town.households[n]) for n in town.households if n != "0007"}
    assert set(body["household_ids"]) == active  # 0007 has withdrawn


def test_office_entered_replies_are_recorded_for_other_office_pcs(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2025, 10, 1), ask=Ask.ATTENDANCE,
            deadline=date(2025, 10, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        mark_paired(session)
        record_reply(session, circular_id=circular_id, entry="0001", answers=["出席"],
                     channel=ReplyChannel.PAPER, received_at=SENT_AT)
        record_reply(session, circular_id=circular_id, entry="0001", answers=["出席"],
                     channel=ReplyChannel.PAPER, received_at=SENT_AT)  # unchanged: no op
        record_reply(session, circular_id=circular_id, entry="0001", answers=["欠席"],
                     channel=ReplyChannel.PHONE, received_at=SENT_AT, correct=True)
        queued = _queued(session)
    household = str(town.households["0001"])
    assert queued == [
        ("answer.record", {"circular_id": str(circular_id), "household_id": household,
                           "answers": ["出席"], "channel": "paper"}),
        ("answer.record", {"circular_id": str(circular_id), "household_id": household,
                           "answers": ["欠席"], "channel": "phone"}),
    ]


def test_disaster_switch_is_queued_once_per_change(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        mark_paired(session)
        set_disaster_mode(session, on=True, message="避難所は公民館", at=SENT_AT)
        set_disaster_mode(session, on=True, message="避難所は公民館", at=SENT_AT)  # no change
        set_disaster_mode(session, on=False, at=SENT_AT)
        set_disaster_mode(session, on=False, at=SENT_AT)
        assert _queued(session) == [("disaster.set", {"on": True, "message": "避難所は公民館"}),
                                    ("disaster.set", {"on": False, "message": ""})]


def test_snapshot_sends_current_households_and_open_circulars(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        for title, deadline in (("締切前", date(2026, 7, 1)), ("締切後", date(2026, 5, 1))):
            circular_id = create_circular(session, data=CircularData(
                title=title, body="", issued_on=date(2026, 4, 1), ask=Ask.READ,
                deadline=deadline))
            send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        mark_paired(session)
        count = outbox.enqueue_snapshot(session, today=date(2026, 6, 1))
        queued = _queued(session)
    assert count == len(queued) == 9
    assert [kind for kind, _ in queued] == (["household.upsert"] * 5 + ["mail.addresses"]
                                            + ["household.upsert"] * 2 + ["circular.publish"])
    assert queued[-1][1]["title"] == "締切前"
    assert queued[-1][1]["questions"] == []


def test_positions_keep_the_order_even_within_one_millisecond(
    association_file: AssociationFile
) -> None:
    with association_file.write() as session:
        mark_paired(session)
        ids = [outbox.enqueue(session, kind="household.purge",
                              body={"household_id": str(uuid.uuid4())}) for _ in range(50)]
        ids.append(None)
        count = outbox.enqueue_many(session, [("household.purge", {"household_id": "x"})] * 3)
        queued = outbox.pending(session, limit=100)
    assert count == 3
    assert [op.id for op in queued[:50]] == ids[:50]
    assert len(queued) == 53


def test_problems_can_be_retried_with_a_new_id_or_discarded(
    association_file: AssociationFile
) -> None:
    with association_file.write() as session:
        mark_paired(session)
        first = outbox.enqueue(session, kind="household.purge", body={"household_id": "1"})
        second = outbox.enqueue(session, kind="household.purge", body={"household_id": "2"})
        assert first is not None and second is not None
        outbox.reject(session, op_id=first, code="invalid_body", message="bad")
        outbox.reject(session, op_id=second, code="not_found", message="missing")
        assert outbox.counts(session) == (0, 2)
        assert [(p.error_code, p.error_message) for p in outbox.problems(session)] == [
            ("invalid_body", "bad"), ("not_found", "missing")]
        outbox.retry_problem(session, op_id=second)
        outbox.discard_problem(session, op_id=first)
        [again] = outbox.pending(session, limit=10)
        assert outbox.counts(session) == (1, 0)
        assert again.id != second and again.body == {"household_id": "2"}
        assert session.get(OutboxOp, again.id).state == OutboxState.PENDING  # type: ignore[union-attr]
        assert outbox.clear(session) == 1


def test_helpers_for_renames_invitations_and_retractions(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        mark_paired(session)
        rename_group(session, group_id=town.han1, name="一班")  # queues the 班's households
        outbox.invitation_issued(session, household_id=town.households["0001"],
                                 code_hash=hash_secret("ABCD-EFGH"))
        outbox.invitation_revoked(session, household_id=town.households["0001"])
        circular_id = uuid.uuid4()
        outbox.circular_retracted(session, circular_id=circular_id)
        queued = _queued(session)
    assert [(kind, body.get("number")) for kind, body in queued[:3]] == [
        ("household.upsert", "0003"), ("household.upsert", "0001"),
        ("household.upsert", "0002")]  # the 班's route order
    assert {body["group_name"] for _kind, body in queued[:3]} == {"一班"}
    assert [kind for kind, _body in queued[3:]] == [
        "invitation.issue", "invitation.revoke", "circular.retract"]
    assert queued[3][1]["code_hash"] != "ABCD-EFGH"
