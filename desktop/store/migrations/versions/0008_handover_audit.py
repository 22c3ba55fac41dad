"""The annual handover, officer profiles and the audit trail: role conflicts and required
roles, handovers and memos for successors, profiles, hash-chained audit records, and the
association's purpose statement and retention period

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=nullable)


def _role_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["role.id"],
                                   name=op.f(f"fk_{table}_{column}_role"), ondelete=ondelete)


def upgrade() -> None:
    # Plain ADD COLUMNs with defaults (no table copy): existing rows keep working.
    op.add_column("association", sa.Column("purpose_statement",
                                           sqlmodel.sql.sqltypes.AutoString(),
                                           nullable=False, server_default=sa.text("''")))
    op.add_column("association", sa.Column("retention_months", sa.Integer(), nullable=True))
    op.add_column("role", sa.Column("required", sa.Boolean(), nullable=False,
                                    server_default="0"))

    op.create_table(
        "role_conflict",
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("other_role_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("role_id < other_role_id", name=op.f("ck_role_conflict_ordered_pair")),
        _role_fk("role_conflict", "role_id", "CASCADE"),
        _role_fk("role_conflict", "other_role_id", "CASCADE"),
        sa.PrimaryKeyConstraint("role_id", "other_role_id", name=op.f("pk_role_conflict")),
    )
    op.create_table(
        "handover",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("from_year", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        _moment("done_at"),
        _text("done_by"),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_handover")),
    )
    op.create_table(
        "handover_memo",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=True),
        _text("text"),
        _text("written_by"),
        _moment("written_at"),
        _role_fk("handover_memo", "role_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_memo")),
    )
    with op.batch_alter_table("handover_memo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_memo_year"), ["year"], unique=False)
    op.create_table(
        "officer_profile",
        sa.Column("id", sa.Uuid(), nullable=False),
        _text("name"),
        _text("pin_hash"),
        sa.Column("active", sa.Boolean(), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_profile")),
    )
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.Integer(), nullable=False),
        _moment("at"),
        _text("actor"),
        sa.Column("profile_id", sa.Uuid(), nullable=True),
        _text("action"),
        _text("entity"),
        _text("entity_id"),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        _text("summary"),
        sa.Column("changes", sa.JSON(), nullable=False),
        _text("changes_digest"),
        _moment("redacted_at", nullable=True),
        _text("prev_hash"),
        _text("hash"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_record")),
    )
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_record_household_id"), ["household_id"],
                              unique=False)


def downgrade() -> None:
    for table in ("audit_record", "officer_profile", "handover_memo", "handover",
                  "role_conflict"):
        op.drop_table(table)
    with op.batch_alter_table("role", schema=None) as batch_op:
        batch_op.drop_column("required")
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.drop_column("retention_months")
        batch_op.drop_column("purpose_statement")
