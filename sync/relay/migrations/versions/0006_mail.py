"""The e-mail channel: households' addresses, the durable queue of mails, personal links
(sync/relay/mail_tables.py)

Revision ID: 0006
Revises: 0005
Create Date: 2027-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=36)


def _household_fk(table: str) -> sa.ForeignKeyConstraint:
    # Purging a household removes its addresses, mails and links with it.
    return sa.ForeignKeyConstraint(
        ["association_id", "household_id"],
        ["household.association_id", "household.household_id"],
        name=op.f(f"fk_{table}_association_id_household"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create the mail tables (empty: nothing is queued until the office sends addresses)."""
    op.create_table(
        "mail_address",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_detail", sa.Text(), nullable=False),
        sa.Column("state_at", sa.DateTime(timezone=True), nullable=True),
        _household_fk("mail_address"),
        sa.PrimaryKeyConstraint("association_id", "household_id", "position",
                                name=op.f("pk_mail_address")),
    )
    op.create_table(
        "mail_message",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("mail_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("circular_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("link_token", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        _household_fk("mail_message"),
        sa.PrimaryKeyConstraint("association_id", "mail_id", name=op.f("pk_mail_message")),
    )
    # The sender's claim reads due rows by state and time; the office's views by household;
    # publish, re-send and retract by circular; bounce intake by Message-ID.
    op.create_index("ix_mail_message_due", "mail_message", ["state", "next_attempt_at"],
                    unique=False)
    op.create_index("ix_mail_message_household", "mail_message",
                    ["association_id", "household_id"], unique=False)
    op.create_index("ix_mail_message_circular", "mail_message",
                    ["association_id", "circular_id"], unique=False)
    op.create_index("ix_mail_message_message_id", "mail_message", ["message_id"],
                    unique=False)
    op.create_table(
        "mail_link",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("circular_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        _household_fk("mail_link"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_mail_link")),
    )
    op.create_index("ix_mail_link_household", "mail_link", ["association_id", "household_id"],
                    unique=False)


def downgrade() -> None:
    """Drop the mail tables."""
    op.drop_index("ix_mail_link_household", table_name="mail_link")
    op.drop_table("mail_link")
    op.drop_index("ix_mail_message_message_id", table_name="mail_message")
    op.drop_index("ix_mail_message_circular", table_name="mail_message")
    op.drop_index("ix_mail_message_household", table_name="mail_message")
    op.drop_index("ix_mail_message_due", table_name="mail_message")
    op.drop_table("mail_message")
    op.drop_table("mail_address")
