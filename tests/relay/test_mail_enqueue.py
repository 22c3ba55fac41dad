"""What the office's ops do to the e-mail channel on the relay: addresses, mails queued on
publish (idempotent), bounced and unsubscribed addresses skipped, purge, retract, re-send
rounds, the safety check's mails, ordering inside one batch, and a 10,000-household publish in
a handful of statements. SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, update

from sync.protocol import LogKind, OpKind, hash_secret
from sync.relay import admin, tables
from sync.relay import mail_tables as mt
from sync.relay.db import Database, open_database, upgrade
from sync.relay.mail import enqueue
from sync.relay.office_api import apply_ops

# ---------------------------------------------------------------- helpers


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated relay database (SQLite, and PostgreSQL shared by the session's tests: each
    test has an association of its own)."""
    db = open_database(database_url)
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()


def op(kind: str, **body: Any) -> dict[str, Any]:
    """An office op with a fresh id."""
    return {"id": str(uuid.uuid4()), "kind": kind, "body": body}


def household(household_id: str, name: str = "山田") -> dict[str, Any]:
    return op(OpKind.HOUSEHOLD_UPSERT, household_id=household_id, number="1",
              display_name=name, group_id=None, group_name="1班")


def addresses(household_id: str, *mail: str) -> dict[str, Any]:
    return op(OpKind.MAIL_ADDRESSES, household_id=household_id, addresses=list(mail))


def publish(circular_id: str, households: list[str], *, ask: str = "read") -> dict[str, Any]:
    return op(OpKind.CIRCULAR_PUBLISH, circular_id=circular_id, title="夏祭りのお知らせ",
              body="8月1日に夏祭りを行います。", issued_on="2025-07-01", issuer="会長",
              ask=ask, questions=[], deadline=None, household_ids=households)


class Office:
    """An association on the database and its ops."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.association_id = admin.create_association(
            database, name="桜町内会", code_hours=1).association_id

    def push(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        results = apply_ops(self.database, association_id=self.association_id,
                            raw_ops=list(ops))
        return [r.to_json() for r in results]

    def apply(self, *ops: dict[str, Any]) -> None:
        results = self.push(*ops)
        assert all(r["status"] == "applied" for r in results), results

    def households(self, count: int, *, mail: bool = True) -> list[str]:
        made = [str(uuid.uuid4()) for _ in range(count)]
        self.apply(*[household(h, f"世帯{n}") for n, h in enumerate(made)])
        if mail:
            self.apply(*[addresses(h, f"h{n}@example.jp") for n, h in enumerate(made)])
        return made

    def rows(self, table: Any, **where: Any) -> list[Any]:
        query = select(table).where(table.c.association_id == self.association_id)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.database.read() as connection:
            return list(connection.execute(query).all())

    def mails(self, **where: Any) -> list[Any]:
        return self.rows(mt.mail_message, **where)

    def set_state(self, address: str, state: str) -> None:
        a = mt.mail_address
        with self.database.write() as connection:
            connection.execute(update(a).where(a.c.association_id == self.association_id)
                               .where(a.c.address == address).values(state=state))


# ---------------------------------------------------------------- ids and tokens


def test_tokens_are_ten_crockford_characters_and_ids_are_stable() -> None:
    tokens = {enqueue.new_link_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == 10 and set(t) <= set(enqueue.TOKEN_ALPHABET) for t in tokens)
    token = next(iter(tokens))
    assert enqueue.canonical_link_token(token.lower()) == token
    assert enqueue.canonical_link_token("o1il-OO1ILZ") == "011100111Z"
    assert enqueue.canonical_link_token("short") is None
    assert enqueue.canonical_link_token("UUUUUUUUUU") is None  # U is not in the alphabet
    assert enqueue.link_token_hash(token) == hash_secret(token)
    key = {"association_id": "a", "household_id": "h", "subject": "circular:c",
           "address": "Taro@Example.jp", "round_": 0}
    assert enqueue.mail_id_of(**key) == enqueue.mail_id_of(**{**key, "address": "taro@example.jp"})
    assert enqueue.mail_id_of(**key) != enqueue.mail_id_of(**{**key, "round_": 1})


def test_the_message_id_domain_is_the_public_host_else_an_invalid_one() -> None:
    assert enqueue.mail_domain("https://Relay.Example.jp:8443/kairan") == "relay.example.jp"
    assert enqueue.mail_domain(None) == enqueue.mail_domain("") == "kairan-relay.invalid"
    try:
        enqueue.use_public_base_url("https://relay.example.jp")
        assert enqueue.message_id_of("m") == "<m@relay.example.jp>"
    finally:
        enqueue.use_public_base_url(None)
    assert enqueue.message_id_of("m") == "<m@kairan-relay.invalid>"


# ---------------------------------------------------------------- addresses


def test_addresses_replace_the_list_and_keep_the_state_of_those_that_stay(
        database: Database) -> None:
    office = Office(database)
    (h,) = office.households(1, mail=False)
    office.apply(addresses(h, "a@example.jp", "b@example.jp", "A@example.jp"))
    assert [(r.position, r.address) for r in office.rows(mt.mail_address)] == [
        (0, "a@example.jp"), (1, "b@example.jp")]
    office.set_state("a@example.jp", "bounced")
    office.apply(addresses(h, "c@example.jp", "A@Example.jp"))
    rows = sorted(office.rows(mt.mail_address), key=lambda r: r.position)
    assert [(r.address, r.state) for r in rows] == [("c@example.jp", "ok"),
                                                   ("A@Example.jp", "bounced")]
    office.apply(addresses(h))
    assert office.rows(mt.mail_address) == []


def test_addresses_of_an_unknown_household_are_refused_but_none_is_fine(
        database: Database) -> None:
    office = Office(database)
    stranger = str(uuid.uuid4())
    refused, emptied = office.push(addresses(stranger, "a@example.jp"), addresses(stranger))
    assert (refused["status"], refused["code"]) == ("rejected", "not_found")
    assert emptied["status"] == "applied"
    (bad,) = office.push(addresses(stranger, "not an address"))
    assert bad["code"] == "invalid_body"


def test_one_batch_upserts_addresses_and_publishes_in_op_order(database: Database) -> None:
    office = Office(database)
    h, late = str(uuid.uuid4()), str(uuid.uuid4())
    circular = str(uuid.uuid4())
    office.apply(household(h), addresses(h, "a@example.jp"), household(late),
                 publish(circular, [h, late]), addresses(late, "late@example.jp"))
    assert [m.address for m in office.mails()] == ["a@example.jp"]  # late came after


# ---------------------------------------------------------------- circulars


def test_a_publish_queues_one_mail_per_address_and_one_link_per_household(
        database: Database) -> None:
    office = Office(database)
    two, one, paper = office.households(3, mail=False)
    office.apply(addresses(two, "t1@example.jp", "t2@example.jp"),
                 addresses(one, "o@example.jp"))
    circular = str(uuid.uuid4())
    office.apply(publish(circular, [two, one, paper]))

    mails = office.mails()
    assert sorted(m.address for m in mails) == ["o@example.jp", "t1@example.jp",
                                                "t2@example.jp"]
    for mail in mails:
        assert (mail.kind, mail.circular_id, mail.round, mail.state, mail.attempts) == (
            "circular", circular, 0, "queued", 0)
        assert mail.message_id == f"<{mail.mail_id}@kairan-relay.invalid>"
        assert mail.next_attempt_at is not None and mail.sent_at is None
        assert enqueue.canonical_link_token(mail.link_token) == mail.link_token
    by_household = {m.household_id: m.link_token for m in mails}
    assert len({m.link_token for m in mails if m.household_id == two}) == 1
    links = office.rows(mt.mail_link)
    assert sorted((k.household_id, k.token_hash) for k in links) == sorted(
        (h, hash_secret(token)) for h, token in by_household.items())
    assert all(k.circular_id == circular and k.kind == "circular" and k.opened_at is None
               for k in links)
    assert not office.rows(tables.log, kind=LogKind.MAIL)  # queued is not an event


def test_publishing_again_queues_nothing_new(database: Database) -> None:
    office = Office(database)
    households = office.households(3)
    circular = str(uuid.uuid4())
    first = publish(circular, households[:2])
    office.apply(first)
    before = {m.mail_id: m.link_token for m in office.mails()}
    assert len(before) == 2
    (again,) = office.push(first)
    assert again["status"] == "duplicate"
    office.apply(publish(circular, households[:2]))  # edited and published again
    assert {m.mail_id: m.link_token for m in office.mails()} == before
    assert len(office.rows(mt.mail_link)) == 2
    office.apply(publish(circular, households))  # one more recipient: only it is mailed
    assert len(office.mails()) == 3
    office.apply(publish(circular, households[1:]))  # one fewer: its queued mail goes
    cancelled = office.mails(state="cancelled")
    assert [m.household_id for m in cancelled] == [households[0]]
    assert cancelled[0].link_token is None


def test_bounced_and_unsubscribed_addresses_are_never_mailed(database: Database) -> None:
    office = Office(database)
    bounced, stopped, fine = office.households(3, mail=False)
    office.apply(addresses(bounced, "gone@example.jp", "ok@example.jp"),
                 addresses(stopped, "stop@example.jp"), addresses(fine, "fine@example.jp"))
    office.set_state("gone@example.jp", "bounced")
    office.set_state("stop@example.jp", "unsubscribed")
    office.apply(publish(str(uuid.uuid4()), [bounced, stopped, fine]))
    assert sorted(m.address for m in office.mails()) == ["fine@example.jp", "ok@example.jp"]
    assert {k.household_id for k in office.rows(mt.mail_link)} == {bounced, fine}


def test_an_address_removed_or_switched_to_paper_loses_its_queued_mails(
        database: Database) -> None:
    office = Office(database)
    h, paper = office.households(2, mail=False)
    office.apply(addresses(h, "a@example.jp", "b@example.jp"), addresses(paper, "p@example.jp"))
    office.apply(publish(str(uuid.uuid4()), [h, paper]))
    office.apply(addresses(h, "b@example.jp"), addresses(paper))
    states = {m.address: m.state for m in office.mails()}
    assert states == {"a@example.jp": "cancelled", "b@example.jp": "queued",
                      "p@example.jp": "cancelled"}


def test_a_retract_cancels_the_mails_not_yet_sent(database: Database) -> None:
    office = Office(database)
    households = office.households(2)
    circular = str(uuid.uuid4())
    office.apply(publish(circular, households))
    with database.write() as connection:  # one was sent already: it stays as it was
        connection.execute(update(mt.mail_message)
                           .where(mt.mail_message.c.household_id == households[0])
                           .values(state="sent", link_token=None))
    office.apply(op(OpKind.CIRCULAR_RETRACT, circular_id=circular))
    assert sorted((m.household_id, m.state) for m in office.mails()) == sorted(
        [(households[0], "sent"), (households[1], "cancelled")])
    assert all(m.link_token is None for m in office.mails())
    # Published again later: those whose mail was cancelled get the next round.
    office.apply(publish(circular, households))
    fresh = office.mails(state="queued")
    assert [(m.household_id, m.round) for m in fresh] == [(households[1], 1)]


def test_a_resend_queues_the_next_round_with_a_new_link(database: Database) -> None:
    office = Office(database)
    recipients = office.households(2)
    (outsider,) = office.households(1)
    circular = str(uuid.uuid4())
    office.apply(publish(circular, recipients))
    office.apply(op(OpKind.MAIL_RESEND, circular_id=circular,
                    household_ids=[*recipients, outsider]))
    office.apply(op(OpKind.MAIL_RESEND, circular_id=circular, household_ids=[recipients[0]]))
    mails = office.mails()
    assert sorted((m.household_id == recipients[0], m.round) for m in mails) == [
        (False, 0), (False, 1), (True, 0), (True, 1), (True, 2)]
    assert len({m.message_id for m in mails}) == len({m.link_token for m in mails}) == 5
    assert len(office.rows(mt.mail_link)) == 5
    assert not office.mails(household_id=outsider)


def test_a_resend_of_an_unknown_or_retracted_circular_is_refused(database: Database) -> None:
    office = Office(database)
    households = office.households(1)
    circular = str(uuid.uuid4())
    unknown, _published, resent, _retracted, late = office.push(
        op(OpKind.MAIL_RESEND, circular_id=circular, household_ids=households),
        publish(circular, households),
        op(OpKind.MAIL_RESEND, circular_id=circular, household_ids=households),
        op(OpKind.CIRCULAR_RETRACT, circular_id=circular),
        op(OpKind.MAIL_RESEND, circular_id=circular, household_ids=households))
    assert (unknown["code"], resent["status"], late["code"]) == (
        "not_found", "applied", "not_found")


def test_a_purge_removes_every_address_mail_link_and_mail_log_item(database: Database) -> None:
    office = Office(database)
    gone, kept = office.households(2)
    office.apply(publish(str(uuid.uuid4()), [gone, kept]))
    with database.write() as connection:  # an item the sender or a link would have logged
        from sync.relay.db import append_log

        append_log(connection, association_id=office.association_id, kind=LogKind.MAIL,
                   body={"household_id": gone, "event": "sent"}, household_id=gone)
    office.apply(op(OpKind.HOUSEHOLD_PURGE, household_id=gone))
    for table in (mt.mail_address, mt.mail_message, mt.mail_link, tables.log):
        assert not office.rows(table, household_id=gone), table.name
    assert office.mails(household_id=kept)


def test_a_purge_later_in_the_batch_drops_what_was_planned_for_the_household(
        database: Database) -> None:
    office = Office(database)
    h, other = str(uuid.uuid4()), str(uuid.uuid4())
    circular = str(uuid.uuid4())
    office.apply(household(h), household(other), addresses(h, "a@example.jp"),
                 addresses(other, "b@example.jp"), publish(circular, [h, other]),
                 op(OpKind.MAIL_RESEND, circular_id=circular, household_ids=[h]),
                 op(OpKind.HOUSEHOLD_PURGE, household_id=h))
    assert [m.household_id for m in office.mails()] == [other]
    assert not office.rows(mt.mail_address, household_id=h)


# ---------------------------------------------------------------- the safety check


def test_disaster_mode_mails_the_safety_check_once_per_switch_on(database: Database) -> None:
    office = Office(database)
    households = office.households(3)
    office.set_state("h2@example.jp", "unsubscribed")

    def disaster(on: bool, message: str = "地震") -> dict[str, Any]:
        return op(OpKind.DISASTER_SET, on=on, message=message)

    office.apply(disaster(True))
    first = office.mails(kind="safety")
    assert sorted(m.household_id for m in first) == sorted(households[:2])
    assert all(m.circular_id is None and m.state == "queued" for m in first)
    assert all(k.kind == "safety" and k.circular_id is None
               for k in office.rows(mt.mail_link))
    office.apply(disaster(True, "地震（続報）"))  # still on: the message changed, no mail
    assert len(office.mails(kind="safety")) == 2
    office.apply(disaster(False))
    assert {m.state for m in office.mails(kind="safety")} == {"cancelled"}
    office.apply(disaster(True))
    assert len(office.mails(kind="safety", state="queued")) == 2
    office.apply(disaster(False), disaster(True))  # off and on in one batch: a new check
    assert len(office.mails(kind="safety", state="queued")) == 2
    assert len(office.mails(kind="safety")) == 6


# ---------------------------------------------------------------- performance


def test_a_publish_to_10000_households_is_a_handful_of_statements(database: Database) -> None:
    office = Office(database)
    count = 10_000
    made = [str(uuid.uuid4()) for _ in range(count)]
    at = datetime.now(UTC)
    with database.write() as connection:  # the roster, written directly: not under test
        connection.execute(insert(tables.household), [
            {"association_id": office.association_id, "household_id": h, "number": str(n),
             "display_name": f"世帯{n}", "group_id": None, "group_name": "",
             "updated_at": at} for n, h in enumerate(made)])
        connection.execute(insert(mt.mail_address), [
            {"association_id": office.association_id, "household_id": h, "position": 0,
             "address": f"h{n}@example.jp", "state": "ok", "state_detail": "",
             "state_at": at} for n, h in enumerate(made)])
    statements: list[str] = []

    def count_statement(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", count_statement)
    started = time.perf_counter()
    try:
        office.apply(publish(str(uuid.uuid4()), made))
    finally:
        event.remove(database.engine, "before_cursor_execute", count_statement)
    elapsed = time.perf_counter() - started
    with database.read() as connection:
        queued = connection.execute(
            select(func.count()).select_from(mt.mail_message)
            .where(mt.mail_message.c.association_id == office.association_id)).scalar_one()
    assert queued == count
    # executemany may be split into a few pages by the driver, never one per household.
    assert len(statements) < 60, len(statements)
    assert elapsed < 30, elapsed
