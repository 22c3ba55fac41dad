"""Fixtures of the sync tests: every test gets an in-memory keyring (never the real one), and
the integration tests a real relay over HTTPS on 127.0.0.1 (R1's test server, trustme
certificates, SQLite) with a paired association file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from desktop.store.association_file import AssociationFile
from sync.pairing import pair
from sync.relay.config import Settings
from tests.relay.relay_server import RunningRelay, TlsFiles, make_tls_files, running_relay
from tests.sync.helpers import MemoryKeyring, memory_keyring_installed

TODAY = date(2026, 6, 1)
# The fault tests send many requests in a short time: no rate limit gets in their way.
GENEROUS = Settings(rate_burst=100_000, rate_per_second=100_000.0)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring for the test; the one before is put back afterwards."""
    with memory_keyring_installed() as ring:
        yield ring


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A trustme CA and a server certificate for 127.0.0.1, for the whole session."""
    return make_tls_files(tmp_path_factory.mktemp("sync-tls"))


@pytest.fixture
def relay(tmp_path: Path, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A real relay (office API only) over HTTPS on a fresh SQLite file."""
    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files, settings=GENEROUS,
                       resident_routes=lambda _database: []) as running:
        yield running


@dataclass(frozen=True)
class Paired:
    """An association file paired with the test relay."""

    store: AssociationFile
    relay: RunningRelay
    association_id: str


@pytest.fixture
def paired(association_file: AssociationFile, relay: RunningRelay) -> Paired:
    """The test's association file, paired with the relay (its snapshot queued)."""
    association_id, code = relay.new_association("桜町自治会")
    pair(association_file, relay_url=relay.url, code=code, device_name="事務所PC",
         ca_file=str(relay.tls.ca_file), today=TODAY)
    return Paired(association_file, relay, association_id)
