"""What the window asks of sharing between office PCs: start it, add a PC by a key code,
join from a new PC (or from the recovery sheet), list and revoke PCs, the review list.

Each function runs on a worker thread (it talks to the relay) unless it says otherwise, and
takes plain values. Long ones report ``progress(done, total)`` and stop when ``cancelled()``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, func, select

from desktop.domain.errors import KairanError, ValidationError
from desktop.domain.models import Association, OutboxOp, OutboxState, ReplicaReview, SyncState
from desktop.i18n import _
from desktop.store.association_file import (
    AssociationFile,
    create_association_file,
    open_association,
)
from sync import credentials
from sync.client import RelayClient, normalise_relay_url
from sync.e2e.cipher import CipherError
from sync.e2e.keys import (
    RECOVERY_DEVICE,
    KeyRing,
    canonical_code,
    load_or_create_identity,
    new_key_ring,
    new_recovery_words,
    new_transfer_code,
    recovery_identity,
    store_key_ring,
    unwrap_key,
    unwrap_with_code,
    wrap_key,
    wrap_with_code,
)
from sync.engine import Outcome, open_client, sync_once
from sync.pairing import pair
from sync.protocol import Grant, LogItem, ReencryptItem, ReplicaRelay, SnapshotMeta
from sync.replica import review, snapshot
from sync.replica.capture import KEYS_TABLE, REPLICA_KIND, Change, queue_changes
from sync.replica.envelope import REPLICA_SCHEMA, item_key_gen, reseal_item
from sync.replica.review import ReviewItem, decide_review, review_items
from sync.replica.sharing import clock_warning, refresh_ring, sharing_of

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
REENCRYPT_BATCH_BYTES = 700_000


def _never() -> bool:
    return False


def _ignore(_done: int, _total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SharingInfo:
    """Where sharing stands on this PC (read from the file only: fast, no network)."""

    enabled: bool
    device_id: str
    key_gen: int
    device_name: str
    association_name: str
    clock_warning: str
    update_needed: str
    review_count: int


def sharing_info(store: AssociationFile) -> SharingInfo:
    """Where sharing stands (on the UI thread: reads the file only)."""
    with store.read() as session:
        state = session.get(SyncState, 1)
        name = session.exec(select(Association.name)).first() or ""
        if state is None:
            return SharingInfo(False, "", 0, "", name, "", "", 0)
        count = session.exec(select(func.count()).select_from(ReplicaReview).where(
            col(ReplicaReview.decided_at).is_(None))).one()
        return SharingInfo(state.key_gen > 0, state.device_id, state.key_gen,
                           state.device_name, name, clock_warning(state.clock_skew_seconds),
                           state.update_needed, count)


def _state(session: Session) -> SyncState:
    state = session.get(SyncState, 1)
    if state is None:
        raise KairanError(_("This file is not connected to a relay. Connect it first "
                            "(同期 → リレーに接続)."))
    return state


@contextmanager
def _client(store: AssociationFile, relay: ReplicaRelay | None) -> Iterator[ReplicaRelay]:
    """``relay`` when given (tests), else an HTTPS client for the file's relay, closed after."""
    if relay is not None:
        yield relay
        return
    with open_client(store) as client:
        yield client


# ---------------------------------------------------------------- starting to share


def _grant_for(public_key: str, ring: KeyRing, gen: int, *, association_id: str,
               device_id: str) -> Grant:
    return Grant(gen, wrap_key(public_key, gen, ring.key(gen), association_id=association_id),
                 device_id)


def enable_sharing(store: AssociationFile, *, progress: Progress = _ignore,
                   cancelled: Cancelled = _never, relay: ReplicaRelay | None = None
                   ) -> list[str]:
    """Make the association's key, share this file's roster with the relay (sealed), and
    return the 12 words of the recovery sheet (to print at once: they are kept nowhere)."""
    with _client(store, relay) as client:
        with store.read() as session:
            state = _state(session)
            if state.key_gen > 0:
                raise KairanError(_("This file already shares its roster with the other PCs."))
            relay_url, association_id = state.relay_url, state.association_id
        identity = load_or_create_identity(relay_url, association_id)
        status = client.replica_status(0, REPLICA_SCHEMA, public_key=identity.public_text)
        if status.key_gen > 0:
            raise KairanError(_(
                "Another PC of this association already shares its roster. Receive the roster on "
                "this PC instead (同期 → 別のPCの名簿を受け取る), in a new file."))
        words = new_recovery_words()
        recovery_key = recovery_identity(words).public_text
        ring = new_key_ring()
        client.publish_keys(ring.current, [
            _grant_for(identity.public_text, ring, ring.current, association_id=association_id,
                       device_id=status.device_id),
            _grant_for(recovery_key, ring, ring.current, association_id=association_id,
                       device_id=RECOVERY_DEVICE)])
        store_key_ring(relay_url, association_id, ring)
        with store.write() as session:
            state = _state(session)
            state.device_id = status.device_id or state.device_id
            state.key_gen = ring.current
            state.recovery_public_key = recovery_key
            state.replica_capture = True  # from this transaction on, changes are shared
            session.flush()
            parts = snapshot.read_parts(session, recovery_public_key=recovery_key)
            upto = state.cursor
        _upload(client, parts, ring, association_id=association_id, upto_seq=upto,
                progress=progress, cancelled=cancelled)
        return words


def _upload(client: ReplicaRelay, parts: list[snapshot.SnapshotPart], ring: KeyRing, *,
            association_id: str, upto_seq: int, progress: Progress,
            cancelled: Cancelled) -> None:
    snapshot_id = str(uuid.uuid4())
    client.begin_snapshot(SnapshotMeta(snapshot_id, ring.current, upto_seq, len(parts)))
    sealed = snapshot.seal_parts(parts, ring, association_id=association_id,
                                 snapshot_id=snapshot_id)
    for index, data in enumerate(sealed):
        if cancelled():
            raise KairanError(_("Stopped. The roster was not sent completely; the other PCs "
                                "use the last complete copy."))
        client.put_chunk(snapshot_id, index, data)
        progress(index + 1, len(parts))
    client.complete_snapshot(snapshot_id)


def upload_snapshot(store: AssociationFile, *, progress: Progress = _ignore,
                    cancelled: Cancelled = _never, relay: ReplicaRelay | None = None) -> None:
    """Send a fresh sealed copy of the shared tables (a new PC starts from it). Taken when
    this PC has no shared change on its way, so it is the relay's order up to its cursor."""
    with _client(store, relay) as client:
        for _attempt in range(3):
            sync_once(store, client, cancelled=cancelled)
            with store.read() as session:
                sharing = sharing_of(session)
                state = _state(session)
                if sharing is None:
                    raise KairanError(_("This file does not share its roster yet."))
                unsettled = session.exec(select(func.count()).select_from(OutboxOp).where(
                    OutboxOp.kind == REPLICA_KIND, col(OutboxOp.state).in_(
                        (OutboxState.PENDING, OutboxState.SENT)))).one()
                if unsettled:
                    continue
                parts = snapshot.read_parts(session, recovery_public_key=state.recovery_public_key)
                upto = state.cursor
            _upload(client, parts, sharing.ring, association_id=sharing.association_id,
                    upto_seq=upto, progress=progress, cancelled=cancelled)
            return
        raise KairanError(_("Changes are still being sent to the relay. Try again in a minute."))


def new_recovery_sheet(store: AssociationFile, *, relay: ReplicaRelay | None = None
                       ) -> list[str]:
    """New recovery words: from now on new keys are wrapped for them (the old sheet opens
    only the keys made before). The other PCs learn the sheet's public key, sealed."""
    with _client(store, relay) as client:
        with store.read() as session:
            sharing = sharing_of(session)
        if sharing is None:
            raise KairanError(_("This file does not share its roster yet."))
        words = new_recovery_words()
        recovery_key = recovery_identity(words).public_text
        client.add_grants([_grant_for(recovery_key, sharing.ring, gen,
                                      association_id=sharing.association_id,
                                      device_id=RECOVERY_DEVICE) for gen in sharing.ring.keys])
        with store.write() as session:
            _state(session).recovery_public_key = recovery_key
            queue_changes(session, [Change(KEYS_TABLE, '["recovery"]', "u",
                                           {"recovery_public_key": recovery_key})])
        return words


# ---------------------------------------------------------------- adding a PC


def offer_key(store: AssociationFile, *, relay: ReplicaRelay | None = None) -> str:
    """A key code for a new PC ("XXXXX-XXXXX", usable for 15 minutes): the association's
    keys sealed with it wait on the relay for the new PC."""
    with _client(store, relay) as client:
        with store.read() as session:
            sharing = sharing_of(session)
        if sharing is None:
            raise KairanError(_("This file does not share its roster yet."))
        code = new_transfer_code()
        client.post_transfer(wrap_with_code(code, sharing.ring,
                                            association_id=sharing.association_id))
        return code


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """What the officer typed on a new PC; one of ``key_code`` and ``recovery_words``."""

    folder: Path
    relay_url: str
    pairing_code: str
    device_name: str
    ca_file: str
    key_code: str = ""
    recovery_words: str = ""


def _ring_from(request: JoinRequest, client: ReplicaRelay, *, association_id: str) -> KeyRing:
    if request.recovery_words.strip():
        identity = recovery_identity(request.recovery_words)
        ring: KeyRing | None = None
        for grant in client.grants(recovery=True):
            try:
                gen, key = unwrap_key(identity, grant.wrapped, association_id=association_id)
            except CipherError:
                continue
            ring = ring.with_key(gen, key) if ring is not None else KeyRing({gen: key}, gen)
        if ring is None:
            raise ValidationError(_(
                "These recovery words do not open this association's keys. Check the words "
                "on the sheet, and that this is the association's relay."),
                field="recovery_words")
        return ring
    code = canonical_code(request.key_code)
    for transfer in client.transfers():
        try:
            ring = unwrap_with_code(code, transfer.blob, association_id=association_id)
        except CipherError:
            continue
        client.delete_transfer(transfer.transfer_id)
        return ring
    raise ValidationError(_(
        "The key code does not match, or it has expired (15 minutes). Show a new key code on "
        "the other PC (同期 → 別のPCを追加) and type it here."), field="key_code")


def _half_joined(folder: Path, relay_url: str) -> AssociationFile | None:
    """A file in ``folder`` paired with this relay whose roster has not arrived yet (a
    join that stopped at the key code): it is finished instead of pairing again."""
    for path in sorted(folder.glob("*.kairan")):
        try:
            opened = open_association(path)
        except KairanError:
            continue
        with opened.read() as session:
            state = session.get(SyncState, 1)
            if state is not None and state.relay_url == relay_url and state.key_gen == 0 \
                    and session.exec(select(Association.id)).first() is None:
                return opened
        opened.close()
    return None


def _free_path(folder: Path, name: str) -> Path:
    stem = "".join(c for c in name if c not in '\\/:*?"<>|').strip() or "association"
    path = folder / f"{stem}.kairan"
    number = 2
    while path.exists():
        path = folder / f"{stem} ({number}).kairan"
        number += 1
    return path


@contextmanager
def _closed(client: ReplicaRelay) -> Iterator[ReplicaRelay]:
    """``client``, closed after use when it can be (the HTTPS client's connections)."""
    try:
        yield client
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()


def _new_file(folder: Path, name: str) -> AssociationFile:
    return create_association_file(_free_path(folder, name))


def join_association(request: JoinRequest, *, progress: Progress = _ignore,
                     cancelled: Cancelled = _never,
                     relay: Callable[[str, str | None], ReplicaRelay] | None = None) -> Path:
    """On a new PC: pair with the relay, open the association's keys with the key code (or
    the recovery words), load the latest snapshot and pull the log. Returns the new file.

    ``relay(url, token)`` makes the relay client (tests); by default the HTTPS client."""
    url = normalise_relay_url(request.relay_url)
    if request.recovery_words.strip():
        recovery_identity(request.recovery_words)  # a typing mistake is said before pairing
    else:
        canonical_code(request.key_code)
    make = relay or (lambda address, token: RelayClient(
        address, token=token, ca_file=request.ca_file or None))
    store = _half_joined(request.folder, url)
    if store is None:
        with _closed(make(url, None)) as joining:
            store = _paired_file(request, url, joining)
    try:
        with store.read() as session:
            association_id = _state(session).association_id
        token = credentials.load_token(credentials.token_key(url, association_id))
        with _closed(make(url, token)) as client:
            identity = load_or_create_identity(url, association_id)
            status = client.replica_status(0, REPLICA_SCHEMA, public_key=identity.public_text)
            ring = _ring_from(request, client, association_id=association_id)
            store_key_ring(url, association_id, ring)
            _receive(store, client, ring, status.device_id, progress=progress,
                     cancelled=cancelled)
        return store.path
    finally:
        store.close()


def _paired_file(request: JoinRequest, url: str, client: ReplicaRelay) -> AssociationFile:
    """A new, empty file paired with the relay, named after the association."""
    if not request.folder.is_dir():
        raise ValidationError(_("There is no folder {folder}.").format(folder=request.folder),
                              field="folder")
    store = _new_file(request.folder, "kairan-joining")
    try:
        paired = pair(store, relay_url=url, code=request.pairing_code,
                      device_name=request.device_name, ca_file=request.ca_file,
                      today=datetime.now(UTC).date(), client=client)  # type: ignore[arg-type]
    except BaseException:
        store.close()
        store.path.unlink(missing_ok=True)
        raise
    store.close()
    target = _free_path(request.folder, paired.association_name)
    store.path.rename(target)
    return open_association(target)


def _receive(store: AssociationFile, client: ReplicaRelay, ring: KeyRing, device_id: str, *,
             progress: Progress, cancelled: Cancelled) -> None:
    """Load the latest snapshot into the new file, then pull the log after it."""
    meta = client.latest_snapshot()
    if meta is not None and meta.key_gen not in ring.keys:
        with store.read() as session:
            sharing = sharing_of(session)
        if sharing is not None:
            ring = refresh_ring(sharing, client).ring
    total = (meta.chunk_count if meta is not None else 0) + 1
    with store.read() as session:
        association_id = _state(session).association_id

    def parts() -> list[snapshot.SnapshotPart]:
        loaded = []
        for index in range(meta.chunk_count if meta is not None else 0):
            if cancelled():
                raise KairanError(_("Stopped. Nothing was kept; start again when ready."))
            assert meta is not None
            loaded.append(snapshot.open_part(
                client.get_chunk(meta.snapshot_id, index), ring, association_id=association_id,
                snapshot_id=meta.snapshot_id, index=index, count=meta.chunk_count,
                gen=meta.key_gen))
            progress(index + 1, total)
        return loaded

    with store.write() as session:
        state = _state(session)
        facts = snapshot.load_parts(session, parts()).facts if meta is not None else {}
        state.device_id = device_id or state.device_id
        state.key_gen = ring.current
        state.recovery_public_key = str(facts.get("recovery_public_key", ""))
        state.snapshot_seq = meta.upto_seq if meta is not None else 0
        state.cursor = 0  # the residents' answers and the rest come from the start of the log
        state.replica_capture = True
    while not cancelled():
        status = sync_once(store, client)
        if status.outcome != Outcome.SYNCED:
            raise KairanError(status.error or _("The relay could not be reached. The roster "
                                                "arrives when you sync next time."))
        if status.pending == 0 and not status.pushed and not status.applied.changed \
                and not status.shared.rows:
            break
    progress(total, total)


# ---------------------------------------------------------------- the PCs


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One office PC of the association, for the PC list."""

    device_id: str
    name: str
    last_seen_at: datetime | None
    pending: int
    revoked: bool
    is_this_pc: bool
    app_schema: int


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def list_devices(store: AssociationFile, *, relay: ReplicaRelay | None = None
                 ) -> list[DeviceRow]:
    """The association's office PCs as the relay knows them."""
    with _client(store, relay) as client:
        with store.read() as session:
            me = _state(session).device_id
        return [DeviceRow(device.device_id, device.name, _moment(device.last_seen_at),
                          device.pending, device.revoked_at is not None, device.device_id == me,
                          device.app_schema) for device in client.devices()]


def revoke_device(store: AssociationFile, *, device_id: str, progress: Progress = _ignore,
                  cancelled: Cancelled = _never, relay: ReplicaRelay | None = None) -> None:
    """Withdraw a PC (lost laptop, officer who left): its token stops working at once, a
    new key generation is made for the remaining PCs and the recovery sheet, what the relay
    keeps is sealed again with it, and a fresh snapshot replaces the old ones."""
    with _client(store, relay) as client:
        with store.read() as session:
            sharing = sharing_of(session)
            state = _state(session)
            if device_id == state.device_id:
                raise ValidationError(_("This PC cannot withdraw itself. Do it from another "
                                        "office PC."))
            recovery_key = state.recovery_public_key
        if sharing is None:
            raise KairanError(_("This file does not share its roster yet."))
        client.revoke_device(device_id)
        progress(1, 4)
        old = refresh_ring(sharing, client).ring
        new = old.new_generation()
        association_id = sharing.association_id
        grants = [_grant_for(public_key, new, new.current, association_id=association_id,
                             device_id=device)
                  for device, public_key in client.public_keys().items() if device != device_id]
        if recovery_key:
            grants.append(_grant_for(recovery_key, new, new.current, association_id=association_id,
                                     device_id=RECOVERY_DEVICE))
        client.publish_keys(new.current, grants)
        store_key_ring(sharing.relay_url, association_id, new)
        with store.write() as session:
            _state(session).key_gen = new.current
        progress(2, 4)
        _reencrypt(client, old, new, association_id=association_id, cancelled=cancelled)
        progress(3, 4)
        upload_snapshot(store, cancelled=cancelled, relay=client)
        progress(4, 4)


def _reencrypt(client: ReplicaRelay, old: KeyRing, new: KeyRing, *, association_id: str,
               cancelled: Cancelled) -> int:
    """Seal every shared change the relay keeps with the newest key; how many."""
    after, done = 0, 0
    batch: list[ReencryptItem] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size, done
        if batch:
            done += client.reencrypt(batch)
        batch, size = [], 0

    while not cancelled():
        page = client.pull(after=after, limit=1000, epoch="")
        for item in page.items:
            if item.kind == REPLICA_KIND and 0 < item_key_gen(item) < new.current:
                resealed = _resealed(item, old, new, association_id=association_id)
                if resealed is not None:
                    batch.append(resealed)
                    size += len(resealed.ct)
                    if size > REENCRYPT_BATCH_BYTES:
                        flush()
            after = max(after, item.seq)
        if not page.more:
            break
    flush()
    return done


def _resealed(item: LogItem, old: KeyRing, new: KeyRing, *, association_id: str
              ) -> ReencryptItem | None:
    try:
        data = reseal_item(item, old, new, association_id=association_id)
    except (CipherError, KairanError):
        return None  # damaged or unreadable here: left as it is (listed where it is applied)
    return ReencryptItem(data["seq"], data["key_gen"], data["ct"])


__all__ = ["DeviceRow", "JoinRequest", "ReviewItem", "SharingInfo", "decide_review",
           "enable_sharing", "join_association", "list_devices", "new_recovery_sheet",
           "offer_key", "review", "review_items", "revoke_device", "sharing_info",
           "upload_snapshot"]
