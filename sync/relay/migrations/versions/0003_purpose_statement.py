"""The association's purpose statement (個人情報の利用目的), shown on the resident page

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the purpose statement (empty until the office sends one)."""
    op.add_column("association", sa.Column("purpose_statement", sa.Text(), nullable=False,
                                           server_default=""))


def downgrade() -> None:
    """Drop the purpose statement."""
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.drop_column("purpose_statement")
