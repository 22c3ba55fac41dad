"""The association itself: its name and when its year (年度) starts."""

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


@dataclass(frozen=True, slots=True)
class AssociationInfo:
    """The association's settings as the window shows them."""

    id: uuid.UUID
    name: str
    fiscal_year_start_month: int


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
                           association.fiscal_year_start_month)


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
