"""Circulars: their attachments, the households they were sent to, and the answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "circular",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("map_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_kind", _enum("targetkind", "all", "groups", "role"), nullable=False),
        sa.Column("target_group_ids", sa.JSON(), nullable=False),
        sa.Column("target_role_id", sa.Uuid(), nullable=True),
        sa.Column("ask", _enum("ask", "nothing", "read", "attendance", "survey"),
                  nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("status", _enum("circularstatus", "draft", "sent"), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_role_id"], ["role.id"], name=op.f("fk_circular_target_role_id_role"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circular")),
    )
    with op.batch_alter_table("circular", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circular_issued_on"), ["issued_on"], unique=False)

    op.create_table(
        "circular_attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("circular_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum("attachmentkind", "image", "pdf", "map"), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circular_id"], ["circular.id"],
            name=op.f("fk_circular_attachment_circular_id_circular"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circular_attachment")),
    )
    with op.batch_alter_table("circular_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_circular_attachment_circular_id"), ["circular_id"], unique=False
        )

    op.create_table(
        "circular_recipient",
        sa.Column("circular_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("group_order", sa.Integer(), nullable=False),
        sa.Column("circulation_order", sa.Integer(), nullable=False),
        sa.Column("channel", _enum("noticechannel", "app", "email", "paper"), nullable=False),
        sa.ForeignKeyConstraint(
            ["circular_id"], ["circular.id"],
            name=op.f("fk_circular_recipient_circular_id_circular"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"],
            name=op.f("fk_circular_recipient_household_id_household"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("circular_id", "household_id",
                                name=op.f("pk_circular_recipient")),
    )
    with op.batch_alter_table("circular_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_circular_recipient_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "reply",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("circular_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("channel", _enum("replychannel", "paper", "app", "email", "phone",
                                   "in_person"), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circular_id"], ["circular.id"], name=op.f("fk_reply_circular_id_circular"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_reply_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply")),
        sa.UniqueConstraint("circular_id", "household_id", name=op.f("uq_reply_circular_id")),
    )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_household_id"), ["household_id"], unique=False)


def downgrade() -> None:
    op.drop_table("reply")
    op.drop_table("circular_recipient")
    op.drop_table("circular_attachment")
    op.drop_table("circular")
