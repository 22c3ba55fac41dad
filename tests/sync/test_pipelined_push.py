"""The engine's pipelined push: several chained batches in flight, answers settled in order,
and the fall-back to one batch at a time (no ``after``) at the first refusal.

Against a fake relay that keeps the chaining promise (a batch is applied only after the one it
follows; an unknown or refused one gives 409 ``out_of_order``), and against the real relay over
HTTPS for a flush of 1,000 operations.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.backoff import Backoff
from sync.client import RelayClient, RelayRefused, RelayUnavailable
from sync.engine import Outcome, open_client, push_outbox, sync_once
from sync.protocol import ErrorCode, Op, OpResult
from tests.sync.conftest import Paired
from tests.sync.helpers import FakeRelay, mark_paired


@dataclass
class ChainingRelay(FakeRelay):
    """A :class:`FakeRelay` that also takes chained batches, from several threads: a batch
    waits for the one it follows and is refused (409) when that one is unknown or failed.
    ``refuse``/``drop`` name chained calls (0-based, in arrival order) to answer 409 or to
    fail as a lost connection."""

    refuse: set[int] = field(default_factory=set)
    drop: set[int] = field(default_factory=set)
    chained: list[tuple[str, str | None]] = field(default_factory=list)
    done: dict[str, bool] = field(default_factory=dict)  # batch → applied
    in_flight_peak: int = 0
    _in_flight: int = 0
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def chained_push(self, ops: Sequence[str], *, batch: str, after: str | None
                     ) -> list[OpResult]:
        with self._lock:
            self._in_flight += 1
            self.in_flight_peak = max(self.in_flight_peak, self._in_flight)
            try:
                index = len(self.chained)
                self.chained.append((batch, after))
                if after is not None:
                    self._lock.wait_for(lambda: after in self.done, timeout=2)
                if index in self.refuse or (after is not None and not self.done.get(after)):
                    self.done[batch] = False
                    self._lock.notify_all()
                    raise RelayRefused("out of order", status=409,
                                       code=ErrorCode.OUT_OF_ORDER.value)
                if index in self.drop:
                    self.done[batch] = False
                    self._lock.notify_all()
                    raise RelayUnavailable("lost", offline=True)
                parsed = [json.loads(text) for text in ops]
                results = self.push([Op(o["id"], o["kind"], o["body"]) for o in parsed])
                self.done[batch] = True
                self._lock.notify_all()
                return results
            finally:
                self._in_flight -= 1


@pytest.fixture
def paired_file(association_file: AssociationFile) -> AssociationFile:
    with association_file.write() as session:
        mark_paired(session)
    return association_file


def _queue(store: AssociationFile, count: int) -> list[str]:
    with store.write() as session:
        outbox.enqueue_many(session, [("household.purge", {"household_id": str(uuid.uuid4())})
                                      for _ in range(count)])
        return [str(op.id) for op in outbox.pending(session, limit=count)]


def _pending(store: AssociationFile) -> int:
    with store.read() as session:
        return outbox.counts(session)[0]


def test_the_window_sends_chained_batches_in_order(paired_file: AssociationFile) -> None:
    expected = _queue(paired_file, 1000)
    relay = ChainingRelay()
    status = sync_once(paired_file, relay, window=4)
    assert (status.outcome, status.pushed, status.pending) == (Outcome.SYNCED, 1000, 0)
    assert list(relay.applied) == expected  # exactly once, in the order they were made
    assert relay.pushes == [100] * 10
    assert [after for _batch, after in relay.chained[1:]] == [
        batch for batch, _after in relay.chained[:-1]]  # each names the one before
    assert relay.chained[0][1] is None


def test_a_409_falls_back_to_one_batch_at_a_time(paired_file: AssociationFile) -> None:
    expected = _queue(paired_file, 1000)
    relay = ChainingRelay(refuse={3})
    pushed = push_outbox(paired_file, relay, window=4)
    assert pushed == 1000 and _pending(paired_file) == 0
    assert list(relay.applied) == expected
    # Chained up to the refusal (the batches behind it were refused too), then plain pushes.
    assert len(relay.chained) < 10 and sum(relay.pushes) == 1000


def test_a_lost_answer_in_the_window_ends_the_cycle_and_nothing_is_lost(
        paired_file: AssociationFile) -> None:
    expected = _queue(paired_file, 600)
    relay = ChainingRelay(drop={2})
    status = sync_once(paired_file, relay, window=4, backoff=Backoff(rng=lambda: 1.0))
    assert status.outcome == Outcome.OFFLINE and status.retry_in == 1.0
    assert 0 < status.pushed < 600 and status.pending == 600 - status.pushed
    with paired_file.read() as session:
        attempts = Counter(op.attempts for op in outbox.pending(session, limit=1000))
    assert attempts[1] == 100  # the batch that could not be sent was counted a failure
    status = sync_once(paired_file, relay, window=4)
    assert (status.outcome, status.pending) == (Outcome.SYNCED, 0)
    assert list(relay.applied) == expected


def test_a_client_that_cannot_chain_pushes_one_batch_at_a_time(
        paired_file: AssociationFile) -> None:
    _queue(paired_file, 250)
    relay = FakeRelay()
    status = sync_once(paired_file, relay, window=4)
    assert (status.outcome, relay.pushes) == (Outcome.SYNCED, [100, 100, 50])


def test_the_window_flushes_1000_operations_to_the_relay_exactly_once(
        paired: Paired) -> None:
    store = paired.store
    expected = _queue(store, 1000)
    calls: list[str | None] = []
    with open_client(store) as client:
        chained = client.chained_push

        def counting(ops: Sequence[str], *, batch: str, after: str | None) -> list[OpResult]:
            calls.append(after)
            return chained(ops, batch=batch, after=after)

        client.chained_push = counting  # type: ignore[method-assign]
        status = sync_once(store, client, window=4)
    assert isinstance(client, RelayClient)
    assert (status.outcome, status.pending) == (Outcome.SYNCED, 0)
    assert len(calls) == 10 and calls[0] is None and all(calls[1:])
    with paired.relay.database.read() as connection:
        from sqlalchemy import select

        from sync.relay import tables

        rows = connection.execute(
            select(tables.applied_op.c.op_id)
            .where(tables.applied_op.c.association_id == paired.association_id)
            .order_by(tables.applied_op.c.seq)).scalars().all()
    sent = [op for op in rows if op in set(expected)]
    assert sent == expected  # each once, in the order they were made
