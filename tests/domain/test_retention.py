"""Privacy duties: the purpose statement and retention period of the association, and the
purge of withdrawn households after the retention period, with its preview."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from desktop.domain import association, audit, retention
from desktop.domain.errors import ConflictError, ValidationError
from desktop.domain.households import HouseholdData, MemberData, create_household
from desktop.domain.models import (
    AuditRecord,
    Circular,
    CircularRecipient,
    CircularStatus,
    Household,
    Meeting,
    MeetingVoter,
    Member,
    OutboxOp,
    Reply,
    ReplyChannel,
    Role,
    RoleAssignment,
    SyncState,
)
from desktop.store.association_file import AssociationFile

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def _household(session: Session, number: str, name: str, *,
               left_on: date | None = None) -> uuid.UUID:
    household_id = create_household(
        session, data=HouseholdData(number=number, display_name=name, phone="03-1234-5678"),
        members=[MemberData(name=name, is_head=True), MemberData(name=f"{name}の子")])
    if left_on is not None:
        household = session.get(Household, household_id)
        assert household is not None
        household.left_on = left_on
    return household_id


def _pair(session: Session) -> None:
    session.add(SyncState(id=1, relay_url="https://relay.example", association_id="a"))


@pytest.fixture
def homes(association_file: AssociationFile) -> dict[str, uuid.UUID]:
    """Four households: 0001 left long ago (with history), 0002 left recently, 0003 a
    member, 0004 left on 31 January 2024. Retention: 24 months."""
    with association_file.write() as session:
        ids = {
            "old": _household(session, "0001", "青木 一郎", left_on=date(2023, 5, 31)),
            "recent": _household(session, "0002", "石井 花子", left_on=date(2024, 7, 1)),
            "member": _household(session, "0003", "上田 三郎"),
            "january": _household(session, "0004", "江藤 四郎", left_on=date(2024, 1, 31)),
        }
        association.set_retention_months(session, months=24)
        old = ids["old"]
        head = session.exec(select(Member).where(Member.household_id == old)
                            .order_by(col(Member.position))).first()
        role = session.exec(select(Role)).first()
        assert head is not None and role is not None
        session.add(RoleAssignment(role_id=role.id, year=2022, member_id=head.id))
        circular = Circular(title="清掃", issued_on=date(2023, 4, 1), status=CircularStatus.SENT)
        session.add(circular)
        meeting = Meeting(title="総会", held_on=date(2023, 5, 1), record_date=date(2023, 4, 1))
        session.add(meeting)
        session.flush()
        session.add(CircularRecipient(circular_id=circular.id, household_id=old))
        session.add(Reply(circular_id=circular.id, household_id=old, answers=["出席"],
                          channel=ReplyChannel.PAPER, received_at=NOW))
        session.add(MeetingVoter(meeting_id=meeting.id, key=old.hex, household_id=old,
                                 number="0001", name="青木 一郎"))
        session.flush()
        audit.record(session, action="update", entity="household", entity_id=old.hex,
                     household_id=old, summary="世帯 0001",
                     changes={"phone": ("03-1111-2222", "03-1234-5678")})
    return ids


# ---------------------------------------------------------------- the preview


def test_the_preview_lists_households_past_the_period_with_what_goes(
        association_file: AssociationFile, homes: dict[str, uuid.UUID]) -> None:
    with association_file.read() as session:
        preview = retention.purge_preview(session, today=TODAY)
    assert [c.number for c in preview] == ["0001", "0004"]  # oldest first
    old = preview[0]
    assert (old.name, old.left_on, old.due_on) == ("青木 一郎", date(2023, 5, 31),
                                                   date(2025, 5, 31))
    assert (old.members, old.role_assignments, old.replies, old.circulars_received,
            old.meeting_voters) == (2, 1, 1, 1, 1)
    assert old.audit_records >= 1
    assert preview[1].due_on == date(2026, 1, 31)


def test_the_day_the_period_ends_counts_and_the_day_before_does_not(
        association_file: AssociationFile, homes: dict[str, uuid.UUID]) -> None:
    with association_file.read() as session:
        on_the_day = retention.purge_preview(session, today=date(2026, 7, 1))
        before = retention.purge_preview(session, today=date(2026, 6, 30))
    assert "0002" in [c.number for c in on_the_day]
    assert "0002" not in [c.number for c in before]


def test_without_a_retention_period_nothing_is_due(association_file: AssociationFile,
                                                   homes: dict[str, uuid.UUID]) -> None:
    with association_file.write() as session:
        association.set_retention_months(session, months=None)
    with association_file.read() as session:
        assert retention.purge_preview(session, today=TODAY) == []
    with pytest.raises(ValidationError, match="keeps withdrawn households"), \
            association_file.write() as session:
        retention.purge(session, [homes["old"]], today=TODAY)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2023, 3, 31), 11, date(2024, 2, 29)),
    (date(2023, 5, 15), 24, date(2025, 5, 15)),
    (date(2023, 12, 1), 1, date(2024, 1, 1)),
])
def test_months_are_added_on_the_calendar(day: date, months: int, expected: date) -> None:
    assert retention.add_months(day, months) == expected


# ---------------------------------------------------------------- the purge


def test_the_purge_deletes_the_household_and_keeps_no_personal_values(
        association_file: AssociationFile, homes: dict[str, uuid.UUID]) -> None:
    old = homes["old"]
    with association_file.write() as session:
        _pair(session)
    with association_file.write() as session:
        assert retention.purge(session, [old], today=TODAY, at=NOW) == 1
    with association_file.read() as session:
        assert session.get(Household, old) is None
        for table in (Member, Reply, CircularRecipient):
            assert not session.exec(select(table).where(table.household_id == old)).all()
        assert not session.exec(select(RoleAssignment)).all()
        voter = session.exec(select(MeetingVoter)).one()
        assert (voter.number, voter.name) == ("0001", retention.REMOVED_NAME)  # vote stays
        records = session.exec(select(AuditRecord).where(AuditRecord.household_id == old)
                               .order_by(col(AuditRecord.seq))).all()
        assert "03-1111-2222" not in str([r.changes for r in records])
        assert all(r.redacted_at is not None for r in records[:-1])
        assert records[-1].summary == "Household 0001 deleted after the retention period"
        assert "青木" not in records[-1].summary + str(records[-1].changes)
        assert audit.verify_chain(session).ok
        purges = [op.body for op in session.exec(select(OutboxOp)).all()
                  if op.kind == "household.purge"]
        assert {"household_id": str(old)} in purges
        assert [c.number for c in retention.purge_preview(session, today=TODAY)] == ["0004"]


def test_a_household_no_longer_due_refuses_the_whole_purge(
        association_file: AssociationFile, homes: dict[str, uuid.UUID]) -> None:
    with pytest.raises(ConflictError, match="石井 花子 is not due"), \
            association_file.write() as session:
        retention.purge(session, [homes["old"], homes["recent"]], today=TODAY)
    with association_file.read() as session:
        assert session.get(Household, homes["old"]) is not None


def test_a_readmitted_household_is_not_purged(association_file: AssociationFile,
                                              homes: dict[str, uuid.UUID]) -> None:
    with association_file.write() as session:
        household = session.get(Household, homes["january"])
        assert household is not None
        household.left_on = None
    with pytest.raises(ConflictError, match="江藤 四郎"), association_file.write() as session:
        retention.purge(session, [homes["january"]], today=TODAY)


# ---------------------------------------------------------------- the association's settings


def test_purpose_statement_and_retention_are_kept_and_read_back(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        association.update_settings(session, name=" 桜町自治会 ",
                                    purpose_statement="  会報の配布と\n安否確認に使います。  \n",
                                    retention_months=36)
    with association_file.read() as session:
        info = association.get_association(session)
    assert (info.name, info.purpose_statement, info.retention_months) == (
        "桜町自治会", "会報の配布と\n安否確認に使います。", 36)


def test_a_changed_purpose_statement_reaches_the_relay(association_file: AssociationFile
                                                       ) -> None:
    with association_file.write() as session:
        _pair(session)
    with association_file.write() as session:
        assert association.set_purpose_statement(session, text="回覧の配布に使います。")
        assert not association.set_purpose_statement(session, text="回覧の配布に使います。")
    with association_file.read() as session:
        ops = [(op.kind, op.body) for op in session.exec(select(OutboxOp)).all()]
    assert ops == [("association.profile", {"purpose_statement": "回覧の配布に使います。"})]


def test_bad_settings_are_refused_with_the_field(association_file: AssociationFile) -> None:
    with pytest.raises(ValidationError, match="at most 500") as long, \
            association_file.write() as session:
        association.set_purpose_statement(session, text="あ" * 501)
    assert long.value.field == "purpose_statement"
    for months in (0, -3, 1201):
        with pytest.raises(ValidationError, match="from 1 to 1200 months") as bad, \
                association_file.write() as session:
            association.set_retention_months(session, months=months)
        assert bad.value.field == "retention_months"
