"""Several office PCs of one association around an in-process relay, for the replication
tests: each PC has its own association file and its own relay address (so its token, keys
and identity have keyring entries of their own, as on separate machines)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.households import HouseholdData, MemberData, create_household
from desktop.store.association_file import AssociationFile, open_association
from sync.engine import SyncStatus, sync_once
from sync.pairing import pair
from sync.protocol import PairResponse, ReplicaRelay
from sync.relay.db import Database, open_database, upgrade
from sync.replica import service
from sync.replica.schema import schema
from tests.relay.inprocess import InProcessRelay, new_association
from tests.relay.inprocess import pair as relay_pair

TODAY = date(2026, 6, 1)


class PairingDesk:
    """Pairs a new PC on the in-process relay (what ``POST /pair`` does)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def pair(self, *, code: str, device_name: str) -> PairResponse:
        return relay_pair(self.database, code=code, device_name=device_name)


@dataclass
class Office:
    """One office PC: its file and its view of the relay."""

    name: str
    store: AssociationFile
    relay: InProcessRelay
    url: str

    def sync(self) -> SyncStatus:
        return sync_once(self.store, self.relay)


@dataclass
class SharedAssociation:
    """An association on a fresh relay database, and its office PCs."""

    folder: Path
    database: Database
    association_id: str
    offices: list[Office] = field(default_factory=list)

    @classmethod
    def make(cls, folder: Path, relay_template: Path | None = None) -> SharedAssociation:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "relay.db"
        if relay_template is not None:
            shutil.copyfile(relay_template, target)
            database = open_database(f"sqlite:///{target}")
        else:
            database = open_database(f"sqlite:///{target}")
            upgrade(database)
        association_id, _code = new_association(database, "桜町自治会")
        return cls(folder, database, association_id)

    def _url(self, name: str) -> str:
        return f"https://relay.test/{name}"

    def _code(self) -> str:
        from sync.relay import admin

        code, _expires = admin.pairing_code(self.database, association_id=self.association_id,
                                            hours=1)
        return code

    def first(self, name: str, template: Path) -> tuple[Office, list[str]]:
        """The PC that starts sharing, from a copy of ``template`` (an association file)."""
        path = self.folder / f"{name}.kairan"
        shutil.copyfile(template, path)
        store = open_association(path)
        url = self._url(name)
        pair(store, relay_url=url, code=self._code(), device_name=name, today=TODAY,
             client=PairingDesk(self.database))
        token = _token(url, self.association_id)
        office = Office(name, store, InProcessRelay(self.database, token), url)
        words = service.enable_sharing(store, relay=office.relay)
        office.sync()
        self.offices.append(office)
        return office, words

    def join(self, name: str, *, key_code: str = "", words: str = "") -> Office:
        """A new PC receiving the roster with a key code (or the recovery words)."""
        folder = self.folder / name
        folder.mkdir()
        url = self._url(name)

        def relay(address: str, token: str | None) -> ReplicaRelay:
            if token is None:
                return PairingDesk(self.database)  # type: ignore[return-value]
            return InProcessRelay(self.database, token)

        path = service.join_association(service.JoinRequest(
            folder=folder, relay_url=url, pairing_code=self._code(), device_name=name,
            ca_file="", key_code=key_code, recovery_words=words), relay=relay)
        store = open_association(path)
        office = Office(name, store, InProcessRelay(self.database,
                                                   _token(url, self.association_id)), url)
        self.offices.append(office)
        return office

    def close(self) -> None:
        for office in self.offices:
            office.store.close()
        self.database.dispose()


def _token(url: str, association_id: str) -> str:
    from sync import credentials

    return credentials.load_token(credentials.token_key(url, association_id))


def shared_rows(store: AssociationFile) -> dict[str, list[tuple[Any, ...]]]:
    """Every shared row of a file, sorted (to compare PCs)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as session:
        connection = session.connection()
        for info in schema().tables.values():
            found = connection.exec_driver_sql(f"SELECT {info.select} FROM {info.quoted}").all()
            rows[info.name] = sorted((tuple(row) for row in found), key=json.dumps)
    return rows


def reviews(store: AssociationFile) -> list[tuple[str, str, str, str, str, str]]:
    """The review entries of a file, as (key, kind, table, field, kept, lost)."""
    with store.read() as session:
        found = session.connection().exec_driver_sql(
            "SELECT key, kind, tbl, field, kept, lost FROM replica_review ORDER BY key").all()
    return [tuple(row) for row in found]  # type: ignore[misc]


def add_household(store: AssociationFile, number: str, name: str,
                  members: tuple[str, ...] = ()) -> Any:
    with store.write() as session:
        return create_household(session, data=HouseholdData(number=number, display_name=name,
                                                             address=f"桜町{number}番地"),
                                members=[MemberData(name=m) for m in members])
