"""The resident page: what a household's phones see and send, served by the relay.

Plain HTML forms and one stylesheet (no JavaScript needed), large text, Japanese by default with
an English switch (words in :mod:`sync.relay.resident_text`). A phone exchanges the household's
invitation code (typed, or filled in by the QR link ``/r/join?code=…``) for a session: a random
token kept by the relay only as its hash, in the ``token`` table with scope ``resident`` (so the
office API answers it 403), sent back as an ``HttpOnly``, ``Secure``, ``SameSite=Lax`` cookie;
up to :data:`MAX_SESSIONS` phones per household. Every form carries a CSRF token derived from
the session (an HMAC of the cookie's token), so another site cannot post in a resident's name.

What a household sees: the circulars sent to it (its 班's and the whole association's), the
general meetings it votes in, and, while disaster mode is on, the safety check instead. What it
sends — a read mark, an answer (read confirmation, attendance, survey), a meeting form
(attendance, proxy, written vote, only where the office allowed online forms) — is stored and
appended to the association's log (kinds ``read``, ``answer``, ``meeting_answer``) in one
transaction, so the office PCs pull it; a safety answer is only its log item (kind ``safety``).

Writes go through :class:`GroupWriter`: concurrent requests share one transaction, and each
request is answered only after that transaction committed, so a burst of safety answers costs
one disk flush per batch instead of one per answer (and a few statements per batch, see
:func:`store_safety`).

The office publishes general meetings with the ops ``meeting.publish`` and ``meeting.retract``:
:data:`MEETING_OP_FIELDS` checks their bodies as ``sync.protocol.OP_FIELDS`` does the others',
:data:`MEETING_HANDLERS` applies a checked body inside the office API's write transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import secrets
import time
import unicodedata
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar, cast, overload
from urllib.parse import unquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope as AsgiScope

from desktop.domain.ids import uuid7
from desktop.domain.wareki import format_wareki
from sync.invitation_codes import canonical_invitation_code
from sync.protocol import MAX_AGENDA_ITEMS as PROTOCOL_MAX_AGENDA_ITEMS
from sync.protocol import OP_FIELDS, LogKind, OpKind, SafetyStatus, Scope, hash_secret
from sync.relay import resident_tables as rt
from sync.relay import tables
from sync.relay.auth import issue_token
from sync.relay.db import (
    Database,
    append_log,
    as_utc,
    iso,
    now,
    pipelined,
)
from sync.relay.fast_route import FastPostRoute
from sync.relay.ratelimit import RateLimiter
from sync.relay.resident_text import DEFAULT_LANGUAGE, LANGUAGES, language_of, text
from sync.relay.safety_process import NOT_SIGNED_IN, STORED, ProcessGone, SafetyProcess

T = TypeVar("T")

PREFIX: Final = "/r"
SESSION_COOKIE: Final = "__Host-kairan-session"
JOIN_COOKIE: Final = "__Host-kairan-join"
LANGUAGE_COOKIE: Final = "__Host-kairan-lang"
MAX_SESSIONS: Final = 4  # phones per household
SESSION_SECONDS: Final = 400 * 24 * 3600  # browsers keep a cookie at most 400 days
JOIN_SECONDS: Final = 3600  # how long the code form stays valid
MAX_FORM_BYTES: Final = 64 * 1024
MAX_FORM_FIELDS: Final = 200
MAX_NOTE: Final = 500  # characters of a safety note
MAX_TEXT_ANSWER: Final = 500  # characters of a free-text survey answer
MAX_PROXY_NAME: Final = 100
MAX_LABEL: Final = 200  # characters of the browser description kept with a session
MAX_AGENDA_ITEMS: Final = PROTOCOL_MAX_AGENDA_ITEMS  # agenda items a meeting may list
JOIN_FAILURES: Final = 10  # wrong codes per client address …
JOIN_WINDOW_SECONDS: Final = 600.0  # … within this many seconds, then a pause
MAX_BATCH: Final = 256  # requests committed together by the group writer
PROCESS_RETRY_SECONDS: Final = 60.0  # after the safety writer process failed or died
POST_BURST: Final = 20  # forms one phone may send at once …
POST_PER_SECOND: Final = 0.2  # … and then one per 5 s (answers, not a flood of log items)
JST: Final = timezone(timedelta(hours=9), "JST")  # no daylight saving in Japan

LOG_MEETING_ANSWER: Final = LogKind.MEETING_ANSWER
OP_MEETING_PUBLISH: Final = OpKind.MEETING_PUBLISH
OP_MEETING_RETRACT: Final = OpKind.MEETING_RETRACT
ATTENDANCE_CHOICES: Final = ("出席", "欠席")  # as the desktop stores an attendance answer
MEETING_FORMS: Final = ("attend", "absent", "proxy", "written")
VOTES: Final = ("for", "against", "abstain")

_TEMPLATES = Path(__file__).with_name("templates")
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the QR link carries the invitation code
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000",
}
_SAFETY_STATUSES = frozenset(s.value for s in SafetyStatus)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SAFE_NEXT = re.compile(r"^/r/[A-Za-z0-9/_\-]*$")


# ---------------------------------------------------------------- the group writer


@dataclass(frozen=True, slots=True)
class SafetyAnswer:
    """A safety answer as posted, waiting for the group writer (stored in bulk with the
    others of its batch: the disaster burst is the page's heaviest load)."""

    token: str
    status: str
    note: str
    needs_help: bool


_Work = Callable[[Connection], Any] | SafetyAnswer


@dataclass(slots=True)
class _Queue:
    pending: list[tuple[_Work, asyncio.Future[Any]]] = field(default_factory=list)
    draining: asyncio.Task[None] | None = None
    process: SafetyProcess | None = None  # the safety answers' writer, once it is ready
    keeper: asyncio.Task[None] | None = None  # starts, watches and at the end stops it
    tried: asyncio.Event = field(default_factory=asyncio.Event)  # the keeper's start attempt
    retry_at: float = 0.0  # after a child failed to start: not again before (monotonic)


class GroupWriter:
    """Runs the writes of concurrent requests in shared transactions (group commit).

    ``await writer.run(work)`` queues ``work``: a function of a connection, or a
    :class:`SafetyAnswer`. One task per event loop takes everything queued (up to
    :data:`MAX_BATCH`) and runs it in a worker thread in one write transaction, then commits.
    A batch of safety answers only (the disaster burst) is stored in a few statements for all
    of them (:func:`store_safety`), by a process of its own (:mod:`sync.relay.safety_process`)
    once that has started — the first safety answer or safety page starts it — and in the
    thread until then or if it fails; otherwise each work runs in a savepoint of its own. Each
    caller gets its result — or its exception, which rolled back only its own work — after the
    commit, so an answer is durable before the resident is told it was sent.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = \
            weakref.WeakKeyDictionary()
        self._process_url = _process_url(database)

    @overload
    async def run(self, work: SafetyAnswer) -> bool: ...

    @overload
    async def run(self, work: Callable[[Connection], T]) -> T: ...

    async def run(self, work: _Work) -> Any:
        """Run ``work`` in a write transaction shared with other requests; its result
        (for a :class:`SafetyAnswer`: True when stored, False when disaster mode is off)."""
        loop = asyncio.get_running_loop()
        queue = self._queue(loop)
        if isinstance(work, SafetyAnswer):
            self._keep_process(queue, loop)
        future: asyncio.Future[Any] = loop.create_future()
        queue.pending.append((work, future))
        if queue.draining is None:
            queue.draining = loop.create_task(self._drain(queue))
        return await future

    def prepare_for_safety(self) -> None:
        """Start the safety answers' writer process now (from a running event loop), since a
        burst of answers may follow: the safety check is being shown."""
        loop = asyncio.get_running_loop()
        self._keep_process(self._queue(loop), loop)

    async def ready_for_safety(self) -> SafetyProcess | None:
        """Start the safety answers' writer process if it is not running and wait for it:
        the process, or None when safety answers are stored in the thread for now."""
        loop = asyncio.get_running_loop()
        queue = self._queue(loop)
        self._keep_process(queue, loop)
        if queue.keeper is not None:
            await queue.tried.wait()
        return queue.process

    def _queue(self, loop: asyncio.AbstractEventLoop) -> _Queue:
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        return queue

    def _keep_process(self, queue: _Queue, loop: asyncio.AbstractEventLoop) -> None:
        if self._process_url is None or queue.keeper is not None \
                or time.monotonic() < queue.retry_at:
            return
        queue.tried.clear()
        queue.keeper = loop.create_task(self._keep(queue, self._process_url))

    async def _keep(self, queue: _Queue, url: str) -> None:
        """Start the child and hold it until it ends; when this task is cancelled (the event
        loop shuts down) stop it."""
        try:
            process = await SafetyProcess.start(url)
        except ProcessGone:
            queue.retry_at = time.monotonic() + PROCESS_RETRY_SECONDS
            queue.keeper = None
            queue.tried.set()
            return
        queue.process = process
        queue.tried.set()
        try:
            await process.process.wait()
            queue.retry_at = time.monotonic() + PROCESS_RETRY_SECONDS  # it died: not at once
        finally:
            queue.process = None
            queue.keeper = None
            await asyncio.shield(process.close())

    async def _drain(self, queue: _Queue) -> None:
        try:
            while queue.pending:
                batch = queue.pending[:MAX_BATCH]
                del queue.pending[:MAX_BATCH]
                works = [w for w, _f in batch]
                try:
                    outcomes = await self._in_process(queue.process, works)
                    if outcomes is None:
                        outcomes = await run_in_threadpool(self.commit, works)
                except Exception as error:  # the commit itself failed: nobody's work stands
                    for _work, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_work, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():  # the request was cancelled (the phone went away)
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            queue.draining = None

    @staticmethod
    async def _in_process(process: SafetyProcess | None,
                          works: Sequence[_Work]) -> list[tuple[bool, Any]] | None:
        """A batch of safety answers only, stored by the writer process: per work the
        outcome; None when the thread must store it (no process, other work, or the child
        rolled it back). A child that went away after taking the batch fails the batch:
        it may have been stored, so it is not stored again."""
        if process is None or not all(isinstance(w, SafetyAnswer) for w in works):
            return None
        answers = cast(Sequence[SafetyAnswer], works)
        try:
            results = await process.store(
                [(a.token, a.status, a.note, a.needs_help) for a in answers])
        except ProcessGone as gone:
            if gone.sent:
                raise
            return None
        if results is None:
            return None
        return [(False, NotSignedIn()) if result == NOT_SIGNED_IN else (True, result == STORED)
                for result in results]

    def commit(self, works: Sequence[_Work]) -> list[tuple[bool, Any]]:
        """Run ``works`` in one write transaction and commit; per work ``(True, result)`` or
        ``(False, exception)``."""
        answers = [w for w in works if isinstance(w, SafetyAnswer)]
        if answers and len(answers) == len(works):
            try:  # the burst: every answer in a few statements, no savepoints
                with self.database.write() as connection:
                    stored = store_safety(connection, answers)
                return [(not isinstance(r, Exception), r) for r in stored]
            except Exception:  # e.g. a household purged meanwhile: one by one instead
                pass
        outcomes: list[tuple[bool, Any]] = []
        with self.database.write() as connection:
            for work in works:
                run = partial(_store_one, answer=work) if isinstance(work, SafetyAnswer) \
                    else work
                outcomes.append(_one(connection, run))
        return outcomes


def _one(connection: Connection, work: Callable[[Connection], Any]) -> tuple[bool, Any]:
    try:
        with connection.begin_nested():
            return True, work(connection)
    except Exception as error:  # handed to its own request only
        return False, error


def _process_url(database: Database) -> str | None:
    """The URL a writer process opens ``database`` by, or None for an in-memory SQLite
    database, which no other process can open."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite" and (
            url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"):
        return None
    return url.render_as_string(hide_password=False)


def _store_one(connection: Connection, answer: SafetyAnswer) -> bool:
    result = store_safety(connection, [answer])[0]
    if isinstance(result, Exception):
        raise result
    return result


# ---------------------------------------------------------------- who is asking


@dataclass(frozen=True, slots=True)
class Resident:
    """A signed-in household phone, with what every page shows."""

    token_hash: str
    association_id: str
    association_name: str
    household_id: str
    display_name: str
    group_name: str
    disaster_on: bool
    disaster_message: str
    disaster_since: datetime | None
    purpose_statement: str = ""


class NotSignedIn(Exception):
    """The session cookie is missing, unknown or revoked (or its household was purged)."""


class Refused(Exception):
    """A form that cannot be taken as sent: ``key`` names the message in resident_text."""

    def __init__(self, key: str, status: int = 400, **fields: object) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.fields = fields


def load_resident(connection: Connection, token: str | None) -> Resident:
    """The household signed in with session ``token``; :class:`NotSignedIn` when none."""
    if not token:
        raise NotSignedIn
    token_hash = hash_secret(token)
    t, h, a = tables.token, tables.household, tables.association
    row = connection.execute(
        select(t.c.association_id, t.c.household_id, h.c.display_name, h.c.group_name,
               a.c.name, a.c.disaster_on, a.c.disaster_message, a.c.disaster_changed_at,
               a.c.purpose_statement)
        .join(h, (h.c.association_id == t.c.association_id)
              & (h.c.household_id == t.c.household_id))
        .join(a, a.c.id == t.c.association_id)
        .where(t.c.token_hash == token_hash)
        .where(t.c.scope == Scope.RESIDENT.value)
        .where(t.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        raise NotSignedIn
    since = row.disaster_changed_at
    return Resident(
        token_hash=token_hash, association_id=row.association_id, association_name=row.name,
        household_id=row.household_id, display_name=row.display_name,
        group_name=row.group_name, disaster_on=bool(row.disaster_on),
        disaster_message=row.disaster_message,
        disaster_since=None if since is None else as_utc(since),
        purpose_statement=row.purpose_statement,
    )


def csrf_token(session_token: str) -> str:
    """The form token of a session: an HMAC of the cookie's token, which another site can
    neither read nor compute."""
    return hmac.digest(session_token.encode(), b"kairan-resident-form", "sha256").hex()


# ---------------------------------------------------------------- what pages show


@dataclass(frozen=True, slots=True)
class CircularLine:
    """A circular in the household's list."""

    circular_id: str
    title: str
    issued_on: date
    ask: str
    deadline: date | None
    read: bool
    answered: bool


@dataclass(frozen=True, slots=True)
class MeetingLine:
    """A general meeting in the household's list."""

    meeting_id: str
    title: str
    held_on: date
    online_forms: bool
    answered: bool


@dataclass(frozen=True, slots=True)
class Question:
    """A question as the page shows it (``kind`` ``choice`` or ``text``)."""

    number: int
    text: str
    kind: str
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CircularView:
    """One circular with the household's answer and read mark."""

    circular_id: str
    title: str
    blocks: tuple[tuple[str, tuple[str, ...]], ...]  # see :func:`body_blocks`
    issued_on: date
    issuer: str
    ask: str
    questions: tuple[Question, ...]
    deadline: date | None
    answers: tuple[str, ...] | None
    answered_at: datetime | None
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One item of a meeting's agenda."""

    item_id: str
    title: str


@dataclass(frozen=True, slots=True)
class MeetingView:
    """One general meeting with the household's form."""

    meeting_id: str
    title: str
    blocks: tuple[tuple[str, tuple[str, ...]], ...]
    held_on: date
    deadline: date | None
    online_forms: bool
    items: tuple[AgendaItem, ...]
    is_open: bool
    form: str | None
    proxy_to: str | None
    votes: Mapping[str, str]
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class SafetyView:
    """The household's current safety answer (since disaster mode was switched on)."""

    status: str
    note: str
    needs_help: bool
    answered_at: datetime


def body_blocks(body: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A circular's body markup as blocks for the page: ``("h", (text,))`` for ``# ``,
    ``("h3", …)`` for ``## ``, ``("ul", items)`` for ``- ``/``・`` lines, ``("ol", items)``
    for ``1. `` lines and ``("p", lines)`` for the rest; a blank line ends a paragraph."""
    blocks: list[tuple[str, tuple[str, ...]]] = []
    kind: str | None = None
    lines: list[str] = []

    def close() -> None:
        nonlocal kind
        if kind is not None and lines:
            blocks.append((kind, tuple(lines)))
        lines.clear()
        kind = None

    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            close()
        elif line.startswith("## "):
            close()
            blocks.append(("h3", (line[3:].strip(),)))
        elif line.startswith("# "):
            close()
            blocks.append(("h", (line[2:].strip(),)))
        elif line.startswith(("- ", "・")):
            if kind != "ul":
                close()
                kind = "ul"
            lines.append(line[2:].strip() if line.startswith("- ") else line[1:].strip())
        elif (numbered := re.match(r"^\d+[.)．]\s*(.*)$", line)) is not None:
            if kind != "ol":
                close()
                kind = "ol"
            lines.append(numbered[1])
        else:
            if kind != "p":
                close()
                kind = "p"
            lines.append(line)
    close()
    return tuple(blocks)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _questions(ask: str, raw: Any) -> tuple[Question, ...]:
    if ask == "attendance":
        return (Question(1, "出欠", "choice", ATTENDANCE_CHOICES),)
    if ask != "survey" or not isinstance(raw, list):
        return ()
    found: list[Question] = []
    for number, item in enumerate(raw, start=1):
        if isinstance(item, dict):
            choices = tuple(str(c) for c in item.get("choices") or ())
            kind = "choice" if item.get("kind") == "choice" and choices else "text"
            found.append(Question(number, str(item.get("text", "")), kind, choices))
    return tuple(found)


def _recipient(connection: Connection, resident: Resident, circular_id: str) -> Any:
    c, r = tables.circular, tables.circular_recipient
    return connection.execute(
        select(c.c.circular_id, c.c.title, c.c.body, c.c.issued_on, c.c.issuer, c.c.ask,
               c.c.questions, c.c.deadline)
        .join(r, (r.c.association_id == c.c.association_id)
              & (r.c.circular_id == c.c.circular_id))
        .where(c.c.association_id == resident.association_id)
        .where(c.c.circular_id == circular_id)
        .where(r.c.household_id == resident.household_id)
    ).one_or_none()


def circular_lines(connection: Connection, resident: Resident) -> list[CircularLine]:
    """The circulars sent to the household, newest first, with read and answered marks."""
    c, r = tables.circular, tables.circular_recipient
    reads, answers = rt.resident_read, rt.resident_answer
    rows = connection.execute(
        select(c.c.circular_id, c.c.title, c.c.issued_on, c.c.ask, c.c.deadline,
               reads.c.read_at, answers.c.answered_at)
        .join(r, (r.c.association_id == c.c.association_id)
              & (r.c.circular_id == c.c.circular_id))
        .outerjoin(reads, (reads.c.association_id == r.c.association_id)
                   & (reads.c.circular_id == r.c.circular_id)
                   & (reads.c.household_id == r.c.household_id))
        .outerjoin(answers, (answers.c.association_id == r.c.association_id)
                   & (answers.c.circular_id == r.c.circular_id)
                   & (answers.c.household_id == r.c.household_id))
        .where(r.c.association_id == resident.association_id)
        .where(r.c.household_id == resident.household_id)
        .order_by(c.c.issued_on.desc(), c.c.published_at.desc())
    ).all()
    return [CircularLine(row.circular_id, row.title, _day(row.issued_on) or date.min, row.ask,
                         _day(row.deadline), row.read_at is not None,
                         row.answered_at is not None) for row in rows]


def meeting_lines(connection: Connection, resident: Resident) -> list[MeetingLine]:
    """The general meetings the household votes in, latest first."""
    m, r, answers = rt.meeting, rt.meeting_recipient, rt.meeting_answer
    rows = connection.execute(
        select(m.c.meeting_id, m.c.title, m.c.held_on, m.c.online_forms, answers.c.form)
        .join(r, (r.c.association_id == m.c.association_id)
              & (r.c.meeting_id == m.c.meeting_id))
        .outerjoin(answers, (answers.c.association_id == r.c.association_id)
                   & (answers.c.meeting_id == r.c.meeting_id)
                   & (answers.c.household_id == r.c.household_id))
        .where(r.c.association_id == resident.association_id)
        .where(r.c.household_id == resident.household_id)
        .order_by(m.c.held_on.desc())
    ).all()
    return [MeetingLine(row.meeting_id, row.title, _day(row.held_on) or date.min,
                        bool(row.online_forms), row.form is not None) for row in rows]


def circular_view(connection: Connection, resident: Resident,
                  circular_id: str) -> CircularView | None:
    """One circular sent to the household, or None (not sent to it, retracted, unknown)."""
    row = _recipient(connection, resident, circular_id)
    if row is None:
        return None
    key = {"association_id": resident.association_id, "circular_id": row.circular_id,
           "household_id": resident.household_id}
    answer = connection.execute(
        select(rt.resident_answer.c.answers, rt.resident_answer.c.answered_at)
        .filter_by(**key)).one_or_none()
    read_at = connection.execute(select(rt.resident_read.c.read_at).filter_by(**key)).scalar()
    return CircularView(
        circular_id=row.circular_id, title=row.title, blocks=body_blocks(row.body),
        issued_on=_day(row.issued_on) or date.min, issuer=row.issuer, ask=row.ask,
        questions=_questions(row.ask, row.questions), deadline=_day(row.deadline),
        answers=None if answer is None else tuple(str(a) for a in answer.answers),
        answered_at=None if answer is None else as_utc(answer.answered_at),
        read_at=None if read_at is None else as_utc(read_at),
    )


def _meeting_row(connection: Connection, resident: Resident, meeting_id: str) -> Any:
    m, r = rt.meeting, rt.meeting_recipient
    return connection.execute(
        select(m)
        .join(r, (r.c.association_id == m.c.association_id)
              & (r.c.meeting_id == m.c.meeting_id))
        .where(m.c.association_id == resident.association_id)
        .where(m.c.meeting_id == meeting_id)
        .where(r.c.household_id == resident.household_id)
    ).one_or_none()


def meeting_open(held_on: date, deadline: date | None, moment: datetime) -> bool:
    """Whether online forms are still taken at ``moment``: until the end of the deadline day,
    or without one until the meeting day begins (Japan time)."""
    today = moment.astimezone(JST).date()
    return today <= deadline if deadline is not None else today < held_on


def _agenda(raw: Any) -> tuple[AgendaItem, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(AgendaItem(str(i["item_id"]), str(i["title"])) for i in raw
                 if isinstance(i, dict) and "item_id" in i and "title" in i)


def meeting_view(connection: Connection, resident: Resident,
                 meeting_id: str) -> MeetingView | None:
    """One general meeting the household votes in, with its current form, or None."""
    row = _meeting_row(connection, resident, meeting_id)
    if row is None:
        return None
    answer = connection.execute(
        select(rt.meeting_answer).filter_by(association_id=resident.association_id,
                                            meeting_id=row.meeting_id,
                                            household_id=resident.household_id)
    ).one_or_none()
    held_on = _day(row.held_on) or date.min
    deadline = _day(row.deadline)
    votes = answer.votes if answer is not None and isinstance(answer.votes, dict) else {}
    return MeetingView(
        meeting_id=row.meeting_id, title=row.title, blocks=body_blocks(row.body),
        held_on=held_on, deadline=deadline, online_forms=bool(row.online_forms),
        items=_agenda(row.items), is_open=meeting_open(held_on, deadline, now()),
        form=None if answer is None else answer.form,
        proxy_to=None if answer is None else answer.proxy_to,
        votes={str(k): str(v) for k, v in votes.items()},
        answered_at=None if answer is None else as_utc(answer.answered_at),
    )


def current_safety(connection: Connection, resident: Resident) -> SafetyView | None:
    """The household's latest safety answer since disaster mode was switched on (its log
    item, the answer's only copy)."""
    log = tables.log
    query = (select(log.c.body)
             .where(log.c.association_id == resident.association_id)
             .where(log.c.household_id == resident.household_id)
             .where(tables.SAFETY_ITEMS)
             .order_by(log.c.seq.desc()).limit(1))
    if resident.disaster_since is not None:  # log times are ISO UTC of one width: they sort
        query = query.where(log.c.at >= iso(resident.disaster_since))
    body = connection.execute(query).scalar_one_or_none()
    if body is None:
        return None
    answer = json.loads(body)
    return SafetyView(str(answer["status"]), str(answer["note"]), bool(answer["needs_help"]),
                      as_utc(datetime.fromisoformat(answer["at"])))


# ---------------------------------------------------------------- what residents send


def _clean(value: str, *, limit: int, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if not multiline:
        value = " ".join(value.split())
    value = value.strip()
    if len(value) > limit:
        raise Refused("answer_too_long", limit=limit)
    return value


def _upsert(connection: Connection, table: Any, values: dict[str, Any],
            keys: tuple[str, ...]) -> None:
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table).values(**values)
    changes = {name: statement.excluded[name] for name in values if name not in keys}
    connection.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes))


def record_read(connection: Connection, resident: Resident, circular_id: str) -> bool:
    """Mark the circular read by the household (the first time only; logged as ``read``);
    whether this was the first time."""
    if _recipient(connection, resident, circular_id) is None:
        return False
    key = {"association_id": resident.association_id, "circular_id": circular_id,
           "household_id": resident.household_id}
    if connection.execute(select(rt.resident_read.c.read_at).filter_by(**key)).first():
        return False
    at = now()
    connection.execute(insert(rt.resident_read).values(**key, read_at=at))
    append_log(connection, association_id=resident.association_id, kind=LogKind.READ,
               body={"circular_id": circular_id, "household_id": resident.household_id,
                     "at": iso(at)},
               household_id=resident.household_id, at=at)
    return True


def circular_answers(view: CircularView, form: Mapping[str, str]) -> list[str]:
    """The answers of a submitted circular form, one per question (none for a read
    confirmation); :class:`Refused` when one is missing or not a choice."""
    if view.ask == "read":
        return []
    if view.ask not in ("attendance", "survey"):
        raise Refused("answer_invalid")
    answers: list[str] = []
    for question in view.questions:
        value = _clean(form.get(f"q{question.number}", ""), limit=MAX_TEXT_ANSWER,
                       multiline=question.kind == "text")
        if question.kind == "choice":
            if not value:
                raise Refused("answer_missing", question=question.text)
            if value not in question.choices:
                raise Refused("answer_invalid")
        answers.append(value)
    return answers


def record_answer(connection: Connection, token: str, circular_id: str,
                  form: Mapping[str, str]) -> None:
    """Store the household's answer to a circular and log it as ``answer`` (channel app)."""
    answer_as(connection, load_resident(connection, token), circular_id, form, channel="app")


def answer_as(connection: Connection, resident: Resident, circular_id: str,
              form: Mapping[str, str], *, channel: str) -> None:
    """Store ``resident``'s answer to a circular and log it as ``answer``, saying how it came
    (``app``: the resident page; ``email``: a mail's personal link)."""
    view = circular_view(connection, resident, circular_id)
    if view is None:
        raise Refused("not_found", status=404)
    answers = circular_answers(view, form)
    at = now()
    answer_id = str(uuid7())
    _upsert(connection, rt.resident_answer, {
        "association_id": resident.association_id, "circular_id": view.circular_id,
        "household_id": resident.household_id, "answer_id": answer_id, "answers": answers,
        "answered_at": at,
    }, ("association_id", "circular_id", "household_id"))
    if view.read_at is None:
        record_read(connection, resident, view.circular_id)
    append_log(connection, association_id=resident.association_id, kind=LogKind.ANSWER,
               body={"answer_id": answer_id, "circular_id": view.circular_id,
                     "household_id": resident.household_id, "answers": answers,
                     "channel": channel, "at": iso(at)},
               household_id=resident.household_id, at=at)


def meeting_form(view: MeetingView, form: Mapping[str, str]) -> tuple[str, str | None,
                                                                      dict[str, str] | None]:
    """The form, proxy holder and written votes of a submitted meeting form."""
    kind = form.get("form", "")
    if kind not in MEETING_FORMS:
        raise Refused("meeting_choose")
    proxy_to = None
    votes = None
    if kind == "proxy":
        proxy_to = _clean(form.get("proxy_to", ""), limit=MAX_PROXY_NAME)
    elif kind == "written":
        votes = {item.item_id: form.get(f"vote_{item.item_id}", "") for item in view.items}
        if any(vote not in VOTES for vote in votes.values()):
            raise Refused("meeting_written_missing")
    return kind, proxy_to, votes


def record_meeting_form(connection: Connection, token: str, meeting_id: str,
                        form: Mapping[str, str]) -> None:
    """Store the household's meeting form and log it as ``meeting_answer``."""
    resident = load_resident(connection, token)
    view = meeting_view(connection, resident, meeting_id)
    if view is None:
        raise Refused("not_found", status=404)
    if not view.online_forms:
        raise Refused("meeting_paper_only", status=403)
    if not view.is_open:
        raise Refused("meeting_closed", status=403)
    kind, proxy_to, votes = meeting_form(view, form)
    at = now()
    answer_id = str(uuid7())
    _upsert(connection, rt.meeting_answer, {
        "association_id": resident.association_id, "meeting_id": view.meeting_id,
        "household_id": resident.household_id, "answer_id": answer_id, "form": kind,
        "proxy_to": proxy_to, "votes": votes, "answered_at": at,
    }, ("association_id", "meeting_id", "household_id"))
    append_log(connection, association_id=resident.association_id, kind=LOG_MEETING_ANSWER,
               body={"answer_id": answer_id, "meeting_id": view.meeting_id,
                     "household_id": resident.household_id, "form": kind,
                     "proxy_to": proxy_to, "votes": votes, "channel": "app", "at": iso(at)},
               household_id=resident.household_id, at=at)


def parse_safety(token: str, form: Mapping[str, str]) -> SafetyAnswer:
    """The safety answer of a submitted safety check; :class:`Refused` without a status."""
    status = form.get("status", "")
    if status not in _SAFETY_STATUSES:
        raise Refused("safety_choose")
    note = _clean(form.get("note", ""), limit=MAX_NOTE, multiline=True)
    return SafetyAnswer(token, status, note, form.get("needs_help", "") in ("1", "on", "yes"))


def store_safety(connection: Connection,
                 answers: Sequence[SafetyAnswer]) -> list[bool | NotSignedIn]:
    """Store safety answers as items of their association's log (kind ``safety``, the
    answer's only copy), a few statements for all of them: per answer True when stored,
    False when its association's disaster mode is off (the check is closed: nothing stored),
    :class:`NotSignedIn` for an unknown session.

    The disaster burst runs through here, so the statements go straight to the driver's
    cursor (inside the connection's transaction), written out by hand: SQLAlchemy's
    statement handling cost more per batch than the database did."""
    sql = _SAFETY_SQL[connection.dialect.name == "postgresql"]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    hashes = [hash_secret(answer.token) for answer in answers]
    wanted = sorted(set(hashes))
    cursor.execute(sql.sessions(len(wanted)), sql.keys(wanted, Scope.RESIDENT.value))
    sessions = {row[0]: row for row in cursor.fetchall()}
    last_seqs = {row[1]: int(row[4]) for row in sessions.values()}
    results: list[bool | NotSignedIn] = []
    by_association: dict[str, list[tuple[SafetyAnswer, str]]] = {}
    for answer, token_hash in zip(answers, hashes, strict=True):
        row = sessions.get(token_hash)
        if row is None:
            results.append(NotSignedIn())
            continue
        results.append(bool(row[3]))
        if row[3]:
            by_association.setdefault(row[1], []).append((answer, row[2]))
    at = iso(now())
    with pipelined(connection):  # psycopg: the writes in one round trip
        for association_id, stored in sorted(by_association.items()):
            last = last_seqs[association_id]
            sql.write(cursor, _SafetyItems.of(stored, association_id=association_id,
                                              first_seq=last + 1, at=at))
            cursor.execute(sql.set_counter, (last + len(stored), association_id))
    return results


@dataclass(frozen=True, slots=True)
class _SafetyItems:
    """One association's answers of a batch as log items, column by column."""

    association_id: str
    at: str  # ISO 8601 UTC, as the log serves it
    seqs: list[int]
    household_ids: list[str]
    bodies: list[str]  # JSON

    @classmethod
    def of(cls, stored: Sequence[tuple[SafetyAnswer, str]], *, association_id: str,
           first_seq: int, at: str) -> _SafetyItems:
        """The items of ``stored`` (answer, household id), numbered from ``first_seq``."""
        # Ids, status and time are plain ASCII: only the note needs JSON's quoting.
        bodies = [f'{{"answer_id": "{uuid7()}", "household_id": "{household_id}", '
                  f'"status": "{answer.status}", "note": {json.dumps(answer.note)}, '
                  f'"needs_help": {"true" if answer.needs_help else "false"}, '
                  f'"at": "{at}"}}' for answer, household_id in stored]
        return cls(association_id, at, list(range(first_seq, first_seq + len(stored))),
                   [household_id for _answer, household_id in stored], bodies)


_SAFETY_KIND: Final = LogKind.SAFETY.value
_SESSIONS_HEAD: Final = (
    "SELECT token.token_hash, token.association_id, token.household_id, "
    "association.disaster_on, association.last_seq FROM token JOIN association "
    "ON association.id = token.association_id WHERE ")


class _SafetySql:
    """How one driver's cursor finds the sessions of a batch and writes its items."""

    set_counter: str

    def sessions(self, count: int) -> str:
        """The sessions (token, association, household, disaster mode, log counter) of
        ``count`` token hashes, their associations' counters locked for this transaction."""
        raise NotImplementedError

    def keys(self, hashes: list[str], scope: str) -> tuple[Any, ...]:
        """The parameters of :meth:`sessions`."""
        raise NotImplementedError

    def write(self, cursor: Any, items: _SafetyItems) -> None:
        """Insert ``items`` into the log."""
        raise NotImplementedError


class _SqliteSafetySql(_SafetySql):
    """The safety statements for sqlite3: one statement with many ``VALUES`` rows (one step
    into the driver instead of one per row, each of which would wait for the GIL again).
    ``BEGIN IMMEDIATE`` already holds the whole file, so nothing is locked."""

    set_counter = "UPDATE association SET last_seq = ? WHERE id = ?"
    _ROW = f"(?, ?, '{_SAFETY_KIND}', ?, ?, ?)"

    def sessions(self, count: int) -> str:
        return (_SESSIONS_HEAD + f"token.token_hash IN ({', '.join(['?'] * count)}) "
                "AND token.scope = ? AND token.revoked_at IS NULL")

    def keys(self, hashes: list[str], scope: str) -> tuple[Any, ...]:
        return (*hashes, scope)

    def write(self, cursor: Any, items: _SafetyItems) -> None:
        count = len(items.seqs)
        cursor.execute(
            "INSERT INTO log (association_id, seq, kind, body, at, household_id) "
            f"VALUES {', '.join([self._ROW] * count)}",
            [value for row in zip([items.association_id] * count, items.seqs, items.bodies,
                                  [items.at] * count, items.household_ids, strict=True)
             for value in row])


class _PostgresSafetySql(_SafetySql):
    """The safety statements for psycopg: one short statement whatever the batch, the
    columns as binary arrays (``unnest``). psycopg parses a statement's text for its markers
    on every call unless it has seen it before, which a statement with a row of markers per
    answer never is; these also get prepared by the server after a few batches. The counter
    rows are locked in association order, as :func:`lock_counter` would one by one."""

    set_counter = "UPDATE association SET last_seq = %s WHERE id = %s"
    _SESSIONS = (_SESSIONS_HEAD + "token.token_hash = ANY(%b) AND token.scope = %s "
                 "AND token.revoked_at IS NULL ORDER BY token.association_id "
                 "FOR UPDATE OF association")
    _LOG = (
        "INSERT INTO log (association_id, seq, kind, body, at, household_id) "
        f"SELECT %s, q, '{_SAFETY_KIND}', CAST(b AS JSON), %s, h FROM "
        "unnest(%b::bigint[], %b::text[], %b::text[]) AS u(q, b, h)")

    def sessions(self, count: int) -> str:
        return self._SESSIONS

    def keys(self, hashes: list[str], scope: str) -> tuple[Any, ...]:
        return (hashes, scope)

    def write(self, cursor: Any, items: _SafetyItems) -> None:
        cursor.execute(self._LOG, (items.association_id, items.at, items.seqs, items.bodies,
                                   items.household_ids))


_SAFETY_SQL: Final[dict[bool, _SafetySql]] = {False: _SqliteSafetySql(),
                                              True: _PostgresSafetySql()}


@dataclass(frozen=True, slots=True)
class Joined:
    """The outcome of entering an invitation code: a session token, or why not."""

    token: str | None = None
    refusal: str | None = None


def join(connection: Connection, *, code: str, label: str,
         replaces: str | None = None) -> Joined:
    """Exchange an invitation code for a resident session of its household (at most
    :data:`MAX_SESSIONS` at a time). ``replaces`` is the phone's current session, if any: it
    ends when the new one starts, and the same phone entering its code again takes no
    second place."""
    cleaned = unicodedata.normalize("NFKC", code).strip()
    candidates = {hash_secret(canonical_invitation_code(cleaned)), hash_secret(cleaned)}
    inv = tables.invitation
    rows = connection.execute(
        select(inv.c.association_id, inv.c.household_id)
        .where(inv.c.code_hash.in_(sorted(candidates)))
    ).all()
    if not cleaned or len(rows) != 1:
        return Joined(refusal="join_unknown")
    association_id, household_id = rows[0]
    h, t = tables.household, tables.token
    lock = select(h.c.household_id).where(h.c.association_id == association_id) \
        .where(h.c.household_id == household_id)
    if connection.dialect.name != "sqlite":  # two phones joining at once: one at a time
        lock = lock.with_for_update()
    connection.execute(lock)
    old_hash = hash_secret(replaces) if replaces else ""
    active = connection.execute(
        select(func.count()).select_from(t)
        .where(t.c.association_id == association_id).where(t.c.household_id == household_id)
        .where(t.c.scope == Scope.RESIDENT.value).where(t.c.revoked_at.is_(None))
        .where(t.c.token_hash != old_hash)  # the same phone joining again takes no new place
    ).scalar_one()
    if active >= MAX_SESSIONS:
        return Joined(refusal="join_full")
    if old_hash:
        connection.execute(delete(t).where(t.c.token_hash == old_hash)
                           .where(t.c.scope == Scope.RESIDENT.value))
    token = issue_token(connection, association_id=association_id, scope=Scope.RESIDENT,
                        household_id=household_id, label=label[:MAX_LABEL])
    return Joined(token=token)


def end_session(connection: Connection, token: str) -> None:
    """Log a phone out: its session token is deleted."""
    connection.execute(delete(tables.token)
                       .where(tables.token.c.token_hash == hash_secret(token))
                       .where(tables.token.c.scope == Scope.RESIDENT.value))


# ---------------------------------------------------------------- meetings published by the office


MEETING_OP_FIELDS: Final[dict[str, dict[str, Callable[[Any], bool]]]] = {
    kind: OP_FIELDS[kind] for kind in (OpKind.MEETING_PUBLISH, OpKind.MEETING_RETRACT)}
"""Every field of the meeting ops' bodies with its check (all required): the entries of
``sync.protocol.OP_FIELDS``, which the office API checks every op against."""


def apply_meeting_publish(connection: Connection, association_id: str,
                          body: Mapping[str, Any], at: datetime) -> None:
    """``meeting.publish``: store (or replace) the meeting and its voters' households (those
    the relay holds; the roster reaches the relay long before a meeting)."""
    meeting_id = str(uuid.UUID(body["meeting_id"]))
    items = [{"item_id": str(uuid.UUID(i["item_id"])), "title": i["title"]}
             for i in body["items"]]
    _upsert(connection, rt.meeting, {
        "association_id": association_id, "meeting_id": meeting_id, "title": body["title"],
        "body": body["body"], "held_on": body["held_on"], "deadline": body["deadline"],
        "online_forms": body["online_forms"], "items": items, "published_at": at,
    }, ("association_id", "meeting_id"))
    r = rt.meeting_recipient
    connection.execute(delete(r).where(r.c.association_id == association_id)
                       .where(r.c.meeting_id == meeting_id))
    wanted = {str(uuid.UUID(h)) for h in body["household_ids"]}
    h = tables.household
    known = connection.execute(select(h.c.household_id)
                               .where(h.c.association_id == association_id)).scalars()
    rows = [{"association_id": association_id, "meeting_id": meeting_id, "household_id": k}
            for k in sorted(wanted.intersection(known))]
    if rows:
        connection.execute(insert(r), rows)


def apply_meeting_retract(connection: Connection, association_id: str,
                          body: Mapping[str, Any], _at: datetime) -> None:
    """``meeting.retract``: the meeting leaves the resident page (its forms with it; the
    office already pulled them from the log)."""
    connection.execute(delete(rt.meeting).where(rt.meeting.c.association_id == association_id)
                       .where(rt.meeting.c.meeting_id == str(uuid.UUID(body["meeting_id"]))))


MEETING_HANDLERS: Final[dict[str, Callable[[Connection, str, Mapping[str, Any], datetime],
                                           None]]] = {
    OP_MEETING_PUBLISH: apply_meeting_publish,
    OP_MEETING_RETRACT: apply_meeting_retract,
}
"""The meeting ops' handlers: ``handler(connection, association_id, body, at)`` inside the
office API's write transaction, in op order after the batch's households and circulars are
written and before its log (publish lists only the households the relay holds)."""


# ---------------------------------------------------------------- HTTP


class GuessThrottle:
    """Wrong guesses per client address (invitation codes, mail-link tokens): after
    ``failures`` within ``window`` seconds, the address waits, so codes cannot be guessed."""

    def __init__(self, *, failures: int, window: float) -> None:
        self._limit = failures
        self._window = window
        self._failures: dict[str, list[float]] = {}

    def wait(self, address: str) -> int:
        """Seconds the address must wait before trying again (0: it may try)."""
        moment = time.monotonic()
        recent = [t for t in self._failures.get(address, ()) if moment - t < self._window]
        if recent:
            self._failures[address] = recent
        else:
            self._failures.pop(address, None)
        if len(recent) < self._limit:
            return 0
        return max(1, int(self._window - (moment - recent[0])) + 1)

    def failed(self, address: str) -> None:
        """Count one wrong guess from the address."""
        if len(self._failures) > 100_000:  # keep memory bounded under a flood
            self._failures.clear()
        self._failures.setdefault(address, []).append(time.monotonic())


_environment = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    """A template of the relay's pages (the resident page's and the mail links') as HTML."""
    return _environment.get_template(template).render(**context)


def format_day(language: str, value: date | None) -> str:
    """A date as residents read it: 令和7年4月1日(火) / Tue 1 Apr 2025."""
    if value is None or value == date.min:
        return ""
    if language == "ja":
        return f"{format_wareki(value)}({'月火水木金土日'[value.weekday()]})"
    return value.strftime("%a %-d %b %Y")


def format_moment(language: str, value: datetime | None) -> str:
    """A moment in Japan time: 4月1日 10:42 / 1 Apr 10:42."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(JST)
    if language == "ja":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%-d %b %H:%M")


def _language(request: Request) -> str:
    return language_of(request.cookies.get(LANGUAGE_COOKIE))


def _page(request: Request, template: str, *, status: int = 200,
          resident: Resident | None = None, **context: Any) -> HTMLResponse:
    language = _language(request)
    token = request.cookies.get(SESSION_COOKIE)
    here = request.url.path
    html = render(
        template, lang=language, t=partial(text, language), day=partial(format_day, language),
        moment=partial(format_moment, language), resident=resident,
        csrf=csrf_token(token) if token and resident is not None else "",
        here=here, languages=LANGUAGES, **context)
    return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)


_RAW_SECURITY_HEADERS: Final = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                                 for name, value in _SECURITY_HEADERS.items()]


class SeeOther(Response):
    """A 303 to a path of this site, after a form was taken; built from ready-made header
    bytes, since the burst of safety answers gets one each."""

    def __init__(self, location: str) -> None:
        self.status_code = 303
        self.background = None
        self.body = b""
        self.raw_headers = [(b"location", location.encode("ascii")), *_RAW_SECURITY_HEADERS,
                            (b"content-length", b"0")]


def _see_other(location: str) -> Response:
    return SeeOther(location)


_SESSION_COOKIE_BYTES: Final = SESSION_COOKIE.encode("ascii")


def _cookie(header: bytes, name: bytes) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header, when it is a plain token (a
    quoted or non-ASCII value gives None: the full path parses those)."""
    for part in header.split(b";"):
        key, sep, value = part.strip().partition(b"=")
        if sep and key == name:
            if not value or value.startswith(b'"') or not value.isascii():
                return None
            return value.decode("ascii")
    return None


def _to_join(*, clear: bool = False) -> Response:
    response = _see_other(f"{PREFIX}/join")
    if clear:
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                               samesite="lax")
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of a posted form (the last of repeated names), or None when the body is
    not a form this page sent."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return None
    return parse_form(raw)


def parse_form(raw: bytes) -> dict[str, str] | None:
    """The fields of an ``application/x-www-form-urlencoded`` body (the last of repeated
    names; invalid UTF-8 in a value becomes U+FFFD), or None for more than
    :data:`MAX_FORM_FIELDS` fields or a body that is not ASCII, as browsers send it.
    ``urllib.parse.parse_qsl`` does the same, slower: this runs once per safety answer."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    pairs = text.split("&") if text else []
    if len(pairs) > MAX_FORM_FIELDS:
        return None
    fields: dict[str, str] = {}
    for pair in pairs:
        if pair:
            name, _sep, value = pair.partition("=")
            fields[_unquote(name)] = _unquote(value)
    return fields


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


def _form_is_ours(form: Mapping[str, str] | None, expected: str) -> bool:
    return (form is not None and bool(expected)
            and hmac.compare_digest(form.get("csrf", ""), expected))


class ResidentPages:
    """The resident page's endpoints over one database (see :func:`routes`)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.writer = GroupWriter(database)
        self.throttle = GuessThrottle(failures=JOIN_FAILURES, window=JOIN_WINDOW_SECONDS)
        self.posts = RateLimiter(burst=POST_BURST, per_second=POST_PER_SECOND)
        self.stylesheet = (_TEMPLATES / "resident.css").read_bytes()

    def routes(self) -> list[BaseRoute]:
        """The routes; the safety answer's is a fast route (the disaster burst's), which the
        relay app's fast lanes serve before its middleware and router."""
        return [
            FastPostRoute(f"{PREFIX}/safety", self.safety_fast, self.safety_answer,
                          max_body=MAX_FORM_BYTES),
            Route("/", self.root, methods=["GET"]),
            Route(f"{PREFIX}/", self.home, methods=["GET"]),
            Route(f"{PREFIX}/notices", self.notices, methods=["GET"]),
            Route(f"{PREFIX}/join", self.join_form, methods=["GET"]),
            Route(f"{PREFIX}/join", self.join_submit, methods=["POST"]),
            Route(f"{PREFIX}/logout", self.logout, methods=["POST"]),
            Route(f"{PREFIX}/lang/{{language}}", self.language, methods=["GET"]),
            Route(f"{PREFIX}/c/{{circular_id}}", self.circular_page, methods=["GET"]),
            Route(f"{PREFIX}/c/{{circular_id}}", self.circular_answer, methods=["POST"]),
            Route(f"{PREFIX}/m/{{meeting_id}}", self.meeting_page, methods=["GET"]),
            Route(f"{PREFIX}/m/{{meeting_id}}", self.meeting_answer, methods=["POST"]),
            Route(f"{PREFIX}/static/resident.css", self.css, methods=["GET"]),
        ]

    # ------------------------------------------------------------ helpers

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a read transaction on a worker thread."""
        def run() -> T:
            with self.database.read() as connection:
                return work(connection)
        return await run_in_threadpool(run)

    async def signed_in(self, request: Request) -> Resident | None:
        """The household of the request's session cookie, or None."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        try:
            return await self.read(partial(load_resident, token=token))
        except NotSignedIn:
            return None

    async def posted(self, request: Request) -> tuple[str, dict[str, str]] | Response:
        """The session token and fields of a resident's form, or the answer to give instead:
        no session (to the code page), too many posts (429), not a form of this page (403)."""
        form = await _form(request)
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return _to_join()
        wait = self.posts.acquire(hash_secret(token))
        if wait:
            response = _page(request, "message.html", status=429,
                             resident=await self.signed_in(request), message_key="too_many",
                             message_fields={"seconds": wait})
            response.headers["Retry-After"] = str(wait)
            return response
        if form is None or not _form_is_ours(form, csrf_token(token)):
            return _page(request, "message.html", status=403,
                         resident=await self.signed_in(request), message_key="form_expired")
        return token, form

    # ------------------------------------------------------------ pages

    async def root(self, _request: Request) -> Response:
        """``/``: the resident page."""
        return _see_other(f"{PREFIX}/")

    async def home(self, request: Request) -> Response:
        """The household's page: the safety check in disaster mode, else its notices."""
        resident = await self.signed_in(request)
        if resident is None:
            return _to_join(clear=SESSION_COOKIE in request.cookies)
        if resident.disaster_on:
            self.writer.prepare_for_safety()
            safety = await self.read(partial(current_safety, resident=resident))
            return _page(request, "safety.html", resident=resident, safety=safety,
                         sent=request.query_params.get("sent") == "1", error=None,
                         values={})
        return await self._notices(request, resident)

    async def notices(self, request: Request) -> Response:
        """Every circular and meeting of the household (also during disaster mode)."""
        resident = await self.signed_in(request)
        if resident is None:
            return _to_join(clear=SESSION_COOKIE in request.cookies)
        return await self._notices(request, resident)

    async def _notices(self, request: Request, resident: Resident) -> Response:
        def lists(connection: Connection) -> tuple[list[CircularLine], list[MeetingLine]]:
            return (circular_lines(connection, resident),
                    meeting_lines(connection, resident))

        circulars, meetings = await self.read(lists)
        return _page(request, "home.html", resident=resident, circulars=circulars,
                     meetings=meetings)

    async def join_form(self, request: Request) -> Response:
        """The invitation code form (``?code=`` fills it in, as the QR link does)."""
        nonce = request.cookies.get(JOIN_COOKIE) or secrets.token_urlsafe(24)
        code = request.query_params.get("code", "")[:100]
        notice = "logged_out" if request.query_params.get("bye") == "1" else None
        response = _page(request, "join.html", code=code, nonce=nonce, error=None,
                         notice=notice, error_fields={})
        response.set_cookie(JOIN_COOKIE, nonce, max_age=JOIN_SECONDS, path="/", secure=True,
                            httponly=True, samesite="lax")
        return response

    async def join_submit(self, request: Request) -> Response:
        """Exchange the code for a session cookie."""
        form = await _form(request)
        nonce = request.cookies.get(JOIN_COOKIE, "")
        if form is None or not _form_is_ours(form, nonce):
            return _page(request, "message.html", status=403, resident=None,
                         message_key="form_expired")
        code = form.get("code", "")[:100]
        address = request.client.host if request.client else "-"
        wait = self.throttle.wait(address)

        def refuse(key: str, status: int, **fields: object) -> HTMLResponse:
            response = _page(request, "join.html", status=status, code=code, nonce=nonce,
                             error=key, notice=None, error_fields=fields)
            if status == 429:
                response.headers["Retry-After"] = str(wait)
            return response

        if wait:
            return refuse("join_throttled", 429, minutes=max(1, (wait + 59) // 60))
        label = request.headers.get("user-agent", "")
        joined = await self.writer.run(partial(join, code=code, label=label,
                                               replaces=request.cookies.get(SESSION_COOKIE)))
        if joined.token is None:
            assert joined.refusal is not None
            if joined.refusal == "join_unknown":
                self.throttle.failed(address)
            return refuse(joined.refusal, 400 if joined.refusal == "join_unknown" else 409,
                          limit=MAX_SESSIONS)
        response = _see_other(f"{PREFIX}/")
        response.set_cookie(SESSION_COOKIE, joined.token, max_age=SESSION_SECONDS, path="/",
                            secure=True, httponly=True, samesite="lax")
        response.delete_cookie(JOIN_COOKIE, path="/", secure=True, httponly=True,
                               samesite="lax")
        return response

    async def logout(self, request: Request) -> Response:
        """End this phone's session."""
        posted = await self.posted(request)
        if isinstance(posted, Response):
            return posted
        token, _form_fields = posted
        await self.writer.run(partial(end_session, token=token))
        response = _see_other(f"{PREFIX}/join?bye=1")
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                               samesite="lax")
        return response

    async def language(self, request: Request) -> Response:
        """Switch the page's language and go back where the resident was."""
        chosen = request.path_params["language"]
        target = request.query_params.get("next", "")
        if not _SAFE_NEXT.match(target):
            target = f"{PREFIX}/"
        response = _see_other(target)
        response.set_cookie(LANGUAGE_COOKIE, language_of(chosen), max_age=SESSION_SECONDS,
                            path="/", secure=True, httponly=True, samesite="lax")
        return response

    async def circular_page(self, request: Request, *, error: Refused | None = None,
                            values: Mapping[str, str] | None = None) -> Response:
        """One circular; opening it marks it read."""
        resident = await self.signed_in(request)
        if resident is None:
            return _to_join(clear=SESSION_COOKIE in request.cookies)
        circular_id = _path_id(request, "circular_id")
        view = None if circular_id is None else await self.read(
            partial(circular_view, resident=resident, circular_id=circular_id))
        if view is None:
            return _page(request, "message.html", status=404, resident=resident,
                         message_key="not_found")
        if view.read_at is None:
            # The page shows anyway when the mark cannot be written; the next visit retries.
            with contextlib.suppress(Exception):
                await self.writer.run(partial(record_read, resident=resident,
                                              circular_id=view.circular_id))
        return _page(request, "circular.html", status=error.status if error else 200,
                     resident=resident, circular=view, error=error,
                     values=values or {}, sent=request.query_params.get("sent") == "1")

    async def circular_answer(self, request: Request) -> Response:
        """The household's answer to a circular."""
        posted = await self.posted(request)
        if isinstance(posted, Response):
            return posted
        token, form = posted
        circular_id = _path_id(request, "circular_id") or ""
        try:
            await self.writer.run(partial(record_answer, token=token,
                                          circular_id=circular_id, form=form))
        except NotSignedIn:
            return _to_join(clear=True)
        except Refused as refused:
            return await self.circular_page(request, error=refused, values=form)
        return _see_other(f"{PREFIX}/c/{circular_id}?sent=1")

    async def meeting_page(self, request: Request, *, error: Refused | None = None,
                           values: Mapping[str, str] | None = None) -> Response:
        """One general meeting with its online form (where allowed)."""
        resident = await self.signed_in(request)
        if resident is None:
            return _to_join(clear=SESSION_COOKIE in request.cookies)
        meeting_id = _path_id(request, "meeting_id")
        view = None if meeting_id is None else await self.read(
            partial(meeting_view, resident=resident, meeting_id=meeting_id))
        if view is None:
            return _page(request, "message.html", status=404, resident=resident,
                         message_key="not_found")
        return _page(request, "meeting.html", status=error.status if error else 200,
                     resident=resident, meeting=view, error=error, values=values or {},
                     sent=request.query_params.get("sent") == "1")

    async def meeting_answer(self, request: Request) -> Response:
        """The household's attendance, proxy or written vote."""
        posted = await self.posted(request)
        if isinstance(posted, Response):
            return posted
        token, form = posted
        meeting_id = _path_id(request, "meeting_id") or ""
        try:
            await self.writer.run(partial(record_meeting_form, token=token,
                                          meeting_id=meeting_id, form=form))
        except NotSignedIn:
            return _to_join(clear=True)
        except Refused as refused:
            return await self.meeting_page(request, error=refused, values=form)
        return _see_other(f"{PREFIX}/m/{meeting_id}?sent=1")

    async def safety_answer(self, request: Request) -> Response:
        """The household's answer to the safety check."""
        posted = await self.posted(request)
        if isinstance(posted, Response):
            return posted
        token, form = posted
        try:
            stored = await self.writer.run(parse_safety(token, form))
        except NotSignedIn:
            return _to_join(clear=True)
        except Refused as refused:
            resident = await self.signed_in(request)
            if resident is None:
                return _to_join(clear=True)
            safety = await self.read(partial(current_safety, resident=resident))
            return _page(request, "safety.html", status=refused.status, resident=resident,
                         safety=safety, sent=False, error=refused, values=form)
        return _see_other(f"{PREFIX}/?sent=1" if stored else f"{PREFIX}/")

    async def safety_fast(self, scope: AsgiScope, body: bytes) -> Response | None:
        """The safety answer of the burst, without Starlette's request (see
        :mod:`sync.relay.fast_route`): the plain case answered here, None for anything else,
        which :meth:`safety_answer` then answers with its page. A denied rate limit takes
        nothing from the bucket, so asking it twice counts the post once."""
        token = content_type = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                token = _cookie(value, _SESSION_COOKIE_BYTES)
            elif name == b"content-type":
                content_type = value
        if token is None or content_type != b"application/x-www-form-urlencoded":
            return None
        form = parse_form(body)
        if not _form_is_ours(form, csrf_token(token)):
            return None
        assert form is not None
        try:
            answer = parse_safety(token, form)
        except Refused:
            return None
        if self.posts.acquire(hash_secret(token)):
            return None
        try:
            stored = await self.writer.run(answer)
        except NotSignedIn:
            return _to_join(clear=True)
        return _see_other(f"{PREFIX}/?sent=1" if stored else f"{PREFIX}/")

    async def css(self, _request: Request) -> Response:
        """The page's one stylesheet."""
        return Response(self.stylesheet, media_type="text/css", headers={
            "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


def routes(database: Database) -> list[BaseRoute]:
    """The resident page's routes over ``database`` (mounted by ``create_app``), and the
    mails' personal links (``/k/…``), whose writes share the page's group writer."""
    from sync.relay.mail import links  # imported late: it builds on this module

    pages = ResidentPages(database)
    return [*pages.routes(), *links.routes(database, pages.writer)]


def _path_id(request: Request, name: str) -> str | None:
    """A UUID path parameter in canonical form, or None for anything else."""
    try:
        return str(uuid.UUID(str(request.path_params[name])))
    except ValueError:
        return None


__all__ = [
    "DEFAULT_LANGUAGE",
    "MAX_SESSIONS",
    "MEETING_HANDLERS",
    "MEETING_OP_FIELDS",
    "GroupWriter",
    "Resident",
    "csrf_token",
    "routes",
]
