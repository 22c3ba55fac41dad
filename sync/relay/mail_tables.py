"""The e-mail channel's tables, on the relay's :data:`~sync.relay.tables.metadata`.

A household whose channel is e-mail has up to four addresses here (sent by the office as
``mail.addresses``); every mail to one of them is a durable ``mail_message`` row, queued in the
same transaction as the circular or safety check it carries, sent by the relay's mail sender
and kept as a record (its personal-link token is cleared once sent). A ``mail_link`` is the
personal link of one household to one circular (or to the safety check): only its hash is
kept. Every row references its household with ``ON DELETE CASCADE``, so ``household.purge``
leaves no address, mail or link behind.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from sync.relay.tables import HASH, ID, metadata

_HOUSEHOLD_FK = (["association_id", "household_id"],
                 ["household.association_id", "household.household_id"])

# A household's addresses in the roster's order; the state of each is the relay's own record
# (bounced: refused for good; unsubscribed: the household pressed the stop link).
mail_address = Table(
    "mail_address",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("address", Text, nullable=False),
    Column("state", String(16), nullable=False, default="ok"),
    Column("state_detail", Text, nullable=False, default=""),
    Column("state_at", DateTime(timezone=True)),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
)

# One mail to one address: queued → sending (leased) → sent | failed | bounced | cancelled.
mail_message = Table(
    "mail_message",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("mail_id", String(ID), primary_key=True),
    Column("household_id", String(ID), nullable=False),
    Column("circular_id", String(ID)),  # null: a safety check
    Column("kind", String(16), nullable=False),  # circular | safety
    Column("address", Text, nullable=False),
    Column("round", Integer, nullable=False, default=0),  # 0: first mail, n: nth re-send
    Column("message_id", Text, nullable=False),
    Column("link_token", String(16)),  # the personal link's token, until the mail is sent
    Column("state", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_error", Text, nullable=False, default=""),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
    Index("ix_mail_message_due", "state", "next_attempt_at"),
    Index("ix_mail_message_household", "association_id", "household_id"),
    Index("ix_mail_message_circular", "association_id", "circular_id"),
    Index("ix_mail_message_message_id", "message_id"),  # bounce intake
)

# The personal link of one household to one circular (circular_id null: the safety check).
mail_link = Table(
    "mail_link",
    metadata,
    Column("token_hash", String(HASH), primary_key=True),
    Column("association_id", String(ID), nullable=False),
    Column("household_id", String(ID), nullable=False),
    Column("circular_id", String(ID)),
    Column("kind", String(16), nullable=False),  # circular | safety
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True)),
    ForeignKeyConstraint(*_HOUSEHOLD_FK, ondelete="CASCADE"),
    Index("ix_mail_link_household", "association_id", "household_id"),
)
