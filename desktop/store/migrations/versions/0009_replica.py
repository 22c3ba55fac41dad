"""Sharing the roster between the association's office PCs: the change-recording triggers
of the shared tables, the tables replication keeps (recorded changes, held-back values,
tombstones, changes to review), and this PC's sharing state

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from desktop.store.replica_triggers import SharedTable, drop_triggers, install_triggers

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# The shared tables as they are at this revision (a later migration that changes one
# installs its triggers again with its own list).
_SHARED = {table.name: table for table in (
    SharedTable("association", ("id",), ("id", "name", "fiscal_year_start_month", "created_at",
                                         "purpose_statement", "retention_months")),
    SharedTable("roster_group", ("id",), ("id", "parent_id", "name", "kind", "position")),
    SharedTable("household", ("id",), (
        "id", "number", "display_name", "furigana", "furigana_key", "postal_code", "address",
        "phone", "channel", "emails", "group_id", "circulation_order", "joined_on", "left_on",
        "exempt_han_leader", "exempt_duties", "notes", "search_text", "member_count",
        "updated_at")),
    SharedTable("member", ("id",), ("id", "household_id", "name", "furigana", "relation",
                                    "is_head", "phone", "email", "app_access", "position",
                                    "notes")),
    SharedTable("role", ("id",), ("id", "name", "scope", "max_holders", "position",
                                  "required")),
    SharedTable("role_assignment", ("id",), ("id", "role_id", "year", "member_id", "group_id",
                                             "created_at")),
    SharedTable("role_conflict", ("role_id", "other_role_id"), ("role_id", "other_role_id")),
    SharedTable("circular", ("id",), (
        "id", "title", "body", "issued_on", "issuer", "map_url", "target_kind",
        "target_group_ids", "target_role_id", "ask", "questions", "deadline", "status",
        "sent_at", "created_at", "updated_at")),
    SharedTable("circular_recipient", ("circular_id", "household_id"), (
        "circular_id", "household_id", "group_id", "group_name", "group_order",
        "circulation_order", "channel")),
    SharedTable("meeting_rules", ("id",), ("id", "rules", "updated_at")),
    SharedTable("meeting", ("id",), ("id", "title", "held_on", "place", "record_date", "rules",
                                     "chair_key", "forms_printed_at", "created_at",
                                     "online_forms")),
    SharedTable("meeting_item", ("id",), ("id", "meeting_id", "position", "title", "majority",
                                          "added_after_forms", "created_at")),
    SharedTable("meeting_voter", ("meeting_id", "key"), (
        "meeting_id", "key", "household_id", "member_id", "number", "name", "group_name",
        "group_position", "circulation_order", "position")),
    SharedTable("meeting_entry", ("id",), ("id", "meeting_id", "sequence", "voter_key", "kind",
                                           "holder_key", "votes", "source", "cancels",
                                           "entered_at", "entered_by")),
    SharedTable("meeting_floor_vote", ("id",), ("id", "meeting_id", "item_index", "for_",
                                                "against", "abstain", "sequence",
                                                "entered_at", "entered_by")),
    SharedTable("handover", ("year",), ("year", "from_year", "starts_on", "ends_on", "done_at",
                                        "done_by")),
    SharedTable("handover_memo", ("id",), ("id", "year", "role_id", "text", "written_by",
                                           "written_at")),
)}


def _text(name: str, server_default: sa.TextClause | None = None) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                     server_default=server_default)


def upgrade() -> None:
    # Plain ADD COLUMNs with defaults: a paired file keeps working and shares nothing yet.
    for column in (
        _text("device_id", server_default=sa.text("''")),
        sa.Column("replica_capture", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("key_gen", sa.Integer(), nullable=False, server_default="0"),
        _text("recovery_public_key", server_default=sa.text("''")),
        sa.Column("clock_skew_seconds", sa.Integer(), nullable=True),
        sa.Column("snapshot_seq", sa.Integer(), nullable=False, server_default="0"),
        _text("update_needed", server_default=sa.text("''")),
    ):
        op.add_column("sync_state", column)

    op.create_table(
        "replica_change",
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("tbl"), _text("pk"), _text("op"),
        sa.Column("old", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("new", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_replica_change")),
    )
    op.create_table(
        "replica_shadow",
        _text("tbl"), _text("pk"), _text("field"), _text("value"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("device_id"),
        sa.PrimaryKeyConstraint("tbl", "pk", "field", name=op.f("pk_replica_shadow")),
    )
    op.create_table(
        "replica_tombstone",
        _text("tbl"), _text("pk"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("device_id"), _text("row"),
        sa.PrimaryKeyConstraint("tbl", "pk", name=op.f("pk_replica_tombstone")),
    )
    op.create_table(
        "replica_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        _text("key"), _text("kind"), _text("tbl"), _text("pk"), _text("field"),
        _text("kept"), _text("lost"), _text("by_device"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        _text("decision"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replica_review")),
        sa.UniqueConstraint("key", name=op.f("uq_replica_review_key")),
    )
    install_triggers(op.get_bind(), _SHARED)


def downgrade() -> None:
    drop_triggers(op.get_bind(), list(_SHARED))
    for table in ("replica_review", "replica_tombstone", "replica_shadow", "replica_change"):
        op.drop_table(table)
    with op.batch_alter_table("sync_state") as batch:
        for column in ("update_needed", "snapshot_seq", "clock_skew_seconds", "recovery_public_key",
                       "key_gen", "replica_capture", "device_id"):
            batch.drop_column(column)
