"""The mail queue summed up per association, for ``kairan-relay mail status``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from sync.relay import mail_tables as mt
from sync.relay import tables
from sync.relay.db import Database, as_utc

MAIL_STATES = ("queued", "sending", "sent", "failed", "bounced", "cancelled")


@dataclass(slots=True)
class QueueStatus:
    """One association's mails by state, its addresses that are off, and what is next."""

    association_id: str
    name: str
    mails: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MAIL_STATES, 0))
    addresses: dict[str, int] = field(default_factory=dict)  # state → count
    next_attempt_at: datetime | None = None  # of the earliest queued mail
    last_error: str = ""  # of a queued mail tried before (why it waits)


def queue_status(database: Database, *, association_id: str | None = None) -> list[QueueStatus]:
    """The status of every association that has mail or addresses (or of the one named)."""
    m, a, assoc = mt.mail_message, mt.mail_address, tables.association
    found: dict[str, QueueStatus] = {}

    def entry(key: str) -> QueueStatus:
        return found.setdefault(key, QueueStatus(association_id=key, name=""))

    def only(query: Any) -> Any:
        return query if association_id is None else query.where(
            query.selected_columns[0] == association_id)

    with database.read() as connection:
        for key, state, count in connection.execute(only(
                select(m.c.association_id, m.c.state, func.count())
                .group_by(m.c.association_id, m.c.state))):
            entry(key).mails[state] = int(count)
        for key, state, count in connection.execute(only(
                select(a.c.association_id, a.c.state, func.count())
                .group_by(a.c.association_id, a.c.state))):
            entry(key).addresses[state] = int(count)
        for key, first in connection.execute(only(
                select(m.c.association_id, func.min(m.c.next_attempt_at))
                .where(m.c.state == "queued").group_by(m.c.association_id))):
            entry(key).next_attempt_at = None if first is None else as_utc(first)
        for key, error in connection.execute(only(
                select(m.c.association_id, func.max(m.c.last_error))
                .where(m.c.state == "queued", m.c.attempts > 0)
                .group_by(m.c.association_id))):
            entry(key).last_error = str(error or "")
        names = _names(connection.execute(select(assoc.c.id, assoc.c.name)
                                          .where(assoc.c.id.in_(sorted(found)))))
    for key, status in found.items():
        status.name = names.get(key, "")
    return sorted(found.values(), key=lambda status: (status.name, status.association_id))


def _names(rows: Iterable[Any]) -> dict[str, str]:
    return {str(key): str(name) for key, name in rows}
