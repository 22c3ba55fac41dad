"""Wire protocol v1 between an office PC and the relay: paths, limits, kinds and message shapes.

Both sides import this module, so a field name or a limit is written once. Everything travels as
JSON over HTTPS; the dataclasses here convert to and from the plain JSON objects
(``to_json``/``from_json``) and :func:`check_op` says whether an operation body is one the relay
accepts. The body checks are deliberately strict: a field the contract does not name is refused,
so no roster detail (address, phone, members) can slip onto the relay by accident.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from desktop.i18n import _

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"
PAIR_PATH = f"{API_PREFIX}/pair"
OPS_PATH = f"{API_PREFIX}/ops"
LOG_PATH = f"{API_PREFIX}/log"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
# The newest Kairan release the relay's operator recorded (office devices only; the request
# carries nothing but the device token: the PC compares versions itself).
RELEASE_PATH = f"{API_PREFIX}/release"

# Replication between an association's office PCs (end-to-end encrypted: the relay orders and
# keeps what they share but cannot read it). Templates with ``{...}`` are Starlette route paths;
# :func:`replica_path` fills them in for the client.
REPLICA_PATH = f"{API_PREFIX}/replica"
REPLICA_STATUS_PATH = f"{REPLICA_PATH}/status"
REPLICA_DEVICES_PATH = f"{REPLICA_PATH}/devices"
REPLICA_REVOKE_PATH = f"{REPLICA_PATH}/devices/{{device_id}}/revoke"
REPLICA_KEYS_PATH = f"{REPLICA_PATH}/keys"
REPLICA_GRANTS_PATH = f"{REPLICA_PATH}/grants"
REPLICA_PUBLIC_KEYS_PATH = f"{REPLICA_PATH}/public-keys"
REPLICA_TRANSFERS_PATH = f"{REPLICA_PATH}/transfers"
REPLICA_TRANSFER_PATH = f"{REPLICA_PATH}/transfers/{{transfer_id}}"
REPLICA_SNAPSHOTS_PATH = f"{REPLICA_PATH}/snapshots"
REPLICA_CHUNK_PATH = f"{REPLICA_PATH}/snapshots/{{snapshot_id}}/chunks/{{idx:int}}"
REPLICA_COMPLETE_PATH = f"{REPLICA_PATH}/snapshots/{{snapshot_id}}/complete"
REPLICA_SNAPSHOT_PATH = f"{REPLICA_PATH}/snapshot"
REPLICA_REENCRYPT_PATH = f"{REPLICA_PATH}/reencrypt"

MAX_BODY_BYTES = 1 << 20  # a larger request body is answered 413
MAX_OPS_PER_REQUEST = 500
# Pipelined pushes: ``POST /ops`` may name its batch (``"batch": "<uuid>"``) and the batch it
# must follow (``"after": "<uuid>"``). The relay applies a batch with ``after`` only once that
# batch of the same device was applied (answered) by the same relay process, waiting for it at
# most this long; else it answers 409 ``out_of_order`` and applies nothing.
BATCH_FIELD = "batch"
AFTER_FIELD = "after"
CHAIN_WAIT_SECONDS = 5.0
MAX_LOG_LIMIT = 1000
DEFAULT_LOG_LIMIT = 500
PAIRING_CODE_HOURS = 24  # a pairing code expires after this long unless the admin says otherwise
MAX_TEXT = 20_000  # characters in one text field (a circular's body)
MAX_LIST = 10_000  # items in one list field (household ids of a circular)
MAX_AGENDA_ITEMS = 100  # agenda items of one general meeting on the relay
MAX_REPLICA_TEXT = 900_000  # characters of a replica op's ciphertext or of a snapshot chunk
MAX_WRAPPED = 4096  # characters of a wrapped key (a key grant) or a key transfer's blob
MAX_PUBLIC_KEY = 200  # characters of a device's public key text
MAX_GRANTS = 1000  # grants in one request
MAX_REENCRYPT_ITEMS = 1000  # log items re-encrypted by one request
MAX_SNAPSHOT_CHUNKS = 100_000  # chunks of one snapshot
MAX_LIVE_TRANSFERS = 5  # key transfers an association keeps (older ones are dropped)
TRANSFER_MINUTES = 15  # a key transfer (and the code shown for it) lasts this long
RECOVERY_DEVICE_ID = "recovery"  # the device id under which the recovery sheet's grants are kept
MAX_COUNT = 2**31 - 1  # a key generation, schema, pending count or chunk index
MAX_RELEASE_VERSION = 40  # characters of a release's version ("0.2.0rc1")
MAX_RELEASE_URL = 2000  # characters of a release's download page address
MAX_RELEASE_NOTES = 500  # characters of a release's notes (a line or two in the window)


class Scope(enum.StrEnum):
    """What a bearer token may do: an office PC's device token or a resident household's."""

    OFFICE = "office"
    RESIDENT = "resident"


class OpKind(enum.StrEnum):
    """Operations an office PC pushes to the relay."""

    HOUSEHOLD_UPSERT = "household.upsert"
    HOUSEHOLD_PURGE = "household.purge"
    INVITATION_ISSUE = "invitation.issue"
    INVITATION_REVOKE = "invitation.revoke"
    CIRCULAR_PUBLISH = "circular.publish"
    CIRCULAR_RETRACT = "circular.retract"
    DISASTER_SET = "disaster.set"
    ANSWER_RECORD = "answer.record"
    MEETING_PUBLISH = "meeting.publish"
    MEETING_RETRACT = "meeting.retract"
    SAFETY_RECORD = "safety.record"  # a safety answer an officer gathered (phone, door)
    ASSOCIATION_PROFILE = "association.profile"  # what the resident page says of the association
    # An encrypted change for the association's other office PCs: the relay reads only its key
    # generation and schema; it stores it with the pushing device's id (from its token).
    REPLICA = "replica"
    # The e-mail channel: a household's addresses (none unless its channel is e-mail), and a
    # circular mailed again to the households that have not read it.
    MAIL_ADDRESSES = "mail.addresses"
    MAIL_RESEND = "mail.resend"


class LogKind(enum.StrEnum):
    """Log items the relay makes itself from residents' actions (applied ops keep their kind)."""

    ANSWER = "answer"
    READ = "read"
    SAFETY = "safety"
    MEETING_ANSWER = "meeting_answer"  # a household's online form for a general meeting
    MAIL = "mail"  # what became of a mail to one address (MAIL_EVENTS)


class SafetyStatus(enum.StrEnum):
    """A household's answer to the disaster safety check."""

    OK = "ok"  # 問題なし
    CONTACT = "contact"  # 連絡要
    URGENT = "urgent"  # 至急支援要


class OpStatus(enum.StrEnum):
    """What the relay did with one pushed operation."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before; the stored result is returned again
    REJECTED = "rejected"


class RejectCode(enum.StrEnum):
    """Why an operation was rejected (``OpResult.code``); a rejected op is never retried as is."""

    ID_REUSED = "id_reused"  # the id was applied before with another kind or body
    UNKNOWN_KIND = "unknown_kind"
    INVALID_BODY = "invalid_body"
    INVALID_ID = "invalid_id"  # the op id is not a UUID
    NOT_FOUND = "not_found"  # it names a household or circular the relay does not hold
    STALE_KEY = "stale_key"  # replica: not the association's current key generation
    SCHEMA_OLD = "schema_old"  # replica: older than a schema another PC already pushed
    NO_KEY = "no_key"  # replica: the association has no key yet


class ErrorCode(enum.StrEnum):
    """``{"error": ...}`` of a non-200 answer (the HTTP status says the same, coarser)."""

    BAD_REQUEST = "bad_request"  # 400: malformed JSON or a request of the wrong shape
    UNAUTHORIZED = "unauthorized"  # 401: no token, an unknown or revoked one
    FORBIDDEN = "forbidden"  # 403: a resident token on an office endpoint
    NOT_FOUND = "not_found"  # 404
    EPOCH_MISMATCH = "epoch_mismatch"  # 409: {"epoch": current}; re-pull from 0
    TOO_LARGE = "too_large"  # 413
    RATE_LIMITED = "rate_limited"  # 429 with Retry-After (seconds)
    PAIRING_CODE = "pairing_code"  # 400: the pairing code is unknown, used or expired
    STALE_KEY = "stale_key"  # 409: {"key_gen": current}; not the current key generation
    # 409: the batch named by "after" is unknown to this relay process (never pushed, pushed
    # to another process, or forgotten), or was refused: nothing of this batch was applied.
    OUT_OF_ORDER = "out_of_order"


class ProtocolError(ValueError):
    """A message that does not follow the protocol; ``code`` is a :class:`RejectCode` value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class Op:
    """One operation as pushed: its id doubles as the idempotency key."""

    id: str
    kind: str
    body: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this op in a ``POST /ops`` request."""
        return {"id": self.id, "kind": self.kind, "body": dict(self.body)}

    @classmethod
    def from_json(cls, data: Any) -> Op:
        """Read one op of a request; :class:`ProtocolError` when it is not an object of the
        right shape (the body itself is checked by :func:`check_op`)."""
        if not isinstance(data, dict):
            raise ProtocolError(RejectCode.INVALID_BODY, _("An operation must be a JSON object."))
        op_id, kind, body = data.get("id"), data.get("kind"), data.get("body")
        if not isinstance(op_id, str) or not isinstance(kind, str) or not isinstance(body, dict):
            raise ProtocolError(
                RejectCode.INVALID_BODY,
                _('An operation needs "id" (text), "kind" (text) and "body" (object).'),
            )
        return cls(id=op_id, kind=kind, body=body)


@dataclass(frozen=True, slots=True)
class OpResult:
    """The relay's answer about one op, in request order."""

    id: str
    status: OpStatus
    code: str | None = None
    message: str | None = None
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this result (absent fields left out)."""
        data: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.code is not None:
            data["code"] = self.code
        if self.message is not None:
            data["message"] = self.message
        if self.seq is not None:
            data["seq"] = self.seq
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OpResult:
        """Read one result of a ``POST /ops`` answer."""
        return cls(
            id=str(data["id"]),
            status=OpStatus(data["status"]),
            code=data.get("code"),
            message=data.get("message"),
            seq=data.get("seq"),
        )


@dataclass(frozen=True, slots=True)
class PairRequest:
    """``POST /pair``: exchange a one-time pairing code for an office device token."""

    code: str
    device_name: str

    def to_json(self) -> dict[str, Any]:
        """The request body."""
        return {"code": self.code, "device_name": self.device_name}


@dataclass(frozen=True, slots=True)
class PairResponse:
    """The answer to a successful pairing: keep the token in the keyring only."""

    token: str
    association_id: str
    association_name: str
    epoch: str
    device_id: str = ""  # the relay's id of the new office device ("" from an older relay)

    def to_json(self) -> dict[str, Any]:
        """The response body."""
        return {
            "token": self.token,
            "association_id": self.association_id,
            "association_name": self.association_name,
            "epoch": self.epoch,
            "device_id": self.device_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairResponse:
        """Read the response body."""
        return cls(
            token=str(data["token"]),
            association_id=str(data["association_id"]),
            association_name=str(data["association_name"]),
            epoch=str(data["epoch"]),
            device_id=str(data.get("device_id") or ""),
        )


@dataclass(frozen=True, slots=True)
class LogItem:
    """One entry of an association's log: ``at`` is an ISO 8601 UTC timestamp."""

    seq: int
    kind: str
    body: Mapping[str, Any]
    at: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this item in a log page."""
        return {"seq": self.seq, "kind": self.kind, "body": dict(self.body), "at": self.at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogItem:
        """Read one item of a log page."""
        return cls(seq=int(data["seq"]), kind=str(data["kind"]), body=data["body"],
                   at=str(data["at"]))


@dataclass(frozen=True, slots=True)
class LogPage:
    """``GET /log``: the items after the cursor, oldest first; ``more`` when a page was full."""

    epoch: str
    items: Sequence[LogItem] = field(default_factory=tuple)
    more: bool = False

    def to_json(self) -> dict[str, Any]:
        """The response body."""
        return {"epoch": self.epoch, "items": [i.to_json() for i in self.items],
                "more": self.more}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogPage:
        """Read the response body."""
        return cls(epoch=str(data["epoch"]),
                   items=tuple(LogItem.from_json(i) for i in data["items"]),
                   more=bool(data["more"]))


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """``GET /release``: the newest Kairan release the relay's operator recorded. The office
    PC decides itself whether it is newer (:mod:`sync.update_check`); nothing is downloaded."""

    version: str
    url: str
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        """The response body."""
        return {"version": self.version, "url": self.url, "notes": self.notes}

    @classmethod
    def from_json(cls, data: Any) -> ReleaseInfo | None:
        """Read the response body; None when the relay records no release (``{"version":
        null}``) or the answer is not of the right shape (an odd answer is ignored, never
        shown)."""
        if not isinstance(data, Mapping):
            return None
        version, url, notes = data.get("version"), data.get("url"), data.get("notes")
        if not isinstance(version, str) or not 0 < len(version) <= MAX_RELEASE_VERSION \
                or not isinstance(url, str) or len(url) > MAX_RELEASE_URL:
            return None
        return cls(version=version, url=url,
                   notes=notes[:MAX_RELEASE_NOTES] if isinstance(notes, str) else "")


def canonical_json(value: Any) -> str:
    """``value`` as compact JSON with sorted keys: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def text_fingerprint(kind: str, canonical_body: str) -> str:
    """sha256 of an op's kind and its body already in :func:`canonical_json` form."""
    return hashlib.sha256(f"{kind}\n{canonical_body}".encode()).hexdigest()


def op_fingerprint(kind: str, body: Mapping[str, Any]) -> str:
    """sha256 of the op's kind and body in canonical JSON: a reused id with another body differs."""
    return text_fingerprint(kind, canonical_json(body))


def hash_secret(secret: str) -> str:
    """sha256 hex of a token, pairing code or invitation code: only this is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- op bodies

_Check = Callable[[Any], bool]
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _is_uuid(value: Any) -> bool:
    """A UUID in its usual hyphenated text form (either case)."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_batch_id(value: Any) -> bool:
    """A batch id of a pipelined push (``batch``, ``after``): a UUID in text form."""
    return _is_uuid(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _optional(check: _Check) -> _Check:
    return lambda value: value is None or check(value)


def _list_of(check: _Check) -> _Check:
    return lambda value: (isinstance(value, list) and len(value) <= MAX_LIST
                          and all(check(item) for item in value))


def _is_question(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) <= {"text", "kind", "choices"}
            and _is_text(value.get("text")) and value.get("kind") in ("choice", "text")
            and _list_of(_is_text)(value.get("choices", [])))


_ANSWER_TYPES = (str, int, float, bool)


def _is_answer(value: Any) -> bool:
    return value is None or isinstance(value, _ANSWER_TYPES)


def _is_agenda_item(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) == {"item_id", "title"}
            and _is_uuid(value["item_id"]) and _is_text(value["title"]))


def _is_agenda(value: Any) -> bool:
    return (isinstance(value, list) and len(value) <= MAX_AGENDA_ITEMS
            and all(_is_agenda_item(item) for item in value))


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_moment(value: Any) -> bool:
    """An ISO 8601 date and time with its offset (``…Z`` or ``…+09:00``)."""
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and _SHA256_HEX.match(value) is not None


ASKS = ("nothing", "read", "attendance", "survey")
MAX_MAIL_ADDRESSES = 4  # a household's e-mail addresses
MAX_ADDRESS = 254  # characters of one address (RFC 5321's path limit)
# sent: the SMTP server took it; failed: given up after retries; bounced: refused for good (the
# address is not mailed again); unsubscribed: the household pressed the stop link; opened: the
# personal link was opened.
MAIL_EVENTS = ("sent", "failed", "bounced", "unsubscribed", "opened")
# Loose on purpose, as the roster's check (desktop.domain.text.is_plausible_email): one @,
# something before it, a dotted domain, no spaces.
_ADDRESS = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def is_mail_address(value: Any) -> bool:
    """An address the relay may send to (the office never sends one that is not)."""
    return (isinstance(value, str) and len(value) <= MAX_ADDRESS
            and _ADDRESS.fullmatch(value) is not None)


CHANNELS = ("paper", "app", "email", "phone", "in_person")
SAFETY_STATUSES = tuple(s.value for s in SafetyStatus)

# Every field of every op body, with its check; all are required (null where optional).
OP_FIELDS: dict[str, dict[str, _Check]] = {
    OpKind.HOUSEHOLD_UPSERT: {
        "household_id": _is_uuid, "number": _is_text, "display_name": _is_text,
        "group_id": _optional(_is_uuid), "group_name": _is_text,
    },
    OpKind.HOUSEHOLD_PURGE: {"household_id": _is_uuid},
    OpKind.INVITATION_ISSUE: {"household_id": _is_uuid, "code_hash": _is_hash},
    OpKind.INVITATION_REVOKE: {"household_id": _is_uuid},
    OpKind.CIRCULAR_PUBLISH: {
        "circular_id": _is_uuid, "title": _is_text, "body": _is_text, "issued_on": _is_date,
        "issuer": _is_text, "ask": lambda v: v in ASKS, "questions": _list_of(_is_question),
        "deadline": _optional(_is_date), "household_ids": _list_of(_is_uuid),
    },
    OpKind.CIRCULAR_RETRACT: {"circular_id": _is_uuid},
    OpKind.DISASTER_SET: {"on": _is_bool, "message": _is_text},
    OpKind.ANSWER_RECORD: {
        "circular_id": _is_uuid, "household_id": _is_uuid, "answers": _list_of(_is_answer),
        "channel": lambda v: v in CHANNELS,
    },
    # A general meeting's agenda for the resident page: no voter names, only the households
    # that vote (residents answer per household; the office maps it onto its voter list).
    OpKind.MEETING_PUBLISH: {
        "meeting_id": _is_uuid, "title": _is_text, "body": _is_text, "held_on": _is_date,
        "deadline": _optional(_is_date), "online_forms": _is_bool, "items": _is_agenda,
        "household_ids": _list_of(_is_uuid),
    },
    OpKind.MEETING_RETRACT: {"meeting_id": _is_uuid},
    # Only the log carries it, for the association's other office PCs' safety boards.
    OpKind.SAFETY_RECORD: {
        "answer_id": _is_uuid, "household_id": _is_uuid,
        "status": lambda v: v in SAFETY_STATUSES, "note": _is_text, "needs_help": _is_bool,
        "channel": lambda v: v in CHANNELS, "at": _is_moment,
    },
    OpKind.ASSOCIATION_PROFILE: {"purpose_statement": _is_text},
    OpKind.MAIL_ADDRESSES: {
        "household_id": _is_uuid,
        "addresses": lambda v: (isinstance(v, list) and len(v) <= MAX_MAIL_ADDRESSES
                                and all(is_mail_address(a) for a in v)),
    },
    OpKind.MAIL_RESEND: {"circular_id": _is_uuid, "household_ids": _list_of(_is_uuid)},
}

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def is_count(value: Any, *, low: int = 0) -> bool:
    """A whole number (not a bool) from ``low`` to :data:`MAX_COUNT`."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and low <= value <= MAX_COUNT)


def is_ciphertext(value: Any, *, limit: int = MAX_REPLICA_TEXT) -> bool:
    """Base64url text (no padding) of at most ``limit`` characters: what the relay keeps of
    what office PCs encrypted for each other."""
    return (isinstance(value, str) and len(value) <= limit
            and _BASE64URL.fullmatch(value) is not None)


# Kinds whose body the relay cannot read (kept apart from OP_FIELDS, the kinds whose content
# the relay serves to residents): only the envelope is checked.
ENCRYPTED_OP_FIELDS: dict[str, dict[str, _Check]] = {
    OpKind.REPLICA: {
        "key_gen": lambda v: is_count(v, low=1), "schema": lambda v: is_count(v, low=1),
        "ct": is_ciphertext,
    },
}


def check_op(op: Op) -> None:
    """Raise :class:`ProtocolError` unless ``op`` has a UUID id, a known kind and a body with
    exactly the fields of that kind, each of the right type."""
    if not _is_uuid(op.id):
        raise ProtocolError(RejectCode.INVALID_ID,
                            _("Operation id {id} is not a UUID.").format(id=repr(op.id)))
    fields = OP_FIELDS.get(op.kind) or ENCRYPTED_OP_FIELDS.get(op.kind)
    if fields is None:
        raise ProtocolError(
            RejectCode.UNKNOWN_KIND,
            _("Unknown operation kind {kind}: this relay is older or newer than the office "
              "program; update the older one.").format(kind=repr(op.kind)))
    if op.body.keys() == fields.keys():  # the usual case: no field missing, none extra
        for name, check in fields.items():
            if not check(op.body[name]):
                raise ProtocolError(RejectCode.INVALID_BODY,
                                    _("{kind}: field {field} has an invalid value.").format(
                                        kind=op.kind, field=name))
        return
    missing = sorted(set(fields) - set(op.body))
    if missing:
        raise ProtocolError(RejectCode.INVALID_BODY,
                            _("{kind}: missing field(s) {fields}.").format(
                                kind=op.kind, fields=", ".join(missing)))
    extra = sorted(set(op.body) - set(fields))
    if extra:
        raise ProtocolError(RejectCode.INVALID_BODY,
                            _("{kind}: field(s) not allowed on the relay: {fields}.").format(
                                kind=op.kind, fields=", ".join(extra)))
    for name, check in fields.items():
        if not check(op.body[name]):
            raise ProtocolError(RejectCode.INVALID_BODY,
                                _("{kind}: field {field} has an invalid value.").format(
                                    kind=op.kind, field=name))


# ---------------------------------------------------------------- replication


def replica_path(template: str, **values: str | int) -> str:
    """A replica path template with its ``{name}`` (or ``{name:int}``) parts filled in."""
    path = template.replace(":int}", "}")
    return path.format(**values)


@dataclass(frozen=True, slots=True)
class SnapshotMeta:
    """An encrypted snapshot of the association's data: ``upto_seq`` is the last log item it
    includes; ``created_at`` (ISO 8601 UTC) is set by the relay ("" in a request)."""

    snapshot_id: str
    key_gen: int
    upto_seq: int
    chunk_count: int
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object (``POST /replica/snapshots`` sends all but ``created_at``)."""
        return {"snapshot_id": self.snapshot_id, "key_gen": self.key_gen,
                "upto_seq": self.upto_seq, "chunk_count": self.chunk_count,
                "created_at": self.created_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SnapshotMeta:
        """Read the JSON object."""
        return cls(snapshot_id=str(data["snapshot_id"]), key_gen=int(data["key_gen"]),
                   upto_seq=int(data["upto_seq"]), chunk_count=int(data["chunk_count"]),
                   created_at=str(data.get("created_at") or ""))


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """``POST /replica/status``: who this PC is on the relay and where the association's
    replication stands (the relay's clock lets the PC warn about its own)."""

    device_id: str
    server_time: str
    key_gen: int
    replica_schema: int
    snapshot: SnapshotMeta | None = None

    def to_json(self) -> dict[str, Any]:
        """The response body."""
        return {"device_id": self.device_id, "server_time": self.server_time,
                "key_gen": self.key_gen, "replica_schema": self.replica_schema,
                "snapshot": None if self.snapshot is None else self.snapshot.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReplicaStatus:
        """Read the response body."""
        snapshot = data.get("snapshot")
        return cls(device_id=str(data["device_id"]), server_time=str(data["server_time"]),
                   key_gen=int(data["key_gen"]), replica_schema=int(data["replica_schema"]),
                   snapshot=None if snapshot is None else SnapshotMeta.from_json(snapshot))


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One office PC of the association as ``GET /replica/devices`` lists it (times in ISO
    8601 UTC)."""

    device_id: str
    name: str
    created_at: str
    last_seen_at: str | None
    pending: int
    app_schema: int
    revoked_at: str | None
    has_public_key: bool

    def to_json(self) -> dict[str, Any]:
        """The JSON object."""
        return {"device_id": self.device_id, "name": self.name, "created_at": self.created_at,
                "last_seen_at": self.last_seen_at, "pending": self.pending,
                "app_schema": self.app_schema, "revoked_at": self.revoked_at,
                "has_public_key": self.has_public_key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeviceInfo:
        """Read the JSON object."""
        last_seen, revoked = data.get("last_seen_at"), data.get("revoked_at")
        return cls(device_id=str(data["device_id"]), name=str(data["name"]),
                   created_at=str(data["created_at"]),
                   last_seen_at=None if last_seen is None else str(last_seen),
                   pending=int(data["pending"]), app_schema=int(data["app_schema"]),
                   revoked_at=None if revoked is None else str(revoked),
                   has_public_key=bool(data["has_public_key"]))


@dataclass(frozen=True, slots=True)
class Grant:
    """A key generation wrapped for one device's public key (or the recovery sheet's).

    ``device_id`` names whom it is for when a PC sends grants; the relay leaves it "" when it
    answers a device with its own grants."""

    key_gen: int
    wrapped: str
    device_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``POST /replica/grants``."""
        return {"device_id": self.device_id, "key_gen": self.key_gen, "wrapped": self.wrapped}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Grant:
        """Read one grant of ``GET /replica/grants``."""
        return cls(key_gen=int(data["key_gen"]), wrapped=str(data["wrapped"]),
                   device_id=str(data.get("device_id") or ""))


@dataclass(frozen=True, slots=True)
class Transfer:
    """A key ring sealed with a transfer code, waiting for the association's new PC."""

    transfer_id: str
    blob: str
    expires_at: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object."""
        return {"transfer_id": self.transfer_id, "blob": self.blob,
                "expires_at": self.expires_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Transfer:
        """Read the JSON object."""
        return cls(transfer_id=str(data["transfer_id"]), blob=str(data["blob"]),
                   expires_at=str(data["expires_at"]))


@dataclass(frozen=True, slots=True)
class ReencryptItem:
    """A replica log item encrypted again with the current key generation."""

    seq: int
    key_gen: int
    ct: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object."""
        return {"seq": self.seq, "key_gen": self.key_gen, "ct": self.ct}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReencryptItem:
        """Read the JSON object."""
        return cls(seq=int(data["seq"]), key_gen=int(data["key_gen"]), ct=str(data["ct"]))


class ReplicaRelay(Protocol):
    """What the replication needs of a relay: the HTTPS client (:class:`sync.client.RelayClient`)
    and the tests' in-process relay both provide it."""

    def push(self, ops: Sequence[Op]) -> list[OpResult]:
        """Send operations; the relay's result for each, in the same order."""
        ...

    def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
        """The log items after ``after``."""
        ...

    def replica_status(self, pending: int, schema: int,
                       public_key: str | None = None) -> ReplicaStatus:
        """Report this PC's state; the association's replication state."""
        ...

    def devices(self) -> list[DeviceInfo]:
        """The association's office PCs, oldest first."""
        ...

    def revoke_device(self, device_id: str) -> None:
        """Withdraw another PC's access at once."""
        ...

    def publish_keys(self, key_gen: int, grants: Sequence[Grant]) -> None:
        """Make ``key_gen`` (current + 1) the association's key, with its grants."""
        ...

    def add_grants(self, grants: Sequence[Grant]) -> None:
        """Add or replace grants of existing key generations."""
        ...

    def grants(self, recovery: bool = False) -> list[Grant]:
        """This PC's grants (or the recovery sheet's)."""
        ...

    def public_keys(self) -> dict[str, str]:
        """Device id → public key of the live PCs that registered one."""
        ...

    def post_transfer(self, blob: str) -> str:
        """Leave a sealed key ring for a new PC; its transfer id."""
        ...

    def transfers(self) -> list[Transfer]:
        """The live key transfers."""
        ...

    def delete_transfer(self, transfer_id: str) -> None:
        """Remove a key transfer (nothing happens when it is gone already)."""
        ...

    def begin_snapshot(self, meta: SnapshotMeta) -> None:
        """Start uploading a snapshot."""
        ...

    def put_chunk(self, snapshot_id: str, idx: int, data: str) -> None:
        """Store one chunk of a snapshot being uploaded."""
        ...

    def complete_snapshot(self, snapshot_id: str) -> None:
        """Mark a snapshot complete (older ones are dropped)."""
        ...

    def latest_snapshot(self) -> SnapshotMeta | None:
        """The newest complete snapshot, or None."""
        ...

    def get_chunk(self, snapshot_id: str, idx: int) -> str:
        """One chunk of a snapshot."""
        ...

    def reencrypt(self, items: Sequence[ReencryptItem]) -> int:
        """Replace stored replica items with ones encrypted with the current key; how many."""
        ...
