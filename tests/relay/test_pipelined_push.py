"""Chained pushes (``batch`` / ``after``) and the relay's group commit, on SQLite and PostgreSQL.

Over HTTPS: a batch that arrives before the one it follows waits for it and is applied after it;
an unknown or refused ``after`` is answered 409 ``out_of_order`` with nothing applied. Directly on
the queue (:class:`sync.relay.push_queue.PushQueue`, in one event loop so that the requests are
queued together): one commit for the group, every request answered with its own per-op
results, and a request that fails takes no other down.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sync.protocol import OPS_PATH, ErrorCode, OpStatus
from sync.relay import admin, push_queue
from sync.relay.auth import RequestRefused
from sync.relay.db import Database
from sync.relay.push_queue import Push, PushQueue
from tests.relay.relay_server import RunningRelay, household_op, migrated_database, pull_all


def _office(relay: RunningRelay) -> tuple[str, str]:
    """A new association on the relay and an office token of it."""
    association_id, code = relay.new_association()
    return association_id, str(relay.pair(code)["token"])


def _post(client: httpx.Client, ops: list[dict[str, Any]], *, batch: str | None = None,
          after: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"ops": ops}
    if batch is not None:
        body["batch"] = batch
    if after is not None:
        body["after"] = after
    return client.post(OPS_PATH, json=body)


def _ops(count: int) -> list[dict[str, Any]]:
    return [household_op(number=str(n)) for n in range(count)]


def test_a_batch_that_arrives_first_waits_for_the_one_it_follows(
        relay: RunningRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_queue, "WAIT_SECONDS", 10.0)
    _association, token = _office(relay)
    first, second = _ops(5), _ops(5)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    answers: dict[str, httpx.Response] = {}

    def send_second() -> None:
        answers["second"] = _post(relay.client(token), second, batch=b, after=a)

    late = threading.Thread(target=send_second)
    late.start()
    time.sleep(0.5)  # the second batch is at the relay, waiting
    assert "second" not in answers
    answers["first"] = _post(relay.client(token), first, batch=a)
    late.join(15)
    assert answers["first"].status_code == 200, answers["first"].text
    assert answers["second"].status_code == 200, answers["second"].text
    assert [r["status"] for r in answers["second"].json()["results"]] == ["applied"] * 5
    log = pull_all(relay.client(token))
    assert [item["body"]["household_id"] for item in log] == [
        op["body"]["household_id"] for op in first + second]
    assert [item["seq"] for item in log] == list(range(1, 11))


def test_a_chain_sent_all_at_once_is_applied_in_its_order(relay: RunningRelay) -> None:
    _association, token = _office(relay)
    batches = [_ops(20) for _ in range(8)]
    ids = [str(uuid.uuid4()) for _ in batches]
    answers: list[httpx.Response | None] = [None] * len(batches)

    def send(index: int) -> None:
        answers[index] = _post(relay.client(token), batches[index], batch=ids[index],
                               after=ids[index - 1] if index else None)

    threads = [threading.Thread(target=send, args=(index,))
               for index in reversed(range(len(batches)))]  # the last one first
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(answer is not None and answer.status_code == 200 for answer in answers)
    log = pull_all(relay.client(token))
    assert [item["body"]["household_id"] for item in log] == [
        op["body"]["household_id"] for batch in batches for op in batch]


def test_an_unknown_after_is_refused_and_nothing_is_applied(
        relay: RunningRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_queue, "WAIT_SECONDS", 0.3)
    _association, token = _office(relay)
    client = relay.client(token)
    orphan = str(uuid.uuid4())
    answer = _post(client, _ops(3), batch=orphan, after=str(uuid.uuid4()))
    assert answer.status_code == 409
    assert answer.json()["error"] == ErrorCode.OUT_OF_ORDER.value
    # A batch after the refused one is refused at once, without waiting.
    monkeypatch.setattr(push_queue, "WAIT_SECONDS", 30.0)
    began = time.monotonic()
    answer = _post(client, _ops(3), batch=str(uuid.uuid4()), after=orphan)
    assert answer.status_code == 409 and time.monotonic() - began < 5
    assert pull_all(client) == []


def test_after_a_batch_refused_as_a_whole_nothing_is_applied(
        relay: RunningRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_queue, "WAIT_SECONDS", 30.0)
    _association, token = _office(relay)
    client = relay.client(token)
    refused = str(uuid.uuid4())
    too_many = _post(client, [household_op() for _ in range(501)], batch=refused)
    assert too_many.status_code == 400
    began = time.monotonic()
    answer = _post(client, _ops(2), batch=str(uuid.uuid4()), after=refused)
    assert answer.status_code == 409 and time.monotonic() - began < 5
    assert pull_all(client) == []


def test_another_devices_batch_is_not_followed(relay: RunningRelay,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Chains are per device token: a stranger cannot name (or wait on) another's batch."""
    monkeypatch.setattr(push_queue, "WAIT_SECONDS", 0.3)
    _association, token = _office(relay)
    _other, stranger = _office(relay)
    mine = str(uuid.uuid4())
    assert _post(relay.client(token), _ops(1), batch=mine).status_code == 200
    answer = _post(relay.client(stranger), _ops(1), batch=str(uuid.uuid4()), after=mine)
    assert answer.status_code == 409
    assert pull_all(relay.client(stranger)) == []


def test_without_batch_ids_a_push_is_as_before(relay: RunningRelay) -> None:
    _association, token = _office(relay)
    client = relay.client(token)
    ops = _ops(3)
    assert [r["status"] for r in _post(client, ops).json()["results"]] == ["applied"] * 3
    assert [r["status"] for r in _post(client, ops).json()["results"]] == ["duplicate"] * 3
    bad = _post(client, ops, batch="not-a-uuid")
    assert bad.status_code == 400


# ---------------------------------------------------------------- the queue itself


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    with migrated_database(database_url) as opened:
        yield opened


def _token(database: Database) -> str:
    made = admin.create_association(database, name="まとめ町内会", code_hours=1)
    from sync.relay.auth import redeem_pairing_code

    with database.write() as connection:
        paired = redeem_pairing_code(connection, code=made.pairing_code, device_name="PC")
    assert paired is not None
    return paired.token


class _CountingDatabase(Database):
    """A :class:`Database` that counts its write transactions."""

    writes = 0

    def write(self) -> Any:
        type(self).writes += 1
        return super().write()


def test_a_group_is_committed_once_with_every_answer_its_own(database: Database) -> None:
    token = _token(database)
    counting = _CountingDatabase(database.engine)
    _CountingDatabase.writes = 0
    queue = PushQueue(counting)
    good = _ops(3)
    reused = dict(good[0], body={**good[0]["body"], "number": "999"})
    invalid = {"id": str(uuid.uuid4()), "kind": "household.upsert", "body": {}}
    a, b, c, d = (str(uuid.uuid4()) for _ in range(4))

    async def together() -> list[Any]:
        return await asyncio.gather(
            queue.push(Push(token=token, ops=good, batch=a)),
            queue.push(Push(token=token, ops=[good[1], reused, invalid], batch=b, after=a)),
            queue.push(Push(token="not a token", ops=_ops(1), batch=c)),
            queue.push(Push(token=token, ops=_ops(2), batch=d, after=b)),
            return_exceptions=True)

    first, second, stranger, fourth = asyncio.run(together())
    if database.is_sqlite:  # one write transaction for the four (per device on PostgreSQL)
        assert _CountingDatabase.writes == 1
    assert [r.status for r in first] == [OpStatus.APPLIED] * 3
    assert [(r.status, r.code) for r in second] == [
        (OpStatus.DUPLICATE, None), (OpStatus.REJECTED, "id_reused"),
        (OpStatus.REJECTED, "invalid_body")]
    assert second[0].seq == first[1].seq
    assert isinstance(stranger, RequestRefused) and stranger.status == 401
    assert [r.status for r in fourth] == [OpStatus.APPLIED] * 2
    assert [r.seq for r in first + fourth] == [1, 2, 3, 4, 5]


def test_a_failing_request_takes_no_other_down(database: Database,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(database)
    queue = PushQueue(database)
    from sync.relay import office_api

    broken = _ops(2)
    real = office_api.apply_ops_in

    def apply(connection: Any, **kwargs: Any) -> Any:
        results = real(connection, **kwargs)  # writes, then fails: rolled back to its savepoint
        if kwargs["raw_ops"] is broken:
            raise RuntimeError("a bug")
        return results

    monkeypatch.setattr(push_queue, "apply_ops_in", apply)
    a, b, c = (str(uuid.uuid4()) for _ in range(3))

    async def together() -> list[Any]:
        return await asyncio.gather(
            queue.push(Push(token=token, ops=_ops(2), batch=a)),
            queue.push(Push(token=token, ops=broken, batch=b, after=a)),
            queue.push(Push(token=token, ops=_ops(2), batch=c, after=b)),
            queue.push(Push(token=token, ops=_ops(2))),
            return_exceptions=True)

    first, failed, follower, unchained = asyncio.run(together())
    assert [r.seq for r in first] == [1, 2]
    assert isinstance(failed, RuntimeError)
    assert isinstance(follower, RequestRefused) and follower.code == ErrorCode.OUT_OF_ORDER
    # The failed request's writes were undone: the next op takes the next number.
    assert [r.seq for r in unchained] == [3, 4]
