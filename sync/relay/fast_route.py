"""POST routes answered in plain ASGI when they can be, and by an ordinary endpoint otherwise.

The disaster burst sends one request type — a resident's safety answer — thousands of times a
minute. Starlette's middleware, router and request object cost more per request than storing
the answer does, so the busiest form is a :class:`FastPostRoute`: an ordinary ``Route`` for
its endpoint that also carries a *fast* handler. :class:`FastLanes` sits in front of the whole
app and gives a POST to such a path to the fast handler first, with only the ASGI scope and the
body; the handler either answers (the ordinary, valid case) or declines. A declined request —
no session, a form from elsewhere, a refused answer, a body too large for the fast handler —
goes through the app as usual (body limit, error pages, router) with its body replayed, and the
route's endpoint answers it with the whole page: the fast handler never has to know the error
pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FastHandler = Callable[[Scope, bytes], Awaitable[Response | None]]
Endpoint = Callable[[Request], Awaitable[Response]]


class FastPostRoute(Route):
    """``POST path`` served by ``endpoint`` through the router, and first by ``fast`` when
    the app is wrapped in :class:`FastLanes`. ``fast`` sees bodies of at most ``max_body``
    bytes; larger ones go to ``endpoint`` (the app's own body limit applies there)."""

    def __init__(self, path: str, fast: FastHandler, endpoint: Endpoint, *,
                 max_body: int) -> None:
        super().__init__(path, endpoint, methods=["POST"])
        self.fast = fast
        self.max_body = max_body


class FastLanes:
    """ASGI in front of ``app``: a POST to the path of one of ``routes``' fast routes is
    offered to its fast handler before the app sees it."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.lanes = {r.path: r for r in routes if isinstance(r, FastPostRoute)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lanes.get(scope["path"]) if scope["type"] == "http" \
            and scope["method"] == "POST" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more and size <= lane.max_body:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        answer = None if more else await lane.fast(scope, body)
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.app(scope, _replay(body, more, receive), send)


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
