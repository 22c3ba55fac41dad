"""General meetings (総会): the association's rules, meetings, agenda items, the voter list of
the record date, the append-only entries and the show-of-hands counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _meeting_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["meeting_id"], ["meeting.id"], name=op.f(f"fk_{table}_meeting_id_meeting"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "meeting_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_meeting_rules_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_rules")),
    )

    op.create_table(
        "meeting",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("chair_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("forms_printed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_held_on"), ["held_on"], unique=False)

    op.create_table(
        "meeting_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("majority", sa.JSON(), nullable=False),
        sa.Column("added_after_forms", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        _meeting_fk("meeting_item"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_item")),
    )
    with op.batch_alter_table("meeting_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_item_meeting_id"), ["meeting_id"],
                              unique=False)

    op.create_table(
        "meeting_voter",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("group_position", sa.Integer(), nullable=False),
        sa.Column("circulation_order", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _meeting_fk("meeting_voter"),
        sa.PrimaryKeyConstraint("meeting_id", "key", name=op.f("pk_meeting_voter")),
    )
    with op.batch_alter_table("meeting_voter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_voter_number"), ["number"], unique=False)
        batch_op.create_index("ix_meeting_voter_position", ["meeting_id", "position"],
                              unique=False)

    op.create_table(
        "meeting_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("voter_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", _enum("entrykind", "attend", "absent", "proxy", "written", "cancel"),
                  nullable=False),
        sa.Column("holder_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("votes", sa.JSON(), nullable=False),
        sa.Column("source", _enum("source", "form", "door", "relay"), nullable=False),
        sa.Column("cancels", sa.Integer(), nullable=True),
        sa.Column("entered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("entered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        _meeting_fk("meeting_entry"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_entry")),
        sa.UniqueConstraint("meeting_id", "sequence", name=op.f("uq_meeting_entry_meeting_id")),
    )
    with op.batch_alter_table("meeting_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_entry_voter_key"), ["voter_key"],
                              unique=False)

    op.create_table(
        "meeting_floor_vote",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("for_", sa.Integer(), nullable=False),
        sa.Column("against", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("entered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("entered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        _meeting_fk("meeting_floor_vote"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_floor_vote")),
        sa.UniqueConstraint("meeting_id", "sequence",
                            name=op.f("uq_meeting_floor_vote_meeting_id")),
    )


def downgrade() -> None:
    op.drop_table("meeting_floor_vote")
    op.drop_table("meeting_entry")
    op.drop_table("meeting_voter")
    op.drop_table("meeting_item")
    op.drop_table("meeting")
    op.drop_table("meeting_rules")
