"""Office pushes (``POST /ops``): chained in the device's order, applied in groups that share
one commit.

An office PC flushing a long outbox keeps several requests in flight over several connections
and chains them: each names its batch and the batch it follows (``batch`` / ``after``, see
:mod:`sync.protocol`). Requests may reach the relay in any order, so :class:`PushQueue` holds
one back until the batch it follows is known to this process:

- queued (not yet committed) or applied: the request joins the queue behind it;
- refused as a whole (401, 429, 400, 409 …), or still unknown after
  :data:`~sync.protocol.CHAIN_WAIT_SECONDS`: it is answered 409 ``out_of_order`` and nothing of
  it is applied (the PC then sends the rest one batch at a time, without ``after``).

The queue is drained by one task per event loop (per device on PostgreSQL, where transactions of
different associations run side by side): what is queued, up to :data:`MAX_GROUP` requests, is
applied in ONE write transaction in queue order — each request in a savepoint of its own when
there are several, so one that fails takes no other down — and committed once; every request is
answered after that commit, so an op is durable before it is called applied, and a burst costs
one disk flush per group instead of one per request (as ``residents.GroupWriter`` does for the
residents' safety answers). A request whose ``after`` failed in the same group is refused as
above.

Which batches a process knows is kept in memory, a bounded record per device token
(:data:`KEPT_BATCHES` ids each, :data:`KEPT_DEVICES` devices): a relay restarted, or another
relay process behind a balancer, answers 409 and the PC recovers by itself.
"""

from __future__ import annotations

import asyncio
import enum
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from desktop.i18n import _
from sync.protocol import CHAIN_WAIT_SECONDS, ErrorCode, OpResult, hash_secret
from sync.relay import replica_api
from sync.relay.auth import Principal, RequestRefused, office_holder
from sync.relay.db import Database
from sync.relay.office_api import apply_ops_in

MAX_GROUP = 32  # requests committed together
KEPT_BATCHES = 256  # batch ids remembered per device
KEPT_DEVICES = 1024  # devices whose batches are remembered (least recently pushing dropped)
WAIT_SECONDS = CHAIN_WAIT_SECONDS  # how long a batch waits for the one it follows


class BatchState(enum.Enum):
    """What became of a batch this process was sent."""

    QUEUED = "queued"  # waiting in the queue or being applied
    APPLIED = "applied"  # committed and answered 200
    REFUSED = "refused"  # answered anything else: nothing of it was applied


@dataclass(frozen=True, slots=True)
class Push:
    """One ``POST /ops`` as the queue takes it: the device token, the ops (as parsed from
    JSON, checked one by one when applied) and the batch ids, lower case (or None)."""

    token: str
    ops: list[Any]
    batch: str | None = None
    after: str | None = None


@dataclass(slots=True)
class _Entry:
    push: Push
    device: str  # the token's hash: whose chain the batch belongs to
    future: asyncio.Future[list[OpResult]]


class _Record:
    """Batch states per device, bounded; and the requests waiting for a batch not yet known."""

    def __init__(self) -> None:
        self.devices: OrderedDict[str, OrderedDict[str, BatchState]] = OrderedDict()
        self.waiters: dict[tuple[str, str], list[asyncio.Future[None]]] = {}

    def get(self, device: str, batch: str) -> BatchState | None:
        batches = self.devices.get(device)
        return None if batches is None else batches.get(batch)

    def set(self, device: str, batch: str, state: BatchState) -> None:
        batches = self.devices.get(device)
        if batches is None:
            batches = self.devices[device] = OrderedDict()
            if len(self.devices) > KEPT_DEVICES:
                self.devices.popitem(last=False)
        else:
            self.devices.move_to_end(device)
        batches[batch] = state
        batches.move_to_end(batch)
        if len(batches) > KEPT_BATCHES:
            batches.popitem(last=False)
        for waiter in self.waiters.pop((device, batch), ()):
            if not waiter.done():
                waiter.set_result(None)

    async def known(self, device: str, batch: str, timeout: float) -> BatchState | None:
        """The batch's state, waiting up to ``timeout`` seconds for it to become known."""
        state = self.get(device, batch)
        if state is not None:
            return state
        key = (device, batch)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(key, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            waiting = self.waiters.get(key)
            if waiting is not None and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self.waiters[key]
        return self.get(device, batch)


@dataclass(slots=True)
class _Lane:
    pending: list[_Entry] = field(default_factory=list)
    draining: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _LoopState:
    record: _Record = field(default_factory=_Record)
    lanes: dict[str | None, _Lane] = field(default_factory=dict)


def out_of_order(after: str) -> RequestRefused:
    """409 ``out_of_order``: the batch ``after`` is unknown here or was refused."""
    return RequestRefused(409, ErrorCode.OUT_OF_ORDER, _(
        "The batch this one follows ({batch}) was not applied by this relay process, so this "
        "batch was not applied either. Send it again without \"after\".").format(batch=after))


class PushQueue:
    """Chains and group-commits the office pushes of one database (see the module text)."""

    def __init__(self, database: Database, *, wait_seconds: float | None = None) -> None:
        self.database = database
        self.wait_seconds = wait_seconds  # None: WAIT_SECONDS
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = \
            weakref.WeakKeyDictionary()

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        return state

    def refused(self, token: str, batch: str | None) -> None:
        """Record that a request naming ``batch`` was refused before it was queued (a request
        that follows it is refused at once instead of waiting)."""
        if batch is not None:
            self._state().record.set(hash_secret(token), batch, BatchState.REFUSED)

    async def push(self, push: Push) -> list[OpResult]:
        """Apply ``push`` in its turn; its results after the commit, or the
        :class:`RequestRefused` (or other exception) that refused it as a whole."""
        state = self._state()
        device = hash_secret(push.token)
        if push.after is not None:
            wait = WAIT_SECONDS if self.wait_seconds is None else self.wait_seconds
            before = await state.record.known(device, push.after, wait)
            if before not in (BatchState.QUEUED, BatchState.APPLIED):
                if push.batch is not None:
                    state.record.set(device, push.batch, BatchState.REFUSED)
                raise out_of_order(push.after)
        if push.batch is not None:
            state.record.set(device, push.batch, BatchState.QUEUED)
        loop = asyncio.get_running_loop()
        key = None if self.database.is_sqlite else device
        lane = state.lanes.get(key)
        if lane is None:
            lane = state.lanes[key] = _Lane()
        entry = _Entry(push, device, loop.create_future())
        lane.pending.append(entry)
        if lane.draining is None:
            lane.draining = loop.create_task(self._drain(state, key, lane))
        return await entry.future

    async def _drain(self, state: _LoopState, key: str | None, lane: _Lane) -> None:
        try:
            while lane.pending:
                group = lane.pending[:MAX_GROUP]
                del lane.pending[:MAX_GROUP]
                failed: set[tuple[str, str | None]] = {
                    (e.device, e.push.after) for e in group if e.push.after is not None
                          and state.record.get(e.device, e.push.after) is BatchState.REFUSED}
                try:
                    outcomes = await run_in_threadpool(self.commit, group, failed)
                except Exception as error:  # the commit itself failed: nothing stands
                    outcomes = [(False, error)] * len(group)
                for entry, (ok, value) in zip(group, outcomes, strict=True):
                    if entry.push.batch is not None:
                        state.record.set(entry.device, entry.push.batch,
                                         BatchState.APPLIED if ok else BatchState.REFUSED)
                    if entry.future.done():  # the request went away: its ops stand anyway
                        continue
                    if ok:
                        entry.future.set_result(value)
                    else:
                        entry.future.set_exception(value)
        finally:
            lane.draining = None
            if not lane.pending and state.lanes.get(key) is lane:
                del state.lanes[key]

    def commit(self, group: list[_Entry], failed: set[tuple[str, str | None]]
               ) -> list[tuple[bool, Any]]:
        """Apply ``group`` in one write transaction and commit (in a worker thread); per
        request ``(True, results)`` or ``(False, exception)``. ``failed``: (device, batch)
        pairs refused before, or in this group."""
        principals: dict[str, Principal] = {}  # each token is checked once a transaction
        if len(group) == 1:
            entry = group[0]
            try:
                with self.database.write() as connection:
                    return [(True, self._apply(connection, entry, failed, principals))]
            except RequestRefused as refused:
                return [(False, refused)]
        outcomes: list[tuple[bool, Any]] = []
        with self.database.write() as connection:
            for entry in group:
                try:
                    with connection.begin_nested():
                        outcomes.append((True, self._apply(connection, entry, failed,
                                                           principals)))
                except Exception as error:  # rolled back to its savepoint: the others stand
                    outcomes.append((False, error))
                    if entry.push.batch is not None:
                        failed.add((entry.device, entry.push.batch))
        return outcomes

    @staticmethod
    def _apply(connection: Connection, entry: _Entry, failed: set[tuple[str, str | None]],
               principals: dict[str, Principal]) -> list[OpResult]:
        push = entry.push
        if push.after is not None and (entry.device, push.after) in failed:
            raise out_of_order(push.after)
        principal = principals.get(push.token)
        if principal is None:
            principal = principals[push.token] = office_holder(connection, push.token)
        device_id = (replica_api.device_in(connection, principal)
                     if replica_api.has_replica_ops(push.ops) else None)
        return apply_ops_in(connection, association_id=principal.association_id,
                            raw_ops=push.ops, device_id=device_id)
