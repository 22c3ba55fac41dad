"""Replication between an association's office PCs, relay side: devices, key grants, key
transfers, encrypted snapshots and the ``replica`` op of ``POST /ops``.

What office PCs share with each other is encrypted end to end. The relay orders it and keeps it,
but all it can read is the envelope: which key generation and which schema a replica op was made
with, and which device pushed it (taken from that device's token, never from the body). Keys
reach the relay only wrapped: for each PC's public key, for the recovery sheet's, or sealed
with a transfer code that the officer types on the new PC.

The logic is plain functions over a :class:`~sync.relay.db.Database`
(``fn(database, *, association_id, device_id, ...)``), each in its own transaction, each
checking first that the calling device is still live (a revoked one gets 401). The routes
are thin wrappers: office token → device → function. Replica ops themselves go through the
ordinary push (``POST /ops``): :func:`replica_gate` admits them inside the batch's write
transaction, so they are numbered in the association's log and applied exactly once like
every other op.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from desktop.i18n import _
from sync.protocol import (
    MAX_COUNT,
    MAX_GRANTS,
    MAX_LIVE_TRANSFERS,
    MAX_PUBLIC_KEY,
    MAX_REENCRYPT_ITEMS,
    MAX_REPLICA_TEXT,
    MAX_SNAPSHOT_CHUNKS,
    MAX_WRAPPED,
    RECOVERY_DEVICE_ID,
    REPLICA_CHUNK_PATH,
    REPLICA_COMPLETE_PATH,
    REPLICA_DEVICES_PATH,
    REPLICA_GRANTS_PATH,
    REPLICA_KEYS_PATH,
    REPLICA_PUBLIC_KEYS_PATH,
    REPLICA_REENCRYPT_PATH,
    REPLICA_REVOKE_PATH,
    REPLICA_SNAPSHOT_PATH,
    REPLICA_SNAPSHOTS_PATH,
    REPLICA_STATUS_PATH,
    REPLICA_TRANSFER_PATH,
    REPLICA_TRANSFERS_PATH,
    TRANSFER_MINUTES,
    DeviceInfo,
    ErrorCode,
    Grant,
    OpKind,
    ProtocolError,
    ReencryptItem,
    RejectCode,
    ReplicaStatus,
    SnapshotMeta,
    Transfer,
    canonical_json,
    is_ciphertext,
    is_count,
    replica_path,
)
from sync.relay import tables
from sync.relay.auth import (
    Principal,
    RequestRefused,
    office_holder,
    office_token,
)
from sync.relay.db import Database, iso, now
from sync.relay.ratelimit import RateLimiter

T = TypeVar("T")


# ---------------------------------------------------------------- refusals and checks


def _bad(message: str) -> RequestRefused:
    return RequestRefused(400, ErrorCode.BAD_REQUEST, message)


def _not_found(message: str) -> RequestRefused:
    return RequestRefused(404, ErrorCode.NOT_FOUND, message)


def _stale(current: int) -> RequestRefused:
    if current == 0:
        message = _("The association has no shared key yet: start sharing on one PC first.")
    else:
        message = _("The association's key has changed (generation {gen}). This PC fetches "
                    "the new key and tries again.").format(gen=current)
    return RequestRefused(409, ErrorCode.STALE_KEY, message, extra={"key_gen": current})


def _is_safe_text(value: Any, limit: int, *, empty: bool = False) -> bool:
    """Text the databases can store as it is: at most ``limit`` characters, no NUL, no lone
    surrogate (JSON lets both through; PostgreSQL and UTF-8 do not)."""
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        return False
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_PUBLIC_KEY = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _is_public_key(value: Any) -> bool:
    """Base64url text (padded or not) of a public key."""
    return (isinstance(value, str) and len(value) <= MAX_PUBLIC_KEY
            and _PUBLIC_KEY.fullmatch(value) is not None)


def canonical_id(value: Any) -> str | None:
    """A UUID text in its stored form (lower case), or None when ``value`` is not one."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _device_key(value: Any) -> str | None:
    """A device id as grants name it: a device's UUID or ``"recovery"``."""
    if value == RECOVERY_DEVICE_ID:
        return RECOVERY_DEVICE_ID
    return canonical_id(value)


# ---------------------------------------------------------------- devices


@dataclass(frozen=True, slots=True)
class Device:
    """An office device as the relay knows it from its token."""

    association_id: str
    device_id: str


_DEVICE_OF_TOKEN = (
    select(tables.office_device.c.device_id)
    .where(tables.office_device.c.token_hash == bindparam("p_token_hash"))
)


def device_in(connection: Connection, principal: Principal) -> str:
    """The device id of an office token's holder; its row is made now when the token is older
    than replication (inside a write transaction)."""
    found = connection.execute(_DEVICE_OF_TOKEN,
                               {"p_token_hash": principal.token_hash}).scalar_one_or_none()
    if found is not None:
        return str(found)
    label = connection.execute(
        select(tables.token.c.label).where(tables.token.c.token_hash == principal.token_hash)
    ).scalar_one_or_none()
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    connection.execute(
        dialect.insert(tables.office_device).values(
            association_id=principal.association_id, device_id=str(uuid.uuid4()),
            token_hash=principal.token_hash, name=label or "", public_key="",
            created_at=now(), last_seen_at=None, pending=0, app_schema=0, revoked_at=None,
        ).on_conflict_do_nothing(index_elements=["token_hash"]))
    return str(connection.execute(_DEVICE_OF_TOKEN,
                                  {"p_token_hash": principal.token_hash}).scalar_one())


def identify(database: Database, token: str) -> Device:
    """The office device holding ``token``: 401 for an unknown or revoked token, 403 for a
    resident's; a device row is made on first use for tokens paired before replication."""
    with database.read() as connection:
        principal = office_holder(connection, token)
        found = connection.execute(_DEVICE_OF_TOKEN,
                                   {"p_token_hash": principal.token_hash}).scalar_one_or_none()
    if found is not None:
        return Device(principal.association_id, str(found))
    with database.write() as connection:
        principal = office_holder(connection, token)
        return Device(principal.association_id, device_in(connection, principal))


_LIVE = and_(tables.office_device.c.revoked_at.is_(None), tables.token.c.revoked_at.is_(None))
_DEVICE_JOIN = tables.office_device.join(
    tables.token, tables.token.c.token_hash == tables.office_device.c.token_hash)


def _require_live(connection: Connection, association_id: str, device_id: str) -> None:
    """401 unless the device is one of the association's and neither it nor its token is
    revoked."""
    found = connection.execute(
        select(tables.office_device.c.device_id).select_from(_DEVICE_JOIN)
        .where(tables.office_device.c.association_id == association_id)
        .where(tables.office_device.c.device_id == device_id)
        .where(_LIVE)
    ).first()
    if found is None:
        raise RequestRefused(401, ErrorCode.UNAUTHORIZED, _(
            "The relay does not accept this device's token (it was revoked or never issued). "
            "Pair this PC again with a new pairing code."), headers={"WWW-Authenticate": "Bearer"})


def _live_devices(connection: Connection, association_id: str) -> set[str]:
    return {str(d) for d in connection.execute(
        select(tables.office_device.c.device_id).select_from(_DEVICE_JOIN)
        .where(tables.office_device.c.association_id == association_id).where(_LIVE)
    ).scalars()}


def _association_state(connection: Connection, association_id: str, *,
                       lock: bool = False) -> tuple[int, int, int]:
    """(key_gen, replica_schema, last_seq) of the association; ``lock`` holds its row for the
    rest of a write transaction (PostgreSQL; SQLite's writers hold the whole file)."""
    association = tables.association
    query = select(association.c.key_gen, association.c.replica_schema,
                   association.c.last_seq).where(association.c.id == association_id)
    if lock and connection.dialect.name != "sqlite":
        query = query.with_for_update()
    row = connection.execute(query).one_or_none()
    if row is None:
        raise RequestRefused(401, ErrorCode.UNAUTHORIZED,
                             _("This association no longer exists on the relay."))
    return int(row.key_gen), int(row.replica_schema), int(row.last_seq)


def _snapshot_meta(row: Any) -> SnapshotMeta:
    return SnapshotMeta(snapshot_id=row.snapshot_id, key_gen=int(row.key_gen),
                        upto_seq=int(row.upto_seq), chunk_count=int(row.chunk_count),
                        created_at=iso(row.created_at))


def _latest_snapshot_in(connection: Connection, association_id: str) -> SnapshotMeta | None:
    snapshot = tables.snapshot
    row = connection.execute(
        select(snapshot).where(snapshot.c.association_id == association_id)
        .where(snapshot.c.complete.is_(True))
        .order_by(snapshot.c.upto_seq.desc(), snapshot.c.created_at.desc())
        .limit(1)
    ).first()
    return None if row is None else _snapshot_meta(row)


def report_status(database: Database, *, association_id: str, device_id: str, pending: int,
                  schema: int, public_key: str | None = None) -> ReplicaStatus:
    """Record what the PC says of itself (its unsent changes, its program's schema, its
    public key when given) and answer where the association's replication stands."""
    if not is_count(pending) or not is_count(schema):
        raise _bad(_('"pending" and "schema" must be whole numbers from 0.'))
    if public_key is not None and not _is_public_key(public_key):
        raise _bad(_('"public_key" must be the base64url text of a public key.'))
    moment = now()
    changes: dict[str, Any] = {"last_seen_at": moment, "pending": pending,
                               "app_schema": schema}
    if public_key is not None:
        changes["public_key"] = public_key
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        connection.execute(
            update(tables.office_device)
            .where(tables.office_device.c.association_id == association_id)
            .where(tables.office_device.c.device_id == device_id)
            .values(**changes))
        key_gen, replica_schema, _last = _association_state(connection, association_id)
        snapshot = _latest_snapshot_in(connection, association_id)
    return ReplicaStatus(device_id=device_id, server_time=iso(moment), key_gen=key_gen,
                         replica_schema=replica_schema, snapshot=snapshot)


def list_devices(database: Database, *, association_id: str,
                 device_id: str) -> list[DeviceInfo]:
    """The association's office devices, oldest first (revoked ones too, with the time)."""
    device, token = tables.office_device, tables.token
    with database.read() as connection:
        _require_live(connection, association_id, device_id)
        rows = connection.execute(
            select(device, token.c.revoked_at.label("token_revoked_at"))
            .select_from(device.outerjoin(token, token.c.token_hash == device.c.token_hash))
            .where(device.c.association_id == association_id)
            .order_by(device.c.created_at, device.c.device_id)
        ).all()
    devices = []
    for row in rows:
        revoked = row.revoked_at if row.revoked_at is not None else row.token_revoked_at
        devices.append(DeviceInfo(
            device_id=row.device_id, name=row.name, created_at=iso(row.created_at),
            last_seen_at=None if row.last_seen_at is None else iso(row.last_seen_at),
            pending=int(row.pending), app_schema=int(row.app_schema),
            revoked_at=None if revoked is None else iso(revoked),
            has_public_key=bool(row.public_key)))
    return devices


def revoke_device(database: Database, *, association_id: str, device_id: str,
                  target_id: str) -> None:
    """Withdraw another PC's access at once: its token answers 401 from now on, its grants
    are dropped. Revoking a revoked PC again does nothing; 404 for an unknown one, 400 for
    the calling PC itself."""
    target = canonical_id(target_id)
    device = tables.office_device
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        row = None if target is None else connection.execute(
            select(device.c.token_hash, device.c.revoked_at)
            .where(device.c.association_id == association_id)
            .where(device.c.device_id == target)
        ).first()
        if target is None or row is None:
            raise _not_found(_("The association has no PC {id} on the relay.").format(
                id=target_id))
        if target == device_id:
            raise _bad(_("A PC cannot withdraw its own access; do it from another PC of the "
                         "association."))
        moment = now()
        connection.execute(update(device).where(device.c.association_id == association_id)
                           .where(device.c.device_id == target)
                           .where(device.c.revoked_at.is_(None)).values(revoked_at=moment))
        connection.execute(update(tables.token)
                           .where(tables.token.c.token_hash == row.token_hash)
                           .where(tables.token.c.revoked_at.is_(None))
                           .values(revoked_at=moment))
        connection.execute(delete(tables.key_grant)
                           .where(tables.key_grant.c.association_id == association_id)
                           .where(tables.key_grant.c.device_id == target))


# ---------------------------------------------------------------- keys


def _checked_grants(connection: Connection, association_id: str, grants: Sequence[Grant], *,
                    key_gen: int | None, current: int) -> list[dict[str, Any]]:
    """The grant rows to write, or 400: each for a live device or the recovery sheet, once
    per (device, generation), of an existing generation (``key_gen`` when given)."""
    if len(grants) > MAX_GRANTS:
        raise _bad(_("At most {n} grants at a time.").format(n=MAX_GRANTS))
    live = _live_devices(connection, association_id) | {RECOVERY_DEVICE_ID}
    moment = now()
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for grant in grants:
        target = _device_key(grant.device_id)
        gen = key_gen if key_gen is not None else grant.key_gen
        if target is None or target not in live:
            raise _bad(_("A grant names {id}, which is not a live PC of the association.")
                       .format(id=grant.device_id))
        if not is_count(gen, low=1) or (key_gen is None and gen > current):
            raise _bad(_("A grant names key generation {gen}, which the association does not "
                         "have.").format(gen=gen))
        if not _is_safe_text(grant.wrapped, MAX_WRAPPED):
            raise _bad(_("A wrapped key must be text of 1 to {n} characters.").format(
                n=MAX_WRAPPED))
        if (target, gen) in rows:
            raise _bad(_("Two grants for {id} and key generation {gen}.").format(
                id=target, gen=gen))
        rows[(target, gen)] = {"association_id": association_id, "device_id": target,
                               "key_gen": gen, "wrapped": grant.wrapped, "created_at": moment}
    return list(rows.values())


def _upsert_grants(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(tables.key_grant)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["association_id", "device_id", "key_gen"],
        set_={"wrapped": statement.excluded.wrapped,
              "created_at": statement.excluded.created_at}), rows)


def publish_keys(database: Database, *, association_id: str, device_id: str, key_gen: int,
                 grants: Sequence[Grant]) -> None:
    """Make ``key_gen`` the association's key generation with its grants: the first key
    (1) or a rotation. 409 ``stale_key`` (with the current generation) unless ``key_gen``
    is the current one plus one; 400 for a grant to a device that is not live."""
    if not is_count(key_gen, low=1):
        raise _bad(_('"key_gen" must be a whole number from 1.'))
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        current, _schema, _last = _association_state(connection, association_id, lock=True)
        if key_gen != current + 1:
            raise _stale(current)
        rows = _checked_grants(connection, association_id, grants, key_gen=key_gen,
                               current=current)
        _upsert_grants(connection, rows)
        connection.execute(update(tables.association)
                           .where(tables.association.c.id == association_id)
                           .values(key_gen=key_gen))


def add_grants(database: Database, *, association_id: str, device_id: str,
               grants: Sequence[Grant]) -> None:
    """Add (or replace) grants of existing key generations: a PC wraps the keys for a PC that
    just joined, or for a new recovery sheet."""
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        current, _schema, _last = _association_state(connection, association_id, lock=True)
        _upsert_grants(connection, _checked_grants(connection, association_id, grants,
                                                   key_gen=None, current=current))


def read_grants(database: Database, *, association_id: str, device_id: str,
                recovery: bool = False) -> list[Grant]:
    """The calling device's grants (or the recovery sheet's), oldest generation first."""
    grant = tables.key_grant
    holder = RECOVERY_DEVICE_ID if recovery else device_id
    with database.read() as connection:
        _require_live(connection, association_id, device_id)
        rows = connection.execute(
            select(grant.c.key_gen, grant.c.wrapped)
            .where(grant.c.association_id == association_id)
            .where(grant.c.device_id == holder)
            .order_by(grant.c.key_gen)
        ).all()
    return [Grant(key_gen=int(row.key_gen), wrapped=row.wrapped) for row in rows]


def public_keys(database: Database, *, association_id: str, device_id: str) -> dict[str, str]:
    """Device id → public key of the association's live devices that registered one."""
    device = tables.office_device
    with database.read() as connection:
        _require_live(connection, association_id, device_id)
        rows = connection.execute(
            select(device.c.device_id, device.c.public_key).select_from(_DEVICE_JOIN)
            .where(device.c.association_id == association_id).where(_LIVE)
            .where(device.c.public_key != "")
            .order_by(device.c.created_at, device.c.device_id)
        ).all()
    return {row.device_id: row.public_key for row in rows}


# ---------------------------------------------------------------- key transfers


def _drop_expired_transfers(connection: Connection, association_id: str) -> None:
    connection.execute(delete(tables.key_transfer)
                       .where(tables.key_transfer.c.association_id == association_id)
                       .where(tables.key_transfer.c.expires_at <= now()))


def post_transfer(database: Database, *, association_id: str, device_id: str,
                  blob: str) -> Transfer:
    """Leave a key ring sealed with a transfer code for a new PC, for 15 minutes; the
    association keeps at most 5 (the oldest are dropped)."""
    if not _is_safe_text(blob, MAX_WRAPPED):
        raise _bad(_('"blob" must be text of 1 to {n} characters.').format(n=MAX_WRAPPED))
    transfer = tables.key_transfer
    moment = now()
    made = Transfer(transfer_id=str(uuid.uuid4()), blob=blob,
                    expires_at=iso(moment + timedelta(minutes=TRANSFER_MINUTES)))
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        _drop_expired_transfers(connection, association_id)
        connection.execute(insert(transfer).values(
            association_id=association_id, transfer_id=made.transfer_id, blob=blob,
            created_at=moment, expires_at=moment + timedelta(minutes=TRANSFER_MINUTES)))
        keep = (select(transfer.c.transfer_id)
                .where(transfer.c.association_id == association_id)
                .order_by(transfer.c.created_at.desc(), transfer.c.transfer_id.desc())
                .limit(MAX_LIVE_TRANSFERS))
        kept = [str(t) for t in connection.execute(keep).scalars()]
        connection.execute(delete(transfer).where(transfer.c.association_id == association_id)
                           .where(transfer.c.transfer_id.not_in(kept)))
    return made


def list_transfers(database: Database, *, association_id: str,
                   device_id: str) -> list[Transfer]:
    """The association's live key transfers, newest first."""
    transfer = tables.key_transfer
    with database.read() as connection:
        _require_live(connection, association_id, device_id)
        rows = connection.execute(
            select(transfer).where(transfer.c.association_id == association_id)
            .where(transfer.c.expires_at > now())
            .order_by(transfer.c.created_at.desc(), transfer.c.transfer_id.desc())
        ).all()
    return [Transfer(transfer_id=row.transfer_id, blob=row.blob,
                     expires_at=iso(row.expires_at)) for row in rows]


def delete_transfer(database: Database, *, association_id: str, device_id: str,
                    transfer_id: str) -> bool:
    """Remove a key transfer (a new PC took it); False when it was gone already."""
    key = canonical_id(transfer_id)
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        if key is None:
            return False
        done = connection.execute(
            delete(tables.key_transfer)
            .where(tables.key_transfer.c.association_id == association_id)
            .where(tables.key_transfer.c.transfer_id == key))
        return bool(done.rowcount)


# ---------------------------------------------------------------- snapshots


def _snapshot_row(connection: Connection, association_id: str, snapshot_id: str) -> Any:
    key = canonical_id(snapshot_id)
    row = None if key is None else connection.execute(
        select(tables.snapshot).where(tables.snapshot.c.association_id == association_id)
        .where(tables.snapshot.c.snapshot_id == key)
    ).first()
    if row is None:
        raise _not_found(_("The relay has no snapshot {id} (a newer one may have replaced "
                           "it).").format(id=snapshot_id))
    return row


def begin_snapshot(database: Database, *, association_id: str, device_id: str,
                   meta: SnapshotMeta) -> None:
    """Start a snapshot made with the current key up to a log item already on the relay.
    Beginning the same snapshot again (a retry) does nothing."""
    snapshot_id = canonical_id(meta.snapshot_id)
    if snapshot_id is None:
        raise _bad(_('"snapshot_id" must be a UUID.'))
    if not is_count(meta.key_gen, low=1) or not is_count(meta.upto_seq) \
            or not is_count(meta.chunk_count, low=1) or meta.chunk_count > MAX_SNAPSHOT_CHUNKS:
        raise _bad(_('A snapshot needs "key_gen" from 1, "upto_seq" from 0 and '
                     '"chunk_count" from 1 to {n}.').format(n=MAX_SNAPSHOT_CHUNKS))
    snapshot = tables.snapshot
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        current, _schema, last_seq = _association_state(connection, association_id, lock=True)
        if meta.key_gen != current:
            raise _stale(current)
        if meta.upto_seq > last_seq:
            raise _bad(_("The snapshot goes up to log item {seq}, but the log ends at "
                         "{last}.").format(seq=meta.upto_seq, last=last_seq))
        existing = connection.execute(
            select(snapshot).where(snapshot.c.association_id == association_id)
            .where(snapshot.c.snapshot_id == snapshot_id)).first()
        if existing is not None:
            if (int(existing.key_gen), int(existing.upto_seq), int(existing.chunk_count)) \
                    != (meta.key_gen, meta.upto_seq, meta.chunk_count):
                raise _bad(_("Snapshot id {id} was used before for another snapshot.")
                           .format(id=snapshot_id))
            return
        connection.execute(insert(snapshot).values(
            association_id=association_id, snapshot_id=snapshot_id, key_gen=meta.key_gen,
            upto_seq=meta.upto_seq, chunk_count=meta.chunk_count, created_by=device_id,
            created_at=now(), complete=False))


def put_chunk(database: Database, *, association_id: str, device_id: str, snapshot_id: str,
              idx: int, data: str) -> None:
    """Store (or store again) one chunk of a snapshot that is not complete yet."""
    if not _is_safe_text(data, MAX_REPLICA_TEXT, empty=True):
        raise _bad(_('"data" must be text of at most {n} characters.').format(
            n=MAX_REPLICA_TEXT))
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        row = _snapshot_row(connection, association_id, snapshot_id)
        if not is_count(idx) or idx >= int(row.chunk_count):
            raise _bad(_("Snapshot {id} has chunks 0 to {last}.").format(
                id=row.snapshot_id, last=int(row.chunk_count) - 1))
        if row.complete:
            raise _bad(_("Snapshot {id} is complete already.").format(id=row.snapshot_id))
        dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(tables.snapshot_chunk).values(
            association_id=association_id, snapshot_id=row.snapshot_id, idx=idx, data=data)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["association_id", "snapshot_id", "idx"],
            set_={"data": statement.excluded.data}))


def complete_snapshot(database: Database, *, association_id: str, device_id: str,
                      snapshot_id: str) -> None:
    """Mark a snapshot complete once all its chunks are there (400 otherwise); the snapshots
    begun before it are deleted. Completing it again does nothing."""
    snapshot, chunk = tables.snapshot, tables.snapshot_chunk
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        _association_state(connection, association_id, lock=True)
        row = _snapshot_row(connection, association_id, snapshot_id)
        if row.complete:
            return
        have = connection.execute(
            select(func.count()).select_from(chunk)
            .where(chunk.c.association_id == association_id)
            .where(chunk.c.snapshot_id == row.snapshot_id)).scalar_one()
        if int(have) != int(row.chunk_count):
            raise _bad(_("Snapshot {id} has {have} of its {count} chunks; send the rest "
                         "first.").format(id=row.snapshot_id, have=int(have),
                                          count=int(row.chunk_count)))
        connection.execute(update(snapshot).where(snapshot.c.association_id == association_id)
                           .where(snapshot.c.snapshot_id == row.snapshot_id)
                           .values(complete=True))
        older = [str(s) for s in connection.execute(
            select(snapshot.c.snapshot_id).where(snapshot.c.association_id == association_id)
            .where(snapshot.c.snapshot_id != row.snapshot_id)
            .where(snapshot.c.created_at <= row.created_at)).scalars()]
        if older:
            connection.execute(delete(chunk).where(chunk.c.association_id == association_id)
                               .where(chunk.c.snapshot_id.in_(older)))
            connection.execute(delete(snapshot)
                               .where(snapshot.c.association_id == association_id)
                               .where(snapshot.c.snapshot_id.in_(older)))


def latest_snapshot(database: Database, *, association_id: str,
                    device_id: str) -> SnapshotMeta | None:
    """The association's newest complete snapshot, or None."""
    with database.read() as connection:
        _require_live(connection, association_id, device_id)
        return _latest_snapshot_in(connection, association_id)


def get_chunk(database: Database, *, association_id: str, device_id: str, snapshot_id: str,
              idx: int) -> str:
    """One chunk of a snapshot (404 when the snapshot or the chunk is not there)."""
    chunk = tables.snapshot_chunk
    with database.read() as connection:
        _require_live(connection, association_id, device_id)
        row = _snapshot_row(connection, association_id, snapshot_id)
        data = None if not is_count(idx) else connection.execute(
            select(chunk.c.data).where(chunk.c.association_id == association_id)
            .where(chunk.c.snapshot_id == row.snapshot_id).where(chunk.c.idx == idx)
        ).scalar_one_or_none()
    if data is None:
        raise _not_found(_("Snapshot {id} has no chunk {idx}.").format(id=row.snapshot_id,
                                                                        idx=idx))
    return str(data)


# ---------------------------------------------------------------- re-encryption


def reencrypt(database: Database, *, association_id: str, device_id: str,
              items: Sequence[ReencryptItem]) -> int:
    """Replace the ciphertext of replica log items with the same change encrypted with the
    current key generation (after a rotation). All or nothing: 400 when an item is not a
    replica item of the association, 409 ``stale_key`` when its generation is not the current
    one. Items already at the current generation are left as they are (a retry); answers
    how many were replaced."""
    if len(items) > MAX_REENCRYPT_ITEMS:
        raise _bad(_("At most {n} items at a time.").format(n=MAX_REENCRYPT_ITEMS))
    seqs = [item.seq for item in items]
    if not all(is_count(seq, low=1) for seq in seqs) or len(set(seqs)) != len(seqs):
        raise _bad(_('Each item needs its own "seq", a whole number from 1.'))
    if not all(is_ciphertext(item.ct) and is_count(item.key_gen, low=1) for item in items):
        raise _bad(_('Each item needs "key_gen" from 1 and "ct", base64url text of at most '
                     '{n} characters.').format(n=MAX_REPLICA_TEXT))
    log = tables.log
    with database.write() as connection:
        _require_live(connection, association_id, device_id)
        current, _schema, _last = _association_state(connection, association_id, lock=True)
        if any(item.key_gen != current for item in items):
            raise _stale(current)
        if not items:
            return 0
        stored = {int(seq): (kind, body) for seq, kind, body in connection.execute(
            select(log.c.seq, log.c.kind, log.c.body)
            .where(log.c.association_id == association_id).where(log.c.seq.in_(seqs)))}
        changes = []
        for item in items:
            kind, body = stored.get(item.seq, ("", "{}"))
            if kind != OpKind.REPLICA:
                raise _bad(_("Log item {seq} is not a replica item of the association.")
                           .format(seq=item.seq))
            old = json.loads(body)
            if int(old["key_gen"]) >= current:
                continue
            changes.append({"p_seq": item.seq, "p_body": canonical_json(
                {**old, "key_gen": item.key_gen, "ct": item.ct})})
        if changes:
            connection.execute(
                update(log).where(log.c.association_id == association_id)
                .where(log.c.seq == bindparam("p_seq")).values(body=bindparam("p_body")),
                changes)
    return len(changes)


# ---------------------------------------------------------------- the replica op


@dataclass(slots=True)
class ReplicaGate:
    """Admits the replica ops of one ``POST /ops`` batch, inside its write transaction (the
    association's counter row is locked, so the key generation read here stays current).

    An op must be made with the association's current key generation (``no_key`` before the
    first, ``stale_key`` after a rotation: the PC fetches the new key and encrypts again) and
    with a schema no lower than any PC has pushed (``schema_old``: that PC must update Kairan;
    it keeps its changes queued). A higher schema raises the association's."""

    association_id: str
    device_id: str | None
    key_gen: int
    schema: int
    raised: bool = False

    def admit(self, op_id: str, body: Mapping[str, Any]) -> str:
        """The log body (JSON text) of an admitted op; :class:`ProtocolError` to reject it.
        ``body`` is checked already (:func:`sync.protocol.check_op`)."""
        if self.device_id is None:
            raise ProtocolError(RejectCode.INVALID_BODY, _(
                "The relay could not tell which PC sent this change."))
        if self.key_gen == 0:
            raise ProtocolError(RejectCode.NO_KEY, _(
                "The association has no shared key yet: start sharing on one PC first."))
        if body["key_gen"] != self.key_gen:
            raise ProtocolError(RejectCode.STALE_KEY, _(
                "This change was encrypted with key generation {sent}; the association's key "
                "is generation {gen} now.").format(sent=body["key_gen"], gen=self.key_gen))
        if body["schema"] < self.schema:
            raise ProtocolError(RejectCode.SCHEMA_OLD, _(
                "Another PC of the association uses a newer Kairan. Update Kairan on this PC; "
                "its changes wait until then."))
        if body["schema"] > self.schema:
            self.schema = body["schema"]
            self.raised = True
        return canonical_json({"op_id": op_id, "device_id": self.device_id,
                               "key_gen": body["key_gen"], "schema": body["schema"],
                               "ct": body["ct"]})

    def finish(self, connection: Connection) -> None:
        """Store a raised replica schema (at the end of the batch)."""
        if self.raised:
            connection.execute(update(tables.association)
                               .where(tables.association.c.id == self.association_id)
                               .values(replica_schema=self.schema))


def replica_gate(connection: Connection, *, association_id: str,
                 device_id: str | None) -> ReplicaGate:
    """The gate of one batch (read once, when its first replica op comes)."""
    key_gen, schema, _last = _association_state(connection, association_id)
    return ReplicaGate(association_id=association_id, device_id=device_id, key_gen=key_gen,
                       schema=schema)


def has_replica_ops(raw_ops: Sequence[Any]) -> bool:
    """Whether a batch (as parsed from JSON) holds a replica op: only then does the push look
    up the device."""
    return any(isinstance(raw, dict) and raw.get("kind") == OpKind.REPLICA for raw in raw_ops)


# ---------------------------------------------------------------- HTTP


def _parse_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise _bad(_("The request body is not valid JSON ({problem}).").format(
            problem=error)) from error
    if not isinstance(data, dict):
        raise _bad(_("The request body must be a JSON object."))
    return data


def _int_field(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(_('"{name}" must be a whole number.').format(name=name))
    return value


def _text_field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise _bad(_('"{name}" must be text.').format(name=name))
    return value


def _list_field(data: Mapping[str, Any], name: str, limit: int) -> list[dict[str, Any]]:
    value = data.get(name)
    if not isinstance(value, list) or len(value) > limit \
            or not all(isinstance(item, dict) for item in value):
        raise _bad(_('"{name}" must be a list of at most {n} objects.').format(name=name,
                                                                               n=limit))
    return value


def _grants_of(data: Mapping[str, Any], *, with_gen: bool) -> list[Grant]:
    return [Grant(device_id=_text_field(item, "device_id"),
                  key_gen=_int_field(item, "key_gen") if with_gen else 0,
                  wrapped=_text_field(item, "wrapped"))
            for item in _list_field(data, "grants", MAX_GRANTS)]


def _status_of(data: Mapping[str, Any]) -> dict[str, Any]:
    public_key = data.get("public_key")
    if public_key is not None and not isinstance(public_key, str):
        raise _bad(_('"public_key" must be text.'))
    return {"pending": _int_field(data, "pending"), "schema": _int_field(data, "schema"),
            "public_key": public_key}


def _snapshot_of(data: Mapping[str, Any]) -> SnapshotMeta:
    return SnapshotMeta(snapshot_id=_text_field(data, "snapshot_id"),
                        key_gen=_int_field(data, "key_gen"),
                        upto_seq=_int_field(data, "upto_seq"),
                        chunk_count=_int_field(data, "chunk_count"))


def _items_of(data: Mapping[str, Any]) -> list[ReencryptItem]:
    return [ReencryptItem(seq=_int_field(item, "seq"), key_gen=_int_field(item, "key_gen"),
                          ct=_text_field(item, "ct"))
            for item in _list_field(data, "items", MAX_REENCRYPT_ITEMS)]


_Endpoint = Callable[[Request], Awaitable[Response]]
# A request's work once its device is known: (device, parsed body) → JSON answer.
_Work = Callable[[Device, Any], Any]


def _endpoint(database: Database, limiter: RateLimiter, work: _Work, *,
              parse: Callable[[dict[str, Any]], Any] | None = None) -> _Endpoint:
    """An endpoint: office token (401/429 first), body parsed (its refusal is held until the
    token is known good, so a stranger gets 401 and a resident 403, never a 400), device
    identified, then ``work`` in the thread pool; refusals answered as JSON."""

    async def endpoint(request: Request) -> Response:
        try:
            token = office_token(request, limiter)
            parsed: Any = None
            refused: RequestRefused | None = None
            if parse is not None:
                try:
                    parsed = parse(_parse_object(await request.body()))
                except RequestRefused as refusal:
                    refused = refusal
            parsed = parsed if parse is not None else request

            def run() -> Any:
                device = identify(database, token)
                if refused is not None:
                    raise refused
                return work(device, parsed)

            return JSONResponse(await run_in_threadpool(run))
        except RequestRefused as refusal:
            return refusal.response()

    return endpoint


def _call(function: Callable[..., T], device: Device, database: Database,
          **values: Any) -> T:
    return function(database, association_id=device.association_id,
                    device_id=device.device_id, **values)


def routes(database: Database, *, limiter: RateLimiter) -> list[BaseRoute]:
    """The replica endpoints over ``database`` (see the module's docstring)."""

    def route(path: str, method: str, work: _Work,
              parse: Callable[[dict[str, Any]], Any] | None = None) -> Route:
        return Route(path, _endpoint(database, limiter, work, parse=parse), methods=[method])

    def status(device: Device, body: dict[str, Any]) -> Any:
        return _call(report_status, device, database, **body).to_json()

    def devices(device: Device, _request: Request) -> Any:
        return {"devices": [d.to_json() for d in _call(list_devices, device, database)]}

    def revoke(device: Device, request: Request) -> Any:
        _call(revoke_device, device, database, target_id=request.path_params["device_id"])
        return {"revoked": True}

    def keys(device: Device, body: tuple[int, list[Grant]]) -> Any:
        _call(publish_keys, device, database, key_gen=body[0], grants=body[1])
        return {"key_gen": body[0]}

    def grants_add(device: Device, body: list[Grant]) -> Any:
        _call(add_grants, device, database, grants=body)
        return {"added": len(body)}

    def grants_read(device: Device, request: Request) -> Any:
        holder = request.query_params.get("device")
        if holder not in (None, RECOVERY_DEVICE_ID):
            raise _bad(_('Parameter device may only be "recovery".'))
        found = _call(read_grants, device, database, recovery=holder is not None)
        return {"grants": [{"key_gen": g.key_gen, "wrapped": g.wrapped} for g in found]}

    def keys_public(device: Device, _request: Request) -> Any:
        found = _call(public_keys, device, database)
        return {"devices": [{"device_id": d, "public_key": k} for d, k in found.items()]}

    def transfer_post(device: Device, blob: str) -> Any:
        made = _call(post_transfer, device, database, blob=blob)
        return {"transfer_id": made.transfer_id, "expires_at": made.expires_at}

    def transfer_list(device: Device, _request: Request) -> Any:
        return {"transfers": [t.to_json() for t in _call(list_transfers, device, database)]}

    def transfer_delete(device: Device, request: Request) -> Any:
        gone = _call(delete_transfer, device, database,
                     transfer_id=request.path_params["transfer_id"])
        return {"deleted": gone}

    def snapshot_begin(device: Device, meta: SnapshotMeta) -> Any:
        _call(begin_snapshot, device, database, meta=meta)
        return {"snapshot_id": meta.snapshot_id}

    def chunk_put(device: Device, request_and_data: tuple[Request, str]) -> Any:
        request, data = request_and_data
        _call(put_chunk, device, database, snapshot_id=request.path_params["snapshot_id"],
              idx=request.path_params["idx"], data=data)
        return {"stored": True}

    def snapshot_complete(device: Device, request: Request) -> Any:
        _call(complete_snapshot, device, database,
              snapshot_id=request.path_params["snapshot_id"])
        return {"complete": True}

    def snapshot_latest(device: Device, _request: Request) -> Any:
        meta = _call(latest_snapshot, device, database)
        if meta is None:
            raise _not_found(_("The relay has no complete snapshot of the association yet."))
        return meta.to_json()

    def chunk_get(device: Device, request: Request) -> Any:
        data = _call(get_chunk, device, database, snapshot_id=request.path_params["snapshot_id"],
                     idx=request.path_params["idx"])
        return {"data": data}

    def reencrypt_items(device: Device, items: list[ReencryptItem]) -> Any:
        return {"replaced": _call(reencrypt, device, database, items=items)}

    # PUT of a chunk needs its path and its body: the parser sees only the body, so the route
    # is built by hand.
    chunk_endpoint = _chunk_put_endpoint(database, limiter, chunk_put)
    return [
        route(REPLICA_STATUS_PATH, "POST", status, _status_of),
        route(REPLICA_DEVICES_PATH, "GET", devices),
        route(REPLICA_REVOKE_PATH, "POST", revoke),
        route(REPLICA_KEYS_PATH, "POST", keys,
              lambda d: (_int_field(d, "key_gen"), _grants_of(d, with_gen=False))),
        route(REPLICA_GRANTS_PATH, "POST", grants_add, lambda d: _grants_of(d, with_gen=True)),
        route(REPLICA_GRANTS_PATH, "GET", grants_read),
        route(REPLICA_PUBLIC_KEYS_PATH, "GET", keys_public),
        route(REPLICA_TRANSFERS_PATH, "POST", transfer_post, lambda d: _text_field(d, "blob")),
        route(REPLICA_TRANSFERS_PATH, "GET", transfer_list),
        route(REPLICA_TRANSFER_PATH, "DELETE", transfer_delete),
        route(REPLICA_SNAPSHOTS_PATH, "POST", snapshot_begin, _snapshot_of),
        Route(REPLICA_CHUNK_PATH, chunk_endpoint, methods=["PUT"]),
        route(REPLICA_CHUNK_PATH, "GET", chunk_get),
        route(REPLICA_COMPLETE_PATH, "POST", snapshot_complete),
        route(REPLICA_SNAPSHOT_PATH, "GET", snapshot_latest),
        route(REPLICA_REENCRYPT_PATH, "POST", reencrypt_items, _items_of),
    ]


def _chunk_put_endpoint(database: Database, limiter: RateLimiter, work: _Work) -> _Endpoint:
    async def endpoint(request: Request) -> Response:
        inner = _endpoint(database, limiter, lambda device, data: work(device, (request, data)),
                          parse=lambda d: _text_field(d, "data"))
        return await inner(request)

    return endpoint


# ---------------------------------------------------------------- OpenAPI

_TEXT: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}

# The body of a ``replica`` op as the office API's document describes it.
REPLICA_OP_SCHEMA: dict[str, Any] = {
    "key_gen": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
    "ct": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": MAX_REPLICA_TEXT},
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _object(properties: Mapping[str, Any], required: Sequence[str] | None = None
            ) -> dict[str, Any]:
    names = sorted(properties if required is None else required)
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if names:  # OpenAPI 3.0 wants a non-empty list or none
        schema["required"] = names
    return schema


def _operation(summary: str, answer: Mapping[str, Any], *, body: Mapping[str, Any] | None = None,
               parameters: Sequence[Mapping[str, Any]] = (),
               refusals: Mapping[str, str] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "Done", "content": {"application/json": {"schema": answer}}},
        "400": _error("Malformed request or a value out of range"),
        "401": _error("No token, or an unknown or revoked one"),
        "403": _error("A resident's token"),
        "404": _error("Not found"),
        "429": _error("Rate limit (see Retry-After)"),
        **{status: _error(text) for status, text in (refusals or {}).items()},
    }
    operation: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}],
                                 "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
        responses["413"] = _error("Body too large")
    if parameters:
        operation["parameters"] = list(parameters)
    return operation


def _path_parameter(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": dict(schema)}


def openapi_paths() -> dict[str, Any]:
    """The replica endpoints for the office API's OpenAPI document."""
    stale = {"409": "Not the association's current key generation"}
    nullable_time = {"type": "string", "format": "date-time", "nullable": True}
    snapshot_meta = _object({"snapshot_id": _TEXT, "key_gen": _INT, "upto_seq": _INT,
                             "chunk_count": _INT,
                             "created_at": {"type": "string", "format": "date-time"}})
    grant_in = {"type": "object", "required": ["device_id", "wrapped"],
                "properties": {"device_id": _TEXT, "wrapped": _TEXT}}
    grant_add = {"type": "object", "required": ["device_id", "key_gen", "wrapped"],
                 "properties": {"device_id": _TEXT, "key_gen": _INT, "wrapped": _TEXT}}
    device_path = _path_parameter("device_id", _UUID)
    transfer_path = _path_parameter("transfer_id", _UUID)
    snapshot_path = _path_parameter("snapshot_id", _UUID)
    idx_path = _path_parameter("idx", {"type": "integer", "minimum": 0})
    done = _object({})
    paths: dict[str, Any] = {
        REPLICA_STATUS_PATH: {"post": _operation(
            "Report this PC's state; the association's replication state",
            _object({"device_id": _TEXT, "server_time": _TEXT, "key_gen": _INT,
                     "replica_schema": _INT,
                     "snapshot": {**snapshot_meta, "nullable": True}}),
            body=_object({"pending": {"type": "integer", "minimum": 0},
                          "schema": {"type": "integer", "minimum": 0},
                          "public_key": _TEXT}, required=["pending", "schema"]))},
        REPLICA_DEVICES_PATH: {"get": _operation(
            "The association's office PCs, oldest first",
            _object({"devices": {"type": "array", "items": _object({
                "device_id": _TEXT, "name": _TEXT,
                "created_at": {"type": "string", "format": "date-time"},
                "last_seen_at": nullable_time, "pending": _INT, "app_schema": _INT,
                "revoked_at": nullable_time, "has_public_key": {"type": "boolean"}})}}))},
        REPLICA_REVOKE_PATH: {"post": _operation(
            "Withdraw another PC's access at once", done, parameters=[device_path])},
        REPLICA_KEYS_PATH: {"post": _operation(
            "Publish the next key generation with its grants", done,
            body=_object({"key_gen": {"type": "integer", "minimum": 1},
                          "grants": {"type": "array", "items": grant_in}}),
            refusals=stale)},
        REPLICA_GRANTS_PATH: {
            "post": _operation("Add grants of existing key generations", done,
                               body=_object({"grants": {"type": "array",
                                                        "items": grant_add}})),
            "get": _operation(
                "This PC's grants, or the recovery sheet's",
                _object({"grants": {"type": "array", "items": _object(
                    {"key_gen": _INT, "wrapped": _TEXT})}}),
                parameters=[{"name": "device", "in": "query",
                             "schema": {"type": "string", "enum": [RECOVERY_DEVICE_ID]}}]),
        },
        REPLICA_PUBLIC_KEYS_PATH: {"get": _operation(
            "Public keys of the association's live PCs",
            _object({"devices": {"type": "array", "items": _object(
                {"device_id": _TEXT, "public_key": _TEXT})}}))},
        REPLICA_TRANSFERS_PATH: {
            "post": _operation("Leave a sealed key ring for a new PC (15 minutes)",
                               _object({"transfer_id": _TEXT, "expires_at": _TEXT}),
                               body=_object({"blob": {"type": "string", "minLength": 1,
                                                      "maxLength": MAX_WRAPPED}})),
            "get": _operation("The live key transfers", _object({
                "transfers": {"type": "array", "items": _object(
                    {"transfer_id": _TEXT, "blob": _TEXT, "expires_at": _TEXT})}})),
        },
        REPLICA_TRANSFER_PATH: {"delete": _operation(
            "Remove a key transfer", done, parameters=[transfer_path])},
        REPLICA_SNAPSHOTS_PATH: {"post": _operation(
            "Begin an encrypted snapshot", done,
            body=_object({"snapshot_id": _UUID, "key_gen": {"type": "integer", "minimum": 1},
                          "upto_seq": {"type": "integer", "minimum": 0},
                          "chunk_count": {"type": "integer", "minimum": 1,
                                          "maximum": MAX_SNAPSHOT_CHUNKS}}),
            refusals=stale)},
        replica_path(REPLICA_CHUNK_PATH, snapshot_id="{snapshot_id}", idx="{idx}"): {
            "put": _operation("Store one chunk of a snapshot", done,
                              body=_object({"data": {"type": "string",
                                                     "maxLength": MAX_REPLICA_TEXT}}),
                              parameters=[snapshot_path, idx_path]),
            "get": _operation("One chunk of a snapshot", _object({"data": _TEXT}),
                              parameters=[snapshot_path, idx_path]),
        },
        REPLICA_COMPLETE_PATH: {"post": _operation(
            "Mark a snapshot complete (older ones are dropped)", done,
            parameters=[snapshot_path])},
        REPLICA_SNAPSHOT_PATH: {"get": _operation(
            "The newest complete snapshot", snapshot_meta)},
        REPLICA_REENCRYPT_PATH: {"post": _operation(
            "Replace replica items with ones encrypted with the current key",
            _object({"replaced": _INT}),
            body=_object({"items": {"type": "array", "maxItems": MAX_REENCRYPT_ITEMS,
                                    "items": _object({"seq": {"type": "integer", "minimum": 1},
                                                      "key_gen": {"type": "integer",
                                                                  "minimum": 1},
                                                      "ct": REPLICA_OP_SCHEMA["ct"]})}}),
            refusals=stale)},
    }
    return paths
