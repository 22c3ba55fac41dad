"""A general meeting may take residents' forms online through the relay (meeting.online_forms)

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


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy): meetings made before it stay paper-only.
    op.add_column("meeting", sa.Column("online_forms", sa.Boolean(), nullable=False,
                                       server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("online_forms")
