"""``meeting.publish`` and ``meeting.retract`` through the office API of a real relay over
HTTPS: checked like every op, applied once in op order after the batch's households, logged,
and shown (or no longer) on the resident page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from sync.relay import resident_tables as rt
from sync.relay.config import Settings
from tests.relay.relay_server import RunningRelay, TlsFiles, household_op, push, running_relay
from tests.relay.test_residents import Office, count, op, signed_in

_SETTINGS = Settings(pair_rate_burst=10_000, pair_rate_per_second=1000.0)


@pytest.fixture(scope="module")
def meeting_relay(tmp_path_factory: pytest.TempPathFactory,
                  tls_files: TlsFiles) -> Iterator[RunningRelay]:
    url = f"sqlite:///{tmp_path_factory.mktemp('meetings') / 'relay.db'}"
    with running_relay(url, tls_files, settings=_SETTINGS) as relay:
        yield relay


def _publish(households: list[str], *, meeting_id: str | None = None, online: bool = True,
             **change: Any) -> dict[str, Any]:
    return op("meeting.publish", **{
        "meeting_id": meeting_id or str(uuid.uuid4()), "title": "令和8年度 定期総会",
        "body": "場所：集会所", "held_on": (date.today() + timedelta(days=14)).isoformat(),
        "deadline": None, "online_forms": online,
        "items": [{"item_id": str(uuid.uuid4()), "title": "事業報告"}],
        "household_ids": households, **change})


def test_a_meeting_published_through_the_office_api_takes_online_forms(
        meeting_relay: RunningRelay) -> None:
    office = Office(meeting_relay)
    household_id, phone = signed_in(meeting_relay, office)
    # A household sent in the same batch as the meeting is on its list (households first),
    # and the meeting's ids are kept in one case whatever the office sent.
    newcomer = str(uuid.uuid4())
    publish = _publish([household_id.upper(), newcomer])
    meeting_id = publish["body"]["meeting_id"]
    publish["body"]["meeting_id"] = meeting_id.upper()
    [upserted, published] = push(office.http, [household_op(newcomer), publish])
    assert (upserted["status"], published["status"]) == ("applied", "applied")
    assert count(meeting_relay, rt.meeting_recipient, meeting_id=meeting_id) == 2
    assert push(office.http, [publish])[0]["status"] == "duplicate"
    [logged] = office.log("meeting.publish")
    assert logged["body"]["meeting_id"] == meeting_id

    item_id = publish["body"]["items"][0]["item_id"]
    assert phone.send(f"/r/m/{meeting_id}", {"form": "written", f"vote_{item_id}": "for"}
                      ).status_code == 303
    [answer] = office.log("meeting_answer")
    assert answer["body"]["votes"] == {item_id: "for"}

    # Retracted (and a purge in the same batch): the page and its forms are gone.
    assert [r["status"] for r in push(office.http, [
        op("meeting.retract", meeting_id=meeting_id),
        op("household.purge", household_id=newcomer)])] == ["applied", "applied"]
    assert phone.get(f"/r/m/{meeting_id}").status_code == 404
    assert count(meeting_relay, rt.meeting, meeting_id=meeting_id) == 0
    assert count(meeting_relay, rt.meeting_answer, meeting_id=meeting_id) == 0


def test_meeting_ops_apply_in_op_order_within_a_batch(meeting_relay: RunningRelay) -> None:
    office = Office(meeting_relay)
    household_id, _phone = signed_in(meeting_relay, office)
    meeting_id = str(uuid.uuid4())
    results = push(office.http, [
        _publish([household_id], meeting_id=meeting_id, online=False),
        op("meeting.retract", meeting_id=meeting_id),
        _publish([household_id], meeting_id=meeting_id, title="臨時総会"),
        op("meeting.retract", meeting_id=str(uuid.uuid4())),  # nothing to retract: harmless
    ])
    assert [r["status"] for r in results] == ["applied"] * 4
    with meeting_relay.database.read() as connection:
        rows = connection.execute(rt.meeting.select().where(
            rt.meeting.c.meeting_id == meeting_id)).all()
    assert [(row.title, row.online_forms) for row in rows] == [("臨時総会", True)]
    assert [i["kind"] for i in office.log("meeting.publish", "meeting.retract")] == [
        "meeting.publish", "meeting.retract", "meeting.publish", "meeting.retract"]


@pytest.mark.parametrize(("change", "words"), [
    ({"online_forms": "yes"}, "online_forms"),
    ({"items": [{"item_id": "1", "title": "x"}]}, "items"),
    ({"voter_names": ["山田"]}, "voter_names"),
    ({"held_on": "5月1日"}, "held_on"),
])
def test_bad_meeting_bodies_are_rejected_alone(meeting_relay: RunningRelay,
                                               change: dict[str, Any], words: str) -> None:
    office = Office(meeting_relay)
    household_id, _phone = signed_in(meeting_relay, office)
    bad = _publish([household_id], **change)
    good = _publish([household_id])
    rejected, applied = push(office.http, [bad, good])
    assert (rejected["status"], rejected["code"]) == ("rejected", "invalid_body")
    assert words in rejected["message"]
    assert applied["status"] == "applied"
    assert count(meeting_relay, rt.meeting, meeting_id=bad["body"]["meeting_id"]) == 0
