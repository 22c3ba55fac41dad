"""Pieces shared by the sync tests: an in-memory keyring, pairing a file without a relay, and
a small fake relay that keeps the protocol's promises (for the engine's unit tests; the
integration tests use the real relay over HTTPS)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from sqlmodel import Session

from desktop.domain.models import SyncState
from sync.client import RelayUnavailable
from sync.protocol import (
    LogItem,
    LogPage,
    Op,
    OpResult,
    OpStatus,
    ProtocolError,
    check_op,
    op_fingerprint,
)


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict (tests only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@contextmanager
def memory_keyring_installed() -> Iterator[MemoryKeyring]:
    """An empty :class:`MemoryKeyring` in place of the current keyring, which is put back
    afterwards (never the OS keyring in a test)."""
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


def mark_paired(session: Session, *, relay_url: str = "https://relay.test",
                association_id: str = "a1", epoch: str = "e1") -> None:
    """Pair a file without a relay (what :func:`sync.pairing.pair` stores)."""
    session.add(SyncState(id=1, relay_url=relay_url, association_id=association_id,
                          association_name="桜町自治会", device_name="test", epoch=epoch,
                          cursor=0, paired_at=datetime.now(UTC)))
    session.flush()


@dataclass
class FakeRelay:
    """Applies each op once (by id), answers per op, keeps an ordered log.

    ``fail_next`` makes the next calls raise (a passing failure); ``lose_answers`` applies
    the next pushes but raises as if the answer was lost on the way.
    """

    epoch: str = "e1"
    log: list[LogItem] = field(default_factory=list)
    applied: dict[str, str] = field(default_factory=dict)  # op id → fingerprint
    pushes: list[int] = field(default_factory=list)  # batch sizes
    fail_next: list[Exception] = field(default_factory=list)
    lose_answers: int = 0
    reject: Callable[[Op], str | None] = lambda op: None

    def add(self, kind: str, body: dict[str, Any], at: str = "2026-06-01T10:00:00+00:00"
            ) -> None:
        self.log.append(LogItem(seq=len(self.log) + 1, kind=kind, body=body, at=at))

    def push(self, ops: Sequence[Op]) -> list[OpResult]:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.pushes.append(len(ops))
        results = []
        for op in ops:
            fingerprint = op_fingerprint(op.kind, op.body)
            if op.id in self.applied:
                status = (OpStatus.DUPLICATE if self.applied[op.id] == fingerprint
                          else OpStatus.REJECTED)
                results.append(OpResult(op.id, status))
                continue
            try:
                check_op(op)
            except ProtocolError as problem:
                results.append(OpResult(op.id, OpStatus.REJECTED, problem.code,
                                        problem.message))
                continue
            code = self.reject(op)
            if code is not None:
                results.append(OpResult(op.id, OpStatus.REJECTED, code, "refused"))
                continue
            self.applied[op.id] = fingerprint
            self.add(op.kind, dict(op.body))
            results.append(OpResult(op.id, OpStatus.APPLIED, seq=len(self.log)))
        if self.lose_answers:
            self.lose_answers -= 1
            raise RelayUnavailable("lost", offline=True)
        return results

    def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
        if self.fail_next:
            raise self.fail_next.pop(0)
        if epoch and epoch != self.epoch:
            from sync.client import EpochChanged

            raise EpochChanged(self.epoch)
        items = [item for item in self.log if item.seq > after]
        return LogPage(self.epoch, tuple(items[:limit]), more=len(items) > limit)

    def kinds(self) -> list[str]:
        return [item.kind for item in self.log]


def new_id() -> str:
    return str(uuid.uuid4())
