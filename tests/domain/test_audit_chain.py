"""The audit trail's hash chain: an intact trail verifies, and an edited, deleted, reordered
or relinked record is found and named by its seq, whatever column was touched; a purge's
redaction keeps the chain whole but cannot be used to forge values."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desktop.domain import audit, audit_chain
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    get_household,
    update_household,
)
from desktop.store.association_file import AssociationFile


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """The file as someone with a database tool would open it, behind Kairan's back."""
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        yield connection


@pytest.fixture
def trail(association_file: AssociationFile) -> AssociationFile:
    """A file whose trail holds a few households made and changed by two officers."""
    for number, actor in (("1", "山田"), ("2", "佐藤"), ("3", "山田")):
        association_file.actor = audit.Actor(actor)
        with association_file.write() as session:
            household_id = create_household(
                session, data=HouseholdData(number=number, display_name=f"世帯{number}"),
                members=[MemberData(name=f"世帯{number} 一郎", is_head=True)])
        with association_file.write() as session:
            record = get_household(session, household_id=household_id)
            update_household(session, household_id=household_id,
                             data=HouseholdData(number=number, display_name=f"世帯{number}",
                                                phone="03-1234-567" + number),
                             members=record.members)
    return association_file


def verify(opened: AssociationFile) -> audit.ChainReport:
    with opened.read() as session:
        return audit.verify_chain(session)


def count(opened: AssociationFile) -> int:
    with raw(opened.path) as connection:
        return int(connection.execute("SELECT count(*) FROM audit_record").fetchone()[0])


def test_an_untouched_trail_verifies(trail: AssociationFile) -> None:
    report = verify(trail)
    assert report.ok and report.problems == [] and report.first_bad_seq is None
    assert report.checked == count(trail) >= 9
    assert "intact" in report.message()


def test_an_empty_trail_verifies(tmp_path: Path) -> None:
    report = audit_chain.verify_rows([])
    assert report.ok and report.checked == 0


@pytest.mark.parametrize(("column", "value"), [
    ("summary", "'99'"),
    ("actor", "'別人'"),
    ("at", "'2020-01-01 00:00:00.000000'"),
    ("action", "'delete'"),
    ("entity_id", "'00000000000000000000000000000000'"),
    ("household_id", "NULL"),
    ("hash", "'" + "f" * 64 + "'"),
])
def test_an_edited_record_is_named(trail: AssociationFile, column: str, value: str) -> None:
    with raw(trail.path) as connection:
        connection.execute(f"UPDATE audit_record SET {column} = {value} WHERE seq = 14")
    report = verify(trail)
    assert not report.ok
    assert report.first_bad_seq == 14
    assert "14" in report.message()


def test_edited_changes_are_found_by_their_digest(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        stored = json.loads(connection.execute(
            "SELECT changes FROM audit_record WHERE entity = 'household' AND action = 'update' "
            "ORDER BY seq LIMIT 1").fetchone()[0])
        seq = connection.execute(
            "SELECT seq FROM audit_record WHERE entity = 'household' AND action = 'update' "
            "ORDER BY seq LIMIT 1").fetchone()[0]
        stored["phone"][1] = "090-0000-0000"
        connection.execute("UPDATE audit_record SET changes = ? WHERE seq = ?",
                           (json.dumps(stored, ensure_ascii=False), seq))
    report = verify(trail)
    assert report.first_bad_seq == seq
    assert "changes" in report.problems[0].message
    assert len(report.problems) == 1  # the records after it still link to it


def test_a_rehashed_forgery_breaks_the_next_link(trail: AssociationFile) -> None:
    """Recomputing the edited record's digest and hash moves the problem to the next record."""
    with raw(trail.path) as connection:
        row = connection.execute("SELECT seq, at, actor, profile_id, action, entity, entity_id, "
                                 "household_id, summary, changes, prev_hash FROM audit_record "
                                 "WHERE seq = 15").fetchone()
        seq, at, actor, profile, action, entity, entity_id, household, summary, _c, prev = row
        forged = {"phone": ["", "090-9999-9999"]}
        forged_digest = audit_chain.digest(audit_chain.canonical(forged))
        forged_hash = audit_chain.record_hash(
            prev, seq=seq, at=audit_chain.iso_time(datetime.fromisoformat(at)), actor=actor,
            profile_id=profile, action=action, entity=entity, entity_id=entity_id,
            household_id=household, summary=summary, changes_digest=forged_digest)
        connection.execute("UPDATE audit_record SET changes = ?, changes_digest = ?, hash = ? "
                           "WHERE seq = 15", (json.dumps(forged), forged_digest, forged_hash))
    report = verify(trail)
    assert report.first_bad_seq == 16


def test_a_deleted_record_is_named(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        connection.execute("DELETE FROM audit_record WHERE seq = 13")
    report = verify(trail)
    assert report.first_bad_seq == 13
    assert "13" in report.problems[0].message
    assert len(report.problems) == 1


def test_several_deleted_records_are_named_as_a_range(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        connection.execute("DELETE FROM audit_record WHERE seq BETWEEN 12 AND 14")
    report = verify(trail)
    assert report.first_bad_seq == 12
    assert "12" in report.problems[0].message and "14" in report.problems[0].message


def test_the_first_record_deleted_is_found(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        connection.execute("DELETE FROM audit_record WHERE seq = 1")
    assert verify(trail).first_bad_seq == 1


def test_swapped_records_are_found(trail: AssociationFile) -> None:
    """Two records exchange places (their seq numbers swapped, everything else kept)."""
    with raw(trail.path) as connection:
        connection.execute("UPDATE audit_record SET seq = -1 WHERE seq = 12")
        connection.execute("UPDATE audit_record SET seq = 12 WHERE seq = 13")
        connection.execute("UPDATE audit_record SET seq = 13 WHERE seq = -1")
    report = verify(trail)
    assert report.first_bad_seq == 12
    assert not report.ok


def test_swapped_contents_are_found(trail: AssociationFile) -> None:
    """Two records' contents exchanged, each keeping its seq."""
    columns = ("at, actor, profile_id, action, entity, entity_id, household_id, summary, "
               "changes, changes_digest, redacted_at, prev_hash, hash")
    with raw(trail.path) as connection:
        first = connection.execute(f"SELECT {columns} FROM audit_record WHERE seq = 15").fetchone()
        second = connection.execute(f"SELECT {columns} FROM audit_record WHERE seq = 16"
                                    ).fetchone()
        setter = ", ".join(f"{name.strip()} = ?" for name in columns.split(","))
        connection.execute(f"UPDATE audit_record SET {setter} WHERE seq = 15", second)
        connection.execute(f"UPDATE audit_record SET {setter} WHERE seq = 16", first)
    report = verify(trail)
    assert report.first_bad_seq == 15


def test_a_broken_link_is_named(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        connection.execute("UPDATE audit_record SET prev_hash = ? WHERE seq = 17", ("0" * 64,))
    report = verify(trail)
    assert report.first_bad_seq == 17
    assert "follow" in report.problems[0].message


def test_an_unreadable_record_is_reported_not_raised(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        connection.execute("UPDATE audit_record SET changes = '{not json' WHERE seq = 12")
    report = verify(trail)
    assert report.first_bad_seq == 12


def test_redaction_keeps_the_chain_and_blanks_the_values(trail: AssociationFile) -> None:
    with trail.read() as session:
        [entry] = [e for e in audit.history(session) if e.entity == "household"
                   and e.summary == "2" and e.action == "insert"]
    assert entry.household_id is not None
    with trail.write() as session:
        redacted = audit.redact_household(session, entry.household_id, at=datetime.now(UTC))
    assert redacted >= 3  # household added, its member added, household changed
    assert verify(trail).ok
    with trail.read() as session:
        entries = audit.history(session, household_id=entry.household_id)
    assert entries and all(e.redacted for e in entries)
    text = json.dumps([dict(e.changes) for e in entries], ensure_ascii=False)
    assert "世帯2" not in text and "03-1234-5672" not in text
    assert audit_chain.REDACTED in text
    with trail.write() as session:  # a second purge finds nothing more to blank
        assert audit.redact_household(session, entry.household_id, at=datetime.now(UTC)) == 0


def test_redaction_cannot_be_used_to_forge_values(trail: AssociationFile) -> None:
    with raw(trail.path) as connection:
        connection.execute("UPDATE audit_record SET redacted_at = '2026-01-01 00:00:00.000000', "
                           "changes = ? WHERE seq = 14",
                           (json.dumps({"phone": ["", "090-1111-2222"]}),))
    report = verify(trail)
    assert report.first_bad_seq == 14
    assert "purge" in report.problems[0].message


def test_the_fast_facts_text_is_the_canonical_json() -> None:
    facts = {"seq": 7, "at": "2026-06-01T00:00:00.000001", "actor": 'a "quoted" 名前\n',
             "profile_id": None, "action": "update", "entity": "household",
             "entity_id": "ab" * 16, "household_id": "cd" * 16, "summary": "12 \\ 山田",
             "changes_digest": "e" * 64}
    expected = audit_chain.digest("0" * 64 + audit_chain.canonical(facts))
    assert audit_chain.record_hash("0" * 64, **facts) == expected  # type: ignore[arg-type]


def test_plain_values_are_json_and_stable() -> None:
    moment = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    value = audit_chain.plain({"at": moment, "ids": (audit_chain.uuid.UUID(int=1),),
                               "data": b"abc"})
    assert value == {"at": "2026-06-01T09:00:00.000000",
                     "ids": ["00000000000000000000000000000001"], "data": "<3 bytes>"}
    assert json.loads(audit_chain.canonical(value)) == value
