"""The office API of a real relay over HTTPS: pairing, pushing ops exactly once, pulling the log,
and the refusals (401, 403, 400, 413, 429, 409)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from sync.protocol import LOG_PATH, OPENAPI_PATH, OPS_PATH, PAIR_PATH, OpKind, Scope
from sync.relay import admin, tables
from sync.relay.auth import issue_token
from sync.relay.config import Settings
from sync.relay.db import now
from tests.relay.relay_server import (
    RunningRelay,
    TlsFiles,
    household_op,
    office_only,
    pull_all,
    push,
    running_relay,
)


def _count(relay: RunningRelay, table: Any, **where: str) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with relay.database.read() as connection:
        return int(connection.execute(query).scalar_one())


# ---------------------------------------------------------------- pairing


def test_pairing_code_gives_a_token_once(relay: RunningRelay) -> None:
    association_id, code = relay.new_association("桜町内会")
    paired = relay.pair(code.lower().replace("-", " "))  # however the officer types it
    assert paired["association_id"] == association_id
    assert paired["association_name"] == "桜町内会"
    assert paired["epoch"]
    office = relay.client(paired["token"])
    assert office.get(LOG_PATH).status_code == 200

    again = relay.client().post(PAIR_PATH, json={"code": code, "device_name": "2台目"})
    assert again.status_code == 400
    assert again.json()["error"] == "pairing_code"
    # Only the hash of the token is stored.
    with relay.database.read() as connection:
        hashes = connection.execute(select(tables.token.c.token_hash)).scalars().all()
    assert paired["token"] not in hashes
    assert hashlib.sha256(paired["token"].encode()).hexdigest() in hashes


def test_expired_and_unknown_pairing_codes_are_refused(sqlite_relay: RunningRelay) -> None:
    _association, code = sqlite_relay.new_association()
    with sqlite_relay.database.write() as connection:
        connection.execute(update(tables.pairing_code)
                           .values(expires_at=now() - timedelta(seconds=1)))
    client = sqlite_relay.client()
    for attempt in (code, "AAAA-BBBB-CCCC"):
        answer = client.post(PAIR_PATH, json={"code": attempt, "device_name": "PC"})
        assert answer.status_code == 400
        assert answer.json()["error"] == "pairing_code"
    bad = client.post(PAIR_PATH, json={"code": code})
    assert bad.status_code == 400
    assert bad.json()["error"] == "bad_request"


def test_pairing_attempts_are_rate_limited(sqlite_url: str, tls_files: TlsFiles) -> None:
    settings = Settings(pair_rate_burst=3, pair_rate_per_second=0.01)
    with running_relay(sqlite_url, tls_files, settings=settings,
                       resident_routes=office_only) as relay:
        client = relay.client()
        codes = [client.post(PAIR_PATH, json={"code": f"WRONG{i}", "device_name": "PC"})
                 for i in range(4)]
    assert [a.status_code for a in codes] == [400, 400, 400, 429]
    assert int(codes[-1].headers["Retry-After"]) >= 1


# ---------------------------------------------------------------- ops exactly once


def test_ops_are_applied_once_and_repeats_get_the_stored_result(relay: RunningRelay) -> None:
    association_id, office = relay.office()
    first = household_op(name="山田")
    second = household_op(name="佐藤")
    results = push(office, [first, second])
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert [r["seq"] for r in results] == [1, 2]

    # The response was lost; the client sends the same batch again, and a third op with it.
    third = household_op(name="鈴木")
    again = push(office, [first, second, third])
    assert again[0] == {"id": first["id"], "status": "duplicate", "seq": 1}
    assert again[1] == {"id": second["id"], "status": "duplicate", "seq": 2}
    assert again[2]["status"] == "applied" and again[2]["seq"] == 3

    # The same id with another body is refused and changes nothing.
    changed = dict(first, body=dict(first["body"], display_name="別人"))
    reused = push(office, [changed])[0]
    assert reused["status"] == "rejected" and reused["code"] == "id_reused"
    assert reused["message"]

    items = pull_all(office)
    assert [i["seq"] for i in items] == [1, 2, 3]
    assert [i["body"]["display_name"] for i in items] == ["山田", "佐藤", "鈴木"]
    assert _count(relay, tables.household, association_id=association_id) == 3
    assert _count(relay, tables.applied_op, association_id=association_id) == 3


def test_the_same_op_twice_in_one_batch_is_applied_once(sqlite_relay: RunningRelay) -> None:
    _association, office = sqlite_relay.office()
    op = household_op()
    results = push(office, [op, op])
    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert results[0]["seq"] == results[1]["seq"]
    assert len(pull_all(office)) == 1


def test_one_poison_op_among_999_good_ones(relay: RunningRelay) -> None:
    association_id, office = relay.office()
    ops = [household_op(number=str(n)) for n in range(1000)]
    poison = 617
    del ops[poison]["body"]["display_name"]
    results = [r for start in range(0, 1000, 100) for r in push(office, ops[start:start + 100])]
    assert [r["id"] for r in results] == [op["id"] for op in ops]
    rejected = [r for r in results if r["status"] != "applied"]
    assert len(rejected) == 1
    assert rejected[0]["id"] == ops[poison]["id"]
    assert rejected[0]["code"] == "invalid_body"
    assert "display_name" in rejected[0]["message"]
    items = pull_all(office, limit=1000)
    assert len(items) == 999
    assert [i["seq"] for i in items] == list(range(1, 1000))
    assert _count(relay, tables.household, association_id=association_id) == 999


@pytest.mark.parametrize(("op", "code"), [
    ({"id": "not-a-uuid", "kind": "disaster.set", "body": {"on": True, "message": ""}},
     "invalid_id"),
    ({"id": str(uuid.uuid4()), "kind": "household.teleport", "body": {}}, "unknown_kind"),
    ({"id": str(uuid.uuid4()), "kind": "disaster.set", "body": {"on": "yes", "message": ""}},
     "invalid_body"),
    ({"id": str(uuid.uuid4()), "kind": "household.upsert",
      "body": {**household_op()["body"], "address": "1-2-3"}}, "invalid_body"),
    ({"id": str(uuid.uuid4()), "kind": "invitation.issue",
      "body": {"household_id": str(uuid.uuid4()), "code_hash": "0" * 64}}, "not_found"),
    ({"kind": "disaster.set"}, "invalid_body"),
    ("just text", "invalid_body"),
])
def test_bad_ops_are_rejected_with_a_code_and_never_block(
    sqlite_relay: RunningRelay, op: Any, code: str
) -> None:
    _association, office = sqlite_relay.office()
    good = household_op()
    results = push(office, [op, good])
    assert results[0]["status"] == "rejected"
    assert results[0]["code"] == code
    assert results[0]["message"]
    assert results[1]["status"] == "applied"
    assert [i["kind"] for i in pull_all(office)] == ["household.upsert"]


def test_every_op_kind_is_applied_into_the_residents_tables(relay: RunningRelay) -> None:
    association_id, office = relay.office()
    household = str(uuid.uuid4())
    circular = str(uuid.uuid4())
    code_hash = hashlib.sha256(b"INVITE-1").hexdigest()
    ops = [
        household_op(household, number="12", name="田中", group=str(uuid.uuid4())),
        {"id": str(uuid.uuid4()), "kind": "invitation.issue",
         "body": {"household_id": household, "code_hash": code_hash}},
        {"id": str(uuid.uuid4()), "kind": "circular.publish", "body": {
            "circular_id": circular, "title": "清掃のお知らせ", "body": "日曜9時",
            "issued_on": "2025-04-01", "issuer": "会長", "ask": "survey",
            "questions": [{"text": "参加しますか", "kind": "choice",
                           "choices": ["はい", "いいえ"]}],
            "deadline": None, "household_ids": [household, str(uuid.uuid4())]}},
        {"id": str(uuid.uuid4()), "kind": "answer.record", "body": {
            "circular_id": circular, "household_id": household, "answers": ["はい"],
            "channel": "paper"}},
        {"id": str(uuid.uuid4()), "kind": "disaster.set",
         "body": {"on": True, "message": "地震: 安否をお知らせください"}},
    ]
    assert all(r["status"] == "applied" for r in push(office, ops))
    mine = association_id
    with relay.database.read() as connection:
        row = connection.execute(select(tables.household)
                                 .where(tables.household.c.association_id == mine)).one()
        assert (row.number, row.display_name, row.group_name) == ("12", "田中", "1班")
        assert connection.execute(select(tables.invitation.c.code_hash).where(
            tables.invitation.c.association_id == mine)).scalar_one() == code_hash
        assert connection.execute(select(tables.circular.c.title).where(
            tables.circular.c.association_id == mine)).scalar_one() == "清掃のお知らせ"
        assert _count(relay, tables.circular_recipient, circular_id=circular) == 2
        flag = connection.execute(
            select(tables.association.c.disaster_on, tables.association.c.disaster_message)
            .where(tables.association.c.id == mine)).one()
        assert tuple(flag) == (True, "地震: 安否をお知らせください")

    retract = [{"id": str(uuid.uuid4()), "kind": "circular.retract",
                "body": {"circular_id": circular}},
               {"id": str(uuid.uuid4()), "kind": "invitation.revoke",
                "body": {"household_id": household}}]
    assert all(r["status"] == "applied" for r in push(office, retract))
    assert _count(relay, tables.circular, association_id=association_id) == 0
    assert _count(relay, tables.circular_recipient, association_id=association_id) == 0
    assert _count(relay, tables.invitation, association_id=association_id) == 0
    kinds = [i["kind"] for i in pull_all(office)]
    assert kinds == ["household.upsert", "invitation.issue", "circular.publish", "answer.record",
                     "disaster.set", "circular.retract", "invitation.revoke"]


def test_household_purge_removes_every_trace(relay: RunningRelay) -> None:
    association_id, office = relay.office()
    household = str(uuid.uuid4())
    other = str(uuid.uuid4())
    circular = str(uuid.uuid4())
    push(office, [
        household_op(household, name="消える世帯"),
        household_op(other, name="残る世帯"),
        {"id": str(uuid.uuid4()), "kind": "invitation.issue",
         "body": {"household_id": household, "code_hash": "a" * 64}},
        {"id": str(uuid.uuid4()), "kind": "circular.publish", "body": {
            "circular_id": circular, "title": "回覧", "body": "", "issued_on": "2025-05-01",
            "issuer": "", "ask": "read", "questions": [], "deadline": "2025-05-10",
            "household_ids": [household, other]}},
        {"id": str(uuid.uuid4()), "kind": "answer.record", "body": {
            "circular_id": circular, "household_id": household, "answers": [],
            "channel": "phone"}},
    ])
    with relay.database.write() as connection:
        resident = issue_token(connection, association_id=association_id,
                               scope=Scope.RESIDENT, household_id=household)
    results = push(office, [{"id": str(uuid.uuid4()), "kind": "household.purge",
                             "body": {"household_id": household}}])
    assert results[0]["status"] == "applied"

    for table in (tables.household, tables.invitation, tables.circular_recipient,
                  tables.token, tables.log):
        assert _count(relay, table, household_id=household) == 0, table.name
    assert _count(relay, tables.household, household_id=other) == 1
    items = pull_all(office)
    assert "消える世帯" not in json.dumps(items, ensure_ascii=False)
    assert items[-1]["kind"] == "household.purge"
    assert relay.client(resident).get(LOG_PATH).status_code == 401


# ---------------------------------------------------------------- the log


def test_log_pages_by_cursor(relay: RunningRelay) -> None:
    _association, office = relay.office()
    for start in range(0, 250, 50):
        push(office, [household_op(number=str(n)) for n in range(start, start + 50)])
    pages = []
    after = 0
    while True:
        page = office.get(LOG_PATH, params={"after": after, "limit": 100}).json()
        pages.append([i["seq"] for i in page["items"]])
        if not page["more"]:
            break
        after = page["items"][-1]["seq"]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [s for p in pages for s in p] == list(range(1, 251))
    tail = office.get(LOG_PATH, params={"after": 250}).json()
    assert tail["items"] == [] and tail["more"] is False
    exact = office.get(LOG_PATH, params={"after": 150, "limit": 100}).json()
    assert len(exact["items"]) == 100 and exact["more"] is False

    for params in ({"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}):
        answer = office.get(LOG_PATH, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"] == "bad_request"


def test_epoch_mismatch_answers_409_with_the_current_epoch(relay: RunningRelay) -> None:
    _association, code = relay.new_association()
    paired = relay.pair(code)
    office = relay.client(paired["token"])
    push(office, [household_op()])
    old = paired["epoch"]
    assert office.get(LOG_PATH, params={"epoch": old}).status_code == 200

    new = admin.rotate_epoch(relay.database)
    assert new != old
    answer = office.get(LOG_PATH, params={"after": 1, "epoch": old})
    assert answer.status_code == 409
    assert answer.json()["epoch"] == new
    assert answer.json()["error"] == "epoch_mismatch"
    again = office.get(LOG_PATH, params={"after": 0, "epoch": new}).json()
    assert again["epoch"] == new and len(again["items"]) == 1


def test_a_fresh_database_is_a_new_epoch(tmp_path: Path, tls_files: TlsFiles) -> None:
    epochs = []
    for name in ("one.db", "two.db"):
        with running_relay(f"sqlite:///{tmp_path / name}", tls_files,
                           resident_routes=office_only) as relay:
            epochs.append(relay.pair(relay.new_association()[1])["epoch"])
    assert epochs[0] != epochs[1]


# ---------------------------------------------------------------- refusals


def test_missing_unknown_and_revoked_tokens_get_401(relay: RunningRelay) -> None:
    _association, code = relay.new_association()
    token = relay.pair(code, device="なくしたPC")["token"]
    office = relay.client(token)
    assert office.get(LOG_PATH).status_code == 200
    listed = admin.list_tokens(relay.database)
    prefix = next(t.hash_prefix for t in listed if t.label == "なくしたPC")
    admin.revoke_token(relay.database, hash_prefix=prefix)
    for client in (office, relay.client(), relay.client("not-a-token")):
        for answer in (client.get(LOG_PATH), client.post(OPS_PATH, json={"ops": []})):
            assert answer.status_code == 401
            assert answer.json()["error"] == "unauthorized"
            assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_resident_session_cannot_use_office_endpoints(relay: RunningRelay) -> None:
    association_id, office = relay.office()
    household = str(uuid.uuid4())
    push(office, [household_op(household, name="住民")])
    with relay.database.write() as connection:
        resident_token = issue_token(connection, association_id=association_id,
                                     scope=Scope.RESIDENT, household_id=household)
    resident = relay.client(resident_token)
    for answer in (resident.get(LOG_PATH),
                   resident.post(OPS_PATH, json={"ops": [household_op()]})):
        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"
        assert "住民" not in answer.text
    assert len(pull_all(office)) == 1


def test_oversized_bodies_get_413(sqlite_relay: RunningRelay) -> None:
    _association, office = sqlite_relay.office()
    big = household_op(name="x" * (1 << 20))
    answer = office.post(OPS_PATH, json={"ops": [big]})
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"

    def chunks() -> Any:  # no Content-Length: the relay counts as the body streams in
        yield b'{"ops": ['
        for _ in range(300):
            yield json.dumps(household_op(name="y" * 4000)).encode() + b","
        yield b"{}]}"

    streamed = office.post(OPS_PATH, content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert pull_all(office) == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"", b"[]", b'{"ops": {}}',
                                  b'{"ops": "x"}', b"null"])
def test_malformed_requests_get_400(sqlite_relay: RunningRelay, body: bytes) -> None:
    _association, office = sqlite_relay.office()
    answer = office.post(OPS_PATH, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_request"
    pairing = sqlite_relay.client().post(PAIR_PATH, content=body)
    assert pairing.status_code == 400


def test_more_than_500_ops_in_one_request_get_400(sqlite_relay: RunningRelay) -> None:
    _association, office = sqlite_relay.office()
    answer = office.post(OPS_PATH, json={"ops": [household_op() for _ in range(501)]})
    assert answer.status_code == 400
    assert pull_all(office) == []


def test_a_burst_above_the_rate_limit_gets_429_with_retry_after(
    sqlite_url: str, tls_files: TlsFiles
) -> None:
    settings = Settings(rate_burst=5, rate_per_second=0.5)
    with running_relay(sqlite_url, tls_files, settings=settings,
                       resident_routes=office_only) as relay:
        _association, office = relay.office()
        _other_association, other = relay.office("隣の町内会")
        answers = [office.get(LOG_PATH) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[-1].json()["error"] == "rate_limited"
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 2
        assert other.get(LOG_PATH).status_code == 200  # the limit is per token


def test_unknown_paths_and_methods_answer_json(sqlite_relay: RunningRelay) -> None:
    client = sqlite_relay.client()
    missing = client.get("/api/v1/households")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert client.get(OPS_PATH).status_code == 405


def test_openapi_document_describes_the_office_endpoints(sqlite_relay: RunningRelay) -> None:
    document = sqlite_relay.client().get(OPENAPI_PATH).json()
    assert document["openapi"].startswith("3.")
    assert {PAIR_PATH, OPS_PATH, LOG_PATH} <= set(document["paths"])
    kinds = {o["properties"]["kind"]["enum"][0]
             for o in document["components"]["schemas"]["Op"]["oneOf"]}
    assert kinds == set(OpKind)


def test_one_batch_has_the_effect_of_its_ops_in_order(relay: RunningRelay) -> None:
    """Ops that undo each other within one batch (written as a net effect) end as if applied
    one by one; a replayed op after a purge stays a duplicate and brings nothing back."""
    association_id, office = relay.office()
    household, other = str(uuid.uuid4()), str(uuid.uuid4())
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    def op(kind: str, **body: Any) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "kind": kind, "body": body}

    def publish(circular: str, households: list[str]) -> dict[str, Any]:
        return op("circular.publish", circular_id=circular, title="回覧", body="",
                  issued_on="2025-05-01", issuer="", ask="read", questions=[], deadline=None,
                  household_ids=households)

    old_name = household_op(household, name="旧姓")
    ops = [
        old_name,
        household_op(other, name="隣"),
        op("invitation.issue", household_id=household, code_hash="1" * 64),
        publish(first, [household, other]),
        op("household.purge", household_id=household),
        op("invitation.issue", household_id=household, code_hash="2" * 64),  # gone: rejected
        household_op(household, name="新姓"),
        publish(second, [household]),
        op("circular.retract", circular_id=first),
        op("invitation.issue", household_id=other, code_hash="3" * 64),
        op("invitation.revoke", household_id=other),
        op("invitation.issue", household_id=other, code_hash="4" * 64),
        op("disaster.set", on=True, message="1"),
        op("disaster.set", on=False, message="2"),
    ]
    statuses = [r["status"] for r in push(office, ops)]
    assert statuses == ["applied"] * 5 + ["rejected"] + ["applied"] * 8

    mine = association_id
    with relay.database.read() as connection:
        names = dict(connection.execute(
            select(tables.household.c.household_id, tables.household.c.display_name)
            .where(tables.household.c.association_id == mine)).all())
        invitations = dict(connection.execute(
            select(tables.invitation.c.household_id, tables.invitation.c.code_hash)
            .where(tables.invitation.c.association_id == mine)).all())
        recipients = connection.execute(
            select(tables.circular_recipient.c.circular_id,
                   tables.circular_recipient.c.household_id)
            .where(tables.circular_recipient.c.association_id == mine)).all()
        flag = connection.execute(
            select(tables.association.c.disaster_on, tables.association.c.disaster_message)
            .where(tables.association.c.id == mine)).one()
    assert names == {household: "新姓", other: "隣"}
    assert invitations == {other: "4" * 64}
    assert [tuple(r) for r in recipients] == [(second, household)]
    assert tuple(flag) == (False, "2")
    logged = json.dumps(pull_all(office), ensure_ascii=False)
    assert "旧姓" not in logged and "1" * 64 not in logged

    replay = push(office, [old_name])[0]
    assert replay["status"] == "duplicate"
    with relay.database.read() as connection:
        assert connection.execute(
            select(tables.household.c.display_name)
            .where(tables.household.c.association_id == mine)
            .where(tables.household.c.household_id == household)).scalar_one() == "新姓"
