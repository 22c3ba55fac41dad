"""The relay's mail sender against a real SMTP server (aiosmtpd on 127.0.0.1): every mail
delivered exactly once through greylisting, flaky and vanishing servers, timeouts and a
``kill -9`` of the sender; 5xx bounces; login refused; the steady rate; the log items for the
office; the settings' refusals; the command line; migration 0006.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from sync.relay import mail_tables as mt
from sync.relay import tables
from sync.relay.cli import main as relay_cli
from sync.relay.db import Database, as_utc, head_revision, now, open_database, upgrade
from sync.relay.mail import queue
from sync.relay.mail.bounce import record_bounce
from sync.relay.mail.sender import BackgroundSender, MailSender, ServerRefused, ServerUnreachable
from sync.relay.mail.settings import MailSettings, checked, read_password
from tests.relay.mail_support import (
    Sink,
    add_circular,
    add_households,
    free_port,
    new_association,
    queue_mails,
    set_disaster,
    smtp_server,
)
from tests.relay.relay_server import TlsFiles, migrated_database

FROM = "kairan@relay.example.jp"
BASE = "https://relay.example.jp"
REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated relay database on SQLite and on PostgreSQL."""
    with migrated_database(database_url) as opened:
        _empty_mail_tables(opened)
        yield opened


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    """A migrated relay database on SQLite (for the tests of one backend)."""
    with migrated_database(sqlite_url) as opened:
        yield opened


def _empty_mail_tables(database: Database) -> None:
    # The PostgreSQL database lives for the session: each test starts with an empty queue.
    with database.write() as connection:
        for table in (mt.mail_message, mt.mail_link, mt.mail_address):
            connection.execute(table.delete())


def settings(port: int, **changes: Any) -> MailSettings:
    """Plain SMTP to 127.0.0.1, fast retries, no pause between mails."""
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "security": "none", "from_address": FROM,
        "base_url": BASE, "rate_per_minute": 600_000, "timeout_seconds": 2.0,
        "retry_base_seconds": 0.01, "retry_cap_seconds": 0.05, "max_attempts": 6,
        "lease_seconds": 30.0, "poll_seconds": 0.02, "batch_size": 20,
    }
    values.update(changes)
    return checked(**values)


def seed(database: Database, count: int, *, domain: str = "example.jp",
         **circular: Any) -> tuple[str, list[Any], str]:
    """An association with ``count`` households, each with one address and one queued mail
    of a circular; (association_id, mails, circular_id)."""
    association_id = new_association(database)
    households = add_households(database, association_id,
                                [f"user{n}@{domain}" for n in range(count)])
    circular_id = add_circular(database, association_id, [h for h, _a in households],
                               **circular)
    mails = queue_mails(database, association_id, households, circular_id=circular_id)
    return association_id, mails, circular_id


def states(database: Database) -> dict[str, str]:
    """Message-ID → state of every mail."""
    with database.read() as connection:
        return {row.message_id: row.state for row in connection.execute(
            select(mt.mail_message.c.message_id, mt.mail_message.c.state))}


def mail_items(database: Database, association_id: str) -> list[tuple[int, dict[str, Any]]]:
    """The association's ``mail`` log items, (seq, body) in order."""
    with database.read() as connection:
        rows = connection.execute(
            select(tables.log.c.seq, tables.log.c.body, tables.log.c.household_id)
            .where(tables.log.c.association_id == association_id,
                   tables.log.c.kind == "mail").order_by(tables.log.c.seq)).all()
    items = []
    for seq, body, household_id in rows:
        parsed = json.loads(body)
        assert parsed["household_id"] == household_id  # purge removes the item with it
        items.append((seq, parsed))
    return items


def run_until(sender: MailSender, done: Any, timeout: float = 20.0) -> None:
    """Run ``sender`` in a thread until ``done()`` holds (or the timeout passes)."""
    thread = threading.Thread(target=sender.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not done() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sender.stop.set()
        thread.join(10)
    assert done(), "the sender did not finish in time"


def settled(database: Database) -> bool:
    """Whether every mail has its outcome (none queued or being sent)."""
    return not set(states(database).values()) & {"queued", "sending"}


def deliver_all(database: Database, chosen: MailSettings) -> MailSender:
    """Run a sender until every mail has its outcome, retries included."""
    sender = MailSender(database, chosen, report=quiet)
    run_until(sender, lambda: settled(database))
    return sender


def assert_each_once(sink: Sink, mails: list[Any]) -> None:
    counts = sink.counts()
    assert {mail.message_id: counts[mail.message_id] for mail in mails} == {
        mail.message_id: 1 for mail in mails}
    assert sum(counts.values()) == len(mails)


def quiet(_message: str) -> None:
    """A report callback that keeps the test output clean."""


def tls_server_context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    return context


# ------------------------------------------------------------------ delivery


def test_mails_go_out_over_starttls_with_login_and_are_recorded(
        database: Database, tls_files: TlsFiles) -> None:
    association_id, mails, circular_id = seed(database, 5)
    sink = Sink()
    with smtp_server(sink, tls=tls_server_context(tls_files),
                     users={"kairan": "s3cret"}) as server:
        chosen = settings(server.port, security="starttls", user="kairan", password="s3cret",
                          ca_file=tls_files.ca_file)
        tally = MailSender(database, chosen, report=quiet).drain()
    assert (tally.sent, tally.retrying, tally.bounced) == (5, 0, 0)
    assert_each_once(sink, mails)
    first = sink.received[0]
    assert first.sender == FROM
    parsed = message_from_bytes(first.data)
    assert str(make_header(decode_header(parsed["Subject"]))) == "【要返信】夏祭りのお知らせ"
    assert parsed.get_content_charset() == "iso-2022-jp"
    # Recorded: sent, the token gone, one ``sent`` item per mail for the office, in order.
    with database.read() as connection:
        rows = connection.execute(select(mt.mail_message)).all()
    assert {(row.state, row.link_token, row.attempts) for row in rows} == {("sent", None, 1)}
    items = mail_items(database, association_id)
    assert len(items) == 5
    assert [seq for seq, _body in items] == sorted(seq for seq, _body in items)
    addresses = {mail.address for mail in mails}
    for _seq, body in items:
        assert body["event"] == "sent" and body["circular_id"] == circular_id
        assert body["address"] in addresses and body["detail"].startswith("250")
        assert set(body) == {"household_id", "circular_id", "address", "event", "detail", "at"}


def test_implicit_tls_is_verified_against_the_ca(sqlite_db: Database,
                                                 tls_files: TlsFiles) -> None:
    _association, mails, _circular = seed(sqlite_db, 2)
    sink = Sink()
    port = free_port()
    from aiosmtpd.controller import Controller

    controller = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="localhost",
                            ssl_context=tls_server_context(tls_files), ready_timeout=10)
    controller.start()
    try:
        untrusted = settings(port, security="tls")  # the system's CAs do not know it
        with pytest.raises(ServerRefused, match="cannot be verified"):
            MailSender(sqlite_db, untrusted, report=quiet).drain()
        assert set(states(sqlite_db).values()) == {"queued"}
        MailSender(sqlite_db, settings(port, security="tls", ca_file=tls_files.ca_file),
                   report=quiet).drain()
    finally:
        controller.stop()
    assert_each_once(sink, mails)


def test_login_refused_loses_nothing_and_says_what_to_check(
        sqlite_db: Database, tls_files: TlsFiles) -> None:
    association_id, mails, _circular = seed(sqlite_db, 4)
    sink = Sink()
    with smtp_server(sink, tls=tls_server_context(tls_files),
                     users={"kairan": "right"}) as server:
        wrong = settings(server.port, security="starttls", user="kairan", password="wrong",
                         ca_file=tls_files.ca_file)
        with pytest.raises(ServerRefused) as refused:
            MailSender(sqlite_db, wrong, report=quiet).drain()
        assert "kairan" in refused.value.message and "wrong" not in refused.value.message
        assert "KAIRAN_SMTP_PASSWORD" in refused.value.message
        with sqlite_db.read() as connection:
            rows = connection.execute(select(mt.mail_message)).all()
        assert {(row.state, row.attempts, row.lease_until) for row in rows} == {
            ("queued", 0, None)}
        assert mail_items(sqlite_db, association_id) == []
        right = settings(server.port, security="starttls", user="kairan", password="right",
                         ca_file=tls_files.ca_file)
        MailSender(sqlite_db, right, report=quiet).drain()
    assert_each_once(sink, mails)


def test_greylisting_451_is_retried_later_with_the_same_message(database: Database) -> None:
    _association, mails, _circular = seed(database, 6)
    seen: set[str] = set()

    async def greylist(address: str) -> str | None:
        if address not in seen:  # the first try of each address is deferred
            seen.add(address)
            return "451 4.7.1 Greylisted, please try again later"
        return None

    sink = Sink(on_rcpt=greylist)
    with smtp_server(sink) as server:
        sender = deliver_all(database, settings(server.port))
    assert_each_once(sink, mails)
    assert sender.tally.retrying == 6 and sender.tally.sent == 6
    with database.read() as connection:
        assert set(connection.execute(select(mt.mail_message.c.attempts)).scalars()) == {2}


def test_a_server_failing_every_other_attempt_delivers_each_mail_once(
        database: Database) -> None:
    _association, mails, _circular = seed(database, 12)
    calls = 0

    async def every_other(_message_id: str) -> str | None:
        nonlocal calls
        calls += 1
        return "451 4.3.0 Temporary failure, try again" if calls % 2 == 1 else None

    sink = Sink(on_data=every_other)
    with smtp_server(sink) as server:
        deliver_all(database, settings(server.port))
    assert_each_once(sink, mails)
    assert len(sink.attempts) == 24


def test_a_server_dropping_every_other_connection_mid_mail(sqlite_db: Database) -> None:
    _association, mails, _circular = seed(sqlite_db, 8)
    calls = 0

    async def drop(_message_id: str) -> str | None:
        nonlocal calls
        calls += 1
        return "421 4.3.2 Service shutting down" if calls % 2 == 1 else None

    sink = Sink(on_data=drop)
    with smtp_server(sink) as server:
        deliver_all(sqlite_db, settings(server.port))
    assert_each_once(sink, mails)


def test_the_server_going_down_mid_batch_and_coming_back(database: Database) -> None:
    _association, mails, _circular = seed(database, 30)
    sink = Sink()
    port = free_port()
    reports: list[str] = []

    async def slow(_message_id: str) -> str | None:
        await asyncio.sleep(0.005)
        return None

    sink.on_data = slow
    sender = MailSender(database, settings(port, batch_size=30), report=reports.append)
    thread = threading.Thread(target=sender.run, daemon=True)
    with smtp_server(sink, port=port):
        thread.start()
        assert sink.wait_for(10)
    # Down: the connection is gone mid-batch; the sender retries with backoff.
    time.sleep(0.3)
    assert len(sink.received) < 30
    with smtp_server(sink, port=port):
        sink.wait_for(30)
        deadline = time.monotonic() + 20
        while set(states(database).values()) != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.02)
    sender.stop.set()
    thread.join(10)
    assert_each_once(sink, mails)
    assert any("mail server" in report for report in reports)


def test_timeouts_are_retried_and_deliver_once(sqlite_db: Database) -> None:
    _association, mails, _circular = seed(sqlite_db, 4)
    stalled: set[str] = set()

    async def stall_once(address: str) -> str | None:
        if address == mails[1].address and address not in stalled:
            stalled.add(address)
            await asyncio.sleep(1.5)  # longer than the sender waits
        return None

    sink = Sink(on_rcpt=stall_once)
    with smtp_server(sink) as server:
        deliver_all(sqlite_db, settings(server.port, timeout_seconds=0.5))
    assert_each_once(sink, mails)
    with sqlite_db.read() as connection:
        tried = connection.execute(select(mt.mail_message.c.attempts).where(
            mt.mail_message.c.message_id == mails[1].message_id)).scalar_one()
    assert tried >= 2


def test_a_server_that_never_greets_times_out_and_loses_nothing(sqlite_db: Database) -> None:
    _association, _mails, _circular = seed(sqlite_db, 2)
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        port = mute.getsockname()[1]
        sender = MailSender(sqlite_db, settings(port, timeout_seconds=0.2), report=quiet)
        with pytest.raises(ServerUnreachable, match="no answer in time"):
            sender.drain()
    with sqlite_db.read() as connection:
        rows = connection.execute(select(mt.mail_message)).all()
    assert {(row.state, row.attempts) for row in rows} == {("queued", 0)}


def test_a_server_asking_the_sender_to_wait_pauses_the_batch(sqlite_db: Database) -> None:
    _association, mails, _circular = seed(sqlite_db, 10)
    refused = 0

    async def slow_down(_sender: str) -> str | None:
        nonlocal refused
        if refused < 2:
            refused += 1
            return "451 4.7.0 Too many messages, slow down"
        return None

    sink = Sink(on_mail=slow_down)
    reports: list[str] = []
    with smtp_server(sink) as server:
        sender = MailSender(sqlite_db, settings(server.port), report=reports.append)
        run_until(sender, lambda: settled(sqlite_db))
    assert_each_once(sink, mails)
    assert sum("asks to wait" in report for report in reports) == 2
    with sqlite_db.read() as connection:
        tries = sorted(connection.execute(select(mt.mail_message.c.attempts)).scalars())
    assert tries[-1] <= 3 and sum(tries) == 12  # the others were not charged a try


def test_a_refused_sender_address_loses_nothing(sqlite_db: Database) -> None:
    association_id, _mails, _circular = seed(sqlite_db, 3)

    async def refuse(_sender: str) -> str:
        return "553 5.7.1 Sender address rejected: not owned by user"

    with (smtp_server(Sink(on_mail=refuse)) as server,
          pytest.raises(ServerRefused, match="refuses the sender address")):
        MailSender(sqlite_db, settings(server.port), report=quiet).drain()
    with sqlite_db.read() as connection:
        rows = connection.execute(select(mt.mail_message)).all()
        addresses = set(connection.execute(select(mt.mail_address.c.state)).scalars())
    assert {(row.state, row.attempts) for row in rows} == {("queued", 0)}
    assert addresses == {"ok"}  # not the households' fault
    assert mail_items(sqlite_db, association_id) == []


def test_the_database_going_away_is_waited_out(sqlite_db: Database,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    _association, mails, _circular = seed(sqlite_db, 3)
    real = queue.any_due
    calls = 0

    def flaky(database: Database) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real(database)

    monkeypatch.setattr(queue, "any_due", flaky)
    sink = Sink()
    reports: list[str] = []
    with smtp_server(sink) as server:
        sender = MailSender(sqlite_db, settings(server.port), report=reports.append)
        run_until(sender, lambda: settled(sqlite_db))
    assert_each_once(sink, mails)
    assert any("database is not answering" in report for report in reports)


def test_unreachable_server_loses_nothing(sqlite_db: Database) -> None:
    _association, _mails, _circular = seed(sqlite_db, 3)
    sender = MailSender(sqlite_db, settings(free_port()), report=quiet)
    with pytest.raises(ServerUnreachable, match="Cannot reach the mail server"):
        sender.drain()
    assert set(states(sqlite_db).values()) == {"queued"}


def test_temporary_trouble_gives_up_as_failed_after_the_last_attempt(
        sqlite_db: Database) -> None:
    association_id, mails, _circular = seed(sqlite_db, 1)

    async def always_later(_address: str) -> str:
        return "452 4.2.2 Mailbox full"

    with smtp_server(Sink(on_rcpt=always_later)) as server:
        deliver_all(sqlite_db, settings(server.port, max_attempts=3))
    assert states(sqlite_db) == {mails[0].message_id: "failed"}
    (_seq, item), = mail_items(sqlite_db, association_id)
    assert item["event"] == "failed" and "452" in item["detail"]
    with sqlite_db.read() as connection:
        row = connection.execute(select(mt.mail_message)).one()
        address = connection.execute(select(mt.mail_address.c.state)).scalar_one()
    assert (row.attempts, row.link_token, address) == (3, None, "ok")


def test_5xx_bounces_the_address_for_good(database: Database) -> None:
    association_id, mails, circular_id = seed(database, 3)
    gone = mails[1].address
    # A second mail already waits for the address that will bounce.
    household = mails[1].household_id
    later = queue_mails(database, association_id, [(household, gone)],
                        circular_id=circular_id, round_=1,
                        at=now() + timedelta(seconds=0.5))

    async def unknown(address: str) -> str | None:
        return "550 5.1.1 User unknown" if address == gone else None

    sink = Sink(on_rcpt=unknown)
    with smtp_server(sink) as server:
        MailSender(database, settings(server.port), report=quiet).drain()
        time.sleep(0.6)
        MailSender(database, settings(server.port), report=quiet).drain()
    assert sorted(sink.counts()) == sorted(m.message_id for m in mails if m.address != gone)
    found = states(database)
    assert found[mails[1].message_id] == "bounced"
    assert found[later[0].message_id] == "cancelled"
    with database.read() as connection:
        address = connection.execute(select(mt.mail_address).where(
            mt.mail_address.c.address == gone)).one()
    assert address.state == "bounced" and "User unknown" in address.state_detail
    bounced = [body for _seq, body in mail_items(database, association_id)
               if body["event"] == "bounced"]
    assert bounced == [{"household_id": household, "circular_id": circular_id,
                        "address": gone, "event": "bounced",
                        "detail": "550 5.1.1 User unknown", "at": bounced[0]["at"]}]


def test_mails_that_may_no_longer_go_out_are_cancelled(sqlite_db: Database) -> None:
    association_id, mails, _circular = seed(sqlite_db, 3)
    safety = queue_mails(sqlite_db, association_id,
                         [(mails[0].household_id, mails[0].address)], circular_id=None)
    with sqlite_db.write() as connection:  # the household said stop; the circular is gone
        connection.execute(update(mt.mail_address).where(
            mt.mail_address.c.address == mails[1].address).values(state="unsubscribed"))
    sink = Sink()
    with smtp_server(sink) as server:
        other = add_circular(sqlite_db, association_id, [])
        moved = queue_mails(sqlite_db, association_id,
                            [(mails[2].household_id, mails[2].address)], circular_id=other,
                            round_=3)
        with sqlite_db.write() as connection:
            connection.execute(tables.circular.delete().where(
                tables.circular.c.circular_id == other))
        tally = MailSender(sqlite_db, settings(server.port), report=quiet).drain()
    found = states(sqlite_db)
    assert found[mails[1].message_id] == "cancelled"  # unsubscribed
    assert found[moved[0].message_id] == "cancelled"  # circular retracted
    assert found[safety[0].message_id] == "cancelled"  # disaster mode is off
    assert tally.cancelled == 3 and tally.sent == 2
    assert set(sink.counts()) == {mails[0].message_id, mails[2].message_id}


def test_the_safety_check_mail_while_disaster_mode_is_on(sqlite_db: Database) -> None:
    association_id = new_association(sqlite_db)
    households = add_households(sqlite_db, association_id, ["a@example.jp"])
    set_disaster(sqlite_db, association_id, on=True, message="地震がありました。")
    (mail,) = queue_mails(sqlite_db, association_id, households, circular_id=None)
    sink = Sink()
    with smtp_server(sink) as server:
        MailSender(sqlite_db, settings(server.port), report=quiet).drain()
    parsed = message_from_bytes(sink.received[0].data)
    assert str(make_header(decode_header(parsed["Subject"]))) == "【要返信】安否確認のお願い"
    text = parsed.get_payload(decode=True).decode("iso2022_jp")
    assert "地震がありました。" in text and f"{BASE}/k/{mail.link_token}" in text
    (_seq, item), = mail_items(sqlite_db, association_id)
    assert item["circular_id"] is None and item["event"] == "sent"


def test_the_rate_is_steady(sqlite_db: Database) -> None:
    seed(sqlite_db, 6)
    moments: list[float] = []

    async def clock(_message_id: str) -> None:
        moments.append(time.monotonic())

    with smtp_server(Sink(on_data=clock)) as server:
        MailSender(sqlite_db, settings(server.port, rate_per_minute=600), report=quiet).drain()
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert len(moments) == 6
    assert min(gaps) >= 0.05  # one mail every 0.1 s, never a burst
    assert moments[-1] - moments[0] >= 0.45


# ------------------------------------------------------------------ crashes


def test_an_expired_lease_is_resent_with_the_same_message_id_and_bytes(
        database: Database) -> None:
    """The limit, shown: a sender that died after the server's 250 but before recording it
    leaves its mail leased; once the lease runs out the next sender sends the very same mail
    (same Message-ID, same bytes) — the one window in which a mailbox may get it twice."""
    _association, mails, _circular = seed(database, 1)
    sink = Sink()
    with smtp_server(sink) as server:
        chosen = settings(server.port, lease_seconds=0.3, timeout_seconds=0.05,
                          rate_per_minute=60_000)
        sender = MailSender(database, chosen, report=quiet)
        (claimed,), _cancelled = queue.claim(database, limit=5, lease_seconds=0.3)
        sender.connection.open()
        sender.connection.send(FROM, claimed.address, _bytes_of(claimed, chosen))
        sender.connection.close()  # ... and the process dies here, nothing recorded
        assert MailSender(database, chosen, report=quiet).drain().sent == 0  # still leased
        time.sleep(0.35)
        assert MailSender(database, chosen, report=quiet).drain().sent == 1
    first, second = sink.received
    assert first.message_id == second.message_id == mails[0].message_id
    assert first.data == second.data
    assert states(database) == {mails[0].message_id: "sent"}


def _bytes_of(claimed: queue.Claimed, chosen: MailSettings) -> bytes:
    from sync.relay.mail.compose import compose

    return compose(claimed.content, from_address=chosen.from_address, charset=chosen.charset,
                   base_url=chosen.base_url)


def _wait_for_leases_to_run_out(database: Database) -> None:
    with database.read() as connection:
        last = connection.execute(select(func.max(mt.mail_message.c.lease_until))).scalar()
    if last is not None:
        time.sleep(max(0.0, (as_utc(last) - now()).total_seconds()) + 0.05)


def _sender_command(url: str, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sync.relay.cli", "--lang", "en", "mail", "send", "--db", url,
            "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-security", "none",
            "--mail-from", FROM, "--mail-base-url", BASE, "--mail-rate", "600000",
            "--smtp-timeout", "0.3", "--mail-retry-base", "0.01", "--mail-lease", "0.5",
            *extra]


def test_kill_9_mid_batch_then_restart_delivers_every_mail_once(database_url: str) -> None:
    database = open_database(database_url)
    upgrade(database)
    _empty_mail_tables(database)
    _association, mails, _circular = seed(database, 60)
    started: list[subprocess.Popen[bytes]] = []
    kill_at = {18: "data", 41: "rcpt"}  # the mail (by order of arrival) the kill lands on
    arrivals = 0
    killed: list[str] = []
    lock = threading.Lock()

    def kill(stage: str, message_id: str = "") -> bool:
        nonlocal arrivals
        with lock:
            arrivals += stage == "rcpt"
            if kill_at.get(arrivals) != stage:
                return False
            kill_at.pop(arrivals)
            killed.append(message_id)
        os.kill(started[-1].pid, signal.SIGKILL)  # mid-mail: before the server's answer
        return True

    async def on_rcpt(_address: str) -> str | None:
        return "451 4.3.0 sender gone" if kill("rcpt") else None

    async def on_data(message_id: str) -> str | None:
        # Killed before the 250: the server never accepted it (the dead sender hears nothing).
        return "451 4.3.0 sender gone" if kill("data", message_id) else None

    sink = Sink(on_rcpt=on_rcpt, on_data=on_data)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with smtp_server(sink) as server:
        for _run in range(3):
            child = subprocess.Popen(_sender_command(database_url, server.port, "--once"),
                                     cwd=REPO, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
            started.append(child)
            out, err = child.communicate(timeout=60)
            if child.returncode == -signal.SIGKILL:
                leased = [s for s in states(database).values() if s == "sending"]
                assert leased, "the killed sender left its batch leased"
                _wait_for_leases_to_run_out(database)  # then the next sender takes over
                continue
            assert child.returncode == 0, err.decode()
            assert b"sent" in out
            break
    assert [c.returncode for c in started] == [-signal.SIGKILL, -signal.SIGKILL, 0]
    assert_each_once(sink, mails)
    assert set(states(database).values()) == {"sent"}
    # The mail killed after its data was sent again later: same Message-ID, same bytes.
    tried = [data for message_id, data in sink.attempts if message_id == killed[0]]
    assert len(tried) == 2 and tried[0] == tried[1]
    database.dispose()


# ------------------------------------------------------------------ bounces fed later


def _dsn(message_id: str, address: str, *, action: str = "failed",
         status: str = "5.1.1") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.jp\r\n"
        f"To: {FROM}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.jp\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <x>: Recipient address rejected\r\n"
        "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {FROM}\r\nTo: {address}\r\nMessage-ID: {message_id}\r\n"
        "Subject: =?ISO-2022-JP?B?GyRCMmMbKEI=?=\r\n"
        "\r\n--B--\r\n"
    ).encode("ascii")


def test_a_delivery_status_notification_bounces_a_sent_mail(database: Database) -> None:
    association_id, mails, _circular = seed(database, 2)
    with smtp_server(Sink()) as server:
        MailSender(database, settings(server.port), report=quiet).drain()
    dsn = _dsn(mails[0].message_id, mails[0].address)
    outcome = record_bounce(database, dsn)
    assert outcome.recorded and outcome.address == mails[0].address
    assert not record_bounce(database, dsn).recorded  # fed twice: recorded once
    assert states(database)[mails[0].message_id] == "bounced"
    events = [(body["event"], body["address"]) for _s, body in mail_items(database,
                                                                          association_id)]
    assert events.count(("bounced", mails[0].address)) == 1
    with database.read() as connection:
        address = connection.execute(select(mt.mail_address.c.state).where(
            mt.mail_address.c.address == mails[0].address)).scalar_one()
    assert address == "bounced"


def test_delays_and_other_mail_are_not_bounces(sqlite_db: Database) -> None:
    from desktop.domain.errors import ValidationError

    _association, mails, _circular = seed(sqlite_db, 1)
    with pytest.raises(ValidationError, match="no permanent failure"):
        record_bounce(sqlite_db, _dsn(mails[0].message_id, mails[0].address,
                                      action="delayed", status="4.4.1"))
    vacation = (f"From: {mails[0].address}\r\nIn-Reply-To: {mails[0].message_id}\r\n"
                "Subject: Out of office\r\n\r\nI am away.\r\n").encode()
    with pytest.raises(ValidationError, match="not a delivery status notification"):
        record_bounce(sqlite_db, vacation)
    with pytest.raises(ValidationError, match="names no mail"):
        record_bounce(sqlite_db, _dsn("<other@example.com>", mails[0].address))
    assert set(states(sqlite_db).values()) == {"queued"}


# ------------------------------------------------------------------ settings


def test_settings_refuse_what_is_unsafe(tmp_path: Path) -> None:
    from desktop.domain.errors import ValidationError

    with pytest.raises(ValidationError, match="only allowed to a server on this machine"):
        checked(host="smtp.example.jp", security="none", from_address=FROM, base_url=BASE)
    assert checked(host="localhost", security="none", from_address=FROM,
                   base_url=BASE).port == 25
    with pytest.raises(ValidationError, match="needs a password"):
        checked(host="smtp.example.jp", user="kairan", from_address=FROM, base_url=BASE)
    with pytest.raises(ValidationError, match="https://"):
        checked(host="smtp.example.jp", from_address=FROM, base_url="http://relay.example.jp")
    with pytest.raises(ValidationError, match="not a mail address"):
        checked(host="smtp.example.jp", from_address="kairan", base_url=BASE)
    made = checked(host="smtp.example.jp", user="kairan", password="s3cret",
                   from_address=FROM, base_url=BASE + "/")
    assert (made.port, made.base_url) == (587, BASE)
    assert "s3cret" not in repr(made)

    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    secret.chmod(0o644)
    with pytest.raises(ValidationError, match="chmod 600"):
        read_password(secret)
    secret.chmod(0o600)
    assert read_password(secret) == "s3cret"
    secret.chmod(0o400)
    assert read_password(secret) == "s3cret"
    assert read_password(None, {"KAIRAN_SMTP_PASSWORD": "from-env"}) == "from-env"
    assert read_password(None, {}) is None


# ------------------------------------------------------------------ the command line


def test_the_command_line_sends_shows_status_and_takes_bounces(
        sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    database = open_database(sqlite_url)
    upgrade(database)
    _association, mails, _circular = seed(database, 3)
    sink = Sink()
    with smtp_server(sink) as server:
        code = relay_cli(["--lang", "en", "mail", "send", "--once", "--db", sqlite_url,
                          "--smtp-host", "127.0.0.1", "--smtp-port", str(server.port),
                          "--smtp-security", "none", "--mail-from", FROM,
                          "--mail-base-url", BASE, "--mail-rate", "100000"])
    assert code == 0
    assert "3 sent" in capsys.readouterr().out
    assert_each_once(sink, mails)

    dsn = tmp_path / "bounce.eml"
    dsn.write_bytes(_dsn(mails[2].message_id, mails[2].address))
    assert relay_cli(["--lang", "en", "mail", "bounce", "--db", sqlite_url, str(dsn)]) == 0
    assert "bounced" in capsys.readouterr().out
    assert relay_cli(["--lang", "en", "mail", "status", "--db", sqlite_url]) == 0
    shown = capsys.readouterr().out
    assert "2 sent" in shown and "1 bounced" in shown and "桜町自治会" in shown

    # An unreachable server is a clear message and exit status 2; the password is not shown.
    association_id = new_association(database, "別の町内会")
    queue_mails(database, association_id, add_households(database, association_id,
                                                         ["x@example.jp"]),
                circular_id=add_circular(database, association_id, []))
    monkeypatch.setenv("KAIRAN_SMTP_PASSWORD", "hunter2")
    code = relay_cli(["--lang", "en", "mail", "send", "--once", "--db", sqlite_url,
                      "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()),
                      "--smtp-user", "kairan", "--mail-from", FROM, "--mail-base-url", BASE,
                      "--mail-retry-base", "0.01"])
    captured = capsys.readouterr()
    assert code == 2 and "Cannot reach the mail server" in captured.err
    assert "hunter2" not in captured.err + captured.out
    database.dispose()


def test_the_relay_process_sends_in_the_background(sqlite_db: Database) -> None:
    _association, mails, _circular = seed(sqlite_db, 4)
    sink = Sink()
    with smtp_server(sink) as server:
        background = BackgroundSender(sqlite_db, settings(server.port), report=quiet)
        background.start()
        assert sink.wait_for(4)
        background.stop()
    assert_each_once(sink, mails)


def test_kairan_relay_serve_sends_mail_when_given_an_smtp_server(
        sqlite_url: str, tls_files: TlsFiles) -> None:
    database = open_database(sqlite_url)
    upgrade(database)
    _association, mails, _circular = seed(database, 3)
    database.dispose()
    sink = Sink()
    with smtp_server(sink) as server:
        command = [sys.executable, "-m", "sync.relay.cli", "--lang", "en", "serve", "--db",
                   sqlite_url, "--cert", str(tls_files.cert_file), "--key",
                   str(tls_files.key_file), "--port", str(free_port()),
                   "--smtp-host", "127.0.0.1", "--smtp-port", str(server.port),
                   "--smtp-security", "none", "--mail-from", FROM, "--mail-base-url", BASE,
                   "--mail-rate", "600000"]
        child = subprocess.Popen(command, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            delivered = sink.wait_for(3, timeout=30)
        finally:
            child.send_signal(signal.SIGINT)
            _out, err = child.communicate(timeout=30)
    assert delivered, err.decode()
    assert child.returncode == 0, err.decode()
    assert "Sending mail through 127.0.0.1" in err.decode()
    assert_each_once(sink, mails)


def test_serve_refuses_half_given_mail_settings(sqlite_url: str, tls_files: TlsFiles,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = relay_cli(["--lang", "en", "serve", "--db", sqlite_url,
                      "--cert", str(tls_files.cert_file), "--key", str(tls_files.key_file),
                      "--smtp-host", "smtp.example.jp", "--mail-base-url", BASE])
    assert code == 2 and "--mail-from" in capsys.readouterr().err


def test_two_senders_share_the_queue_without_sending_twice(database: Database) -> None:
    _association, mails, _circular = seed(database, 40)

    async def a_moment(_message_id: str) -> None:
        await asyncio.sleep(0.005)  # long enough for both senders to be at work

    sink = Sink(on_data=a_moment)
    with smtp_server(sink) as server:
        senders = [MailSender(database, settings(server.port, batch_size=5), report=quiet)
                   for _ in range(2)]
        threads = [threading.Thread(target=sender.drain) for sender in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert_each_once(sink, mails)
    assert all(sender.tally.sent > 0 for sender in senders)


# ------------------------------------------------------------------ migration 0006


def test_migration_0006_goes_down_and_up_again(database_url: str) -> None:
    database = open_database(database_url)
    try:
        upgrade(database)
        assert head_revision() >= "0006"
        from alembic import command

        from sync.relay.db import alembic_config

        with database.write() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        with database.read() as connection:
            names = set(connection.dialect.get_table_names(connection))
        assert not names & {"mail_address", "mail_message", "mail_link"}
        upgrade(database)
        with database.read() as connection:
            names = set(connection.dialect.get_table_names(connection))
        assert {"mail_address", "mail_message", "mail_link"} <= names
    finally:
        database.dispose()
