"""Two associations on one relay: the token of one never reaches a byte of the other's data,
whatever ids, op ids or cursors it sends."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from sync.protocol import LOG_PATH, Scope
from sync.relay import tables
from sync.relay.auth import issue_token
from tests.relay.relay_server import RunningRelay, household_op, pull_all, push

SECRET_NAME = "秘密の世帯"


def _op(kind: str, body: dict[str, Any], op_id: str | None = None) -> dict[str, Any]:
    return {"id": op_id or str(uuid.uuid4()), "kind": kind, "body": body}


def _snapshot(relay: RunningRelay, association_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the association in every table, to compare before and after."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with relay.database.read() as connection:
        for table in (tables.household, tables.invitation, tables.circular,
                      tables.circular_recipient, tables.applied_op, tables.log, tables.token):
            rows = connection.execute(
                select(table).where(table.c.association_id == association_id)
            ).all()
            snapshot[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
        snapshot["association"] = [tuple(str(v) for v in connection.execute(
            select(tables.association).where(tables.association.c.id == association_id)
        ).one())]
    return snapshot


def test_one_association_cannot_see_or_touch_another(relay: RunningRelay) -> None:
    a_id, a_office = relay.office("A町内会")
    b_id, b_office = relay.office("B町内会")
    household = str(uuid.uuid4())
    circular = str(uuid.uuid4())
    upsert = household_op(household, name=SECRET_NAME)
    a_ops = [
        upsert,
        _op("invitation.issue", {"household_id": household, "code_hash": "c" * 64}),
        _op("circular.publish", {
            "circular_id": circular, "title": "A only", "body": "秘密", "issued_on": "2025-04-01",
            "issuer": "", "ask": "nothing", "questions": [], "deadline": None,
            "household_ids": [household]}),
        _op("disaster.set", {"on": True, "message": "A"}),
    ]
    assert all(r["status"] == "applied" for r in push(a_office, a_ops))
    with relay.database.write() as connection:
        a_resident = issue_token(connection, association_id=a_id, scope=Scope.RESIDENT,
                                 household_id=household)
    before = _snapshot(relay, a_id)

    # B reads: its own empty log, whatever cursor it sends.
    for after in (0, 1, 3, 10**9):
        page = b_office.get(LOG_PATH, params={"after": after, "limit": 1000})
        assert page.status_code == 200
        assert page.json()["items"] == []
        assert SECRET_NAME not in page.text

    # B writes with A's ids and op ids: refused exactly as for ids nobody has, or applied to
    # B's own rows; never "duplicate" or "id_reused", which would tell B that A used the id.
    results = push(b_office, [
        _op("invitation.issue", {"household_id": household, "code_hash": "d" * 64}),
        dict(upsert, body=dict(upsert["body"], display_name="Bの世帯")),
        _op("circular.retract", {"circular_id": circular}),
        _op("invitation.revoke", {"household_id": household}),
        _op("disaster.set", {"on": False, "message": ""}),
        _op("answer.record", {"circular_id": circular, "household_id": household,
                              "answers": ["x"], "channel": "phone"}),
        _op("household.purge", {"household_id": household}),
    ])
    assert results[0]["status"] == "rejected" and results[0]["code"] == "not_found"
    assert all(r["status"] == "applied" for r in results[1:])
    assert [r["seq"] for r in results[1:]] == list(range(1, 7))
    assert SECRET_NAME not in json.dumps(results, ensure_ascii=False)

    assert _snapshot(relay, a_id) == before
    b_items = pull_all(b_office)
    assert SECRET_NAME not in json.dumps(b_items, ensure_ascii=False)
    # B's purge took B's items about the household, and nothing of A's.
    assert [i["kind"] for i in b_items] == ["circular.retract", "disaster.set", "household.purge"]

    # A still sees its own, unchanged; A's resident session still works only as a resident.
    a_items = pull_all(a_office)
    assert [i["kind"] for i in a_items] == [op["kind"] for op in a_ops]
    assert relay.client(a_resident).get(LOG_PATH).status_code == 403
    with relay.database.read() as connection:
        flags = dict(connection.execute(
            select(tables.association.c.id, tables.association.c.disaster_on)
            .where(tables.association.c.id.in_([a_id, b_id]))).all())
    assert flags == {a_id: True, b_id: False}
