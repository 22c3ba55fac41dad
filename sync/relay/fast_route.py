"""A POST route answered in plain ASGI when it can be, and by an ordinary endpoint otherwise.

The disaster burst sends one request type — a resident's safety answer — thousands of times a
minute. Starlette's request object, routing wrappers and form parsing cost more per request
than storing the answer does, so the busiest form is served by a *fast* handler that sees only
the ASGI scope and the body and either answers (the ordinary, valid case) or declines. A
declined request — no session, a form from elsewhere, a refused answer, a body too large for
the fast handler — goes to the full endpoint with its body replayed, which answers it with the
whole page: the fast handler never has to know the error pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, request_response
from starlette.types import Message, Receive, Scope, Send

FastHandler = Callable[[Scope, bytes], Awaitable[Response | None]]
Endpoint = Callable[[Request], Awaitable[Response]]


class FastPostRoute(BaseRoute):
    """``POST path``: ``fast(scope, body)`` answers, or returns None to hand the request to
    ``endpoint``. Bodies over ``max_body`` bytes always go to ``endpoint`` (the app's own
    body limit applies there). Other methods on ``path`` get 405, as with a ``Route``."""

    def __init__(self, path: str, fast: FastHandler, endpoint: Endpoint, *,
                 max_body: int) -> None:
        self.path = path
        self.name = endpoint.__name__
        self.fast = fast
        self.full = request_response(endpoint)
        self.max_body = max_body

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["path"] != self.path:
            return Match.NONE, {}
        # PARTIAL: the router answers 405 unless another route takes the method.
        return (Match.FULL if scope["method"] == "POST" else Match.PARTIAL), {}

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            response = Response("Method Not Allowed", status_code=405, headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more and size <= self.max_body:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        answer = None if more else await self.fast(scope, body)
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.full(scope, _replay(body, more, receive), send)


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` first, then whatever the client still sends."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed
