"""The resident page of a real relay over HTTPS: invitation codes and sessions, circulars and
their answers, general meetings' online forms, disaster mode's safety check, and that every
answer reaches the association's log (so the office pulls it) and nothing else leaks."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import string
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from sync.invitation_codes import canonical_invitation_code, join_link
from sync.protocol import LOG_PATH, OPS_PATH, hash_secret
from sync.relay import resident_tables as rt
from sync.relay import safety_process, tables
from sync.relay.config import Settings
from sync.relay.db import now, open_database, upgrade
from sync.relay.resident_text import CATALOGUES, text
from sync.relay.residents import (
    JOIN_FAILURES,
    MAX_SESSIONS,
    SESSION_COOKIE,
    GroupWriter,
    NotSignedIn,
    SafetyAnswer,
    apply_meeting_publish,
    apply_meeting_retract,
    body_blocks,
    csrf_token,
    meeting_open,
    parse_form,
)
from tests.relay.relay_server import (
    RunningRelay,
    TlsFiles,
    household_op,
    pull_all,
    push,
    running_relay,
)

SAFETY_PROCESS = safety_process.__name__
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
# Every test pairs an office of its own with the module's relay.
_SETTINGS = Settings(pair_rate_burst=10_000, pair_rate_per_second=1000.0)


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def resident_relay(tmp_path_factory: pytest.TempPathFactory,
                   tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """One relay with the resident pages for the module (each test its own association)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('residents') / 'relay.db'}"
    with running_relay(url, tls_files, settings=_SETTINGS) as relay:
        yield relay


@pytest.fixture(scope="module")
def postgres_resident_relay(postgres_url: str,
                            tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """The same on PostgreSQL."""
    with running_relay(postgres_url, tls_files, settings=_SETTINGS) as relay:
        yield relay


@pytest.fixture(params=["sqlite", "postgresql"])
def any_relay(request: pytest.FixtureRequest) -> RunningRelay:
    """The module's relay on SQLite and on PostgreSQL."""
    name = "resident_relay" if request.param == "sqlite" else "postgres_resident_relay"
    relay: RunningRelay = request.getfixturevalue(name)
    return relay


def op(kind: str, **body: Any) -> dict[str, Any]:
    """An office op with a fresh id."""
    return {"id": str(uuid.uuid4()), "kind": kind, "body": body}


class Office:
    """An association on the relay with a paired office client."""

    def __init__(self, relay: RunningRelay, name: str = "桜町内会") -> None:
        self.relay = relay
        self.association_id, self.http = relay.office(name)

    def push(self, *ops: dict[str, Any]) -> None:
        results = push(self.http, list(ops))
        assert all(r["status"] == "applied" for r in results), results

    def household(self, name: str = "山田", *, group: str = "1班",
                  code: str | None = None) -> tuple[str, str]:
        """A household with an invitation; returns its id and the code."""
        household_id = str(uuid.uuid4())
        code = code or f"K{uuid.uuid4().hex[:11].upper()}"
        upsert = household_op(household_id, name=name)
        upsert["body"]["group_name"] = group
        self.push(upsert, op("invitation.issue", household_id=household_id,
                             code_hash=hash_secret(canonical_invitation_code(code))))
        return household_id, code

    def circular(self, households: list[str], *, ask: str = "nothing", title: str = "お知らせ",
                 body: str = "本文", questions: list[dict[str, Any]] | None = None,
                 deadline: str | None = None) -> str:
        circular_id = str(uuid.uuid4())
        self.push(op("circular.publish", circular_id=circular_id, title=title, body=body,
                     issued_on="2025-07-01", issuer="会長 山田 太郎", ask=ask,
                     questions=questions or [], deadline=deadline, household_ids=households))
        return circular_id

    def log(self, *kinds: str) -> list[dict[str, Any]]:
        items = pull_all(self.http)
        return [i for i in items if not kinds or i["kind"] in kinds]

    def meeting(self, households: list[str], *, online: bool = True,
                held_on: date | None = None, deadline: date | None = None,
                items: int = 2) -> tuple[str, list[str]]:
        """A general meeting published as ``meeting.publish`` would (the office API does not
        route that op yet: the handler is applied directly)."""
        meeting_id = str(uuid.uuid4())
        agenda = [{"item_id": str(uuid.uuid4()), "title": f"第{n}号議案"}
                  for n in range(1, items + 1)]
        held = held_on or date.today() + timedelta(days=14)
        with self.relay.database.write() as connection:
            apply_meeting_publish(connection, self.association_id, {
                "meeting_id": meeting_id, "title": "令和7年度 定期総会", "body": "場所: 集会所",
                "held_on": held.isoformat(),
                "deadline": deadline.isoformat() if deadline else None,
                "online_forms": online, "items": agenda, "household_ids": households,
            }, now())
        return meeting_id, [item["item_id"] for item in agenda]


class Phone:
    """A resident's browser: cookies kept, redirects not followed, forms sent with the token
    of the page they are on."""

    def __init__(self, relay: RunningRelay) -> None:
        self.http = relay.client()

    def join(self, code: str) -> httpx.Response:
        page = self.http.get("/r/join", params={"code": code})
        assert page.status_code == 200
        return self.http.post("/r/join", data={"csrf": csrf_of(page), "code": code})

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def send(self, path: str, fields: dict[str, str], *, page: str | None = None
             ) -> httpx.Response:
        shown = self.http.get(page or path)
        return self.http.post(path, data={"csrf": csrf_of(shown), **fields})

    @property
    def token(self) -> str:
        value = self.http.cookies.get(SESSION_COOKIE)
        assert value
        return value


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text
    return found[1]


def signed_in(relay: RunningRelay, office: Office, name: str = "山田",
              group: str = "1班") -> tuple[str, Phone]:
    household_id, code = office.household(name, group=group)
    phone = Phone(relay)
    assert phone.join(code).status_code == 303
    return household_id, phone


def count(relay: RunningRelay, table: Any, **where: str) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with relay.database.read() as connection:
        return int(connection.execute(query).scalar_one())


# ---------------------------------------------------------------- invitations and sessions


def test_an_invitation_code_gives_a_secure_session_stored_hashed(
        resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, code = office.household("山田", group="3班")
    phone = Phone(resident_relay)
    answer = phone.join(code)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/r/"
    cookie = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith(SESSION_COOKIE + "="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)
    with resident_relay.database.read() as connection:
        row = connection.execute(select(tables.token).where(
            tables.token.c.token_hash == hashlib.sha256(phone.token.encode()).hexdigest())
        ).one()
        assert phone.token not in connection.execute(
            select(tables.token.c.token_hash)).scalars().all()
    assert (row.scope, row.household_id, row.association_id) == (
        "resident", household_id, office.association_id)
    home = phone.get("/r/")
    assert home.status_code == 200
    assert "山田 様" in home.text and "3班" in home.text and "桜町内会" in home.text


def test_the_qr_link_fills_in_the_code_and_typed_variants_match(
        resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    _household, code = office.household(code="ABCD-EFGH-JKMN")
    link = join_link(resident_relay.url + "/", code)
    assert link == f"{resident_relay.url}/r/join?code=ABCD-EFGH-JKMN"
    phone = Phone(resident_relay)
    page = phone.http.get(link)
    assert 'value="ABCD-EFGH-JKMN"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"  # the code is in the address
    for typed in ("abcd efgh jkmn", "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ", "ABCDEFGHJKMN"):
        assert Phone(resident_relay).join(typed).status_code == 303, typed


def test_wrong_codes_are_refused_and_then_throttled(tmp_path: Any,
                                                    tls_files: TlsFiles) -> None:
    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files) as relay:
        office = Office(relay)
        _household, code = office.household()
        phone = Phone(relay)
        for _ in range(JOIN_FAILURES):
            refused = phone.join("WRONG-CODE")
            assert refused.status_code == 400
            assert text("ja", "join_unknown") in refused.text
            assert SESSION_COOKIE not in phone.http.cookies
        throttled = phone.join(code)  # even the right code waits now
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        assert count(relay, tables.token, scope="resident") == 0


def test_at_most_four_phones_per_household_and_logout_frees_one(
        resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, code = office.household()
    phones = [Phone(resident_relay) for _ in range(MAX_SESSIONS)]
    for phone in phones:
        assert phone.join(code).status_code == 303
    fifth = Phone(resident_relay)
    refused = fifth.join(code)
    assert refused.status_code == 409
    assert text("ja", "join_full", limit=MAX_SESSIONS) in refused.text

    bye = phones[0].send("/r/logout", {}, page="/r/")
    assert bye.status_code == 303
    assert bye.headers["location"] == "/r/join?bye=1"
    assert phones[0].get("/r/").headers["location"] == "/r/join"
    assert count(resident_relay, tables.token, household_id=household_id) == MAX_SESSIONS - 1
    assert fifth.join(code).status_code == 303
    # A phone entering its code again keeps its one place, with a new session.
    before = phones[1].token
    assert phones[1].join(code).status_code == 303
    assert phones[1].token != before
    assert count(resident_relay, tables.token, household_id=household_id) == MAX_SESSIONS
    # A phone trying another household that is full stays signed in where it was.
    other_id, other_code = office.household("佐藤")
    for _ in range(MAX_SESSIONS):
        assert Phone(resident_relay).join(other_code).status_code == 303
    assert phones[1].join(other_code).status_code == 409
    assert "山田 様" in phones[1].get("/r/").text
    assert count(resident_relay, tables.token, household_id=other_id) == MAX_SESSIONS


def test_a_revoked_invitation_signs_the_phones_out(resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, phone = signed_in(resident_relay, office)
    office.push(op("invitation.revoke", household_id=household_id))
    assert phone.get("/r/").status_code == 303
    assert phone.get("/r/").headers["location"] == "/r/join"
    _household, code = office.household()
    assert Phone(resident_relay).join(code).status_code == 303
    # The revoked household's old code is gone too.
    assert count(resident_relay, tables.invitation, household_id=household_id) == 0


def test_a_resident_session_on_office_endpoints_gets_403(resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    _household, phone = signed_in(resident_relay, office)
    as_bearer = resident_relay.client(phone.token)
    for answer in (as_bearer.get(LOG_PATH), as_bearer.post(OPS_PATH, json={"ops": []})):
        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"
    # The cookie alone is no office credential either.
    assert phone.http.get(LOG_PATH).status_code == 401
    # And an office token is no resident session.
    office_token = office.http.headers["authorization"].split()[1]
    stranger = resident_relay.client()
    stranger.cookies.set(SESSION_COOKIE, office_token, domain="127.0.0.1")
    assert stranger.get("/r/").headers["location"] == "/r/join"


def test_forms_without_the_page_token_are_refused(resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    _household, phone = signed_in(resident_relay, office)
    office.push(op("disaster.set", on=True, message="地震"))
    for fields in ({"status": "ok"}, {"status": "ok", "csrf": "0" * 64}):
        refused = phone.http.post("/r/safety", data=fields)
        assert refused.status_code == 403
        assert text("ja", "form_expired") in refused.text
    # Another phone's token does not fit this phone's session.
    _other, other = signed_in(resident_relay, office, "佐藤")
    refused = phone.http.post("/r/safety", data={"status": "ok", "csrf": csrf_token(other.token)})
    assert refused.status_code == 403
    # Nor does a JSON body, whatever it says.
    refused = phone.http.post("/r/safety", json={"status": "ok",
                                                  "csrf": csrf_token(phone.token)})
    assert refused.status_code == 403
    join_refused = Phone(resident_relay).http.post("/r/join", data={"code": "X", "csrf": "y"})
    assert join_refused.status_code == 403
    assert office.log("safety") == []
    assert phone.send("/r/safety", {"status": "ok"}, page="/r/").status_code == 303


def test_pages_carry_security_headers_and_escape_what_the_office_wrote(
        resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, phone = signed_in(resident_relay, office, "<b>山田</b>")
    circular_id = office.circular([household_id], title="<script>alert(1)</script>",
                                  body="# 見出し\n<img src=x onerror=alert(1)>\n- 一\n- 二")
    page = phone.get(f"/r/c/{circular_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<img" not in page.text and "<b>山田" not in page.text
    assert "<h3>見出し</h3>" in page.text and "<li>一</li>" in page.text
    headers = page.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # no JavaScript at all
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    css = phone.get("/r/static/resident.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


# ---------------------------------------------------------------- circulars and answers


def test_a_household_sees_only_its_own_circulars(resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    mine, phone = signed_in(resident_relay, office, "山田", "1班")
    theirs, _other = signed_in(resident_relay, office, "佐藤", "2班")
    for_all = office.circular([mine, theirs], title="総会のお知らせ")
    for_group_2 = office.circular([theirs], title="2班の清掃")
    elsewhere = Office(resident_relay, "別の町内会")
    foreign_household, _code = elsewhere.household()
    foreign = elsewhere.circular([foreign_household], title="よその回覧")

    home = phone.get("/r/")
    assert "総会のお知らせ" in home.text
    assert "2班の清掃" not in home.text and "よその回覧" not in home.text
    assert phone.get(f"/r/c/{for_all}").status_code == 200
    for hidden in (for_group_2, foreign, str(uuid.uuid4()), "not-a-uuid"):
        page = phone.get(f"/r/c/{hidden}")
        assert page.status_code == 404
        assert "2班の清掃" not in page.text and "よその回覧" not in page.text
    # The household's own, not another's, even with the other's id in the form.
    assert phone.send(f"/r/c/{for_group_2}", {}, page="/r/").status_code == 404

    office.push(op("circular.retract", circular_id=for_all))
    assert "総会のお知らせ" not in phone.get("/r/").text
    assert text("ja", "no_notices") in phone.get("/r/").text


def test_opening_a_circular_marks_it_read_once(any_relay: RunningRelay) -> None:
    office = Office(any_relay)
    household_id, phone = signed_in(any_relay, office)
    circular_id = office.circular([household_id], title="防災訓練")
    assert text("ja", "unread") in phone.get("/r/").text
    for _ in range(3):
        assert phone.get(f"/r/c/{circular_id}").status_code == 200
    assert text("ja", "unread") not in phone.get("/r/").text
    reads = office.log("read")
    assert len(reads) == 1
    body = reads[0]["body"]
    assert (body["circular_id"], body["household_id"]) == (circular_id, household_id)
    assert datetime.fromisoformat(body["at"]) <= datetime.now(UTC)


def test_read_confirmation_attendance_and_survey_answers_reach_the_log(
        any_relay: RunningRelay) -> None:
    office = Office(any_relay)
    household_id, phone = signed_in(any_relay, office)
    read = office.circular([household_id], ask="read", title="確認のお願い")
    attendance = office.circular([household_id], ask="attendance", title="清掃",
                                 deadline="2025-07-20")
    survey = office.circular([household_id], ask="survey", title="アンケート", questions=[
        {"text": "参加しますか", "kind": "choice", "choices": ["はい", "いいえ"]},
        {"text": "ご意見", "kind": "text", "choices": []}])

    assert phone.send(f"/r/c/{read}", {}).headers["location"] == f"/r/c/{read}?sent=1"
    confirmed = phone.get(f"/r/c/{read}?sent=1")
    assert text("ja", "answer_saved") in confirmed.text and 'id="confirmed"' in confirmed.text
    assert phone.send(f"/r/c/{attendance}", {"q1": "出席"}).status_code == 303
    assert phone.send(f"/r/c/{attendance}", {"q1": "欠席"}).status_code == 303  # a change
    assert phone.send(f"/r/c/{survey}", {"q1": "はい", "q2": "  駐輪場を\r\n広く  "}
                      ).status_code == 303

    answers = [(i["body"]["circular_id"], i["body"]["answers"]) for i in office.log("answer")]
    assert answers == [(read, []), (attendance, ["出席"]), (attendance, ["欠席"]),
                       (survey, ["はい", "駐輪場を\n広く"])]
    for item in office.log("answer"):
        assert item["body"]["channel"] == "app"
        assert item["body"]["household_id"] == household_id
        uuid.UUID(item["body"]["answer_id"])
    # The page shows the current answer; one row per household and circular.
    page = phone.get(f"/r/c/{attendance}")
    assert 'value="欠席" checked' in page.text
    assert count(any_relay, rt.resident_answer, circular_id=attendance) == 1
    assert text("ja", "answered") in phone.get("/r/").text
    # Answering counts as reading.
    assert {i["body"]["circular_id"] for i in office.log("read")} == {read, attendance, survey}


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "answer_missing"),
    ({"q1": "たぶん"}, "answer_invalid"),
    ({"q1": "はい", "q2": "長" * 501}, "answer_too_long"),
])
def test_invalid_answers_are_refused_and_nothing_is_stored(
        resident_relay: RunningRelay, fields: dict[str, str], message: str) -> None:
    office = Office(resident_relay)
    household_id, phone = signed_in(resident_relay, office)
    survey = office.circular([household_id], ask="survey", questions=[
        {"text": "参加しますか", "kind": "choice", "choices": ["はい", "いいえ"]},
        {"text": "ご意見", "kind": "text", "choices": []}])
    refused = phone.send(f"/r/c/{survey}", fields)
    assert refused.status_code == 400
    expected = {"answer_missing": text("ja", "answer_missing", question="参加しますか"),
                "answer_invalid": text("ja", "answer_invalid"),
                "answer_too_long": text("ja", "answer_too_long", limit=500)}[message]
    assert expected in refused.text
    assert office.log("answer") == []
    notice = office.circular([household_id], ask="nothing")
    assert phone.send(f"/r/c/{notice}", {"q1": "はい"}).status_code == 400


# ---------------------------------------------------------------- general meetings


def test_meeting_forms_only_where_the_office_allows_them(resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, phone = signed_in(resident_relay, office)
    paper, _items = office.meeting([household_id], online=False)
    page = phone.get(f"/r/m/{paper}")
    assert page.status_code == 200
    assert text("ja", "meeting_paper_only") in page.text and 'name="form"' not in page.text
    refused = phone.send(f"/r/m/{paper}", {"form": "attend"})
    assert refused.status_code == 403
    assert office.log("meeting_answer") == []

    past, _items = office.meeting([household_id], held_on=date.today() - timedelta(days=1))
    assert text("ja", "meeting_closed") in phone.get(f"/r/m/{past}").text
    assert phone.send(f"/r/m/{past}", {"form": "attend"}).status_code == 403


def test_attendance_proxy_and_written_vote_online(any_relay: RunningRelay) -> None:
    office = Office(any_relay)
    household_id, phone = signed_in(any_relay, office)
    meeting_id, items = office.meeting([household_id], items=2)
    page = phone.get(f"/r/m/{meeting_id}")
    assert "第1号議案" in page.text and "第2号議案" in page.text
    assert "令和7年度 定期総会" in phone.get("/r/").text

    assert phone.send(f"/r/m/{meeting_id}", {"form": "attend"}).status_code == 303
    assert phone.send(f"/r/m/{meeting_id}", {"form": "proxy", "proxy_to": " "}
                      ).status_code == 303
    assert text("ja", "meeting_answer_proxy", holder=text("ja", "chair")) in phone.get(
        f"/r/m/{meeting_id}").text
    missing = phone.send(f"/r/m/{meeting_id}", {"form": "written", f"vote_{items[0]}": "for"})
    assert missing.status_code == 400
    assert text("ja", "meeting_written_missing") in missing.text
    assert phone.send(f"/r/m/{meeting_id}", {
        "form": "written", f"vote_{items[0]}": "for", f"vote_{items[1]}": "against"}
    ).status_code == 303
    assert phone.send(f"/r/m/{meeting_id}", {"form": "maybe"}).status_code == 400

    forms = [(i["body"]["form"], i["body"]["proxy_to"], i["body"]["votes"])
             for i in office.log("meeting_answer")]
    assert forms == [("attend", None, None), ("proxy", "", None),
                     ("written", None, {items[0]: "for", items[1]: "against"})]
    assert all(i["body"]["household_id"] == household_id and i["body"]["meeting_id"]
               == meeting_id for i in office.log("meeting_answer"))
    assert count(any_relay, rt.meeting_answer, meeting_id=meeting_id) == 1

    with any_relay.database.write() as connection:
        apply_meeting_retract(connection, office.association_id, {"meeting_id": meeting_id},
                              now())
    assert phone.get(f"/r/m/{meeting_id}").status_code == 404


def test_meeting_publish_lists_only_households_the_relay_holds(
        resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, phone = signed_in(resident_relay, office)
    meeting_id, _items = office.meeting([household_id, str(uuid.uuid4())])
    assert count(resident_relay, rt.meeting_recipient, meeting_id=meeting_id) == 1
    other, other_phone = signed_in(resident_relay, office, "佐藤")
    assert other_phone.get(f"/r/m/{meeting_id}").status_code == 404
    assert other != household_id and phone.get(f"/r/m/{meeting_id}").status_code == 200


def test_meeting_op_bodies_are_checked_field_by_field() -> None:
    """What ``meeting.publish``/``meeting.retract`` accept once the office API routes them."""
    from sync.relay.residents import MEETING_OP_FIELDS

    def accepted(kind: str, body: dict[str, Any]) -> bool:
        fields = MEETING_OP_FIELDS[kind]
        return set(body) == set(fields) and all(check(body[n]) for n, check in fields.items())

    good = {"meeting_id": str(uuid.uuid4()), "title": "臨時総会", "body": "",
            "held_on": "2099-05-01", "deadline": None, "online_forms": True,
            "items": [{"item_id": str(uuid.uuid4()), "title": "規約改正"}],
            "household_ids": [str(uuid.uuid4())]}
    assert accepted("meeting.publish", good)
    assert accepted("meeting.retract", {"meeting_id": good["meeting_id"]})
    for bad in ({"online_forms": "yes"}, {"held_on": "5月1日"}, {"deadline": "2099-13-01"},
                {"items": [{"item_id": "1", "title": "x"}]},
                {"items": [{"item_id": str(uuid.uuid4()), "title": "x", "note": "y"}]},
                {"household_ids": ["not-a-uuid"]}, {"meeting_id": 7}):
        assert not accepted("meeting.publish", {**good, **bad}), bad
    assert not accepted("meeting.publish", {**good, "address": "1-2-3"})


def test_online_forms_close_at_the_end_of_the_deadline_in_japan() -> None:
    held = date(2025, 6, 22)
    jst_evening = datetime(2025, 6, 20, 14, 59, tzinfo=UTC)  # 23:59 on the 20th in Japan
    jst_midnight = datetime(2025, 6, 20, 15, 0, tzinfo=UTC)  # 00:00 on the 21st
    assert meeting_open(held, date(2025, 6, 20), jst_evening)
    assert not meeting_open(held, date(2025, 6, 20), jst_midnight)
    assert meeting_open(held, None, datetime(2025, 6, 21, 14, 59, tzinfo=UTC))
    assert not meeting_open(held, None, datetime(2025, 6, 21, 15, 0, tzinfo=UTC))


# ---------------------------------------------------------------- disaster mode


def test_disaster_mode_turns_the_page_into_the_safety_check(any_relay: RunningRelay) -> None:
    office = Office(any_relay)
    household_id, phone = signed_in(any_relay, office)
    office.circular([household_id], title="夏祭り")
    office.push(op("disaster.set", on=True, message="震度6弱の地震がありました。"))
    page = phone.get("/r/")
    assert "震度6弱の地震がありました。" in page.text
    for word in ("問題なし", "連絡要", "至急支援要", text("ja", "safety_needs_help")):
        assert word in page.text
    assert "夏祭り" not in page.text
    assert "夏祭り" in phone.get("/r/notices").text  # the notices are one tap away

    refused = phone.send("/r/safety", {"note": "家が傾いた"}, page="/r/")
    assert refused.status_code == 400
    assert text("ja", "safety_choose") in refused.text and "家が傾いた" in refused.text
    sent = phone.send("/r/safety", {"status": "urgent", "note": "祖母が動けません\n2階にいます",
                                    "needs_help": "1"}, page="/r/")
    assert sent.headers["location"] == "/r/?sent=1"
    after = phone.get("/r/?sent=1")
    assert text("ja", "safety_saved") in after.text and "至急支援要" in after.text
    assert phone.send("/r/safety", {"status": "ok"}, page="/r/").status_code == 303

    answers = [i["body"] for i in office.log("safety")]
    assert [(a["status"], a["note"], a["needs_help"]) for a in answers] == [
        ("urgent", "祖母が動けません\n2階にいます", True), ("ok", "", False)]
    assert {a["household_id"] for a in answers} == {household_id}
    assert count(any_relay, tables.log, household_id=household_id, kind="safety") == 2

    office.push(op("disaster.set", on=False, message=""))
    assert "夏祭り" in phone.get("/r/").text
    closed = phone.send("/r/safety", {"status": "ok"}, page="/r/notices")
    assert closed.headers["location"] == "/r/"
    assert len(office.log("safety")) == 2  # nothing stored while off; the record stays
    # A new disaster starts a new check: the last one's answer is not shown as current.
    office.push(op("disaster.set", on=True, message="台風"))
    assert "前回の回答" not in phone.get("/r/").text


def test_a_safety_note_is_stored_as_valid_json_whatever_it_holds(
        any_relay: RunningRelay) -> None:
    """The burst's log bodies are written out by hand: quotes, backslashes, newlines and
    non-ASCII in the note must still make JSON the office PC reads back as sent."""
    office = Office(any_relay)
    office.push(op("disaster.set", on=True, message="訓練"))
    household_id, phone = signed_in(any_relay, office)
    note = 'say "help"\\ \n\t<b>&</b> \u2028 水が出ません'
    assert phone.send("/r/safety", {"status": "contact", "note": note},
                      page="/r/").status_code == 303
    (item,) = office.log("safety")
    body: dict[str, Any] = item["body"]
    assert body["note"] == note
    assert body["household_id"] == household_id and body["needs_help"] is False
    assert count(any_relay, tables.log, household_id=household_id, kind="safety") == 1


def test_concurrent_safety_answers_are_each_stored_once_in_log_order(
        any_relay: RunningRelay) -> None:
    office = Office(any_relay)
    office.push(op("disaster.set", on=True, message="訓練"))
    phones = [signed_in(any_relay, office, f"世帯{n}") for n in range(24)]

    def answer(pair: tuple[str, Phone]) -> int:
        return pair[1].send("/r/safety", {"status": "contact"}, page="/r/").status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert list(pool.map(answer, phones)) == [303] * len(phones)
    items = office.log()
    seqs = [i["seq"] for i in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    safety = [i for i in items if i["kind"] == "safety"]
    assert sorted(i["body"]["household_id"] for i in safety) == sorted(h for h, _p in phones)
    assert count(any_relay, tables.log, association_id=office.association_id,
                 kind="safety") == 24


def _calm_and_alarmed(relay: RunningRelay) -> tuple[Office, Phone, Office, str, Phone]:
    """An association not in disaster mode with a phone, and one in disaster mode with a
    household and its phone."""
    calm = Office(relay, "平穏町内会")
    _calm_household, calm_phone = signed_in(relay, calm)
    alarmed = Office(relay)
    alarmed.push(op("disaster.set", on=True, message="地震"))
    household_id, phone = signed_in(relay, alarmed)
    return calm, calm_phone, alarmed, household_id, phone


def test_the_group_writer_keeps_each_answer_to_itself(any_relay: RunningRelay) -> None:
    """A batch with an unknown session, an association not in disaster mode and a failing
    function: each gets its own outcome, the others are stored."""
    calm, calm_phone, alarmed, _household, phone = _calm_and_alarmed(any_relay)
    writer = GroupWriter(any_relay.database)

    def broken(_connection: Any) -> None:
        raise LookupError("a bug in one request")

    outcomes = writer.commit([
        SafetyAnswer(phone.token, "ok", "", False), SafetyAnswer("stranger", "ok", "", False),
        SafetyAnswer(calm_phone.token, "ok", "", False), broken,
        SafetyAnswer(phone.token, "contact", "二度目", True)])
    assert [ok for ok, _value in outcomes] == [True, False, True, False, True]
    assert [type(value).__name__ for _ok, value in outcomes] == [
        "bool", "NotSignedIn", "bool", "LookupError", "bool"]
    assert outcomes[2][1] is False  # disaster mode is off there: nothing stored
    assert [i["body"]["status"] for i in alarmed.log("safety")] == ["ok", "contact"]
    assert calm.log("safety") == []
    # Safety answers alone take the bulk path.
    bulk = writer.commit([SafetyAnswer(phone.token, "urgent", "", True),
                          SafetyAnswer("stranger", "ok", "", False)])
    assert [ok for ok, _v in bulk] == [True, False]
    assert [i["body"]["status"] for i in alarmed.log("safety")][-1] == "urgent"


# ---------------------------------------------------------------- the safety writer process


def _children_running(module: str) -> list[int]:
    """Pids of this process's children running ``python -m module`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
        if parent == os.getpid() and module.encode() in command:
            found.append(int(entry.name))
    return found


def _refuse_thread_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(_writer: GroupWriter, _works: Any) -> Any:
        raise AssertionError("stored in the thread, not by the writer process")

    monkeypatch.setattr(GroupWriter, "commit", refused)


def test_the_writer_process_stores_a_batch_with_an_outcome_each(
        any_relay: RunningRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    calm, calm_phone, alarmed, household_id, phone = _calm_and_alarmed(any_relay)
    writer = GroupWriter(any_relay.database)
    _refuse_thread_commits(monkeypatch)

    async def burst() -> tuple[list[Any], asyncio.subprocess.Process]:
        child = await writer.ready_for_safety()
        assert child is not None
        outcomes = await asyncio.gather(*(writer.run(answer) for answer in (
            SafetyAnswer(phone.token, "urgent", '"水" が\n出ません', True),
            SafetyAnswer("stranger", "ok", "", False),
            SafetyAnswer(calm_phone.token, "ok", "", False),
            SafetyAnswer(phone.token, "contact", "", False))), return_exceptions=True)
        return outcomes, child.process

    outcomes, process = asyncio.run(burst())
    assert outcomes[0] is True and outcomes[2] is False and outcomes[3] is True
    assert isinstance(outcomes[1], NotSignedIn)
    assert process.returncode == 0  # stopped with the event loop it served
    answers = [i["body"] for i in alarmed.log("safety")]
    assert [(a["status"], a["note"], a["needs_help"]) for a in answers] == [
        ("urgent", '"水" が\n出ません', True), ("contact", "", False)]
    assert {a["household_id"] for a in answers} == {household_id}
    assert calm.log("safety") == []


def test_the_safety_page_starts_the_writer_process_and_the_relay_stops_it(
        tmp_path: Path, tls_files: TlsFiles) -> None:
    others = set(_children_running(SAFETY_PROCESS))  # the module's relays may have theirs

    def ours() -> set[int]:
        return set(_children_running(SAFETY_PROCESS)) - others

    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files,
                       settings=_SETTINGS) as relay:
        office = Office(relay)
        _household, phone = signed_in(relay, office)
        phone.get("/r/")
        assert ours() == set()  # no disaster: no process
        office.push(op("disaster.set", on=True, message="地震"))
        assert "至急支援要" in phone.get("/r/").text
        deadline = time.monotonic() + 30
        while not ours():
            assert time.monotonic() < deadline, "the writer process did not start"
            time.sleep(0.05)
        assert len(ours()) == 1
        assert phone.send("/r/safety", {"status": "ok"}, page="/r/").status_code == 303
        assert [i["body"]["status"] for i in office.log("safety")] == ["ok"]
    assert ours() == set()


def test_answers_are_stored_in_the_thread_while_the_process_cannot_start(
        resident_relay: RunningRelay, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    office = Office(resident_relay)
    office.push(op("disaster.set", on=True, message="地震"))
    _household, phone = signed_in(resident_relay, office)
    monkeypatch.setattr(safety_process, "CHILD_COMMAND", (str(tmp_path / "no-python"),))
    starts: list[str] = []
    start = safety_process.SafetyProcess.start

    async def counted(url: str) -> safety_process.SafetyProcess:
        starts.append(url)
        return await start(url)

    monkeypatch.setattr(safety_process.SafetyProcess, "start", counted)
    writer = GroupWriter(resident_relay.database)

    async def answer() -> tuple[Any, Any, bool]:
        first = await writer.ready_for_safety()
        stored = await writer.run(SafetyAnswer(phone.token, "contact", "", False))
        return first, await writer.ready_for_safety(), stored

    first, again, stored = asyncio.run(answer())
    assert first is None and again is None and stored is True
    assert len(starts) == 1  # not tried again at once
    assert [i["body"]["status"] for i in office.log("safety")] == ["contact"]


_REFUSE_BOOM = {  # a log item whose note is "boom" cannot be inserted
    "sqlite": ["CREATE TRIGGER refuse_boom BEFORE INSERT ON log WHEN NEW.body LIKE "
               "'%\"boom\"%' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN IF strpos(NEW.body::text, '\"boom\"') > 0 THEN "
                   "RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
                   "CREATE TRIGGER refuse_boom BEFORE INSERT ON log FOR EACH ROW "
                   "EXECUTE FUNCTION refuse_boom()"],
}
_ALLOW_BOOM = {"sqlite": ["DROP TRIGGER refuse_boom"],
               "postgresql": ["DROP TRIGGER refuse_boom ON log", "DROP FUNCTION refuse_boom()"]}


def test_a_batch_the_process_rolled_back_is_stored_one_by_one_in_the_thread(
        any_relay: RunningRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child answers a failed batch with an error: the thread stores it answer by
    answer, and the child goes on with the next batch on a new connection."""
    office = Office(any_relay)
    office.push(op("disaster.set", on=True, message="地震"))
    _household, phone = signed_in(any_relay, office)
    _other, other_phone = signed_in(any_relay, office, "佐藤")
    writer = GroupWriter(any_relay.database)
    dialect = any_relay.database.engine.dialect.name

    def run_sql(statements: list[str]) -> None:
        with any_relay.database.write() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)

    async def batch(*answers: SafetyAnswer) -> list[Any]:
        return await asyncio.gather(*(writer.run(a) for a in answers), return_exceptions=True)

    async def burst() -> tuple[list[Any], list[Any]]:
        assert await writer.ready_for_safety() is not None
        run_sql(_REFUSE_BOOM[dialect])
        try:
            failed = await batch(SafetyAnswer(phone.token, "ok", "", False),
                                 SafetyAnswer(other_phone.token, "ok", "boom", False))
        finally:
            run_sql(_ALLOW_BOOM[dialect])
        _refuse_thread_commits(monkeypatch)
        return failed, await batch(SafetyAnswer(other_phone.token, "contact", "later", False))

    (stored, refused), after = asyncio.run(burst())
    assert stored is True and isinstance(refused, Exception)
    assert after == [True]  # stored by the child again
    assert [i["body"]["note"] for i in office.log("safety")] == ["", "later"]


@pytest.mark.parametrize("sent", [False, True])
def test_a_batch_lost_with_the_process_is_never_stored_twice(
        resident_relay: RunningRelay, monkeypatch: pytest.MonkeyPatch, sent: bool) -> None:
    """A child that went away before taking the batch: the thread stores it. After taking
    it, the batch may be stored already: its requests fail rather than store it again."""
    office = Office(resident_relay)
    office.push(op("disaster.set", on=True, message="地震"))
    _household, phone = signed_in(resident_relay, office)
    writer = GroupWriter(resident_relay.database)

    async def gone(_process: Any, _answers: Any) -> list[int]:
        raise safety_process.ProcessGone(sent=sent)

    async def answer() -> Any:
        assert await writer.ready_for_safety() is not None
        monkeypatch.setattr(safety_process.SafetyProcess, "store", gone)
        return (await asyncio.gather(writer.run(SafetyAnswer(phone.token, "ok", "", False)),
                                     return_exceptions=True))[0]

    outcome = asyncio.run(answer())
    if sent:
        assert isinstance(outcome, safety_process.ProcessGone)
        assert office.log("safety") == []
    else:
        assert outcome is True
        assert len(office.log("safety")) == 1


def test_a_child_that_ends_after_taking_a_batch_reports_it_as_sent() -> None:
    async def exchange() -> tuple[bool, bool]:
        reads_and_ends = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; sys.stdin.buffer.read(4)",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        child = safety_process.SafetyProcess(reads_and_ends)
        with pytest.raises(safety_process.ProcessGone) as taken:
            await child.store([("token", "ok", "", False)])
        await child.close()
        with pytest.raises(safety_process.ProcessGone) as refused:
            await child.store([("token", "ok", "", False)])
        return taken.value.sent, refused.value.sent

    assert asyncio.run(exchange()) == (True, False)


def test_a_child_whose_batch_was_given_up_is_stopped() -> None:
    """A store cancelled while the child works on it: the child's answer could no longer be
    told from the next batch's, so the child is stopped."""
    async def exchange() -> int | None:
        stalls = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys, time; sys.stdin.buffer.read(4); time.sleep(60)",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        child = safety_process.SafetyProcess(stalls)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(child.store([("token", "ok", "", False)]), 0.5)
        await asyncio.wait_for(stalls.wait(), 10)
        await child.close()
        return stalls.returncode

    assert asyncio.run(exchange()) == -signal.SIGKILL


# ---------------------------------------------------------------- purge and privacy


def test_purging_a_household_removes_every_trace(any_relay: RunningRelay) -> None:
    office = Office(any_relay)
    household_id, phone = signed_in(any_relay, office)
    kept, kept_phone = signed_in(any_relay, office, "佐藤")
    survey = office.circular([household_id, kept], ask="attendance")
    meeting_id, _items = office.meeting([household_id, kept])
    office.push(op("disaster.set", on=True, message="地震"))
    for who in (phone, kept_phone):
        who.send("/r/safety", {"status": "ok"}, page="/r/")
        who.send(f"/r/c/{survey}", {"q1": "出席"})
        who.send(f"/r/m/{meeting_id}", {"form": "attend"})
    office.push(op("household.purge", household_id=household_id))

    for table in (rt.resident_answer, rt.resident_read, rt.meeting_answer,
                  rt.meeting_recipient, tables.token):
        assert count(any_relay, table, household_id=household_id) == 0, table.name
        assert count(any_relay, table, household_id=kept) > 0, table.name
    # What it answered is gone from the log too (circular.publish items still list its random
    # id among the recipients: that is the office's op, not the household's data).
    residents_items = office.log("answer", "read", "safety", "meeting_answer")
    assert {i["body"]["household_id"] for i in residents_items} == {kept}
    assert phone.get("/r/").headers["location"] == "/r/join"


def test_the_page_shows_no_roster_detail(resident_relay: RunningRelay) -> None:
    """The relay holds only the display name and the 班: the page can show nothing else."""
    office = Office(resident_relay)
    _household, phone = signed_in(resident_relay, office, "山田", "5班")
    page = phone.get("/r/").text
    assert "山田 様" in page and "5班" in page
    with resident_relay.database.read() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("household")}
    assert columns == {"association_id", "household_id", "number", "display_name",
                       "group_id", "group_name", "updated_at"}


# ---------------------------------------------------------------- language


def test_english_switch_and_no_open_redirect(resident_relay: RunningRelay) -> None:
    office = Office(resident_relay)
    household_id, phone = signed_in(resident_relay, office)
    circular_id = office.circular([household_id], ask="attendance")
    page = phone.get(f"/r/c/{circular_id}")
    assert page.text.startswith("<!doctype html>\n<html lang=\"ja\">")
    assert text("ja", "attend") in page.text
    switch = phone.get(f"/r/lang/en?next=/r/c/{circular_id}")
    assert switch.headers["location"] == f"/r/c/{circular_id}"
    english = phone.get(f"/r/c/{circular_id}")
    assert '<html lang="en">' in english.text
    assert "Attend" in english.text and "Log out" in english.text
    assert 'value="出席"' in english.text  # the stored answer stays the office's word
    for target in ("https://evil.example/", "//evil.example/", "/api/v1/log", "/r/\\evil"):
        assert phone.get(f"/r/lang/ja?next={target}").headers["location"] == "/r/"
    assert phone.get("/r/lang/fr").status_code == 303
    assert '<html lang="ja">' in phone.get("/r/").text  # unknown language: Japanese


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    def fields(value: str) -> set[str]:
        return {f for _l, f, _s, _c in string.Formatter().parse(value) if f}

    ja, en = CATALOGUES["ja"], CATALOGUES["en"]
    assert set(ja) == set(en)
    assert [k for k in ja if fields(ja[k]) != fields(en[k])] == []
    assert all(ja[k] != en[k] for k in ja)  # every string really translated
    assert text("fr", "logout") == "ログアウト"


# ---------------------------------------------------------------- pieces


def test_body_markup_becomes_blocks() -> None:
    assert body_blocks("# 見出し\n## 小見出し\n本文1\n本文2\n\n- a\n・b\n1. 一\n2) 二\n後") == (
        ("h", ("見出し",)), ("h3", ("小見出し",)), ("p", ("本文1", "本文2")),
        ("ul", ("a", "b")), ("ol", ("一", "二")), ("p", ("後",)))


def test_form_parsing_matches_what_browsers_send() -> None:
    assert parse_form(b"csrf=ab&note=%E6%B0%B4+%E3%81%8C&x=&x=2") == {
        "csrf": "ab", "note": "水 が", "x": "2"}
    assert parse_form(b"") == {}
    assert parse_form("note=水".encode()) is None  # browsers percent-encode
    assert parse_form(b"&".join([b"a=1"] * 201)) is None
    assert parse_form(b"bad=%ff") == {"bad": "\ufffd"}


def test_invitation_codes_are_hashed_as_typed_on_paper() -> None:
    assert canonical_invitation_code(" abcd-efgh　ｊｋ ") == "ABCDEFGHJK"


# ---------------------------------------------------------------- schema


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """An empty relay database of its own (PostgreSQL: a fresh database, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'schema.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(request.getfixturevalue("postgres_url"))
    name = f"kairan_schema_{uuid.uuid4().hex[:12]}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_0002_matches_the_tables_and_downgrades(empty_database_url: str) -> None:
    from alembic import command

    from sync.relay.db import alembic_config

    database = open_database(empty_database_url)
    resident_names = {t.name for t in (rt.resident_answer, rt.resident_read, rt.meeting,
                                       rt.meeting_recipient, rt.meeting_answer)}
    try:
        upgrade(database)
        with database.read() as connection:
            assert compare_metadata(MigrationContext.configure(connection),
                                    tables.metadata) == []
            assert resident_names <= set(inspect(connection).get_table_names())
        with database.write() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        with database.read() as connection:
            assert resident_names.isdisjoint(inspect(connection).get_table_names())
        upgrade(database)
    finally:
        database.dispose()
