"""PostgreSQL with several relay processes: concurrent writers while a reader pages with a small
limit — the reader ends with every item exactly once, in order, never skipping a late commit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sync.protocol import LOG_PATH
from sync.relay import admin
from sync.relay.config import Settings
from tests.relay.relay_server import (
    RunningRelay,
    TlsFiles,
    household_op,
    office_only,
    pull_all,
    push,
    running_relay,
)

WRITERS = 6
BATCHES = 12
BATCH = 15
PAGE = 7
FAST = Settings(rate_burst=100_000, rate_per_second=100_000.0)


@pytest.fixture
def two_relays(postgres_url: str, tls_files: TlsFiles) -> Iterator[tuple[RunningRelay, ...]]:
    """Two relay servers (separate engines and pools) on one PostgreSQL database."""
    with running_relay(postgres_url, tls_files, settings=FAST,
                       resident_routes=office_only) as first, \
            running_relay(postgres_url, tls_files, settings=FAST,
                          resident_routes=office_only) as second:
        yield first, second


def _reader(client: httpx.Client, done: threading.Event, seen: list[dict[str, Any]],
            early: list[int]) -> None:
    after = 0
    while True:
        finished = done.is_set()  # read before the page: a page after the end sees everything
        page = client.get(LOG_PATH, params={"after": after, "limit": PAGE}).json()
        seen += page["items"]
        if not finished and page["items"]:
            early.append(len(page["items"]))
        if page["items"]:
            after = page["items"][-1]["seq"]
        if finished and not page["more"]:
            return


def test_concurrent_writers_and_a_paging_reader(two_relays: tuple[RunningRelay, ...]) -> None:
    first, second = two_relays
    association_id, code = first.new_association("大きな町内会")
    tokens = []
    for index in range(WRITERS + 1):
        relay = two_relays[index % 2]
        if index:
            code, _until = admin.pairing_code(relay.database, association_id=association_id,
                                              hours=1)
        tokens.append(relay.pair(code, device=f"PC{index}")["token"])
    reader_client = first.client(tokens[0])
    batches: list[list[dict[str, Any]]] = [
        [household_op(str(uuid.uuid4()), number=f"{w}-{b}-{i}") for i in range(BATCH)]
        for w in range(WRITERS) for b in range(BATCHES)
    ]
    pushed: dict[int, list[list[dict[str, Any]]]] = {}
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            relay = two_relays[index % 2]
            client = relay.client(tokens[index + 1])
            mine = batches[index * BATCHES:(index + 1) * BATCHES]
            pushed[index] = [push(client, batch) for batch in mine]
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    seen: list[dict[str, Any]] = []
    early: list[int] = []
    done = threading.Event()
    reader = threading.Thread(target=_reader, args=(reader_client, done, seen, early))
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    done.set()
    reader.join(timeout=60)
    assert not errors, errors

    total = WRITERS * BATCHES * BATCH
    results = [r for runs in pushed.values() for batch in runs for r in batch]
    assert len(results) == total
    assert all(r["status"] == "applied" for r in results)
    seqs = [item["seq"] for item in seen]
    assert seqs == list(range(1, total + 1)), "the reader missed or repeated an item"
    pushed_households = {op["body"]["household_id"] for batch in batches for op in batch}
    assert {item["body"]["household_id"] for item in seen} == pushed_households
    assert [i["seq"] for i in pull_all(second.client(tokens[0]))] == seqs
    assert len(early) >= 10, "the reader should have paged while the writers wrote"
