"""The e-mail channel: what became of each mail the relay sent (per circular, household and
address) and the addresses it no longer mails (bounced, or the household stopped the mails)

Both tables are this PC's own: every office PC fills them from the same relay log, so they
are not shared (no replication triggers) and no shared table changes here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


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
        "mail_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("circular_id", sa.Uuid(), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        _text("address"),
        sa.Column("event", _enum("mailevent", "sent", "failed", "bounced", "unsubscribed",
                                 "opened"), nullable=False),
        _text("detail"),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["circular_id"], ["circular.id"],
                                name=op.f("fk_mail_delivery_circular_id_circular"),
                                ondelete="CASCADE"),
        _household_fk("mail_delivery"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_delivery")),
    )
    with op.batch_alter_table("mail_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_delivery_household_id"), ["household_id"],
                              unique=False)
        batch_op.create_index("ix_mail_delivery_key", ["circular_id", "household_id",
                                                       "address"], unique=False)

    op.create_table(
        "mail_problem",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        _text("address"),
        sa.Column("problem", _enum("mailproblemkind", "bounced", "unsubscribed"),
                  nullable=False),
        _text("detail"),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        _household_fk("mail_problem"),
        sa.PrimaryKeyConstraint("household_id", "address", name=op.f("pk_mail_problem")),
    )


def downgrade() -> None:
    op.drop_table("mail_problem")
    with op.batch_alter_table("mail_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_delivery_key")
        batch_op.drop_index(batch_op.f("ix_mail_delivery_household_id"))
    op.drop_table("mail_delivery")
