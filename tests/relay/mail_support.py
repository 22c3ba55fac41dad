"""What the mail tests and the mail benchmark share: queued mails written straight into the
relay's tables, and a real SMTP server (aiosmtpd on 127.0.0.1) that records what it accepted
and can misbehave on cue (refuse, greylist, stall, drop the connection).

The rows are written as :mod:`sync.relay.mail.enqueue` writes them (one ``mail_address`` per
household, one ``mail_message`` per mail with its personal-link token), so the sender is
tested on its own.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SmtpServer  # noqa: N811  (not a constant)
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import insert

from sync.relay import admin, tables
from sync.relay import mail_tables as mt
from sync.relay.db import Database, now

TOKEN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAIL_DOMAIN = "relay.example.jp"


# ------------------------------------------------------------------ rows


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """One mail written into the queue."""

    association_id: str
    mail_id: str
    household_id: str
    address: str
    message_id: str
    link_token: str


def new_association(database: Database, name: str = "桜町自治会") -> str:
    """A fresh association on the relay; its id."""
    return admin.create_association(database, name=name, code_hours=1).association_id


def add_households(database: Database, association_id: str, addresses: Sequence[str],
                   ) -> list[tuple[str, str]]:
    """One household per address (its only address, state ok); (household_id, address)."""
    moment = now()
    made = [(str(uuid.uuid4()), address) for address in addresses]
    with database.write() as connection:
        connection.execute(insert(tables.household), [
            {"association_id": association_id, "household_id": household_id,
             "number": str(index + 1), "display_name": f"世帯{index + 1}", "group_id": None,
             "group_name": "", "updated_at": moment}
            for index, (household_id, _address) in enumerate(made)])
        connection.execute(insert(mt.mail_address), [
            {"association_id": association_id, "household_id": household_id, "position": 0,
             "address": address, "state": "ok", "state_detail": "", "state_at": moment}
            for household_id, address in made])
    return made


def add_circular(database: Database, association_id: str, household_ids: Sequence[str], *,
                 title: str = "夏祭りのお知らせ", body: str = "7月20日に夏祭りを行います。",
                 ask: str = "attendance", deadline: str | None = "2025-07-10") -> str:
    """A published circular for these households; its id."""
    circular_id = str(uuid.uuid4())
    with database.write() as connection:
        connection.execute(insert(tables.circular).values(
            association_id=association_id, circular_id=circular_id, title=title, body=body,
            issued_on="2025-07-01", issuer="会長", ask=ask, questions=[], deadline=deadline,
            published_at=now()))
        if household_ids:
            connection.execute(insert(tables.circular_recipient), [
                {"association_id": association_id, "circular_id": circular_id,
                 "household_id": household_id} for household_id in household_ids])
    return circular_id


def token_for(number: int) -> str:
    """A personal-link token (10 Crockford base32 characters) made from ``number``."""
    return "".join(TOKEN_ALPHABET[(number >> (5 * i)) & 31] for i in range(10))


def queue_mails(database: Database, association_id: str, households: Sequence[tuple[str, str]],
                *, circular_id: str | None, round_: int = 0,
                at: datetime | None = None) -> list[QueuedMail]:
    """One queued mail per (household, address), due at once; the mails in order."""
    moment = at or now()
    kind = "safety" if circular_id is None else "circular"
    mails: list[QueuedMail] = []
    for index, (household_id, address) in enumerate(households):
        mail_id = str(uuid.uuid4())
        mails.append(QueuedMail(association_id, mail_id, household_id, address,
                                f"<{mail_id}@{MAIL_DOMAIN}>",
                                token_for(uuid.UUID(mail_id).int + index)))
    with database.write() as connection:
        connection.execute(insert(mt.mail_message), [
            {"association_id": association_id, "mail_id": mail.mail_id,
             "household_id": mail.household_id, "circular_id": circular_id, "kind": kind,
             "address": mail.address, "round": round_, "message_id": mail.message_id,
             "link_token": mail.link_token, "state": "queued", "attempts": 0,
             "next_attempt_at": moment, "lease_until": None, "last_error": "",
             "queued_at": moment, "sent_at": None} for mail in mails])
    return mails


def set_disaster(database: Database, association_id: str, *, on: bool,
                 message: str = "") -> None:
    """Switch the association's disaster mode (the safety check's mails need it on)."""
    from sqlalchemy import update

    with database.write() as connection:
        connection.execute(update(tables.association).where(
            tables.association.c.id == association_id).values(
                disaster_on=on, disaster_message=message, disaster_changed_at=now()))


# ------------------------------------------------------------------ the SMTP server

Hook = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Received:
    """One mail the server accepted (answered 250 after its data)."""

    message_id: str
    recipients: tuple[str, ...]
    data: bytes
    sender: str


@dataclass
class Sink:
    """The aiosmtpd handler: records accepted mails; ``on_mail``/``on_rcpt``/``on_data`` may
    answer instead (an error reply string) or wait first (they are coroutines)."""

    received: list[Received] = field(default_factory=list)
    attempts: list[tuple[str, bytes]] = field(default_factory=list)  # every DATA that came
    on_mail: Hook | None = None
    on_rcpt: Hook | None = None
    on_data: Hook | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    async def handle_MAIL(self, server: SmtpServer, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.on_mail is not None:
            reply = await self.on_mail(address)
            if reply is not None:
                return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SmtpServer, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.on_rcpt is not None:
            reply = await self.on_rcpt(address)
            if reply is not None:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SmtpServer, session: Session,
                          envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if isinstance(data, str):
            data = data.encode("ascii")
        message_id = str(BytesHeaderParser().parsebytes(data).get("Message-ID", ""))
        with self.lock:
            self.attempts.append((message_id, data))
        if self.on_data is not None:
            reply = await self.on_data(message_id)
            if reply is not None:
                return reply
        with self.changed:
            self.received.append(Received(message_id, tuple(envelope.rcpt_tos), data,
                                          str(envelope.mail_from)))
            self.changed.notify_all()
        return "250 2.0.0 Ok: queued"

    def counts(self) -> Counter[str]:
        """How often each Message-ID was accepted."""
        with self.lock:
            return Counter(mail.message_id for mail in self.received)

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until ``count`` mails were accepted; whether they were in time."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.received) >= count, timeout)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(sink: Sink, *, port: int | None = None, tls: ssl.SSLContext | None = None,
                users: dict[str, str] | None = None) -> Iterator[Controller]:
    """aiosmtpd on 127.0.0.1 (``port`` or a free one) with ``sink``; STARTTLS offered with
    ``tls``; AUTH required (after STARTTLS) with ``users``."""
    options: dict[str, Any] = {}
    if tls is not None:
        options.update(tls_context=tls, require_starttls=True)
    if users is not None:
        def authenticator(server: SmtpServer, session: Session, envelope: Envelope,
                          mechanism: str, auth_data: Any) -> AuthResult:
            ok = (isinstance(auth_data, LoginPassword)
                  and users.get(auth_data.login.decode()) == auth_data.password.decode())
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535

        options.update(authenticator=authenticator, auth_required=True)
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port(),
                            server_hostname="localhost", ready_timeout=10, **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


async def no_reply(_value: str) -> str | None:
    """A hook that lets everything through."""
    await asyncio.sleep(0)
    return None
