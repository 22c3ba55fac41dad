"""One sync cycle with the relay: push the outbox, then pull the log.

Push: the oldest pending operations go in batches of 100; the relay answers per operation.
A client that can chain batches (:meth:`sync.client.RelayClient.chained_push`) keeps up to
:data:`PUSH_WINDOW` batches in flight, each naming the one before it, so the relay applies them
in the order they were made while the next ones travel; answers are settled oldest first, those
that came together in one local transaction (an op leaves the outbox only once the relay
answered it). At the first refusal of any kind (409 ``out_of_order``: the relay lost track of
the chain, a restarted relay, another relay process) the rest of the cycle goes one batch at a
time without chaining, from the oldest operation still queued, as below.
Applied and duplicate ones (a repeat of an operation it already applied: its answer was lost
on the way) are deleted from the outbox; rejected ones are set aside in 同期の問題 and never
block the rest. A batch the relay refuses whole as malformed or too large is split until the
one bad operation is found. Network errors, timeouts, 429 and 5xx end the cycle with a wait
from :class:`sync.backoff.Backoff`, no shorter than the relay's Retry-After.

Pull: pages of the log after the cursor, each applied with the new cursor in ONE local
transaction, so a crash repeats a page at worst (applying is idempotent). When the relay's
epoch changed (restored from a backup, replaced) the cursor goes back to 0 and everything is
pulled again; the outbox is kept.

Runs on a worker thread (the window's) or in a process of its own; never touches Qt.
"""

from __future__ import annotations

import enum
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import Table, bindparam, update
from sqlmodel import Session

from desktop.domain import audit
from desktop.domain.errors import KairanError
from desktop.domain.models import SyncState
from desktop.i18n import _
from sync import credentials, outbox
from sync.apply import Applied, apply_items
from sync.backoff import Backoff
from sync.client import EpochChanged, RelayClient, RelayRefused, RelayUnavailable
from sync.e2e.cipher import CipherError
from sync.e2e.keys import load_or_create_identity
from sync.protocol import (
    MAX_BODY_BYTES,
    MAX_LOG_LIMIT,
    LogItem,
    LogPage,
    Op,
    OpKind,
    OpResult,
    OpStatus,
    RejectCode,
    ReplicaRelay,
)
from sync.replica import sharing as replica_sharing
from sync.replica.apply import SharedApplied, SharedOp, apply_shared
from sync.replica.capture import REPLICA_KIND, muted
from sync.replica.envelope import REPLICA_SCHEMA, MissingKey, UpdateNeeded, open_item, seal_op

BATCH_SIZE = 100
# Chained batches in flight at once (1: one after another). 8 flushed about 20 % faster than 4
# in tests/bench/relay_flush.py: the relay commits more batches per disk flush.
PUSH_WINDOW = 8
UNREADABLE_KIND = "replica.unreadable"  # a damaged shared change, listed among the problems
PAGE_LIMIT = MAX_LOG_LIMIT  # the largest page the relay serves: fewest round trips
MAX_EPOCH_RESTARTS = 3
_SPLIT_STATUSES = frozenset({400, 413, 422})  # the batch as a whole: find the bad operation
# Refusals that keep a shared change queued: sealed with an old key (sent again under the
# new one), or another PC's Kairan is newer (sent once this one is updated).
_WAIT_CODES = frozenset({RejectCode.STALE_KEY, RejectCode.SCHEMA_OLD, RejectCode.NO_KEY})
_ENVELOPE_BYTES = len('{"ops":[]}')
_Queued = TypeVar("_Queued")
_SYNC_STATE: Table = SyncState.__table__  # type: ignore[attr-defined]
_PUSHED_AT = (update(_SYNC_STATE).where(_SYNC_STATE.c.id == 1)
              .values(last_push_at=bindparam("at")))
_CHAIN_BYTES = len(',"batch":"","after":""') + 2 * 36  # the batch ids of a chained push


class Store(Protocol):
    """Where the association file's sessions come from (``AssociationFile``)."""

    def read(self) -> AbstractContextManager[Session]:
        """A session for reading."""
        ...

    def write(self) -> AbstractContextManager[Session]:
        """A session committed at the end."""
        ...


class Relay(Protocol):
    """What a cycle needs of the relay (:class:`sync.client.RelayClient`)."""

    def push(self, ops: Sequence[Op]) -> list[OpResult]:
        """Send operations; a result for each, in order."""
        ...

    def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
        """A page of the log after ``after``."""
        ...


class ChainedPush(Protocol):
    """:meth:`sync.client.RelayClient.chained_push`: a client that has it gets pipelined
    pushes."""

    def __call__(self, ops: Sequence[str], *, batch: str, after: str | None
                 ) -> list[OpResult]:
        ...


@dataclass(frozen=True, slots=True)
class _Flight:
    """A chained batch in flight: its operations and the answer to come."""

    ops: list[outbox.WireOp]
    answer: Future[list[OpResult]]
    sealed_with: object  # the sharing keys its shared changes were sealed with (or None)


class Outcome(enum.StrEnum):
    """How the last cycle ended."""

    SYNCED = "synced"
    OFFLINE = "offline"  # the relay could not be reached: wait for the network
    BUSY = "busy"  # the relay answered 429 or 5xx: wait as it asked
    REFUSED = "refused"  # the relay refused this PC (revoked token…): the officer must act
    NOT_PAIRED = "not_paired"
    STOPPED = "stopped"  # cancelled (the window is closing)
    UPDATE_NEEDED = "update_needed"  # another office PC shares with a newer Kairan


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Where things stand, for the status bar and the scheduler."""

    paired: bool
    pending: int = 0
    rejected: int = 0
    outcome: Outcome | None = None  # None: no cycle has run since the window opened
    synced_at: datetime | None = None  # the last complete pull
    error: str = ""
    retry_in: float | None = None  # seconds to wait before the next automatic try
    pushed: int = 0
    applied: Applied = field(default_factory=Applied)
    relay_url: str = ""
    shared: SharedApplied = field(default_factory=SharedApplied)


@dataclass(frozen=True, slots=True)
class Pairing:
    """The stored pairing, as plain values (read once per cycle)."""

    relay_url: str
    association_id: str
    epoch: str
    cursor: int
    ca_file: str
    snapshot_seq: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def _pairing(session: Session) -> Pairing | None:
    state = session.get(SyncState, 1)
    if state is None:
        return None
    return Pairing(state.relay_url, state.association_id, state.epoch, state.cursor,
                   state.ca_file, state.snapshot_seq)


def read_status(store: Store, *, outcome: Outcome | None = None, error: str | None = None,
                retry_in: float | None = None, pushed: int = 0,
                applied: Applied | None = None,
                shared: SharedApplied | None = None) -> SyncStatus:
    """The status as the file records it (no network)."""
    with store.read() as session:
        state = session.get(SyncState, 1)
        if state is None:
            return SyncStatus(paired=False, outcome=Outcome.NOT_PAIRED)
        pending, rejected = outbox.counts(session)
        return SyncStatus(True, pending, rejected, outcome, state.last_pull_at,
                          state.last_error if error is None else error, retry_in, pushed,
                          applied or Applied(), state.relay_url, shared or SharedApplied())


def open_client(store: Store) -> RelayClient:
    """A client for the paired relay, with the token from the keyring; :class:`KairanError`
    when the file is not paired or the token cannot be had."""
    with store.read() as session:
        pairing = _pairing(session)
    if pairing is None:
        raise KairanError(_("This file is not connected to a relay. Connect it first "
                            "(同期 → リレーに接続)."))
    token = credentials.load_token(credentials.token_key(pairing.relay_url,
                                                         pairing.association_id))
    return RelayClient(pairing.relay_url, token=token, ca_file=pairing.ca_file or None)


class _ReadAhead:
    """The outbox read ahead of the batches in flight, a window at a time, each operation
    with the JSON text it is sent as."""

    def __init__(self, cycle: _Cycle) -> None:
        self.cycle = cycle
        self.ahead: deque[tuple[outbox.WireOp, str]] = deque()
        self.read_to: int | None = None  # the queue position read up to
        self.more = True

    def next_batch(self) -> list[tuple[outbox.WireOp, str]] | None:
        """The next batch to send ([] when its operations were all set aside as too large),
        or None when everything queued was read and sent."""
        cycle = self.cycle
        if self.more and len(self.ahead) < cycle.batch_size:
            limit = cycle.batch_size * cycle.window
            with cycle.store.read() as session:
                if not outbox.is_paired(session):
                    raise _Stop
                fresh = outbox.pending_wire(session, limit=limit, after_position=self.read_to)
            self.more = len(fresh) == limit
            if fresh:
                self.read_to = fresh[-1].position
            self.ahead.extend((op, cycle.wire_text(op)) for op in fresh)
        if not self.ahead:
            return None
        batch, used = cycle.fit(
            [self.ahead[i] for i in range(min(cycle.batch_size, len(self.ahead)))],
            lambda item: len(item[1].encode()) + 1, lambda item: item[0].uuid)
        for _used in range(used):
            self.ahead.popleft()
        return batch


class _Stop(Exception):
    """End the cycle here (the file was disconnected meanwhile)."""


class _Unsettled(Exception):
    """The relay's answer named none of the operations sent (a pipelined push then goes on
    one batch at a time, which says so)."""


class _UpdateNeeded(Exception):
    """Another PC shares with a newer Kairan: stop sending and applying shared changes."""


class _Cycle:
    def __init__(self, store: Store, client: Relay, *, batch_size: int, page_limit: int,
                 cancelled: Callable[[], bool], window: int = PUSH_WINDOW) -> None:
        self.store = store
        self.client = client
        self.batch_size = batch_size
        self.window = window
        self.waited = False  # a batch had ops the relay keeps waiting (new key, newer Kairan)
        self.page_limit = page_limit
        self.cancelled = cancelled
        self.pushed = 0
        self.applied = Applied()
        self.shared = SharedApplied()
        self.unsent: list[uuid.UUID] = []  # the batch in flight when a passing failure came
        with store.read() as session:
            self.sharing = replica_sharing.sharing_of(session)
        self.keys_refreshed = False
        self.stopped_sending = False

    @property
    def replica_relay(self) -> ReplicaRelay:
        """The relay as sharing needs it (a cycle of a sharing file has the full client)."""
        return self.client  # type: ignore[return-value]

    def refresh_keys(self) -> bool:
        """Fetch key generations made by another PC (once a cycle); whether any came."""
        if self.sharing is None or self.keys_refreshed:
            return False
        self.keys_refreshed = True
        before = set(self.sharing.ring.keys)
        self.sharing = replica_sharing.refresh_ring(self.sharing, self.replica_relay)
        added = set(self.sharing.ring.keys) - before
        if added:
            with self.store.write() as session:
                state = session.get(SyncState, 1)
                if state is not None:
                    state.key_gen = self.sharing.ring.current
        return bool(added)

    def wire(self, op: outbox.QueuedOp) -> Op:
        """An outbox operation as sent: a shared roster change is sealed here, with the
        newest key (so a change queued before a key rotation is sent under the new key)."""
        if op.kind != REPLICA_KIND:
            return Op(str(op.id), op.kind, op.body)
        if self.sharing is None:
            raise RelayRefused(_("This PC's key for sharing the roster is missing from "
                                 "Windows' credential store. Add this PC again with a key "
                                 "code from another office PC."), status=0, code="no_key")
        changes = op.body.get("changes")
        return Op(str(op.id), OpKind.REPLICA, seal_op(
            self.sharing.ring, association_id=self.sharing.association_id,
            device_id=self.sharing.device_id, device_name=self.sharing.device_name,
            op_id=str(op.id),
            changes=changes if isinstance(changes, list) else []))

    # ------------------------------------------------------------ push

    def push(self) -> None:
        chained: ChainedPush | None = getattr(self.client, "chained_push", None)
        if self.window > 1 and chained is not None:
            self._push_pipelined(chained)
        while not self.cancelled():
            with self.store.read() as session:
                if not outbox.is_paired(session):
                    raise _Stop
                batch = outbox.pending(session, limit=self.batch_size)
            if not batch:
                return
            batch, _used = self.fit(batch, _size, lambda op: op.id)
            if batch and not self._send(batch):
                raise RelayUnavailable(
                    _("The relay did not answer for every change sent. Kairan tries again "
                      "later."), offline=False)
        raise _Stop

    def fit(self, batch: Sequence[_Queued], size: Callable[[_Queued], int],
             op_id: Callable[[_Queued], uuid.UUID]) -> tuple[list[_Queued], int]:
        """The first operations of ``batch`` that fit in one request (``size``: the bytes
        one takes), and how many of ``batch`` were used up (sent or set aside); an operation
        too large for any request is set aside at once."""
        fitting: list[_Queued] = []
        total = _ENVELOPE_BYTES + _CHAIN_BYTES
        used = 0
        for op in batch:
            bytes_ = size(op)
            if bytes_ + _ENVELOPE_BYTES + _CHAIN_BYTES > MAX_BODY_BYTES:
                self._set_aside(op_id(op), code="too_large", message=_(
                    "This change is too large to send to the relay ({size} KB; at most "
                    "{limit} KB). Shorten the circular's text or send it to fewer households."
                ).format(size=bytes_ // 1024, limit=MAX_BODY_BYTES // 1024))
                used += 1
                continue
            if fitting and total + bytes_ > MAX_BODY_BYTES:
                break
            fitting.append(op)
            total += bytes_
            used += 1
        return fitting, used

    def _push_pipelined(self, chained: ChainedPush) -> None:
        """Push with up to :attr:`window` chained batches in flight. Returns when the outbox
        is sent, or after the first refusal or odd answer, once every batch in flight has
        been answered and settled (:meth:`push` then goes on one batch at a time); a passing
        failure (network, 429, 5xx) ends the cycle as :meth:`_send` does.

        Operations are read from the file as the JSON text it keeps and sent as they are
        (only a shared roster change is opened, to be sealed)."""
        flights: deque[_Flight] = deque()
        landed: list[_Flight] = []  # answered, oldest first; settled a window at a time
        reader = _ReadAhead(self)
        after: str | None = None
        answered = 0  # batches of this push the relay answered
        stopping = False  # a batch failed: send no more
        failure: Exception | None = None
        with ThreadPoolExecutor(max_workers=self.window,
                                thread_name_prefix="kairan-push") as pool:
            while True:
                # Slow start: one batch until the relay has answered one, then one more per
                # answer, so an unreachable relay or a network that drops answers costs one
                # batch, not a window.
                width = min(self.window, 1 + answered)
                while (not stopping and not self.waited and len(flights) < width
                       and not self.cancelled()):
                    batch = reader.next_batch()
                    if batch is None:
                        break
                    if not batch:  # all set aside as too large
                        continue
                    batch_id = str(uuid.uuid4())
                    answer = pool.submit(chained, [text for _op, text in batch],
                                         batch=batch_id, after=after)
                    flights.append(_Flight([op for op, _text in batch], answer, self.sharing))
                    after = batch_id
                if landed and (len(landed) >= self.window or not flights
                               or any(f.answer.exception() is not None for f in landed)):
                    problem = self._land(landed, first=failure is None)
                    failure = failure or problem
                    stopping = stopping or failure is not None
                    landed = []
                    continue
                if not flights:
                    break
                flights[0].answer.exception()  # wait for the oldest
                while flights and flights[0].answer.done():
                    landed.append(flights.popleft())
                    if landed[-1].answer.exception() is None:
                        answered += 1
                    else:  # no more batches: the ones in flight are answered and settled
                        stopping = True
        if isinstance(failure, RelayUnavailable):
            raise failure
        if failure is not None and not isinstance(failure, (RelayRefused, _Unsettled)):
            raise failure

    def wire_text(self, op: outbox.WireOp) -> str:
        """The JSON object of a queued operation in a request."""
        if op.kind != REPLICA_KIND:
            return f'{{"id":"{op.op_id}","kind":{json.dumps(op.kind)},"body":{op.body}}}'
        body = json.loads(op.body)
        sealed = self.wire(outbox.QueuedOp(op.uuid, op.kind, body, _now(), 0, "", ""))
        return json.dumps(sealed.to_json(), ensure_ascii=False, separators=(",", ":"))

    def _land(self, landed: list[_Flight], *, first: bool) -> Exception | None:
        """Settle the answers of batches answered (``landed``, oldest first) in one local
        transaction. Returns the first failure among them (a batch that came back with one
        is left queued: it is sent again; the batches answered after it were applied after
        it, so they stand). ``first``: no batch failed before these (a passing failure then
        names its batch as the one that could not be sent)."""
        sent: dict[str, tuple[str, str]] = {}
        results: list[OpResult] = []
        failure: Exception | None = None
        for flight in landed:
            problem = flight.answer.exception()
            if problem is None:
                sent.update((op.op_id, (op.key, op.kind)) for op in flight.ops)
                results += flight.answer.result()
            elif failure is None and isinstance(problem, Exception):
                failure = problem
                if first and isinstance(problem, RelayUnavailable):
                    self.unsent = [op.uuid for op in flight.ops]
        # A batch sealed before this cycle fetched new keys may still be refused as sealed
        # with the old one: it stays queued and is sent again under the new key.
        resealed = any(flight.sealed_with is not self.sharing for flight in landed)
        if sent and not self._settle(sent, results, resealed=resealed):
            failure = failure or _Unsettled()
        return failure

    def _send(self, batch: Sequence[outbox.QueuedOp]) -> bool:
        """Send one batch and settle its operations; False when none was settled."""
        ops = [self.wire(op) for op in batch]
        try:
            results = self.client.push(ops)
        except RelayRefused as error:
            if error.status not in _SPLIT_STATUSES:
                raise
            if len(batch) == 1:
                self._set_aside(batch[0].id, code=error.code or f"http_{error.status}",
                                message=error.message)
                return True
            middle = len(batch) // 2
            return self._send(batch[:middle]) | self._send(batch[middle:])
        except RelayUnavailable:
            self.unsent = [op.id for op in batch]
            raise
        return self._settle({str(op.id): (op.id.hex, op.kind) for op in batch}, results)

    def _settle(self, sent: Mapping[str, tuple[str, str]], results: Sequence[OpResult],
                *, resealed: bool = False) -> bool:
        """Record the relay's answers about sent operations (their id as sent → the id as
        the file keeps it and their kind), in one local transaction; False when none was
        settled. ``resealed``: keys were fetched since the batch was sealed (a stale key is
        then no news)."""
        done: list[str] = []
        shared: list[uuid.UUID] = []  # kept until they come back in the log
        waiting: list[str] = []  # refused for now: kept queued (new key, newer Kairan)
        refused: list[tuple[uuid.UUID, str, str]] = []
        for result in results:
            found = _sent_as(sent, result.id)
            if found is None:
                continue
            key, kind = found
            if result.status in (OpStatus.APPLIED, OpStatus.DUPLICATE):
                if kind == REPLICA_KIND:
                    shared.append(uuid.UUID(hex=key))
                else:
                    done.append(key)
            elif result.code in _WAIT_CODES:
                waiting.append(result.code or "")
            else:
                refused.append((uuid.UUID(hex=key), result.code or "rejected",
                                result.message or ""))
        if waiting:
            self.waited = True
        with self.store.write() as session:
            outbox.remove_keys(session, keys=done)
            outbox.mark_sent(session, op_ids=shared)
            for op_id, code, message in refused:
                outbox.reject(session, op_id=op_id, code=code, message=message)
            session.execute(_PUSHED_AT, {"at": _now()})
        self.pushed += len(done) + len(shared)
        if RejectCode.SCHEMA_OLD in waiting:
            raise _UpdateNeeded
        if RejectCode.STALE_KEY in waiting and not resealed and not self.refresh_keys():
            raise RelayRefused(_("The association's key was changed and this PC did not "
                                 "receive the new one. Add this PC again with a key code "
                                 "from another office PC."), status=0, code="stale_key")
        return bool(done or shared or refused or waiting)

    def _set_aside(self, op_id: uuid.UUID, *, code: str, message: str) -> None:
        with self.store.write() as session:
            outbox.reject(session, op_id=op_id, code=code, message=message)

    def newer_elsewhere(self) -> None:
        """The relay refused this PC's shared changes: another PC's Kairan is newer."""
        with self.store.write() as session:
            state = session.get(SyncState, 1)
            if state is not None:
                state.update_needed = UpdateNeeded(0).message
        self.stopped_sending = True

    def report(self) -> None:
        """Tell the relay how this PC stands (for the PC list), register its public key,
        and learn the relay's clock and key generation."""
        if self.sharing is None:
            return
        identity = load_or_create_identity(self.sharing.relay_url, self.sharing.association_id)
        with self.store.read() as session:
            pending, _rejected = outbox.counts(session)
        status = self.replica_relay.replica_status(pending, REPLICA_SCHEMA,
                                                   public_key=identity.public_text)
        with self.store.write() as session:
            replica_sharing.report(session, status)
        if status.key_gen > self.sharing.ring.current:
            self.refresh_keys()
        if self.stopped_sending:
            raise _UpdateNeeded

    # ------------------------------------------------------------ pull

    def pull(self) -> None:
        restarts = 0
        # While a full page is applied, the next one is already being fetched (the relay and
        # this file each keep a core busy); it is used only if the file's cursor is then
        # where that request started.
        ahead: tuple[tuple[str, int], Future[LogPage]] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kairan-pull") as pool:
            while not self.cancelled():
                with self.store.read() as session:
                    pairing = _pairing(session)
                if pairing is None:
                    raise _Stop
                try:
                    if ahead is not None and ahead[0] == (pairing.epoch, pairing.cursor):
                        page = ahead[1].result()
                    else:
                        page = self.client.pull(after=pairing.cursor, limit=self.page_limit,
                                                epoch=pairing.epoch)
                    if pairing.epoch and page.epoch != pairing.epoch:
                        raise EpochChanged(page.epoch)
                except EpochChanged as change:
                    restarts += 1
                    if restarts > MAX_EPOCH_RESTARTS:
                        raise RelayUnavailable(
                            _("The relay keeps changing its database. Kairan tries again "
                              "later."), offline=False) from change
                    self._restart(pairing, change.epoch)
                    continue
                finally:
                    ahead = None
                if page.more and page.items:
                    after = page.items[-1].seq
                    ahead = ((page.epoch, after), pool.submit(
                        self.client.pull, after=after, limit=self.page_limit,
                        epoch=page.epoch))
                if not self._apply(pairing, page.epoch, page.items):
                    continue  # the pairing changed meanwhile: read it again
                if not page.more:
                    return
            raise _Stop

    def _restart(self, pairing: Pairing, epoch: str) -> None:
        with self.store.write() as session:
            state = session.get(SyncState, 1)
            if state is None:
                raise _Stop
            if state.epoch == pairing.epoch:
                state.epoch = epoch
                state.cursor = 0  # pull everything again; the outbox stays as it is

    def _apply(self, pairing: Pairing, epoch: str, items: Sequence[LogItem]) -> bool:
        fresh = [item for item in items if item.seq > pairing.cursor]
        shared, fresh, stop = self._open_shared(pairing, fresh)
        with self.store.write() as session:
            audit.attach(session, audit.RELAY)  # residents' and other PCs' doing, not ours
            state = session.get(SyncState, 1)
            if state is None:
                raise _Stop
            if (state.epoch, state.cursor) != (pairing.epoch, pairing.cursor):
                return False
            with muted(session):  # every PC enters residents' answers itself from the log
                self.applied += apply_items(session, [
                    item for item in fresh if item.kind != OpKind.REPLICA])
            if shared:
                self.shared += apply_shared(session, shared)
            if isinstance(stop, UpdateNeeded):
                state.update_needed = stop.message
            if fresh:
                state.cursor = max(item.seq for item in fresh)
            state.epoch = epoch
            state.last_pull_at = _now()
        if stop is not None:
            raise _UpdateNeeded if isinstance(stop, UpdateNeeded) else stop
        return True

    def _open_shared(self, pairing: Pairing, items: list[LogItem]
                     ) -> tuple[list[SharedOp], list[LogItem], KairanError | None]:
        """The shared changes of a page opened, the items to apply (up to the first one
        this PC cannot apply yet) and why it stopped there. A damaged item is listed among
        the sync problems and passed over (it can never be opened)."""
        shared: list[SharedOp] = []
        for index, item in enumerate(items):
            if item.kind != OpKind.REPLICA or item.seq <= pairing.snapshot_seq:
                continue
            if self.sharing is None:
                return shared, items[:index], MissingKey(item.seq, 0)
            try:
                shared.append(open_item(item, self.sharing.ring,
                                        association_id=self.sharing.association_id))
            except MissingKey as missing:
                if self.refresh_keys():
                    return self._open_shared(pairing, items)
                return shared, items[:index], missing
            except UpdateNeeded as newer:
                return shared, items[:index], newer
            except CipherError as damaged:
                self._unreadable(item, damaged)
        return shared, items, None

    def _unreadable(self, item: LogItem, problem: CipherError) -> None:
        body = item.body if isinstance(item.body, dict) else {}
        with self.store.write() as session:
            outbox.set_aside(session, kind=UNREADABLE_KIND, body={
                "op_id": str(body.get("op_id", "")), "seq": item.seq,
                "device_id": str(body.get("device_id", ""))},
                code="unreadable", message=_(
                    "A shared change from another office PC could not be opened ({problem}). "
                    "It was left out; ask that PC's officer to check the roster.").format(
                        problem=problem.message if hasattr(problem, "message") else problem))


def _size(op: outbox.QueuedOp) -> int:
    """The bytes an operation takes in a request body (as httpx encodes JSON: compact)."""
    return len(json.dumps(Op(str(op.id), op.kind, op.body).to_json(),
                          separators=(",", ":")).encode("utf-8")) + 1


def _sent_as(sent: Mapping[str, tuple[str, str]], op_id: str) -> tuple[str, str] | None:
    """What ``sent`` says of the op a result names (its id in any case)."""
    found = sent.get(op_id)
    if found is None:
        parsed = _uuid(op_id)
        found = sent.get(str(parsed)) if parsed is not None else None
    return found


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def sync_once(
    store: Store,
    client: Relay,
    *,
    backoff: Backoff | None = None,
    batch_size: int = BATCH_SIZE,
    page_limit: int = PAGE_LIMIT,
    cancelled: Callable[[], bool] = lambda: False,
    window: int = PUSH_WINDOW,
) -> SyncStatus:
    """Push the outbox, then pull the log; the status afterwards. Passing failures end the
    cycle with ``retry_in`` set from ``backoff``; nothing here raises for the relay's sake.
    ``window``: chained batches in flight when the client can chain them (1: none)."""
    backoff = backoff if backoff is not None else Backoff()
    cycle = _Cycle(store, client, batch_size=batch_size, page_limit=page_limit,
                   cancelled=cancelled, window=window)
    outcome, error, wait = Outcome.SYNCED, "", None
    try:
        try:
            cycle.push()
        except _UpdateNeeded:
            cycle.newer_elsewhere()  # nothing more is sent; what others sent still comes
        cycle.pull()
        cycle.report()
    except _Stop:
        outcome = Outcome.STOPPED
    except _UpdateNeeded:
        outcome, error = Outcome.UPDATE_NEEDED, UpdateNeeded(0).message
    except RelayUnavailable as failure:
        outcome = Outcome.OFFLINE if failure.offline else Outcome.BUSY
        error = failure.message
        wait = backoff.failed(retry_after=failure.retry_after)
    except RelayRefused as failure:
        outcome, error = Outcome.REFUSED, failure.message
        wait = backoff.failed()
    else:
        backoff.succeeded()
    if outcome != Outcome.STOPPED:
        _record(store, error=error, wait=wait, unsent=cycle.unsent)
    return read_status(store, outcome=outcome, error=error, retry_in=wait,
                       pushed=cycle.pushed, applied=cycle.applied, shared=cycle.shared)


def push_outbox(store: Store, client: Relay, *, batch_size: int = BATCH_SIZE,
                window: int = PUSH_WINDOW, cancelled: Callable[[], bool] = lambda: False
                ) -> int:
    """Only the push half of a cycle (the flush benchmark, a command line): send what the
    outbox holds, pipelined when the client can chain batches; how many operations the relay
    took. The relay's failures come out as the client raised them."""
    cycle = _Cycle(store, client, batch_size=batch_size, page_limit=PAGE_LIMIT,
                   cancelled=cancelled, window=window)
    try:
        cycle.push()
    except _Stop:
        pass
    except _UpdateNeeded:
        cycle.newer_elsewhere()
    return cycle.pushed


def _record(store: Store, *, error: str, wait: float | None,
            unsent: Sequence[uuid.UUID]) -> None:
    """Keep the cycle's error for the status bar, and count the failure on the batch that
    could not be sent."""
    with store.write() as session:
        state = session.get(SyncState, 1)
        if state is not None and state.last_error != error:
            state.last_error = error
        if wait is not None and unsent:
            outbox.postpone(session, op_ids=unsent, until=_now() + timedelta(seconds=wait),
                            message=error)


def sync_until_done(
    store: Store,
    client: Relay,
    *,
    backoff: Backoff | None = None,
    batch_size: int = BATCH_SIZE,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    window: int = PUSH_WINDOW,
) -> SyncStatus:
    """Cycle until the outbox is empty and the log pulled, waiting as the backoff says
    (a process of its own: the command line, the fault tests). Stops at ``deadline``
    (``time.monotonic()``) or when the relay refuses this PC."""
    backoff = backoff if backoff is not None else Backoff()
    while True:
        status = sync_once(store, client, backoff=backoff, batch_size=batch_size,
                           window=window)
        if status.outcome in (Outcome.NOT_PAIRED, Outcome.STOPPED, Outcome.REFUSED,
                              Outcome.UPDATE_NEEDED):
            return status
        if status.outcome == Outcome.SYNCED and status.pending == 0:
            return status
        if deadline is not None and time.monotonic() >= deadline:
            return status
        sleep(status.retry_in or 0.0)
