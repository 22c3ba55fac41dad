"""Replication between an association's office PCs, relay side: the ``replica`` op through the
ordinary push, devices and their revocation, keys and grants, key transfers, snapshots and
re-encryption.

The main scenario runs twice: over HTTPS with :class:`sync.client.RelayClient` (SQLite and
PostgreSQL) and in-process with :class:`tests.relay.inprocess.InProcessRelay`, so that the
tests' fast relay keeps the real one's promises.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from sync.client import EpochChanged, RelayClient, RelayRefused, StaleKey
from sync.protocol import (
    OPENAPI_PATH,
    OPS_PATH,
    RECOVERY_DEVICE_ID,
    REPLICA_DEVICES_PATH,
    REPLICA_KEYS_PATH,
    REPLICA_STATUS_PATH,
    Grant,
    Op,
    OpStatus,
    ReencryptItem,
    ReplicaRelay,
    Scope,
    SnapshotMeta,
    check_op,
)
from sync.relay import admin, tables
from sync.relay.auth import issue_token
from sync.relay.db import Database, now, open_database, upgrade
from tests.relay.inprocess import InProcessRelay, new_association, pair
from tests.relay.relay_server import RunningRelay, household_op, push

# A relay for one device: (device name) → (its relay, its device id).
Join = Callable[[str], tuple[ReplicaRelay, str]]


def _ct(size: int = 48) -> str:
    return base64.urlsafe_b64encode(os.urandom(size)).decode().rstrip("=")


def _replica(key_gen: int = 1, schema: int = 1, ct: str | None = None,
             op_id: str | None = None) -> Op:
    return Op(id=op_id or str(uuid.uuid4()), kind="replica",
              body={"key_gen": key_gen, "schema": schema, "ct": ct or _ct()})


def _pull(relay: ReplicaRelay) -> list[Any]:
    return list(relay.pull(after=0, limit=1000, epoch="").items)


def _refused(action: Callable[[], object]) -> RelayRefused:
    with pytest.raises(RelayRefused) as caught:
        action()
    return caught.value


# ---------------------------------------------------------------- the relays under test


@contextmanager
def _http_join(relay: RunningRelay) -> Iterator[Join]:
    """Devices of one association on a real relay over HTTPS."""
    association_id, code = relay.new_association()
    clients: list[RelayClient] = []
    codes = [code]

    def join(name: str) -> tuple[ReplicaRelay, str]:
        this_code = codes.pop() if codes else admin.pairing_code(
            relay.database, association_id=association_id, hours=1)[0]
        paired = relay.pair(this_code, name)
        client = RelayClient(relay.url, token=paired["token"], ca_file=relay.tls.ca_file)
        clients.append(client)
        return client, paired["device_id"]

    try:
        yield join
    finally:
        for client in clients:
            client.close()


@pytest.fixture
def memory_join(tmp_path: Path) -> Iterator[Join]:
    """Devices of one association on an in-process relay (SQLite)."""
    database = open_database(f"sqlite:///{tmp_path / 'relay.db'}")
    upgrade(database)
    association_id, _code = new_association(database)

    def join(name: str) -> tuple[ReplicaRelay, str]:
        paired = pair(database, association_id=association_id, device_name=name)
        return InProcessRelay(database, paired.token), paired.device_id

    yield join
    database.dispose()


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def join(request: pytest.FixtureRequest) -> Iterator[Join]:
    """Both kinds of relay (HTTPS on both backends, in-process): every scenario below must
    behave the same on them."""
    if request.param == "memory":
        found: Join = request.getfixturevalue("memory_join")
        yield found
        return
    relay: RunningRelay = request.getfixturevalue(f"{request.param}_relay")
    with _http_join(relay) as http:
        yield http


# ---------------------------------------------------------------- scenarios on both relays


def test_replica_ops_need_the_current_key_and_carry_the_pushing_device(join: Join) -> None:
    first, first_id = join("事務所PC")
    second, second_id = join("会長宅PC")
    assert uuid.UUID(first_id) and first_id != second_id

    no_key = first.push([_replica()])[0]
    assert no_key.status is OpStatus.REJECTED and no_key.code == "no_key"

    first.publish_keys(1, [Grant(key_gen=1, wrapped="w-first", device_id=first_id),
                           Grant(key_gen=1, wrapped="w-second", device_id=second_id),
                           Grant(key_gen=1, wrapped="w-sheet", device_id=RECOVERY_DEVICE_ID)])
    again = _refused(lambda: second.publish_keys(1, []))
    assert isinstance(again, StaleKey) and again.key_gen == 1 and again.status == 409

    op = _replica(ct="c2VjcmV0")
    applied = first.push([op, _replica(key_gen=2)])
    assert applied[0].status is OpStatus.APPLIED
    assert applied[1].code == "stale_key"
    # At-least-once delivery, exactly-once effect: the repeat answers with the same seq.
    repeat = first.push([op])[0]
    assert repeat.status is OpStatus.DUPLICATE and repeat.seq == applied[0].seq

    items = _pull(second)
    assert [item.kind for item in items] == ["replica"]
    assert dict(items[0].body) == {"op_id": op.id, "device_id": first_id, "key_gen": 1,
                                   "schema": 1, "ct": "c2VjcmV0"}

    # The pushing device comes from its token: a body naming one is refused outright.
    forged = Op(id=str(uuid.uuid4()), kind="replica",
                body={"key_gen": 1, "schema": 1, "ct": "eA", "device_id": second_id})
    assert second.push([forged])[0].code == "invalid_body"
    assert first.push([_replica(ct="not base64!")])[0].code == "invalid_body"

    # A newer program raises the association's schema; an older one is told to update.
    assert second.push([_replica(schema=2)])[0].status is OpStatus.APPLIED
    status = first.replica_status(pending=3, schema=1)
    assert (status.key_gen, status.replica_schema, status.device_id) == (1, 2, first_id)
    old = first.push([_replica(schema=1)])[0]
    assert old.code == "schema_old" and old.message

    assert [(g.key_gen, g.wrapped) for g in second.grants()] == [(1, "w-second")]
    assert [g.wrapped for g in second.grants(recovery=True)] == ["w-sheet"]


def test_devices_keys_and_revocation(join: Join) -> None:
    first, first_id = join("事務所PC")
    second, second_id = join("会長宅PC")
    laptop, laptop_id = join("ノートPC")
    public = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    first.replica_status(pending=0, schema=1, public_key=public)
    laptop.replica_status(pending=7, schema=1, public_key=_ct(32))

    listed = {d.device_id: d for d in first.devices()}
    assert [d.name for d in first.devices()] == ["事務所PC", "会長宅PC", "ノートPC"]
    assert listed[laptop_id].pending == 7 and listed[laptop_id].has_public_key
    assert listed[second_id].last_seen_at is None and not listed[second_id].has_public_key
    assert first.public_keys() == {first_id: public, laptop_id: laptop.public_keys()[laptop_id]}

    assert _refused(lambda: first.revoke_device(first_id)).status == 400
    assert _refused(lambda: first.revoke_device(str(uuid.uuid4()))).status == 404
    first.revoke_device(laptop_id)
    first.revoke_device(laptop_id)  # again: nothing more happens

    # The laptop is out at once, everywhere.
    for action in (laptop.devices, laptop.grants, lambda: laptop.push([_replica()]),
                   lambda: laptop.pull(after=0, limit=10, epoch=""),
                   lambda: laptop.replica_status(pending=0, schema=1)):
        assert _refused(action).status == 401
    revoked = {d.device_id: d for d in second.devices()}[laptop_id]
    assert revoked.revoked_at is not None
    assert laptop_id not in first.public_keys()
    # No grant for a revoked PC, nor for one the association does not have.
    for target in (laptop_id, str(uuid.uuid4()), "someone"):
        refused = _refused(lambda t=target: first.publish_keys(  # type: ignore[misc]
            1, [Grant(key_gen=1, wrapped="w", device_id=t)]))
        assert refused.status == 400
    first.publish_keys(1, [Grant(key_gen=1, wrapped="a", device_id=first_id)])
    first.publish_keys(2, [Grant(key_gen=2, wrapped="b", device_id=first_id)])
    # A PC that joins later gets the older generations wrapped for it by another PC.
    first.add_grants([Grant(key_gen=1, wrapped="s1", device_id=second_id),
                      Grant(key_gen=2, wrapped="s2", device_id=second_id)])
    first.add_grants([Grant(key_gen=2, wrapped="s2'", device_id=second_id)])  # replaced
    assert [(g.key_gen, g.wrapped) for g in second.grants()] == [(1, "s1"), (2, "s2'")]
    assert _refused(lambda: first.add_grants(
        [Grant(key_gen=3, wrapped="x", device_id=second_id)])).status == 400


def test_key_transfers_last_fifteen_minutes_five_at_most(join: Join) -> None:
    first, _first_id = join("事務所PC")
    newcomer, _newcomer_id = join("新しいPC")
    made = [first.post_transfer(f"blob-{n}") for n in range(6)]
    live = newcomer.transfers()
    assert sorted(t.blob for t in live) == [f"blob-{n}" for n in range(1, 6)]
    assert made[0] not in {t.transfer_id for t in live}
    newcomer.delete_transfer(made[5])
    newcomer.delete_transfer(made[5])  # gone already: no error
    newcomer.delete_transfer("not-an-id")
    assert made[5] not in {t.transfer_id for t in first.transfers()}
    assert _refused(lambda: first.post_transfer("x" * 5000)).status == 400
    assert _refused(lambda: first.post_transfer("")).status == 400


def test_snapshots_in_chunks_newest_complete_one_wins(join: Join) -> None:
    first, first_id = join("事務所PC")
    second, _second_id = join("会長宅PC")
    assert second.latest_snapshot() is None
    snapshot = SnapshotMeta(snapshot_id=str(uuid.uuid4()), key_gen=1, upto_seq=0,
                            chunk_count=2)
    assert isinstance(_refused(lambda: first.begin_snapshot(snapshot)), StaleKey)  # no key
    first.publish_keys(1, [Grant(key_gen=1, wrapped="w", device_id=first_id)])
    first.push([_replica(), _replica()])
    assert _refused(lambda: first.begin_snapshot(
        SnapshotMeta(str(uuid.uuid4()), 1, upto_seq=3, chunk_count=1))).status == 400

    snapshot = SnapshotMeta(snapshot_id=str(uuid.uuid4()), key_gen=1, upto_seq=2,
                            chunk_count=2)
    first.begin_snapshot(snapshot)
    first.begin_snapshot(snapshot)  # a retry
    first.put_chunk(snapshot.snapshot_id, 0, "part-0")
    assert _refused(lambda: first.complete_snapshot(snapshot.snapshot_id)).status == 400
    assert _refused(lambda: first.put_chunk(snapshot.snapshot_id, 2, "x")).status == 400
    first.put_chunk(snapshot.snapshot_id, 1, "part-1")
    first.complete_snapshot(snapshot.snapshot_id)
    first.complete_snapshot(snapshot.snapshot_id)  # a retry
    latest = second.latest_snapshot()
    assert latest is not None and latest.snapshot_id == snapshot.snapshot_id
    assert (latest.upto_seq, latest.chunk_count, latest.key_gen) == (2, 2, 1)
    assert latest.created_at
    assert second.get_chunk(snapshot.snapshot_id, 1) == "part-1"
    assert second.replica_status(pending=0, schema=1).snapshot == latest

    newer = SnapshotMeta(snapshot_id=str(uuid.uuid4()), key_gen=1, upto_seq=2, chunk_count=1)
    first.begin_snapshot(newer)
    first.put_chunk(newer.snapshot_id, 0, "all")
    first.complete_snapshot(newer.snapshot_id)
    latest = second.latest_snapshot()
    assert latest is not None and latest.snapshot_id == newer.snapshot_id
    assert _refused(lambda: second.get_chunk(snapshot.snapshot_id, 0)).status == 404
    assert _refused(lambda: second.get_chunk(newer.snapshot_id, 1)).status == 404


def test_reencryption_replaces_what_the_relay_keeps_after_a_rotation(join: Join) -> None:
    first, first_id = join("事務所PC")
    second, second_id = join("会長宅PC")
    first.publish_keys(1, [Grant(key_gen=1, wrapped="w", device_id=first_id)])
    first.push([household_op_for(first)])
    sent = [_replica(ct="b2xk"), _replica(ct="b2xk")]
    seqs = [r.seq or 0 for r in second.push(sent)]
    assert all(seqs)
    stale = _refused(lambda: first.reencrypt([ReencryptItem(seq=seqs[0], key_gen=2,
                                                            ct="bmV3")]))
    assert isinstance(stale, StaleKey) and stale.key_gen == 1
    first.publish_keys(2, [Grant(key_gen=2, wrapped="w2", device_id=first_id)])
    # Not a replica item: the household's upsert.
    assert _refused(lambda: first.reencrypt([ReencryptItem(seq=1, key_gen=2, ct="bmV3")])
                    ).status == 400
    items = [ReencryptItem(seq=seq, key_gen=2, ct="bmV3") for seq in seqs]
    assert first.reencrypt(items) == 2
    assert first.reencrypt(items) == 0  # a retry: already at the current generation
    bodies = [dict(item.body) for item in _pull(first) if item.kind == "replica"]
    assert [(b["key_gen"], b["ct"], b["device_id"]) for b in bodies] == [
        (2, "bmV3", second_id), (2, "bmV3", second_id)]
    # An op sent again after the rotation (its answer was lost) is still a duplicate, not a
    # new change; a new op of the old generation is refused.
    assert [r.status for r in second.push(sent)] == [OpStatus.DUPLICATE] * 2
    assert first.push([_replica()])[0].code == "stale_key"


def household_op_for(_relay: ReplicaRelay) -> Op:
    """A plain household op (log item 1 of a fresh association)."""
    raw = household_op()
    return Op(id=raw["id"], kind=raw["kind"], body=raw["body"])


# ---------------------------------------------------------------- HTTP details


def test_pairing_answers_the_new_device_id(relay: RunningRelay) -> None:
    association_id, code = relay.new_association()
    paired = relay.pair(code, "事務所PC")
    with relay.database.read() as connection:
        row = connection.execute(select(tables.office_device).where(
            tables.office_device.c.association_id == association_id)).one()
    assert (row.device_id, row.association_id, row.name) == (paired["device_id"],
                                                             association_id, "事務所PC")
    assert uuid.UUID(paired["device_id"]).version == 4


def test_tokens_paired_before_replication_get_a_device_on_first_use(
        sqlite_relay: RunningRelay) -> None:
    association_id, _code = sqlite_relay.new_association()
    with sqlite_relay.database.write() as connection:
        token = issue_token(connection, association_id=association_id, scope=Scope.OFFICE,
                            label="古いPC")
    office = sqlite_relay.client(token)
    answer = office.post(REPLICA_STATUS_PATH, json={"pending": 1, "schema": 1})
    assert answer.status_code == 200, answer.text
    devices = office.get(REPLICA_DEVICES_PATH).json()["devices"]
    assert [(d["device_id"], d["name"]) for d in devices] == [
        (answer.json()["device_id"], "古いPC")]
    # A replica op pushed by such a token is stored under the same device.
    office.post(REPLICA_KEYS_PATH, json={"key_gen": 1, "grants": []})
    other = sqlite_relay.database
    with other.write() as connection:
        second = issue_token(connection, association_id=association_id, scope=Scope.OFFICE,
                             label="もう一台")
    pushed = push(sqlite_relay.client(second), [_replica().to_json()])
    assert pushed[0]["status"] == "applied"
    with other.read() as connection:
        body = json.loads(connection.execute(select(tables.log.c.body)).scalar_one())
        made = connection.execute(select(tables.office_device.c.device_id)
                                  .where(tables.office_device.c.name == "もう一台")).scalar_one()
    assert body["device_id"] == made


def test_replica_endpoints_refuse_strangers_residents_and_bad_bodies(
        sqlite_relay: RunningRelay) -> None:
    association_id, office = sqlite_relay.office()
    with sqlite_relay.database.write() as connection:
        connection.execute(insert(tables.household).values(
            association_id=association_id, household_id=str(uuid.uuid4()), number="1",
            display_name="山田", group_id=None, group_name="", updated_at=now()))
        household = connection.execute(select(tables.household.c.household_id)).scalar_one()
        resident = issue_token(connection, association_id=association_id,
                               scope=Scope.RESIDENT, household_id=household)
    stranger = sqlite_relay.client()
    phone = sqlite_relay.client(resident)
    for method, path in (("GET", REPLICA_DEVICES_PATH), ("POST", REPLICA_STATUS_PATH),
                         ("POST", REPLICA_KEYS_PATH)):
        assert stranger.request(method, path, content=b"{").status_code == 401
        assert phone.request(method, path, content=b"{").status_code == 403
    assert office.post(REPLICA_STATUS_PATH, content=b"{").status_code == 400
    bad = office.post(REPLICA_STATUS_PATH, json={"pending": "3", "schema": 1})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"
    assert office.post(REPLICA_STATUS_PATH, json={"pending": -1, "schema": 1}).status_code \
        == 400
    assert office.post(REPLICA_STATUS_PATH, json={"pending": 0, "schema": 1,
                                                  "public_key": "a b"}).status_code == 400
    stale = office.post(REPLICA_KEYS_PATH, json={"key_gen": 2, "grants": []})
    assert stale.status_code == 409
    assert stale.json() == {**stale.json(), "error": "stale_key", "key_gen": 0}
    assert office.get(f"{REPLICA_DEVICES_PATH}/x/revoke").status_code in (404, 405)
    assert office.post(f"{REPLICA_DEVICES_PATH}/x/revoke").status_code == 404


def test_the_openapi_document_describes_the_replica_endpoints(sqlite_relay: RunningRelay) -> None:
    document = sqlite_relay.client().get(OPENAPI_PATH).json()
    paths = document["paths"]
    assert paths["/api/v1/replica/snapshots/{snapshot_id}/chunks/{idx}"].keys() == {"put",
                                                                                    "get"}
    assert "409" in paths["/api/v1/replica/keys"]["post"]["responses"]
    kinds = [schema["properties"]["kind"]["enum"][0]
             for schema in document["components"]["schemas"]["Op"]["oneOf"]]
    assert "replica" in kinds
    assert "device_id" in document["components"]["schemas"]["Paired"]["required"]


def test_the_replica_op_body_is_checked_strictly() -> None:
    good = {"key_gen": 1, "schema": 1, "ct": "AbC-_9"}
    check_op(Op(id=str(uuid.uuid4()), kind="replica", body=good))
    for body in ({**good, "key_gen": 0}, {**good, "schema": True}, {**good, "ct": "a=="},
                 {**good, "ct": "x" * 900_001}, {"key_gen": 1, "schema": 1},
                 {**good, "op_id": str(uuid.uuid4())}):
        with pytest.raises(ValueError, match="replica"):
            check_op(Op(id=str(uuid.uuid4()), kind="replica", body=body))


def test_the_push_of_a_big_replica_op_fits_one_request(sqlite_relay: RunningRelay) -> None:
    _association, office = sqlite_relay.office()
    office.post(REPLICA_KEYS_PATH, json={"key_gen": 1, "grants": []})
    op = _replica(ct="A" * 900_000)
    answer = office.post(OPS_PATH, json={"ops": [op.to_json()]})
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "applied"


# ---------------------------------------------------------------- in-process specifics


def test_the_in_process_relay_survives_a_restart_and_reports_epochs(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'relay.db'}")
    upgrade(database)
    association_id, code = new_association(database)
    paired = pair(database, code=code)
    relay = InProcessRelay(database, paired.token)
    relay.publish_keys(1, [])
    relay.push([_replica()])
    relay.restart()
    assert [item.kind for item in _pull(relay)] == ["replica"]
    with pytest.raises(EpochChanged) as changed:
        relay.pull(after=0, limit=10, epoch="old")
    assert changed.value.epoch == paired.epoch
    assert relay.devices()[0].device_id == paired.device_id
    relay.database.dispose()
    assert association_id


def test_the_0004_migration_keeps_existing_associations(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(database, "0003")
        association_id = str(uuid.uuid4())
        with database.write() as connection:
            connection.exec_driver_sql(
                "INSERT INTO association (id, name, created_at, last_seq, disaster_on, "
                "disaster_message, purpose_statement) VALUES (?, '旧町内会', "
                "'2026-01-01 00:00:00', 0, 0, '', '')", (association_id,))
        upgrade(database)
        with database.read() as connection:
            row = connection.execute(select(tables.association.c.key_gen,
                                            tables.association.c.replica_schema)).one()
        assert tuple(row) == (0, 0)
        with database.write() as connection:
            connection.execute(update(tables.association).values(key_gen=1))
        paired = pair(database, association_id=association_id)
        assert paired.device_id
    finally:
        database.dispose()


def test_expired_transfers_are_not_listed(tmp_path: Path) -> None:
    database: Database = open_database(f"sqlite:///{tmp_path / 'relay.db'}")
    upgrade(database)
    association_id, code = new_association(database)
    relay = InProcessRelay(database, pair(database, code=code).token)
    relay.post_transfer("old")
    with database.write() as connection:
        connection.execute(update(tables.key_transfer)
                           .values(expires_at=now() - timedelta(seconds=1)))
    relay.post_transfer("new")
    assert [t.blob for t in relay.transfers()] == ["new"]
    assert association_id
    database.dispose()
