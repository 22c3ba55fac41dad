"""Who is asking: bearer tokens (stored hashed, scoped, revocable), pairing codes, and the
JSON error answers every endpoint shares.

The association of a request always comes from its token, never from the body or the URL.
Resident sessions are tokens too (scope ``resident`` with their household), so the office
endpoints can tell a resident (403) from a stranger (401).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from starlette.requests import Request
from starlette.responses import JSONResponse

from desktop.i18n import _
from sync.protocol import ErrorCode, PairResponse, Scope, hash_secret
from sync.relay import tables
from sync.relay.db import Database, as_utc, current_epoch, now
from sync.relay.ratelimit import RateLimiter

# Pairing codes are typed by hand: no 0/O, 1/I/L; 12 characters ≈ 60 bits, in groups of four.
PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAIRING_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Principal:
    """The holder of a valid token: its association, scope and (residents) household."""

    association_id: str
    scope: Scope
    household_id: str | None
    token_hash: str


class RequestRefused(Exception):
    """An answer other than 200, raised from deep inside a handler and sent as JSON."""

    def __init__(self, status: int, code: ErrorCode, message: str, *,
                 headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra

    def response(self) -> JSONResponse:
        """The JSON answer ``{"error": code, "message": ..., **extra}``."""
        return error_response(self.status, self.code, self.message, headers=self.headers,
                              extra=self.extra)


def error_response(status: int, code: ErrorCode, message: str, *,
                   headers: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> JSONResponse:
    """A JSON error answer of the API."""
    content: dict[str, Any] = {"error": code.value, "message": message, **(extra or {})}
    return JSONResponse(content, status_code=status, headers=headers)


def new_token() -> str:
    """A fresh random bearer token (shown once, stored only as its hash)."""
    return secrets.token_urlsafe(32)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    return value


def issue_token(connection: Connection, *, association_id: str, scope: Scope,
                household_id: str | None = None, label: str = "") -> str:
    """Make and store (hashed) a new token; returns the token itself, which is not kept.

    A resident token needs its ``household_id`` (and is deleted with the household)."""
    if (scope is Scope.RESIDENT) != (household_id is not None):
        raise ValueError("a resident token needs a household; an office token must not have one")
    token = new_token()
    connection.execute(insert(tables.token).values(
        token_hash=hash_secret(token), association_id=association_id, scope=scope.value,
        household_id=household_id, label=label, created_at=now(), revoked_at=None,
    ))
    return token


_FIND_TOKEN = (  # built once: every request runs it
    select(tables.token.c.association_id, tables.token.c.scope, tables.token.c.household_id,
           tables.token.c.revoked_at)
    .where(tables.token.c.token_hash == bindparam("p_token_hash"))
)


def authenticate(connection: Connection, token: str) -> Principal | None:
    """The holder of ``token``, or None for an unknown or revoked one."""
    token_hash = hash_secret(token)
    row = connection.execute(_FIND_TOKEN, {"p_token_hash": token_hash}).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(association_id=row.association_id, scope=Scope(row.scope),
                     household_id=row.household_id, token_hash=token_hash)


def revoke_token(connection: Connection, *, token_hash: str) -> bool:
    """Revoke the token with this hash (or hash prefix of at least 8 characters, as
    ``kairan-relay token list`` shows them); False when none or several match."""
    if len(token_hash) < 8:
        return False
    matches = connection.execute(
        select(tables.token.c.token_hash)
        .where(tables.token.c.token_hash.startswith(token_hash.lower(), autoescape=True))
        .where(tables.token.c.revoked_at.is_(None))
    ).scalars().all()
    if len(matches) != 1:
        return False
    connection.execute(update(tables.token).where(tables.token.c.token_hash == matches[0])
                       .values(revoked_at=now()))
    return True


def office_token(request: Request, limiter: RateLimiter) -> str:
    """The bearer token of an office request, within its rate: 401 without one, 429 over
    the limit (checked before the database is asked anything)."""
    token = bearer_token(request)
    if token is None:
        raise RequestRefused(401, ErrorCode.UNAUTHORIZED,
                             _("This request has no device token. Pair this PC with the relay "
                               "again."), headers={"WWW-Authenticate": "Bearer"})
    wait = limiter.acquire("t:" + hash_secret(token))
    if wait:
        raise RequestRefused(429, ErrorCode.RATE_LIMITED,
                             _("Too many requests from this device; wait {seconds} s and try "
                               "again.").format(seconds=wait),
                             headers={"Retry-After": str(wait)})
    return token


def office_holder(connection: Connection, token: str) -> Principal:
    """The office device holding ``token``: 401 for an unknown or revoked token, 403 for a
    resident's."""
    principal = authenticate(connection, token)
    if principal is None:
        raise RequestRefused(401, ErrorCode.UNAUTHORIZED,
                             _("The relay does not accept this device's token (it was revoked "
                               "or never issued). Pair this PC again with a new pairing code."),
                             headers={"WWW-Authenticate": "Bearer"})
    if principal.scope is not Scope.OFFICE:
        raise RequestRefused(403, ErrorCode.FORBIDDEN,
                             _("A resident's session cannot use the office interface."))
    return principal


def office_principal(request: Request, database: Database, limiter: RateLimiter) -> Principal:
    """Check an office request in its own read transaction: :func:`office_token`, then
    :func:`office_holder`."""
    token = office_token(request, limiter)
    with database.read() as connection:
        return office_holder(connection, token)


# ---------------------------------------------------------------- pairing codes


def new_pairing_code() -> str:
    """A fresh pairing code, e.g. ``K7QM-2XTA-9HPR``."""
    raw = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, PAIRING_LENGTH, 4))


def canonical_pairing_code(code: str) -> str:
    """The code as stored (hashed): upper case, without spaces or dashes, so that however the
    officer types it, it matches."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def store_pairing_code(connection: Connection, *, association_id: str, hours: float) -> str:
    """Make a one-time pairing code for the association, valid for ``hours``; returns it."""
    code = new_pairing_code()
    moment = now()
    connection.execute(insert(tables.pairing_code).values(
        code_hash=hash_secret(canonical_pairing_code(code)), association_id=association_id,
        created_at=moment, expires_at=moment + timedelta(hours=hours), used_at=None,
    ))
    return code


def redeem_pairing_code(connection: Connection, *, code: str,
                        device_name: str) -> PairResponse | None:
    """Use a pairing code once (in a write transaction): a new office token for the device,
    or None when the code is unknown, used or expired."""
    code_hash = hash_secret(canonical_pairing_code(code))
    row = connection.execute(
        select(tables.pairing_code.c.association_id, tables.pairing_code.c.expires_at,
               tables.pairing_code.c.used_at, tables.association.c.name)
        .join(tables.association,
              tables.association.c.id == tables.pairing_code.c.association_id)
        .where(tables.pairing_code.c.code_hash == code_hash)
    ).one_or_none()
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= now():
        return None
    # The guard on used_at makes a race between two devices with one code end with one token.
    used = connection.execute(
        update(tables.pairing_code)
        .where(tables.pairing_code.c.code_hash == code_hash)
        .where(tables.pairing_code.c.used_at.is_(None))
        .values(used_at=now())
    )
    if used.rowcount != 1:
        return None
    token = issue_token(connection, association_id=row.association_id, scope=Scope.OFFICE,
                        label=device_name)
    device_id = register_office_device(connection, association_id=row.association_id,
                                       token_hash=hash_secret(token), name=device_name)
    return PairResponse(token=token, association_id=row.association_id,
                        association_name=row.name, epoch=current_epoch(connection),
                        device_id=device_id)


def register_office_device(connection: Connection, *, association_id: str, token_hash: str,
                           name: str) -> str:
    """Make the office device row of an office token (in a write transaction); returns the
    relay-made device id (a UUID4), under which the association's other PCs know it."""
    device_id = str(uuid.uuid4())
    connection.execute(insert(tables.office_device).values(
        association_id=association_id, device_id=device_id, token_hash=token_hash, name=name,
        public_key="", created_at=now(), last_seen_at=None, pending=0, app_schema=0,
        revoked_at=None,
    ))
    return device_id
