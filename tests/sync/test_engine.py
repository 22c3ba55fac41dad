"""One sync cycle against a fake relay that keeps the protocol's promises: batches of 100,
per-op results, rejected ops set aside, passing failures backed off, pages applied with the
cursor, and an epoch change that pulls everything again and keeps the outbox."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.models import Ask, Reply, ReplyChannel, SyncState
from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.backoff import Backoff
from sync.client import RelayRefused, RelayUnavailable
from sync.engine import Outcome, read_status, sync_once, sync_until_done
from sync.protocol import LogPage, Op
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import FakeRelay, mark_paired

SENT_AT = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def paired(association_file: AssociationFile) -> AssociationFile:
    with association_file.write() as session:
        mark_paired(session)
    return association_file


def _queue(store: AssociationFile, count: int, *, kind: str = "household.purge") -> None:
    with store.write() as session:
        outbox.enqueue_many(session, [(kind, {"household_id": str(uuid.uuid4())})
                                      for _ in range(count)])


def test_not_paired_does_nothing(association_file: AssociationFile) -> None:
    relay = FakeRelay()
    status = sync_once(association_file, relay)
    assert status.outcome == Outcome.NOT_PAIRED and not status.paired
    assert relay.pushes == []


def test_pushes_in_batches_of_100_in_order_and_empties_the_outbox(
    paired: AssociationFile
) -> None:
    _queue(paired, 250)
    with paired.read() as session:
        expected = [str(op.id) for op in outbox.pending(session, limit=1000)]
    relay = FakeRelay()
    status = sync_once(paired, relay)
    assert relay.pushes == [100, 100, 50]
    assert list(relay.applied) == expected
    assert (status.outcome, status.pushed, status.pending, status.rejected) == (
        Outcome.SYNCED, 250, 0, 0)
    assert status.synced_at is not None and status.error == ""
    with paired.read() as session:
        state = session.get(SyncState, 1)
        assert state is not None and state.cursor == 250 and state.last_push_at is not None


def test_a_poison_op_is_set_aside_and_never_blocks_the_rest(paired: AssociationFile) -> None:
    _queue(paired, 120)
    with paired.write() as session:
        outbox.enqueue(session, kind="household.purge", body={"household_id": "not-a-uuid"})
    _queue(paired, 30)
    relay = FakeRelay()
    status = sync_once(paired, relay)
    assert (status.outcome, status.pushed, status.pending, status.rejected) == (
        Outcome.SYNCED, 150, 0, 1)
    with paired.read() as session:
        [problem] = outbox.problems(session)
    assert problem.error_code == "invalid_body"
    assert problem.body == {"household_id": "not-a-uuid"}
    assert sync_once(paired, relay).pushed == 0  # never sent again by itself


def test_a_batch_refused_whole_is_split_until_the_bad_op_is_found(paired: AssociationFile
                                                                  ) -> None:
    _queue(paired, 10)
    with paired.write() as session:
        bad = outbox.enqueue(session, kind="household.purge",
                             body={"household_id": str(uuid.uuid4())})
    _queue(paired, 5)

    class Picky(FakeRelay):
        def push(self, ops: object) -> list:  # type: ignore[override, type-arg]
            if any(op.id == str(bad) for op in ops):  # type: ignore[attr-defined]
                raise RelayRefused("too large", status=413, code="too_large")
            return super().push(ops)  # type: ignore[arg-type]

    relay = Picky()
    status = sync_once(paired, relay)
    assert (status.pushed, status.rejected, status.pending) == (15, 1, 0)
    with paired.read() as session:
        [problem] = outbox.problems(session)
    assert (problem.id, problem.error_code) == (bad, "too_large")


def test_an_op_too_large_for_any_request_is_set_aside_before_sending(
    paired: AssociationFile
) -> None:
    with paired.write() as session:
        outbox.enqueue(session, kind="circular.retract", body={"circular_id": "x" * 1_100_000})
    _queue(paired, 3)
    relay = FakeRelay()
    status = sync_once(paired, relay)
    assert (status.pushed, status.rejected) == (3, 1)
    with paired.read() as session:
        assert outbox.problems(session)[0].error_code == "too_large"


def test_big_ops_are_sent_in_batches_that_fit_in_a_request(paired: AssociationFile) -> None:
    with paired.write() as session:
        for _ in range(5):
            outbox.enqueue(session, kind="circular.retract",
                           body={"circular_id": "x" * 300_000})
    relay = FakeRelay()
    sync_once(paired, relay)
    assert relay.pushes == [3, 2]


def test_network_errors_back_off_and_keep_everything(paired: AssociationFile) -> None:
    _queue(paired, 5)
    relay = FakeRelay(fail_next=[RelayUnavailable("offline", offline=True)])
    backoff = Backoff(rng=lambda: 1.0)
    status = sync_once(paired, relay, backoff=backoff)
    assert (status.outcome, status.pending, status.retry_in, status.error) == (
        Outcome.OFFLINE, 5, 1.0, "offline")
    with paired.read() as session:
        assert {op.attempts for op in outbox.pending(session, limit=10)} == {1}
        assert read_status(paired).error == "offline"  # kept for the status bar
    relay.fail_next = [RelayUnavailable("busy", offline=False, retry_after=42, status=429)]
    status = sync_once(paired, relay, backoff=backoff)
    assert (status.outcome, status.retry_in) == (Outcome.BUSY, 42)
    status = sync_once(paired, relay, backoff=backoff)
    assert (status.outcome, status.pending, status.error) == (Outcome.SYNCED, 0, "")
    assert backoff.failures == 0


def test_a_lost_answer_is_sent_again_and_counted_once(paired: AssociationFile) -> None:
    _queue(paired, 150)
    relay = FakeRelay(lose_answers=1)
    assert sync_once(paired, relay).outcome == Outcome.OFFLINE
    assert len(relay.applied) == 100  # applied, but the answer never came back
    status = sync_once(paired, relay)
    assert (status.outcome, status.pending, len(relay.log)) == (Outcome.SYNCED, 0, 150)


def test_refused_by_the_relay_stops_and_says_why(paired: AssociationFile) -> None:
    _queue(paired, 2)
    relay = FakeRelay(fail_next=[RelayRefused("access withdrawn", status=401)])
    status = sync_once(paired, relay)
    assert (status.outcome, status.error, status.pending) == (
        Outcome.REFUSED, "access withdrawn", 2)


def _town_with_circular(store: AssociationFile) -> tuple[Town, uuid.UUID]:
    with store.write() as session:
        town = build_town(session)
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2025, 10, 1), ask=Ask.ATTENDANCE,
            deadline=date(2025, 10, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        mark_paired(session)
    return town, circular_id


def test_pull_applies_pages_and_moves_the_cursor(association_file: AssociationFile) -> None:
    town, circular_id = _town_with_circular(association_file)
    relay = FakeRelay()
    for number in ("0001", "0002", "0003"):
        relay.add("answer", {"answer_id": str(uuid.uuid4()), "circular_id": str(circular_id),
                             "household_id": str(town.households[number]),
                             "answers": ["出席"], "channel": "app",
                             "at": "2025-10-02T10:00:00+00:00"})
    relay.add("household.upsert", {"household_id": str(uuid.uuid4())})  # ignored here
    status = sync_once(association_file, relay, page_limit=2)
    assert status.applied.answers == 3 and status.applied.skipped == 1
    with association_file.read() as session:
        replies = session.exec(select(Reply)).all()
        state = session.get(SyncState, 1)
        assert state is not None and state.cursor == 4
    assert {reply.channel for reply in replies} == {ReplyChannel.APP}
    assert sync_once(association_file, relay).applied.changed == 0  # nothing new


@dataclass
class _PullRecording(FakeRelay):
    """Records each pull: where it started and on which thread."""

    pulls: list[tuple[int, str]] = field(default_factory=list)

    def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
        self.pulls.append((after, threading.current_thread().name))
        return super().pull(after=after, limit=limit, epoch=epoch)


def _answers(relay: FakeRelay, town: Town, circular_id: uuid.UUID, count: int) -> None:
    for number in range(1, count + 1):
        relay.add("answer", {"answer_id": str(uuid.uuid4()), "circular_id": str(circular_id),
                             "household_id": str(town.households[f"{number:04d}"]),
                             "answers": ["出席"], "channel": "app",
                             "at": "2025-10-02T10:00:00+00:00"})


def test_the_next_page_is_fetched_while_one_is_applied(association_file: AssociationFile
                                                       ) -> None:
    town, circular_id = _town_with_circular(association_file)
    relay = _PullRecording()
    _answers(relay, town, circular_id, 5)
    status = sync_once(association_file, relay, page_limit=2)
    assert status.applied.answers == 5
    # Each page fetched once: the first by the cycle, the next ones read ahead.
    assert [after for after, _thread in relay.pulls] == [0, 2, 4]
    assert [thread.startswith("kairan-pull") for _after, thread in relay.pulls] == [
        False, True, True]


def test_a_page_read_ahead_from_an_old_epoch_is_not_applied(association_file: AssociationFile
                                                            ) -> None:
    town, circular_id = _town_with_circular(association_file)

    class Restored(_PullRecording):
        def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
            if after == 2 and self.epoch == "e1":  # restored while page one was applied
                self.epoch, self.log = "e2", self.log[:1]
            return super().pull(after=after, limit=limit, epoch=epoch)

    relay = Restored()
    _answers(relay, town, circular_id, 4)
    status = sync_once(association_file, relay, page_limit=2)
    assert status.outcome == Outcome.SYNCED
    assert [after for after, _thread in relay.pulls] == [0, 2, 0]  # all again, once
    with association_file.read() as session:
        state = session.get(SyncState, 1)
        assert state is not None and (state.epoch, state.cursor) == ("e2", 1)


def test_an_epoch_change_pulls_everything_again_and_keeps_the_outbox(
    association_file: AssociationFile
) -> None:
    town, circular_id = _town_with_circular(association_file)
    relay = FakeRelay()
    relay.add("answer", {"answer_id": str(uuid.uuid4()), "circular_id": str(circular_id),
                         "household_id": str(town.households["0001"]), "answers": ["出席"],
                         "channel": "app", "at": "2025-10-02T10:00:00+00:00"})
    sync_once(association_file, relay)
    # The relay is restored from an older backup: a new epoch, a shorter log.
    restored = FakeRelay(epoch="e2", fail_next=[RelayUnavailable("down", offline=True)])
    restored.add("read", {"circular_id": str(circular_id),
                          "household_id": str(town.households["0002"]),
                          "at": "2025-10-02T09:00:00+00:00"})
    _queue(association_file, 3)
    assert sync_once(association_file, restored).outcome == Outcome.OFFLINE
    status = sync_once(association_file, restored)
    assert status.outcome == Outcome.SYNCED
    assert status.applied.reads == 1 and status.pushed == 3
    with association_file.read() as session:
        state = session.get(SyncState, 1)
        assert state is not None and (state.epoch, state.cursor) == ("e2", 4)
        assert len(session.exec(select(Reply)).all()) == 1  # what this PC had stays


def test_sync_until_done_waits_as_the_backoff_says(paired: AssociationFile) -> None:
    _queue(paired, 3)
    relay = FakeRelay(fail_next=[RelayUnavailable("down", offline=True)] * 3)
    slept: list[float] = []
    status = sync_until_done(paired, relay, backoff=Backoff(rng=lambda: 1.0),
                             sleep=slept.append)
    assert status.outcome == Outcome.SYNCED and status.pending == 0
    assert slept == [1.0, 2.0, 4.0]


def test_ops_keep_their_ids_as_idempotency_keys(paired: AssociationFile) -> None:
    _queue(paired, 3)
    with paired.read() as session:
        ids = [str(op.id) for op in outbox.pending(session, limit=10)]
    sent: list[Op] = []

    class Recording(FakeRelay):
        def push(self, ops: object) -> list:  # type: ignore[override, type-arg]
            sent.extend(ops)  # type: ignore[call-overload]
            return super().push(ops)  # type: ignore[arg-type]

    relay = Recording(lose_answers=1)
    sync_once(paired, relay)
    sync_once(paired, relay)
    assert [op.id for op in sent] == ids + ids
