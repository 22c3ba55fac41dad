"""Pairing this association file with a relay, and taking it apart again.

The officer types the relay's address and the one-time pairing code from its administrator
once. The device token the relay hands back goes into the OS keyring only; the file keeps the
relay's address, the association's id on it and the sync cursor (``sync_state``), and queues
a snapshot of what residents need to see (:func:`sync.outbox.enqueue_snapshot`) in the same
transaction.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from desktop.domain.errors import ConflictError, KairanError, ValidationError
from desktop.domain.models import SyncState
from desktop.i18n import _
from sync import credentials, outbox
from sync.client import RelayClient, normalise_relay_url
from sync.e2e.keys import delete_identity, delete_key_ring
from sync.engine import Store
from sync.protocol import PairResponse

MAX_DEVICE_NAME = 200


@dataclass(frozen=True, slots=True)
class PairingResult:
    """What pairing did."""

    relay_url: str
    association_id: str
    association_name: str
    queued: int  # households and open circulars queued for the relay


@dataclass(frozen=True, slots=True)
class PairingInfo:
    """The pairing as the window shows it."""

    relay_url: str
    association_id: str
    association_name: str
    device_name: str
    ca_file: str
    paired_at: datetime


def pairing_info(store: Store) -> PairingInfo | None:
    """The file's pairing, or None when it is not paired."""
    with store.read() as session:
        state = session.get(SyncState, 1)
        if state is None:
            return None
        return PairingInfo(state.relay_url, state.association_id, state.association_name,
                           state.device_name, state.ca_file, state.paired_at)


def _clean_code(code: str) -> str:
    cleaned = "".join(unicodedata.normalize("NFKC", code).split())
    if not cleaned:
        raise ValidationError(_("Type the pairing code from the relay's administrator."),
                              field="code")
    return cleaned


def _clean_device(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError(_("Give this PC a name (for example 会長宅のパソコン), so the "
                                "relay's administrator can tell the PCs apart."),
                              field="device_name")
    if len(cleaned) > MAX_DEVICE_NAME:
        raise ValidationError(_("The PC's name is too long; keep it under {count} "
                                "characters.").format(count=MAX_DEVICE_NAME),
                              field="device_name")
    return cleaned


class Pairs(Protocol):
    """What pairing needs of a relay client (:class:`RelayClient`, or a test's relay)."""

    def pair(self, *, code: str, device_name: str) -> PairResponse:
        """Exchange a one-time pairing code for a device token."""
        ...


def pair(
    store: Store,
    *,
    relay_url: str,
    code: str,
    device_name: str,
    ca_file: str = "",
    today: date,
    client: Pairs | None = None,
) -> PairingResult:
    """Pair the file with a relay and queue its snapshot. Everything is checked before the
    one-time code is used (a missing keyring, a bad CA file, an already paired file)."""
    url = normalise_relay_url(relay_url)
    code = _clean_code(code)
    device_name = _clean_device(device_name)
    if ca_file and not Path(ca_file).is_file():
        raise ValidationError(_("There is no CA certificate file at {file}.").format(
            file=ca_file), field="ca_file")
    if pairing_info(store) is not None:
        raise ConflictError(_("This file is already connected to a relay. Disconnect it "
                              "first to connect it to another one."))
    credentials.check_keyring()
    if client is not None:
        answer = client.pair(code=code, device_name=device_name)
    else:
        with RelayClient(url, ca_file=ca_file or None) as relay:
            answer = relay.pair(code=code, device_name=device_name)
    key = credentials.token_key(url, answer.association_id)
    credentials.store_token(key, answer.token)
    try:
        with store.write() as session:
            session.add(SyncState(
                id=1, relay_url=url, association_id=answer.association_id,
                association_name=answer.association_name, device_name=device_name,
                epoch=answer.epoch, cursor=0, ca_file=ca_file, device_id=answer.device_id,
                paired_at=datetime.now(UTC).replace(microsecond=0)))
            session.flush()
            queued = outbox.enqueue_snapshot(session, today=today)
    except BaseException:
        credentials.delete_token(key)
        raise
    return PairingResult(url, answer.association_id, answer.association_name, queued)


def unpair(store: Store) -> int:
    """Disconnect the file from its relay: forget the token, the association's keys and the
    cursor, and drop what was still queued (returns how many). The relay keeps what it has until its
    administrator revokes this PC."""
    with store.write() as session:
        state = session.get(SyncState, 1)
        if state is None:
            raise KairanError(_("This file is not connected to a relay."))
        relay_url, association_id = state.relay_url, state.association_id
        key = credentials.token_key(relay_url, association_id)
        dropped = outbox.clear(session)
        session.delete(state)  # without it the change triggers record nothing
    credentials.delete_token(key)
    # The association's keys and this PC's identity go with the pairing (nothing secret is
    # left behind in the keyring).
    delete_key_ring(relay_url, association_id)
    delete_identity(relay_url, association_id)
    return dropped
