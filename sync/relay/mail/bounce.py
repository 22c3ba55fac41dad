"""Bounces that come back later: a delivery status notification (DSN) fed to the relay.

Many SMTP servers accept a mail (250) and only later find the mailbox does not exist; they then
send a DSN (RFC 3464: ``multipart/report; report-type=delivery-status``) to the sender address.
The operator pipes such mails into ``kairan-relay mail bounce`` (by hand, or from the mailbox's
delivery rule). The DSN names the original mail by its Message-ID (in the returned message or
its headers); when its per-recipient ``Action`` is ``failed`` with a permanent (5.x.x) status,
the mail and its address become ``bounced`` — the address is never mailed again — with a
``bounced`` item for the office, all in one transaction. A delay notice (4.x.x, ``delayed``)
changes nothing. Anything that is not a DSN is refused: an out-of-office reply also quotes the
Message-ID, and it must never switch a household off.

Feeding the same DSN twice records it once.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser

from sqlalchemy import select, update

from desktop.domain.errors import ValidationError
from desktop.i18n import _
from sync.relay import mail_tables as mt
from sync.relay.db import Database, now
from sync.relay.mail.queue import MAX_DETAIL, bounce_address, log_mail_event

_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_M = mt.mail_message


@dataclass(frozen=True, slots=True)
class Notice:
    """What a DSN says: the Message-IDs it names, and per its recipients whether delivery
    failed for good."""

    message_ids: tuple[str, ...]
    action: str  # failed | delayed | delivered | relayed | expanded | "" (none given)
    status: str  # e.g. 5.1.1
    diagnostic: str

    @property
    def permanent(self) -> bool:
        """Whether this reports a permanent failure (the address is not to be used again)."""
        return self.action == "failed" and self.status.startswith("5")


@dataclass(frozen=True, slots=True)
class BounceOutcome:
    """What feeding one DSN did."""

    recorded: bool  # the mail and its address were marked bounced now
    message_id: str
    address: str
    detail: str


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # Some parsers leave the report as text: its blocks are separated by blank lines.
    text = part.get_payload(decode=True)
    if not isinstance(text, bytes):
        return []
    parser = BytesHeaderParser(policy=email.policy.default)
    return [parser.parsebytes(block.strip() + b"\n")
            for block in re.split(rb"\r?\n\r?\n", text) if block.strip()]


def _ids_in(text: str) -> list[str]:
    return _MESSAGE_ID.findall(text)


def read_notice(raw: bytes) -> Notice:
    """The DSN in ``raw``; :class:`ValidationError` when it is not one."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    report_type = message.get_param("report-type", "")
    if (message.get_content_type() != "multipart/report"
            or not isinstance(report_type, str) or report_type.lower() != "delivery-status"):
        raise ValidationError(_("This is not a delivery status notification (a bounce with "
                                "Content-Type multipart/report; report-type=delivery-status)."))
    action = status = diagnostic = ""
    ids: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _blocks(part)[1:]:  # the first block is about the whole message
                action = str(block.get("Action", "")).strip().lower()
                status = str(block.get("Status", "")).strip()
                diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
                if action == "failed":
                    break
        elif kind == "message/rfc822":
            for inner in part.iter_parts() if part.is_multipart() else []:
                ids += _ids_in(str(inner.get("Message-ID", "")))
        elif kind == "text/rfc822-headers":
            returned = part.get_payload(decode=True)
            if isinstance(returned, bytes):
                headers = BytesHeaderParser(policy=email.policy.default).parsebytes(returned)
                ids += _ids_in(str(headers.get("Message-ID", "")))
    if not ids:  # a DSN that returned no headers may still quote the id in its text
        ids = _ids_in(raw.decode("utf-8", "replace"))
    return Notice(message_ids=tuple(dict.fromkeys(ids)), action=action, status=status,
                  diagnostic=diagnostic)


def record_bounce(database: Database, raw: bytes) -> BounceOutcome:
    """Record the DSN in ``raw`` (see the module docstring); :class:`ValidationError` when it
    is not a permanent failure of a mail this relay sent."""
    notice = read_notice(raw)
    if not notice.permanent:
        raise ValidationError(_("The notification reports no permanent failure (action "
                                "{action}, status {status}): nothing was changed.").format(
                                    action=notice.action or "-", status=notice.status or "-"))
    detail = " ".join(f"{notice.status} {notice.diagnostic}".split())[:MAX_DETAIL]
    moment = now()
    with database.write() as connection:
        row = None
        if notice.message_ids:
            row = connection.execute(
                select(_M.c.association_id, _M.c.mail_id, _M.c.household_id,
                       _M.c.circular_id, _M.c.address, _M.c.state, _M.c.message_id)
                .where(_M.c.message_id.in_(notice.message_ids))).first()
        if row is None:
            raise ValidationError(_("The notification names no mail this relay sent "
                                    "(Message-ID {ids}).").format(
                                        ids=", ".join(notice.message_ids) or "-"))
        changed = connection.execute(update(_M).where(
            _M.c.association_id == row.association_id, _M.c.mail_id == row.mail_id,
            _M.c.state == "sent",
        ).values(state="bounced", last_error=detail)).rowcount
        address_changed = bounce_address(
            connection, association_id=row.association_id, household_id=row.household_id,
            address=row.address, detail=detail, at=moment)
        recorded = bool(changed or address_changed)
        if recorded:
            log_mail_event(connection, association_id=row.association_id,
                           household_id=row.household_id, circular_id=row.circular_id,
                           address=row.address, event="bounced", detail=detail, at=moment)
    return BounceOutcome(recorded=recorded, message_id=row.message_id, address=row.address,
                         detail=detail)
