"""Shared operations sealed for the relay, and opened again from its log.

What the relay sees of a shared operation: its id, the generation of the association key it
is sealed with, the schema version of the Kairan that made it, and the ciphertext. The
ciphertext is bound (AES-GCM's associated data) to the association, the operation's id and
the key generation, so the relay cannot move it to another operation or pass it off as
sealed with another key. The nonce is derived from the key and the operation's id: sending
the same operation again (its answer was lost) gives the same bytes, as the relay's
idempotency check expects, and an operation's content never changes under its id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from desktop.domain.errors import KairanError
from desktop.i18n import _
from sync.e2e.cipher import CipherError, aad_for, open_json, seal_json
from sync.e2e.keys import KeyRing
from sync.protocol import LogItem
from sync.replica.apply import SharedOp
from sync.replica.capture import Change

# The shared tables' shape: the desktop schema's revision number. A PC whose Kairan is older
# than another's cannot apply that PC's changes (a test keeps this equal to the migrations).
REPLICA_SCHEMA = 10


class UpdateNeeded(KairanError):
    """Another office PC shares with a newer Kairan: this one must be updated first."""

    def __init__(self, seq: int) -> None:
        super().__init__(_(
            "Another office PC of the association uses a newer version of Kairan. Update "
            "Kairan on this PC: until then its changes wait here and nothing is lost."))
        self.seq = seq


class MissingKey(KairanError):
    """An item is sealed with a key generation this PC does not hold (yet)."""

    def __init__(self, seq: int, key_gen: int) -> None:
        super().__init__(_(
            "Changes of the other office PCs are locked with a key this PC does not have. "
            "Add this PC again with a key code from another PC (同期 → 別のPCを追加)."))
        self.seq = seq
        self.key_gen = key_gen


def _nonce(key: bytes, op_id: str) -> bytes:
    return hmac.new(key, b"kairan-op-nonce|" + op_id.encode(), hashlib.sha256).digest()[:12]


def seal_op(ring: KeyRing, *, association_id: str, device_id: str, op_id: str,
            changes: Sequence[Mapping[str, Any]], device_name: str = "") -> dict[str, Any]:
    """The body of a ``replica`` operation as pushed: ``{"key_gen", "schema", "ct"}``. The
    PC's name travels sealed, for the review list to say which PC made a change."""
    gen = ring.current
    key = ring.key(gen)
    content = {"op_id": op_id, "device_id": device_id, "device_name": device_name,
               "changes": list(changes)}
    return {"key_gen": gen, "schema": REPLICA_SCHEMA,
            "ct": seal_json(key, content, aad=aad_for(association_id, op_id, gen),
                            nonce=_nonce(key, op_id))}


def item_key_gen(item: LogItem) -> int:
    """The key generation a ``replica`` log item is sealed with (0 if it says none)."""
    gen = item.body.get("key_gen") if isinstance(item.body, Mapping) else None
    return gen if isinstance(gen, int) else 0


def open_item(item: LogItem, ring: KeyRing, *, association_id: str) -> SharedOp:
    """A ``replica`` log item opened: :class:`UpdateNeeded` when it comes from a newer
    Kairan, :class:`MissingKey` when its key is not here, :class:`CipherError` when it is
    damaged or forged."""
    body = item.body if isinstance(item.body, Mapping) else {}
    schema = body.get("schema")
    if isinstance(schema, int) and schema > REPLICA_SCHEMA:
        raise UpdateNeeded(item.seq)
    gen, op_id, device_id = item_key_gen(item), body.get("op_id"), body.get("device_id")
    ct = body.get("ct")
    if not (isinstance(op_id, str) and isinstance(device_id, str) and isinstance(ct, str)):
        raise CipherError(_("A shared change from the relay is incomplete."))
    if gen not in ring.keys:
        raise MissingKey(item.seq, gen)
    content = open_json(ring.key(gen), ct, aad=aad_for(association_id, op_id, gen))
    if not isinstance(content, dict) or content.get("op_id") != op_id \
            or content.get("device_id") != device_id:
        raise CipherError(_("A shared change from the relay does not match its label."))
    try:
        changes = tuple(Change.from_json(change) for change in content.get("changes", ()))
    except (ValueError, AttributeError) as error:
        raise CipherError(_("A shared change from the relay is not readable.")) from error
    name = content.get("device_name")
    return SharedOp(item.seq, op_id, device_id, changes, name if isinstance(name, str) else "")


def reseal_item(item: LogItem, old: KeyRing, new: KeyRing, *, association_id: str
                ) -> dict[str, Any]:
    """A log item sealed again with the newest key (after a PC was revoked):
    ``{"seq", "key_gen", "ct"}`` for the relay's re-encryption."""
    shared = open_item(item, old, association_id=association_id)
    body = seal_op(new, association_id=association_id, device_id=shared.device_id,
                   op_id=shared.op_id, changes=[c.to_json() for c in shared.changes],
                   device_name=shared.device_name)
    return {"seq": item.seq, "key_gen": body["key_gen"], "ct": body["ct"]}


__all__ = ["REPLICA_SCHEMA", "CipherError", "MissingKey", "UpdateNeeded", "item_key_gen",
           "open_item", "reseal_item", "seal_op"]
