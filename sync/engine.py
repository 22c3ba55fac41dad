"""One sync cycle with the relay: push the outbox, then pull the log.

Push: the oldest pending operations go in batches of 100; the relay answers per operation.
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
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from desktop.domain import audit
from desktop.domain.errors import KairanError
from desktop.domain.models import SyncState
from desktop.i18n import _
from sync import credentials, outbox
from sync.apply import Applied, apply_items
from sync.backoff import Backoff
from sync.client import EpochChanged, RelayClient, RelayRefused, RelayUnavailable
from sync.protocol import MAX_BODY_BYTES, MAX_LOG_LIMIT, LogItem, LogPage, Op, OpResult, OpStatus

BATCH_SIZE = 100
PAGE_LIMIT = MAX_LOG_LIMIT  # the largest page the relay serves: fewest round trips
MAX_EPOCH_RESTARTS = 3
_SPLIT_STATUSES = frozenset({400, 413, 422})  # the batch as a whole: find the bad operation
_ENVELOPE_BYTES = len('{"ops":[]}')


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


class Outcome(enum.StrEnum):
    """How the last cycle ended."""

    SYNCED = "synced"
    OFFLINE = "offline"  # the relay could not be reached: wait for the network
    BUSY = "busy"  # the relay answered 429 or 5xx: wait as it asked
    REFUSED = "refused"  # the relay refused this PC (revoked token…): the officer must act
    NOT_PAIRED = "not_paired"
    STOPPED = "stopped"  # cancelled (the window is closing)


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


@dataclass(frozen=True, slots=True)
class Pairing:
    """The stored pairing, as plain values (read once per cycle)."""

    relay_url: str
    association_id: str
    epoch: str
    cursor: int
    ca_file: str


def _now() -> datetime:
    return datetime.now(UTC)


def _pairing(session: Session) -> Pairing | None:
    state = session.get(SyncState, 1)
    if state is None:
        return None
    return Pairing(state.relay_url, state.association_id, state.epoch, state.cursor,
                   state.ca_file)


def read_status(store: Store, *, outcome: Outcome | None = None, error: str | None = None,
                retry_in: float | None = None, pushed: int = 0,
                applied: Applied | None = None) -> SyncStatus:
    """The status as the file records it (no network)."""
    with store.read() as session:
        state = session.get(SyncState, 1)
        if state is None:
            return SyncStatus(paired=False, outcome=Outcome.NOT_PAIRED)
        pending, rejected = outbox.counts(session)
        return SyncStatus(True, pending, rejected, outcome, state.last_pull_at,
                          state.last_error if error is None else error, retry_in, pushed,
                          applied or Applied(), state.relay_url)


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


class _Stop(Exception):
    """End the cycle here (the file was disconnected meanwhile)."""


class _Cycle:
    def __init__(self, store: Store, client: Relay, *, batch_size: int, page_limit: int,
                 cancelled: Callable[[], bool]) -> None:
        self.store = store
        self.client = client
        self.batch_size = batch_size
        self.page_limit = page_limit
        self.cancelled = cancelled
        self.pushed = 0
        self.applied = Applied()
        self.unsent: list[uuid.UUID] = []  # the batch in flight when a passing failure came

    # ------------------------------------------------------------ push

    def push(self) -> None:
        while not self.cancelled():
            with self.store.read() as session:
                if not outbox.is_paired(session):
                    raise _Stop
                batch = outbox.pending(session, limit=self.batch_size)
            if not batch:
                return
            batch = self._fit(batch)
            if batch and not self._send(batch):
                raise RelayUnavailable(
                    _("The relay did not answer for every change sent. Kairan tries again "
                      "later."), offline=False)
        raise _Stop

    def _fit(self, batch: Sequence[outbox.QueuedOp]) -> list[outbox.QueuedOp]:
        """The first operations of ``batch`` that fit in one request; an operation too large
        for any request is set aside at once."""
        fitting: list[outbox.QueuedOp] = []
        total = _ENVELOPE_BYTES
        for op in batch:
            size = _size(op)
            if size + _ENVELOPE_BYTES > MAX_BODY_BYTES:
                self._set_aside(op.id, code="too_large", message=_(
                    "This change is too large to send to the relay ({size} KB; at most "
                    "{limit} KB). Shorten the circular's text or send it to fewer households."
                ).format(size=size // 1024, limit=MAX_BODY_BYTES // 1024))
                continue
            if fitting and total + size > MAX_BODY_BYTES:
                break
            fitting.append(op)
            total += size
        return fitting

    def _send(self, batch: Sequence[outbox.QueuedOp]) -> bool:
        """Send one batch and settle its operations; False when none was settled."""
        ops = [Op(str(op.id), op.kind, op.body) for op in batch]
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
        sent = {op.id: op for op in batch}
        done: list[uuid.UUID] = []
        refused: list[tuple[uuid.UUID, str, str]] = []
        for result in results:
            op_id = _uuid(result.id)
            if op_id not in sent:
                continue
            if result.status in (OpStatus.APPLIED, OpStatus.DUPLICATE):
                done.append(op_id)
            else:
                refused.append((op_id, result.code or "rejected", result.message or ""))
        with self.store.write() as session:
            outbox.remove(session, op_ids=done)
            for op_id, code, message in refused:
                outbox.reject(session, op_id=op_id, code=code, message=message)
            state = session.get(SyncState, 1)
            if state is not None:
                state.last_push_at = _now()
        self.pushed += len(done)
        return bool(done or refused)

    def _set_aside(self, op_id: uuid.UUID, *, code: str, message: str) -> None:
        with self.store.write() as session:
            outbox.reject(session, op_id=op_id, code=code, message=message)

    # ------------------------------------------------------------ pull

    def pull(self) -> None:
        restarts = 0
        while not self.cancelled():
            with self.store.read() as session:
                pairing = _pairing(session)
            if pairing is None:
                raise _Stop
            try:
                page = self.client.pull(after=pairing.cursor, limit=self.page_limit,
                                        epoch=pairing.epoch)
                if pairing.epoch and page.epoch != pairing.epoch:
                    raise EpochChanged(page.epoch)
            except EpochChanged as change:
                restarts += 1
                if restarts > MAX_EPOCH_RESTARTS:
                    raise RelayUnavailable(
                        _("The relay keeps changing its database. Kairan tries again later."),
                        offline=False) from change
                self._restart(pairing, change.epoch)
                continue
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
        with self.store.write() as session:
            audit.attach(session, audit.RELAY)  # residents' and other PCs' doing, not ours
            state = session.get(SyncState, 1)
            if state is None:
                raise _Stop
            if (state.epoch, state.cursor) != (pairing.epoch, pairing.cursor):
                return False
            self.applied += apply_items(session, fresh)
            if fresh:
                state.cursor = max(item.seq for item in fresh)
            state.epoch = epoch
            state.last_pull_at = _now()
        return True


def _size(op: outbox.QueuedOp) -> int:
    """The bytes an operation takes in a request body (as httpx encodes JSON: compact)."""
    return len(json.dumps(Op(str(op.id), op.kind, op.body).to_json(),
                          separators=(",", ":")).encode("utf-8")) + 1


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
) -> SyncStatus:
    """Push the outbox, then pull the log; the status afterwards. Passing failures end the
    cycle with ``retry_in`` set from ``backoff``; nothing here raises for the relay's sake."""
    backoff = backoff if backoff is not None else Backoff()
    cycle = _Cycle(store, client, batch_size=batch_size, page_limit=page_limit,
                   cancelled=cancelled)
    outcome, error, wait = Outcome.SYNCED, "", None
    try:
        cycle.push()
        cycle.pull()
    except _Stop:
        outcome = Outcome.STOPPED
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
                       pushed=cycle.pushed, applied=cycle.applied)


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
) -> SyncStatus:
    """Cycle until the outbox is empty and the log pulled, waiting as the backoff says
    (a process of its own: the command line, the fault tests). Stops at ``deadline``
    (``time.monotonic()``) or when the relay refuses this PC."""
    backoff = backoff if backoff is not None else Backoff()
    while True:
        status = sync_once(store, client, backoff=backoff, batch_size=batch_size)
        if status.outcome in (Outcome.NOT_PAIRED, Outcome.STOPPED, Outcome.REFUSED):
            return status
        if status.outcome == Outcome.SYNCED and status.pending == 0:
            return status
        if deadline is not None and time.monotonic() >= deadline:
            return status
        sleep(status.retry_in or 0.0)
