"""The resident pages' tables, on the relay's :data:`~sync.relay.tables.metadata`.

Residents' sessions are rows of the relay's ``token`` table (scope ``resident``), so the office
endpoints refuse them with 403; here are only what residents send back (answers, read marks,
meeting forms) and the general meetings the office publishes. A safety answer is kept once, as
its item of the association's log (kind ``safety``, see ``sync.relay.tables.log``). Every row that
belongs to a household references it with ``ON DELETE CASCADE``: ``household.purge`` removes
every trace of it. Each of these rows is also an item of the association's log, written in the
same transaction, so the office pulls it; the rows here are what the resident page shows.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    Text,
)

from sync.relay.tables import ID, metadata

_HOUSEHOLD_FK = (["association_id", "household_id"],
                 ["household.association_id", "household.household_id"])

# The household's current answer to a circular (a new answer replaces it; the log keeps each).
resident_answer = Table(
    "resident_answer",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("circular_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    Column("answer_id", String(ID), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
    ForeignKeyConstraint(["association_id", "circular_id"],
                         ["circular.association_id", "circular.circular_id"],
                         ondelete="CASCADE"),
)

# When the household first opened a circular on the page.
resident_read = Table(
    "resident_read",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("circular_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
    ForeignKeyConstraint(["association_id", "circular_id"],
                         ["circular.association_id", "circular.circular_id"],
                         ondelete="CASCADE"),
)

# A general meeting (総会) as the office publishes it (``meeting.publish``): the agenda items
# and whether residents may send attendance, proxy and written vote online.
meeting = Table(
    "meeting",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("meeting_id", String(ID), primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("held_on", String(10), nullable=False),  # ISO date
    Column("deadline", String(10)),  # last day forms are taken online (default: the day before)
    Column("online_forms", Boolean, nullable=False),
    Column("items", JSON, nullable=False),  # [{"item_id", "title"}] in agenda order
    Column("published_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

# The voters' households of a meeting. Meetings are published long after the roster reached
# the relay, so only households it holds are listed and the foreign key lets purge remove them.
meeting_recipient = Table(
    "meeting_recipient",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("meeting_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    ForeignKeyConstraint(["association_id", "meeting_id"],
                         ["meeting.association_id", "meeting.meeting_id"],
                         ondelete="CASCADE"),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
    Index("ix_meeting_recipient_household", "association_id", "household_id"),
)

# The household's current form for a meeting: attend, absent, proxy (to a named holder, or
# the chair when empty) or written vote (one answer per agenda item).
meeting_answer = Table(
    "meeting_answer",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("meeting_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    Column("answer_id", String(ID), nullable=False),
    Column("form", String(16), nullable=False),
    Column("proxy_to", Text),
    Column("votes", JSON),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
    ForeignKeyConstraint(["association_id", "meeting_id"],
                         ["meeting.association_id", "meeting.meeting_id"],
                         ondelete="CASCADE"),
)
