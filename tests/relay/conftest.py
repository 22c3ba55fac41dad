"""Fixtures of the relay tests: certificates, SQLite and PostgreSQL databases, a running relay.

``relay`` runs on both backends (``database_url`` is parametrised); ``sqlite_relay`` and
``postgres_relay`` pin one. These relays serve the office API only, so that its tests do not
depend on the resident pages (whose own tests start the whole app with ``start_relay``).
PostgreSQL gets one fresh database per test session (``KAIRAN_TEST_POSTGRES`` names the
server, default postgres@127.0.0.1:5432), dropped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.relay.relay_server import (
    POSTGRES_URL,
    RunningRelay,
    TlsFiles,
    make_tls_files,
    office_only,
    running_relay,
)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A trustme CA and a certificate for 127.0.0.1/localhost, for the whole session."""
    return make_tls_files(tmp_path_factory.mktemp("relay-tls"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session's relays, dropped afterwards."""
    import psycopg

    base = make_url(POSTGRES_URL)
    name = f"kairan_relay_{uuid.uuid4().hex[:12]}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(plain, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite relay database file for this test."""
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The relay database of a test that runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relay.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def relay(database_url: str, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A relay with default settings on SQLite and on PostgreSQL."""
    with running_relay(database_url, tls_files, resident_routes=office_only) as running:
        yield running


@pytest.fixture
def sqlite_relay(sqlite_url: str, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A relay with default settings on a fresh SQLite file."""
    with running_relay(sqlite_url, tls_files, resident_routes=office_only) as running:
        yield running


@pytest.fixture
def postgres_relay(postgres_url: str, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A relay with default settings on the session's PostgreSQL database."""
    with running_relay(postgres_url, tls_files, resident_routes=office_only) as running:
        yield running
