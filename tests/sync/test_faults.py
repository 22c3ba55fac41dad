"""Faults with pass criteria: whatever happens to the desktop, the network or the relay, each
queued operation reaches the relay exactly once and nothing is lost.

- the desktop's sync process is SIGKILLed at random moments while it flushes 1,000 operations,
  at least 50 times, and restarted each time;
- a TCP proxy drops the relay's answers after the relay has committed the batch;
- the relay process itself is killed in the middle of batches and restarted;
- one poison operation among 999 good ones: 999 applied, one listed in 同期の問題.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import random
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.backoff import Backoff
from sync.client import RelayClient, tls_context
from sync.engine import Outcome, open_client, sync_once, sync_until_done
from sync.pairing import pair
from sync.relay import admin, tables
from sync.relay.db import open_database, upgrade
from tests.relay.relay_server import TlsFiles
from tests.sync import fault_worker
from tests.sync.conftest import TODAY, Paired
from tests.sync.helpers import MemoryKeyring

OPS = 1000
KILLS = 50


def _queue_households(store: AssociationFile, count: int) -> list[str]:
    """Queue ``count`` household.upsert operations; returns the households' ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with store.write() as session:
        outbox.enqueue_many(session, [
            ("household.upsert", {"household_id": household_id, "number": f"{index:04}",
                                  "display_name": f"世帯{index}", "group_id": None,
                                  "group_name": ""})
            for index, household_id in enumerate(ids)])
    return ids


def _relay_households(relay_database: object, association_id: str) -> Counter[str]:
    """How many times each household's upsert is in the relay's log."""
    database = relay_database
    with database.read() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(
            select(tables.log.c.body).where(tables.log.c.association_id == association_id)
            .where(tables.log.c.kind == "household.upsert")).all()
    return Counter(str(_json(row.body)["household_id"]) for row in rows)


def _json(body: object) -> dict[str, object]:
    """A log item's body as stored (JSON text, or already decoded)."""
    return json.loads(body) if isinstance(body, str | bytes) else dict(body)  # type: ignore[call-overload]


def _applied_ops(relay_database: object, association_id: str) -> int:
    with relay_database.read() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(
            select(func.count()).select_from(tables.applied_op)
            .where(tables.applied_op.c.association_id == association_id)).scalar_one())


def _pending(path: Path) -> int:
    with closing(sqlite3.connect(path, timeout=5)) as connection:
        return int(connection.execute(
            "SELECT count(*) FROM outbox_op WHERE state = 'pending'").fetchone()[0])


def _exactly_once(relay_database: object, association_id: str, ids: list[str]) -> None:
    seen = _relay_households(relay_database, association_id)
    assert set(seen) == set(ids), "an operation was lost"
    assert max(seen.values()) == 1, "an operation was applied twice"
    assert _applied_ops(relay_database, association_id) == len(ids)


# ---------------------------------------------------------------- SIGKILL the desktop


@pytest.fixture(scope="module")
def forkserver() -> multiprocessing.context.ForkServerContext:
    """Children forked from a server that has imported the engine already: a start costs
    milliseconds, so 50 kills fit in seconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(fault_worker.PRELOAD)
    return context


def test_sigkill_during_a_flush_of_1000_operations(
    paired: Paired, memory_keyring: MemoryKeyring,
    forkserver: multiprocessing.context.ForkServerContext
) -> None:
    store, relay = paired.store, paired.relay
    ids = _queue_households(store, OPS)
    path = store.path
    store.close()  # the child processes own the file now
    [token] = memory_keyring.passwords.values()
    rng = random.Random(6)
    # Small batches give many places to be killed in. Each kill comes a random time after the
    # child starts pushing, within a window that adapts so that a run gets about one batch
    # done: the kills land anywhere in the push protocol (before the request, while the relay
    # commits, before the answer is back, during the local commit).
    batch, window = 10, 0.02
    kills = in_flight_at_kill = 0
    started = time.monotonic()
    while kills < KILLS:
        before = _pending(path)
        assert before > 0, f"the outbox emptied after only {kills} kills"
        pushing = forkserver.Event()
        child = forkserver.Process(target=fault_worker.flush, args=(
            fault_worker.Job(str(path), relay.url, token, str(relay.tls.ca_file), batch),
            pushing))
        child.start()
        assert pushing.wait(10), "the sync process did not start"
        time.sleep(rng.uniform(0, window))
        if child.is_alive():
            child.kill()  # SIGKILL: no clean-up of any kind
            kills += 1
        child.join()
        after = _pending(path)
        relay_done = sum(_relay_households(relay.database, paired.association_id).values())
        if relay_done > OPS - after:
            in_flight_at_kill += 1  # applied on the relay, still queued here
        progress = before - after
        # Chained batches (several in flight once the relay answers) make a run's progress
        # come in bursts: the window shrinks fast enough to keep about one batch per run.
        window *= 0.6 if progress > 2 * batch else 1.1 if progress == 0 else 1.0
        assert time.monotonic() - started < 45, "the kill loop is too slow"
    assert child.exitcode == -9
    assert in_flight_at_kill > 0  # the case that matters most happened
    left = _pending(path)
    # Restart without killing: the rest goes, each operation exactly once.
    final = forkserver.Process(target=fault_worker.flush, args=(
        fault_worker.Job(str(path), relay.url, token, str(relay.tls.ca_file), 100),))
    final.start()
    final.join(60)
    assert final.exitcode == 0
    assert _pending(path) == 0
    _exactly_once(relay.database, paired.association_id, ids)
    print(f"{kills} kills ({OPS - left} operations sent meanwhile), {in_flight_at_kill} with "
          f"a batch applied on the relay but still queued here, {time.monotonic() - started:.1f} s")


# ---------------------------------------------------------------- answers dropped after commit


class DroppingProxy:
    """A TCP proxy in front of the relay that, on its first ``drops`` connections, swallows
    the relay's first answer (after the request went through whole, so the relay committed)
    and cuts the connection.

    TLS 1.2 is used through it (the client's choice, for this test): its record types are in
    the clear, so the answer (application data) is told apart from the handshake without
    decrypting anything.
    """

    def __init__(self, target: tuple[str, int], *, drops: int) -> None:
        self.target = target
        self.drops = drops
        self.dropped = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            drop = self.drops > 0
            self.drops -= drop
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._answers, args=(upstream, client, drop),
                             daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _answers(self, upstream: socket.socket, client: socket.socket, drop: bool) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if not drop:
                    client.sendall(data)
                    continue
                buffer += data
                while len(buffer) >= 5:
                    length = int.from_bytes(buffer[3:5], "big")
                    if len(buffer) < 5 + length:
                        break
                    record, buffer = buffer[:5 + length], buffer[5 + length:]
                    if record[0] == 23:  # application data: the answer; the relay committed
                        self.dropped += 1
                        break
                    client.sendall(record)
                else:
                    continue
                break
        for end in (client, upstream):  # shutdown wakes the other thread's recv at once
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def test_answers_dropped_after_the_relay_committed_still_count_once(
    paired: Paired, memory_keyring: MemoryKeyring
) -> None:
    store, relay = paired.store, paired.relay
    ids = _queue_households(store, 250)
    host, port = relay.url.removeprefix("https://").split(":")
    proxy = DroppingProxy((host, int(port)), drops=3)
    [token] = memory_keyring.passwords.values()
    tls12 = tls_context(relay.tls.ca_file)  # still verifying: only the version is pinned
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        with RelayClient(f"https://127.0.0.1:{proxy.port}", token=token, tls=tls12) as client:
            outcomes = []
            for _ in range(3):
                status = sync_once(store, client)
                outcomes.append(status.outcome)
                # The relay applied the batch whose answer was lost; here it is still queued.
                assert _applied_ops(relay.database, paired.association_id) == 100
                assert status.pending == 250
            status = sync_once(store, client)
    finally:
        proxy.close()
    assert outcomes == [Outcome.OFFLINE] * 3 and proxy.dropped == 3
    assert (status.outcome, status.pushed, status.pending) == (Outcome.SYNCED, 250, 0)
    _exactly_once(relay.database, paired.association_id, ids)


# ---------------------------------------------------------------- the relay restarted


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _relay_process(url: str, tls: TlsFiles, port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sync.relay.cli", "serve", "--db", url, "--cert",
         str(tls.cert_file), "--key", str(tls.key_file), "--port", str(port),
         "--rate-burst", "100000", "--rate-per-second", "100000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert process.poll() is None, "the relay did not start"
            assert time.monotonic() < deadline, "the relay did not start in time"
            time.sleep(0.05)
        yield process
    finally:
        process.kill()
        process.wait(10)


def test_the_relay_killed_and_restarted_mid_batch(
    association_file: AssociationFile, tls_files: TlsFiles, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    database = open_database(url)
    try:
        upgrade(database)
        made = admin.create_association(database, name="桜町自治会", code_hours=1)
        port = _free_port()
        with _relay_process(url, tls_files, port):
            pair(association_file, relay_url=f"https://127.0.0.1:{port}",
                 code=made.pairing_code, device_name="PC", ca_file=str(tls_files.ca_file),
                 today=TODAY)
        ids = _queue_households(association_file, OPS)
        rng = random.Random(7)
        done = threading.Event()
        result: list[object] = []

        def flush() -> None:
            with open_client(association_file) as client:
                result.append(sync_until_done(
                    association_file, client, backoff=Backoff(base=0.05, cap=0.3),
                    batch_size=25, deadline=time.monotonic() + 60))
            done.set()

        restarts = 0
        worker = threading.Thread(target=flush, daemon=True)
        with _relay_process(url, tls_files, port) as first:
            worker.start()
            time.sleep(rng.uniform(0.05, 0.2))
            first.kill()  # in the middle of a batch, as far as anyone can tell
        while restarts < 3 and not done.is_set():
            restarts += 1
            with _relay_process(url, tls_files, port):
                time.sleep(rng.uniform(0.05, 0.3))
        with _relay_process(url, tls_files, port):
            assert done.wait(60)
        worker.join()
        [status] = result
        assert status.outcome == Outcome.SYNCED and status.pending == 0  # type: ignore[attr-defined]
        _exactly_once(database, made.association_id, ids)
    finally:
        database.dispose()


# ---------------------------------------------------------------- a poison operation


def test_one_poison_operation_among_999_good_ones(paired: Paired) -> None:
    store, relay = paired.store, paired.relay
    good = _queue_households(store, 500)
    poison = str(uuid.uuid4())
    with store.write() as session:  # an address must never reach the relay: refused
        outbox.enqueue(session, kind="household.upsert", body={
            "household_id": poison, "number": "X", "display_name": "毒", "group_id": None,
            "group_name": "", "address": "桜町1-1"})
    good += _queue_households(store, 499)
    with open_client(store) as client:
        status = sync_once(store, client)
    assert (status.outcome, status.pushed, status.pending, status.rejected) == (
        Outcome.SYNCED, 999, 0, 1)
    _exactly_once(relay.database, paired.association_id, good)
    with store.read() as session:
        [problem] = outbox.problems(session)
    assert problem.body["household_id"] == poison
    assert problem.error_code == "invalid_body" and "address" in problem.error_message
