"""The audit trail's hash chain: how a record is written down, hashed, checked and redacted.

A record's ``changes_digest`` is the SHA-256 of the canonical JSON of its changes (keys
sorted, no spaces, UTF-8, non-ASCII kept as is). Its ``hash`` is the SHA-256 of the previous
record's hash followed by the canonical JSON of the record's facts: ``seq``, ``at`` (UTC,
ISO 8601 with microseconds, no zone), ``actor``, ``profile_id`` and ``household_id`` (32 hex
digits or null), ``action``, ``entity``, ``entity_id``, ``summary`` and ``changes_digest``.
The first record follows 64 zeros.

An edited record no longer matches its hash; a deleted one leaves a gap in ``seq`` and a
broken link; records swapped carry hashes made for other places. What no chain can show is
records cut off at the end: the newest record has nothing after it to vouch for it.

The purge of a withdrawn household blanks the personal values of its records
(:func:`redact_household`): their stored digest then stands, and only the redaction mark may
stand in for the values, so redaction can hide values but never forge them. The summary is
covered by the hash, so it never holds a household's personal data (see ``audit``).

No Qt here; rows are written with the sqlite3 driver's ``executemany`` in the caller's
transaction, stored as the ORM stores them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlmodel import Session

from desktop.domain.stored_values import stored_time
from desktop.i18n import _

GENESIS = "0" * 64
REDACTED = "（削除済み）"  # stands in for a purged household's values
LABEL_KEY = "@label"  # in ``changes``: the name a record is about (personal, redactable)

_COLUMNS = ("seq", "at", "actor", "profile_id", "action", "entity", "entity_id",
            "household_id", "summary", "changes", "changes_digest", "redacted_at",
            "prev_hash", "hash")
_INSERT = (f"INSERT INTO audit_record ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")
_TAIL = "SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1"
_ALL = ("SELECT seq, at, actor, profile_id, action, entity, entity_id, household_id, summary, "
        "changes, changes_digest, redacted_at, prev_hash, hash FROM audit_record ORDER BY seq")
_MAX_PROBLEMS = 100  # enough to see the extent; the first one is what matters


@dataclass(frozen=True, slots=True)
class AuditEntryData:
    """One change to record: ``changes`` maps a field to its (old, new) values; the key
    :data:`LABEL_KEY` may hold the name the record is about, as a plain string."""

    action: str  # insert / update / delete
    entity: str  # the table
    entity_id: str
    household_id: uuid.UUID | None = None
    summary: str = ""
    changes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One thing wrong with the trail; ``seq`` is the record where it shows."""

    seq: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of :func:`verify_chain`."""

    ok: bool
    checked: int
    problems: list[ChainProblem]

    @property
    def first_bad_seq(self) -> int | None:
        """The first record found wrong (None when the trail is intact)."""
        return self.problems[0].seq if self.problems else None

    def message(self) -> str:
        """One sentence for the officer."""
        if self.ok:
            return _("The history is intact: {count} records checked, none altered, "
                     "missing or out of order.").format(count=self.checked)
        first = self.problems[0]
        return _("The history has been tampered with. The first problem is at record "
                 "{seq}: {problem} Keep this file as it is and restore a backup to compare.") \
            .format(seq=first.seq if first.seq is not None else "?", problem=first.message)


# ---------------------------------------------------------------- canonical form


def plain(value: object) -> object:
    """``value`` as plain JSON values: ids as 32 hex digits, times in UTC ISO form without a
    zone, dates in ISO form, enumerations by value, bytes by their size."""
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool or kind is float:
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    return _scalar(value)


def _scalar(value: object) -> object:
    result: object
    if isinstance(value, Enum):
        result = plain(value.value)
    elif isinstance(value, bool | int | float | str):
        result = value
    elif isinstance(value, uuid.UUID):
        result = value.hex
    elif isinstance(value, datetime):
        result = iso_time(value)
    elif isinstance(value, date):
        result = value.isoformat()
    elif isinstance(value, bytes):
        result = f"<{len(value)} bytes>"
    else:
        result = str(value)
    return result


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _fast_canonical() -> Callable[[object], str] | None:
    """The C encoder behind ``_CANONICAL``, made once instead of on every call (a bulk import
    encodes tens of thousands of records); None where the C accelerator is missing or its
    interface differs. A check against ``_CANONICAL`` decides."""
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encoder = make(None, _CANONICAL.default, json.encoder.encode_basestring, None, ":",
                       ",", True, False, True)
        sample = {"b": [None, 1.5, True], "a": "名\n\"", "c": {"z": 1, "y": []}}
        if "".join(encoder(sample, 0)) != _CANONICAL.encode(sample):
            return None
    except (TypeError, ValueError):
        return None
    return lambda value: "".join(encoder(value, 0))


_ENCODE: Callable[[object], str] = _fast_canonical() or _CANONICAL.encode


def canonical(value: object) -> str:
    """The canonical JSON text of plain values (what is hashed)."""
    return _ENCODE(value)


def digest(text: str) -> str:
    """SHA-256 of ``text`` in UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def iso_time(at: datetime) -> str:
    """A time as it is hashed: UTC, ISO 8601 with microseconds, no zone."""
    if at.utcoffset() is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def record_hash(prev_hash: str, *, seq: int, at: str, actor: str, profile_id: str | None,
                action: str, entity: str, entity_id: str, household_id: str | None,
                summary: str, changes_digest: str) -> str:
    """The hash of one record after ``prev_hash`` (``at``: :func:`iso_time`; ids in hex)."""
    text = _text
    facts = _FACTS % (text(action), text(actor), text(at), text(changes_digest), text(entity),
                      text(entity_id), "null" if household_id is None else text(household_id),
                      "null" if profile_id is None else text(profile_id), seq, text(summary))
    return hashlib.sha256((prev_hash + facts).encode("utf-8")).hexdigest()


# The canonical JSON of a record's facts (keys sorted, no spaces), written out directly: a
# bulk import hashes tens of thousands of records. A test holds it equal to canonical().
_FACTS = ('{"action":%s,"actor":%s,"at":%s,"changes_digest":%s,"entity":%s,"entity_id":%s,'
          '"household_id":%s,"profile_id":%s,"seq":%d,"summary":%s}')
_text: Callable[[str], str] = json.encoder.encode_basestring


# ---------------------------------------------------------------- writing


def _driver(session: Session) -> Any:
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver


def tail(session: Session) -> tuple[int, str]:
    """The last record's ``seq`` and ``hash`` (0 and :data:`GENESIS` when there is none)."""
    row = _driver(session).execute(_TAIL).fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append(session: Session, entries: Sequence[AuditEntryData], *, after: tuple[int, str],
           actor: str, profile_id: uuid.UUID | None, at: datetime,
           already_plain: bool = False) -> tuple[int, str]:
    """Write ``entries`` after the record ``after`` (seq, hash) with one ``executemany``;
    returns the new tail. ``already_plain``: the changes hold plain JSON values only (lists,
    not tuples; string keys), so they need no conversion."""
    seq, prev = after
    when, stored = iso_time(at), stored_time(at)
    profile = profile_id.hex if profile_id is not None else None
    # What every record of the batch shares, written once; the loop is record_hash() inlined.
    text, sha256, encode = _text, hashlib.sha256, _ENCODE
    shared = (text(actor), text(when))
    profile_text = "null" if profile is None else text(profile)
    rows: list[tuple[object, ...]] = []
    for entry in entries:
        seq += 1
        changes = encode(entry.changes if already_plain else plain(entry.changes))
        changes_digest = sha256(changes.encode("utf-8")).hexdigest()
        household = entry.household_id.hex if entry.household_id is not None else None
        facts = _FACTS % (text(entry.action), *shared, text(changes_digest),
                          text(entry.entity), text(entry.entity_id),
                          "null" if household is None else text(household), profile_text, seq,
                          text(entry.summary))
        this = sha256((prev + facts).encode("utf-8")).hexdigest()
        rows.append((seq, stored, actor, profile, entry.action, entry.entity, entry.entity_id,
                     household, entry.summary, changes, changes_digest, None, prev, this))
        prev = this
    if rows:
        _driver(session).executemany(_INSERT, rows)
    return seq, prev


# ---------------------------------------------------------------- redaction


def redact(changes: Mapping[str, object]) -> dict[str, object]:
    """``changes`` with every value replaced by :data:`REDACTED` (nulls stay null)."""
    redacted: dict[str, object] = {}
    for key, value in changes.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            redacted[key] = [None if item is None else REDACTED for item in value]
        else:
            redacted[key] = None if value is None else REDACTED
    return redacted


def is_redacted(changes: object) -> bool:
    """Whether ``changes`` holds nothing but redaction marks and nulls."""
    if not isinstance(changes, dict):
        return False
    for value in changes.values():
        items = value if isinstance(value, list) else [value]
        if any(item is not None and item != REDACTED for item in items):
            return False
    return True


def redact_household(session: Session, household_id: uuid.UUID, *, at: datetime) -> int:
    """Blank the values of every record about a household (its purge); returns how many.

    The records stay, with who, when and what kind of change: the chain still verifies,
    because it covers the digest of the values, which is kept. Call it after deleting the
    household's rows (the deletions' own records are blanked too).
    """
    session.flush()  # the records of changes still pending are written, then blanked
    driver = _driver(session)
    rows = driver.execute(
        "SELECT seq, changes FROM audit_record WHERE household_id = ? AND redacted_at IS NULL",
        (household_id.hex,)).fetchall()
    when = stored_time(at)
    driver.executemany(
        "UPDATE audit_record SET changes = ?, redacted_at = ? WHERE seq = ?",
        [(canonical(redact(json.loads(changes))), when, seq) for seq, changes in rows])
    return len(rows)


# ---------------------------------------------------------------- verifying


def _hex(value: object) -> str | None:
    """An id column as hashed: 32 hex digits (as stored by the ORM) or None."""
    if value is None:
        return None
    text = str(value)
    return uuid.UUID(text).hex if len(text) != 32 else text.lower()


def _check(row: Sequence[Any], expected_seq: int, prev: str) -> str | None:
    """What is wrong with one stored record, or None."""
    return _check_place(row, expected_seq, prev) or _check_content(row)


def _check_place(row: Sequence[Any], expected_seq: int, prev: str) -> str | None:
    """A record out of its place: records missing before it, or a broken link."""
    seq, prev_hash = row[0], row[12]
    if seq > expected_seq + 1:
        return _("Records {first} to {last} are missing.").format(first=expected_seq,
                                                                 last=seq - 1)
    if seq != expected_seq:
        return _("Record {seq} is missing.").format(seq=expected_seq)
    if prev_hash != prev:
        return _("It does not follow the record before it: records were removed, "
                 "inserted or swapped.")
    return None


def _check_content(row: Sequence[Any]) -> str | None:
    """A record altered: its changes against their digest, its facts against its hash."""
    (seq, at, actor, profile_id, action, entity, entity_id, household_id, summary, changes,
     changes_digest, redacted_at, prev_hash, stored_hash) = row
    problem: str | None = None
    try:
        values = json.loads(changes)
        expected = record_hash(prev_hash, seq=seq, at=iso_time(datetime.fromisoformat(str(at))),
                               actor=actor, profile_id=_hex(profile_id), action=action,
                               entity=entity, entity_id=entity_id,
                               household_id=_hex(household_id), summary=summary,
                               changes_digest=changes_digest)
    except (TypeError, ValueError):
        return _("It is not readable any more (its changes, time or ids were damaged).")
    if redacted_at is None and digest(canonical(values)) != changes_digest:
        problem = _("Its changes (old and new values) were altered.")
    elif redacted_at is not None and not is_redacted(values):
        problem = _("It is marked as purged, but holds values other than the purge mark.")
    elif expected != stored_hash:
        problem = _("Its time, author, kind or subject was altered.")
    return problem


def verify_rows(rows: Iterable[Sequence[Any]]) -> ChainReport:
    """Check stored records (in the column order of the table, by ``seq``)."""
    problems: list[ChainProblem] = []
    expected_seq, prev, checked = 1, GENESIS, 0
    for row in rows:
        checked += 1
        seq = int(row[0])
        problem = _check(row, expected_seq, prev)
        if problem is not None and len(problems) < _MAX_PROBLEMS:
            # A gap is named by the first record missing, anything else by the record itself.
            at = expected_seq if seq > expected_seq else seq
            problems.append(ChainProblem(at, problem))
        # Go on from the record as stored, so one altered record is reported once.
        expected_seq, prev = seq + 1, str(row[13])
    return ChainReport(ok=not problems, checked=checked, problems=problems)


def verify_chain(session: Session) -> ChainReport:
    """Check every record of the trail: each one's changes against its digest, its facts
    against its hash, and its link to the one before."""
    cursor = _driver(session).execute(_ALL)
    return verify_rows(iter(cursor.fetchone, None))
