"""The relay's tables (SQLAlchemy Core): only what residents must see, the log and the keys.

Every row of an association's data carries ``association_id`` in its primary key, so ids made on
one association's PC can never reach, overwrite or reveal another association's rows. Secrets
(tokens, pairing and invitation codes) are stored as sha256 hashes only.

Other relay modules add their tables to the same :data:`metadata` (the resident pages' sessions
and answers); a table that belongs to a household should reference :data:`household` with
``ondelete="CASCADE"`` so that ``household.purge`` removes it too (SQLite runs with foreign keys
on). Migrations in ``sync/relay/migrations`` are written from these definitions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect

from sync.protocol import canonical_json


class JsonText(TypeDecorator[Any]):
    """A JSON object kept as its text. Written: a dict is serialised (canonical form), a str is
    taken as JSON text already; read: the text as stored, so the log is served without parsing
    and re-serialising every body."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return canonical_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


# Constraint names fixed by convention so that later migrations can name what they change.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 36  # a UUID in its canonical text form
HASH = 64  # sha256 hex

# Facts about this database: its epoch (a random id, new for every new or restored database).
relay_meta = Table(
    "relay_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row per association; ``last_seq`` is the log's counter, bumped inside each writing
# transaction while the row is locked, so sequence numbers commit in order.
association = Table(
    "association",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seq", BigInteger, nullable=False, default=0),
    Column("disaster_on", Boolean, nullable=False, default=False),
    Column("disaster_message", Text, nullable=False, default=""),
    Column("disaster_changed_at", DateTime(timezone=True)),
    # What the association keeps personal data for: the office sends it, every page shows it.
    Column("purpose_statement", Text, nullable=False, default="", server_default=""),
    # Replication between office PCs: the current key generation (0: no key yet) and the
    # highest schema of the replica ops pushed so far.
    Column("key_gen", Integer, nullable=False, default=0, server_default="0"),
    Column("replica_schema", Integer, nullable=False, default=0, server_default="0"),
)

# Bearer tokens: office devices and resident households (``household_id`` set for residents).
token = Table(
    "token",
    metadata,
    Column("token_hash", String(HASH), primary_key=True),
    Column("association_id", String(ID), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("household_id", String(ID)),
    Column("label", Text, nullable=False, default=""),  # device name, or the resident's browser
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["association_id", "household_id"],
        ["household.association_id", "household.household_id"],
        ondelete="CASCADE",
    ),
    Index("ix_token_association_id", "association_id"),
)

pairing_code = Table(
    "pairing_code",
    metadata,
    Column("code_hash", String(HASH), primary_key=True),
    Column("association_id", String(ID), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

household = Table(
    "household",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    Column("number", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("group_id", String(ID)),
    Column("group_name", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

# One current invitation per household; the office keeps the code, the relay its hash.
invitation = Table(
    "invitation",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    Column("code_hash", String(HASH), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["association_id", "household_id"],
        ["household.association_id", "household.household_id"],
        ondelete="CASCADE",
    ),
    Index("ix_invitation_code_hash", "code_hash"),
)

circular = Table(
    "circular",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("circular_id", String(ID), primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("issued_on", String(10), nullable=False),  # ISO date as the office sent it
    Column("issuer", Text, nullable=False),
    Column("ask", String(16), nullable=False),
    Column("questions", JSON, nullable=False),
    Column("deadline", String(10)),
    Column("published_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

# Who a circular is for. No foreign key to household: a circular may be published before its
# households reach the relay (the resident page joins on household anyway); purge deletes here.
circular_recipient = Table(
    "circular_recipient",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("circular_id", String(ID), primary_key=True),
    Column("household_id", String(ID), primary_key=True),
    ForeignKeyConstraint(
        ["association_id", "circular_id"],
        ["circular.association_id", "circular.circular_id"],
        ondelete="CASCADE",
    ),
    Index("ix_circular_recipient_household", "association_id", "household_id"),
)

# Applied ops by id (the idempotency key): the fingerprint of kind+body and the stored result.
# Rejected ops are not kept: nothing was done under their id, and a retry is checked afresh.
applied_op = Table(
    "applied_op",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("op_id", String(ID), primary_key=True),
    Column("fingerprint", String(HASH), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

SAFETY_ITEMS = text("kind = 'safety'")

# The association's ordered log; ``household_id`` marks the items about one household, so that
# purging it removes them (sequence numbers may then have gaps: readers only need the order).
# Not indexed by household on purpose, but for safety answers: an index on random household ids
# costs every batch about a third more pages written (and fsynced), while a purge is rare and
# scans only its association's items, all of a batch's purges in one statement.
log = Table(
    "log",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("body", JsonText, nullable=False),  # the item's body as JSON text
    Column("at", String(32), nullable=False),  # ISO 8601 UTC, as served
    Column("household_id", String(ID)),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
    # A household's safety answers, newest first (the resident page shows the current one):
    # the log item is an answer's only copy, so the disaster burst writes one row per answer.
    # Keyed by the household alone (its id is a UUID; readers check the association too): a
    # shorter key is a smaller index for the burst to write.
    Index("ix_log_safety", "household_id", "seq",
          sqlite_where=SAFETY_ITEMS, postgresql_where=SAFETY_ITEMS),
)

EPOCH_KEY = "epoch"

# ---------------------------------------------------------------- replication between office PCs
# What the association's office PCs share is encrypted end to end: the relay keeps ciphertext,
# keys wrapped for each PC's public key, and who the PCs are — never a key it could use.

# One row per office device token (made at pairing; lazily for tokens older than this table).
# Revoking a device revokes its token too.
office_device = Table(
    "office_device",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("device_id", String(ID), primary_key=True),
    Column("token_hash", String(HASH), nullable=False, unique=True),
    Column("name", Text, nullable=False, default=""),
    Column("public_key", Text, nullable=False, default="", server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("pending", Integer, nullable=False, default=0, server_default="0"),
    Column("app_schema", Integer, nullable=False, default=0, server_default="0"),
    Column("revoked_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

# A key generation wrapped for one device's public key, or for the recovery sheet's
# (``device_id`` "recovery").
key_grant = Table(
    "key_grant",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("device_id", String(ID), primary_key=True),
    Column("key_gen", Integer, primary_key=True),
    Column("wrapped", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

# A key ring sealed with a short-lived code, left by one PC for a new one (15 minutes).
key_transfer = Table(
    "key_transfer",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("transfer_id", String(ID), primary_key=True),
    Column("blob", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

# An encrypted snapshot of the association's data up to a log item, uploaded in chunks; a new
# PC starts from the latest complete one and pulls the log after ``upto_seq``.
snapshot = Table(
    "snapshot",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("snapshot_id", String(ID), primary_key=True),
    Column("key_gen", Integer, nullable=False),
    Column("upto_seq", BigInteger, nullable=False),
    Column("chunk_count", Integer, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    ForeignKeyConstraint(["association_id"], ["association.id"], ondelete="CASCADE"),
)

snapshot_chunk = Table(
    "snapshot_chunk",
    metadata,
    Column("association_id", String(ID), primary_key=True),
    Column("snapshot_id", String(ID), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("data", Text, nullable=False),
    ForeignKeyConstraint(
        ["association_id", "snapshot_id"],
        ["snapshot.association_id", "snapshot.snapshot_id"],
        ondelete="CASCADE",
    ),
)

# ---------------------------------------------------------------- the newest Kairan release

# What the relay's operator recorded as the newest Kairan release (``kairan-relay release
# set``), served to office PCs so they can tell the officer a new version exists. One row at
# most (``id`` is always :data:`RELEASE_ROW`); no row means none is recorded. Not an
# association's data: every association on the relay sees the same release.
RELEASE_ROW = 1
app_release = Table(
    "app_release",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("notes", Text, nullable=False, default="", server_default=""),
    Column("set_at", DateTime(timezone=True), nullable=False),
)
