"""The mails' personal links on a real relay over HTTPS: ``/k/TOKEN`` shows the household's
circular (or the safety check), records ``opened`` and the read mark, takes answers exactly as
the resident page does, refuses forged forms, stops the mails, answers 404 to unknown tokens,
throttles guessing, sets no cookie and puts no personal data in any URL. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sync.protocol import LogKind, OpKind, Scope
from sync.relay import mail_tables as mt
from sync.relay import resident_tables as rt
from sync.relay import tables
from sync.relay.config import Settings
from sync.relay.mail import link_text
from sync.relay.mail.links import LINK_FAILURES, link_csrf
from sync.relay.resident_text import CATALOGUES as RESIDENT_CATALOGUES
from tests.relay.relay_server import (
    RunningRelay,
    TlsFiles,
    household_op,
    pull_all,
    push,
    running_relay,
)

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_URLS = re.compile(r'(?:href|action|src)="([^"]*)"')
_SETTINGS = Settings(pair_rate_burst=10_000, pair_rate_per_second=1000.0)


@pytest.fixture(scope="module")
def sqlite_link_relay(tmp_path_factory: pytest.TempPathFactory,
                      tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A relay with the resident pages and links, for the module (each test its own
    association)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('links') / 'relay.db'}"
    with running_relay(url, tls_files, settings=_SETTINGS) as relay:
        yield relay


@pytest.fixture(scope="module")
def postgres_link_relay(postgres_url: str, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """The same on PostgreSQL."""
    with running_relay(postgres_url, tls_files, settings=_SETTINGS) as relay:
        yield relay


@pytest.fixture(params=["sqlite", "postgresql"])
def relay(request: pytest.FixtureRequest) -> RunningRelay:
    """The module's relay on SQLite and on PostgreSQL."""
    name = "sqlite_link_relay" if request.param == "sqlite" else "postgres_link_relay"
    running: RunningRelay = request.getfixturevalue(name)
    return running


def op(kind: str, **body: Any) -> dict[str, Any]:
    """An office op with a fresh id."""
    return {"id": str(uuid.uuid4()), "kind": kind, "body": body}


class Office:
    """An association with a paired office, households on e-mail and their circulars."""

    def __init__(self, relay: RunningRelay) -> None:
        self.relay = relay
        self.association_id, self.http = relay.office("桜町内会")

    def push(self, *ops: dict[str, Any]) -> None:
        results = push(self.http, list(ops))
        assert all(r["status"] == "applied" for r in results), results

    def household(self, name: str = "山田", *mail: str) -> str:
        household_id = str(uuid.uuid4())
        self.push(household_op(household_id, name=name),
                  op(OpKind.MAIL_ADDRESSES, household_id=household_id,
                     addresses=list(mail or [f"{uuid.uuid4().hex[:8]}@example.jp"])))
        return household_id

    def circular(self, households: list[str], *, ask: str = "read",
                 questions: list[dict[str, Any]] | None = None,
                 body: str = "8月1日に夏祭りを行います。\n\n雨天中止。") -> str:
        circular_id = str(uuid.uuid4())
        self.push(op(OpKind.CIRCULAR_PUBLISH, circular_id=circular_id, title="夏祭りのお知らせ",
                     body=body, issued_on="2025-07-01", issuer="会長 山田 太郎", ask=ask,
                     questions=questions or [], deadline=None, household_ids=households))
        return circular_id

    def token(self, household_id: str, *, kind: str = "circular") -> str:
        """The plaintext token of the household's newest queued mail (as the sender reads
        it)."""
        m = mt.mail_message
        with self.relay.database.read() as connection:
            token = connection.execute(
                select(m.c.link_token).where(m.c.association_id == self.association_id)
                .where(m.c.household_id == household_id).where(m.c.kind == kind)
                .where(m.c.link_token.is_not(None))
                .order_by(m.c.queued_at.desc(), m.c.round.desc()).limit(1)).scalar_one()
        assert isinstance(token, str)
        return token

    def log(self, *kinds: str) -> list[dict[str, Any]]:
        return [i for i in pull_all(self.http) if not kinds or i["kind"] in kinds]

    def count(self, table: Any, **where: Any) -> int:
        query = select(func.count()).select_from(table) \
            .where(table.c.association_id == self.association_id)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.relay.database.read() as connection:
            return int(connection.execute(query).scalar_one())


def phone(relay: RunningRelay) -> httpx.Client:
    """An old phone's browser: no redirects followed; cookies are checked to stay empty."""
    return relay.client()


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text
    return found[1]


# ---------------------------------------------------------------- opening a link


def test_the_link_shows_the_whole_circular_and_records_opened_and_read_once(
        relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household("山田", "a@example.jp", "b@example.jp")
    circular = office.circular([household], body="# 日時\n8月1日 18時から\n\n- 雨天中止\n"
                                                + "とても長い本文。" * 50)
    token = office.token(household)
    browser = phone(relay)
    assert browser.head(f"/k/{token}").status_code == 200  # a link checker: nothing read
    assert office.log(LogKind.MAIL, LogKind.READ) == []

    page = browser.get(f"/k/{token}")
    assert page.status_code == 200
    assert "夏祭りのお知らせ" in page.text and "<h3>日時</h3>" in page.text
    assert page.text.count("とても長い本文。") == 50  # the whole body, not the mail's excerpt
    assert "山田 様" in page.text and "桜町内会" in page.text
    assert 'id="confirm"' in page.text  # the read confirmation form
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "set-cookie" not in page.headers
    assert "<script" not in page.text
    browser.get(f"/k/{token.lower()}")  # opened again (and as typed in lower case)

    opened = office.log(LogKind.MAIL)
    assert [i["body"] for i in opened] == [{
        "household_id": household, "circular_id": circular, "address": "",
        "event": "opened", "detail": "", "at": opened[0]["body"]["at"]}]
    reads = office.log(LogKind.READ)
    assert [(i["body"]["household_id"], i["body"]["circular_id"]) for i in reads] == [
        (household, circular)]
    assert office.count(rt.resident_read, household_id=household) == 1
    assert office.count(mt.mail_link, household_id=household) == 1


def test_a_resent_link_opened_too_is_still_one_opened_item(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    circular = office.circular([household])
    first = office.token(household)
    office.push(op(OpKind.MAIL_RESEND, circular_id=circular, household_ids=[household]))
    second = office.token(household)
    assert first != second
    browser = phone(relay)
    assert browser.get(f"/k/{first}").status_code == 200
    assert browser.get(f"/k/{second}").status_code == 200
    assert len(office.log(LogKind.MAIL)) == 1


# ---------------------------------------------------------------- answering


def test_an_answer_by_link_is_the_resident_pages_answer(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    circular = office.circular([household], ask="attendance")
    token = office.token(household)
    browser = phone(relay)
    page = browser.get(f"/k/{token}")
    assert 'value="出席"' in page.text

    sent = browser.post(f"/k/{token}", data={"csrf": csrf_of(page), "q1": "出席"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/k/{token}?sent=1"
    assert "set-cookie" not in sent.headers
    shown = browser.get(sent.headers["location"])
    assert 'id="sent"' in shown.text

    (answer,) = office.log(LogKind.ANSWER)
    assert answer["body"]["household_id"] == household
    assert answer["body"]["circular_id"] == circular
    assert answer["body"]["answers"] == ["出席"]
    assert answer["body"]["channel"] == "email"  # logged as the resident page does, by mail
    assert office.count(rt.resident_answer, household_id=household) == 1
    # The session lent for the answer is gone: no phone holds one.
    assert office.count(tables.token, household_id=household, scope=Scope.RESIDENT.value) == 0

    wrong = browser.post(f"/k/{token}", data={"csrf": csrf_of(page), "q1": "たぶん"})
    assert wrong.status_code == 400
    assert 'id="problem"' in wrong.text
    assert len(office.log(LogKind.ANSWER)) == 1


def test_a_read_confirmation_by_link(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    office.circular([household], ask="read")
    token = office.token(household)
    browser = phone(relay)
    page = browser.get(f"/k/{token}")
    assert browser.post(f"/k/{token}", data={"csrf": csrf_of(page)}).status_code == 303
    (answer,) = office.log(LogKind.ANSWER)
    assert answer["body"]["answers"] == []
    assert 'id="confirmed"' in browser.get(f"/k/{token}").text


def test_forged_forms_are_refused(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    office.circular([household], ask="attendance")
    other = office.household("佐藤")
    office.circular([other], ask="attendance")
    token, other_token = office.token(household), office.token(other)
    browser = phone(relay)
    for fields in ({"q1": "出席"}, {"csrf": "0" * 64, "q1": "出席"},
                   {"csrf": link_csrf(other_token), "q1": "出席"}):
        refused = browser.post(f"/k/{token}", data=fields)
        assert refused.status_code == 403, fields
    as_json = browser.post(f"/k/{token}", json={"csrf": link_csrf(token), "q1": "出席"})
    assert as_json.status_code == 403
    assert office.log(LogKind.ANSWER) == []


def test_the_safety_check_by_link(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    office.push(op(OpKind.DISASTER_SET, on=True, message="地震がありました。"))
    token = office.token(household, kind="safety")
    browser = phone(relay)
    page = browser.get(f"/k/{token}")
    assert page.status_code == 200
    assert "地震がありました。" in page.text and 'value="urgent"' in page.text

    missing = browser.post(f"/k/{token}", data={"csrf": csrf_of(page)})
    assert missing.status_code == 400
    sent = browser.post(f"/k/{token}", data={"csrf": csrf_of(page), "status": "contact",
                                             "needs_help": "1", "note": "足が悪い母がいます"})
    assert sent.status_code == 303
    (safety,) = office.log(LogKind.SAFETY)
    assert {k: safety["body"][k] for k in ("household_id", "status", "needs_help", "note")} \
        == {"household_id": household, "status": "contact", "needs_help": True,
            "note": "足が悪い母がいます"}
    (opened,) = office.log(LogKind.MAIL)
    assert opened["body"]["circular_id"] is None and opened["body"]["event"] == "opened"
    assert "安否を送信しました" in browser.get(sent.headers["location"]).text

    office.push(op(OpKind.DISASTER_SET, on=False, message=""))
    closed = browser.get(f"/k/{token}")
    assert closed.status_code == 200 and "安否確認は終了しました" in closed.text


# ---------------------------------------------------------------- stopping the mails


def test_a_mail_programs_one_click_unsubscribe_needs_no_form(relay: RunningRelay) -> None:
    # RFC 8058: the mail program posts this body to the List-Unsubscribe address by itself.
    office = Office(relay)
    household = office.household("山田", "a@example.jp")
    office.circular([household])
    token = office.token(household)
    browser = phone(relay)
    assert browser.post(f"/k/{token}/stop", data={"List-Unsubscribe": "Other"}).status_code \
        == 403
    assert office.count(mt.mail_address, household_id=household, state="ok") == 1
    done = browser.post(f"/k/{token}/stop", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and done.text == "unsubscribed"
    assert office.count(mt.mail_address, household_id=household, state="unsubscribed") == 1
    (item,) = office.log(LogKind.MAIL)
    assert item["body"]["event"] == "unsubscribed"


def test_the_stop_link_asks_then_unsubscribes_every_address(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household("山田", "a@example.jp", "b@example.jp")
    office.circular([household])
    token = office.token(household)
    browser = phone(relay)
    ask = browser.get(f"/k/{token}/stop")
    assert ask.status_code == 200 and 'id="stop"' in ask.text
    assert office.count(mt.mail_address, household_id=household, state="ok") == 2  # not yet

    refused = browser.post(f"/k/{token}/stop", data={"csrf": "x"})
    assert refused.status_code == 403
    done = browser.post(f"/k/{token}/stop", data={"csrf": csrf_of(ask)})
    assert done.status_code == 303 and done.headers["location"] == f"/k/{token}/stop?done=1"
    assert 'id="stopped"' in browser.get(done.headers["location"]).text
    assert office.count(mt.mail_address, household_id=household, state="unsubscribed") == 2
    assert office.count(mt.mail_message, household_id=household, state="queued") == 0
    (item,) = office.log(LogKind.MAIL)
    assert {k: item["body"][k] for k in ("household_id", "circular_id", "address", "event")} \
        == {"household_id": household, "circular_id": None, "address": "",
            "event": "unsubscribed"}

    again = browser.post(f"/k/{token}/stop", data={"csrf": csrf_of(ask)})
    assert again.status_code == 303
    assert len(office.log(LogKind.MAIL)) == 1  # told once
    assert "すでに停止" in browser.get(f"/k/{token}/stop").text
    office.circular([household])
    assert office.count(mt.mail_message, household_id=household, state="queued") == 0
    assert browser.get(f"/k/{token}").status_code == 200  # the notice stays readable


# ---------------------------------------------------------------- what must not work or leak


def test_unknown_and_purged_tokens_get_a_plain_404(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    office.circular([household])
    token = office.token(household)
    browser = phone(relay)
    office.push(op(OpKind.HOUSEHOLD_PURGE, household_id=household))
    for path in (f"/k/{token}", f"/k/{token}/stop", "/k/ABCDEFGHJK", "/k/short",
                 "/k/%E5%B1%B1%E7%94%B0"):
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert "このリンクは使えなくなりました" in answer.text and "役員" in answer.text
    english = browser.get("/k/ABCDEFGHJK?lang=en")
    assert "no longer valid" in english.text and "officers" in english.text
    assert browser.post(f"/k/{token}", data={"csrf": link_csrf(token)}).status_code == 404


def test_a_withdrawn_circular_says_so(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    circular = office.circular([household])
    token = office.token(household)
    office.push(op(OpKind.CIRCULAR_RETRACT, circular_id=circular))
    answer = phone(relay).get(f"/k/{token}")
    assert answer.status_code == 404 and "取り下げられました" in answer.text


def test_no_personal_data_in_any_url_and_no_cookie(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household("個人情報 太郎", "taro.private@example.jp")
    circular = office.circular([household], ask="survey", questions=[
        {"text": "参加人数", "kind": "choice", "choices": ["1人", "2人"]}])
    token = office.token(household)
    secrets_ = (household, circular, office.association_id, "taro", "個人情報",
                "%E5%80%8B")  # 個 percent-encoded
    browser = phone(relay)
    urls: list[str] = [f"/k/{token}"]
    page = browser.get(urls[0])
    urls += _URLS.findall(page.text)
    sent = browser.post(f"/k/{token}", data={"csrf": csrf_of(page), "q1": "2人",
                                             "lang": "en"})
    urls.append(sent.headers["location"])
    stop = browser.get(f"/k/{token}/stop?lang=en")
    urls += _URLS.findall(stop.text)
    done = browser.post(f"/k/{token}/stop", data={"csrf": csrf_of(stop), "lang": "en"})
    urls.append(done.headers["location"])
    urls += _URLS.findall(browser.get(done.headers["location"]).text)
    for url in urls:
        assert not any(s.lower() in url.lower() for s in secrets_), url
        assert url == "/r/static/resident.css" or re.fullmatch(
            rf"/k/{token}(/stop)?(\?[a-z=0-9]+(&(amp;)?[a-z=0-9]+)*)?", url), url
    assert not browser.cookies
    assert "2人" in str(office.log(LogKind.ANSWER)[0]["body"]["answers"])


def test_the_page_speaks_english_on_request(relay: RunningRelay) -> None:
    office = Office(relay)
    household = office.household()
    office.circular([household], ask="read")
    token = office.token(household)
    browser = phone(relay)
    page = browser.get(f"/k/{token}?lang=en")
    assert 'lang="en"' in page.text and "I have read this" in page.text
    assert "Stop these e-mails" in page.text
    sent = browser.post(f"/k/{token}", data={"csrf": csrf_of(page), "lang": "en"})
    assert sent.headers["location"] == f"/k/{token}?sent=1&lang=en"


def test_guessing_tokens_is_throttled(tmp_path_factory: pytest.TempPathFactory,
                                      tls_files: TlsFiles) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('guess') / 'relay.db'}"
    with running_relay(url, tls_files, settings=_SETTINGS) as relay:
        office = Office(relay)
        household = office.household()
        office.circular([household])
        token = office.token(household)
        browser = phone(relay)
        alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        for n in range(LINK_FAILURES):
            guess = "".join(alphabet[(n * 7 + i) % 32] for i in range(10))
            assert browser.get(f"/k/{guess}").status_code == 404
        blocked = browser.get(f"/k/{token}")  # even the right one, for a while
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0


# ---------------------------------------------------------------- the words


def test_both_languages_have_the_same_words_and_placeholders() -> None:
    ja, en = link_text.CATALOGUES["ja"], link_text.CATALOGUES["en"]
    assert set(ja) == set(en)
    formatter = string.Formatter()
    for key in ja:
        fields = [{f for _t, f, _s, _c in formatter.parse(c[key]) if f} for c in (ja, en)]
        assert fields[0] == fields[1], key
    assert not set(ja) & set(RESIDENT_CATALOGUES["ja"])  # no word shadows the page's
