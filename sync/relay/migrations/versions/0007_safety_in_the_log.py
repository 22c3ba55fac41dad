"""A safety answer is kept once, as its log item: the safety_answer table goes, the log gets
a partial index on its safety items (sync/relay/tables.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=36)
_SAFETY_ITEMS = sa.text("kind = 'safety'")


def upgrade() -> None:
    """Index the log's safety items and drop the copies in safety_answer (every one of them
    is an item of the log, written in the same transaction)."""
    op.create_index("ix_log_safety", "log", ["household_id", "seq"],
                    unique=False, sqlite_where=_SAFETY_ITEMS, postgresql_where=_SAFETY_ITEMS)
    op.drop_index("ix_safety_answer_household", table_name="safety_answer")
    op.drop_table("safety_answer")


def downgrade() -> None:
    """Bring back the safety_answer table, empty (the answers stay in the log), and drop the
    log's index."""
    op.create_table(
        "safety_answer",
        sa.Column("association_id", _ID, nullable=False),
        sa.Column("answer_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("needs_help", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "household_id"],
            ["household.association_id", "household.household_id"],
            name=op.f("fk_safety_answer_association_id_household"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "answer_id", name=op.f("pk_safety_answer")),
    )
    op.create_index("ix_safety_answer_household", "safety_answer",
                    ["association_id", "household_id", "answered_at"], unique=False)
    op.drop_index("ix_log_safety", table_name="log")
