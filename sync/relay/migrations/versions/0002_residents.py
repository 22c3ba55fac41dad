"""Resident pages: answers, read marks, safety answers, and general meetings with their online
forms (sync/relay/resident_tables.py).

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=36)


def _household_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["association_id", "household_id"],
        ["household.association_id", "household.household_id"],
        name=op.f(f"fk_{table}_association_id_household"),
        ondelete="CASCADE",
    )


def _parent_fk(table: str, parent: str, key: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["association_id", key],
        [f"{parent}.association_id", f"{parent}.{key}"],
        name=op.f(f"fk_{table}_association_id_{parent}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create the resident pages' tables."""
    op.create_table(
        "resident_answer",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("circular_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("answer_id", _ID, nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        _household_fk("resident_answer"),
        _parent_fk("resident_answer", "circular", "circular_id"),
        sa.PrimaryKeyConstraint("association_id", "circular_id", "household_id",
                                name=op.f("pk_resident_answer")),
    )
    op.create_table(
        "resident_read",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("circular_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        _household_fk("resident_read"),
        _parent_fk("resident_read", "circular", "circular_id"),
        sa.PrimaryKeyConstraint("association_id", "circular_id", "household_id",
                                name=op.f("pk_resident_read")),
    )
    op.create_table(
        "safety_answer",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("answer_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("needs_help", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        _household_fk("safety_answer"),
        sa.PrimaryKeyConstraint("association_id", "answer_id", name=op.f("pk_safety_answer")),
    )
    op.create_index("ix_safety_answer_household", "safety_answer",
                    ["association_id", "household_id", "answered_at"], unique=False)
    op.create_table(
        "meeting",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("held_on", sa.String(length=10), nullable=False),
        sa.Column("deadline", sa.String(length=10), nullable=True),
        sa.Column("online_forms", sa.Boolean(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"], ["association.id"],
            name=op.f("fk_meeting_association_id_association"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "meeting_id", name=op.f("pk_meeting")),
    )
    op.create_table(
        "meeting_recipient",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        _parent_fk("meeting_recipient", "meeting", "meeting_id"),
        _household_fk("meeting_recipient"),
        sa.PrimaryKeyConstraint("association_id", "meeting_id", "household_id",
                                name=op.f("pk_meeting_recipient")),
    )
    op.create_index("ix_meeting_recipient_household", "meeting_recipient",
                    ["association_id", "household_id"], unique=False)
    op.create_table(
        "meeting_answer",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("answer_id", _ID, nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("proxy_to", sa.Text(), nullable=True),
        sa.Column("votes", sa.JSON(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        _household_fk("meeting_answer"),
        _parent_fk("meeting_answer", "meeting", "meeting_id"),
        sa.PrimaryKeyConstraint("association_id", "meeting_id", "household_id",
                                name=op.f("pk_meeting_answer")),
    )


def downgrade() -> None:
    """Drop the resident pages' tables (residents' answers with them)."""
    op.drop_table("meeting_answer")
    op.drop_index("ix_meeting_recipient_household", table_name="meeting_recipient")
    op.drop_table("meeting_recipient")
    op.drop_table("meeting")
    op.drop_index("ix_safety_answer_household", table_name="safety_answer")
    op.drop_table("safety_answer")
    op.drop_table("resident_read")
    op.drop_table("resident_answer")
