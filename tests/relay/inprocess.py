"""A relay in the test's own process, without HTTP: :class:`InProcessRelay` provides
:class:`sync.protocol.ReplicaRelay` by calling the relay's functions on a
:class:`~sync.relay.db.Database` directly, and raises what :class:`sync.client.RelayClient`
would (:class:`~sync.client.RelayRefused` with the status and code, :class:`~sync.client.StaleKey`,
:class:`~sync.client.EpochChanged`). Fast enough for a hypothesis state machine with a few PCs
and thousands of calls; the HTTP layer has its own tests (tests/relay/test_replica_api.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sync.client import EpochChanged, RelayRefused, RelayUnavailable, StaleKey
from sync.protocol import (
    DeviceInfo,
    ErrorCode,
    Grant,
    LogPage,
    Op,
    OpResult,
    PairResponse,
    ReencryptItem,
    ReplicaStatus,
    SnapshotMeta,
    Transfer,
)
from sync.relay import admin, replica_api
from sync.relay.auth import RequestRefused, office_holder, redeem_pairing_code
from sync.relay.db import Database, open_database
from sync.relay.office_api import apply_ops_in, read_log_in

T = TypeVar("T")


def new_association(database: Database, name: str = "テスト町内会") -> tuple[str, str]:
    """Create an association on ``database``; its id and a first pairing code."""
    made = admin.create_association(database, name=name, code_hours=24)
    return made.association_id, made.pairing_code


def pair(database: Database, *, association_id: str | None = None, code: str | None = None,
         device_name: str = "事務所PC") -> PairResponse:
    """Pair a new office device (with ``code``, or a fresh code of ``association_id``)."""
    if code is None:
        assert association_id is not None, "give a pairing code or an association"
        code, _expires = admin.pairing_code(database, association_id=association_id, hours=1)
    with database.write() as connection:
        paired = redeem_pairing_code(connection, code=code, device_name=device_name)
    assert paired is not None, "the pairing code was not accepted"
    return paired


def as_client_error(refused: RequestRefused) -> Exception:
    """What :class:`sync.client.RelayClient` raises for the relay's refusal."""
    extra = refused.extra or {}
    if refused.status == 409 and "epoch" in extra:
        return EpochChanged(str(extra["epoch"]))
    if refused.status == 409 and refused.code is ErrorCode.STALE_KEY:
        return StaleKey(refused.message, key_gen=int(extra.get("key_gen", 0)))
    if refused.status == 429 or refused.status >= 500:
        return RelayUnavailable(refused.message, offline=False, status=refused.status)
    return RelayRefused(refused.message, status=refused.status, code=refused.code.value)


@contextmanager
def _client_errors() -> Iterator[None]:
    try:
        yield
    except RequestRefused as refused:
        raise as_client_error(refused) from refused


class InProcessRelay:
    """One office device's view of a relay database (``token`` is its device token)."""

    def __init__(self, database: Database, token: str) -> None:
        self.database = database
        self.token = token
        self._device: replica_api.Device | None = None

    def restart(self) -> None:
        """Close the database and open a new one on the same URL (a relay restart)."""
        url = self.database.engine.url.render_as_string(hide_password=False)
        self.database.dispose()
        self.database = open_database(url)

    @property
    def device(self) -> replica_api.Device:
        """This token's device (looked up once; revocation is checked on every call)."""
        if self._device is None:
            with _client_errors():
                self._device = replica_api.identify(self.database, self.token)
        return self._device

    def _call(self, function: Callable[..., T], **values: Any) -> T:
        device = self.device
        with _client_errors():
            return function(self.database, association_id=device.association_id,
                            device_id=device.device_id, **values)

    # ------------------------------------------------------------ the log

    def push(self, ops: Sequence[Op]) -> list[OpResult]:
        """``POST /ops``: one write transaction, as the relay's route runs it."""
        raw_ops = [op.to_json() for op in ops]
        with _client_errors(), self.database.write() as connection:
            principal = office_holder(connection, self.token)
            device_id = (replica_api.device_in(connection, principal)
                         if replica_api.has_replica_ops(raw_ops) else None)
            return apply_ops_in(connection, association_id=principal.association_id,
                                raw_ops=raw_ops, device_id=device_id)

    def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
        """``GET /log``."""
        with _client_errors(), self.database.read() as connection:
            principal = office_holder(connection, self.token)
            text = read_log_in(connection, association_id=principal.association_id,
                               after=after, limit=limit, epoch=epoch or None)
        return LogPage.from_json(json.loads(text))

    # ------------------------------------------------------------ replication

    def replica_status(self, pending: int, schema: int,
                       public_key: str | None = None) -> ReplicaStatus:
        """``POST /replica/status``."""
        return self._call(replica_api.report_status, pending=pending, schema=schema,
                          public_key=public_key)

    def devices(self) -> list[DeviceInfo]:
        """``GET /replica/devices``."""
        return self._call(replica_api.list_devices)

    def revoke_device(self, device_id: str) -> None:
        """``POST /replica/devices/{id}/revoke``."""
        self._call(replica_api.revoke_device, target_id=device_id)

    def publish_keys(self, key_gen: int, grants: Sequence[Grant]) -> None:
        """``POST /replica/keys``."""
        if any(grant.key_gen not in (0, key_gen) for grant in grants):
            raise ValueError("every grant must be of the generation being published")
        self._call(replica_api.publish_keys, key_gen=key_gen, grants=list(grants))

    def add_grants(self, grants: Sequence[Grant]) -> None:
        """``POST /replica/grants``."""
        self._call(replica_api.add_grants, grants=list(grants))

    def grants(self, recovery: bool = False) -> list[Grant]:
        """``GET /replica/grants``."""
        return self._call(replica_api.read_grants, recovery=recovery)

    def public_keys(self) -> dict[str, str]:
        """``GET /replica/public-keys``."""
        return self._call(replica_api.public_keys)

    def post_transfer(self, blob: str) -> str:
        """``POST /replica/transfers``."""
        return self._call(replica_api.post_transfer, blob=blob).transfer_id

    def transfers(self) -> list[Transfer]:
        """``GET /replica/transfers``."""
        return self._call(replica_api.list_transfers)

    def delete_transfer(self, transfer_id: str) -> None:
        """``DELETE /replica/transfers/{id}``."""
        self._call(replica_api.delete_transfer, transfer_id=transfer_id)

    def begin_snapshot(self, meta: SnapshotMeta) -> None:
        """``POST /replica/snapshots``."""
        self._call(replica_api.begin_snapshot, meta=meta)

    def put_chunk(self, snapshot_id: str, idx: int, data: str) -> None:
        """``PUT /replica/snapshots/{id}/chunks/{idx}``."""
        self._call(replica_api.put_chunk, snapshot_id=snapshot_id, idx=idx, data=data)

    def complete_snapshot(self, snapshot_id: str) -> None:
        """``POST /replica/snapshots/{id}/complete``."""
        self._call(replica_api.complete_snapshot, snapshot_id=snapshot_id)

    def latest_snapshot(self) -> SnapshotMeta | None:
        """``GET /replica/snapshot`` (None for its 404)."""
        return self._call(replica_api.latest_snapshot)

    def get_chunk(self, snapshot_id: str, idx: int) -> str:
        """``GET /replica/snapshots/{id}/chunks/{idx}``."""
        return self._call(replica_api.get_chunk, snapshot_id=snapshot_id, idx=idx)

    def reencrypt(self, items: Sequence[ReencryptItem]) -> int:
        """``POST /replica/reencrypt``."""
        return self._call(replica_api.reencrypt, items=list(items))
