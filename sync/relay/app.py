"""The relay's ASGI application: the office API, the residents' pages and the shared guards.

:func:`create_app` builds a Starlette app over a :class:`~sync.relay.config.Settings`. The
residents' pages come from ``sync.relay.residents.routes(database)`` when that module exists
(or from the ``resident_routes`` argument), so the office API and the pages share one database,
one process and one body-size guard. The app never creates or upgrades tables: ``kairan-relay
serve`` and ``kairan-relay upgrade`` run the migrations first, and the app refuses to start on a
database that is not at the current revision.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.i18n import _
from sync.protocol import API_PREFIX, ErrorCode
from sync.relay import office_api
from sync.relay.auth import error_response
from sync.relay.config import Settings
from sync.relay.db import Database, current_revision, head_revision, open_database
from sync.relay.fast_route import FastLanes
from sync.relay.ratelimit import RateLimiter

ResidentRoutes = Callable[[Database], Sequence[BaseRoute]]
RESIDENTS_MODULE = "sync.relay.residents"


class SchemaOutOfDate(RuntimeError):
    """The database is not at this relay's schema revision (run ``kairan-relay upgrade``)."""


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 to a request body over ``limit`` bytes: at once when Content-Length says so,
    else as soon as the streamed body passes the limit (nothing larger is ever buffered)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, ErrorCode.TOO_LARGE,
            _("The request is larger than the relay accepts ({limit} bytes). Send fewer "
              "operations at a time.").format(limit=self.limit),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _find_resident_routes() -> ResidentRoutes | None:
    if importlib.util.find_spec(RESIDENTS_MODULE) is None:
        return None
    module = importlib.import_module(RESIDENTS_MODULE)
    return cast(ResidentRoutes, module.routes)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(API_PREFIX):
        code = ErrorCode.NOT_FOUND if exc.status_code == 404 else ErrorCode.BAD_REQUEST
        return JSONResponse({"error": code.value, "message": exc.detail},
                            status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


class RelayApp(Starlette):
    """The relay's Starlette app with :class:`~sync.relay.fast_route.FastLanes` in front of
    its middleware, so the fast routes' plain cases skip the whole stack."""

    def __init__(self, routes: Sequence[BaseRoute], **options: Any) -> None:
        super().__init__(routes=routes, **options)
        self._lanes = FastLanes(partial(Starlette.__call__, self), routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._lanes(scope, receive, send)


def create_app(settings: Settings, *, database: Database | None = None,
               resident_routes: ResidentRoutes | None = None) -> Starlette:
    """The relay app. ``database`` defaults to one opened from ``settings.database_url`` (and
    closed when the app stops); ``resident_routes`` defaults to ``sync.relay.residents.routes``
    when that module exists. ``app.state`` holds ``settings``, ``database`` and ``limiter``
    (the per-token rate limiter) for the route modules."""
    owned = database is None
    db = database if database is not None else open_database(settings.database_url)
    limiter = RateLimiter(burst=settings.rate_burst, per_second=settings.rate_per_second)
    pair_limiter = RateLimiter(burst=settings.pair_rate_burst,
                               per_second=settings.pair_rate_per_second)
    residents = resident_routes if resident_routes is not None else _find_resident_routes()
    routes: list[BaseRoute] = [
        *office_api.routes(db, limiter=limiter, pair_limiter=pair_limiter),
        *(residents(db) if residents is not None else ()),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        with db.read() as connection:
            found = current_revision(connection)
        expected = head_revision()
        if found != expected:
            raise SchemaOutOfDate(
                _("The relay database is at schema revision {found}, this relay needs "
                  "{expected}. Run: kairan-relay upgrade --db URL").format(
                      found=found or "-", expected=expected))
        try:
            yield
        finally:
            if owned:
                db.dispose()

    app = RelayApp(routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error})
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.state.settings = settings
    app.state.database = db
    app.state.limiter = limiter
    return app
