"""The desktop's sync against the real relay over HTTPS (trustme certificates on 127.0.0.1):
pairing, the round trip of residents' answers, TLS, rate limits, revoked tokens and a restored
relay."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from desktop.domain import audit
from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.errors import ConflictError
from desktop.domain.households import HouseholdData, create_household
from desktop.domain.models import (
    Ask,
    CircularRead,
    Reply,
    ReplyChannel,
    SafetyStatus,
    SyncState,
)
from desktop.domain.replies import record_reply
from desktop.domain.safety import (
    disaster_state,
    record_safety_answer,
    safety_board,
    set_disaster_mode,
)
from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.client import RelayClient, RelayRefused, RelayUnavailable
from sync.engine import Outcome, open_client, read_status, sync_once
from sync.pairing import pair, pairing_info, unpair
from sync.protocol import OPS_PATH, hash_secret
from sync.relay import admin
from sync.relay.config import Settings
from sync.relay.db import append_log
from sync.relay.office_api import read_log
from tests.domain.test_circulars import Town, build_town
from tests.relay.relay_server import RunningRelay, TlsFiles, running_relay
from tests.sync.conftest import TODAY, Paired
from tests.sync.helpers import MemoryKeyring

SENT_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _sync(paired: Paired) -> object:
    with open_client(paired.store) as client:
        return sync_once(paired.store, client)


def _relay_log(relay: RunningRelay, association_id: str) -> list[dict[str, object]]:
    page = read_log(relay.database, association_id=association_id, after=0, limit=1000,
                    epoch=None)
    return [item.to_json() for item in page.items]


def test_pairing_keeps_the_token_in_the_keyring_only(
    association_file: AssociationFile, relay: RunningRelay, memory_keyring: MemoryKeyring
) -> None:
    with association_file.write() as session:
        build_town(session)
    association_id, code = relay.new_association("桜町自治会")
    result = pair(association_file, relay_url=relay.url, code=code, device_name=" 事務所PC ",
                  ca_file=str(relay.tls.ca_file), today=TODAY)
    assert (result.association_id, result.association_name, result.queued) == (
        association_id, "桜町自治会", 8)  # 7 households, 0005's e-mail address
    [(service, key)] = memory_keyring.passwords
    token = memory_keyring.passwords[(service, key)]
    assert service == "Kairan relay" and key == f"{relay.url} {association_id}"
    info = pairing_info(association_file)
    assert info is not None and info.device_name == "事務所PC"

    with open_client(association_file) as client:
        status = sync_once(association_file, client)
    assert (status.outcome, status.pushed, status.pending) == (Outcome.SYNCED, 8, 0)
    association_file.close()  # everything written to the file itself
    assert token.encode() not in association_file.path.read_bytes()
    assert [item["kind"] for item in _relay_log(relay, association_id)] == [
        "household.upsert"] * 5 + ["mail.addresses"] + ["household.upsert"] * 2
    with pytest.raises(ConflictError, match="already connected"):
        pair(association_file, relay_url=relay.url, code=code, device_name="PC", today=TODAY)


def test_a_used_pairing_code_is_refused_plainly(association_file: AssociationFile,
                                                relay: RunningRelay) -> None:
    _association_id, code = relay.new_association()
    relay.pair(code)
    with pytest.raises(RelayRefused, match="pairing code was not accepted"):
        pair(association_file, relay_url=relay.url, code=code, device_name="PC",
             ca_file=str(relay.tls.ca_file), today=TODAY)
    assert pairing_info(association_file) is None


def test_an_untrusted_certificate_is_refused_and_the_code_stays_unused(
    association_file: AssociationFile, relay: RunningRelay
) -> None:
    _association_id, code = relay.new_association()
    with pytest.raises(RelayUnavailable, match="certificate could not be verified"):
        pair(association_file, relay_url=relay.url, code=code, device_name="PC", today=TODAY)
    # The configured CA is accepted, and the code was never used.
    pair(association_file, relay_url=relay.url, code=code, device_name="PC",
         ca_file=str(relay.tls.ca_file), today=TODAY)
    with RelayClient(relay.url, token="x") as client, pytest.raises(
            RelayUnavailable, match="certificate"):
        client.pull(after=0, limit=1, epoch="")


def test_residents_and_other_office_pcs_come_back_into_the_file(paired: Paired) -> None:
    store, relay = paired.store, paired.relay
    with store.write() as session:
        town: Town = build_town(session)
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2026, 6, 1), ask=Ask.ATTENDANCE,
            deadline=date(2026, 6, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    assert _sync(paired).outcome == Outcome.SYNCED  # type: ignore[attr-defined]
    household = {number: str(h) for number, h in town.households.items()}
    # Residents answer on their phones; the relay logs it (as its resident pages do).
    with relay.database.write() as connection:
        for kind, body in (
            ("read", {"circular_id": str(circular_id), "household_id": household["0001"],
                      "at": "2026-06-02T08:00:00+00:00"}),
            ("answer", {"answer_id": str(uuid.uuid4()), "circular_id": str(circular_id),
                        "household_id": household["0001"], "answers": ["出席"],
                        "channel": "app", "at": "2026-06-02T08:01:00+00:00"}),
        ):
            append_log(connection, association_id=paired.association_id, kind=kind,
                       body=body, household_id=body["household_id"])
    # Another office PC of the association enters a paper answer and starts a safety check.
    other = _second_office(relay, paired.association_id)
    answer = other.post(OPS_PATH, json={"ops": [
        {"id": str(uuid.uuid4()), "kind": "answer.record", "body": {
            "circular_id": str(circular_id), "household_id": household["0002"],
            "answers": ["欠席"], "channel": "phone"}},
        {"id": str(uuid.uuid4()), "kind": "disaster.set",
         "body": {"on": True, "message": "避難所は公民館"}},
    ]})
    assert answer.status_code == 200
    with relay.database.write() as connection:
        append_log(connection, association_id=paired.association_id, kind="safety", body={
            "answer_id": str(uuid.uuid4()), "household_id": household["0003"],
            "status": "urgent", "note": "足が不自由", "needs_help": True,
            "at": datetime.now(UTC).isoformat()}, household_id=household["0003"])

    status = _sync(paired)
    applied = status.applied  # type: ignore[attr-defined]
    assert (applied.answers, applied.reads, applied.safety, applied.disaster) == (2, 1, 1, 1)
    with store.read() as session:
        replies = {(r.household_id, tuple(r.answers), r.channel)
                   for r in session.exec(select(Reply)).all()}
        reads = session.exec(select(CircularRead)).all()
        state = disaster_state(session)
        board = safety_board(session)
    assert replies == {(town.households["0001"], ("出席",), ReplyChannel.APP),
                       (town.households["0002"], ("欠席",), ReplyChannel.PHONE)}
    assert [(r.household_id, r.channel) for r in reads] == [
        (town.households["0001"], ReplyChannel.APP)]
    assert state is not None and state.on and state.message == "避難所は公民館"
    urgent = [h for g in board.groups for h in g.households if h.status is not None]
    assert [(h.number, h.status, h.needs_help) for h in urgent] == [
        ("0003", SafetyStatus.URGENT, True)]
    assert _sync(paired).applied.changed == 0  # type: ignore[attr-defined]


def test_safety_answers_officers_gathered_reach_the_other_office_pcs(paired: Paired) -> None:
    store, relay = paired.store, paired.relay
    with store.write() as session:
        town: Town = build_town(session)
        set_disaster_mode(session, on=True, message="", at=SENT_AT)
        record_safety_answer(session, entry="0001", status=SafetyStatus.CONTACT, at=SENT_AT,
                             channel=ReplyChannel.IN_PERSON, note="玄関で確認",
                             entered_by="山田")
    assert _sync(paired).outcome == Outcome.SYNCED  # type: ignore[attr-defined]
    [sent] = [item for item in _relay_log(relay, paired.association_id)
              if item["kind"] == "safety.record"]
    body = sent["body"]
    assert isinstance(body, dict)
    assert (body["household_id"], body["status"], body["channel"], body["note"]) == (
        str(town.households["0001"]), "contact", "in_person", "玄関で確認")
    assert "entered_by" not in body  # the officer's name stays on the office PCs

    # An officer on another PC phones household 0002: this PC's board shows it after a pull.
    other = _second_office(relay, paired.association_id)
    answer = other.post(OPS_PATH, json={"ops": [
        {"id": str(uuid.uuid4()), "kind": "safety.record", "body": {
            "answer_id": str(uuid.uuid4()), "household_id": str(town.households["0002"]),
            "status": "urgent", "note": "薬が足りない", "needs_help": True,
            "channel": "phone", "at": "2026-06-01T19:30:00+09:00"}}]})
    assert answer.json()["results"][0]["status"] == "applied"
    assert _sync(paired).applied.safety == 1  # type: ignore[attr-defined]
    with store.read() as session:
        board = safety_board(session)
    answered = {h.number: (h.status, h.channel, h.note)
                for g in board.groups for h in g.households if h.status is not None}
    assert answered == {
        "0001": (SafetyStatus.CONTACT, ReplyChannel.IN_PERSON, "玄関で確認"),
        "0002": (SafetyStatus.URGENT, ReplyChannel.PHONE, "薬が足りない")}
    with store.read() as session:  # the history says it came through the relay
        [pulled] = [entry for entry in audit.history(
            session, household_id=town.households["0002"]) if entry.entity == "safety_answer"]
    assert (pulled.action, pulled.summary, pulled.actor) == ("insert", "0002", audit.RELAY.name)
    assert _sync(paired).applied.changed == 0  # type: ignore[attr-defined]  # once only


def _second_office(relay: RunningRelay, association_id: str) -> httpx.Client:
    code, _expires = admin.pairing_code(relay.database, association_id=association_id,
                                        hours=1)
    return relay.client(relay.pair(code, "公民館PC")["token"])


def test_office_changes_reach_the_relay_in_order(paired: Paired) -> None:
    store = paired.store
    with store.write() as session:
        town = build_town(session)
        household_id = create_household(session, data=HouseholdData(
            number="0100", display_name="新井 一郎", address="桜町9-9"), group_id=town.han3)
        circular_id = create_circular(session, data=CircularData(
            title="回覧", body="本文", issued_on=date(2026, 6, 1), ask=Ask.READ,
            deadline=date(2026, 6, 10)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        record_reply(session, circular_id=circular_id, entry="0100", answers=[],
                     channel=ReplyChannel.PAPER, received_at=SENT_AT)
        set_disaster_mode(session, on=True, message="", at=SENT_AT)
    status = _sync(paired)
    assert status.pending == 0 and status.rejected == 0  # type: ignore[attr-defined]
    kinds = [item["kind"] for item in _relay_log(paired.relay, paired.association_id)]
    # 0007 withdrew: the relay keeps only the purge of it, no trace of its upsert.
    assert kinds == ["household.upsert"] * 5 + ["mail.addresses"] + ["household.upsert"] * 2 + [
        "household.purge", "household.upsert", "circular.publish", "answer.record",
        "disaster.set"]
    logged = str(_relay_log(paired.relay, paired.association_id))
    assert str(household_id) in logged and "桜町9-9" not in logged
    with store.read() as session:
        assert session.exec(select(Reply)).one().channel == ReplyChannel.PAPER  # echo: kept


def test_a_revoked_device_stops_syncing_with_a_clear_message(paired: Paired,
                                                             memory_keyring: MemoryKeyring
                                                             ) -> None:
    [token] = memory_keyring.passwords.values()
    admin.revoke_token(paired.relay.database, hash_prefix=hash_secret(token)[:16])
    status = _sync(paired)
    assert status.outcome == Outcome.REFUSED  # type: ignore[attr-defined]
    assert "no longer accepts this PC" in status.error  # type: ignore[attr-defined]
    assert "no longer accepts" in read_status(paired.store).error


def test_the_rate_limit_is_honoured(association_file: AssociationFile, tmp_path: Path,
                                    tls_files: TlsFiles) -> None:
    strict = Settings(rate_burst=2, rate_per_second=0.2)
    with running_relay(f"sqlite:///{tmp_path / 'strict.db'}", tls_files, settings=strict,
                       resident_routes=lambda _database: []) as limited:
        _association_id, code = limited.new_association()
        pair(association_file, relay_url=limited.url, code=code, device_name="PC",
             ca_file=str(limited.tls.ca_file), today=TODAY)
        with association_file.write() as session:
            outbox.enqueue_many(session, [("household.purge",
                                           {"household_id": str(uuid.uuid4())})] * 250)
        with open_client(association_file) as client:
            status = sync_once(association_file, client)  # two requests, then 429
            assert status.outcome == Outcome.BUSY and status.pushed == 200
            assert status.retry_in is not None and status.retry_in >= 5  # Retry-After: 5
            assert status.pending == 50


def test_a_restored_relay_is_pulled_again_and_the_outbox_kept(paired: Paired) -> None:
    store = paired.store
    with store.write() as session:
        build_town(session)
    _sync(paired)
    with store.read() as session:
        state = session.get(SyncState, 1)
        assert state is not None
        epoch, cursor = state.epoch, state.cursor
    # 8 upserts, 0005's addresses and a purge (which took the upsert of 0007 away)
    assert cursor == 10
    new = admin.rotate_epoch(paired.relay.database)
    with store.write() as session:
        set_disaster_mode(session, on=True, at=SENT_AT)
    status = _sync(paired)
    assert status.outcome == Outcome.SYNCED and status.pending == 0  # type: ignore[attr-defined]
    with store.read() as session:
        state = session.get(SyncState, 1)
        assert state is not None and state.epoch == new != epoch and state.cursor == 11


def test_unpairing_forgets_the_token_and_the_queue(paired: Paired,
                                                   memory_keyring: MemoryKeyring) -> None:
    with paired.store.write() as session:
        build_town(session)
    # 8 households added (0005 with its e-mail address), 1 withdrawn, none sent yet
    assert unpair(paired.store) == 10
    assert memory_keyring.passwords == {}
    assert pairing_info(paired.store) is None
    assert read_status(paired.store).paired is False
    with paired.store.write() as session:  # no longer paired: nothing is queued
        set_disaster_mode(session, on=True, at=SENT_AT)
        assert outbox.counts(session) == (0, 0)
