"""The association itself: its name, when its year (年度) starts, and its privacy duties — the
purpose statement (利用目的) shown to residents and printed on forms, and how long a withdrawn
household is kept before the purge."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from desktop.domain.errors import NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import Association
from desktop.domain.roles import seed_default_roles
from desktop.domain.wareki import association_year
from desktop.i18n import _
from sync import outbox

MAX_PURPOSE_LENGTH = 500  # printed in a few small lines at the foot of every reply slip
MAX_RETENTION_MONTHS = 1200  # a hundred years: anything longer is a typing slip


@dataclass(frozen=True, slots=True)
class AssociationInfo:
    """The association's settings as the window shows them."""

    id: uuid.UUID
    name: str
    fiscal_year_start_month: int
    purpose_statement: str = ""
    retention_months: int | None = None  # withdrawn households are purged after; None: kept


def _check(name: str, fiscal_year_start_month: int) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationError(_("The association name is empty. Type a name such as 桜町自治会."),
                              field="name")
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValidationError(_("The year must start in a month from 1 to 12."),
                              field="fiscal_year_start_month")
    return cleaned


def create_association(
    session: Session, *, name: str, fiscal_year_start_month: int = 4
) -> uuid.UUID:
    """Record the association in a new file, with the usual roles."""
    association = Association(id=uuid7(), name=_check(name, fiscal_year_start_month),
                              fiscal_year_start_month=fiscal_year_start_month)
    session.add(association)
    seed_default_roles(session)
    session.flush()
    return association.id


def _association(session: Session) -> Association:
    association = session.exec(select(Association)).first()
    if association is None:
        raise NotFoundError(_("This file has no association recorded in it."))
    return association


def get_association(session: Session) -> AssociationInfo:
    """The association this file belongs to."""
    association = _association(session)
    return AssociationInfo(association.id, association.name,
                           association.fiscal_year_start_month,
                           association.purpose_statement, association.retention_months)


def update_association(
    session: Session, *, name: str, fiscal_year_start_month: int
) -> None:
    """Rename the association or change the month its year starts."""
    association = _association(session)
    association.name = _check(name, fiscal_year_start_month)
    association.fiscal_year_start_month = fiscal_year_start_month
    session.flush()


def current_year(session: Session, *, today: date) -> int:
    """The association year (年度) ``today`` falls in."""
    return association_year(today, _association(session).fiscal_year_start_month)


def clean_purpose_statement(text: str) -> str:
    """The statement as kept: trimmed, line breaks kept, at most :data:`MAX_PURPOSE_LENGTH`."""
    cleaned = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if len(cleaned) > MAX_PURPOSE_LENGTH:
        raise ValidationError(
            _("The purpose statement is {count} characters long; at most {limit} fit on the "
              "forms. Shorten it.").format(count=len(cleaned), limit=MAX_PURPOSE_LENGTH),
            field="purpose_statement")
    return cleaned


def set_purpose_statement(session: Session, *, text: str) -> bool:
    """Set why the association keeps personal data (利用目的); the resident page follows
    (an ``association.profile`` operation for the relay). Returns whether it changed."""
    association = _association(session)
    cleaned = clean_purpose_statement(text)
    if cleaned == association.purpose_statement:
        return False
    association.purpose_statement = cleaned
    session.flush()
    outbox.association_profile_changed(session, purpose_statement=cleaned)
    return True


def set_retention_months(session: Session, *, months: int | None) -> None:
    """Keep withdrawn households ``months`` months after they left, then purge them (with a
    preview first); None keeps them until deleted by hand."""
    if months is not None and not 1 <= months <= MAX_RETENTION_MONTHS:
        raise ValidationError(
            _("The retention period must be from 1 to {limit} months, or left blank to keep "
              "withdrawn households.").format(limit=MAX_RETENTION_MONTHS),
            field="retention_months")
    association = _association(session)
    association.retention_months = months
    session.flush()


def update_settings(session: Session, *, name: str, purpose_statement: str,
                    retention_months: int | None) -> None:
    """Save the association settings dialog: name, purpose statement, retention period."""
    association = _association(session)
    update_association(session, name=name,
                       fiscal_year_start_month=association.fiscal_year_start_month)
    set_purpose_statement(session, text=purpose_statement)
    set_retention_months(session, months=retention_months)
