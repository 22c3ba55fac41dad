"""Schema migrations: old files are backed up and upgraded; models and migrations never drift."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String
from sqlmodel import SQLModel

import desktop.domain.models  # noqa: F401  (registers every table on SQLModel.metadata)
from desktop.domain.association import get_association
from desktop.domain.circulars import (
    CircularData,
    create_circular,
    get_circular,
    recipients,
    send_circular,
)
from desktop.domain.households import get_household
from desktop.domain.meeting import EntryKind, Rules
from desktop.domain.meeting.entries import meeting_tally, record_entry
from desktop.domain.meeting.meetings import (
    ItemData,
    MeetingData,
    create_meeting,
    get_rules,
    meeting_voters,
)
from desktop.domain.models import Ask, ReplyChannel, SafetyStatus
from desktop.domain.replies import ReplyOutcome, record_reply, reply_status
from desktop.domain.roles import create_role, list_roles
from desktop.domain.safety import record_safety_answer, safety_board, set_disaster_mode
from desktop.store import migrate
from desktop.store.association_file import open_association
from desktop.store.backups import quick_check
from desktop.store.engine import APPLICATION_ID, configure_connection, make_engine
from sync import outbox


def _revision(path: Path) -> str | None:
    with closing(sqlite3.connect(path)) as connection:
        return migrate.current_revision(connection)


def _first_revision_file(path: Path, revision: str = "0001") -> Path:
    """A file as the first Kairan release (or the one of ``revision``) wrote it, with an
    association in it."""
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        configure_connection(connection)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrate.upgrade(path, revision)
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "INSERT INTO association (id, name, fiscal_year_start_month, created_at) "
            "VALUES (?, '古町自治会', 4, '2025-04-01 00:00:00')",
            (uuid.uuid4().hex,),
        )
        connection.commit()
    return path


def test_revisions_are_known() -> None:
    assert migrate.head_revision() == "0010"
    assert migrate.is_known_revision("0001")
    assert not migrate.is_known_revision("9999")


def test_old_file_is_backed_up_then_upgraded(tmp_path: Path) -> None:
    path = _first_revision_file(tmp_path / "old.kairan")
    assert _revision(path) == "0001"

    opened = open_association(path)
    try:
        with opened.read() as session:
            assert get_association(session).name == "古町自治会"
        with opened.write() as session:  # the newer revision's tables and default roles
            assert [role.name for role in list_roles(session)][:2] == ["会長", "副会長"]
            create_role(session, name="広報部長")
            assert list_roles(session)[-1].name == "広報部長"
        [backup] = opened.backups.list()
    finally:
        opened.close()

    assert _revision(path) == migrate.head_revision()
    assert backup.reason == "before-upgrade"
    assert quick_check(backup.path)
    assert _revision(backup.path) == "0001"  # the backup is the file as it was

    again = open_association(path)  # now current: no second backup
    again.close()
    assert len(again.backups.list()) == 1


def test_upgrade_from_0003_keeps_the_roster_and_adds_circulars(tmp_path: Path) -> None:
    path = _first_revision_file(tmp_path / "roster.kairan", "0003")
    group_id, household_id = uuid.uuid4(), uuid.uuid4()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("INSERT INTO roster_group (id, parent_id, name, kind, position) "
                           "VALUES (?, NULL, '1班', 'han', 1)", (group_id.hex,))
        connection.execute(
            "INSERT INTO household (id, number, display_name, furigana, furigana_key, "
            "postal_code, address, phone, channel, emails, group_id, circulation_order, "
            "exempt_han_leader, exempt_duties, notes, search_text, member_count, updated_at) "
            "VALUES (?, '0001', '山田 太郎', '', '', '', '桜町1-1', '', 'paper', '[]', ?, 1, "
            "0, 0, '', '', 0, '2025-04-01 00:00:00')",
            (household_id.hex, group_id.hex),
        )
        connection.commit()

    opened = open_association(path)
    try:
        with opened.write() as session:
            assert get_household(session, household_id=household_id).data.display_name == (
                "山田 太郎")
            circular_id = create_circular(session, data=CircularData(
                title="秋の一斉清掃のお知らせ", body="", issued_on=date(2025, 10, 1),
                ask=Ask.ATTENDANCE, deadline=date(2025, 10, 15)))
            sent_at = datetime(2025, 10, 1, tzinfo=UTC)
            assert send_circular(session, circular_id=circular_id, sent_at=sent_at) == 1
            outcome, _reply = record_reply(session, circular_id=circular_id, entry="0001",
                                           answers=["出席"], channel=ReplyChannel.PAPER,
                                           received_at=sent_at)
            assert outcome == ReplyOutcome.RECORDED
        with opened.read() as session:
            [recipient] = recipients(session, circular_id=circular_id)
        [backup] = opened.backups.list()
    finally:
        opened.close()
    assert (recipient.household_id, recipient.group_name) == (household_id, "1班")
    assert _revision(path) == migrate.head_revision()
    assert _revision(backup.path) == "0003"


def test_upgrade_from_0004_keeps_the_circulars_and_adds_meetings(tmp_path: Path) -> None:
    path = _first_revision_file(tmp_path / "circulars.kairan", "0004")
    household_id, circular_id = uuid.uuid4(), uuid.uuid4()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "INSERT INTO household (id, number, display_name, furigana, furigana_key, "
            "postal_code, address, phone, channel, emails, group_id, circulation_order, "
            "joined_on, exempt_han_leader, exempt_duties, notes, search_text, member_count, "
            "updated_at) VALUES (?, '0001', '山田 太郎', '', '', '', '桜町1-1', '', 'paper', "
            "'[]', NULL, 1, '2020-04-01', 0, 0, '', '', 0, '2025-04-01 00:00:00')",
            (household_id.hex,))
        connection.execute(
            "INSERT INTO circular (id, title, body, issued_on, issuer, map_url, target_kind, "
            "target_group_ids, ask, questions, status, created_at, updated_at) VALUES "
            "(?, '秋の一斉清掃のお知らせ', '', '2025-10-01', '', '', 'all', '[]', 'nothing', "
            "'[]', 'draft', '2025-10-01 00:00:00', '2025-10-01 00:00:00')", (circular_id.hex,))
        connection.commit()

    opened = open_association(path)
    try:
        with opened.write() as session:
            assert get_circular(session, circular_id=circular_id).data.title == (
                "秋の一斉清掃のお知らせ")
            assert get_rules(session) == Rules()
            meeting_id = create_meeting(session, data=MeetingData(
                "令和7年度 定期総会", date(2025, 5, 18), "公民館", date(2025, 4, 1)),
                items=[ItemData("予算案")])
            record_entry(session, meeting_id=meeting_id, voter_key="0001",
                         kind=EntryKind.ATTEND, entered_by="受付",
                         entered_at=datetime(2025, 5, 18, tzinfo=UTC))
        with opened.read() as session:
            [voter] = meeting_voters(session, meeting_id=meeting_id)
            result = meeting_tally(session, meeting_id=meeting_id)
        [backup] = opened.backups.list()
    finally:
        opened.close()
    assert (voter.household_id, voter.number) == (household_id, "0001")
    assert result.counts.in_person == 1
    assert _revision(path) == migrate.head_revision()
    assert _revision(backup.path) == "0004"


def test_upgrade_from_0005_keeps_the_replies_and_adds_the_outbox_and_safety_tables(
    tmp_path: Path,
) -> None:
    path = _first_revision_file(tmp_path / "meetings.kairan", "0005")
    household_id, circular_id, reply_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "INSERT INTO household (id, number, display_name, furigana, furigana_key, "
            "postal_code, address, phone, channel, emails, group_id, circulation_order, "
            "exempt_han_leader, exempt_duties, notes, search_text, member_count, updated_at) "
            "VALUES (?, '0001', '山田 太郎', '', '', '', '桜町1-1', '', 'app', '[]', NULL, 1, "
            "0, 0, '', '', 0, '2025-04-01 00:00:00')", (household_id.hex,))
        connection.execute(
            "INSERT INTO circular (id, title, body, issued_on, issuer, map_url, target_kind, "
            "target_group_ids, ask, questions, deadline, status, sent_at, created_at, "
            "updated_at) VALUES (?, '防災訓練', '', '2025-09-01', '', '', 'all', '[]', "
            "'attendance', '[]', '2025-09-10', 'sent', '2025-09-01 00:00:00', "
            "'2025-09-01 00:00:00', '2025-09-01 00:00:00')", (circular_id.hex,))
        connection.execute(
            "INSERT INTO circular_recipient (circular_id, household_id, group_id, group_name, "
            "group_order, circulation_order, channel) VALUES (?, ?, NULL, '', 0, 1, 'app')",
            (circular_id.hex, household_id.hex))
        connection.execute(
            "INSERT INTO reply (id, circular_id, household_id, answers, channel, received_at, "
            "updated_at) VALUES (?, ?, ?, '[\"出席\"]', 'paper', '2025-09-02 00:00:00', "
            "'2025-09-02 00:00:00')", (reply_id.hex, circular_id.hex, household_id.hex))
        connection.commit()

    opened = open_association(path)
    try:
        with opened.write() as session:
            assert outbox.enqueue(session, kind="disaster.set",
                                  body={"on": True, "message": ""}) is None  # not paired
            set_disaster_mode(session, on=True, message="避難所は公民館", at=datetime.now(UTC))
            record_safety_answer(session, entry="1", status=SafetyStatus.OK,
                                 at=datetime.now(UTC))
        with opened.read() as session:
            [group] = safety_board(session).groups
            [status] = reply_status(session, circular_id=circular_id)
            assert outbox.counts(session) == (0, 0)
        [backup] = opened.backups.list()
    finally:
        opened.close()
    assert (group.answered, group.needs_contact, group.unanswered) == (1, 0, ())
    assert [reply.answers for reply in status.answered] == [("出席",)]
    assert _revision(path) == migrate.head_revision()
    assert _revision(backup.path) == "0005"


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    path = tmp_path / "fresh.kairan"
    migrate.upgrade(path)
    assert _revision(path) == migrate.head_revision()
    engine = make_engine(path)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, SQLModel.metadata)
            tables = set(engine.dialect.get_table_names(connection))
    finally:
        engine.dispose()
    assert differences == []
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}


def test_foreign_keys_and_indexes_carry_their_conventional_names(tmp_path: Path) -> None:
    path = tmp_path / "fresh.kairan"
    migrate.upgrade(path)
    with closing(sqlite3.connect(path)) as connection:
        indexes = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
        household_sql = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'household'"
        ).fetchone()[0]
    assert "ix_household_furigana_key" in indexes
    assert "ix_role_assignment_year" in indexes
    assert "fk_household_group_id_roster_group" in household_sql
    assert "uq_household_number" in household_sql


def test_the_drift_check_sees_a_column_missing_from_the_migrations(tmp_path: Path) -> None:
    path = tmp_path / "fresh.kairan"
    migrate.upgrade(path)
    drifted = MetaData(naming_convention=SQLModel.metadata.naming_convention)
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["household"].append_column(Column("nickname", String(), nullable=True))
    engine = make_engine(path)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, drifted)
    finally:
        engine.dispose()
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "nickname")]
