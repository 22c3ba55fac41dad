"""The durable mail queue: claiming due mails with a lease, and recording what became of each.

A sender claims due mails in one write transaction: ``queued`` ones whose time has come, and
``sending`` ones whose lease ran out (their sender crashed), and marks them ``sending`` until
``lease_until``. Whatever then happens to one mail is one write transaction of its own, made
the moment the SMTP server answered: ``sent`` (the token of its link cleared), ``bounced``
(the address too: it is never mailed again, and what else waits for it is cancelled),
``failed`` (given up after its retries) or back to ``queued`` for a later try — each final
state with its :data:`~sync.protocol.LogKind.MAIL` item for the office in that transaction,
numbered from the association's counter like every other log item.

A state change only applies while the row is still under the lease this sender took
(``lease_until`` is the fencing value), so a sender that lost its lease can never overwrite
what another one recorded. Mails that can no longer go out — the address was bounced,
unsubscribed or removed, the circular retracted, the disaster mode ended — are ``cancelled``
when claimed.

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``, so several relay processes share the queue
without waiting on each other; SQLite's ``BEGIN IMMEDIATE`` serialises them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, tuple_, update

from sync.protocol import LogKind
from sync.relay import mail_tables as mt
from sync.relay import tables
from sync.relay.db import Database, append_log, as_utc, iso, now
from sync.relay.mail.compose import MailContent

_M = mt.mail_message
MAX_DETAIL = 500  # characters of an SMTP reply kept as the reason


@dataclass(frozen=True, slots=True)
class Claimed:
    """A mail this sender holds until ``lease_until``, with what it says."""

    association_id: str
    mail_id: str
    household_id: str
    circular_id: str | None
    address: str
    attempts: int
    queued_at: datetime
    lease_until: datetime
    content: MailContent


def _detail(text: str) -> str:
    return " ".join(text.split())[:MAX_DETAIL]


def _due(moment: datetime) -> Any:
    return or_(and_(_M.c.state == "queued", _M.c.next_attempt_at <= moment),
               and_(_M.c.state == "sending", _M.c.lease_until < moment))


def _address_ok() -> Any:
    a = mt.mail_address
    # Compared ignoring case, as the office's address lists are (a rewritten address keeps
    # its state and its mails).
    return exists().where(a.c.association_id == _M.c.association_id,
                          a.c.household_id == _M.c.household_id,
                          func.lower(a.c.address) == func.lower(_M.c.address),
                          a.c.state == "ok")


def _details_query(keys: Sequence[tuple[str, str]]) -> Any:
    c, assoc = tables.circular, tables.association
    return (
        select(_M.c.association_id, _M.c.mail_id, _M.c.household_id, _M.c.circular_id,
               _M.c.kind, _M.c.address, _M.c.round, _M.c.message_id, _M.c.link_token,
               _M.c.attempts, _M.c.queued_at, _M.c.next_attempt_at,
               assoc.c.name, assoc.c.disaster_on, assoc.c.disaster_message,
               c.c.circular_id.label("found_circular"), c.c.title, c.c.body, c.c.ask,
               c.c.deadline, _address_ok().label("address_ok"))
        .join(assoc, assoc.c.id == _M.c.association_id)
        .outerjoin(c, and_(c.c.association_id == _M.c.association_id,
                           c.c.circular_id == _M.c.circular_id))
        .where(tuple_(_M.c.association_id, _M.c.mail_id).in_(keys))
        .order_by(_M.c.next_attempt_at, _M.c.mail_id)
    )


def _why_not(row: Any) -> str | None:
    """Why a claimed mail must not go out any more (None: it may)."""
    if not row.address_ok:
        return "address no longer mailed (bounced, unsubscribed or removed)"
    if not row.link_token:
        return "no link token"
    if row.kind == "safety":
        return None if row.disaster_on else "the safety check has ended"
    return None if row.found_circular is not None else "the circular was retracted"


def _content(row: Any) -> MailContent:
    return MailContent(
        message_id=row.message_id, address=row.address, kind=row.kind,
        link_token=row.link_token, association_name=row.name,
        queued_at=as_utc(row.queued_at), round=row.round, title=row.title or "",
        body=row.body or "", ask=row.ask or "nothing", deadline=row.deadline,
        disaster_message=row.disaster_message or "")


def any_due(database: Database, *, at: datetime | None = None) -> bool:
    """Whether some mail is due (a cheap read, so an idle sender takes no write lock)."""
    with database.read() as connection:
        return connection.execute(
            select(_M.c.mail_id).where(_due(at or now())).limit(1)).first() is not None


def claim(database: Database, *, limit: int, lease_seconds: float,
          at: datetime | None = None) -> tuple[list[Claimed], int]:
    """Claim up to ``limit`` due mails until ``at + lease_seconds``; return them and how many
    due mails were cancelled instead (see the module docstring)."""
    moment = at or now()
    lease_until = moment + timedelta(seconds=lease_seconds)
    with database.write() as connection:
        keys_query = (select(_M.c.association_id, _M.c.mail_id).where(_due(moment))
                      .order_by(_M.c.next_attempt_at, _M.c.mail_id).limit(limit))
        if not database.is_sqlite:
            keys_query = keys_query.with_for_update(skip_locked=True)
        keys = [(row.association_id, row.mail_id)
                for row in connection.execute(keys_query)]
        if not keys:
            return [], 0
        claimed: list[Claimed] = []
        cancelled: list[tuple[tuple[str, str], str]] = []
        for row in connection.execute(_details_query(keys)):
            key = (row.association_id, row.mail_id)
            reason = _why_not(row)
            if reason is not None:
                cancelled.append((key, reason))
                continue
            claimed.append(Claimed(
                association_id=row.association_id, mail_id=row.mail_id,
                household_id=row.household_id, circular_id=row.circular_id,
                address=row.address, attempts=row.attempts, queued_at=as_utc(row.queued_at),
                lease_until=lease_until, content=_content(row)))
        for key, reason in cancelled:
            connection.execute(update(_M).where(_M.c.association_id == key[0],
                                                _M.c.mail_id == key[1])
                               .values(state="cancelled", link_token=None, lease_until=None,
                                       last_error=reason))
        if claimed:
            connection.execute(
                update(_M).where(tuple_(_M.c.association_id, _M.c.mail_id).in_(
                    [(mail.association_id, mail.mail_id) for mail in claimed]))
                .values(state="sending", lease_until=lease_until))
    return claimed, len(cancelled)


def _held(mail: Claimed) -> Any:
    """The row of ``mail`` while this sender's lease on it stands (the fencing condition)."""
    return and_(_M.c.association_id == mail.association_id, _M.c.mail_id == mail.mail_id,
                _M.c.state == "sending", _M.c.lease_until == mail.lease_until)


def log_mail_event(connection: Connection, *, association_id: str, household_id: str,
                   circular_id: str | None, address: str, event: str, detail: str,
                   at: datetime) -> int:
    """Inside a write transaction: append the office's :data:`~sync.protocol.LogKind.MAIL`
    item for one mail's ``event`` (numbered from the association's counter, purged with the
    household); its sequence number."""
    return append_log(connection, association_id=association_id, kind=LogKind.MAIL,
                      body={"household_id": household_id, "circular_id": circular_id,
                            "address": address, "event": event, "detail": detail,
                            "at": iso(at)},
                      household_id=household_id, at=at)


def _log(connection: Connection, mail: Claimed, event: str, detail: str,
         at: datetime) -> None:
    log_mail_event(connection, association_id=mail.association_id,
                   household_id=mail.household_id, circular_id=mail.circular_id,
                   address=mail.address, event=event, detail=detail, at=at)


def record_sent(database: Database, mail: Claimed, *, reply: str = "",
                at: datetime | None = None) -> bool:
    """The SMTP server took ``mail``: ``sent``, its link token cleared, a ``sent`` item for
    the office. False when the lease was lost meanwhile (nothing is written then)."""
    moment = at or now()
    with database.write() as connection:
        done = connection.execute(update(_M).where(_held(mail)).values(
            state="sent", sent_at=moment, link_token=None, lease_until=None,
            attempts=_M.c.attempts + 1, last_error=""))
        if done.rowcount != 1:
            return False
        _log(connection, mail, "sent", _detail(reply), moment)
    return True


def record_retry(database: Database, mail: Claimed, *, error: str, delay_seconds: float,
                 max_attempts: int, at: datetime | None = None) -> str | None:
    """A passing refusal (4xx, timeout, lost connection): ``queued`` again after
    ``delay_seconds``, or ``failed`` with an item for the office once this was the last of
    ``max_attempts``. The state it got, or None when the lease was lost meanwhile."""
    moment = at or now()
    detail = _detail(error)
    with database.write() as connection:
        if mail.attempts + 1 >= max_attempts:
            done = connection.execute(update(_M).where(_held(mail)).values(
                state="failed", link_token=None, lease_until=None,
                attempts=_M.c.attempts + 1, last_error=detail))
            if done.rowcount != 1:
                return None
            _log(connection, mail, "failed", detail, moment)
            return "failed"
        done = connection.execute(update(_M).where(_held(mail)).values(
            state="queued", lease_until=None, attempts=_M.c.attempts + 1, last_error=detail,
            next_attempt_at=moment + timedelta(seconds=delay_seconds)))
        return "queued" if done.rowcount == 1 else None


def bounce_address(connection: Connection, *, association_id: str, household_id: str,
                   address: str, detail: str, at: datetime) -> bool:
    """Inside a write transaction: mark the household's ``address`` bounced (it is never
    mailed again) and cancel what still waits for it; whether the address was still ok."""
    a = mt.mail_address
    changed = connection.execute(update(a).where(
        a.c.association_id == association_id, a.c.household_id == household_id,
        func.lower(a.c.address) == address.lower(), a.c.state == "ok",
    ).values(state="bounced", state_detail=detail, state_at=at)).rowcount
    connection.execute(update(_M).where(
        _M.c.association_id == association_id, _M.c.household_id == household_id,
        func.lower(_M.c.address) == address.lower(), _M.c.state == "queued",
    ).values(state="cancelled", link_token=None, last_error="address bounced"))
    return bool(changed)


def record_bounced(database: Database, mail: Claimed, *, reply: str,
                   at: datetime | None = None) -> bool:
    """A permanent refusal (5xx): the mail and its address ``bounced``, a ``bounced`` item
    for the office. False when the lease was lost meanwhile."""
    moment = at or now()
    detail = _detail(reply)
    with database.write() as connection:
        done = connection.execute(update(_M).where(_held(mail)).values(
            state="bounced", link_token=None, lease_until=None,
            attempts=_M.c.attempts + 1, last_error=detail))
        if done.rowcount != 1:
            return False
        bounce_address(connection, association_id=mail.association_id,
                       household_id=mail.household_id, address=mail.address, detail=detail,
                       at=moment)
        _log(connection, mail, "bounced", detail, moment)
    return True


def release(database: Database, mails: Sequence[Claimed]) -> None:
    """Give claimed mails that were not tried back to the queue, due at once (the SMTP
    server became unreachable, or the sender is stopping): no attempt is counted."""
    if not mails:
        return
    with database.write() as connection:
        for mail in mails:
            connection.execute(update(_M).where(_held(mail)).values(state="queued",
                                                                    lease_until=None))


def renew(database: Database, mails: Sequence[Claimed], *, lease_seconds: float,
          at: datetime | None = None) -> list[Claimed]:
    """Extend the lease on ``mails`` (still to be sent) to ``at + lease_seconds``; the ones
    still held, with their new lease."""
    moment = at or now()
    until = moment + timedelta(seconds=lease_seconds)
    kept: list[Claimed] = []
    with database.write() as connection:
        for mail in mails:
            done = connection.execute(update(_M).where(_held(mail)).values(lease_until=until))
            if done.rowcount == 1:
                kept.append(replace(mail, lease_until=until))
    return kept

