"""What the relay's administrator does from the command line: associations, pairing codes,
tokens and the epoch. Each function runs in its own transaction and returns plain values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from desktop.domain.errors import NotFoundError, ValidationError
from desktop.i18n import _
from sync.relay import tables
from sync.relay.auth import revoke_token as _revoke_token
from sync.relay.auth import store_pairing_code
from sync.relay.db import Database, as_utc, new_epoch, now

MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class NewAssociation:
    """An association just created, with its first pairing code (shown once)."""

    association_id: str
    name: str
    pairing_code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AssociationInfo:
    """One association as ``association list`` shows it."""

    association_id: str
    name: str
    devices: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One token as ``token list`` shows it (the hash prefix is what ``token revoke`` takes)."""

    hash_prefix: str
    association_id: str
    scope: str
    label: str
    created_at: datetime
    revoked: bool


def create_association(database: Database, *, name: str, code_hours: float) -> NewAssociation:
    """Create an association and a one-time pairing code for its first office PC."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError(_("An association needs a name of 1 to {n} characters.")
                              .format(n=MAX_NAME))
    association_id = str(uuid.uuid4())
    moment = now()
    with database.write() as connection:
        connection.execute(insert(tables.association).values(
            id=association_id, name=name, created_at=moment, last_seq=0, disaster_on=False,
            disaster_message="", disaster_changed_at=None,
        ))
        code = store_pairing_code(connection, association_id=association_id, hours=code_hours)
    return NewAssociation(association_id=association_id, name=name, pairing_code=code,
                          expires_at=_expiry(moment, code_hours))


def _expiry(moment: datetime, hours: float) -> datetime:
    return moment + timedelta(hours=hours)


def pairing_code(database: Database, *, association_id: str, hours: float) -> tuple[str, datetime]:
    """A new one-time pairing code for another office PC of the association, and its expiry."""
    association_id = association_id.strip().lower()
    with database.write() as connection:
        found = connection.execute(select(tables.association.c.id)
                                   .where(tables.association.c.id == association_id)).first()
        if found is None:
            raise NotFoundError(_("There is no association {id} on this relay. "
                                  "`kairan-relay association list` shows them.")
                                .format(id=association_id))
        code = store_pairing_code(connection, association_id=association_id, hours=hours)
    return code, _expiry(now(), hours)


def list_associations(database: Database) -> list[AssociationInfo]:
    """Every association on the relay with its number of office devices (not revoked)."""
    devices = (select(tables.token.c.association_id, func.count().label("devices"))
               .where(tables.token.c.scope == "office")
               .where(tables.token.c.revoked_at.is_(None))
               .group_by(tables.token.c.association_id).subquery())
    association = tables.association
    with database.read() as connection:
        rows = connection.execute(
            select(association.c.id, association.c.name, association.c.last_seq,
                   func.coalesce(devices.c.devices, 0))
            .outerjoin(devices, devices.c.association_id == association.c.id)
            .order_by(association.c.name)
        ).all()
    return [AssociationInfo(association_id=r[0], name=r[1], devices=int(r[3]),
                            last_seq=int(r[2])) for r in rows]


def list_tokens(database: Database, *, association_id: str | None = None,
                scope: str = "office") -> list[TokenInfo]:
    """The tokens of ``scope`` (all associations, or one), oldest first."""
    token = tables.token
    query = select(token).where(token.c.scope == scope).order_by(token.c.created_at)
    if association_id is not None:
        query = query.where(token.c.association_id == association_id.strip().lower())
    with database.read() as connection:
        rows = connection.execute(query).all()
    return [TokenInfo(hash_prefix=r.token_hash[:12], association_id=r.association_id,
                      scope=r.scope, label=r.label, created_at=as_utc(r.created_at),
                      revoked=r.revoked_at is not None) for r in rows]


def revoke_token(database: Database, *, hash_prefix: str) -> None:
    """Revoke the one token whose hash starts with ``hash_prefix`` (from ``token list``)."""
    with database.write() as connection:
        if not _revoke_token(connection, token_hash=hash_prefix.strip()):
            raise NotFoundError(_("No single unrevoked token starts with {prefix}. Give at "
                                  "least 8 characters as `kairan-relay token list` shows them.")
                                .format(prefix=hash_prefix))


def rotate_epoch(database: Database) -> str:
    """Give the database a new epoch (after restoring a backup): every office PC pulls the
    whole log again and keeps what it has not sent yet."""
    with database.write() as connection:
        return new_epoch(connection)
