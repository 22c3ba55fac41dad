"""Queueing mails for what the office's ops do: a household's addresses, a circular's mails and
re-sends, the safety check's mails, and cancelling what is no longer wanted.

Everything here runs inside the office API's write transaction, next to the op it follows, so a
mail is queued exactly when its circular or safety check is stored (the sender in
:mod:`sync.relay.mail` picks the rows up later). A publish to 10,000 households is a handful of
statements, not one per household: addresses are read in one query and links and mails written
with one executemany each.

Mails are idempotent: a mail's id is derived from (association, household, what it carries,
address, round), and a household that already has a live mail of a circular is not mailed again,
so republishing a circular (or a batch applied twice) queues nothing new. A household gets one
personal link per circular and round (``/k/TOKEN``): the token is 10 characters of Crockford
base32 (50 random bits); only its sha256 is kept in ``mail_link``, the plaintext waits in the
mail rows until the sender has sent them. Addresses that bounced or were unsubscribed are never
mailed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from sync.protocol import hash_secret
from sync.relay import mail_tables as mt
from sync.relay import tables
from sync.relay.db import driver_value, iso

DEFAULT_MAIL_DOMAIN: Final = "kairan-relay.invalid"  # RFC 2606: never a real host
TOKEN_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
TOKEN_LENGTH: Final = 10  # 50 bits: short enough to type from a feature phone's screen
KIND_CIRCULAR: Final = "circular"
KIND_SAFETY: Final = "safety"
STATE_OK: Final = "ok"
# Above this many households the association's addresses are read whole and filtered here
# (an IN list of tens of thousands of values is slower, and SQLite caps bound parameters).
_IN_LIMIT: Final = 1000
# Fixed for ever: mail ids derived from it must come out the same after any restart.
_MAIL_NAMESPACE: Final = uuid.UUID("6f1d3c2e-8a47-5b0e-9c61-4b2d7e5a9f10")
# Crockford's decoding of look-alike letters, for a token typed or copied by hand.
_LOOK_ALIKES: Final = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None})

_domain: str = DEFAULT_MAIL_DOMAIN


# ---------------------------------------------------------------- ids, tokens, the mail domain


def mail_domain(public_base_url: str | None) -> str:
    """The domain of Message-IDs: the host of the relay's public base URL (where the links
    point), else :data:`DEFAULT_MAIL_DOMAIN`."""
    host = urlsplit(public_base_url).hostname if public_base_url else None
    return host.lower() if host else DEFAULT_MAIL_DOMAIN


def use_public_base_url(public_base_url: str | None) -> None:
    """Set the Message-ID domain of mails queued by this process from the relay's public base
    URL (``serve`` calls it once at start; the op handlers that queue mails have no settings)."""
    global _domain
    _domain = mail_domain(public_base_url)


def current_domain() -> str:
    """The Message-ID domain this process queues mails with."""
    return _domain


def new_link_token() -> str:
    """A fresh personal-link token: :data:`TOKEN_LENGTH` characters of Crockford base32."""
    bits = secrets.randbits(5 * TOKEN_LENGTH)
    return "".join(TOKEN_ALPHABET[(bits >> (5 * i)) & 31] for i in range(TOKEN_LENGTH))


def canonical_link_token(text: str) -> str | None:
    """A token as written in a link (any case, O for 0, I or L for 1, hyphens) in canonical
    form, or None when it cannot be one."""
    token = text.upper().translate(_LOOK_ALIKES)
    if len(token) != TOKEN_LENGTH or any(c not in TOKEN_ALPHABET for c in token):
        return None
    return token


def link_token_hash(token: str) -> str:
    """What ``mail_link`` keeps of a token (sha256 hex)."""
    return hash_secret(token)


def mail_id_of(*, association_id: str, household_id: str, subject: str, address: str,
               round_: int) -> str:
    """The mail's id, the same whenever the same mail is queued (``subject``:
    ``circular:ID`` or ``safety:SWITCHED-ON-AT``)."""
    name = "\x1f".join((association_id, household_id, subject, address.casefold(),
                        str(round_)))
    return str(uuid.uuid5(_MAIL_NAMESPACE, name))


def message_id_of(mail_id: str, domain: str | None = None) -> str:
    """The Message-ID header of a mail: ``<MAIL_ID@DOMAIN>``."""
    return f"<{mail_id}@{domain or _domain}>"


# ---------------------------------------------------------------- addresses


def set_addresses(connection: Connection, *, association_id: str, household_id: str,
                  addresses: Sequence[str], at: datetime) -> None:
    """``mail.addresses``: replace the household's addresses (see :func:`set_addresses_many`)."""
    set_addresses_many(connection, association_id=association_id,
                       addresses={household_id: addresses}, at=at)


def set_addresses_many(connection: Connection, *, association_id: str,
                       addresses: Mapping[str, Sequence[str]], at: datetime) -> None:
    """Replace the address lists of several households (existing ones) in a few statements.

    An address that stays keeps its state (bounced, unsubscribed: compared ignoring case, so
    rewriting it in other letters does not mail a household that said stop); a new one starts
    ``ok``; a repeated one is kept once. Mails still queued for an address that is gone or no
    longer ``ok`` are cancelled: the household is off e-mail, or that address is."""
    if not addresses:
        return
    a = mt.mail_address
    households = sorted(addresses)
    old = connection.execute(
        select(a.c.household_id, a.c.address, a.c.state, a.c.state_detail, a.c.state_at)
        .where(a.c.association_id == association_id)
        .where(a.c.household_id.in_(households))).all()
    kept = {(row.household_id, row.address.casefold()): row for row in old}
    connection.execute(delete(a).where(a.c.association_id == association_id)
                       .where(a.c.household_id.in_(households)))
    rows: list[dict[str, Any]] = []
    mailable: set[tuple[str, str]] = set()
    for household_id in households:
        seen: set[str] = set()
        for address in addresses[household_id]:
            folded = address.casefold()
            if folded in seen:
                continue
            seen.add(folded)
            before = kept.get((household_id, folded))
            state = STATE_OK if before is None else before.state
            rows.append({"association_id": association_id, "household_id": household_id,
                         "position": len(seen) - 1, "address": address, "state": state,
                         "state_detail": "" if before is None else before.state_detail,
                         "state_at": at if before is None else before.state_at})
            if state == STATE_OK:
                mailable.add((household_id, folded))
    if rows:
        connection.execute(insert(a), rows)
    m = mt.mail_message
    queued = connection.execute(
        select(m.c.mail_id, m.c.household_id, m.c.address)
        .where(m.c.association_id == association_id)
        .where(m.c.household_id.in_(households))
        .where(m.c.state == "queued")).all()
    cancel_mails(connection, association_id=association_id, mail_ids=[
        row.mail_id for row in queued
        if (row.household_id, row.address.casefold()) not in mailable])


_OK_ADDRESSES = (
    select(mt.mail_address.c.household_id, mt.mail_address.c.address)
    .where(mt.mail_address.c.association_id == bindparam("p_association_id"))
    .where(mt.mail_address.c.state == STATE_OK)
    .order_by(mt.mail_address.c.household_id, mt.mail_address.c.position))
_OK_ADDRESSES_OF = _OK_ADDRESSES.where(
    mt.mail_address.c.household_id.in_(bindparam("p_household_ids", expanding=True)))


def _ok_addresses(connection: Connection, association_id: str,
                  household_ids: Iterable[str] | None) -> dict[str, list[str]]:
    """Household → its ``ok`` addresses in the roster's order (None: every household)."""
    wanted = None if household_ids is None else set(household_ids)
    if wanted is not None and not wanted:
        return {}
    parameters: dict[str, Any] = {"p_association_id": association_id}
    query = _OK_ADDRESSES
    if wanted is not None and len(wanted) <= _IN_LIMIT:
        query = _OK_ADDRESSES_OF  # built once: a publish runs this for every batch
        parameters["p_household_ids"] = sorted(wanted)
    found: dict[str, list[str]] = {}
    for household_id, address in connection.execute(query, parameters):
        if wanted is None or household_id in wanted:
            found.setdefault(household_id, []).append(address)
    return found


# ---------------------------------------------------------------- queueing


def _insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]], *,
                 ignore_duplicates: bool = False) -> None:
    """Insert ``rows`` (dicts with every column) in one statement.

    Written out for the driver, with the values converted by the columns' own types, as
    :func:`sync.relay.residents.store_safety` does: for a publish to 10,000 households
    SQLAlchemy's per-row parameter handling cost more than the database did. SQLite takes an
    executemany (in-process: no round trips); PostgreSQL one array per column, unnested into
    rows by the server (an executemany there still executes a statement per row)."""
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    columns = list(table.c)
    convert = [driver_value(column, dialect) for column in columns]
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
    tail = " ON CONFLICT DO NOTHING" if ignore_duplicates else ""
    if dialect.name == "sqlite":
        connection.exec_driver_sql(
            head + f"VALUES ({', '.join(['?'] * len(columns))})" + tail,
            [tuple(c(row[column.name]) for c, column in zip(convert, columns, strict=True))
             for row in rows])
        return
    arrays = ", ".join(f"%s::{column.type.compile(dialect)}[]" for column in columns)
    connection.exec_driver_sql(
        head + f"SELECT * FROM unnest({arrays})" + tail,
        tuple([c(row[column.name]) for row in rows]
              for c, column in zip(convert, columns, strict=True)))


def _queue(connection: Connection, *, association_id: str, kind: str,
           circular_id: str | None, subject: str, rounds: Mapping[str, int],
           addresses: Mapping[str, list[str]], at: datetime) -> int:
    """Write one personal link per household of ``rounds`` that has ``ok`` addresses and one
    queued mail per address; the number of mails queued."""
    links: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    for household_id in sorted(rounds):
        mailed = addresses.get(household_id)
        if not mailed:
            continue
        round_ = rounds[household_id]
        token = new_link_token()
        links.append({"token_hash": link_token_hash(token), "association_id": association_id,
                      "household_id": household_id, "circular_id": circular_id, "kind": kind,
                      "created_at": at, "opened_at": None})
        for address in mailed:
            mail_id = mail_id_of(association_id=association_id, household_id=household_id,
                                 subject=subject, address=address, round_=round_)
            mails.append({
                "association_id": association_id, "mail_id": mail_id,
                "household_id": household_id, "circular_id": circular_id, "kind": kind,
                "address": address, "round": round_, "message_id": message_id_of(mail_id),
                "link_token": token, "state": "queued", "attempts": 0, "next_attempt_at": at,
                "lease_until": None, "last_error": "", "queued_at": at, "sent_at": None})
    if not mails:
        return 0
    _insert_rows(connection, mt.mail_link, links)
    _insert_rows(connection, mt.mail_message, mails, ignore_duplicates=True)
    return len(mails)


def _rounds_so_far(connection: Connection, association_id: str,
                   circular_id: str) -> tuple[dict[str, tuple[int, bool]], list[Any]]:
    """Household → (its highest round of the circular, whether any of its mails is live, i.e.
    not cancelled); and the circular's mails still queued (mail_id, household_id)."""
    m = mt.mail_message
    found: dict[str, tuple[int, bool]] = {}
    queued: list[Any] = []
    for row in connection.execute(
            select(m.c.mail_id, m.c.household_id, m.c.round, m.c.state)
            .where(m.c.association_id == association_id)
            .where(m.c.circular_id == circular_id)):
        highest, live = found.get(row.household_id, (-1, False))
        found[row.household_id] = (max(highest, int(row.round)), live or row.state != "cancelled")
        if row.state == "queued":
            queued.append(row)
    return found, queued


def enqueue_circular(connection: Connection, *, association_id: str, circular_id: str,
                     household_ids: Iterable[str], at: datetime) -> int:
    """``circular.publish``: queue the circular's mails to its recipient households that have
    ``ok`` addresses and no live mail of it yet; the number of mails queued.

    Publishing again is idempotent for the households mailed already; a household whose mails
    were all cancelled (the circular was retracted and published again) gets the next round,
    with new Message-IDs; one no longer on the recipient list loses its queued mails."""
    recipients = set(household_ids)
    addresses = _ok_addresses(connection, association_id, recipients)
    if not addresses:  # a queued mail always goes to an ok address: none to cancel either
        return 0
    so_far, queued = _rounds_so_far(connection, association_id, circular_id)
    cancel_mails(connection, association_id=association_id, mail_ids=[
        row.mail_id for row in queued if row.household_id not in recipients])
    rounds: dict[str, int] = {}
    for household_id in addresses:
        highest, live = so_far.get(household_id, (-1, False))
        if not live:
            rounds[household_id] = highest + 1
    return _queue(connection, association_id=association_id, kind=KIND_CIRCULAR,
                  circular_id=circular_id, subject=f"circular:{circular_id}", rounds=rounds,
                  addresses=addresses, at=at)


def enqueue_resend(connection: Connection, *, association_id: str, circular_id: str,
                   household_ids: Iterable[str], at: datetime) -> int:
    """``mail.resend``: mail the circular again (the next round, with a new link and new
    Message-IDs) to those of ``household_ids`` it was sent to that have ``ok`` addresses;
    the number of mails queued."""
    r = tables.circular_recipient
    recipients = set(connection.execute(
        select(r.c.household_id).where(r.c.association_id == association_id)
        .where(r.c.circular_id == circular_id)).scalars())
    wanted = recipients.intersection(household_ids)
    addresses = _ok_addresses(connection, association_id, wanted)
    if not addresses:
        return 0
    so_far, _queued = _rounds_so_far(connection, association_id, circular_id)
    rounds = {h: so_far.get(h, (-1, False))[0] + 1 for h in addresses}
    return _queue(connection, association_id=association_id, kind=KIND_CIRCULAR,
                  circular_id=circular_id, subject=f"circular:{circular_id}", rounds=rounds,
                  addresses=addresses, at=at)


def enqueue_safety(connection: Connection, *, association_id: str, at: datetime,
                   epoch: str | None = None) -> int:
    """``disaster.set`` switching disaster mode on at ``at``: queue the safety check's mail to
    every household of the association with an ``ok`` address; the number of mails queued.
    The switch-on (``epoch``, default the moment ``at``) is part of the mail ids, so the same
    switch-on queues nothing twice and the next one mails again."""
    addresses = _ok_addresses(connection, association_id, None)
    return _queue(connection, association_id=association_id, kind=KIND_SAFETY,
                  circular_id=None, subject=f"safety:{epoch or iso(at)}",
                  rounds=dict.fromkeys(addresses, 0), addresses=addresses, at=at)


# ---------------------------------------------------------------- cancelling


_CANCEL = (update(mt.mail_message)
           .where(mt.mail_message.c.association_id == bindparam("p_association_id"))
           .where(mt.mail_message.c.state == "queued"))
_CANCELLED = {"state": "cancelled", "link_token": None}  # an unsent link's token goes too


def cancel_mails(connection: Connection, *, association_id: str,
                 mail_ids: Sequence[str]) -> int:
    """Cancel these mails where still queued; how many were."""
    if not mail_ids:
        return 0
    result = connection.execute(
        _CANCEL.where(mt.mail_message.c.mail_id.in_(sorted(mail_ids))).values(**_CANCELLED),
        {"p_association_id": association_id})
    return int(result.rowcount)


def cancel_circular(connection: Connection, *, association_id: str, circular_id: str) -> int:
    """``circular.retract``: its mails not yet sent are cancelled; how many."""
    result = connection.execute(
        _CANCEL.where(mt.mail_message.c.circular_id == circular_id).values(**_CANCELLED),
        {"p_association_id": association_id})
    return int(result.rowcount)


def cancel_safety(connection: Connection, *, association_id: str) -> int:
    """``disaster.set`` switching disaster mode off: safety mails not yet sent are cancelled
    (the check is over); how many."""
    result = connection.execute(
        _CANCEL.where(mt.mail_message.c.kind == KIND_SAFETY).values(**_CANCELLED),
        {"p_association_id": association_id})
    return int(result.rowcount)


def cancel_household(connection: Connection, *, association_id: str, household_id: str) -> int:
    """Every mail of the household not yet sent is cancelled (it unsubscribed); how many."""
    result = connection.execute(
        _CANCEL.where(mt.mail_message.c.household_id == household_id).values(**_CANCELLED),
        {"p_association_id": association_id})
    return int(result.rowcount)


# ---------------------------------------------------------------- an op batch's mail


@dataclass(slots=True)
class _Step:
    kind: str  # addresses | publish | retract | resend | disaster
    circular_id: str = ""
    addresses: dict[str, list[str]] = field(default_factory=dict)  # household → its list
    household_ids: list[str] = field(default_factory=list)
    on: bool = False


@dataclass(slots=True)
class MailPlan:
    """What one batch of ops asks of the e-mail channel, planned as the ops are checked and
    run in op order at the end of the batch, inside its transaction, once its households,
    circulars and recipient lists are written (so ``[household.upsert, mail.addresses,
    circular.publish]`` in one batch mails the new household).

    Consecutive ``mail.addresses`` steps are written together (the initial push after
    pairing sends one per household). A purge later in the batch drops the household from
    the steps planned before it; its stored rows go with the household (ON DELETE CASCADE)."""

    association_id: str
    at: datetime
    steps: list[_Step] = field(default_factory=list)
    _disaster_was_on: bool = False

    def addresses(self, household_id: str, addresses: Sequence[str]) -> None:
        """``mail.addresses``."""
        self.steps.append(_Step("addresses", addresses={household_id: list(addresses)}))

    def publish(self, circular_id: str) -> None:
        """``circular.publish`` (mailed to its recipient list as the batch leaves it)."""
        self.steps.append(_Step("publish", circular_id=circular_id))

    def retract(self, circular_id: str) -> None:
        """``circular.retract``."""
        self.steps.append(_Step("retract", circular_id=circular_id))

    def resend(self, circular_id: str, household_ids: Sequence[str]) -> None:
        """``mail.resend``."""
        self.steps.append(_Step("resend", circular_id=circular_id,
                                household_ids=list(household_ids)))

    def disaster(self, on: bool) -> None:
        """``disaster.set``: mails go out only when it switches disaster mode on."""
        self.steps.append(_Step("disaster", on=on))

    def purge(self, household_id: str) -> None:
        """``household.purge``: nothing planned before it may recreate the household's rows."""
        for step in self.steps:
            step.addresses.pop(household_id, None)
            while household_id in step.household_ids:
                step.household_ids.remove(household_id)

    def prepare(self, connection: Connection) -> None:
        """Read what the steps compare against before the batch changes it (call first)."""
        if any(step.kind == "disaster" for step in self.steps):
            self._disaster_was_on = bool(connection.execute(
                select(tables.association.c.disaster_on)
                .where(tables.association.c.id == self.association_id)).scalar())

    def run(self, connection: Connection, *, recipients: Mapping[str, Sequence[str]]) -> None:
        """Write the steps in op order (``recipients``: circular → its final recipient list
        in this batch)."""
        association_id, at = self.association_id, self.at
        pending: dict[str, list[str]] = {}
        disaster_on = self._disaster_was_on
        switched_on = 0
        for step in [*self.steps, _Step("end")]:
            if step.kind == "addresses":
                pending.update(step.addresses)
                continue
            if pending:
                set_addresses_many(connection, association_id=association_id,
                                   addresses=pending, at=at)
                pending = {}
            if step.kind == "publish" and step.circular_id in recipients:
                enqueue_circular(connection, association_id=association_id,
                                 circular_id=step.circular_id,
                                 household_ids=recipients[step.circular_id], at=at)
            elif step.kind == "retract":
                cancel_circular(connection, association_id=association_id,
                                circular_id=step.circular_id)
            elif step.kind == "resend" and step.household_ids:
                enqueue_resend(connection, association_id=association_id,
                               circular_id=step.circular_id,
                               household_ids=step.household_ids, at=at)
            elif step.kind == "disaster" and step.on != disaster_on:
                disaster_on = step.on
                if step.on:  # a second switch-on in the same batch is a new check
                    switched_on += 1
                    enqueue_safety(connection, association_id=association_id, at=at,
                                   epoch=f"{iso(at)}#{switched_on}")
                else:
                    cancel_safety(connection, association_id=association_id)

__all__ = [
    "DEFAULT_MAIL_DOMAIN",
    "TOKEN_LENGTH",
    "MailPlan",
    "cancel_circular",
    "cancel_household",
    "cancel_mails",
    "cancel_safety",
    "canonical_link_token",
    "current_domain",
    "enqueue_circular",
    "enqueue_resend",
    "enqueue_safety",
    "link_token_hash",
    "mail_domain",
    "mail_id_of",
    "message_id_of",
    "new_link_token",
    "set_addresses",
    "set_addresses_many",
    "use_public_base_url",
]
