"""What the audit trail records: every ORM write to a tracked table with who, when and old →
new; the bulk paths too (import, demo, purge, route order, sending, voter lists); nothing
while paused, nothing of a rolled-back transaction, never a PIN; and the history read back,
searched and exported."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlmodel import select

from desktop.domain import audit, audit_history, profiles, roles
from desktop.domain.audit_chain import LABEL_KEY
from desktop.domain.audit_history import value_text, what_text
from desktop.domain.demo import populate_demo
from desktop.domain.demo_data import generate_demo_roster
from desktop.domain.errors import KairanError
from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    bulk_add_households,
    create_household,
    get_household,
    purge_household,
    set_circulation_order,
    update_household,
    withdraw_household,
)
from desktop.domain.ids import uuid7
from desktop.domain.models import AuditRecord, CircularRead, Household, OutboxOp, RosterGroup
from desktop.store.association_file import (
    AssociationFile,
    create_association_file,
    open_association,
)

YEAR = 2026


def records(opened: AssociationFile, **filters: object) -> list[audit.AuditEntry]:
    """The history oldest first."""
    with opened.read() as session:
        return list(reversed(audit.history(session, **filters)))  # type: ignore[arg-type]


def after(opened: AssociationFile) -> int:
    """The last seq now: what a test writes comes after it."""
    found = records(opened)
    return found[-1].seq if found else 0


def new_since(opened: AssociationFile, seq: int) -> list[audit.AuditEntry]:
    return [entry for entry in records(opened) if entry.seq > seq]


def add_household(opened: AssociationFile, number: str = "12", name: str = "山田 太郎",
                  **data: object) -> uuid.UUID:
    with opened.write() as session:
        return create_household(
            session, data=HouseholdData(number=number, display_name=name,
                                        furigana="やまだ たろう", **data),  # type: ignore[arg-type]
            members=[MemberData(name=name, is_head=True), MemberData(name="山田 花子")])


def verified(opened: AssociationFile) -> bool:
    with opened.read() as session:
        return audit.verify_chain(session).ok


# ---------------------------------------------------------------- the ORM's writes


def test_an_added_household_is_recorded_with_its_members(
        association_file: AssociationFile) -> None:
    start = after(association_file)
    association_file.actor = audit.Actor("会計 佐藤", uuid.UUID(int=5))
    household_id = add_household(association_file, phone="03-1234-5678")
    added = new_since(association_file, start)
    assert [(e.entity, e.action) for e in added] == [
        ("household", "insert"), ("member", "insert"), ("member", "insert")]
    household, head, _spouse = added
    assert {e.actor for e in added} == {"会計 佐藤"}
    assert {e.profile_id for e in added} == {uuid.UUID(int=5)}
    assert {e.household_id for e in added} == {household_id}
    assert household.entity_id == household_id.hex
    assert household.summary == "12" and household.label == "山田 太郎"
    assert household.changes["phone"] == [None, "03-1234-5678"]
    # Derived columns and time stamps are not changes; empty values say nothing.
    assert not {"search_text", "furigana_key", "member_count", "updated_at", "notes",
                "household_id"} & set(household.changes)
    assert head.label == "山田 太郎" and head.summary == "12"
    assert head.changes["is_head"] == [None, True]
    assert verified(association_file)


def test_an_edit_records_old_and_new_of_what_changed_only(
        association_file: AssociationFile) -> None:
    household_id = add_household(association_file, phone="03-1234-5678")
    start = after(association_file)
    with association_file.write() as session:
        record = get_household(session, household_id=household_id)
        update_household(session, household_id=household_id,
                         data=HouseholdData(number="12", display_name="山田 太郎",
                                            furigana="やまだ たろう", phone="090-1111-2222"),
                         members=[record.members[0]])  # 花子 moves out
    changed = new_since(association_file, start)
    assert [(e.entity, e.action) for e in changed] == [("household", "update"),
                                                        ("member", "delete")]
    update, removed = changed
    assert dict(update.changes) == {"phone": ["03-1234-5678", "090-1111-2222"],
                                    LABEL_KEY: "山田 太郎"}
    assert removed.changes["name"] == ["山田 花子", None] and removed.label == "山田 花子"
    assert removed.household_id == household_id


def test_a_write_without_an_actor_is_recorded_as_no_one(
        association_file: AssociationFile) -> None:
    assert association_file.actor is None
    start = after(association_file)
    add_household(association_file)
    assert {e.actor for e in new_since(association_file, start)} == {""}


def test_nothing_is_recorded_of_a_transaction_rolled_back(
        association_file: AssociationFile) -> None:
    start = after(association_file)
    with pytest.raises(RuntimeError), association_file.write() as session:
        create_household(session, data=HouseholdData(number="1", display_name="消える"))
        raise RuntimeError
    with association_file.write() as session:  # a savepoint rolled back inside a write
        nested = session.begin_nested()
        create_household(session, data=HouseholdData(number="2", display_name="消える"))
        nested.rollback()
        create_household(session, data=HouseholdData(number="3", display_name="残る"))
    kept = new_since(association_file, start)
    assert [e.summary for e in kept] == ["3"]
    assert kept[0].seq == start + 1
    assert verified(association_file)


def test_paused_writes_are_not_recorded(association_file: AssociationFile) -> None:
    start = after(association_file)
    with association_file.write() as session, audit.paused(session):
        assert audit.is_paused(session)
        create_household(session, data=HouseholdData(number="5", display_name="復元"))
        assert audit.record_many(session, [audit.AuditEntryData("insert", "household", "x")]) \
            == 0
    assert after(association_file) == start


def test_a_trail_restored_while_paused_goes_on_and_verifies(
        association_file: AssociationFile, tmp_path: Path) -> None:
    """As a bundle import does it: the records copied verbatim (through the ORM, whose JSON
    escapes non-ASCII), then new writes continue the chain after them."""
    add_household(association_file)
    with association_file.read() as session:
        copied = [AuditRecord(**row.model_dump()) for row in session.exec(select(AuditRecord))]
    target = create_association_file(tmp_path / "restored.kairan")
    try:
        with target.write() as session:
            with audit.paused(session):
                session.add_all(copied)
            create_household(session, data=HouseholdData(number="6", display_name="新規"))
        found = records(target)
        assert [e.seq for e in found] == list(range(1, len(copied) + 2))
        assert found[-1].summary == "6"
        assert verified(target)
        with target.read() as session:  # the escaped JSON is searched as text all the same
            assert audit.history(session, text="山田 太郎")
    finally:
        target.close()


def test_a_pin_is_recorded_only_as_being_set(association_file: AssociationFile) -> None:
    start = after(association_file)
    with association_file.write() as session:
        profile = profiles.create_profile(session, name="山田", pin="1234")
        profiles.set_pin(session, profile_id=profile.id, pin="5678")
        profiles.set_pin(session, profile_id=profile.id, pin=None)
        stored = profile.pin_hash
    made, changed, cleared = new_since(association_file, start)
    assert made.changes["pin"] == [None, True] and made.summary == "山田"
    assert changed.changes["pin"] == [True, True]
    assert cleared.changes["pin"] == [True, False]
    with closing(sqlite3.connect(association_file.path)) as connection:
        text = " ".join(row[0] for row in connection.execute("SELECT changes FROM audit_record"))
    assert "pin_hash" not in text and stored == ""
    with association_file.write() as session:
        again = profiles.create_profile(session, name="佐藤", pin="2468")
    with closing(sqlite3.connect(association_file.path)) as connection:
        text = " ".join(row[0] for row in connection.execute("SELECT changes FROM audit_record"))
    assert again.pin_hash.split("$")[1] not in text


def test_roles_and_their_holders_are_recorded(association_file: AssociationFile) -> None:
    household_id = add_household(association_file)
    start = after(association_file)
    with association_file.write() as session:
        member_id = get_household(session, household_id=household_id).members[0].id
        assert member_id is not None
        chair = next(r for r in roles.list_roles(session) if r.name == "会長")
        assignment = roles.assign_role(session, role_id=chair.id, year=YEAR, member_id=member_id)
        roles.unassign_role(session, assignment_id=assignment)
    assigned, removed = new_since(association_file, start)
    assert (assigned.entity, assigned.action, removed.action) == (
        "role_assignment", "insert", "delete")
    assert assigned.summary == f"会長 {YEAR}" and assigned.label == "山田 太郎"
    assert assigned.household_id == household_id == removed.household_id


def test_outbox_and_read_markers_are_not_recorded(association_file: AssociationFile) -> None:
    household_id = add_household(association_file)
    start = after(association_file)
    with association_file.write() as session:
        session.add(OutboxOp(position=999, kind="test", body={}))
        session.flush()
        assert audit.tracked_tables().isdisjoint({"outbox_op", "circular_read", "sync_state",
                                                  "import_mapping", "audit_record"})
        assert CircularRead.__tablename__ not in audit.tracked_tables()
    assert new_since(association_file, start) == []
    assert household_id


# ---------------------------------------------------------------- writes that bypass the ORM


def test_bulk_added_households_are_recorded_one_each(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        group_id = create_group(session, name="1班")
    start = after(association_file)
    new = [NewHousehold(uuid7(), group_id, number, HouseholdData(
        number=f"{number:03d}", display_name=f"世帯 {number}"),
        (MemberData(name=f"一郎 {number}", is_head=True), MemberData(name=f"花子 {number}")))
        for number in range(1, 21)]
    association_file.actor = audit.Actor("書記")
    with association_file.write() as session:
        bulk_add_households(session, new)
    added = new_since(association_file, start)
    assert [e.entity_id for e in added] == [item.id.hex for item in new]
    first = added[0]
    assert (first.action, first.actor, first.household_id, first.summary, first.label) == (
        "insert", "書記", new[0].id, "001", "世帯 1")
    assert first.changes["members"] == [None, ["一郎 1", "花子 1"]]
    assert first.changes["group_id"] == [None, group_id.hex]
    assert verified(association_file)


def test_the_route_order_records_the_households_that_moved(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        group_id = create_group(session, name="1班")
        ids = [create_household(session, data=HouseholdData(number=str(n),
                                                            display_name=f"世帯{n}"),
                                group_id=group_id) for n in (1, 2, 3)]
    start = after(association_file)
    with association_file.write() as session:
        set_circulation_order(session, group_id=group_id, household_ids=[ids[1], ids[0], ids[2]])
    moved = new_since(association_file, start)
    assert [(e.summary, e.changes["circulation_order"]) for e in moved] == [
        ("2", [2, 1]), ("1", [1, 2])]


def test_a_purge_records_the_members_and_roles_it_deletes(
        association_file: AssociationFile) -> None:
    household_id = add_household(association_file)
    with association_file.write() as session:
        member_id = get_household(session, household_id=household_id).members[0].id
        assert member_id is not None
        chair = next(r for r in roles.list_roles(session) if r.name == "会長")
        roles.assign_role(session, role_id=chair.id, year=YEAR, member_id=member_id)
        withdraw_household(session, household_id=household_id, left_on=date(2026, 5, 1))
    start = after(association_file)
    with association_file.write() as session:
        purge_household(session, household_id=household_id)
    gone = new_since(association_file, start)
    assert sorted((e.entity, e.action) for e in gone) == [
        ("household", "delete"), ("member", "delete"), ("member", "delete"),
        ("role_assignment", "delete")]
    assert {e.household_id for e in gone} == {household_id}
    assert verified(association_file)


def test_record_inserts_and_deletions_for_core_statements(
        association_file: AssociationFile) -> None:
    """The helpers bulk call sites use, with a Core statement of their own."""
    start = after(association_file)
    with association_file.write() as session:
        group_id = uuid7()
        rows = [{"id": group_id, "parent_id": None, "name": "9班", "kind": "han",
                 "position": 9}]
        session.execute(insert(RosterGroup), rows)
        assert audit.record_inserts(session, RosterGroup, rows) == 1
    [entry] = new_since(association_file, start)
    assert (entry.entity, entry.summary, entry.entity_id) == ("roster_group", "9班", group_id.hex)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo (groups, officers, a sent circular with answers, a meeting with entries):
    written by the demo's bulk paths."""
    folder = tmp_path_factory.mktemp("audit-demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAIRAN_HOME", str(folder / "home"))
        created = create_association_file(folder / "demo.kairan")
        created.actor = audit.Actor("デモ")
        try:
            with created.write() as session:
                populate_demo(session, generate_demo_roster(30, seed=3), year=YEAR)
        finally:
            created.close()
    return created.path


@pytest.fixture
def demo(tmp_path: Path, demo_template: Path) -> Iterator[AssociationFile]:
    path = tmp_path / "demo.kairan"
    shutil.copyfile(demo_template, path)
    opened = open_association(path)
    yield opened
    opened.close()


def test_the_demo_is_recorded_whole_and_verifies(demo: AssociationFile) -> None:
    found = records(demo)
    kinds = {(e.entity, e.action) for e in found}
    assert {("roster_group", "insert"), ("household", "insert"), ("role_assignment", "insert"),
            ("circular", "insert"), ("circular", "update"), ("reply", "insert"),
            ("meeting", "insert"), ("meeting_item", "insert"), ("meeting_voter", "insert"),
            ("meeting_entry", "insert"), ("meeting_floor_vote", "insert")} <= kinds
    sent = next(e for e in found if e.entity == "circular" and "recipients" in e.changes)
    assert sent.changes["recipients"] == [None, 30]
    voters = next(e for e in found if e.entity == "meeting_voter")
    assert isinstance(voters.changes["voters"], list) and voters.changes["voters"][1] > 0
    entry = next(e for e in found if e.entity == "meeting_entry")
    assert entry.household_id is not None and entry.label
    assert {e.actor for e in found} == {"デモ"}
    assert verified(demo)


def test_household_history_and_search(demo: AssociationFile) -> None:
    with demo.read() as session:
        everything = audit.history(session)
        household = session.exec(select(Household)).first()
        assert household is not None
        own = audit.history(session, household_id=household.id)
        kana = audit.history(session, text=household.furigana.split()[0])
        numbered = audit.history(session, text=f"{household.number} {household.display_name}")
        limited = audit.history(session, limit=5)
        future = audit.history(session, since=datetime.now(UTC) + timedelta(days=1))
        past = audit.history(session, until=datetime.now(UTC) + timedelta(days=1))
    assert [e.seq for e in everything] == sorted((e.seq for e in everything), reverse=True)
    assert own and {e.household_id for e in own} == {household.id}
    assert household.id in {e.household_id for e in kana}
    assert numbered and all(household.number in what_text(e) or household.display_name in
                            json.dumps(dict(e.changes), ensure_ascii=False) for e in numbered)
    assert [e.seq for e in limited] == [e.seq for e in everything[:5]]
    assert future == [] and len(past) == len(everything)


def test_the_history_is_exported_to_xlsx_and_csv(demo: AssociationFile, tmp_path: Path) -> None:
    with demo.read() as session:
        entries = audit.history(session, limit=50)
    seen: list[tuple[int, int]] = []
    audit.export_history(entries, tmp_path / "h.xlsx", progress=lambda d, t: seen.append((d, t)))
    audit.export_history(entries, tmp_path / "h.csv")
    workbook = load_workbook(tmp_path / "h.xlsx", read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0][0] == "No." and rows[1][0] == entries[0].seq
    assert seen[-1] == (50, 50)
    with (tmp_path / "h.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:3] == ["No.", "When", "Who"]
    assert len(lines) == len(rows)
    assert {int(line[0]) for line in lines[1:]} == {e.seq for e in entries}
    with pytest.raises(KairanError, match=r"\.xlsx"):
        audit.export_history(entries, tmp_path / "h.txt")
    assert not (tmp_path / "h.txt").exists()


def test_values_in_words() -> None:
    assert value_text(True) == "yes" and value_text(None) == ""
    assert value_text(["a", "b"]) == "a、b"
    assert value_text("ab" * 16, {"ab" * 16: "1班"}) == "1班"


def test_recording_keeps_the_import_fast_path_plain(association_file: AssociationFile) -> None:
    """The bulk record is built from plain values: what is stored reads back the same."""
    with association_file.write() as session:
        bulk_add_households(session, [NewHousehold(uuid7(), None, 1, HouseholdData(
            number="1", display_name="一"), ())])
    entry = records(association_file)[-1]
    assert entry.changes == {"number": [None, "1"], "members": [None, []], LABEL_KEY: "一"}
    assert verified(association_file)


def test_purged_then_redacted_leaves_no_personal_value(association_file: AssociationFile) -> None:
    """As the retention purge does it: delete the household, then blank its records, in one
    transaction; the deletions' own records (with the old values) are blanked too."""
    household_id = add_household(association_file, phone="03-9876-5432")
    with association_file.write() as session:
        withdraw_household(session, household_id=household_id, left_on=date(2026, 5, 1))
    with association_file.write() as session:
        purge_household(session, household_id=household_id)
        audit.redact_household(session, household_id, at=datetime.now(UTC))
    mine = records(association_file, household_id=household_id)
    assert {e.action for e in mine} == {"insert", "update", "delete"}
    assert all(e.redacted for e in mine)
    text = json.dumps([dict(e.changes) for e in mine], ensure_ascii=False)
    assert "山田" not in text and "9876" not in text
    assert {e.summary for e in mine} == {"12"}  # the number stays: it is not personal
    assert verified(association_file)


def test_changes_applied_from_the_relay_are_named_as_such(
        association_file: AssociationFile) -> None:
    start = after(association_file)
    association_file.actor = audit.Actor("山田")
    with association_file.write() as session:
        audit.attach(session, audit.RELAY)  # what sync does for pulled answers
        create_household(session, data=HouseholdData(number="7", display_name="七"))
    [entry] = new_since(association_file, start)
    assert audit_history.actor_label(entry.actor) == "Residents (through the relay)"
    assert audit_history.actor_label("") == "(no officer chosen)"


def test_attachments_and_meeting_rules_are_recorded_without_the_picture(
        association_file: AssociationFile) -> None:
    import io

    from PIL import Image

    from desktop.domain.attachments import add_image
    from desktop.domain.circulars import CircularData, create_circular
    from desktop.domain.meeting import Rules
    from desktop.domain.meeting.meetings import save_rules
    from desktop.domain.meeting.rules import VotingUnit

    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(picture, format="PNG")
    with association_file.write() as session:
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2026, 6, 1)))
    start = after(association_file)
    with association_file.write() as session:
        add_image(session, circular_id=circular_id, file_name="地図.png",
                  data=picture.getvalue())
        save_rules(session, rules=Rules(voting_unit=VotingUnit.MEMBER))
    attached, rules = new_since(association_file, start)[-2:]
    assert (attached.entity, attached.action, attached.summary) == (
        "circular_attachment", "insert", "防災訓練 地図.png")
    assert "data" not in attached.changes and "file_name" in attached.changes
    assert (rules.entity, rules.action) == ("meeting_rules", "insert")
