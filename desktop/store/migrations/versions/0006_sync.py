"""Sync with the relay and the safety check: the outbox, the pairing, read markers, disaster
events and safety answers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_REPLY_CHANNELS = ("paper", "app", "email", "phone", "in_person")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def _household_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["household_id"], ["household.id"], name=op.f(f"fk_{table}_household_id_household"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "outbox_op",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("kind"),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("state", _enum("outboxstate", "pending", "rejected"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        _text("error_code"),
        _text("error_message"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_op")),
        sa.UniqueConstraint("position", name=op.f("uq_outbox_op_position")),
    )
    with op.batch_alter_table("outbox_op", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_op_state_position", ["state", "position"],
                              unique=False)

    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("relay_url"),
        _text("association_id"),
        _text("association_name"),
        _text("device_name"),
        _text("epoch"),
        sa.Column("cursor", sa.Integer(), nullable=False),
        _text("ca_file"),
        sa.Column("paired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_push_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_pull_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        _text("last_error"),
        sa.CheckConstraint("id = 1", name=op.f("ck_sync_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )

    op.create_table(
        "circular_read",
        sa.Column("circular_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("channel", _enum("replychannel", *_REPLY_CHANNELS), nullable=False),
        sa.ForeignKeyConstraint(
            ["circular_id"], ["circular.id"],
            name=op.f("fk_circular_read_circular_id_circular"), ondelete="CASCADE",
        ),
        _household_fk("circular_read"),
        sa.PrimaryKeyConstraint("circular_id", "household_id", name=op.f("pk_circular_read")),
    )
    with op.batch_alter_table("circular_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circular_read_household_id"), ["household_id"],
                              unique=False)

    op.create_table(
        "disaster_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        _text("message"),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        _text("started_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_event")),
    )
    with op.batch_alter_table("disaster_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disaster_event_started_at"), ["started_at"],
                              unique=False)

    op.create_table(
        "safety_answer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("status", _enum("safetystatus", "ok", "contact", "urgent"), nullable=False),
        _text("note"),
        sa.Column("needs_help", sa.Boolean(), nullable=False),
        sa.Column("channel", _enum("replychannel", *_REPLY_CHANNELS), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        _text("entered_by"),
        _household_fk("safety_answer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_answer")),
    )
    with op.batch_alter_table("safety_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_answer_at"), ["at"], unique=False)
        batch_op.create_index("ix_safety_answer_household_at", ["household_id", "at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("safety_answer")
    op.drop_table("disaster_event")
    op.drop_table("circular_read")
    op.drop_table("sync_state")
    op.drop_table("outbox_op")
