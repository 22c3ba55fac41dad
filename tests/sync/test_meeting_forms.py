"""General meetings' online forms through the relay: an office PC publishes a meeting when its
forms are printed (only when paired and online forms are allowed), a resident sends a written
vote on the resident page of a real relay over HTTPS, and the office pulls it into the tally as
an entry with source RELAY — once, however often the log is pulled. A form that cannot be
entered here becomes a sync problem, not a crash."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from desktop.domain.errors import ValidationError
from desktop.domain.households import HouseholdData, create_household
from desktop.domain.meeting import EntryKind, Rules, Source, Status, Vote, VotingUnit
from desktop.domain.meeting.entries import meeting_tally, voter_entries
from desktop.domain.meeting.meetings import (
    ItemData,
    MeetingData,
    add_item,
    create_meeting,
    delete_meeting,
    get_meeting,
    item_records,
    mark_forms_printed,
    save_rules,
    update_meeting,
)
from desktop.domain.models import MeetingItem, MeetingVoter, OutboxOp, SyncState
from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.apply import PROBLEM_CODE, apply_items
from sync.engine import Outcome, open_client, sync_once
from sync.invitation_codes import canonical_invitation_code
from sync.pairing import pair
from sync.protocol import LogItem, LogKind, OpKind, hash_secret
from sync.relay import resident_tables as rt
from sync.relay.office_api import read_log
from tests.domain.test_circulars import Town, build_town
from tests.relay.relay_server import RunningRelay, TlsFiles, running_relay
from tests.relay.test_residents import Phone
from tests.sync.conftest import GENEROUS, TODAY, Paired
from tests.sync.helpers import mark_paired

PRINTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
HELD = date.today() + timedelta(days=14)  # the relay takes online forms until the day before


@pytest.fixture
def resident_relay(tmp_path: Path, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A real relay with the resident pages over HTTPS on a fresh SQLite file."""
    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files,
                       settings=GENEROUS) as running:
        yield running


@pytest.fixture
def office(association_file: AssociationFile, resident_relay: RunningRelay) -> Paired:
    association_id, code = resident_relay.new_association("桜町自治会")
    pair(association_file, relay_url=resident_relay.url, code=code, device_name="事務所PC",
         ca_file=str(resident_relay.tls.ca_file), today=TODAY)
    return Paired(association_file, resident_relay, association_id)


def _sync(paired: Paired) -> object:
    with open_client(paired.store) as client:
        return sync_once(paired.store, client)


def _meeting(session: Session, *, online: bool = True) -> uuid.UUID:
    return create_meeting(session, data=MeetingData(
        title="令和8年度 定期総会", held_on=HELD, place="集会所", record_date=date.today(),
        online_forms=online), items=[ItemData("事業報告"), ItemData("予算案")])


def _queued(session: Session, kind: str) -> list[dict[str, object]]:
    return [dict(op.body) for op in session.exec(select(OutboxOp).where(
        OutboxOp.kind == kind).order_by(OutboxOp.position)).all()]  # type: ignore[arg-type]


def test_a_resident_written_vote_reaches_the_tally_once(office: Paired) -> None:
    store, relay = office.store, office.relay
    with store.write() as session:
        town: Town = build_town(session)
        meeting_id = _meeting(session)
        assert _queued(session, OpKind.MEETING_PUBLISH) == []  # not before the forms are out
        mark_forms_printed(session, meeting_id=meeting_id, at=PRINTED)
        [body] = _queued(session, OpKind.MEETING_PUBLISH)
        items = [str(item.id) for item in session.exec(select(MeetingItem).order_by(
            MeetingItem.position)).all()]  # type: ignore[arg-type]
        voters = {str(v.household_id) for v in session.exec(select(MeetingVoter)).all()}
    # Only what residents must see: no names, no addresses, no voter keys.
    assert body["online_forms"] is True and body["held_on"] == HELD.isoformat()
    assert sorted(body["household_ids"]) == sorted(voters)  # type: ignore[arg-type]
    assert [i["title"] for i in body["items"]] == ["事業報告", "予算案"]  # type: ignore[attr-defined, index]
    assert "桜町" not in str(body) and "住人" not in str(body)
    assert _sync(office).outcome == Outcome.SYNCED  # type: ignore[attr-defined]

    # The relay lists the meeting; household 0001 gets an invitation and answers on its phone.
    household = str(town.households["0001"])
    code = "KMEETING0001"
    second = relay.client(relay.pair(_pairing_code(relay, office.association_id))["token"])
    issued = second.post("/api/v1/ops", json={"ops": [{
        "id": str(uuid.uuid4()), "kind": "invitation.issue", "body": {
            "household_id": household,
            "code_hash": hash_secret(canonical_invitation_code(code))}}]})
    assert issued.json()["results"][0]["status"] == "applied"
    phone = Phone(relay)
    assert phone.join(code).status_code == 303
    page = phone.get(f"/r/m/{meeting_id}")
    assert page.status_code == 200 and "事業報告" in page.text
    sent = phone.send(f"/r/m/{meeting_id}", {
        "form": "written", f"vote_{items[0]}": "for", f"vote_{items[1]}": "against"})
    assert sent.status_code == 303

    status = _sync(office)
    assert status.applied.meeting_answers == 1  # type: ignore[attr-defined]
    with store.read() as session:
        key = _key(session, meeting_id, town.households["0001"])
        [entry] = voter_entries(session, meeting_id=meeting_id, voter_key=key)
        tally = meeting_tally(session, meeting_id=meeting_id)
    assert (entry.kind, entry.source, entry.votes) == (
        EntryKind.WRITTEN, Source.RELAY, (Vote.FOR, Vote.AGAINST))
    assert tally.statuses[tally.positions[key]] is Status.WRITTEN
    assert (tally.items[0].written.for_, tally.items[1].written.against) == (1, 1)
    assert tally.counts is not None

    # Pulled again (a repeat page, or the whole log after an epoch change): nothing changes.
    assert _sync(office).applied.changed == 0  # type: ignore[attr-defined]
    with store.write() as session:
        state = session.get(SyncState, 1)
        assert state is not None
        state.cursor = 0
    assert _sync(office).applied.changed == 0  # type: ignore[attr-defined]
    with store.read() as session:
        assert len(voter_entries(session, meeting_id=meeting_id, voter_key=key)) == 1

    # The resident changes their mind to a proxy for the chair: the online written vote is
    # cancelled, the proxy counts.
    assert phone.send(f"/r/m/{meeting_id}", {"form": "proxy", "proxy_to": ""}
                      ).status_code == 303
    assert _sync(office).applied.meeting_answers == 1  # type: ignore[attr-defined]
    with store.read() as session:
        kinds = [e.kind for e in voter_entries(session, meeting_id=meeting_id, voter_key=key)]
    assert kinds == [EntryKind.WRITTEN, EntryKind.PROXY, EntryKind.CANCEL]
    log = read_log(relay.database, association_id=office.association_id, after=0, limit=1000,
                   epoch=None)
    assert [i.kind for i in log.items].count(LogKind.MEETING_ANSWER) == 2
    with relay.database.read() as connection:
        assert connection.execute(select(rt.meeting.c.online_forms)).scalar_one() is True


def _pairing_code(relay: RunningRelay, association_id: str) -> str:
    from sync.relay import admin

    code, _expires = admin.pairing_code(relay.database, association_id=association_id, hours=1)
    return code


def _key(session: Session, meeting_id: uuid.UUID, household_id: uuid.UUID) -> str:
    return session.exec(select(MeetingVoter.key).where(
        MeetingVoter.meeting_id == meeting_id,
        MeetingVoter.household_id == household_id)).one()


# ---------------------------------------------------------------- without a relay


def test_only_paired_files_with_online_forms_queue_the_meeting(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        build_town(session)
        unpaired = _meeting(session)
        mark_forms_printed(session, meeting_id=unpaired, at=PRINTED)
        assert outbox.counts(session) == (0, 0)
        mark_paired(session)
        paper = _meeting(session, online=False)
        mark_forms_printed(session, meeting_id=paper, at=PRINTED)
        assert _queued(session, OpKind.MEETING_PUBLISH) == []
        online = _meeting(session)
        add_item(session, meeting_id=online, item=ItemData("規約改正"))  # not out yet
        assert _queued(session, OpKind.MEETING_PUBLISH) == []
        mark_forms_printed(session, meeting_id=online, at=PRINTED)
        # Switching online forms off afterwards tells the relay (the page says: on paper).
        data = get_meeting(session, meeting_id=online).data
        update_meeting(session, meeting_id=online,
                       data=MeetingData(data.title, data.held_on, data.place,
                                        data.record_date, online_forms=False))
        assert get_meeting(session, meeting_id=online).data.online_forms is False
        published = _queued(session, OpKind.MEETING_PUBLISH)
        assert [b["online_forms"] for b in published] == [True, False]
        assert [len(b["items"]) for b in published] == [3, 3]  # type: ignore[arg-type]
        assert all("集会所" in str(b["body"]) for b in published)
        # Switched on again and deleted: published once more, then retracted.
        update_meeting(session, meeting_id=online, data=data)
        delete_meeting(session, meeting_id=online)
        assert _queued(session, OpKind.MEETING_RETRACT) == [{"meeting_id": str(online)}]


def _answer(meeting_id: uuid.UUID, household_id: uuid.UUID, form: str = "absent", *,
            at: str = "2026-06-02T08:00:00+00:00", **extra: object) -> LogItem:
    body: dict[str, object] = {
        "answer_id": str(uuid.uuid4()), "meeting_id": str(meeting_id),
        "household_id": str(household_id), "form": form, "proxy_to": None, "votes": None,
        "channel": "app", "at": at, **extra}
    return LogItem(seq=1, kind=LogKind.MEETING_ANSWER, body=body, at=at)


def test_forms_that_cannot_be_entered_become_sync_problems(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        town = build_town(session)
        mark_paired(session)
        meeting_id = _meeting(session)
        late = create_household(session, data=HouseholdData(number="0200", display_name="新井"),
                                group_id=town.han1)
        stranger = _answer(meeting_id, late)
        strange_holder = _answer(meeting_id, town.households["0001"], "proxy",
                                 proxy_to="となりの田中さん")
        applied = apply_items(session, [stranger, strange_holder, stranger,
                                        _answer(uuid.uuid4(), late)])
        assert applied.meeting_answers == 0
        problems = outbox.problems(session)
        assert [(p.kind, p.error_code) for p in problems] == [
            (LogKind.MEETING_ANSWER, PROBLEM_CODE)] * 2
        assert "0200" in problems[0].error_message and "voter list" in problems[0].error_message
        assert [op.kind for op in outbox.pending(session, limit=10)] == [
            OpKind.HOUSEHOLD_UPSERT]  # the new household; the problems are never sent
        with pytest.raises(ValidationError, match="came from the relay"):
            outbox.retry_problem(session, op_id=problems[0].id)  # nothing it could send
        assert len(outbox.problems(session)) == 2

        # One vote per member: a household's form cannot say whose vote it is.
        save_rules(session, rules=Rules(voting_unit=VotingUnit.MEMBER))
        by_member = _meeting(session)
        applied = apply_items(session, [_answer(by_member, town.households["0002"])])
        assert applied.meeting_answers == 1  # one member: that member's vote
        # An answer older than the one entered is a repeat: nothing changes.
        again = apply_items(session, [_answer(by_member, town.households["0002"],
                                              at="2026-06-01T00:00:00+00:00")])
        assert again.changed == 0
        assert len(item_records(session, meeting_id)) == 2
        assert len(outbox.problems(session)) == 2
