"""This PC's part in sharing, for a sync cycle: its keys, its identity, and what it tells
the relay (and learns from it) after each cycle.

The association key's generations live in the OS keyring (:mod:`sync.e2e.keys`); when the
relay says a newer generation exists (another PC revoked one), the grants wrapped for this
PC's public key are fetched and opened. After every cycle the PC reports how many changes it
still has to send (the PC list shows it) and compares its clock with the relay's: ordering
never depends on clocks, but a wrong clock makes the times shown to officers wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlmodel import Session

from desktop.domain.models import SyncState
from desktop.i18n import _
from sync.e2e.cipher import CipherError
from sync.e2e.keys import (
    KeyRing,
    load_key_ring,
    load_or_create_identity,
    store_key_ring,
    unwrap_key,
)
from sync.protocol import ReplicaRelay, ReplicaStatus
from sync.replica.envelope import REPLICA_SCHEMA

CLOCK_TOLERANCE_SECONDS = 10 * 60  # beyond this the officer is told to set the clock


@dataclass(frozen=True, slots=True)
class Sharing:
    """What a sync cycle needs to seal and open shared changes."""

    relay_url: str
    association_id: str
    device_id: str
    ring: KeyRing
    device_name: str = ""


def sharing_of(session: Session) -> Sharing | None:
    """This file's sharing (None: it does not share, or its keys are not in the keyring)."""
    state = session.get(SyncState, 1)
    if state is None or state.key_gen <= 0:
        return None
    ring = load_key_ring(state.relay_url, state.association_id)
    if ring is None:
        return None
    return Sharing(state.relay_url, state.association_id, state.device_id, ring,
                   state.device_name)


def refresh_ring(sharing: Sharing, relay: ReplicaRelay) -> Sharing:
    """Open the key generations the relay holds for this PC that it does not have yet."""
    identity = load_or_create_identity(sharing.relay_url, sharing.association_id)
    ring = sharing.ring
    for grant in relay.grants():
        if grant.key_gen in ring.keys:
            continue
        try:
            gen, key = unwrap_key(identity, grant.wrapped, association_id=sharing.association_id)
        except CipherError:
            continue  # not for this PC's key (made before it registered): another grant may be
        ring = ring.with_key(gen, key)
    if ring is not sharing.ring:
        store_key_ring(sharing.relay_url, sharing.association_id, ring)
    return replace(sharing, ring=ring)


def clock_skew(status: ReplicaStatus, *, now: datetime | None = None) -> int | None:
    """This PC's clock minus the relay's, in seconds (None when the relay gave no time)."""
    try:
        server = datetime.fromisoformat(status.server_time.replace("Z", "+00:00"))
    except ValueError:
        return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    return round(((now or datetime.now(UTC)) - server).total_seconds())


def clock_warning(skew_seconds: int | None) -> str:
    """What to tell the officer about this PC's clock ("" when it is right)."""
    if skew_seconds is None or abs(skew_seconds) <= CLOCK_TOLERANCE_SECONDS:
        return ""
    minutes = abs(skew_seconds) // 60
    if minutes >= 120:
        amount = _("{hours} hours").format(hours=minutes // 60)
    else:
        amount = _("{minutes} minutes").format(minutes=minutes)
    if skew_seconds > 0:
        text = _("This PC's clock is {amount} fast. Set the date and time in Windows: the "
                 "order of shared changes does not depend on it, but times shown and printed do.")
    else:
        text = _("This PC's clock is {amount} slow. Set the date and time in Windows: the "
                 "order of shared changes does not depend on it, but times shown and printed do.")
    return text.format(amount=amount)


def report(session: Session, status: ReplicaStatus) -> None:
    """Keep what the relay said after a cycle: this PC's id and its clock's offset."""
    state = session.get(SyncState, 1)
    if state is None:
        return
    if status.device_id and state.device_id != status.device_id:
        state.device_id = status.device_id
    state.clock_skew_seconds = clock_skew(status)
    if status.replica_schema <= REPLICA_SCHEMA and state.update_needed:
        state.update_needed = ""


__all__ = ["CLOCK_TOLERANCE_SECONDS", "Sharing", "clock_skew", "clock_warning",
           "refresh_ring", "report", "sharing_of"]
