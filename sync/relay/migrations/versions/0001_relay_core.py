"""Relay core: associations and their log, tokens, pairing codes, and what residents see
(households, invitations, circulars with their recipients); the database's first epoch.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the core tables and give the database its first epoch."""
    op.create_table(
        "association",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("disaster_on", sa.Boolean(), nullable=False),
        sa.Column("disaster_message", sa.Text(), nullable=False),
        sa.Column("disaster_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association")),
    )
    op.create_table(
        "relay_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_relay_meta")),
    )
    op.create_table(
        "applied_op",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_applied_op_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "op_id", name=op.f("pk_applied_op")),
    )
    op.create_table(
        "circular",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("circular_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.String(length=10), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("ask", sa.String(length=16), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.String(length=10), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_circular_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "circular_id", name=op.f("pk_circular")),
    )
    op.create_table(
        "household",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("group_name", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_household_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "household_id", name=op.f("pk_household")),
    )
    op.create_table(
        "log",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_log_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "seq", name=op.f("pk_log")),
    )
    op.create_table(
        "pairing_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_pairing_code_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_pairing_code")),
    )
    op.create_table(
        "circular_recipient",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("circular_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "circular_id"],
            ["circular.association_id", "circular.circular_id"],
            name=op.f("fk_circular_recipient_association_id_circular"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "association_id", "circular_id", "household_id", name=op.f("pk_circular_recipient")
        ),
    )
    op.create_index(
        "ix_circular_recipient_household",
        "circular_recipient",
        ["association_id", "household_id"],
        unique=False,
    )
    op.create_table(
        "invitation",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "household_id"],
            ["household.association_id", "household.household_id"],
            name=op.f("fk_invitation_association_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "household_id", name=op.f("pk_invitation")),
    )
    op.create_index("ix_invitation_code_hash", "invitation", ["code_hash"], unique=False)
    op.create_table(
        "token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["association_id", "household_id"],
            ["household.association_id", "household.household_id"],
            name=op.f("fk_token_association_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_token_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_token")),
    )
    op.create_index("ix_token_association_id", "token", ["association_id"], unique=False)
    # A new database is a new epoch: office PCs paired with an older one pull everything again.
    meta = sa.table("relay_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(meta, [{"key": "epoch", "value": uuid.uuid4().hex}])


def downgrade() -> None:
    """Drop the core tables (every association's data with them)."""
    op.drop_index("ix_token_association_id", table_name="token")
    op.drop_table("token")
    op.drop_index("ix_invitation_code_hash", table_name="invitation")
    op.drop_table("invitation")
    op.drop_index("ix_circular_recipient_household", table_name="circular_recipient")
    op.drop_table("circular_recipient")
    op.drop_table("pairing_code")
    op.drop_table("log")
    op.drop_table("household")
    op.drop_table("circular")
    op.drop_table("applied_op")
    op.drop_table("relay_meta")
    op.drop_table("association")
