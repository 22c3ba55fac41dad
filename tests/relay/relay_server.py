"""A real relay for tests: uvicorn over HTTPS on 127.0.0.1 (a free port), trustme certificates,
SQLite or PostgreSQL. Tests of other packages (the desktop's sync engine, the resident pages)
import :func:`start_relay` and :class:`TlsFiles` from here or use the fixtures of conftest.py.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import trustme
import uvicorn
from starlette.routing import BaseRoute

from sync.protocol import LOG_PATH, OPS_PATH, PAIR_PATH
from sync.relay import admin
from sync.relay.app import ResidentRoutes, create_app
from sync.relay.config import Settings
from sync.relay.db import Database, open_database, upgrade

POSTGRES_URL = os.environ.get("KAIRAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
START_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A test CA and a server certificate for 127.0.0.1 and localhost signed by it."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def context(self) -> ssl.SSLContext:
        """A client context trusting only the test CA (verification on, as always)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls_files(folder: Path) -> TlsFiles:
    """Write a trustme CA and server certificate into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    authority.cert_pem.write_to_path(str(files.ca_file))
    server.private_key_pem.write_to_path(str(files.key_file))
    for index, blob in enumerate(server.cert_chain_pems):
        blob.write_to_path(str(files.cert_file), append=index > 0)
    return files


@dataclass
class RunningRelay:
    """A relay serving in a thread of this process; :meth:`stop` ends it."""

    url: str
    database: Database
    tls: TlsFiles
    server: uvicorn.Server
    thread: threading.Thread
    listener: socket.socket
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        """An httpx client for this relay, verifying with the test CA; closed on stop."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.url, verify=self.tls.context(), headers=headers,
                              timeout=30.0, **options)
        self._clients.append(client)
        return client

    def new_association(self, name: str = "テスト町内会") -> tuple[str, str]:
        """Create an association; returns its id and a pairing code."""
        made = admin.create_association(self.database, name=name, code_hours=24)
        return made.association_id, made.pairing_code

    def pair(self, code: str, device: str = "事務所PC") -> dict[str, Any]:
        """Pair a device with ``code``; returns the response body (token, association, epoch)."""
        answer = self.client().post(PAIR_PATH, json={"code": code, "device_name": device})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def office(self, name: str = "テスト町内会") -> tuple[str, httpx.Client]:
        """A new association and a paired office client; returns its id and the client."""
        association_id, code = self.new_association(name)
        return association_id, self.client(self.pair(code)["token"])

    def stop(self) -> None:
        """Close the clients, stop the server and wait for its thread."""
        for client in self._clients:
            client.close()
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT)
        self.listener.close()


def office_only(_database: Database) -> list[BaseRoute]:
    """Resident routes for a relay that serves the office API alone (its tests do not depend
    on the resident pages)."""
    return []


def push(client: httpx.Client, ops: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST ops and return their results (asserting a 200)."""
    answer = client.post(OPS_PATH, json={"ops": list(ops)})
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def pull_all(client: httpx.Client, *, limit: int = 1000, after: int = 0) -> list[dict[str, Any]]:
    """Every log item after ``after``, page by page."""
    items: list[dict[str, Any]] = []
    while True:
        answer = client.get(LOG_PATH, params={"after": after, "limit": limit})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if page["items"]:
            after = page["items"][-1]["seq"]
        if not page["more"]:
            return items


def household_op(household_id: str | None = None, *, number: str = "1",
                 name: str = "山田", group: str | None = None,
                 op_id: str | None = None) -> dict[str, Any]:
    """A household.upsert op (a fresh op id and household unless given)."""
    return {
        "id": op_id or str(uuid.uuid4()),
        "kind": "household.upsert",
        "body": {"household_id": household_id or str(uuid.uuid4()), "number": number,
                 "display_name": name, "group_id": group, "group_name": "1班"},
    }


def start_relay(database_url: str, tls: TlsFiles, *, settings: Settings | None = None,
                resident_routes: ResidentRoutes | None = None,
                migrate: bool = True) -> RunningRelay:
    """Upgrade the database (unless ``migrate`` is false) and serve it over HTTPS on a free
    port of 127.0.0.1; returns once the server accepts connections."""
    settings = replace(settings or Settings(), database_url=database_url)
    database = open_database(database_url)
    if migrate:
        upgrade(database)
    app = create_app(settings, database=database, resident_routes=resident_routes)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, ssl_certfile=str(tls.cert_file), ssl_keyfile=str(tls.key_file),
                            log_level="warning", ws="none", lifespan="on",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name=f"relay-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=START_TIMEOUT)
            listener.close()
            database.dispose()
            raise RuntimeError("the test relay did not start (see the log above)")
        time.sleep(0.01)
    return RunningRelay(url=f"https://127.0.0.1:{port}", database=database, tls=tls,
                        server=server, thread=thread, listener=listener)


@contextmanager
def migrated_database(database_url: str) -> Iterator[Database]:
    """The relay database at ``database_url``, upgraded to the current schema; closed on
    leaving."""
    database = open_database(database_url)
    try:
        upgrade(database)
        yield database
    finally:
        database.dispose()


@contextmanager
def running_relay(database_url: str, tls: TlsFiles, **options: Any) -> Iterator[RunningRelay]:
    """:func:`start_relay` as a context manager that stops it and closes the database."""
    relay = start_relay(database_url, tls, **options)
    try:
        yield relay
    finally:
        relay.stop()
        relay.database.dispose()
