"""The personal links in the mails: ``/k/TOKEN`` (the circular or the safety check of one
household) and ``/k/TOKEN/stop`` (stop the mails).

Written for old phones: small plain HTML, no JavaScript, no cookies (many feature phones keep
none). The token in the path is the credential, so every form carries what its POST needs:
the path, and a CSRF value derived from the token (:func:`link_csrf`), which a page of another
site cannot know. The language is ``?lang=en`` (or the resident page's language cookie, where
a phone has one), Japanese by default.

Opening a link records ``opened`` once (``mail_link.opened_at`` and a ``mail`` log item for
the office; once per household and circular, however many rounds it was mailed) and the read
mark exactly as the resident page does (:func:`sync.relay.residents.record_read`). Answers go
through the resident page's own functions, so they are checked and logged the same way: a
circular's answer as the link's household (:func:`~sync.relay.residents.answer_as`, channel
``email``), a safety answer through :func:`~sync.relay.residents.store_safety`, which takes a
session token: the link lends its household one for the length of its write
(:func:`_borrowed_session`), created and deleted in the same transaction, so no other request
ever sees it. The stop link marks every address of the household
``unsubscribed``, cancels its queued mails and tells the office (a ``mail`` log item
``unsubscribed``). An unknown token (or one whose household was purged) answers a plain 404
page.

Tokens are 50 random bits; wrong ones count against the client address (:class:`_Throttle`)
and every request against a per-address rate limit, so guessing is pointless.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Final
from urllib.parse import urlencode

from sqlalchemy import Connection, func, select, update
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sync.protocol import LogKind, Scope
from sync.relay import mail_tables as mt
from sync.relay import tables
from sync.relay.auth import issue_token
from sync.relay.db import Database, append_log, as_utc, iso, now
from sync.relay.mail.enqueue import (
    KIND_SAFETY,
    cancel_household,
    canonical_link_token,
    link_token_hash,
)
from sync.relay.mail.link_text import text
from sync.relay.ratelimit import RateLimiter
from sync.relay.resident_text import LANGUAGES, language_of
from sync.relay.residents import (
    LANGUAGE_COOKIE,
    MAX_FORM_BYTES,
    POST_BURST,
    POST_PER_SECOND,
    GroupWriter,
    GuessThrottle,
    NotSignedIn,
    Refused,
    Resident,
    SafetyAnswer,
    answer_as,
    circular_view,
    current_safety,
    end_session,
    format_day,
    format_moment,
    parse_form,
    parse_safety,
    record_read,
    render,
    store_safety,
)

PREFIX: Final = "/k"
# What a mail program posts to the List-Unsubscribe address for one-click unsubscribe (RFC 8058).
ONE_CLICK_BODY: Final = {"List-Unsubscribe": "One-Click"}
LINK_FAILURES: Final = 20  # unknown tokens per client address …
LINK_WINDOW_SECONDS: Final = 600.0  # … within this many seconds, then a pause
LINK_BURST: Final = 120  # link requests per client address at once …
LINK_PER_SECOND: Final = 5.0  # … and then five a second (a carrier's gateway serves many)
BORROWED_LABEL: Final = "mail link"
UNSUBSCRIBED: Final = "unsubscribed"

_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the path is the credential: never pass it on
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000",
}


# ---------------------------------------------------------------- the link and what it does


@dataclass(frozen=True, slots=True)
class Link:
    """A personal link with its household (as the resident page's :class:`Resident`)."""

    token: str
    token_hash: str
    circular_id: str | None  # None: the safety check
    kind: str
    opened_at: datetime | None
    resident: Resident


def link_csrf(token: str) -> str:
    """The form value of a link's pages: an HMAC of its token (cookie-less pages can carry
    nothing else, and a page of another site cannot compute it without the token)."""
    return hmac.digest(token.encode(), b"kairan-mail-link-form", "sha256").hex()


def load_link(connection: Connection, token: str) -> Link | None:
    """The link of ``token`` (canonical form) with its household, or None when unknown (or
    its household was purged: the link went with it)."""
    token_hash = link_token_hash(token)
    k, h, a = mt.mail_link, tables.household, tables.association
    row = connection.execute(
        select(k.c.association_id, k.c.household_id, k.c.circular_id, k.c.kind,
               k.c.opened_at, h.c.display_name, h.c.group_name, a.c.name, a.c.disaster_on,
               a.c.disaster_message, a.c.disaster_changed_at, a.c.purpose_statement)
        .join(h, (h.c.association_id == k.c.association_id)
              & (h.c.household_id == k.c.household_id))
        .join(a, a.c.id == k.c.association_id)
        .where(k.c.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    since = row.disaster_changed_at
    resident = Resident(
        token_hash=token_hash, association_id=row.association_id, association_name=row.name,
        household_id=row.household_id, display_name=row.display_name,
        group_name=row.group_name, disaster_on=bool(row.disaster_on),
        disaster_message=row.disaster_message,
        disaster_since=None if since is None else as_utc(since),
        purpose_statement=row.purpose_statement)
    return Link(token=token, token_hash=token_hash, circular_id=row.circular_id,
                kind=row.kind, opened_at=None if row.opened_at is None else as_utc(row.opened_at),
                resident=resident)


def _mail_item(connection: Connection, link: Link, event: str, at: datetime,
               circular_id: str | None) -> None:
    """A ``mail`` log item about the link's household (purged with it)."""
    household_id = link.resident.household_id
    append_log(connection, association_id=link.resident.association_id, kind=LogKind.MAIL,
               body={"household_id": household_id, "circular_id": circular_id,
                     "address": "", "event": event, "detail": "", "at": iso(at)},
               household_id=household_id, at=at)


def record_opened(connection: Connection, link: Link, *, mark_read: bool) -> bool:
    """Record that the link was opened (the office hears it once per household and circular,
    or once per safety-check link) and, with ``mark_read``, mark its circular read as the
    resident page does; whether this was the first opening of this link."""
    k = mt.mail_link
    at = now()
    first = connection.execute(
        update(k).where(k.c.token_hash == link.token_hash).where(k.c.opened_at.is_(None))
        .values(opened_at=at)).rowcount == 1
    if first and (link.circular_id is None or not connection.execute(
            select(func.count()).select_from(k)
            .where(k.c.association_id == link.resident.association_id)
            .where(k.c.household_id == link.resident.household_id)
            .where(k.c.circular_id == link.circular_id)
            .where(k.c.token_hash != link.token_hash)
            .where(k.c.opened_at.is_not(None))).scalar_one()):
        _mail_item(connection, link, "opened", at, link.circular_id)
    if mark_read and link.circular_id is not None:
        record_read(connection, link.resident, link.circular_id)
    return first


@contextlib.contextmanager
def _borrowed_session(connection: Connection, link: Link) -> Iterator[str]:
    """A resident session of the link's household for the resident page's functions, which
    take one; made and deleted inside this transaction, so it is never seen outside it."""
    session = issue_token(connection, association_id=link.resident.association_id,
                          scope=Scope.RESIDENT, household_id=link.resident.household_id,
                          label=BORROWED_LABEL)
    try:
        yield session
    finally:
        end_session(connection, session)


def answer_circular(connection: Connection, link: Link, form: Mapping[str, str]) -> None:
    """The household's answer to the link's circular, as the resident page stores and logs
    it (:class:`Refused` when it does not check)."""
    assert link.circular_id is not None
    if load_link(connection, link.token) is None:  # purged since the page was read
        raise NotSignedIn
    answer_as(connection, link.resident, link.circular_id, form, channel="email")


def answer_safety(connection: Connection, link: Link, answer: SafetyAnswer) -> bool:
    """The household's safety answer, as the resident page stores and logs it; False when
    disaster mode is off (the check is closed: nothing stored)."""
    if load_link(connection, link.token) is None:  # purged since the page was read
        raise NotSignedIn
    with _borrowed_session(connection, link) as session:
        (stored,) = store_safety(connection, [replace(answer, token=session)])
    if isinstance(stored, NotSignedIn):  # the household was purged meanwhile
        raise stored
    return stored


def unsubscribe(connection: Connection, link: Link) -> bool:
    """The stop link: every address of the household becomes ``unsubscribed``, its queued
    mails are cancelled, and the office is told (once); whether anything changed."""
    a = mt.mail_address
    resident = link.resident
    at = now()
    changed = connection.execute(
        update(a).where(a.c.association_id == resident.association_id)
        .where(a.c.household_id == resident.household_id).where(a.c.state != UNSUBSCRIBED)
        .values(state=UNSUBSCRIBED, state_detail="", state_at=at)).rowcount
    cancel_household(connection, association_id=resident.association_id,
                     household_id=resident.household_id)
    if changed:
        _mail_item(connection, link, UNSUBSCRIBED, at, None)
    return bool(changed)


def is_unsubscribed(connection: Connection, link: Link) -> bool:
    """Whether the household has addresses and every one of them is unsubscribed."""
    a = mt.mail_address
    states = set(connection.execute(
        select(a.c.state).where(a.c.association_id == link.resident.association_id)
        .where(a.c.household_id == link.resident.household_id)).scalars())
    return states == {UNSUBSCRIBED}


# ---------------------------------------------------------------- HTTP


def _language(request: Request, form: Mapping[str, str] | None = None) -> str:
    chosen = request.query_params.get("lang") or (form or {}).get("lang")
    return language_of(chosen or request.cookies.get(LANGUAGE_COOKIE))


def _page(request: Request, template: str, *, language: str, status: int = 200,
          link: Link | None = None, **context: Any) -> HTMLResponse:
    html = render(
        template, lang=language, languages=LANGUAGES, t=partial(text, language),
        day=partial(format_day, language), moment=partial(format_moment, language),
        link=link, resident=None if link is None else link.resident, here=request.url.path,
        base="" if link is None else f"{PREFIX}/{link.token}",
        csrf="" if link is None else link_csrf(link.token), **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _see_other(link: Link, language: str, path: str = "", **query: str) -> Response:
    if language != "ja":
        query["lang"] = language
    location = f"{PREFIX}/{link.token}{path}" + (f"?{urlencode(query)}" if query else "")
    return Response(status_code=303, headers={**_HEADERS, "Location": location})


async def _form(request: Request) -> dict[str, str] | None:
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    raw = await request.body()
    return None if len(raw) > MAX_FORM_BYTES else parse_form(raw)


class LinkPages:
    """The personal links' endpoints over one database (see :func:`routes`)."""

    def __init__(self, database: Database, writer: GroupWriter | None = None) -> None:
        self.database = database
        self.writer = writer or GroupWriter(database)
        self.throttle = GuessThrottle(failures=LINK_FAILURES, window=LINK_WINDOW_SECONDS)
        self.requests = RateLimiter(burst=LINK_BURST, per_second=LINK_PER_SECOND)
        self.posts = RateLimiter(burst=POST_BURST, per_second=POST_PER_SECOND)

    def routes(self) -> list[BaseRoute]:
        """``/k/{token}`` and ``/k/{token}/stop``, GET and POST."""
        return [
            Route(f"{PREFIX}/{{token}}", self.page, methods=["GET"]),
            Route(f"{PREFIX}/{{token}}", self.answer, methods=["POST"]),
            Route(f"{PREFIX}/{{token}}/stop", self.stop_page, methods=["GET"]),
            Route(f"{PREFIX}/{{token}}/stop", self.stop, methods=["POST"]),
        ]

    async def read(self, work: Any) -> Any:
        """Run ``work(connection)`` in a read transaction on a worker thread."""
        def run() -> Any:
            with self.database.read() as connection:
                return work(connection)
        return await run_in_threadpool(run)

    async def _link(self, request: Request, language: str) -> Link | Response:
        """The request's link, or the page to answer instead (429, or 404 for a token that
        is not one: counted against the client address)."""
        address = request.client.host if request.client else "-"
        wait = self.throttle.wait(address) or self.requests.acquire("k:" + address)
        if wait:
            response = _page(request, "mail_message.html", language=language, status=429,
                             message_key="link_too_many", message_fields={"seconds": wait})
            response.headers["Retry-After"] = str(wait)
            return response
        token = canonical_link_token(str(request.path_params["token"]))
        link: Link | None = None if token is None else await self.read(
            partial(load_link, token=token))
        if link is None:
            self.throttle.failed(address)
            return _page(request, "mail_message.html", language=language, status=404,
                         title_key="link_invalid_title", message_key="link_invalid")
        return link

    async def page(self, request: Request, *, error: Refused | None = None,
                   values: Mapping[str, str] | None = None, link: Link | None = None
                   ) -> Response:
        """The link's circular (marked read) or the safety check, with its form."""
        language = _language(request, values)
        if link is None:
            found = await self._link(request, language)
            if isinstance(found, Response):
                return found
            link = found
        status = error.status if error else 200
        sent = request.query_params.get("sent") == "1"
        if link.kind == KIND_SAFETY:
            if not link.resident.disaster_on:
                return _page(request, "mail_message.html", language=language, link=link,
                             title_key="safety_title", message_key="link_safety_closed")
            await self._opened(request, link, mark_read=False)
            safety = await self.read(partial(current_safety, resident=link.resident))
            return _page(request, "mail_safety.html", language=language, status=status,
                         link=link, safety=safety, sent=sent, error=error,
                         values=values or {})
        assert link.circular_id is not None
        view = await self.read(partial(circular_view, resident=link.resident,
                                       circular_id=link.circular_id))
        if view is None:
            return _page(request, "mail_message.html", language=language, status=404,
                         link=link, title_key="link_invalid_title",
                         message_key="link_withdrawn")
        await self._opened(request, link, mark_read=view.read_at is None)
        return _page(request, "mail_circular.html", language=language, status=status,
                     link=link, circular=view, sent=sent, error=error, values=values or {})

    async def _opened(self, request: Request, link: Link, *, mark_read: bool) -> None:
        # HEAD is what link checkers send: nobody has read anything.
        if request.method != "HEAD" and (link.opened_at is None or mark_read):
            # The page shows anyway when the marks cannot be written; the next visit retries.
            with contextlib.suppress(Exception):
                await self.writer.run(partial(record_opened, link=link, mark_read=mark_read))

    async def _posted(self, request: Request, *, one_click: bool = False,
                      ) -> tuple[Link, dict[str, str], str] | Response:
        """The link, fields and language of a form of its pages, or the page to answer
        instead: 404, 429, or 403 for a form these pages did not make. With ``one_click``,
        the body a mail program posts for the ``List-Unsubscribe-Post`` header (RFC 8058)
        passes without the form check: the token in the path is the secret."""
        form = await _form(request)
        language = _language(request, form)
        found = await self._link(request, language)
        if isinstance(found, Response):
            return found
        wait = self.posts.acquire(found.token_hash)
        if wait:
            response = _page(request, "mail_message.html", language=language, status=429,
                             link=found, message_key="too_many",
                             message_fields={"seconds": wait})
            response.headers["Retry-After"] = str(wait)
            return response
        if one_click and form == ONE_CLICK_BODY:
            return found, form, language
        if form is None or not hmac.compare_digest(form.get("csrf", ""),
                                                   link_csrf(found.token)):
            return _page(request, "mail_message.html", language=language, status=403,
                         link=found, message_key="form_expired")
        return found, form, language

    async def answer(self, request: Request) -> Response:
        """The household's answer to the circular or to the safety check."""
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        link, form, language = posted
        try:
            if link.kind == KIND_SAFETY:
                answer = parse_safety("", form)
                stored = await self.writer.run(partial(answer_safety, link=link,
                                                       answer=answer))
                return _see_other(link, language, **({"sent": "1"} if stored else {}))
            await self.writer.run(partial(answer_circular, link=link, form=form))
        except NotSignedIn:  # the household was purged between the two transactions
            return await self.page(request)
        except Refused as refused:
            return await self.page(request, error=refused, values=form, link=link)
        return _see_other(link, language, sent="1")

    async def stop_page(self, request: Request) -> Response:
        """Ask before stopping the mails (a mail scanner opening links must not stop them)."""
        language = _language(request)
        found = await self._link(request, language)
        if isinstance(found, Response):
            return found
        done = request.query_params.get("done") == "1"
        stopped = done or await self.read(partial(is_unsubscribed, link=found))
        return _page(request, "mail_stop.html", language=language, link=found, done=done,
                     stopped=stopped)

    async def stop(self, request: Request) -> Response:
        """Stop the mails to every address of the household (from its page, or from the mail
        program's one-click unsubscribe, which is answered with a plain 200)."""
        posted = await self._posted(request, one_click=True)
        if isinstance(posted, Response):
            return posted
        link, form, language = posted
        await self.writer.run(partial(unsubscribe, link=link))
        if form == ONE_CLICK_BODY:
            return PlainTextResponse("unsubscribed", headers=_HEADERS)
        return _see_other(link, language, "/stop", done="1")


def routes(database: Database, writer: GroupWriter | None = None) -> list[BaseRoute]:
    """The personal links' routes over ``database`` (``writer``: the resident page's, so that
    their writes share its transactions)."""
    return LinkPages(database, writer).routes()


__all__ = [
    "PREFIX",
    "Link",
    "LinkPages",
    "answer_circular",
    "answer_safety",
    "link_csrf",
    "load_link",
    "record_opened",
    "routes",
    "unsubscribe",
]
