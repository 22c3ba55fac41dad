"""変更の確認: the changes of other PCs an officer should look at, and their decisions.

Entries are made by :mod:`sync.replica.apply` in the relay's order, the same on every PC, and
a decision made on one PC closes the entry on all of them.
「このままにする」 (keep) closes an entry. 「元に戻す」 (restore) writes the lost value or row
back as an ordinary change of this PC, so it reaches the other PCs like any edit; a row
restored after a delete travels as a *restore* that lifts its tombstone everywhere.
Runs in the caller's session (on the UI thread: local work only).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from desktop.domain.errors import NotFoundError, ValidationError
from desktop.domain.households import refresh_derived
from desktop.domain.models import ReplicaReview, SyncState
from desktop.i18n import _
from sync.replica.apply import (
    DELETED_EDIT,
    DUPLICATE,
    EDIT_AFTER_DELETE,
    OVERWRITTEN,
    ROLE_TWICE,
)
from sync.replica.capture import REVIEWS_TABLE, Change, queue_changes
from sync.replica.schema import row_exists, schema

KEEP = "keep"
RESTORE = "restore"
RESTORABLE = frozenset({OVERWRITTEN, DELETED_EDIT, EDIT_AFTER_DELETE})


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One entry of 変更の確認, ready to show."""

    id: uuid.UUID
    kind: str
    table: str
    row_label: str
    field_label: str
    kept: str
    lost: str
    by_device: str
    at_seq: int


def _table_label(table: str) -> str:
    labels = {
        "household": _("Household"), "member": _("Member"), "roster_group": _("Group"),
        "role": _("Role"), "role_assignment": _("Role holder"), "circular": _("Circular"),
        "meeting": _("General meeting"), "meeting_entry": _("Meeting entry"),
    }
    return labels.get(table, table)


def _field_label(name: str) -> str:
    labels = {
        "number": _("Household number"), "display_name": _("Name"), "name": _("Name"),
        "furigana": _("Furigana"), "address": _("Address"), "postal_code": _("Postal code"),
        "phone": _("Phone"), "email": _("E-mail"), "notes": _("Notes"),
        "group_id": _("Group"), "title": _("Title"), "body": _("Text"),
    }
    return labels.get(name, name)


def _shown(value: Any) -> str:
    """A stored value as the officer reads it."""
    if value is None:
        return _("(none)")
    if isinstance(value, dict):
        for name in ("display_name", "name", "title", "number"):
            if value.get(name):
                return str(value[name])
        return _("(a row)")
    return str(value)


def _row_label(session: Session, table: str, key: str, lost: Any) -> str:
    info = schema().tables.get(table)
    row: dict[str, Any] | None = None
    if info is not None:
        found = session.connection().exec_driver_sql(
            f"SELECT {info.select} FROM {info.quoted} WHERE {info.where}",
            tuple(json.loads(key))).first()
        row = dict(zip(info.columns, found, strict=True)) if found is not None else None
    source = row or (lost if isinstance(lost, dict) else {})
    for name in ("number", "display_name", "name", "title"):
        if source.get(name):
            if table == "household" and name == "number":
                return f"{_table_label(table)} {source['number']} {source.get('display_name', '')}"
            return f"{_table_label(table)} {source[name]}"
    return _table_label(table)


def review_items(session: Session) -> list[ReviewItem]:
    """The entries not decided yet, in the relay's order."""
    rows = session.exec(select(ReplicaReview).where(col(ReplicaReview.decided_at).is_(None))
                        .order_by(col(ReplicaReview.seq), col(ReplicaReview.key))).all()
    items = []
    for row in rows:
        kept, lost = json.loads(row.kept), json.loads(row.lost)
        field = _field_label(row.field) if row.kind != ROLE_TWICE else \
            _("Year {year}").format(year=row.field)
        if row.kind == ROLE_TWICE:
            kept_text = _("{count} holders").format(count=kept)
            lost_text = _("{seats} seats").format(seats=lost)
        else:
            kept_text, lost_text = _shown(kept), _shown(lost)
        items.append(ReviewItem(row.id, row.kind, row.tbl,
                                _row_label(session, row.tbl, row.pk, lost), field,
                                kept_text, lost_text, row.by_device, row.seq))
    return items


def decide_review(session: Session, *, review_id: uuid.UUID, choice: str) -> None:
    """Close an entry: keep what the relay's order gave, or restore what was lost."""
    review = session.get(ReplicaReview, review_id)
    if review is None or review.decided_at is not None:
        raise NotFoundError(_("This change was decided already. Reload the list."))
    if choice == RESTORE:
        if review.kind not in RESTORABLE:
            raise ValidationError(_("This change cannot be undone here. Change it on the "
                                    "role board or in the household instead."))
        _restore(session, review)
    review.decided_at = datetime.now(UTC)
    review.decision = choice
    session.add(review)
    session.flush()
    state = session.get(SyncState, 1)
    if state is not None and state.replica_capture:  # the other PCs close it too
        queue_changes(session, [Change(REVIEWS_TABLE, review.key, "u", {"decision": choice})])


def _restore(session: Session, review: ReplicaReview) -> None:
    info = schema().tables.get(review.tbl)
    if info is None:
        raise ValidationError(_("This change cannot be undone here."))
    connection = session.connection()
    key = json.loads(review.pk)
    lost = json.loads(review.lost)
    if review.kind == OVERWRITTEN:
        connection.exec_driver_sql(info.update_sql([review.field]), (lost, *key))
        return
    exists = connection.exec_driver_sql(
        f"SELECT 1 FROM {info.quoted} WHERE {info.where}", tuple(key)).first()
    if review.kind == EDIT_AFTER_DELETE and review.field and exists is not None:
        # A reference to a deleted row was cleared.
        connection.exec_driver_sql(info.update_sql([review.field]), (lost, *key))
        return
    if exists is not None:
        return  # restored already
    tomb = connection.exec_driver_sql(
        "SELECT row FROM replica_tombstone WHERE tbl = ? AND pk = ?",
        (review.tbl, review.pk)).first()
    row = {**(json.loads(tomb[0]) if tomb is not None else {}),
           **(lost if isinstance(lost, dict) else {})}
    missing = [name for name in info.columns if name not in row and name in info.key]
    if missing or not row:
        raise ValidationError(_("This row cannot be brought back: too little of it is known."))
    for column, (parent, parent_column) in info.references.items():
        value = row.get(column)
        if value is not None and not row_exists(connection, parent, parent_column, value):
            raise ValidationError(_("This row cannot be brought back: what it belongs to was "
                                    "deleted too ({what}). Bring that back first.").format(
                                        what=_table_label(parent)))
    connection.exec_driver_sql("DELETE FROM replica_tombstone WHERE tbl = ? AND pk = ?",
                               (review.tbl, review.pk))
    names = [name for name in row if name in info.column_set]
    connection.exec_driver_sql(info.insert_sql(names), tuple(row[n] for n in names))
    if review.tbl == "household":  # its search text and counts, from what it holds now
        refresh_derived(session, household_ids=[uuid.UUID(hex=key[0])])
    # Travels as a restore: the other PCs lift their tombstone of the row too.
    connection.exec_driver_sql(
        "UPDATE replica_change SET op = 'r' WHERE tbl = ? AND pk = ? AND op = 'i'",
        (review.tbl, review.pk))


__all__ = ["DELETED_EDIT", "DUPLICATE", "EDIT_AFTER_DELETE", "KEEP", "OVERWRITTEN",
           "RESTORABLE", "RESTORE", "ROLE_TWICE", "ReviewItem", "decide_review",
           "review_items"]
