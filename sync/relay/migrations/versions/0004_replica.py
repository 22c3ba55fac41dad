"""Replication between an association's office PCs: devices, key grants, key transfers,
encrypted snapshots; the association's key generation and replica schema

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _association_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["association_id"], ["association.id"],
                                   name=op.f(f"fk_{table}_association_id_association"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    """Add the association's key generation and replica schema (0: none yet) and the tables
    of the office devices, key grants, key transfers and snapshots."""
    op.add_column("association", sa.Column("key_gen", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.add_column("association", sa.Column("replica_schema", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.create_table(
        "office_device",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("app_schema", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _association_fk("office_device"),
        sa.PrimaryKeyConstraint("association_id", "device_id", name=op.f("pk_office_device")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_office_device_token_hash")),
    )
    op.create_table(
        "key_grant",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("key_gen", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _association_fk("key_grant"),
        sa.PrimaryKeyConstraint("association_id", "device_id", "key_gen",
                                name=op.f("pk_key_grant")),
    )
    op.create_table(
        "key_transfer",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("blob", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _association_fk("key_transfer"),
        sa.PrimaryKeyConstraint("association_id", "transfer_id", name=op.f("pk_key_transfer")),
    )
    op.create_table(
        "snapshot",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=False),
        sa.Column("key_gen", sa.Integer(), nullable=False),
        sa.Column("upto_seq", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        _association_fk("snapshot"),
        sa.PrimaryKeyConstraint("association_id", "snapshot_id", name=op.f("pk_snapshot")),
    )
    op.create_table(
        "snapshot_chunk",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "snapshot_id"],
            ["snapshot.association_id", "snapshot.snapshot_id"],
            name=op.f("fk_snapshot_chunk_association_id_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "snapshot_id", "idx",
                                name=op.f("pk_snapshot_chunk")),
    )


def downgrade() -> None:
    """Drop the replication tables and columns."""
    for table in ("snapshot_chunk", "snapshot", "key_transfer", "key_grant", "office_device"):
        op.drop_table(table)
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.drop_column("replica_schema")
        batch_op.drop_column("key_gen")
