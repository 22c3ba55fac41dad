"""Roles and who holds them in each association year (年度)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "role",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("association", "group", name="rolescope", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("max_holders", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role")),
        sa.UniqueConstraint("name", name=op.f("uq_role_name")),
    )
    op.create_table(
        "role_assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["roster_group.id"], name=op.f("fk_role_assignment_group_id_roster_group")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_role_assignment_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_role_assignment_role_id_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignment")),
    )
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_assignment_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_role_assignment_role_id"), ["role_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_assignment_year"), ["year"], unique=False)

    # An association recorded before roles existed starts with the usual ones (as a new file
    # does). Written out here, not imported: a shipped migration must not change later.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM association")).scalar():
        role = sa.table(
            "role",
            sa.column("id", sa.Uuid()),
            sa.column("name", sa.String()),
            sa.column("scope", sa.String()),
            sa.column("max_holders", sa.Integer()),
            sa.column("position", sa.Integer()),
        )
        defaults = [("会長", "association", 1), ("副会長", "association", 2),
                    ("会計", "association", 1), ("書記", "association", 1),
                    ("監事", "association", 2), ("防災部長", "association", 1),
                    ("班長", "group", 1)]
        op.bulk_insert(role, [
            {"id": uuid.uuid4(), "name": name, "scope": scope, "max_holders": holders,
             "position": position}
            for position, (name, scope, holders) in enumerate(defaults, start=1)
        ])


def downgrade() -> None:
    op.drop_table("role_assignment")
    op.drop_table("role")
