"""Figures ``disaster_burst_*`` and ``disaster_pull_*``: the safety check under a burst, and
the office pulling what came in.

Burst: 40,000 safety answers (``POST /r/safety``, one per household, each with its own resident
session cookie and form token) from 50 concurrent keep-alive connections to the relay, each
answer committed (SQLite ``synchronous=FULL`` / PostgreSQL) before its 303 comes back, so every
one is stored durably and in the association's log. Floor: the same requests, byte for byte,
to a bare Starlette app answering "hello", on the same uvicorn stack (``uvicorn.run`` with the
settings of ``kairan-relay serve``, plain HTTP on loopback for both), in the same run. Reported:
requests per second of both (ratio = ours / floor; the issue asks ≥ 0.5) and the p99 latency
of both. The server runs in a process of its own; the load comes from this one (asyncio, raw
HTTP/1.1). Afterwards the answers are counted: 40,000 safety items in the log (an answer's
only copy).

Pull: the desktop's sync engine (``sync.engine.sync_once`` over ``RelayClient``, HTTPS with a
trustme CA) pulls and applies all 40,000 into a copy of the 50,000-household demo file whose
households the relay holds (the issue asks < 5 s). Floor: the same pages fetched and parsed
by a bare httpx client, nothing applied.

Both run on SQLite (a fresh file) and PostgreSQL (a fresh database on
``KAIRAN_TEST_POSTGRES``, default postgresql://postgres@127.0.0.1:5432, dropped afterwards).
``figure()`` prints every figure but the last and returns the last, so ``python -m tests.bench``
shows one JSON line each.

    python -m tests.bench.disaster_burst
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.bench.common import (
    REPO,
    ChildFailed,
    Figure,
    child_result,
    demo_file,
    figure_main,
    percentile,
    run_child,
)

NAME = "disaster_burst"
MODULE = "disaster_burst"
ANSWERS = 40_000
CONNECTIONS = 50
WARM_UP = 500  # requests before the measured burst (hello: the same; relay: page views)
POSTGRES = os.environ.get("KAIRAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
START_TIMEOUT = 30.0
BURST_TIMEOUT = 300.0


# ------------------------------------------------------------------ the servers (a child each)


def _hello_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/r/safety", hello, methods=["GET", "POST"]),
                             Route("/r/", hello, methods=["GET"])])


def _serve(argv: Sequence[str]) -> int:
    """``--serve relay|hello --db URL --port N [--cert F --key F]``: run one server until
    killed, with the uvicorn settings of ``kairan-relay serve``."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --serve")
    parser.add_argument("which", choices=["relay", "hello"])
    parser.add_argument("--db", default="")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", default="")
    parser.add_argument("--key", default="")
    args = parser.parse_args(argv)
    import uvicorn

    if args.which == "hello":
        app = _hello_app()
    else:
        from sync.relay.app import create_app
        from sync.relay.config import Settings

        app = create_app(Settings(database_url=args.db))
    tls = {"ssl_certfile": args.cert, "ssl_keyfile": args.key} if args.cert else {}
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                server_header=False, **tls)
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _server(which: str, *, db: str = "", tls: tuple[str, str] | None = None) -> Iterator[int]:
    """A server child on a free port of 127.0.0.1 (its port), killed on leaving."""
    port = _free_port()
    command = [sys.executable, "-m", f"tests.bench.{MODULE}", "--serve", which,
               "--port", str(port), "--db", db]
    if tls:
        command += ["--cert", tls[0], "--key", tls[1]]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if child.poll() is not None:
                _out, err = child.communicate()
                raise ChildFailed(f"{which} server exited: {err.strip()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise ChildFailed(f"{which} server did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# ------------------------------------------------------------------ the load


@dataclass(frozen=True, slots=True)
class Burst:
    """What one burst measured."""

    requests: int
    seconds: float
    p99_ms: float
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        """Requests per second over the whole burst."""
        return self.requests / self.seconds


async def _connection(port: int, requests: Sequence[bytes], latencies: list[float],
                      statuses: Counter[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
            statuses[int(head[9:12])] += 1
    finally:
        writer.close()


def burst(port: int, requests: Sequence[bytes], connections: int = CONNECTIONS) -> Burst:
    """Send ``requests`` over ``connections`` keep-alive connections at once (connection i
    sends requests i, i + connections, …), each waiting for its answer before the next."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def run() -> float:
        began = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(
            _connection(port, requests[i::connections], latencies, statuses)
            for i in range(connections))), BURST_TIMEOUT)
        return time.perf_counter() - began

    try:
        import uvloop

        seconds = uvloop.run(run())
    except ImportError:
        seconds = asyncio.run(run())
    return Burst(len(latencies), seconds, percentile(latencies, 0.99) * 1000, dict(statuses))


# ------------------------------------------------------------------ the relay's data


@dataclass(frozen=True, slots=True)
class Seeded:
    """A relay database ready for the burst."""

    url: str
    association_id: str
    sessions: list[str]  # one resident session token per household
    office_token: str


def _household_ids(path: Path, count: int) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT id FROM household ORDER BY number LIMIT ?",
                                  (count,)).fetchall()
    return [str(uuid.UUID(bytes=r[0]) if isinstance(r[0], bytes) else uuid.UUID(r[0]))
            for r in rows]


def seed(url: str, household_ids: Sequence[str]) -> Seeded:
    """Upgrade a fresh relay database and give it one association in disaster mode with the
    households and a resident session for each (written directly, as the office's ops and the
    phones' joins would have left them)."""
    from sqlalchemy import insert

    from sync.protocol import Scope, hash_secret
    from sync.relay import tables
    from sync.relay.auth import issue_token
    from sync.relay.db import now, open_database, upgrade

    database = open_database(url)
    try:
        upgrade(database)
        association_id = str(uuid.uuid4())
        moment = now()
        sessions = [secrets.token_urlsafe(32) for _ in household_ids]
        with database.write() as connection:
            connection.execute(insert(tables.association).values(
                id=association_id, name="ベンチ町内会", created_at=moment, last_seq=0,
                disaster_on=True, disaster_message="地震が発生しました。安否をお知らせください。",
                disaster_changed_at=moment))
            connection.execute(insert(tables.household), [
                {"association_id": association_id, "household_id": household,
                 "number": str(number), "display_name": f"世帯{number}", "group_id": None,
                 "group_name": f"{number % 40 + 1}班", "updated_at": moment}
                for number, household in enumerate(household_ids, start=1)])
            connection.execute(insert(tables.token), [
                {"token_hash": hash_secret(token), "association_id": association_id,
                 "scope": Scope.RESIDENT.value, "household_id": household, "label": "bench",
                 "created_at": moment, "revoked_at": None}
                for token, household in zip(sessions, household_ids, strict=True)])
            office = issue_token(connection, association_id=association_id,
                                 scope=Scope.OFFICE, label="bench")
    finally:
        database.dispose()
    return Seeded(url, association_id, sessions, office)


def counts(url: str, association_id: str) -> int:
    """Safety answers the relay holds for the association (each is an item of its log)."""
    from sqlalchemy import func, select

    from sync.relay import tables
    from sync.relay.db import open_database

    database = open_database(url)
    try:
        with database.read() as connection:
            answers = connection.execute(
                select(func.count()).select_from(tables.log)
                .where(tables.log.c.association_id == association_id)
                .where(tables.log.c.kind == "safety")).scalar_one()
    finally:
        database.dispose()
    return int(answers)


_NOTES = ("", "", "", "", "水が出ません", "祖母の薬が必要です", "家が少し傾いています")


def safety_requests(sessions: Sequence[str], port: int) -> list[bytes]:
    """One ``POST /r/safety`` per session, as a phone's browser sends it."""
    from sync.relay.residents import SESSION_COOKIE, csrf_token

    chance = random.Random(6)
    requests = []
    for token in sessions:
        status = chance.choices(("ok", "contact", "urgent"), (85, 12, 3))[0]
        fields = {"csrf": csrf_token(token), "status": status,
                  "note": chance.choice(_NOTES)}
        if status != "ok" and chance.random() < 0.5:
            fields["needs_help"] = "1"
        body = urlencode(fields).encode()
        requests.append(
            b"POST /r/safety HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Cookie: %s=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s"
            % (port, SESSION_COOKIE.encode(), token.encode(), len(body), body))
    return requests


def page_views(sessions: Sequence[str], port: int) -> list[bytes]:
    """``GET /r/`` (the safety check page) for warming the relay up."""
    from sync.relay.residents import SESSION_COOKIE

    return [b"GET /r/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s=%s\r\n\r\n"
            % (port, SESSION_COOKIE.encode(), token.encode()) for token in sessions]


# ------------------------------------------------------------------ the pull (a child)


def _pull_child(argv: Sequence[str]) -> int:
    """``--child pull --relay URL --ca FILE --token T --association ID --epoch E --file F``:
    the floor (bare pages) and then ours (the sync engine) into the association file F."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child pull")
    parser.add_argument("which", choices=["pull"])
    for name in ("--relay", "--ca", "--token", "--association", "--epoch", "--file"):
        parser.add_argument(name, required=True)
    parser.add_argument("--expect", type=int, default=ANSWERS)
    args = parser.parse_args(argv)
    import httpx

    from desktop.domain.models import SyncState
    from desktop.store.association_file import open_association
    from sync.client import RelayClient, tls_context
    from sync.engine import PAGE_LIMIT, sync_once
    from sync.protocol import LOG_PATH

    began = time.perf_counter()
    fetched = 0
    with httpx.Client(base_url=args.relay, verify=tls_context(args.ca), timeout=60.0,
                      headers={"Authorization": f"Bearer {args.token}"}) as bare:
        after = 0
        while True:
            page = bare.get(LOG_PATH, params={"after": after, "limit": PAGE_LIMIT,
                                              "epoch": args.epoch}).json()
            fetched += len(page["items"])
            if page["items"]:
                after = page["items"][-1]["seq"]
            if not page["more"]:
                break
    floor = time.perf_counter() - began

    store = open_association(Path(args.file))
    try:
        with store.write() as session:
            session.add(SyncState(id=1, relay_url=args.relay, association_id=args.association,
                                  association_name="ベンチ町内会", device_name="bench",
                                  epoch=args.epoch, cursor=0, ca_file=args.ca))
        client = RelayClient(args.relay, token=args.token, ca_file=args.ca)
        began = time.perf_counter()
        status = sync_once(store, client)
        ours = time.perf_counter() - began
        client.close()
    finally:
        store.close()
    if status.error or status.applied.safety != args.expect:
        child_result({"error": f"pulled {status.applied.safety} of {args.expect} "
                               f"({status.outcome}: {status.error})"})
    child_result({"ours": ours, "floor": floor, "fetched": fetched})


# ------------------------------------------------------------------ the figures


@contextmanager
def _database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh relay database URL of ``backend``, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'relay.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES)
    name = f"kairan_bench_{uuid.uuid4().hex[:12]}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tls_files(folder: Path) -> tuple[str, str, str]:
    import trustme

    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1")
    ca, cert, key = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    authority.cert_pem.write_to_path(str(ca))
    server.private_key_pem.write_to_path(str(key))
    for index, blob in enumerate(server.cert_chain_pems):
        blob.write_to_path(str(cert), append=index > 0)
    return str(ca), str(cert), str(key)


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _backend_figures(backend: str, demo: Path, households: list[str],
                     folder: Path) -> list[Figure]:
    figures: list[Figure] = []
    folder.mkdir(parents=True, exist_ok=True)
    with _database(backend, folder) as url:
        _progress(f"{backend}: seeding {len(households)} households and sessions …")
        seeded = seed(url, households)
        with _server("hello") as port:
            burst(port, safety_requests(seeded.sessions[:WARM_UP], port))
            floor = burst(port, safety_requests(seeded.sessions, port))
        _progress(f"{backend}: hello {floor.per_second:.0f} req/s, p99 {floor.p99_ms:.1f} ms")
        with _server("relay", db=url) as port:
            burst(port, page_views(seeded.sessions[:WARM_UP], port))
            ours = burst(port, safety_requests(seeded.sessions, port))
        stored = counts(url, seeded.association_id)
        _progress(f"{backend}: relay {ours.per_second:.0f} req/s, p99 {ours.p99_ms:.1f} ms, "
                  f"statuses {ours.statuses}, stored {stored}")
        problem = None
        expected = len(seeded.sessions)
        if ours.statuses != {303: expected} or stored != expected:
            problem = f"answers {ours.statuses}, {stored} stored (expected {expected} each)"
        figures.append(Figure(f"disaster_burst_{backend}", "req/s",
                              None if problem else ours.per_second, floor.per_second, 1,
                              error=problem))
        figures.append(Figure(f"disaster_burst_{backend}_p99", "ms",
                              None if problem else ours.p99_ms, floor.p99_ms, 1,
                              error=problem))
        figures.append(_pull_figure(backend, demo, seeded, folder))
    return figures


def _pull_figure(backend: str, demo: Path, seeded: Seeded, folder: Path) -> Figure:
    name = f"disaster_pull_{backend}"
    try:
        from sync.relay.db import current_epoch, open_database

        database = open_database(seeded.url)
        with database.read() as connection:
            epoch = current_epoch(connection)
        database.dispose()
        ca, cert, key = _tls_files(folder)
        copy = folder / f"pull-{backend}.kairan"
        shutil.copyfile(demo, copy)
        with _server("relay", db=seeded.url, tls=(cert, key)) as port:
            result = run_child(MODULE, [  # --name=value: a token may start with "-"
                "pull", f"--relay=https://127.0.0.1:{port}", f"--ca={ca}",
                f"--token={seeded.office_token}", f"--association={seeded.association_id}",
                f"--epoch={epoch}", f"--file={copy}", f"--expect={len(seeded.sessions)}"])
        _progress(f"{backend}: pull+apply {result['ours']:.2f} s, bare pages "
                  f"{result['floor']:.2f} s ({result['fetched']} items)")
        return Figure(name, "s", float(result["ours"]), float(result["floor"]), 3)
    except Exception as error:  # a benchmark reports its trouble, it never fails the run
        return Figure(name, "s", None, None, error=f"{type(error).__name__}: {error}")


def figure() -> Figure:
    """Measure every figure; print all but the last, return the last."""
    figures: list[Figure] = []
    folder = Path(tempfile.mkdtemp(prefix="kairan-bench-disaster-"))
    try:
        demo = demo_file()
        households = _household_ids(demo, ANSWERS)
        for backend in ("sqlite", "postgresql"):
            try:
                figures += _backend_figures(backend, demo, households, folder / backend)
            except Exception as error:  # a benchmark reports its trouble, never fails
                figures.append(Figure(f"disaster_burst_{backend}", "req/s", None, None,
                                      error=f"{type(error).__name__}: {error}"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for shown in figures[:-1]:
        print(shown.as_json(), flush=True)
    return figures[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.bench.disaster_burst``; ``--serve`` runs a server child."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--serve"]:
        return _serve(arguments[1:])
    return figure_main(arguments, figure, _pull_child)


if __name__ == "__main__":
    sys.exit(main())
