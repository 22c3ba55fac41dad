"""The fast lanes in front of the relay app (sync/relay/fast_route.py): a fast handler answers
the plain case; anything it declines, and any body too large for it, goes through the whole
app with the body replayed; other methods keep the router's 405."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

from sync.relay.fast_route import FastLanes, FastPostRoute


def _app(seen: list[str]) -> FastLanes:
    async def fast(_scope: Scope, body: bytes) -> Response | None:
        seen.append("fast")
        return PlainTextResponse(b"fast:" + body) if body.startswith(b"ok") else None

    async def full(request: Request) -> Response:
        seen.append("full")
        return PlainTextResponse(b"full:" + await request.body())

    routes = [FastPostRoute("/form", fast, full, max_body=8)]
    return FastLanes(Starlette(routes=routes), routes)


@pytest.fixture
def lanes() -> tuple[httpx.AsyncClient, list[str]]:
    seen: list[str] = []
    transport = httpx.ASGITransport(app=_app(seen))
    return httpx.AsyncClient(transport=transport, base_url="http://relay"), seen


async def _post(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    async with client:
        return await client.post("/form", content=body)


@pytest.mark.parametrize(("body", "answer", "path"), [
    (b"ok=1", "fast:ok=1", ["fast"]),  # the plain case: the app never sees it
    (b"no=1", "full:no=1", ["fast", "full"]),  # declined: replayed to the endpoint
    (b"ok=123456789", "full:ok=123456789", ["full"]),  # over max_body: not offered
])
def test_a_lane_answers_or_hands_the_whole_body_on(
        lanes: tuple[httpx.AsyncClient, list[str]], body: bytes, answer: str,
        path: list[str]) -> None:
    import asyncio

    client, seen = lanes
    response = asyncio.run(_post(client, body))
    assert response.status_code == 200 and response.text == answer
    assert seen == path


def test_other_methods_and_paths_go_to_the_app(
        lanes: tuple[httpx.AsyncClient, list[str]]) -> None:
    import asyncio

    client, seen = lanes

    async def requests() -> tuple[int, int]:
        async with client:
            return ((await client.get("/form")).status_code,
                    (await client.post("/other", content=b"ok")).status_code)

    assert asyncio.run(requests()) == (405, 404)
    assert seen == []
