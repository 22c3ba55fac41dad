"""The newest Kairan release, as the relay's operator records it and office PCs read it.

``kairan-relay release set/show/clear`` write and read one row of ``app_release``;
``GET /release`` serves it to office devices, which decide themselves whether it is newer than
what they run (:mod:`sync.update_check`). The relay only passes the news on: an https page to
read, never a file to install. The version must read as one (the PCs ignore one that does not,
so the operator is told now rather than the news silently never arriving).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from desktop.domain.errors import ValidationError
from desktop.i18n import _
from sync.protocol import (
    MAX_RELEASE_NOTES,
    MAX_RELEASE_URL,
    MAX_RELEASE_VERSION,
    RELEASE_PATH,
    ReleaseInfo,
)
from sync.relay import tables
from sync.relay.auth import RequestRefused, office_holder, office_token
from sync.relay.db import Database, now
from sync.relay.ratelimit import RateLimiter


def checked_release(*, version: str, url: str, notes: str = "") -> ReleaseInfo:
    """The release as it will be stored; :class:`ValidationError` for a version that does
    not read as one, an address that is not https, or text too long."""
    from sync.update_check import parse_version  # the PCs' own reading of a version

    version, url, notes = version.strip(), url.strip(), notes.strip()
    if parse_version(version) is None:  # also refuses one over MAX_RELEASE_VERSION
        raise ValidationError(_(
            "「{version}」 is not a version Kairan can compare. Write it as numbers with dots, "
            "for example 0.2.0 (a test version: 0.2.0rc1).").format(version=version),
            field="version")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname or len(url) > MAX_RELEASE_URL:
        raise ValidationError(_(
            "「{url}」 is not an https address. Give the download page as https://… (office "
            "PCs open nothing else).").format(url=url), field="url")
    if len(notes) > MAX_RELEASE_NOTES:
        raise ValidationError(_("The notes are too long: keep them under {count} characters.")
                              .format(count=MAX_RELEASE_NOTES), field="notes")
    return ReleaseInfo(version=version, url=url, notes=notes)


def set_release(database: Database, *, version: str, url: str, notes: str = "") -> ReleaseInfo:
    """Record the newest release (replacing the one before); returns it as stored."""
    release = checked_release(version=version, url=url, notes=notes)
    with database.write() as connection:
        connection.execute(delete(tables.app_release))
        connection.execute(insert(tables.app_release).values(
            id=tables.RELEASE_ROW, version=release.version, url=release.url,
            notes=release.notes, set_at=now()))
    return release


def clear_release(database: Database) -> bool:
    """Forget the recorded release (PCs then hear of none); False when none was recorded."""
    with database.write() as connection:
        return bool(connection.execute(delete(tables.app_release)).rowcount)


_READ = select(tables.app_release.c.version, tables.app_release.c.url,
               tables.app_release.c.notes).where(tables.app_release.c.id == tables.RELEASE_ROW)


def read_release_in(connection: Connection) -> ReleaseInfo | None:
    """The recorded release inside a transaction, or None."""
    row = connection.execute(_READ).one_or_none()
    if row is None:
        return None
    return ReleaseInfo(version=row.version, url=row.url, notes=row.notes)


def read_release(database: Database) -> ReleaseInfo | None:
    """The recorded release, or None."""
    with database.read() as connection:
        return read_release_in(connection)


# ---------------------------------------------------------------- HTTP


def routes(database: Database, *, limiter: RateLimiter) -> list[BaseRoute]:
    """``GET /release`` over ``database``."""

    async def release(request: Request) -> Response:
        """The newest release, or ``{"version": null}``. Office devices only (401 for a
        stranger, 403 for a resident); the request says nothing about the PC."""
        try:
            token = office_token(request, limiter)

            def work() -> dict[str, Any]:
                with database.read() as connection:
                    office_holder(connection, token)
                    recorded = read_release_in(connection)
                return {"version": None} if recorded is None else recorded.to_json()

            return JSONResponse(await run_in_threadpool(work))
        except RequestRefused as refused:
            return refused.response()

    return [Route(RELEASE_PATH, release, methods=["GET"])]


def openapi_paths() -> dict[str, Any]:
    """``GET /release`` for the office API's OpenAPI document."""
    text = {"type": "string"}

    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}

    answer = {"type": "object", "required": ["version"], "properties": {
        "version": {**text, "nullable": True, "maxLength": MAX_RELEASE_VERSION},
        "url": {**text, "maxLength": MAX_RELEASE_URL},
        "notes": {**text, "maxLength": MAX_RELEASE_NOTES}}}
    return {RELEASE_PATH: {"get": {
        "summary": "The newest Kairan release the relay's operator recorded",
        "security": [{"bearer": []}],
        "responses": {
            "200": {"description": "The release, or version null when none is recorded",
                    "content": {"application/json": {"schema": answer}}},
            "401": error("No token, or an unknown or revoked one"),
            "403": error("A resident's token"),
            "429": error("Rate limit (see Retry-After)"),
        },
    }}}
