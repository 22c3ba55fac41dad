"""The meeting tables read and written as plain rows, fast (private to the meeting services).

The tally refreshes on every entry, over voter lists of up to 50,000, so the voter list, the
entries and the show-of-hands counts are read with one SQL statement each straight from the
sqlite3 driver (no ORM objects) and made into the engine's frozen values with the garbage
collector paused: none of them can form a cycle. Values are stored as the ORM stores them
(UUIDs as 32 hex digits, enums by value, JSON by ``json.dumps``, times as UTC text without a
zone), so rows written here and rows written through the ORM read back the same.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from desktop.domain import audit
from desktop.domain.audit_chain import iso_time
from desktop.domain.gc_pause import no_gc_pauses
from desktop.domain.meeting.tally import Entry, EntryKind, FloorVote, Source, Vote, Voter
from desktop.domain.stored_values import stored_time

__all__ = [
    "VOTER_COLUMNS",
    "VoterRow",
    "entry_at",
    "fetch",
    "insert_entries",
    "insert_voters",
    "load_entries",
    "load_floor_votes",
    "load_voters",
    "uuid_of_hex",
    "voter_entries",
    "votes_json",
]

# A voter as stored, in VOTER_COLUMNS order after the meeting id: key, household id hex,
# member id hex or None, number, name, group name, group position, circulation order, position.
VoterRow = tuple[str, str, str | None, str, str, str, int, int, int]
VOTER_COLUMNS = ("meeting_id", "key", "household_id", "member_id", "number", "name",
                 "group_name", "group_position", "circulation_order", "position")
_VOTER_INSERT = (f"INSERT INTO meeting_voter ({', '.join(VOTER_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(VOTER_COLUMNS))})")
_VOTERS = ("SELECT key, number, name, group_name, household_id FROM meeting_voter "
           "WHERE meeting_id = ? ORDER BY position")
_VOTERS_OF_KEYS = ("SELECT key, number, name, group_name, household_id FROM meeting_voter "
                   "WHERE meeting_id = ? AND key IN ({marks}) ORDER BY position")

_ENTRY_COLUMNS = ("id", "meeting_id", "sequence", "voter_key", "kind", "holder_key", "votes",
                  "source", "cancels", "entered_at", "entered_by")
_ENTRY_INSERT = (f"INSERT INTO meeting_entry ({', '.join(_ENTRY_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(_ENTRY_COLUMNS))})")
# The time comes back with its zone so ``fromisoformat`` makes it aware in one step.
_ENTRY_FIELDS = ("voter_key, kind, sequence, entered_at || '+00:00', entered_by, holder_key, "
                 "votes, source, cancels")
_ENTRIES = f"SELECT {_ENTRY_FIELDS} FROM meeting_entry WHERE meeting_id = ?"
_VOTER_ENTRIES = (f"SELECT {_ENTRY_FIELDS} FROM meeting_entry "
                  "WHERE meeting_id = ? AND voter_key = ? ORDER BY sequence")
_ENTRY_BY_SEQUENCE = (f"SELECT {_ENTRY_FIELDS} FROM meeting_entry "
                      "WHERE meeting_id = ? AND sequence = ?")
_FLOOR = ("SELECT item_index, for_, against, abstain, sequence FROM meeting_floor_vote "
          "WHERE meeting_id = ?")

_KINDS = {str(kind): kind for kind in EntryKind}
_SOURCES = {str(source): source for source in Source}
_VOTES: dict[int | None, Vote | None] = {None: None, **{int(vote): vote for vote in Vote}}
_NO_VOTES = "[]"


def _driver(session: Session) -> Any:
    session.flush()  # what the session holds goes first, as with an ORM query
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver


def fetch(session: Session, sql: str, parameters: Sequence[object] = ()) -> list[Any]:
    """Rows as plain tuples straight from the driver, in the session's transaction."""
    driver = _driver(session)
    with no_gc_pauses():
        return list(driver.execute(sql, tuple(parameters)).fetchall())


def votes_json(votes: Sequence[Vote | None]) -> str:
    """A written vote's answers as stored: a JSON list of ints and nulls."""
    return json.dumps([None if vote is None else int(vote) for vote in votes])


# ---------------------------------------------------------------- voters


_new_uuid = uuid.UUID.__new__
_set = object.__setattr__
_SAFETY = uuid.SafeUUID.unknown


def uuid_of_hex(hex_id: str) -> uuid.UUID:
    """``uuid.UUID(hex=hex_id)`` for the 32 lower-case hex digits the store writes, made
    without the parsing of arbitrary spellings: half the time, over 50,000 voters. (The
    same two fields ``UUID.__init__`` sets; a test compares the two.)"""
    value = _new_uuid(uuid.UUID)
    _set(value, "int", int(hex_id, 16))
    _set(value, "is_safe", _SAFETY)
    return value


class _Uuids(dict[str, uuid.UUID]):
    """Hex ids made into UUIDs once each (a household's members share its id)."""

    def __missing__(self, hex_id: str) -> uuid.UUID:
        value = self[hex_id] = uuid_of_hex(hex_id)
        return value


def _voters(rows: list[Any]) -> list[Voter]:
    uuids = _Uuids()
    with no_gc_pauses():
        return [Voter(key, number, name, group_name, uuids[household])
                for key, number, name, group_name, household in rows]


def load_voters(session: Session, meeting_id: uuid.UUID,
                keys: Sequence[str] | None = None) -> list[Voter]:
    """The meeting's voter list in its order (班, route, member), or only the voters of
    ``keys`` when given."""
    if keys is None:
        return _voters(fetch(session, _VOTERS, (meeting_id.hex,)))
    if not keys:
        return []
    sql = _VOTERS_OF_KEYS.format(marks=", ".join("?" * len(keys)))
    return _voters(fetch(session, sql, (meeting_id.hex, *keys)))


def insert_voters(session: Session, meeting_id: uuid.UUID, rows: Sequence[VoterRow]) -> None:
    """Store a voter list (the caller has removed the old one)."""
    meeting = meeting_id.hex
    _driver(session).executemany(_VOTER_INSERT, [(meeting, *row) for row in rows])


# ---------------------------------------------------------------- entries


class _VoteTuples(dict[str, tuple[Vote | None, ...]]):
    """Stored answers made into tuples of :class:`Vote` once per distinct text: many
    written votes read the same."""

    def __missing__(self, text: str) -> tuple[Vote | None, ...]:
        value = self[text] = tuple(map(_VOTES.__getitem__, json.loads(text)))
        return value


def _entries(rows: list[Any]) -> list[Entry]:
    kinds, sources, votes_of = _KINDS, _SOURCES, _VoteTuples({_NO_VOTES: ()})
    parse = datetime.fromisoformat
    with no_gc_pauses():
        return [Entry(voter_key, kinds[kind], sequence, parse(at), by, holder,
                      votes_of[votes], sources[source], cancels)
                for voter_key, kind, sequence, at, by, holder, votes, source, cancels in rows]


def load_entries(session: Session, meeting_id: uuid.UUID) -> list[Entry]:
    """Every entry of the meeting, cancels included, in no particular order."""
    return _entries(fetch(session, _ENTRIES, (meeting_id.hex,)))


def voter_entries(session: Session, meeting_id: uuid.UUID, voter_key: str) -> list[Entry]:
    """One voter's entries in the order they were typed."""
    return _entries(fetch(session, _VOTER_ENTRIES, (meeting_id.hex, voter_key)))


def entry_at(session: Session, meeting_id: uuid.UUID, sequence: int) -> Entry | None:
    """The entry numbered ``sequence``, if there is one."""
    found = _entries(fetch(session, _ENTRY_BY_SEQUENCE, (meeting_id.hex, sequence)))
    return found[0] if found else None


def insert_entries(session: Session, meeting_id: uuid.UUID, entries: Sequence[Entry],
                   ids: Sequence[str]) -> None:
    """Store entries as they are, with the given ids (32 hex digits): the fast path for the
    demo and the benchmark. The caller has checked them and numbered them."""
    meeting = meeting_id.hex
    _record_entries(session, meeting, entries, ids)
    _driver(session).executemany(_ENTRY_INSERT, [
        (entry_id, meeting, entry.sequence, entry.voter_key, str(entry.kind), entry.holder_key,
         votes_json(entry.votes), str(entry.source), entry.cancels,
         stored_time(entry.entered_at), entry.entered_by)
        for entry_id, entry in zip(ids, entries, strict=True)])


def _record_entries(session: Session, meeting: str, entries: Sequence[Entry],
                    ids: Sequence[str]) -> None:
    """Audit records of entries stored in bulk, as the ORM's records of entries say them."""
    title = fetch(session, "SELECT title FROM meeting WHERE id = ?", (meeting,))[0][0]
    voters = {key: (household, number, name) for key, household, number, name in fetch(
        session, "SELECT key, household_id, number, name FROM meeting_voter "
        "WHERE meeting_id = ?", (meeting,))}
    records = []
    for entry_id, entry in zip(ids, entries, strict=True):
        household, number, name = voters.get(entry.voter_key, (None, "", ""))
        changes: dict[str, object] = {
            key: [None, value] for key, value in (
                ("sequence", entry.sequence), ("voter_key", entry.voter_key),
                ("kind", str(entry.kind)), ("holder_key", entry.holder_key),
                ("votes", [None if vote is None else int(vote) for vote in entry.votes]),
                ("source", str(entry.source)), ("cancels", entry.cancels),
                ("entered_at", iso_time(entry.entered_at)),
                ("entered_by", entry.entered_by)) if value not in (None, "", [])}
        if name:
            changes[audit.LABEL_KEY] = name
        records.append(audit.AuditEntryData(
            "insert", "meeting_entry", entry_id,
            uuid_of_hex(household) if household else None, f"{title} {number}".strip(),
            changes))
    audit.record_many(session, records, already_plain=True)


# ---------------------------------------------------------------- the show of hands


def load_floor_votes(session: Session, meeting_id: uuid.UUID) -> list[FloorVote]:
    """Every show-of-hands count of the meeting, recounts included."""
    return [FloorVote(index, for_, against, abstain, sequence)
            for index, for_, against, abstain, sequence
            in fetch(session, _FLOOR, (meeting_id.hex,))]
